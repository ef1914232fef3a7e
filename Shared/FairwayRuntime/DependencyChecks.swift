import FairwayPostgres
import FairwayRedis
import Logging
import PostgresNIO

/// Ready when Postgres answers `SELECT 1`.
public struct PostgresReadinessCheck: ReadinessCheck {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func check() async -> ReadinessResult {
        do {
            for try await _ in try await client.query("SELECT 1", logger: logger) {}
            return ReadinessResult(name: "postgres", ready: true)
        } catch {
            return ReadinessResult(name: "postgres", ready: false, detail: "\(error)")
        }
    }
}

/// Ready when Redis answers `PING`.
public struct RedisReadinessCheck: ReadinessCheck {
    let client: RedisClient

    public init(client: RedisClient) {
        self.client = client
    }

    public func check() async -> ReadinessResult {
        do {
            try await client.ping()
            return ReadinessResult(name: "redis", ready: true)
        } catch {
            return ReadinessResult(name: "redis", ready: false, detail: error.description)
        }
    }
}

/// Ready once the schema gate saw the schema version this build needs.
public struct SchemaReadinessCheck: ReadinessCheck {
    let gate: SchemaGate

    public init(gate: SchemaGate) {
        self.gate = gate
    }

    public func check() async -> ReadinessResult {
        gate.isOpen
            ? ReadinessResult(name: "schema", ready: true)
            : ReadinessResult(name: "schema", ready: false, detail: "waiting for schema version \(gate.requiredVersion)")
    }
}
