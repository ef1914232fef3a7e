/// Which upstream failures move a request to the next deployment (DESIGN §5.2).
///
/// Connection errors, timeouts, 408, 429, 5xx and 401/403 (our upstream credential is wrong, not the client's) fail
/// over; any other 4xx is the client's own mistake and goes back to it unchanged.
public enum FailoverPolicy {
    public static func failsOver(status: Int) -> Bool {
        switch status {
        case 401, 403, 408, 429: true
        case 500...599: true
        default: false
        }
    }

    /// Whether the failure counts toward the deployment's cooldown; a 429 cools it down at once.
    public static func cooldownKind(status: Int?) -> CooldownKind? {
        guard let status else { return .failure }
        if status == 429 { return .rateLimited }
        return failsOver(status: status) ? .failure : nil
    }

    public enum CooldownKind: Sendable, Equatable {
        case failure
        case rateLimited
    }
}
