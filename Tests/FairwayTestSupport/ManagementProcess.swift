import Foundation

/// A management binary on a fresh database and a private Redis, stopped (with its Redis) however `body` ends.
public enum ManagementProcess {
    public struct NotReady: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "management never became ready:\n\(output)" }
    }

    public static func with(adminToken: String, _ body: @Sendable (ServiceBinary, TestDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            let redis = try await RedisServerProcess()
            let management = try ServiceBinary("fairway-management", environment: [
                "DATABASE_URL": database.url, "REDIS_URL": redis.url, "FAIRWAY_ADMIN_TOKEN": adminToken,
            ])
            do {
                guard await management.waitUntilReady() else { throw NotReady(output: management.child.output) }
                try await body(management, database)
            } catch {
                await management.child.stop()
                await redis.stop()
                throw error
            }
            await management.child.stop()
            await redis.stop()
        }
    }
}
