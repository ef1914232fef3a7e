import FairwayCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Stores a batch of request-log events and adds exactly those it stored to `daily_spend`, in one transaction.
///
/// `INSERT … ON CONFLICT DO NOTHING RETURNING` says which events are new; only they are rolled up. An event that
/// comes again (redelivery after a crash between commit and XACK, or a relay replaying its spill file) finds its
/// `request_logs` row present and adds nothing: redelivery never double counts.
public final class RequestLogWriter: Sendable {
    /// Held shared by every batch and exclusively by `rebuild`, so a rebuild never interleaves with live ingestion.
    static let rollupLockKey: Int64 = 0x6661_6972_7370_656E

    /// Stands for "no deployment" in bound UUID arrays (arrays of optionals cannot be bound); turned into NULL in SQL.
    static let noDeployment = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    private let client: PostgresClient
    private let logger: Logger
    private let ensuredDays = NIOLockedValueBox<Set<String>>([])

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Writes the batch; returns how many events were new. Throws (and stores nothing) when Postgres fails.
    @discardableResult
    public func write(_ batch: [RequestLogEvent]) async throws -> Int {
        var seen = Set<UUID>()
        let events = batch.filter { seen.insert($0.requestID).inserted }
        guard !events.isEmpty else { return 0 }
        try await ensurePartitions(for: Set(events.map(\.day)))
        do {
            return try await store(events)
        } catch let error as PostgresTransactionError {
            if let cause = error.closureError as? PSQLError, cause.serverInfo?[.sqlState] == "23514" {
                // "no partition of relation found for row": retention dropped a day this process had made. Forget
                // what we made so the retry creates it again.
                ensuredDays.withLockedValue { $0.removeAll() }
            }
            throw error
        }
    }

