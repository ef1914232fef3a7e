/// Token counts an upstream reported for one request; the basis of cost, quota correction and fair-share usage.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// Prompt tokens served from the provider's prompt cache (part of `promptTokens`).
    public var cachedTokens: Int64
    /// Prompt tokens written to the provider's prompt cache (part of `promptTokens`; Anthropic reports them).
    public var cacheWriteTokens: Int64

    /// The most tokens one request may report per field: far above any model's window, far below where sums, costs
    /// and Lua's doubles lose exactness. An upstream's (or a translator's) larger number is clamped to it.
    public static let maximumPerField: Int64 = 1 << 40
    static let bounds: ClosedRange<Int64> = 0...maximumPerField

    public init(promptTokens: Int64 = 0, completionTokens: Int64 = 0, cachedTokens: Int64 = 0, cacheWriteTokens: Int64 = 0) {
        self.promptTokens = Self.bounded(promptTokens)
        self.completionTokens = Self.bounded(completionTokens)
        self.cachedTokens = min(Self.bounded(cachedTokens), self.promptTokens)
        self.cacheWriteTokens = min(Self.bounded(cacheWriteTokens), self.promptTokens - self.cachedTokens)
    }

    public static let zero = TokenUsage()

    static func bounded(_ value: Int64) -> Int64 { min(max(value, bounds.lowerBound), bounds.upperBound) }

    /// A token count read from an upstream's JSON, clamped.
    static func count(_ value: JSON?) -> Int64 { value?.clamped(to: bounds) ?? 0 }

    /// Cannot overflow: each field is at most ``maximumPerField``.
    public var totalTokens: Int64 { promptTokens + completionTokens }

    /// Reads an OpenAI `usage` object (chat, completions and embeddings share it).
    public init?(openAI usage: JSON?) {
        guard let usage = usage?.object else { return nil }
        self.init(
            promptTokens: Self.count(usage["prompt_tokens"]),
            completionTokens: Self.count(usage["completion_tokens"]),
            cachedTokens: Self.count(usage["prompt_tokens_details"]?["cached_tokens"])
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

extension TokenUsage {
    /// What a stream is billed. A stream that completed with usage pays what the upstream reported; one that ended
    /// without it (the client left, the upstream broke off or never reports usage) pays at least an estimate — prompt
    /// from the request, completion from the text it was sent (4 bytes a token, as the prompt estimate) — never 0.
    static func billable(reported: TokenUsage, complete: Bool, promptEstimate: Int64, streamedCharacters: Int) -> TokenUsage {
        if complete && reported.completionTokens > 0 && reported.promptTokens > 0 { return reported }
        let streamed = Int64(clamping: streamedCharacters)
        let completionEstimate = streamed / 4 + (streamed % 4 == 0 ? 0 : 1)
        return TokenUsage(
            promptTokens: reported.promptTokens > 0 ? reported.promptTokens : promptEstimate,
            completionTokens: max(reported.completionTokens, completionEstimate),
            cachedTokens: reported.cachedTokens, cacheWriteTokens: reported.cacheWriteTokens
        )
    }
}
