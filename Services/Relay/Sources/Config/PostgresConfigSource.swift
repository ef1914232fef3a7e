import FairwayCore
import Foundation
import Logging
import PostgresNIO

/// Reads the config tables with the relay's read-only role. Every call has a deadline: a pool waiting on a database
/// that refuses connections must not hold a request (or the reload loop) forever.
public struct PostgresConfigSource: ConfigSource {
    public let client: PostgresClient
    public let logger: Logger
    public let timeout: Duration

    public init(client: PostgresClient, logger: Logger, timeout: Duration = .seconds(3)) {
        self.client = client
        self.logger = logger
        self.timeout = timeout
    }

    /// A budget from its columns; an amount this relay cannot represent exactly counts as the largest budget.
    static func budget(limit: String?, period: String, soft: String?) -> Budget? {
        guard let limit else { return nil }
        let largest = Budget.maximumUSD * PicoDollars.perDollar
        return Budget(
            limitPicoUSD: PicoDollars.parse(limit) ?? largest, period: BudgetPeriod(rawValue: period) ?? .monthly,
            softPicoUSD: soft.map { PicoDollars.parse($0) ?? largest }
        )
    }

    public func currentVersion() async throws -> Int64 {
        let (client, logger) = (self.client, self.logger)
        return try await withDeadline(timeout) {
            for try await version in try await client.query("SELECT version FROM config_version", logger: logger).decode(Int64.self) {
                return version
            }
            return 0
        }
    }

    public func key(hash: String) async throws -> StoredKey? {
        let (client, logger) = (self.client, self.logger)
        return try await withDeadline(timeout) {
            let rows = try await client.query(
                """
                SELECT id, tenant_id, disabled, (extract(epoch FROM expires_at) * 1000000)::bigint,
                       max_budget_usd::text, budget_period, soft_budget_usd::text, allowed_models, rpm_limit, tpm_limit
                FROM api_keys WHERE key_hash = \(hash)
                """,
                logger: logger
            )
            for try await (id, tenantID, disabled, expiresAt, budget, period, soft, models, rpm, tpm) in rows.decode(
                (UUID, UUID, Bool, Int64?, String?, String, String?, [String]?, Int?, Int64?).self
            ) {
                let limits = KeyLimits(
                    budget: Self.budget(limit: budget, period: period, soft: soft), allowedModels: models.map(Set.init),
                    requestsPerMinute: rpm, tokensPerMinute: tpm
                )
                return StoredKey(id: id, tenantID: tenantID, disabled: disabled, expiresAt: expiresAt, limits: limits)
            }
            return nil
        }
    }

