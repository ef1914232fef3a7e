import FairwayRuntime
import Foundation
import Hummingbird

/// The admin REST API: every route under `/v1`, behind the admin token, plus `/openapi.json`.
struct AdminAPI: Sendable {
    static let resources: [ResourceDefinition] = [
        .tenants, .fairshareGroups, .models, .modelGroups, .mcpServers, .apiKeys,
    ]

    let store: ConfigStore
    let adminToken: String
    let fairshare: FairshareReport
    let budgets: BudgetReport

    func register(on router: Router<BasicRequestContext>) {
        let document = OpenAPIDocument(resources: Self.resources)
        let documentData = (try? JSONSerialization.data(withJSONObject: document.json, options: [.sortedKeys])) ?? Data()
        router.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: documentData)))
        }
        router.add(middleware: APIErrorMiddleware())
        let v1 = router.group("v1").add(middleware: AdminAuthMiddleware(token: adminToken))
        for resource in Self.resources {
            ResourceRoutes(definition: resource, store: store).register(on: v1)
        }
        APIKeyRoutes(store: store).register(on: v1)
        ModelGroupMemberRoutes(store: store).register(on: v1)
        AuditLogRoutes(store: store).register(on: v1)
        SpendRoutes(store: store).register(on: v1)
        budgets.register(on: v1)
        v1.get("fairshare") { _, _ in try await fairshare.response() }
    }
}
