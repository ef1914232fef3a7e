import FairwayCore
import Foundation

/// A tenant as admission and quotas see it.
public struct Tenant: Sendable, Equatable {
    public var id: UUID
    public var name: String
    public var weight: Int
    public var tokensPerMinute: Int64
    public var groupName: String?
    public var maxConcurrency: Int?
    public var budget: Budget?

    public init(
        id: UUID, name: String, weight: Int = 100, tokensPerMinute: Int64 = 0, groupName: String? = nil, maxConcurrency: Int? = nil,
        budget: Budget? = nil
    ) {
        self.budget = budget
        self.id = id
        self.name = name
        self.weight = weight
        self.tokensPerMinute = tokensPerMinute
        self.groupName = groupName
        self.maxConcurrency = maxConcurrency
    }
}

/// A deployment's response-cache settings.
public struct CacheSettings: Sendable, Equatable {
    public var enabled: Bool
    public var ttlSeconds: Int
    public var generation: Int64

    public init(enabled: Bool = false, ttlSeconds: Int = 300, generation: Int64 = 0) {
        self.enabled = enabled
        self.ttlSeconds = ttlSeconds
        self.generation = generation
    }
}

/// The upstream protocol a deployment speaks.
public enum ProviderKind: String, Sendable, CaseIterable {
    case openai
    case anthropic
}

/// One upstream deployment (a `models` row): where to send a request and what it costs.
public struct Deployment: Sendable, Equatable {
    public var id: UUID
    public var modelName: String
    public var provider: ProviderKind
    public var upstreamModel: String
    /// As the provider's SDK takes it: with `/v1` for `openai`, without for `anthropic`.
    public var apiBase: String
    public var apiKey: String?
    /// Prices in 10⁻¹² USD per token, so cost is exact integer arithmetic.
    public var inputPicoUSDPerToken: Int64
    public var outputPicoUSDPerToken: Int64
    /// Prompt-cache prices; nil means the input price.
    public var cacheReadPicoUSDPerToken: Int64?
    public var cacheWritePicoUSDPerToken: Int64?
    /// Whether this OpenAI-compatible deployment serves `/responses` itself (else Responses requests are translated).
    public var supportsResponsesAPI: Bool
    public var admissionWeight: Double
    public var maxConcurrency: Int?
    public var rpmLimit: Int?
    public var tpmLimit: Int64?
    public var enabled: Bool
    public var timeout: Duration
    /// Response cache (DESIGN §5 step 3): on or off, how long entries live, and the generation entries are keyed by.
    public var cache: CacheSettings = CacheSettings()

    public init(
        id: UUID, modelName: String, provider: ProviderKind, upstreamModel: String, apiBase: String, apiKey: String? = nil,
        inputPicoUSDPerToken: Int64 = 0, outputPicoUSDPerToken: Int64 = 0, admissionWeight: Double = 1,
        maxConcurrency: Int? = nil, rpmLimit: Int? = nil, tpmLimit: Int64? = nil, enabled: Bool = true,
        timeout: Duration = .seconds(600), cacheReadPicoUSDPerToken: Int64? = nil, cacheWritePicoUSDPerToken: Int64? = nil,
        supportsResponsesAPI: Bool = false
    ) {
        self.cacheReadPicoUSDPerToken = cacheReadPicoUSDPerToken
        self.cacheWritePicoUSDPerToken = cacheWritePicoUSDPerToken
        self.supportsResponsesAPI = supportsResponsesAPI
        self.id = id
        self.modelName = modelName
        self.provider = provider
        self.upstreamModel = upstreamModel
        self.apiBase = apiBase
        self.apiKey = apiKey
        self.inputPicoUSDPerToken = inputPicoUSDPerToken
        self.outputPicoUSDPerToken = outputPicoUSDPerToken
        self.admissionWeight = admissionWeight
        self.maxConcurrency = maxConcurrency
        self.rpmLimit = rpmLimit
        self.tpmLimit = tpmLimit
        self.enabled = enabled
        self.timeout = timeout
    }

    /// The cost of a request with this usage, in 10⁻¹² USD (saturating rather than trapping on absurd counts).
    public func costPicoUSD(promptTokens: Int64, completionTokens: Int64) -> Int64 {
        promptTokens.saturatingMultiplied(by: inputPicoUSDPerToken)
            .saturatingAdding(completionTokens.saturatingMultiplied(by: outputPicoUSDPerToken))
    }

