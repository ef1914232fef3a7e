/// Why an upstream exchange did not deliver a whole response.
enum UpstreamHTTPError: Error, Equatable, Sendable {
    /// The URL is not one the client can send to (see ``UpstreamOrigin/parse(_:)``).
    case unsupportedURL
    /// No connection could be made (refused, unreachable, the connect timeout, a TLS handshake that failed).
    case connectFailed(String)
    /// The connection closed or failed before the response ended.
    case connectionClosed(String)
    /// No response head before the deadline.
    case headTimeout
    /// The body did not arrive (or end) by the reader's deadline.
    case bodyTimeout
    /// The response body grew past the reader's limit.
    case responseTooLarge(limit: Int)
    /// The server answered with something that is not an HTTP/1 response to this request.
    case protocolViolation(String)
    /// The reader was cancelled.
    case cancelled
}
