import FairwayCore
import Foundation

/// Redis names of admission state, shared by the relays (which maintain it) and management (which reports it). Per-deployment and per-tenant keys carry hash tags (`{dep:…}`, `{ten:…}`) so a
/// deployment's state stays on one shard in Redis Cluster (DESIGN §11).
public enum FairShareKeys {
    public static let usage = "fw:fairshare:usage"
    public static let epoch = "fw:fairshare:epoch"
    public static let active = "fw:fairshare:active"
    /// Wake-up channel: a release publishes the deployment id so waiters retry at once.
    public static let wakeChannel = "fairway:admission:wake"
    /// Contention channel: an acquire that leaves a request waiting publishes the deployment id (at most every
    /// ``contentionNoticeMilliseconds``), so relays give back the slots they keep idle for their next request.
    public static let contentionChannel = "fairway:admission:contended"
    public static let contentionNoticeMilliseconds = 250

    public static func slots(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:slots" }
    public static func waiting(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:waiting" }
    public static func waiterExpiry(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:waiting:exp" }
    /// Waiter → "tenant cap|tenant slot key", so a release hands a slot only to a waiter whose tenant is below its cap.
    public static func waiterTenants(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:waiting:tenant" }
    /// Set for ``contentionNoticeMilliseconds`` by the notice on ``contentionChannel``, so notices are rate-limited.
    public static func contended(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:contended" }
    public static func requestBucket(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:rpm" }
    public static func tokenBucket(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:tpm" }
    public static func slots(tenant: UUID) -> String { "fw:{ten:\(tenant.lowercaseText)}:slots" }
    public static func tokens(tenant: UUID) -> String { "fw:{ten:\(tenant.lowercaseText)}:tpm" }
}