    public func loadSnapshot() async throws -> ConfigSnapshot {
        let (client, logger) = (self.client, self.logger)
        return try await withDeadline(timeout * 3) {
            try await client.withTransaction(logger: logger) { connection in
                // One repeatable-read transaction: the version and the rows agree.
                _ = try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                var version: Int64 = 0
                for try await value in try await connection.query("SELECT version FROM config_version", logger: logger).decode(Int64.self) {
                    version = value
                }
                var tenants: [Tenant] = []
                let tenantRows = try await connection.query(
                    """
                    SELECT id, name, weight, tokens_per_minute, group_name, max_concurrency,
                           max_budget_usd::text, budget_period, soft_budget_usd::text
                    FROM tenants
                    """,
                    logger: logger
                )
                for try await (id, name, weight, tpm, group, maxConcurrency, budget, period, soft) in tenantRows.decode(
                    (UUID, String, Int, Int64, String?, Int?, String?, String, String?).self
                ) {
                    tenants.append(Tenant(
                        id: id, name: name, weight: weight, tokensPerMinute: tpm, groupName: group, maxConcurrency: maxConcurrency,
                        budget: Self.budget(limit: budget, period: period, soft: soft)
                    ))
                }
                var groupWeights: [String: Int] = [:]
                for try await (name, weight) in try await connection.query("SELECT name, weight FROM fairshare_groups", logger: logger).decode((String, Int).self) {
                    groupWeights[name] = weight
                }
                var deployments: [Deployment] = []
                let modelRows = try await connection.query(
                    """
                    SELECT id, model_name, provider, upstream_model, api_base, api_key,
                           input_cost_per_token::text, output_cost_per_token::text, admission_weight,
                           max_concurrency, rpm_limit, tpm_limit, enabled, timeout_secs,
                           cache_read_cost_per_token::text, cache_write_cost_per_token::text, supports_responses_api,
                           cache_enabled, cache_ttl_secs, cache_generation
                    FROM models
                    """,
                    logger: logger
                )
                for try await row in modelRows {
                    let (id, name, provider, upstream, base, key, inputCost, outputCost, weight, maxConcurrency, rpm, tpm, enabled, timeout,
                         cacheRead, cacheWrite, responses, cacheEnabled, cacheTTL, cacheGeneration) = try row.decode(
                            (UUID, String, String, String, String, String?, String, String, Double, Int?, Int?, Int64?, Bool, Int,
                             String?, String?, Bool, Bool, Int, Int64).self
                         )
                    guard let kind = ProviderKind(rawValue: provider) else {
                        logger.warning("Skipping a deployment with an unknown provider", metadata: ["model": "\(name)", "provider": "\(provider)"])
                        continue
                    }
                    var deployment = Deployment(
                        id: id, modelName: name, provider: kind, upstreamModel: upstream, apiBase: base, apiKey: key,
                        inputPicoUSDPerToken: PicoDollars.parse(inputCost) ?? 0,
                        outputPicoUSDPerToken: PicoDollars.parse(outputCost) ?? 0,
                        admissionWeight: weight, maxConcurrency: maxConcurrency, rpmLimit: rpm, tpmLimit: tpm,
                        enabled: enabled, timeout: .seconds(timeout),
                        cacheReadPicoUSDPerToken: cacheRead.flatMap(PicoDollars.parse), cacheWritePicoUSDPerToken: cacheWrite.flatMap(PicoDollars.parse),
                        supportsResponsesAPI: responses
                    )
                    deployment.cache = CacheSettings(enabled: cacheEnabled, ttlSeconds: cacheTTL, generation: cacheGeneration)
                    deployments.append(deployment)
                }
                var groups: [UUID: ModelGroup] = [:]
                let groupRows = try await connection.query(
                    "SELECT id, name, failover_strategy FROM model_groups WHERE enabled", logger: logger
                )
                for try await (id, name, strategy) in groupRows.decode((UUID, String, String).self) {
                    groups[id] = ModelGroup(id: id, name: name, strategy: FailoverStrategy(rawValue: strategy) ?? .priority, members: [])
                }
                let memberRows = try await connection.query(
                    "SELECT group_id, model_id, priority FROM model_group_members WHERE enabled ORDER BY group_id, priority, model_id",
                    logger: logger
                )
                for try await (groupID, modelID, priority) in memberRows.decode((UUID, UUID, Int).self) {
                    groups[groupID]?.members.append(.init(deploymentID: modelID, priority: priority))
                }
                var servers: [MCPServer] = []
                let serverRows = try await connection.query(
                    """
                    SELECT id, name, base_url, auth_header, enabled, allowed_tenant_ids, allowed_key_ids, allowed_tools
                    FROM mcp_servers
                    """,
                    logger: logger
                )
                for try await (id, name, base, auth, enabled, tenantIDs, keyIDs, tools) in serverRows.decode(
                    (UUID, String, String, String?, Bool, [UUID]?, [UUID]?, [String]?).self
                ) {
                    servers.append(MCPServer(
                        id: id, name: name, baseURL: base, authHeader: auth, enabled: enabled,
                        allowedTenants: tenantIDs.map(Set.init), allowedKeys: keyIDs.map(Set.init), allowedTools: tools.map(Set.init)
                    ))
                }
                return ConfigSnapshot(
                    version: version, tenants: tenants, fairshareGroupWeights: groupWeights,
                    deployments: deployments, groups: Array(groups.values), mcpServers: servers
                )
            }
        }
    }
}
