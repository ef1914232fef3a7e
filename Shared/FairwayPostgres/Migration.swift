import Crypto

/// One schema migration: `NNNN_name.sql`, applied once, in version order, in its own transaction.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var fileName: String
    public var sql: String
    /// SHA-256 (hex) of the SQL text; an applied migration whose text changed is refused at start-up.
    public var checksum: String

    public init(fileName: String, sql: String) throws(MigrationError) {
        let stem = fileName.hasSuffix(".sql") ? String(fileName.dropLast(4)) : fileName
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, let version = Int(parts[0]), version > 0 else {
            throw .invalidFileName(fileName)
        }
        self.version = version
        self.name = String(parts[1])
        self.fileName = fileName
        self.sql = sql
        self.checksum = SHA256.hash(data: Array(sql.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// The migrations compiled into this binary, ordered by version.
    public static func embedded() throws(MigrationError) -> [Migration] {
        var migrations: [Migration] = []
        for file in embeddedFiles {
            migrations.append(try Migration(fileName: file.fileName, sql: file.sql))
        }
        return try ordered(migrations)
    }

    /// Sorts by version and rejects two files claiming one version.
    public static func ordered(_ migrations: [Migration]) throws(MigrationError) -> [Migration] {
        let sorted = migrations.sorted { $0.version < $1.version }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.version == next.version {
            throw .duplicateVersion(previous.version, previous.fileName, next.fileName)
        }
        return sorted
    }

    /// The newest version among the embedded migrations: the schema the services of this build need.
    public static func requiredVersion() throws(MigrationError) -> Int {
        try embedded().last?.version ?? 0
    }
}

/// Why migrations could not be applied. Each case says which file, so an operator knows where to look.
public enum MigrationError: Error, Equatable, CustomStringConvertible {
    case invalidFileName(String)
    case duplicateVersion(Int, String, String)
    case checksumMismatch(fileName: String, applied: String, embedded: String)
    case unknownAppliedVersion(Int, name: String)
    case failed(fileName: String, reason: String)

    public var description: String {
        switch self {
        case .invalidFileName(let name):
            "migration file '\(name)' is not named NNNN_name.sql"
        case .duplicateVersion(let version, let first, let second):
            "migrations '\(first)' and '\(second)' both claim version \(version)"
        case .checksumMismatch(let fileName, let applied, let embedded):
            "migration '\(fileName)' was changed after it was applied (applied checksum \(applied.prefix(12))…, "
                + "this build has \(embedded.prefix(12))…); add a new migration instead of editing an applied one"
        case .unknownAppliedVersion(let version, let name):
            "the database has migration \(version) (\(name)) which this build does not know; it is older than the schema"
        case .failed(let fileName, let reason):
            "migration '\(fileName)' failed: \(reason)"
        }
    }
}
