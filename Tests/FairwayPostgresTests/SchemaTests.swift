import FairwayPostgres
import FairwayTestSupport
import Logging
import PostgresNIO
import Testing

@Suite("Schema invariants", .enabled(if: TestServers.enabled))
struct SchemaTests {
    let logger = Logger(label: "test.schema")

    func migrated(_ body: @escaping @Sendable (PostgresClient) async throws -> Void) async throws {
        try await TestDatabase.with { database in
            try await database.withClient { client in
                try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: client)
                try await body(client)
            }
        }
    }

    /// A task cancelled inside a transaction can leave its session idle in it, holding row locks: the server ends such
    /// a session, and every session is in UTC.
    @Test func sessionsAreInUTCAndEndedWhenLeftIdleInATransaction() async throws {
        try await TestDatabase.with { database in
            try await database.withClient { client in
                for (setting, expected) in [("idle_in_transaction_session_timeout", "10s"), ("TimeZone", "UTC")] {
                    var value = ""
                    for try await row in try await client.query(PostgresQuery(unsafeSQL: "SHOW \(setting)"), logger: logger).decode(String.self) {
                        value = row
                    }
                    #expect(value == expected, "\(setting)")
                }
            }
        }
    }

    @Test func requestLogPartitionsAreMadeAndDroppedByDay() async throws {
        try await migrated { client in
            let logger = Logger(label: "test.schema")
            _ = try await client.query("SELECT request_logs_ensure_partition('2020-03-01')", logger: logger)
            _ = try await client.query("SELECT request_logs_ensure_partition('2020-03-01')", logger: logger)
            _ = try await client.query(
                """
                INSERT INTO request_logs (request_id, started_at, finished_at, tenant_id, api_key_id, model_name,
                                          endpoint, status_code, relay_id)
                VALUES (gen_random_uuid(), '2020-03-01T23:59:59Z', '2020-03-02T00:00:01Z', gen_random_uuid(),
                        gen_random_uuid(), 'm', '/v1/chat/completions', 200, 'r')
                """,
                logger: logger
            )
            // No partition for that day: the insert must fail rather than land somewhere unexpected.
            await #expect(throws: PSQLError.self) {
                _ = try await client.query(
                    """
                    INSERT INTO request_logs (request_id, started_at, finished_at, tenant_id, api_key_id, model_name,
                                              endpoint, status_code, relay_id)
                    VALUES (gen_random_uuid(), '2019-01-01T00:00:00Z', '2019-01-01T00:00:01Z', gen_random_uuid(),
                            gen_random_uuid(), 'm', '/v1/chat/completions', 200, 'r')
                    """,
                    logger: logger
                )
            }
            var dropped = -1
            for try await value in try await client.query(
                "SELECT request_logs_drop_partitions_before('2020-03-02')", logger: logger
            ).decode(Int.self) {
                dropped = value
            }
            #expect(dropped == 1)
            // Today's partition, made by the migration, is still there.
            _ = try await client.query(
                """
                INSERT INTO request_logs (request_id, started_at, finished_at, tenant_id, api_key_id, model_name,
                                          endpoint, status_code, relay_id)
                VALUES (gen_random_uuid(), now(), now(), gen_random_uuid(), gen_random_uuid(), 'm', '/v1/embeddings',
                        200, 'r')
                """,
                logger: logger
            )
        }
    }

    @Test func dailySpendGrainTreatsMissingDeploymentAsOneKey() async throws {
        try await migrated { client in
            let logger = Logger(label: "test.schema")
            let upsert: PostgresQuery = """
                INSERT INTO daily_spend (day, tenant_id, api_key_id, model_name, deployment_id, requests, cost_usd)
                VALUES ('2026-01-01', '00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002',
                        'm', NULL, 1, 0.10)
                ON CONFLICT ON CONSTRAINT daily_spend_grain
                DO UPDATE SET requests = daily_spend.requests + excluded.requests,
                              cost_usd = daily_spend.cost_usd + excluded.cost_usd
                """
            _ = try await client.query(upsert, logger: logger)
            _ = try await client.query(upsert, logger: logger)
            for try await (count, requests, cost) in try await client.query(
                "SELECT count(*)::int, sum(requests)::int, sum(cost_usd)::text FROM daily_spend", logger: logger
            ).decode((Int, Int, String).self) {
                #expect(count == 1)
                #expect(requests == 2)
                #expect(cost == "0.200000000000")
            }
        }
    }

    @Test func auditLogIsAppendOnly() async throws {
        try await migrated { client in
            let logger = Logger(label: "test.schema")
            _ = try await client.query(
                "INSERT INTO audit_log (action, entity_type, entity_id, actor) VALUES ('create_tenant', 'tenant', 'x', 'admin')",
                logger: logger
            )
            await #expect(throws: PSQLError.self) {
                _ = try await client.query("UPDATE audit_log SET actor = 'someone else'", logger: logger)
            }
            await #expect(throws: PSQLError.self) {
                _ = try await client.query("DELETE FROM audit_log", logger: logger)
            }
        }
    }

    @Test func databaseURLParsing() throws {
        let configuration = try DatabaseConfiguration(url: "postgres://fair:s%2Fecret@db:6000/fairway?sslmode=require&pool_max=7")
        #expect(configuration.host == "db")
        #expect(configuration.port == 6000)
        #expect(configuration.username == "fair")
        #expect(configuration.password == "s/ecret")
        #expect(configuration.database == "fairway")
        #expect(configuration.tlsMode == .require)
        #expect(configuration.maximumConnections == 7)
        let noDatabase = #expect(throws: (any Error).self) { try DatabaseConfiguration(url: "postgres://u@h") }
        #expect("\(String(describing: noDatabase))".contains("DATABASE_URL"))
        #expect(throws: (any Error).self) { try DatabaseConfiguration(url: "mysql://u@h/db") }
        #expect(throws: (any Error).self) { try DatabaseConfiguration(url: "postgres://u@h/db?sslmode=verify-full") }
    }
}
