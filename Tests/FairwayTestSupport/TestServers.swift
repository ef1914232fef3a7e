import FairwayCore
import FairwayPostgres
import FairwayRedis
import Foundation

/// The throwaway Postgres and Redis that `scripts/test` starts, found through `FAIRWAY_TEST_DATABASE_URL` and
/// `FAIRWAY_TEST_REDIS_URL`.
///
/// Outside CI a developer without servers sees the integration tests skipped; under `CI=true` they run and fail when
/// the variables are missing, so CI can never pass by silently testing nothing.
public enum TestServers {
    public static var environment: [String: String] { ProcessInfo.processInfo.environment }

    public static var isCI: Bool { environment["CI"].map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false }

    /// Whether integration tests should run: servers are configured, or this is CI (where missing ones must fail).
    public static var enabled: Bool {
        isCI || (environment["FAIRWAY_TEST_DATABASE_URL"] != nil && environment["FAIRWAY_TEST_REDIS_URL"] != nil)
    }

    public struct Missing: Error, CustomStringConvertible {
        public var variable: String
        public var description: String { "\(variable) is not set; run the tests through scripts/test" }
    }

    public static func databaseURL() throws -> String {
        guard let url = environment["FAIRWAY_TEST_DATABASE_URL"], !url.isEmpty else {
            throw Missing(variable: "FAIRWAY_TEST_DATABASE_URL")
        }
        return url
    }

    public static func redisURL() throws -> String {
        guard let url = environment["FAIRWAY_TEST_REDIS_URL"], !url.isEmpty else {
            throw Missing(variable: "FAIRWAY_TEST_REDIS_URL")
        }
        return url
    }

    public static func redisConfiguration() throws -> RedisConfiguration {
        try RedisConfiguration(url: try redisURL(), variable: "FAIRWAY_TEST_REDIS_URL")
    }
}
