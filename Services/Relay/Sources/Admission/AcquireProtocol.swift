import FairShare
import FairwayCore
import FairwayRedis
import Foundation

/// One call of the acquire script, typed: the limits of one attempt on one deployment. ``keys`` and ``arguments``
/// are the only place the script's positional order lives.
struct AcquireRequest: Sendable {
    /// Serves as waiter id and lease id, so a slot a release handed over is found.
    var lease: String
    var tenant: UUID
    var deployment: UUID
    /// The tenant's fair share, 0 while not known (it then ranks first).
    var share: Double
    var capacity: Int?
    var tenantCap: Int?
    var leaseTTLMilliseconds: Int64
    var claimTTLMilliseconds: Int64
    var maxQueueLength: Int
    var estimatedTokens: Int64
    var tenantTokensPerMinute: Int64
    /// The estimated fair-share cost (tokens × admission weight).
    var cost: Double
    var halfLife: Double
    var deploymentRequestsPerMinute: Int?
    var deploymentTokensPerMinute: Int64?

    init(_ request: AdmissionRequest, lease: String, share: Double, settings: AdmissionSettings) {
        self.lease = lease
        tenant = request.tenant.id
        deployment = request.deployment.id
        self.share = share
        capacity = request.deployment.maxConcurrency
        tenantCap = request.tenant.maxConcurrency
        leaseTTLMilliseconds = settings.leaseTTL.milliseconds
        claimTTLMilliseconds = settings.claimTTL.milliseconds
        maxQueueLength = settings.maxQueueLength
        estimatedTokens = request.estimatedTokens
        tenantTokensPerMinute = request.tenant.tokensPerMinute
        cost = Double(request.estimatedTokens) * request.deployment.admissionWeight
        halfLife = settings.halfLife
        deploymentRequestsPerMinute = request.deployment.rpmLimit
        deploymentTokensPerMinute = request.deployment.tpmLimit
    }

    var keys: [String] {
        [
            FairShareKeys.slots(deployment: deployment), FairShareKeys.waiting(deployment: deployment),
            FairShareKeys.waiterExpiry(deployment: deployment), FairShareKeys.slots(tenant: tenant),
            FairShareKeys.tokens(tenant: tenant), FairShareKeys.usage, FairShareKeys.epoch, FairShareKeys.active,
            FairShareKeys.requestBucket(deployment: deployment), FairShareKeys.tokenBucket(deployment: deployment),
            FairShareKeys.waiterTenants(deployment: deployment), FairShareKeys.contended(deployment: deployment),
        ]
    }

    /// In the script's ARGV order; absent limits are 0 (= none).
    func arguments(register: Bool) -> [any RedisArgument] {
        [
            lease, lease, Self.exact(share), capacity ?? 0, tenantCap ?? 0, leaseTTLMilliseconds, claimTTLMilliseconds,
            maxQueueLength, tenant.lowercaseText, estimatedTokens, tenantTokensPerMinute, Self.exact(cost), String(halfLife),
            register ? 1 : 0, FairShareKeys.wakeChannel, deployment.lowercaseText, deploymentRequestsPerMinute ?? 0,
            deploymentTokensPerMinute ?? 0, FairShareKeys.contentionChannel, FairShareKeys.contentionNoticeMilliseconds,
        ]
    }

    /// The shortest text that reads back as exactly `value` (Lua's `tonumber` included).
    static func exact(_ value: Double) -> String { value.description }
}

/// What the acquire script answered, decoded from its tagged reply (`{'admitted', in flight, charged, epoch}`,
/// `{'wait'}`, `{'queue_full'}`, `{'quota', retry}`, `{'headroom', retry}`).
enum AcquireReply: Equatable, Sendable {
    /// The usage increment charged and the epoch it was computed under, as Redis wrote them (the release takes exactly
    /// that back).
    case admitted(inFlight: Int, charged: String, epoch: String)
    case wait
    case queueFull
    /// Over the tenant's TPM quota.
    case overQuota(retryAfterSeconds: Int)
    /// No room under the deployment's own RPM/TPM limits.
    case noHeadroom(retryAfterSeconds: Int)
    case malformed

    init(_ reply: RESPValue) {
        let fields = (reply.array ?? []).map { $0.string ?? $0.int.map { String($0) } ?? "" }
        func retry() -> Int { max(1, fields.count > 1 ? Int(fields[1]) ?? 1 : 1) }
        switch fields.first {
        case "admitted" where fields.count >= 4:
            self = .admitted(inFlight: Int(fields[1]) ?? 0, charged: fields[2], epoch: fields[3])
        case "wait": self = .wait
        case "queue_full": self = .queueFull
        case "quota": self = .overQuota(retryAfterSeconds: retry())
        case "headroom": self = .noHeadroom(retryAfterSeconds: retry())
        default: self = .malformed
        }
    }
}
