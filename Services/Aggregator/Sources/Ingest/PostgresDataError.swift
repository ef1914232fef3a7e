import PostgresNIO

/// Postgres refusing *data* rather than being unavailable: SQLSTATE class 22 (data exception: NUL in text, numeric
/// overflow, …), 23 (integrity, other than the conflicts the writer handles itself) and 54 (program limit exceeded: an
/// index row too large). Retrying such a batch can never succeed; the consumer isolates the rows at fault instead.
public struct PostgresDataError: Error, Sendable, CustomStringConvertible {
    public var sqlState: String
    public var message: String

    public var description: String { "SQLSTATE \(sqlState): \(message)" }

    /// The data error in `error` (a transaction error wraps the one its closure threw), or nil for any other failure.
    public static func find(in error: any Error) -> PostgresDataError? {
        let cause = (error as? PostgresTransactionError)?.closureError ?? error
        guard let psql = cause as? PSQLError, let state = psql.serverInfo?[.sqlState] else { return nil }
        // 23514: "no partition of relation found" is the writer's own to handle (it re-creates the partition).
        guard state.hasPrefix("22") || state.hasPrefix("54") || (state.hasPrefix("23") && state != "23514") else { return nil }
        return PostgresDataError(sqlState: state, message: psql.serverInfo?[.message] ?? "\(psql)")
    }
}
