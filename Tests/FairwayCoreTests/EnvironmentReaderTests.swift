import FairwayCore
import Testing

@Suite("EnvironmentReader")
struct EnvironmentReaderTests {
    @Test func missingRequiredVariableIsNamed() {
        let environment = EnvironmentReader([:])
        #expect(throws: ConfigurationError(variable: "FAIRWAY_ADMIN_TOKEN", reason: "required but not set")) {
            try environment.require("FAIRWAY_ADMIN_TOKEN")
        }
    }

    @Test func emptyCountsAsUnset() {
        let environment = EnvironmentReader(["FAIRWAY_HOST": ""])
        #expect(environment.string("FAIRWAY_HOST") == nil)
        #expect(environment.string("FAIRWAY_HOST", default: "0.0.0.0") == "0.0.0.0")
    }

    @Test func integersAreValidated() throws {
        let environment = EnvironmentReader(["A": "12", "B": "x", "C": "70000"])
        #expect(try environment.int("A", default: 1, in: 0...100) == 12)
        #expect(try environment.int("MISSING", default: 7, in: 0...100) == 7)
        let notNumber = #expect(throws: ConfigurationError.self) { try environment.int("B", default: 1, in: 0...100) }
        #expect(notNumber?.variable == "B")
        let outOfRange = #expect(throws: ConfigurationError.self) { try environment.int("C", default: 1, in: 0...65535) }
        #expect(outOfRange?.reason.contains("outside") == true)
    }

    @Test func secondsAcceptFractions() throws {
        let environment = EnvironmentReader(["T": "2.5", "BAD": "-1"])
        #expect(try environment.seconds("T", default: .seconds(30), in: 0...3600) == .milliseconds(2500))
        #expect(throws: ConfigurationError.self) { try environment.seconds("BAD", default: .seconds(1), in: 0...10) }
    }

    @Test func loggingSettings() throws {
        let settings = try LoggingSettings(environment: EnvironmentReader(["FAIRWAY_LOG_FORMAT": "JSON", "FAIRWAY_LOG_LEVEL": "debug"]))
        #expect(settings == LoggingSettings(format: .json, level: .debug))
        let error = #expect(throws: ConfigurationError.self) {
            try LoggingSettings(environment: EnvironmentReader(["FAIRWAY_LOG_FORMAT": "xml"]))
        }
        #expect(error?.variable == "FAIRWAY_LOG_FORMAT")
        #expect(error?.reason.contains("text, json") == true)
    }

    @Test func serverAddressDefaults() throws {
        #expect(try ServerAddress(environment: EnvironmentReader([:]), defaultPort: 8080) == ServerAddress(host: "0.0.0.0", port: 8080))
        #expect(try ServerAddress(environment: EnvironmentReader(["FAIRWAY_PORT": "9000", "FAIRWAY_HOST": "127.0.0.1"]), defaultPort: 8080)
            == ServerAddress(host: "127.0.0.1", port: 9000))
    }
}
