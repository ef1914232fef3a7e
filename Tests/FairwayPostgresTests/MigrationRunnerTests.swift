import FairwayPostgres
import FairwayTestSupport
import Logging
import PostgresNIO
import Testing

@Suite("MigrationRunner against a real Postgres", .enabled(if: TestServers.enabled))
struct MigrationRunnerTests {
    let logger = Logger(label: "test.migrations")

    @Test func freshDatabaseGetsEverythingAndASecondRunIsANoOp() async throws {
        let migrations = try Migration.embedded()
        #expect(!migrations.isEmpty)
        try await TestDatabase.with { database in
            try await database.withClient { client in
                let runner = try MigrationRunner(migrations: migrations, logger: logger)
                #expect(try await runner.run(on: client) == migrations.map(\.version))
                #expect(try await runner.run(on: client) == [])
                #expect(try await SchemaGate.currentVersion(of: client, logger: logger) == migrations.last?.version)

                let tables = try await client.query(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", logger: logger
                ).collectStrings()
                for table in [
                    "tenants", "api_keys", "fairshare_groups", "models", "model_groups", "model_group_members",
                    "mcp_servers", "audit_log", "config_version", "request_logs", "daily_spend", "schema_migrations",
                ] {
                    #expect(tables.contains(table), "missing table \(table)")
                }
            }
        }
    }

    @Test func concurrentRunnersApplyOnceAndBothSucceed() async throws {
        let migrations = try Migration.embedded()
        try await TestDatabase.with { database in
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await database.withClient { client in
                            try await MigrationRunner(migrations: migrations, logger: logger).run(on: client)
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0 += $1 }
            }
            #expect(applied.sorted() == migrations.map(\.version))
            try await database.withClient { client in
                let rows = try await client.query("SELECT count(*)::int FROM schema_migrations", logger: logger)
                var count = 0
                for try await value in rows.decode(Int.self) { count = value }
                #expect(count == migrations.count)
            }
        }
    }

    @Test func changedAppliedMigrationIsRefusedNamingTheFile() async throws {
        let migrations = try Migration.embedded()
        let first = try #require(migrations.first)
        try await TestDatabase.with { database in
            try await database.withClient { client in
                try await MigrationRunner(migrations: migrations, logger: logger).run(on: client)
                var edited = migrations
                edited[0] = try Migration(fileName: first.fileName, sql: first.sql + "\n-- edited\n")
                let runner = try MigrationRunner(migrations: edited, logger: logger)
                let error = await #expect(throws: MigrationError.self) { try await runner.run(on: client) }
                #expect(error.map { "\($0)" }?.contains(first.fileName) == true)
            }
        }
    }

    @Test func failingMigrationLeavesNothingBehind() async throws {
        let good = try Migration(fileName: "0001_good.sql", sql: "CREATE TABLE good (id int);")
        let bad = try Migration(fileName: "0002_bad.sql", sql: "CREATE TABLE half (id int); SELECT no_such_function();")
        try await TestDatabase.with { database in
            try await database.withClient { client in
                let error = await #expect(throws: MigrationError.self) {
                    try await MigrationRunner(migrations: [good, bad], logger: logger).run(on: client)
                }
                #expect(error.map { "\($0)" }?.contains("0002_bad.sql") == true)
                let tables = try await client.query(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'", logger: logger
                ).collectStrings()
                #expect(tables.contains("good"))
                #expect(!tables.contains("half"))
                #expect(try await SchemaGate.currentVersion(of: client, logger: logger) == 1)
            }
        }
    }

    @Test func fileNamesAndDuplicateVersions() throws {
        #expect(throws: MigrationError.invalidFileName("init.sql")) { try Migration(fileName: "init.sql", sql: "") }
        let a = try Migration(fileName: "0003_a.sql", sql: "")
        let b = try Migration(fileName: "0003_b.sql", sql: "")
        #expect(throws: MigrationError.duplicateVersion(3, "0003_a.sql", "0003_b.sql")) { try Migration.ordered([a, b]) }
        #expect(a.version == 3 && a.name == "a")
    }
}

extension PostgresRowSequence {
    func collectStrings() async throws -> Set<String> {
        var result = Set<String>()
        for try await value in decode(String.self) { result.insert(value) }
        return result
    }
}
