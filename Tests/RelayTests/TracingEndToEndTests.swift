import FairwayCore
import FairwayTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Relay spans as an OTLP/HTTP collector receives them (the mock's `/v1/traces`, JSON encoding).
@Suite("Tracing end to end", .serialized, .enabled(if: TestServers.enabled))
struct TracingEndToEndTests {
    struct Span {
        var traceID: String
        var spanID: String
        var parentID: String
        var name: String
        var attributes: [String: String]
    }

    /// OTLP/JSON ids are hex by the spec; protobuf's JSON mapping writes bytes as base64. Either is read as hex.
    static func hex(_ text: String) -> String {
        if text.count == 32 || text.count == 16, text.allSatisfy(\.isHexDigit) { return text.lowercased() }
        guard let data = Data(base64Encoded: text) else { return text }
        return data.map { String(format: "%02x", $0) }.joined()
    }

    static func spans(_ harness: RelayHarness) async throws -> [Span] {
        let reply = try await RelayHarness.send(.GET, harness.mock.baseURL + "/mock/traces", body: nil, headers: [])
        let bodies = (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8))) as? [[String: Any]] ?? []
        var spans: [Span] = []
        for body in bodies {
            for resource in body["resourceSpans"] as? [[String: Any]] ?? [] {
                for scope in resource["scopeSpans"] as? [[String: Any]] ?? [] {
                    for span in scope["spans"] as? [[String: Any]] ?? [] {
                        var attributes: [String: String] = [:]
                        for attribute in span["attributes"] as? [[String: Any]] ?? [] {
                            let value = attribute["value"] as? [String: Any] ?? [:]
                            attributes[attribute["key"] as? String ?? ""] = value.values.first.map { "\($0)" }
                        }
                        spans.append(Span(
                            traceID: hex(span["traceId"] as? String ?? ""), spanID: hex(span["spanId"] as? String ?? ""),
                            parentID: hex(span["parentSpanId"] as? String ?? ""), name: span["name"] as? String ?? "", attributes: attributes
                        ))
                    }
                }
            }
        }
        return spans
    }

    @Test func aRequestSpanWithItsChildrenContinuesTheClientsTrace() async throws {
        try await RelayHarness.with { harness in
            let tenant = try await harness.createTenant("traced")
            let key = try await harness.createKey(tenant: tenant)
            let deployment = try await harness.createModel("traced-model", extra: ["cache_enabled": true, "max_concurrency": 4])
            let untraced = try await harness.startRelay()
            let relay = try await harness.startRelay([
                "OTEL_EXPORTER_OTLP_ENDPOINT": harness.mock.baseURL, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
                "OTEL_BSP_SCHEDULE_DELAY": "100",
            ])
            #expect(try await RelayHarness.chat(untraced, key: key.secret, ["model": "traced-model", "messages": RelayHarness.messages("no trace")]).status == 200)

            let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            let parentID = "00f067aa0ba902b7"
            let prompt = "a secret prompt that must not leave"
            let reply = try await RelayHarness.send(.POST, relay.baseURL + "/v1/chat/completions", body: try JSONSerialization.data(withJSONObject: [
                "model": "traced-model", "messages": RelayHarness.messages(prompt),
            ]), headers: [
                ("authorization", "Bearer \(key.secret)"), ("content-type", "application/json"), ("traceparent", "00-\(traceID)-\(parentID)-01"),
            ])
            #expect(reply.status == 200, "\(reply.body)")

            var spans: [Span] = []
            let exported = try await RelayHardeningTests.waitUntil(.seconds(15)) {
                spans = try await Self.spans(harness)
                return spans.contains { $0.name == "POST /v1/chat/completions" } && spans.contains { $0.name == "upstream attempt" }
            }
            #expect(exported != nil, "no spans arrived")
            let root = try #require(spans.first { $0.name == "POST /v1/chat/completions" })
            #expect(root.traceID == traceID && root.parentID == parentID, "the client's trace is continued")
            #expect(Set(spans.map(\.traceID)) == [traceID], "one trace: the untraced relay exported nothing")
            let children = spans.filter { $0.parentID == root.spanID }
            #expect(Set(children.map(\.name)) == ["auth", "cache lookup", "admission", "upstream attempt"], "\(children.map(\.name))")
            #expect(root.attributes["gen_ai.request.model"] == "traced-model")
            #expect(root.attributes["gen_ai.operation.name"] == "chat")
            #expect(root.attributes["gen_ai.usage.output_tokens"] == "8")
            #expect(root.attributes["gen_ai.usage.input_tokens"].flatMap(Int.init).map { $0 > 0 } == true)
            #expect(root.attributes["fairway.tenant.id"] == tenant && root.attributes["fairway.deployment.id"] == deployment)
            #expect(root.attributes["http.response.status_code"] == "200")
            let everything = spans.flatMap { $0.attributes.values }.joined(separator: "\n")
            #expect(!everything.contains(key.secret) && !everything.contains(prompt), "no secrets, no prompt text")

            // The upstream call carries the trace on, under the attempt's span.
            let attempt = try #require(children.first { $0.name == "upstream attempt" })
            let upstreamHeaders = try await harness.mockStats()["last_headers"] as? [String: String] ?? [:]
            #expect(upstreamHeaders["traceparent"]?.hasPrefix("00-\(traceID)-\(attempt.spanID)-") == true, "\(upstreamHeaders)")
        }
    }
}
