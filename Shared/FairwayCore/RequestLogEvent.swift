import Foundation

/// One relay request, as written to the `fairway:requests` stream and stored in `request_logs` (DESIGN §6).
///
/// On the stream every attribute is its own field, as text: readable with `redis-cli XRANGE`, and decodable field by
/// field so a malformed entry is reported with the field at fault. Times are microseconds since the Unix epoch and
/// money is a decimal string, so nothing is rounded on the way.
public struct RequestLogEvent: Sendable, Equatable {
    public var requestID: UUID
    public var startedAt: Int64
    public var finishedAt: Int64
    public var tenantID: UUID
    public var apiKeyID: UUID
    public var modelName: String
    public var modelGroup: String?
    public var deploymentID: UUID?
    public var provider: String?
    public var endpoint: String
    public var stream: Bool
    public var statusCode: Int
    public var errorType: String?
    public var promptTokens: Int64
    public var completionTokens: Int64
    public var cachedTokens: Int64
    /// Cost in 10⁻¹² USD (exact; see ``PicoDollars``).
    public var costPicoUSD: Int64
    public var latencyMS: Int
    public var ttftMS: Int?
    public var queueMS: Int
    public var attempts: Int
    public var cacheHit: Bool
    public var relayID: String
    /// Whose soft budget this request's charge crossed (`tenant`, `api_key`): the aggregator audits each once.
    public var softBudgetsCrossed: [String]

    public init(
        requestID: UUID, startedAt: Int64, finishedAt: Int64, tenantID: UUID, apiKeyID: UUID, modelName: String,
        modelGroup: String? = nil, deploymentID: UUID? = nil, provider: String? = nil, endpoint: String,
        stream: Bool = false, statusCode: Int, errorType: String? = nil, promptTokens: Int64 = 0,
        completionTokens: Int64 = 0, cachedTokens: Int64 = 0, costPicoUSD: Int64 = 0, latencyMS: Int,
        ttftMS: Int? = nil, queueMS: Int = 0, attempts: Int = 1, cacheHit: Bool = false, relayID: String,
        softBudgetsCrossed: [String] = []
    ) {
        self.softBudgetsCrossed = softBudgetsCrossed
        self.requestID = requestID
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.tenantID = tenantID
        self.apiKeyID = apiKeyID
        self.modelName = modelName
        self.modelGroup = modelGroup
        self.deploymentID = deploymentID
        self.provider = provider
        self.endpoint = endpoint
        self.stream = stream
        self.statusCode = statusCode
        self.errorType = errorType
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.costPicoUSD = costPicoUSD
        self.latencyMS = latencyMS
        self.ttftMS = ttftMS
        self.queueMS = queueMS
        self.attempts = attempts
        self.cacheHit = cacheHit
        self.relayID = relayID
    }

    /// The cost as a decimal amount of dollars.
    public var costUSD: Decimal { PicoDollars.decimal(costPicoUSD) }

    /// Succeeded means the client got a 2xx or 3xx answer.
    public var succeeded: Bool { statusCode < 400 }

    /// The UTC day the request started, `yyyy-MM-dd`: the rollup's day.
    public var day: String { Self.utcDay(microseconds: startedAt) }

    public static func utcDay(microseconds: Int64) -> String {
        CivilDay(microseconds: microseconds).text
    }

    /// The stream fields, in a fixed order.
    public var fields: [(String, String)] {
        var fields: [(String, String)] = [
            ("request_id", requestID.lowercaseText),
            ("started_at", String(startedAt)),
            ("finished_at", String(finishedAt)),
            ("tenant_id", tenantID.lowercaseText),
            ("api_key_id", apiKeyID.lowercaseText),
            ("model_name", modelName),
            ("endpoint", endpoint),
            ("stream", stream ? "1" : "0"),
            ("status_code", String(statusCode)),
            ("prompt_tokens", String(promptTokens)),
            ("completion_tokens", String(completionTokens)),
            ("cached_tokens", String(cachedTokens)),
            ("cost_usd", PicoDollars.format(costPicoUSD)),
            ("latency_ms", String(latencyMS)),
            ("queue_ms", String(queueMS)),
            ("attempts", String(attempts)),
            ("cache_hit", cacheHit ? "1" : "0"),
            ("relay_id", relayID),
        ]
        if let modelGroup { fields.append(("model_group", modelGroup)) }
        if let deploymentID { fields.append(("deployment_id", deploymentID.lowercaseText)) }
        if let provider { fields.append(("provider", provider)) }
        if let errorType { fields.append(("error_type", errorType)) }
        if let ttftMS { fields.append(("ttft_ms", String(ttftMS))) }
        if !softBudgetsCrossed.isEmpty { fields.append(("soft_budget_crossed", softBudgetsCrossed.joined(separator: ","))) }
        return fields
    }

