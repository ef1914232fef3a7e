import FairwayRedis
import FairwayCore
import FairwayRuntime
import Hummingbird
import Logging
import PostgresNIO
import Testing

@testable import Management

@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    /// `GET /v1/tenants/:key` and `GET /v1/tenants/{id}` both become `GET /v1/tenants/{}`.
    static func normalized(_ route: String) -> String {
        route.split(separator: " ", maxSplits: 1).enumerated().map { index, part in
            guard index == 1 else { return String(part) }
            return part.split(separator: "/", omittingEmptySubsequences: false).map { segment in
                segment.hasPrefix(":") || segment.hasPrefix("{") ? "{}" : String(segment)
            }.joined(separator: "/")
        }.joined(separator: " ")
    }

    @Test func everyRegisteredRouteIsDocumentedAndViceVersa() throws {
        let router = ProcessBootstrap.router()
        OperationalRoutes(checks: []).register(on: router)
        let unconnected = PostgresClient(configuration: .init(host: "127.0.0.1", username: "nobody", password: nil, database: nil, tls: .disable))
        let store = ConfigStore(client: unconnected, publisher: SilentPublisher(), logger: Logger(label: "test"))
        let redis = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: 1))
        defer { redis.close() }
        AdminAPI(
            store: store, adminToken: "documentation-only",
            fairshare: FairshareReport(store: store, redis: redis, mode: .hierarchical, halfLife: 300),
            budgets: BudgetReport(store: store, redis: redis)
        ).register(on: router)
        let registered = Set(router.routes.map { Self.normalized("\($0.method) \($0.path)") })
        let documented = Set(OpenAPIDocument(resources: AdminAPI.resources).routeKeys.map(Self.normalized))
        #expect(registered.subtracting(documented).isEmpty, "undocumented: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented but not served: \(documented.subtracting(registered).sorted())")
        #expect(registered.count > 30)
    }

    @Test func createSchemasCarryTheValidationRules() throws {
        let json = OpenAPIDocument(resources: AdminAPI.resources).json
        let paths = try #require(json["paths"] as? [String: [String: Any]])
        let post = try #require(paths["/v1/models"]?["post"] as? [String: Any])
        let body = try #require(post["requestBody"] as? [String: Any])
        let schema = try #require(((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any])
        #expect(schema["additionalProperties"] as? Bool == false)
        #expect(Set(schema["required"] as? [String] ?? []) == ["model_name", "provider", "upstream_model", "api_base"])
        let provider = (schema["properties"] as? [String: Any])?["provider"] as? [String: Any]
        #expect(provider?["enum"] as? [String] == ["openai", "anthropic"])
    }
}

struct SilentPublisher: InvalidationPublishing {
    func publish(_ invalidations: [Invalidation]) async {}
}
