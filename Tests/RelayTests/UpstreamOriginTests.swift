import Testing

@testable import Relay

@Suite struct UpstreamOriginTests {
    @Test func originsAndTargetsOfTheURLsDeploymentsUse() throws {
        let cases: [(String, UpstreamOrigin, String, String)] = [
            ("http://127.0.0.1:8000/v1/chat/completions", .init(tls: false, host: "127.0.0.1", port: 8000), "/v1/chat/completions", "127.0.0.1:8000"),
            ("https://api.openai.com/v1/responses", .init(tls: true, host: "api.openai.com", port: 443), "/v1/responses", "api.openai.com"),
            ("HTTPS://API.Example.com:8443", .init(tls: true, host: "api.example.com", port: 8443), "/", "api.example.com:8443"),
            ("http://host?api-version=1", .init(tls: false, host: "host", port: 80), "/?api-version=1", "host"),
            ("http://[::1]:9000/v1/x?y=1#frag", .init(tls: false, host: "::1", port: 9000), "/v1/x?y=1", "[::1]:9000"),
            ("http://[fe80::1]/", .init(tls: false, host: "fe80::1", port: 80), "/", "[fe80::1]"),
        ]
        for (url, origin, target, hostHeader) in cases {
            let parsed = try #require(UpstreamOrigin.parse(url), "\(url)")
            #expect(parsed.origin == origin, "\(url)")
            #expect(parsed.target == target, "\(url)")
            #expect(parsed.origin.hostHeader == hostHeader, "\(url)")
        }
        #expect(UpstreamOrigin.parse("http://10.0.0.1/")?.origin.hostIsAddress == true)
        #expect(UpstreamOrigin.parse("http://[::1]/")?.origin.hostIsAddress == true)
        #expect(UpstreamOrigin.parse("https://api.openai.com/")?.origin.hostIsAddress == false)
    }

    @Test func urlsTheClientCannotSendToAreRefused() {
        for url in [
            "ftp://host/", "http://", "http:///path", "http://user:secret@host/", "http://host:0/", "http://host:65536/",
            "http://host:12a/", "http://[::1/", "http://[::1]x/", "http://ho st/", "http://host/pa th", "http://host/\u{7F}",
            "host:80/path", "",
        ] {
            #expect(UpstreamOrigin.parse(url) == nil, "\(url)")
        }
    }
}