    static func owners(_ text: String?) throws(DecodingError) -> [String] {
        guard let text else { return [] }
        let owners = text.split(separator: ",").map(String.init)
        guard !owners.isEmpty, owners.count <= 2, owners.allSatisfy({ $0 == "tenant" || $0 == "api_key" }) else {
            throw DecodingError(field: "soft_budget_crossed", reason: "not a list of tenant, api_key")
        }
        return owners
    }

    /// Why an entry could not be decoded; it names the field.
    public struct DecodingError: Error, Equatable, CustomStringConvertible {
        public var field: String
        public var reason: String
        public var description: String { "\(field): \(reason)" }
    }

    public init(fields: [String: String]) throws(DecodingError) {
        func text(_ name: String) throws(DecodingError) -> String {
            guard let value = fields[name], !value.isEmpty else { throw DecodingError(field: name, reason: "missing") }
            return value
        }
        func uuid(_ name: String) throws(DecodingError) -> UUID {
            guard let value = UUID(text: try text(name)) else { throw DecodingError(field: name, reason: "not a UUID") }
            return value
        }
        func integer(_ name: String, range: ClosedRange<Int64> = 0...Int64.max) throws(DecodingError) -> Int64 {
            guard let value = Int64(try text(name)), range.contains(value) else {
                throw DecodingError(field: name, reason: "not a whole number in \(range)")
            }
            return value
        }
        func flag(_ name: String) throws(DecodingError) -> Bool {
            switch try text(name) {
            case "1", "true": return true
            case "0", "false": return false
            default: throw DecodingError(field: name, reason: "not a boolean")
            }
        }
        func optional(_ name: String) -> String? {
            guard let value = fields[name], !value.isEmpty else { return nil }
            return value
        }

        let requestID = try uuid("request_id")
        let startedAt = try integer("started_at", range: 0...4_102_444_800_000_000)
        let finishedAt = try integer("finished_at", range: 0...4_102_444_800_000_000)
        guard finishedAt >= startedAt else { throw DecodingError(field: "finished_at", reason: "before started_at") }
        let tenantID = try uuid("tenant_id")
        let apiKeyID = try uuid("api_key_id")
        guard let cost = PicoDollars.parse(try text("cost_usd")) else {
            throw DecodingError(field: "cost_usd", reason: "not a non-negative decimal with at most 12 fractional digits")
        }
        let deploymentID: UUID?
        if let text = optional("deployment_id") {
            guard let value = UUID(text: text) else { throw DecodingError(field: "deployment_id", reason: "not a UUID") }
            deploymentID = value
        } else {
            deploymentID = nil
        }
        self.init(
            requestID: requestID,
            startedAt: startedAt,
            finishedAt: finishedAt,
            tenantID: tenantID,
            apiKeyID: apiKeyID,
            modelName: try text("model_name"),
            modelGroup: optional("model_group"),
            deploymentID: deploymentID,
            provider: optional("provider"),
            endpoint: try text("endpoint"),
            stream: try flag("stream"),
            statusCode: Int(try integer("status_code", range: 100...599)),
            errorType: optional("error_type"),
            promptTokens: try integer("prompt_tokens"),
            completionTokens: try integer("completion_tokens"),
            cachedTokens: try integer("cached_tokens"),
            costPicoUSD: cost,
            latencyMS: Int(try integer("latency_ms", range: 0...Int64(Int32.max))),
            ttftMS: try optional("ttft_ms").map { _ throws(DecodingError) in Int(try integer("ttft_ms", range: 0...Int64(Int32.max))) },
            queueMS: Int(try integer("queue_ms", range: 0...Int64(Int32.max))),
            attempts: Int(try integer("attempts", range: 0...1000)),
            cacheHit: try flag("cache_hit"),
            relayID: try text("relay_id"),
            softBudgetsCrossed: try Self.owners(optional("soft_budget_crossed"))
        )
    }
}

/// Names on Redis shared by the relay (producer) and the aggregator (consumer).
public enum RequestLogStream {
    public static let key = "fairway:requests"
    public static let group = "fairway-aggregators"
    public static let deadLetterKey = "fairway:requests:dead"
}
