/// What one attempt on one deployment came to. The upstream call only reports it; the pipeline, which holds the
/// admission ticket and the request's event, settles both from it.
enum AttemptOutcome: Sendable {
    /// A complete 2xx answer in the client's format, with the usage to bill.
    case completed(body: [UInt8], usage: TokenUsage)
    /// The upstream refused the request as the client's own mistake (a 4xx that does not fail over), in OpenAI's shape.
    case refused(status: Int, body: [UInt8], errorType: String)
    /// A stream whose first event has arrived; the rest is read while the client is answered.
    case streaming(UpstreamStream)
    /// The request cannot be expressed for this deployment's provider: the client's error, no failover.
    case invalid(RelayError)
    /// Try the next deployment.
    case failed(UpstreamFailure)
}

/// How a stream ended, reported once by ``UpstreamStream/relay(to:)``.
struct StreamEnd: Sendable {
    enum Ending: Sendable, Equatable {
        case completed
        case clientLeft
        /// The upstream failed or timed out mid-stream (or the relay stopped it); the client got this error event.
        case failed(RelayError)
    }

    var ending: Ending
    /// Usage as the upstream reported it (often nothing before the stream's end).
    var reported: TokenUsage
    /// UTF-8 bytes of generated text and tool arguments the client was sent.
    var streamedCharacters: Int
}
