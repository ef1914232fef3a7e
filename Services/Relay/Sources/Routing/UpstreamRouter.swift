import Foundation

/// Orders a route's candidate deployments for one request (DESIGN §5.2). Pure: the caller supplies cooldowns,
/// headroom and randomness, so the order is testable.
///
/// - `priority`: ascending priority; equal priorities are shuffled so load spreads across them.
/// - `quota_aware`: most remaining headroom first (unknown headroom counts as unlimited), then priority.
/// - `round_robin`: the priority order rotated by a per-group counter.
/// Deployments on cooldown go last: they are tried only when everything healthy has failed.
public struct UpstreamRouter: Sendable {
    public init() {}

    public func order<Generator: RandomNumberGenerator>(
        _ route: Route,
        coolingDown: Set<UUID> = [],
        headroom: [UUID: Double] = [:],
        rotation: Int = 0,
        using generator: inout Generator
    ) -> [Deployment] {
        var candidates = route.candidates.shuffled(using: &generator)
        switch route.strategy {
        case .priority:
            candidates.sort { $0.priority < $1.priority }
        case .quotaAware:
            candidates.sort { lhs, rhs in
                let (left, right) = (headroom[lhs.deployment.id] ?? .infinity, headroom[rhs.deployment.id] ?? .infinity)
                return left != right ? left > right : lhs.priority < rhs.priority
            }
        case .roundRobin:
            candidates.sort { lhs, rhs in
                lhs.priority != rhs.priority ? lhs.priority < rhs.priority : UUID.byteOrder(lhs.deployment.id, rhs.deployment.id)
            }
            if !candidates.isEmpty {
                let shift = ((rotation % candidates.count) + candidates.count) % candidates.count
                candidates = Array(candidates[shift...] + candidates[..<shift])
            }
        }
        let healthy = candidates.filter { !coolingDown.contains($0.deployment.id) }
        let cooling = candidates.filter { coolingDown.contains($0.deployment.id) }
        return (healthy + cooling).map(\.deployment)
    }

    public func order(_ route: Route, coolingDown: Set<UUID> = [], headroom: [UUID: Double] = [:], rotation: Int = 0) -> [Deployment] {
        var generator = SystemRandomNumberGenerator()
        return order(route, coolingDown: coolingDown, headroom: headroom, rotation: rotation, using: &generator)
    }
}
