import Foundation
import Relay
import Testing

@Suite("Routing")
struct RoutingTests {
    static func deployment(_ name: String) -> Deployment {
        Deployment(id: UUID(), modelName: name, provider: .openai, upstreamModel: name, apiBase: "http://x/v1")
    }

    let a = deployment("a"), b = deployment("b"), c = deployment("c")

    func route(_ strategy: FailoverStrategy, _ members: [(Deployment, Int)]) -> Route {
        let group = ModelGroup(id: UUID(), name: "g", strategy: strategy, members: members.map { .init(deploymentID: $0.0.id, priority: $0.1) })
        let snapshot = ConfigSnapshot(version: 1, tenants: [], deployments: members.map(\.0), groups: [group])
        return snapshot.route(for: "g")!
    }

    @Test func priorityOrderPutsCooledDownMembersLast() {
        let route = route(.priority, [(c, 2), (a, 0), (b, 1)])
        #expect(UpstreamRouter().order(route).map(\.modelName) == ["a", "b", "c"])
        #expect(UpstreamRouter().order(route, coolingDown: [a.id]).map(\.modelName) == ["b", "c", "a"])
    }

    @Test func equalPrioritiesAreSpread() {
        let route = route(.priority, [(a, 0), (b, 0)])
        var firsts: [String: Int] = [:]
        for _ in 0..<400 { firsts[UpstreamRouter().order(route)[0].modelName, default: 0] += 1 }
        #expect((firsts["a"] ?? 0) > 120 && (firsts["b"] ?? 0) > 120, "\(firsts)")
    }

    @Test func roundRobinRotatesAndQuotaAwarePrefersHeadroom() {
        let rr = route(.roundRobin, [(a, 0), (b, 0), (c, 0)])
        let firsts = (0..<3).map { UpstreamRouter().order(rr, rotation: $0)[0].id }
        #expect(Set(firsts).count == 3)
        let quota = route(.quotaAware, [(a, 0), (b, 1), (c, 2)])
        let ordered = UpstreamRouter().order(quota, headroom: [a.id: 10, b.id: 500, c.id: 50])
        #expect(ordered.map(\.modelName) == ["b", "c", "a"])
    }

    @Test func failoverHappensOnServerAndCredentialErrorsOnly() {
        for status in [401, 403, 408, 429, 500, 502, 503, 504] { #expect(FailoverPolicy.failsOver(status: status), "\(status)") }
        for status in [400, 404, 409, 413, 422] { #expect(!FailoverPolicy.failsOver(status: status), "\(status)") }
        #expect(FailoverPolicy.cooldownKind(status: 429) == .rateLimited)
        #expect(FailoverPolicy.cooldownKind(status: nil) == .failure)
        #expect(FailoverPolicy.cooldownKind(status: 400) == nil)
    }

    @Test func disabledAndUnknownModelsDoNotResolve() {
        var disabled = Self.deployment("off")
        disabled.enabled = false
        let snapshot = ConfigSnapshot(version: 1, tenants: [], deployments: [a, disabled], groups: [
            ModelGroup(id: UUID(), name: "only-off", members: [.init(deploymentID: disabled.id, priority: 0)]),
        ])
        #expect(snapshot.route(for: "a")?.candidates.count == 1)
        #expect(snapshot.route(for: "off") == nil)
        #expect(snapshot.route(for: "only-off") == nil)
        #expect(snapshot.route(for: "nope") == nil)
        #expect(snapshot.modelNames == ["a"])
    }

    @Test func costIsExactInPicodollars() {
        var deployment = Self.deployment("priced")
        deployment.inputPicoUSDPerToken = 1_000_000  // $0.000001
        deployment.outputPicoUSDPerToken = 3_000_000
        #expect(deployment.costPicoUSD(promptTokens: 6, completionTokens: 8) == 30_000_000)
        #expect(deployment.costPicoUSD(promptTokens: .max, completionTokens: 1) == .max)
    }
}
