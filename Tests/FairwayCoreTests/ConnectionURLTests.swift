import FairwayCore
import Testing

@Suite("ConnectionURL")
struct ConnectionURLTests {
    @Test func fullURL() throws {
        let url = try ConnectionURL(parsing: "postgres://fair:p%40ss%3Aword@db.internal:6543/fairway?sslmode=require")
        #expect(url.scheme == "postgres")
        #expect(url.user == "fair")
        #expect(url.password == "p@ss:word")
        #expect(url.host == "db.internal")
        #expect(url.port == 6543)
        #expect(url.path == "fairway")
        #expect(url.query == ["sslmode": "require"])
    }

    @Test func passwordOnlyAndDefaults() throws {
        let url = try ConnectionURL(parsing: "redis://:secret@cache")
        #expect(url.user == nil)
        #expect(url.password == "secret")
        #expect(url.host == "cache")
        #expect(url.port == nil)
        #expect(url.path.isEmpty)
    }

    @Test func ipv6Host() throws {
        let url = try ConnectionURL(parsing: "redis://[::1]:6380/2")
        #expect(url.host == "::1")
        #expect(url.port == 6380)
        #expect(url.path == "2")
    }

    @Test func errors() {
        #expect(throws: ConnectionURL.ParseError.missingScheme) { try ConnectionURL(parsing: "localhost:6379") }
        #expect(throws: ConnectionURL.ParseError.missingHost) { try ConnectionURL(parsing: "redis://:pw@:6379") }
        #expect(throws: ConnectionURL.ParseError.invalidPort("99999")) { try ConnectionURL(parsing: "redis://h:99999") }
        #expect(throws: ConnectionURL.ParseError.invalidEncoding) { try ConnectionURL(parsing: "redis://:%zz@h") }
    }
}
