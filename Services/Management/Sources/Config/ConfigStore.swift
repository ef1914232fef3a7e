import FairwayCore
import Foundation
import Logging
import PostgresNIO

/// What one configuration change did, collected while it runs inside its transaction.
struct ChangeRecord {
    struct AuditEntry {
        var action: String
        var entityType: String
        var entityID: String
        var before: String?
        var after: String?
    }

    var auditEntries: [AuditEntry] = []
    var invalidations: [Invalidation] = []

    mutating func audit(_ action: String, entity: String, id: String, before: String?, after: String?) {
        auditEntries.append(AuditEntry(action: action, entityType: entity, entityID: id, before: before, after: after))
    }

    mutating func invalidate(_ invalidation: Invalidation) {
        invalidations.append(invalidation)
    }
}

/// Runs every configuration change the same way: in one transaction, the change itself, one `audit_log` row per
/// entity touched (with redacted before/after snapshots) and a `config_version` bump; after commit, the invalidations.
///
/// Keeping this in one place is what makes "every mutation is audited and invalidated" true by construction rather
/// than by each handler remembering to.
public struct ConfigStore: Sendable {
    let client: PostgresClient
    let publisher: any InvalidationPublishing
    let logger: Logger

    public init(client: PostgresClient, publisher: any InvalidationPublishing, logger: Logger) {
        self.client = client
        self.publisher = publisher
        self.logger = logger
    }

    /// Reads outside any change (GET and list).
    func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(connection)
        }
    }

    /// Runs a list query whose rows are (JSON text, cursor position), as every paginated route does.
    func readPage(_ query: PostgresQuery) async throws -> [(String, String)] {
        try await read { connection in
            var rows: [(String, String)] = []
            for try await row in try await connection.query(query, logger: logger).decode((String, String).self) {
                rows.append(row)
            }
            return rows
        }
    }

    /// Runs `body` as one audited, versioned change by `actor`; `table` names the table for constraint errors.
    func change<T: Sendable>(
        actor: String,
        table: String,
        _ body: (PostgresConnection, inout ChangeRecord) async throws -> T
    ) async throws -> T {
        let (result, invalidations): (T, [Invalidation])
        do {
            (result, invalidations) = try await client.withTransaction(logger: logger) { connection in
                var record = ChangeRecord()
                let result = try await body(connection, &record)
                for entry in record.auditEntries {
                    _ = try await connection.query(
                        """
                        INSERT INTO audit_log (action, entity_type, entity_id, actor, payload)
                        VALUES (\(entry.action), \(entry.entityType), \(entry.entityID), \(actor),
                                jsonb_build_object('before', \(entry.before)::jsonb, 'after', \(entry.after)::jsonb))
                        """,
                        logger: logger
                    )
                }
                var version: Int64 = 0
                for try await value in try await connection.query(
                    "UPDATE config_version SET version = version + 1, updated_at = now() RETURNING version",
                    logger: logger
                ).decode(Int64.self) {
                    version = value
                }
                let invalidations = record.invalidations.map { invalidation in
                    var stamped = invalidation
                    stamped.version = version
                    return stamped
                }
                return (result, invalidations)
            }
        } catch let error as PostgresTransactionError {
            throw Self.unwrap(error, table: table)
        } catch {
            throw DatabaseErrorMapping.apiError(for: error, table: table) ?? error
        }
        await publisher.publish(invalidations)
        return result
    }

    private static func unwrap(_ error: PostgresTransactionError, table: String) -> any Error {
        if let closureError = error.closureError {
            return DatabaseErrorMapping.apiError(for: closureError, table: table) ?? closureError
        }
        for candidate in [error.beginError, error.commitError].compactMap({ $0 }) {
            if let mapped = DatabaseErrorMapping.apiError(for: candidate, table: table) { return mapped }
        }
        return error
    }
}