    private func store(_ events: [RequestLogEvent]) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            _ = try await connection.query("SELECT pg_advisory_xact_lock_shared(\(Self.rollupLockKey))", logger: logger)
            var inserted = Set<UUID>()
            for try await id in try await connection.query(Self.insertQuery(events), logger: logger).decode(UUID.self) {
                inserted.insert(id)
            }
            let stored = events.filter { inserted.contains($0.requestID) }
            guard !stored.isEmpty else { return 0 }
            _ = try await connection.query(Self.rollupQuery(SpendRollup(stored)), logger: logger)
            _ = try await connection.query(Self.lastUsedQuery(stored), logger: logger)
            if stored.contains(where: { !$0.softBudgetsCrossed.isEmpty }) {
                _ = try await connection.query(Self.softBudgetAuditQuery(stored), logger: logger)
            }
            return stored.count
        }
    }

    /// Creates missing day partitions (outside the batch transaction: DDL takes a strong lock on the parent).
    func ensurePartitions(for days: Set<String>) async throws {
        let missing = days.subtracting(ensuredDays.withLockedValue { $0 })
        guard !missing.isEmpty else { return }
        for day in missing.sorted() {
            do {
                _ = try await client.query("SELECT request_logs_ensure_partition(\(day)::date)", logger: logger)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42P07" || error.serverInfo?[.sqlState] == "23505" {
                // Another aggregator created it between our check and our CREATE.
            }
        }
        ensuredDays.withLockedValue { $0.formUnion(missing) }
    }

    static func insertQuery(_ events: [RequestLogEvent]) -> PostgresQuery {
        let requestIDs = events.map(\.requestID)
        let started = events.map(\.startedAt)
        let finished = events.map(\.finishedAt)
        let tenants = events.map(\.tenantID)
        let keys = events.map(\.apiKeyID)
        let models = events.map(\.modelName)
        let groups = events.map { $0.modelGroup ?? "" }
        let deployments = events.map { $0.deploymentID ?? Self.noDeployment }
        let providers = events.map { $0.provider ?? "" }
        let endpoints = events.map(\.endpoint)
        let streams = events.map(\.stream)
        let statuses = events.map(\.statusCode)
        let errors = events.map { $0.errorType ?? "" }
        let prompt = events.map(\.promptTokens)
        let completion = events.map(\.completionTokens)
        let cached = events.map(\.cachedTokens)
        let costs = events.map(\.costPicoUSD)
        let latency = events.map(\.latencyMS)
        let ttft = events.map { $0.ttftMS ?? -1 }
        let queue = events.map(\.queueMS)
        let attempts = events.map(\.attempts)
        let cacheHits = events.map(\.cacheHit)
        let relays = events.map(\.relayID)
        return """
            INSERT INTO request_logs (
                request_id, started_at, finished_at, tenant_id, api_key_id, model_name, model_group, deployment_id,
                provider, endpoint, stream, status_code, error_type, prompt_tokens, completion_tokens, cached_tokens,
                cost_usd, latency_ms, ttft_ms, queue_ms, attempts, cache_hit, relay_id)
            SELECT e.request_id,
                   'epoch'::timestamptz + e.started_us * interval '1 microsecond',
                   'epoch'::timestamptz + e.finished_us * interval '1 microsecond',
                   e.tenant_id, e.api_key_id, e.model_name, NULLIF(e.model_group, ''), NULLIF(e.deployment_id, \(Self.noDeployment)),
                   NULLIF(e.provider, ''), e.endpoint, e.stream, e.status_code, NULLIF(e.error_type, ''),
                   e.prompt_tokens, e.completion_tokens, e.cached_tokens, e.cost_pico::numeric / 1000000000000, e.latency_ms,
                   NULLIF(e.ttft_ms, -1), e.queue_ms, e.attempts, e.cache_hit, e.relay_id
            FROM unnest(
                \(requestIDs)::uuid[], \(started)::int8[], \(finished)::int8[], \(tenants)::uuid[], \(keys)::uuid[],
                \(models)::text[], \(groups)::text[], \(deployments)::uuid[], \(providers)::text[], \(endpoints)::text[],
                \(streams)::bool[], \(statuses)::int8[], \(errors)::text[], \(prompt)::int8[], \(completion)::int8[],
                \(cached)::int8[], \(costs)::int8[], \(latency)::int8[], \(ttft)::int8[], \(queue)::int8[],
                \(attempts)::int8[], \(cacheHits)::bool[], \(relays)::text[]
            ) AS e(request_id, started_us, finished_us, tenant_id, api_key_id, model_name, model_group, deployment_id,
                   provider, endpoint, stream, status_code, error_type, prompt_tokens, completion_tokens, cached_tokens,
                   cost_pico, latency_ms, ttft_ms, queue_ms, attempts, cache_hit, relay_id)
            ON CONFLICT DO NOTHING
            RETURNING request_id
            """
    }

    /// One audit row per soft budget a stored event crossed (DESIGN §13): written with the event, so a redelivered
    /// event (not stored again) cannot audit twice.
    static func softBudgetAuditQuery(_ events: [RequestLogEvent]) -> PostgresQuery {
        var kinds: [String] = []
        var owners: [UUID] = []
        var relays: [String] = []
        var requests: [UUID] = []
        for event in events {
            for kind in event.softBudgetsCrossed {
                kinds.append(kind)
                owners.append(kind == "tenant" ? event.tenantID : event.apiKeyID)
                relays.append(event.relayID)
                requests.append(event.requestID)
            }
        }
        return """
            INSERT INTO audit_log (action, entity_type, entity_id, actor, payload)
            SELECT 'soft_budget_crossed', a.kind, a.owner_id::text, 'relay:' || a.relay_id,
                   jsonb_build_object('request_id', a.request_id, 'budget_period', o.budget_period,
                                      'soft_budget_usd', o.soft_budget_usd, 'max_budget_usd', o.max_budget_usd)
            FROM unnest(\(kinds)::text[], \(owners)::uuid[], \(relays)::text[], \(requests)::uuid[])
                 AS a(kind, owner_id, relay_id, request_id)
            LEFT JOIN LATERAL (
                SELECT budget_period, soft_budget_usd, max_budget_usd FROM tenants WHERE a.kind = 'tenant' AND id = a.owner_id
                UNION ALL
                SELECT budget_period, soft_budget_usd, max_budget_usd FROM api_keys WHERE a.kind = 'api_key' AND id = a.owner_id
            ) o ON true
            """
    }

    static func rollupQuery(_ rollup: SpendRollup) -> PostgresQuery {
        let rows = rollup.sortedRows
        let days = rows.map(\.grain.day)
        let tenants = rows.map(\.grain.tenantID)
        let keys = rows.map(\.grain.apiKeyID)
        let models = rows.map(\.grain.modelName)
        let deployments = rows.map { $0.grain.deploymentID ?? Self.noDeployment }
        let requests = rows.map(\.measures.requests)
        let succeeded = rows.map(\.measures.succeeded)
        let failed = rows.map(\.measures.failed)
        let cacheHits = rows.map(\.measures.cacheHits)
        let prompt = rows.map(\.measures.promptTokens)
        let completion = rows.map(\.measures.completionTokens)
        let cached = rows.map(\.measures.cachedTokens)
        let costs = rows.map(\.measures.costPicoUSD)
        let latency = rows.map(\.measures.latencyMSSum)
        return """
            INSERT INTO daily_spend AS d (
                day, tenant_id, api_key_id, model_name, deployment_id, requests, succeeded, failed, cache_hits,
                prompt_tokens, completion_tokens, cached_tokens, cost_usd, latency_ms_sum)
            SELECT r.day::date, r.tenant_id, r.api_key_id, r.model_name, NULLIF(r.deployment_id, \(Self.noDeployment)),
                   r.requests, r.succeeded, r.failed, r.cache_hits, r.prompt_tokens, r.completion_tokens, r.cached_tokens,
                   r.cost_pico::numeric / 1000000000000, r.latency_ms_sum
            FROM unnest(
                \(days)::text[], \(tenants)::uuid[], \(keys)::uuid[], \(models)::text[], \(deployments)::uuid[],
                \(requests)::int8[], \(succeeded)::int8[], \(failed)::int8[], \(cacheHits)::int8[], \(prompt)::int8[],
                \(completion)::int8[], \(cached)::int8[], \(costs)::int8[], \(latency)::int8[]
            ) AS r(day, tenant_id, api_key_id, model_name, deployment_id, requests, succeeded, failed, cache_hits,
                   prompt_tokens, completion_tokens, cached_tokens, cost_pico, latency_ms_sum)
            ON CONFLICT ON CONSTRAINT daily_spend_grain DO UPDATE SET
                requests = d.requests + excluded.requests,
                succeeded = d.succeeded + excluded.succeeded,
                failed = d.failed + excluded.failed,
                cache_hits = d.cache_hits + excluded.cache_hits,
                prompt_tokens = d.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = d.completion_tokens + excluded.completion_tokens,
                cached_tokens = d.cached_tokens + excluded.cached_tokens,
                cost_usd = d.cost_usd + excluded.cost_usd,
                latency_ms_sum = d.latency_ms_sum + excluded.latency_ms_sum,
                updated_at = now()
            """
    }

    /// Moves `api_keys.last_used_at` forward to the latest finish per key: the relay never writes Postgres.
    static func lastUsedQuery(_ events: [RequestLogEvent]) -> PostgresQuery {
        var latest: [UUID: Int64] = [:]
        for event in events {
            latest[event.apiKeyID] = max(latest[event.apiKeyID] ?? 0, event.finishedAt)
        }
        let ordered = latest.sorted { UUID.byteOrder($0.key, $1.key) }
        let keys = ordered.map(\.key)
        let times = ordered.map(\.value)
        return """
            UPDATE api_keys k SET last_used_at = greatest(k.last_used_at, v.used_at)
            FROM (
                SELECT u.id, 'epoch'::timestamptz + u.used_us * interval '1 microsecond' AS used_at
                FROM unnest(\(keys)::uuid[], \(times)::int8[]) AS u(id, used_us)
            ) v
            WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.used_at)
            """
    }
}
