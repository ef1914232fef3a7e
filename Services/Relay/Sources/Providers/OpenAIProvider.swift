import FairwayCore

/// Any OpenAI-compatible server (OpenAI, vLLM, Ollama, Together, …): bodies pass through with `model` replaced and,
/// when streaming, usage requested so every streamed request can be billed.
public struct OpenAIProvider: UpstreamProvider {
    public init() {}

    public func supports(_ endpoint: RelayEndpoint) -> Bool { true }

    public func makeRequest(endpoint: RelayEndpoint, body: JSONObject, deployment: Deployment, stream: Bool) throws(RelayError) -> UpstreamRequest {
        var body = body
        body["model"] = .string(deployment.upstreamModel)
        if stream {
            var options = body["stream_options"]?.object ?? JSONObject()
            options["include_usage"] = true
            body["stream_options"] = .object(options)
        }
        var headers = [("content-type", "application/json"), ("accept", stream ? "text/event-stream" : "application/json")]
        if let key = deployment.apiKey, !key.isEmpty { headers.append(("authorization", "Bearer \(key)")) }
        return UpstreamRequest(url: deployment.url(endpoint.openAIPath), headers: headers, body: JSON.object(body).bytes)
    }

    public func translateResponse(endpoint: RelayEndpoint, body: [UInt8]) throws(RelayError) -> (body: [UInt8], usage: TokenUsage) {
        let usage = (try? JSONParser.parse(body)).flatMap { TokenUsage(openAI: $0["usage"]) } ?? .zero
        return (body, usage)
    }

    public func translateError(status: Int, body: [UInt8]) -> [UInt8] {
        if let parsed = try? JSONParser.parse(body), parsed["error"]?.object != nil { return body }
        let text = String(decoding: body.prefix(500), as: UTF8.self)
        return RelayError(status: .init(code: status), type: "upstream_error", message: "Upstream answered \(status): \(text)").json.bytes
    }

    public func makeStreamTranslator(endpoint: RelayEndpoint, clientWantsUsage: Bool) -> any StreamTranslator {
        Translator(clientWantsUsage: clientWantsUsage)
    }

    /// Passes chunks through; reads usage from the chunk that carries it and drops that chunk when the client did not
    /// ask for usage itself (the relay asked on its behalf).
    struct Translator: StreamTranslator {
        let clientWantsUsage: Bool
        var usage = TokenUsage.zero
        var isComplete = false
        var streamedCharacters = 0

        mutating func translate(_ event: SSEEvent) throws(RelayError) -> [String] {
            if event.data == "[DONE]" {
                isComplete = true
                return ["[DONE]"]
            }
            guard let chunk = try? JSONParser.parse(event.data) else { return [event.data] }
            streamedCharacters.saturatingAdd(Self.generatedCharacters(in: chunk))
            guard chunk["usage"] != nil || chunk["error"] != nil else { return [event.data] }
            if chunk["error"] != nil {
                throw RelayError(status: .badGateway, type: "upstream_error", message: chunk["error"]?["message"]?.string ?? "upstream stream error")
            }
            if let reported = TokenUsage(openAI: chunk["usage"]) { usage = reported }
            let choices = chunk["choices"]?.array ?? []
            if !clientWantsUsage && choices.isEmpty { return [] }
            return [event.data]
        }

        /// Text and tool-call arguments in one chunk: `choices[].delta.content`, `choices[].text` (completions),
        /// `choices[].delta.tool_calls[].function.arguments`.
        static func generatedCharacters(in chunk: JSON) -> Int {
            var count = 0
            for choice in chunk["choices"]?.array ?? [] {
                count += choice["text"]?.string?.utf8.count ?? 0
                let delta = choice["delta"]
                count += delta?["content"]?.string?.utf8.count ?? 0
                count += delta?["reasoning_content"]?.string?.utf8.count ?? 0
                for call in delta?["tool_calls"]?.array ?? [] {
                    count += call["function"]?["arguments"]?.string?.utf8.count ?? 0
                }
            }
            return count
        }
    }
}
