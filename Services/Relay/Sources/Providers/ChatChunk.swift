/// One upstream chat-completion stream event as the translators to other formats read it.
enum ChatChunk {
    case done
    case chunk(JSON)
    /// Not JSON (a keep-alive or a comment): nothing to translate.
    case skip

    /// Reads an event; an `error` chunk ends the stream as an upstream failure.
    static func read(_ event: SSEEvent) throws(RelayError) -> ChatChunk {
        if event.data == "[DONE]" { return .done }
        guard let chunk = try? JSONParser.parse(event.data) else { return .skip }
        if let error = chunk["error"] {
            throw RelayError(status: .badGateway, type: "upstream_error", message: error["message"]?.string ?? "upstream stream error")
        }
        return .chunk(chunk)
    }
}
