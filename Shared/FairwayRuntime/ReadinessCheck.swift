/// One dependency's answer to "can this process serve traffic?", shown on `/readyz`.
public struct ReadinessResult: Sendable, Equatable {
    public var name: String
    public var ready: Bool
    public var detail: String?

    public init(name: String, ready: Bool, detail: String? = nil) {
        self.name = name
        self.ready = ready
        self.detail = detail
    }
}

/// Something `/readyz` asks. Each service composes its own list (management: Postgres, Redis, migrations; relay:
/// schema and configuration snapshot; aggregator: Postgres, Redis, schema).
public protocol ReadinessCheck: Sendable {
    func check() async -> ReadinessResult
}

/// A readiness check from a closure.
public struct ClosureReadinessCheck: ReadinessCheck {
    private let body: @Sendable () async -> ReadinessResult

    public init(_ body: @escaping @Sendable () async -> ReadinessResult) {
        self.body = body
    }

    public func check() async -> ReadinessResult {
        await body()
    }
}
