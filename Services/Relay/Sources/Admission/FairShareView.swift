import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Each relay's periodically refreshed picture of the shared fair-share state: the active tenants' shares (passed to
/// the acquire script, which ranks by live usage), their decayed usage (for local admission while Redis is down) and
/// the rate-limited deployments' headroom (for `quota_aware` routing). It lags the truth by at most one refresh.
public final class FairShareView: Service, HeadroomSource {
    struct State: Sendable {
        var shared = FairShareState.empty
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
        self.state = Mutex(State())
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
            return FairShareCalculator.priority(usage: state.shared.usage(of: key, at: now), share: state.shares[key])
        }
    }

    public func headroom() -> [UUID: Double] {
        state.withLock { $0.headroom }
    }

    public func refresh() async throws {
        let now = Date().timeIntervalSince1970
        let limited = cache.snapshot.deployments.values.filter { $0.rpmLimit != nil || $0.tpmLimit != nil }
        var commands = FairShareState.commands(now: now, halfLife: settings.halfLife)
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
        let shared = FairShareState(replies: replies.prefix(3), halfLife: settings.halfLife)
        let snapshot = cache.snapshot
        let inputs = shared.active.compactMap { text -> ShareInput? in
            guard let id = UUID(text: text), let tenant = snapshot.tenants[id] else { return nil }
            return ShareInput(tenant: text, weight: Double(tenant.weight), group: tenant.groupName)
        }
        let calculator = FairShareCalculator(mode: settings.mode, groupWeights: snapshot.fairshareGroupWeights.mapValues(Double.init))
        let shares = calculator.shares(inputs)
        state.withLock { state in
            state.shared = shared
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
