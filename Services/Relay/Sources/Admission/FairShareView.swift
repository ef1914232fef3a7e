import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Each relay's periodically refreshed picture of the shared fair-share state: tenants' decayed usage and who is
/// active. Priorities are computed from it locally, so admitting a request needs no extra read; it lags the truth by
/// at most one refresh, which is small against the half-life.
public final class FairShareView: Service, HeadroomSource {
    struct State: Sendable {
        var usage = DecayedUsage(halfLife: 300, epoch: 0)
        var stored: [String: Double] = [:]
        var active: Set<String> = []
        var shares: [String: Double] = [:]
        var headroom: [UUID: Double] = [:]
    }

    private let redis: RedisClient
    private let cache: ConfigCache
    private let settings: AdmissionSettings
    private let logger: Logger
    private let state: Mutex<State>

    public init(redis: RedisClient, cache: ConfigCache, settings: AdmissionSettings, logger: Logger) {
        self.redis = redis
        self.cache = cache
        self.settings = settings
        self.logger = logger
        self.state = Mutex(State(usage: DecayedUsage(halfLife: settings.halfLife, epoch: 0)))
    }

    /// The tenant's share among the active tenants; 0 when it is not active yet (it then ranks first until the next
    /// refresh counts it in).
    public func share(tenant: UUID) -> Double {
        state.withLock { $0.shares[tenant.lowercaseText] ?? 0 }
    }

    /// `U / share` of the tenant now, from the last refresh; 0 for a tenant with no recorded usage (it goes first).
    public func priority(tenant: UUID) -> Double {
        let now = Date().timeIntervalSince1970
        return state.withLock { state in
            let key = tenant.lowercaseText
            guard let stored = state.stored[key], state.usage.epoch > 0 else { return 0 }
            let usage = state.usage.usage(stored: stored, at: now)
            return FairShareCalculator.priority(usage: usage, share: state.shares[key])
        }
    }

    /// Shares and decayed usage of the active tenants (for `/v1/fairshare`-style reporting and tests).
    public func report() -> [String: (share: Double, usage: Double)] {
        let now = Date().timeIntervalSince1970
        return state.withLock { state in
            var out: [String: (Double, Double)] = [:]
            for (tenant, share) in state.shares {
                let usage = state.usage.epoch > 0 ? state.usage.usage(stored: state.stored[tenant] ?? 0, at: now) : 0
                out[tenant] = (share, usage)
            }
            return out
        }
    }

    public func headroom() -> [UUID: Double] {
        state.withLock { $0.headroom }
    }

    public func refresh() async throws {
        let now = Date().timeIntervalSince1970
        let limited = cache.snapshot.deployments.values.filter { $0.rpmLimit != nil || $0.tpmLimit != nil }
        var commands = [
            RedisCommand("HGETALL", FairShareKeys.usage),
            RedisCommand("GET", FairShareKeys.epoch),
            RedisCommand("ZRANGEBYSCORE", FairShareKeys.active, String(now - 3 * settings.halfLife), "+inf"),
        ]
        for deployment in limited {
            commands.append(RedisCommand("HMGET", FairShareKeys.requestBucket(deployment: deployment.id), "tokens", "ts"))
            commands.append(RedisCommand("HMGET", FairShareKeys.tokenBucket(deployment: deployment.id), "tokens", "ts"))
        }
        let replies = try await redis.pipeline(commands, timeout: .seconds(1))
        var headroom: [UUID: Double] = [:]
        for (position, deployment) in limited.enumerated() {
            func fraction(_ reply: RESPValue, limit: Double) -> Double {
                let fields = reply.array ?? []
                let tokens = fields.first?.string.flatMap(Double.init) ?? limit
                let updated = fields.last?.string.flatMap(Double.init) ?? now
                return min(limit, tokens + max(0, now - updated) * limit / 60) / limit
            }
            var remaining = 1.0
            if let rpm = deployment.rpmLimit { remaining = min(remaining, fraction(replies[3 + position * 2], limit: Double(rpm))) }
            if let tpm = deployment.tpmLimit { remaining = min(remaining, fraction(replies[4 + position * 2], limit: Double(tpm))) }
            headroom[deployment.id] = remaining
        }
        var stored: [String: Double] = [:]
        let pairs = replies[0].array ?? []
        var index = 0
        while index + 1 < pairs.count {
            if let tenant = pairs[index].string, let value = pairs[index + 1].string.flatMap(Double.init) { stored[tenant] = value }
            index += 2
        }
        let epoch = replies[1].string.flatMap(Double.init) ?? 0
        let active = Set((replies[2].array ?? []).compactMap(\.string))
        let snapshot = cache.snapshot
        let inputs = active.compactMap { text -> ShareInput? in
            guard let id = UUID(text: text), let tenant = snapshot.tenants[id] else { return nil }
            return ShareInput(tenant: text, weight: Double(tenant.weight), group: tenant.groupName)
        }
        let calculator = FairShareCalculator(mode: settings.mode, groupWeights: snapshot.fairshareGroupWeights.mapValues(Double.init))
        let shares = calculator.shares(inputs)
        state.withLock { state in
            state.usage = DecayedUsage(halfLife: settings.halfLife, epoch: epoch)
            state.stored = stored
            state.active = active
            state.shares = shares
            state.headroom = headroom
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown { [self] in
            var failing = false
            while !Task.isCancelled {
                do {
                    try await refresh()
                    failing = false
                } catch {
                    if !failing { logger.debug("Fair-share view refresh failed", metadata: ["error": "\(error)"]) }
                    failing = true
                }
                try await Task.sleep(for: settings.viewRefresh)
            }
        }
    }
}
