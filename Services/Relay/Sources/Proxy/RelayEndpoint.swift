/// The endpoints the relay serves, named as they appear in request-log events (DESIGN §12: the event's `endpoint`
/// names the ingress).
public enum RelayEndpoint: String, Sendable, CaseIterable {
    case chatCompletions = "/v1/chat/completions"
    case completions = "/v1/completions"
    case embeddings = "/v1/embeddings"
    /// Anthropic Messages (Claude Code, the anthropic SDKs).
    case messages = "/v1/messages"
    case countTokens = "/v1/messages/count_tokens"
    /// OpenAI Responses (Codex, the OpenAI Agents SDK).
    case responses = "/v1/responses"

    /// The wire API a client of this endpoint speaks: its errors and streams take that shape.
    var format: WireFormat {
        switch self {
        case .chatCompletions, .completions, .embeddings: .openAI
        case .messages, .countTokens: .anthropic
        case .responses: .responses
        }
    }

    /// The path below an OpenAI-compatible `api_base` (which already ends in `/v1`); Messages go out as chat.
    var openAIPath: String {
        switch self {
        case .chatCompletions, .messages, .countTokens: "/chat/completions"
        case .responses: "/responses"
        case .completions: "/completions"
        case .embeddings: "/embeddings"
        }
    }

    /// The body field that must be present besides `model`.
    var requiredField: String {
        switch self {
        case .chatCompletions, .messages, .countTokens: "messages"
        case .responses: "input"
        case .completions: "prompt"
        case .embeddings: "input"
        }
    }

    var supportsStreaming: Bool { self != .embeddings && self != .countTokens }

    /// Whether a request holds an admission slot and is charged to quotas (counting tokens generates nothing).
    var generates: Bool { self != .countTokens }
}

/// The shape of a client's wire API.
public enum WireFormat: Sendable {
    case openAI
    case anthropic
    /// OpenAI's errors, with named stream events.
    case responses
}
