/// Why one attempt on one deployment failed in a way that moves the request to the next deployment.
struct UpstreamFailure: Sendable, Error {
    enum Kind: Sendable, Equatable {
        case status(Int)
        case timeout
        case transport
        case protocolError
        /// The request was stopped from outside (client gone, drain): not the deployment's fault.
        case cancelled
    }

    var kind: Kind
    var deploymentName: String
    /// Safe to show the client.
    var detail: String
    var retryAfterSeconds: Int?
    /// The underlying error, for the log only (it may name internal hosts and ports).
    var cause: String?

    var status: Int? {
        if case .status(let code) = kind { return code }
        return nil
    }

    /// Whether the deployment itself is to blame (so it counts toward a cooldown).
    var countsAgainstDeployment: Bool { kind != .cancelled }

    /// The client's error once every deployment failed: 504 after a timeout, 503 after an upstream 429, else 502.
    func relayError(attempts: Int) -> RelayError {
        let summary = "All \(attempts) upstream attempt(s) failed. Last: '\(deploymentName)' \(detail)"
        switch kind {
        case .timeout:
            return RelayError(status: .gatewayTimeout, type: "upstream_error", message: summary, code: "upstream_timeout")
        case .status(429):
            return RelayError(status: .serviceUnavailable, type: "upstream_error", message: summary, code: "upstream_rate_limited", retryAfterSeconds: retryAfterSeconds ?? 1)
        default:
            return RelayError(status: .badGateway, type: "upstream_error", message: summary, code: "upstream_error")
        }
    }
}
