import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import Hummingbird
import PostgresNIO

/// `GET /v1/fairshare` (DESIGN §5.1): every tenant's weight, group, share and decayed usage, and every capped
/// deployment's capacity, in-flight and waiting counts, read from the same Redis state the relays schedule with and
/// computed with the same calculator.
struct FairshareReport: Sendable {
    let store: ConfigStore
    let redis: RedisClient
    let mode: FairShareCalculator.Mode
    let halfLife: Double

    struct TenantRow {
        var id: String
        var name: String
        var weight: Int
        var group: String?
    }

    func response() async throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: try await state(), options: [.sortedKeys])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The report as a JSON-ready object (the API's body, and the dashboard's fair-share page).
    func state() async throws -> [String: Any] {
        let logger = store.logger
        let (tenants, groupWeights, deployments) = try await store.client.withConnection { connection in
            var tenants: [TenantRow] = []
            for try await (id, name, weight, group) in try await connection.query(
                "SELECT id::text, name, weight, group_name FROM tenants ORDER BY name", logger: logger
            ).decode((String, String, Int, String?).self) {
                tenants.append(TenantRow(id: id, name: name, weight: weight, group: group))
            }
            var groups: [String: Double] = [:]
            for try await (name, weight) in try await connection.query("SELECT name, weight FROM fairshare_groups", logger: logger)
                .decode((String, Int).self) {
                groups[name] = Double(weight)
            }
            var deployments: [(id: String, name: String, capacity: Int)] = []
            for try await (id, name, capacity) in try await connection.query(
                "SELECT id::text, model_name, max_concurrency FROM models WHERE max_concurrency IS NOT NULL ORDER BY model_name",
                logger: logger
            ).decode((String, String, Int).self) {
                deployments.append((id, name, capacity))
            }
            return (tenants, groups, deployments)
        }

        let now = Date().timeIntervalSince1970
        let nowMS = Int(now * 1000)
        var commands = FairShareState.commands(now: now, halfLife: halfLife)
        for deployment in deployments {
            guard let id = UUID(text: deployment.id) else { continue }
            commands.append(RedisCommand("ZCOUNT", FairShareKeys.slots(deployment: id), String(nowMS), "+inf"))
            commands.append(RedisCommand("ZCARD", FairShareKeys.waiting(deployment: id)))
        }
        let replies: [RESPValue]
        do {
            replies = try await redis.pipeline(commands, timeout: .seconds(2))
        } catch {
            throw APIError(.unavailable, "Redis cannot be reached: \(error)")
        }
        let shared = FairShareState(replies: replies.prefix(3), halfLife: halfLife)
        let active = shared.active
        let shares = FairShareCalculator(mode: mode, groupWeights: groupWeights).shares(
            tenants.filter { active.contains($0.id) }.map { ShareInput(tenant: $0.id, weight: Double($0.weight), group: $0.group) }
        )
        let tenantRows: [[String: Any]] = tenants.map { tenant in
            let usage = shared.usage(of: tenant.id, at: now)
            return [
                "id": tenant.id, "name": tenant.name, "weight": tenant.weight, "group_name": tenant.group ?? NSNull(),
                "active": active.contains(tenant.id), "share": shares[tenant.id] ?? 0, "usage": usage,
            ]
        }
        let deploymentRows: [[String: Any]] = deployments.enumerated().map { position, deployment in
            [
                "id": deployment.id, "model_name": deployment.name, "max_concurrency": deployment.capacity,
                "in_flight": Int(replies[3 + position * 2].int ?? 0), "waiting": Int(replies[4 + position * 2].int ?? 0),
            ]
        }
        return ["mode": mode.rawValue, "half_life_secs": halfLife, "tenants": tenantRows, "deployments": deploymentRows]
    }
}