    /// The cost of `usage`: prompt tokens read from or written to the provider's prompt cache at the cache prices
    /// (the input price where none is set), the rest of the prompt at the input price, completion at the output price.
    public func costPicoUSD(_ usage: TokenUsage) -> Int64 {
        let uncached = max(0, usage.promptTokens - usage.cachedTokens - usage.cacheWriteTokens)
        return [
            uncached.saturatingMultiplied(by: inputPicoUSDPerToken),
            usage.cachedTokens.saturatingMultiplied(by: cacheReadPicoUSDPerToken ?? inputPicoUSDPerToken),
            usage.cacheWriteTokens.saturatingMultiplied(by: cacheWritePicoUSDPerToken ?? inputPicoUSDPerToken),
            usage.completionTokens.saturatingMultiplied(by: outputPicoUSDPerToken),
        ].reduce(0) { $0.saturatingAdding($1) }
    }
}

/// How a model group orders its members (DESIGN §5.2).
public enum FailoverStrategy: String, Sendable, CaseIterable {
    case priority
    case quotaAware = "quota_aware"
    case roundRobin = "round_robin"
}

/// A logical model name clients can send, backed by several deployments.
public struct ModelGroup: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var deploymentID: UUID
        public var priority: Int
        public init(deploymentID: UUID, priority: Int) {
            self.deploymentID = deploymentID
            self.priority = priority
        }
    }

    public var id: UUID
    public var name: String
    public var strategy: FailoverStrategy
    /// Enabled members only.
    public var members: [Member]

    public init(id: UUID, name: String, strategy: FailoverStrategy = .priority, members: [Member]) {
        self.id = id
        self.name = name
        self.strategy = strategy
        self.members = members
    }
}

/// What a requested model name resolves to: the candidate deployments and how to order them.
public struct Route: Sendable, Equatable {
    public struct Candidate: Sendable, Equatable {
        public var deployment: Deployment
        public var priority: Int
    }

    public var requestedName: String
    /// The group's name when the client asked for a group.
    public var groupName: String?
    public var strategy: FailoverStrategy
    public var candidates: [Candidate]
}

/// Everything the relay needs from the config tables, loaded whole (it is small) and swapped atomically.
public struct ConfigSnapshot: Sendable {
    public var version: Int64
    public var tenants: [UUID: Tenant]
    public var fairshareGroupWeights: [String: Int]
    public var deployments: [UUID: Deployment]
    public var deploymentsByName: [String: UUID]
    public var groupsByName: [String: ModelGroup]
    public var mcpServersByName: [String: MCPServer]

    public init(
        version: Int64, tenants: [Tenant], fairshareGroupWeights: [String: Int] = [:], deployments: [Deployment], groups: [ModelGroup],
        mcpServers: [MCPServer] = []
    ) {
        self.mcpServersByName = Dictionary(mcpServers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
        self.version = version
        self.tenants = Dictionary(tenants.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.fairshareGroupWeights = fairshareGroupWeights
        self.deployments = Dictionary(deployments.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        self.deploymentsByName = Dictionary(deployments.map { ($0.modelName, $0.id) }, uniquingKeysWith: { _, last in last })
        self.groupsByName = Dictionary(groups.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public static let empty = ConfigSnapshot(version: -1, tenants: [], deployments: [], groups: [])

    /// Resolves a client's `model` (DESIGN §5 step 1): a group name gives its enabled members, a model name that one
    /// deployment; disabled, empty or unknown → nil (404 `model_not_found`). Groups win when a name is both.
    public func route(for name: String) -> Route? {
        if let group = groupsByName[name] {
            let candidates = group.members.compactMap { member -> Route.Candidate? in
                guard let deployment = deployments[member.deploymentID], deployment.enabled else { return nil }
                return Route.Candidate(deployment: deployment, priority: member.priority)
            }
            guard !candidates.isEmpty else { return nil }
            return Route(requestedName: name, groupName: group.name, strategy: group.strategy, candidates: candidates)
        }
        if let id = deploymentsByName[name], let deployment = deployments[id], deployment.enabled {
            return Route(requestedName: name, groupName: nil, strategy: .priority, candidates: [.init(deployment: deployment, priority: 0)])
        }
        return nil
    }

    /// The names a key may use, for `GET /v1/models`: enabled deployments and groups with an enabled member.
    public var modelNames: [String] {
        let names = deploymentsByName.keys.filter { route(for: $0) != nil } + groupsByName.keys.filter { route(for: $0) != nil }
        return Set(names).sorted()
    }
}
