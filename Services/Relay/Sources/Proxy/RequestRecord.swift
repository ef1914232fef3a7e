import FairwayCore
import Foundation

/// What the relay learns about one request as it goes, turned into its request-log event at the end (DESIGN §6).
struct RequestRecord: Sendable {
    let requestID: UUID
    let startedAt: Int64
    let startInstant: ContinuousClock.Instant
    let key: AuthenticatedKey
    let endpoint: RelayEndpoint
    let relayID: String
    var modelName = "unknown"
    var modelGroup: String?
    var deployment: Deployment?
    var stream = false
    var statusCode = 200
    var errorType: String?
    var usage = TokenUsage.zero
    var firstTokenAt: ContinuousClock.Instant?
    var queued: Duration = .zero
    var attempts = 0
    /// The request's claim on its budgets and key buckets, settled with the event (see ``RelayPipeline/emit(_:)``).
    var governance: (any GovernanceHold)?
    var softBudgetsCrossed: [BudgetOwner] = []
    /// `miss` for a request the cache could have answered, `hit` once it did (the `x-fairway-cache` header).
    var cacheStatus: String?
    var cacheHit: Bool { cacheStatus == "hit" }
    /// The request's spans when tracing is on; ended with the event.
    var trace: RequestTrace?

    init(key: AuthenticatedKey, endpoint: RelayEndpoint, relayID: String) {
        self.requestID = UUID.version7()
        self.startedAt = UnixClock.microseconds()
        self.startInstant = .now
        self.key = key
        self.endpoint = endpoint
        self.relayID = relayID
    }

    mutating func fail(_ error: RelayError) {
        statusCode = Int(error.status.code)
        errorType = error.code ?? error.type
    }

    func event() -> RequestLogEvent {
        let elapsed = ContinuousClock.now - startInstant
        return RequestLogEvent(
            requestID: requestID,
            startedAt: startedAt,
            finishedAt: max(startedAt, UnixClock.microseconds()),
            tenantID: key.tenant.id,
            apiKeyID: key.key.id,
            modelName: modelName,
            modelGroup: modelGroup,
            deploymentID: deployment?.id,
            provider: deployment?.provider.rawValue,
            endpoint: endpoint.rawValue,
            stream: stream,
            statusCode: statusCode,
            errorType: errorType,
            promptTokens: usage.promptTokens,
            completionTokens: usage.completionTokens,
            cachedTokens: usage.cachedTokens,
            costPicoUSD: costPicoUSD,
            latencyMS: Self.milliseconds(elapsed),
            ttftMS: firstTokenAt.map { Self.milliseconds($0 - startInstant) },
            queueMS: Self.milliseconds(queued),
            attempts: attempts,
            cacheHit: cacheHit,
            relayID: relayID,
            softBudgetsCrossed: softBudgetsCrossed.map(\.kind)
        )
    }

    var costPicoUSD: Int64 { deployment?.costPicoUSD(usage) ?? 0 }

    /// Milliseconds as a log column holds them (0…Int32.max).
    static func milliseconds(_ duration: Duration) -> Int {
        Int(min(Int64(Int32.max), max(0, duration.milliseconds)))
    }
}
