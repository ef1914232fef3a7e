import Foundation

/// What admission is asked for one attempt on one deployment.
public struct AdmissionRequest: Sendable {
    public var tenant: Tenant
    public var deployment: Deployment
    /// Estimated tokens (prompt characters / 4 + `max_tokens` or a default).
    public var estimatedTokens: Int64
    public var requestID: UUID
    /// False once the client has gone: a waiting request then leaves the queue.
    public var clientConnected: @Sendable () -> Bool

    public init(
        tenant: Tenant, deployment: Deployment, estimatedTokens: Int64, requestID: UUID,
        clientConnected: @escaping @Sendable () -> Bool = { true }
    ) {
        self.tenant = tenant
        self.deployment = deployment
        self.estimatedTokens = estimatedTokens
        self.requestID = requestID
        self.clientConnected = clientConnected
    }

    /// Whether a waiting request should give up its place now.
    var abandoned: Bool { Task.isCancelled || !clientConnected() }
}

/// Why admission said no; mapped to 429 (the tenant's own quota) or 503 (the deployment is saturated).
public enum AdmissionRefusal: Error, Sendable, Equatable {
    case quotaExceeded(retryAfterSeconds: Int)
    case capacityExceeded(retryAfterSeconds: Int)
    /// The deployment's own RPM/TPM limit has no room now: try the next deployment.
    case noHeadroom(retryAfterSeconds: Int)
    /// The request was cancelled (client gone) while it waited.
    case cancelled
}

/// A granted admission. `release` must be called exactly once on every exit path with the real usage, so the
/// scheduler can correct the estimate; releasing twice is harmless (DESIGN §10: release is idempotent).
public protocol AdmissionTicket: Sendable {
    /// Time spent waiting for the slot.
    var queued: Duration { get }
    func release(actualTokens: Int64?) async
}

/// The seam the request path calls around each upstream attempt (DESIGN §5 step 4). Fair-share admission and TPM
/// quotas implement it; until then ``PassThroughAdmission`` admits everything at once.
public protocol Admission: Sendable {
    func acquire(_ request: AdmissionRequest) async throws(AdmissionRefusal) -> any AdmissionTicket
}

/// Admits every request immediately and holds nothing.
public struct PassThroughAdmission: Admission {
    public init() {}

    public func acquire(_ request: AdmissionRequest) async throws(AdmissionRefusal) -> any AdmissionTicket {
        Ticket()
    }

    struct Ticket: AdmissionTicket {
        var queued: Duration { .zero }
        func release(actualTokens: Int64?) async {}
    }
}

/// Remaining share (0…1) of each rate-limited deployment's RPM/TPM budget; deployments without limits are absent.
public protocol HeadroomSource: Sendable {
    func headroom() -> [UUID: Double]
}

/// No limits known: every deployment has full headroom.
public struct NoHeadroomLimits: HeadroomSource {
    public init() {}
    public func headroom() -> [UUID: Double] { [:] }
}
