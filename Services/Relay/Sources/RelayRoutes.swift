import HTTPTypes
import Hummingbird

/// The OpenAI-compatible routes.
struct RelayRoutes: Sendable {
    let pipeline: RelayPipeline

    func register(on router: Router<RelayRequestContext>) {
        let pipeline = self.pipeline
        for endpoint in RelayEndpoint.allCases {
            router.post(RouterPath(endpoint.rawValue)) { request, context in
                await pipeline.handle(endpoint, request: request, cancellation: context.requestCancellation())
            }
        }
        let mcp = MCPProxy(pipeline: pipeline)
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("mcp/**", method: method) { request, context in
                await mcp.handle(request, cancellation: context.requestCancellation())
            }
        }
        router.get("v1/models") { request, _ in
            switch await pipeline.authenticate(request) {
            case .failure(let error): return error.response
            case .success(let key):
                let models = pipeline.cache.snapshot.modelNames.filter(key.key.limits.allows).map(Self.model)
                return Self.json(["object": "list", "data": .array(models)])
            }
        }
        router.get("v1/models/{model}") { request, context in
            switch await pipeline.authenticate(request) {
            case .failure(let error): return error.response
            case .success(let key):
                let name = context.parameters.get("model") ?? ""
                guard key.key.limits.allows(name), await pipeline.cache.route(for: name) != nil else { return RelayError.modelNotFound(name).response }
                return Self.json(Self.model(name))
            }
        }
    }

    static func model(_ name: String) -> JSON {
        ["id": .string(name), "object": "model", "created": 0, "owned_by": "fairway"]
    }

    static func json(_ value: JSON) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: value.bytes)))
    }
}
