/// Token counts an upstream reported for one request; the basis of cost, quota correction and fair-share usage.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// Prompt tokens served from the provider's prompt cache (part of `promptTokens`).
    public var cachedTokens: Int64

    public init(promptTokens: Int64 = 0, completionTokens: Int64 = 0, cachedTokens: Int64 = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }

    public static let zero = TokenUsage()

    public var totalTokens: Int64 { promptTokens + completionTokens }

    /// Reads an OpenAI `usage` object (chat, completions and embeddings share it).
    public init?(openAI usage: JSON?) {
        guard let usage = usage?.object else { return nil }
        self.init(
            promptTokens: Int64(usage["prompt_tokens"]?.int ?? 0),
            completionTokens: Int64(usage["completion_tokens"]?.int ?? 0),
            cachedTokens: Int64(usage["prompt_tokens_details"]?["cached_tokens"]?.int ?? 0)
        )
    }

    /// The OpenAI `usage` object for these counts.
    public var openAIJSON: JSON {
        [
            "prompt_tokens": .number(String(promptTokens)),
            "completion_tokens": .number(String(completionTokens)),
            "total_tokens": .number(String(totalTokens)),
            "prompt_tokens_details": ["cached_tokens": .number(String(cachedTokens))],
        ]
    }
}
