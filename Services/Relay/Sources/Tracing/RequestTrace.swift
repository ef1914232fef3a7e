import FairwayCore
import Foundation
import HTTPTypes
import Instrumentation
import NIOHTTP1
import ServiceContextModule
import Tracing

/// One relay request's spans (DESIGN §6 observability): a server span continuing the client's `traceparent`, with
/// children for auth, the cache lookup, each admission wait and each upstream attempt. Attributes follow the GenAI
/// semantic conventions plus tenant, key and deployment ids — never a secret or prompt text.
///
/// Only built when tracing is on: with it off the request path holds nil and does no tracing work at all.
final class RequestTrace: Sendable {
    let root: any Span

    init(endpoint: RelayEndpoint, headers: HTTPFields) {
        var context = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(headers, into: &context, using: HTTPFieldsExtractor())
        root = startSpan("POST \(endpoint.rawValue)", context: context, ofKind: .server)
        root.attributes["http.request.method"] = "POST"
        root.attributes["url.path"] = endpoint.rawValue
        root.attributes["gen_ai.operation.name"] = Self.operation(endpoint)
    }

    static func operation(_ endpoint: RelayEndpoint) -> String {
        switch endpoint {
        case .chatCompletions, .messages, .responses: "chat"
        case .completions: "text_completion"
        case .embeddings: "embeddings"
        case .countTokens: "count_tokens"
        }
    }

    /// A child of the request's span.
    func child(_ name: String, kind: SpanKind = .internal) -> any Span {
        startSpan(name, context: root.context, ofKind: kind)
    }

    /// The W3C headers an upstream call carries, so the provider's spans join this trace under `span`.
    static func propagationHeaders(for span: any Span) -> [(String, String)] {
        var headers = HTTPHeaders()
        InstrumentationSystem.instrument.inject(span.context, into: &headers, using: HTTPHeadersInjector())
        return headers.map { ($0.name, $0.value) }
    }

    /// Ends the request's span with what the request came to.
    func finish(_ record: RequestRecord) {
        root.attributes["gen_ai.request.model"] = record.modelName
        root.attributes["fairway.request.id"] = record.requestID.lowercaseText
        root.attributes["fairway.tenant.id"] = record.key.tenant.id.lowercaseText
        root.attributes["fairway.api_key.id"] = record.key.key.id.lowercaseText
        root.attributes["http.response.status_code"] = record.statusCode
        root.attributes["fairway.cache.hit"] = record.cacheHit
        root.attributes["fairway.attempts"] = record.attempts
        if let group = record.modelGroup { root.attributes["fairway.model_group"] = group }
        if let deployment = record.deployment {
            root.attributes["fairway.deployment.id"] = deployment.id.lowercaseText
            root.attributes["gen_ai.system"] = deployment.provider.rawValue
            root.attributes["gen_ai.provider.name"] = deployment.provider.rawValue
        }
        root.attributes["gen_ai.usage.input_tokens"] = Int(record.usage.promptTokens)
        root.attributes["gen_ai.usage.output_tokens"] = Int(record.usage.completionTokens)
        if let error = record.errorType {
            root.attributes["error.type"] = error
            root.setStatus(SpanStatus(code: .error))
        }
        root.end()
    }
}

struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
