/// The OpenAI endpoints the relay serves, named as they appear in request-log events.
public enum RelayEndpoint: String, Sendable, CaseIterable {
    case chatCompletions = "/v1/chat/completions"
    case completions = "/v1/completions"
    case embeddings = "/v1/embeddings"

    /// The path below the provider's `api_base` (which already ends in `/v1` for OpenAI-compatible servers).
    var openAIPath: String {
        switch self {
        case .chatCompletions: "/chat/completions"
        case .completions: "/completions"
        case .embeddings: "/embeddings"
        }
    }

    /// The body field that must be present besides `model`.
    var requiredField: String {
        switch self {
        case .chatCompletions: "messages"
        case .completions: "prompt"
        case .embeddings: "input"
        }
    }

    var supportsStreaming: Bool { self != .embeddings }
}
