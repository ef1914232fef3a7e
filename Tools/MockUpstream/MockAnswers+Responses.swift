/// The mock's answers in OpenAI's Responses format (a deployment with `supports_responses_api`).
extension MockAnswers {
    var responsesUsage: String {
        "{\"input_tokens\":\(request.promptTokens),\"input_tokens_details\":{\"cached_tokens\":\(behavior.cachedTokens)},\"output_tokens\":\(completionTokens),\"output_tokens_details\":{\"reasoning_tokens\":0},\"total_tokens\":\(request.promptTokens + completionTokens)}"
    }

    var responseOutputItem: String {
        if let tool = request.toolToCall {
            return "{\"type\":\"function_call\",\"id\":\"fc_mock_\(id)\",\"call_id\":\"call_mock_\(id)\",\"name\":\(MockJSON.quote(tool)),\"arguments\":\(MockJSON.quote(Self.toolArguments)),\"status\":\"completed\"}"
        }
        return "{\"type\":\"message\",\"id\":\"msg_mock_\(id)\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\(MockJSON.quote(text)),\"annotations\":[]}]}"
    }

    func responseObject(status: String, output: String, usage: String) -> String {
        "{\"id\":\"resp_mock_\(id)\",\"object\":\"response\",\"created_at\":\(created),\"status\":\"\(status)\",\"model\":\(MockJSON.quote(request.model)),\"output\":\(output),\"parallel_tool_calls\":true,\"tool_choice\":\"auto\",\"tools\":[],\"usage\":\(usage)}"
    }

    func response() -> String {
        responseObject(status: "completed", output: "[\(responseOutputItem)]", usage: responsesUsage)
    }

    /// `(event, data)` pairs of a streamed Responses answer.
    func responseEvents() -> [(String, String)] {
        var sequence = 0
        var events: [(String, String)] = []
        func add(_ type: String, _ fields: String) {
            events.append((type, "{\"type\":\"\(type)\",\"sequence_number\":\(sequence),\(fields)}"))
            sequence += 1
        }
        add("response.created", "\"response\":\(responseObject(status: "in_progress", output: "[]", usage: "null"))")
        if let tool = request.toolToCall {
            add("response.output_item.added", "\"output_index\":0,\"item\":{\"type\":\"function_call\",\"id\":\"fc_mock_\(id)\",\"call_id\":\"call_mock_\(id)\",\"name\":\(MockJSON.quote(tool)),\"arguments\":\"\",\"status\":\"in_progress\"}")
            add("response.function_call_arguments.delta", "\"item_id\":\"fc_mock_\(id)\",\"output_index\":0,\"delta\":\(MockJSON.quote(Self.toolArguments))")
            add("response.function_call_arguments.done", "\"item_id\":\"fc_mock_\(id)\",\"output_index\":0,\"arguments\":\(MockJSON.quote(Self.toolArguments))")
        } else {
            add("response.output_item.added", "\"output_index\":0,\"item\":{\"type\":\"message\",\"id\":\"msg_mock_\(id)\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}")
            add("response.content_part.added", "\"item_id\":\"msg_mock_\(id)\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\"\",\"annotations\":[]}")
            for index in 0..<behavior.tokens {
                add("response.output_text.delta", "\"item_id\":\"msg_mock_\(id)\",\"output_index\":0,\"content_index\":0,\"delta\":\(MockJSON.quote(token(index)))")
            }
            add("response.output_text.done", "\"item_id\":\"msg_mock_\(id)\",\"output_index\":0,\"content_index\":0,\"text\":\(MockJSON.quote(text))")
            add("response.content_part.done", "\"item_id\":\"msg_mock_\(id)\",\"output_index\":0,\"content_index\":0,\"part\":{\"type\":\"output_text\",\"text\":\(MockJSON.quote(text)),\"annotations\":[]}")
        }
        add("response.output_item.done", "\"output_index\":0,\"item\":\(responseOutputItem)")
        add("response.completed", "\"response\":\(response())")
        return events
    }
}
