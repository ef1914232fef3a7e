import FairwayCore
import Foundation

/// Redis names of admission state. Per-deployment and per-tenant keys carry hash tags (`{dep:…}`, `{ten:…}`) so a
/// deployment's state stays on one shard in Redis Cluster (DESIGN §11).
enum AdmissionKeys {
    static let usage = "fw:fairshare:usage"
    static let epoch = "fw:fairshare:epoch"
    static let active = "fw:fairshare:active"
    /// Wake-up channel: a release publishes the deployment id so waiters retry at once.
    static let wakeChannel = "fairway:admission:wake"

    static func slots(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:slots" }
    static func waiting(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:waiting" }
    static func waiterExpiry(deployment: UUID) -> String { "fw:{dep:\(deployment.lowercaseText)}:waiting:exp" }
    static func slots(tenant: UUID) -> String { "fw:{ten:\(tenant.lowercaseText)}:slots" }
    static func tokens(tenant: UUID) -> String { "fw:{ten:\(tenant.lowercaseText)}:tpm" }
}
