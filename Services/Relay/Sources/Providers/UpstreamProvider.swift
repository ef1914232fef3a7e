/// The HTTP request a provider wants sent upstream.
public struct UpstreamRequest: Sendable {
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
}

/// One upstream protocol. The relay speaks OpenAI to clients; a provider turns that into its own wire format and back.
/// Adding a provider is one new type conforming to this protocol plus a case in ``ProviderKind``.
public protocol UpstreamProvider: Sendable {
    func supports(_ endpoint: RelayEndpoint) -> Bool

    /// The upstream request for a client's request (in the endpoint's format) whose `model` was already checked.
    func makeRequest(_ request: ParsedRequest, deployment: Deployment) throws(RelayError) -> UpstreamRequest

    /// An answer the relay gives without asking the upstream (counting tokens where the provider cannot), or nil.
    func localAnswer(_ request: ParsedRequest) -> [UInt8]?

    /// A successful non-streamed answer in the endpoint's format, and its usage.
    func translateResponse(endpoint: RelayEndpoint, deployment: Deployment, body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage)

    /// An upstream error body in the endpoint's format, for 4xx answers passed back to the client.
    func translateError(endpoint: RelayEndpoint, deployment: Deployment, status: Int, body: [UInt8]) -> [UInt8]

    /// A fresh translator for one streamed answer.
    func makeStreamTranslator(endpoint: RelayEndpoint, deployment: Deployment, clientWantsUsage: Bool) -> any StreamTranslator
}

/// Turns upstream server-sent events into the events the client's format expects, one stream at a time.
public protocol StreamTranslator: Sendable {
    /// The events to send to the client for one upstream event (OpenAI's `[DONE]` included, once, at the end).
    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent]
    /// Usage seen so far.
    var usage: TokenUsage { get }
    /// True once the upstream said the answer is complete.
    var isComplete: Bool { get }
    /// UTF-8 bytes of generated text and tool-call arguments passed on so far: the basis of the completion estimate
    /// when a stream ends without usage (the client left, the upstream broke off).
    var streamedCharacters: Int { get }
}

extension UpstreamProvider {
    public func localAnswer(_ request: ParsedRequest) -> [UInt8]? { nil }
}

/// Two translators in a row (upstream → chat → the client's format), for a Responses client on Anthropic.
struct ChainedStreamTranslator: StreamTranslator {
    var first: any StreamTranslator
    var second: any StreamTranslator

    mutating func translate(_ event: SSEEvent) throws(RelayError) -> [SSEEvent] {
        var out: [SSEEvent] = []
        for intermediate in try first.translate(event) { out += try second.translate(intermediate) }
        return out
    }

    /// Usage as the upstream reported it; completeness and text as the client saw them.
    var usage: TokenUsage { first.usage }
    var isComplete: Bool { second.isComplete }
    var streamedCharacters: Int { second.streamedCharacters }
}

extension ProviderKind {
    /// The provider implementation for this kind.
    public var provider: any UpstreamProvider {
        switch self {
        case .openai: OpenAIProvider()
        case .anthropic: AnthropicProvider()
        }
    }
}

extension Deployment {
    /// `path` below the deployment's `api_base`, without doubling or dropping the slash.
    func url(_ path: String) -> String {
        apiBase.hasSuffix("/") ? String(apiBase.dropLast()) + path : apiBase + path
    }
}
