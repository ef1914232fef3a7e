import AsyncHTTPClient
import FairwayCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import Synchronization

/// The relay's request path (DESIGN §5): auth → parse → route → per deployment: admission → upstream call, failing
/// over before the first byte reached the client → respond → one request-log event.
///
/// The pipeline is the one owner of what a request acquires: it takes each admission ticket and releases it, and it
/// emits the request's one event, from the ``AttemptOutcome`` an upstream call reports or the ``StreamEnd`` a stream
/// reports — on every exit path (see ``StreamOwner`` for the streams whose body never runs).
public struct RelayPipeline: Sendable {
    let authenticator: Authenticator
    let cache: ConfigCache
    let router = UpstreamRouter()
    let cooldowns: any CooldownStore
    let admission: any Admission
    let governance: any Governance
    let responseCache: any ResponseCacheStore
    /// Remaining RPM/TPM headroom per deployment, for `quota_aware` groups.
    let headroom: any HeadroomSource
    /// Model upstreams.
    let upstream: UpstreamHTTPClient
    /// MCP servers.
    let http: HTTPClient
    let events: any RequestLogSink
    let inFlight: InFlightRequests
    let settings: RelaySettings
    let logger: Logger
    /// Whether requests are traced (OpenTelemetry configured); when false no tracing code runs at all.
    let tracing: Bool
    private let rotation: RotationCounter
    private let attemptsCounter = Counter(label: "fairway_upstream_attempts_total")
    private let failoverCounter = Counter(label: "fairway_upstream_failovers_total")

    public init(
        authenticator: Authenticator, cache: ConfigCache, cooldowns: any CooldownStore, admission: any Admission,
        governance: any Governance = UngovernedAccess(), responseCache: any ResponseCacheStore = NoResponseCache(),
        headroom: any HeadroomSource, upstream: UpstreamHTTPClient, http: HTTPClient, events: any RequestLogSink, inFlight: InFlightRequests,
        settings: RelaySettings, logger: Logger, tracing: Bool = false
    ) {
        self.tracing = tracing
        self.authenticator = authenticator
        self.cache = cache
        self.cooldowns = cooldowns
        self.admission = admission
        self.governance = governance
        self.responseCache = responseCache
        self.headroom = headroom
        self.upstream = upstream
        self.http = http
        self.events = events
        self.inFlight = inFlight
        self.settings = settings
        self.logger = logger
        self.rotation = RotationCounter()
    }

    /// Authenticates a request that needs a key but no body (`GET /v1/models`).
    func authenticate(_ request: Request) async -> Result<AuthenticatedKey, RelayError> {
        switch await authenticator.authenticate(headers: request.headers) {
        case .authenticated(let key): .success(key)
        case .unauthorized: .failure(.unauthorized)
        case .unavailable: .failure(.authUnavailable)
        case .throttled: .failure(.authThrottled)
        }
    }

    /// - Parameter cancellation: fired when the client leaves; the pipeline also fires it when a drain times out.
    public func handle(_ endpoint: RelayEndpoint, request: Request, cancellation: RequestCancellation = RequestCancellation()) async -> Response {
        let trace = tracing ? RequestTrace(endpoint: endpoint, headers: request.headers) : nil
        let authSpan = trace?.child("auth")
        let authenticated = await authenticate(request)
        authSpan?.end()
        let key: AuthenticatedKey
        switch authenticated {
        case .success(let authenticated): key = authenticated
        case .failure(let error):
            trace?.root.attributes["http.response.status_code"] = Int(error.status.code)
            trace?.root.end()
            return error.response(in: endpoint.format)
        }
        var record = RequestRecord(key: key, endpoint: endpoint, relayID: settings.relayID)
        record.trace = trace
        let parsed: ParsedRequest
        switch await read(request, endpoint: endpoint) {
        case .success(let request): parsed = request
        case .failure(let refusal):
            record.modelName = refusal.model ?? record.modelName
            return await finish(&record, refusal.error)
        }
        record.modelName = parsed.model
        record.stream = parsed.stream
        let route: Route
        switch await resolve(parsed, key: key) {
        case .success(let resolved): route = resolved
        case .failure(let error): return await finish(&record, error)
        }
        record.modelGroup = route.groupName
        let caching = CachePlan(
            endpoint: endpoint, parsed: parsed, route: route, tenant: key.tenant.id, cacheControl: request.headers[.cacheControl]
        )
        if let caching, let hit = await lookUp(caching, parsed: parsed, record: &record) { return hit }
        if endpoint.generates {
            do {
                record.governance = try await governance.admit(GovernanceRequest(
                    key: key, requestID: record.requestID, estimatedTokens: parsed.estimatedTokens
                ))
            } catch {
                return await finish(&record, error.relayError)
            }
        }
        // One candidate is tried whatever its health: skip the Redis round trip.
        let health = route.candidates.count > 1 ? await cooldowns.state(of: route.candidates.map(\.deployment.id)) : CooldownState()
        let order = router.order(route, coolingDown: health.coolingDown, headroom: headroom.headroom(), rotation: rotation.next())
        inFlight.track(cancellation)
        return await attempt(order, parsed: parsed, health: health, record: record, caching: caching, cancellation: cancellation)
    }

    /// A cached answer: no admission, no quota, no budget, cost 0 (DESIGN §5 step 3); replayed as a stream when the
    /// request streams. Nil when the entry cannot be replayed (the request then goes upstream).
    private func answer(fromCache body: [UInt8], parsed: ParsedRequest, plan: CachePlan, record: inout RequestRecord) async -> Response? {
        var replay: [SSEEvent]?
        if parsed.stream {
            guard let json = try? JSONParser.parse(body),
                  let events = StreamReplay.events(endpoint: parsed.endpoint, body: json, wantsUsage: plan.wantsUsage)
            else { return nil }
            replay = events
        }
        record.cacheStatus = "hit"
        record.firstTokenAt = .now
        await emit(&record)
        guard let replay else { return Self.json(status: .ok, body, record: record) }
        return Response(
            status: .ok, headers: streamHeaders(record, budgetRemaining: nil),
            body: .init(byteBuffer: UpstreamStream.encode(replay))
        )
    }

    /// Stores a complete answer off the client's path, when its deployment caches and it is small enough.
    private func store(_ body: [UInt8], plan: CachePlan?, deployment: Deployment) {
        guard let plan, plan.write, deployment.cache.enabled, body.count <= settings.cacheMaxEntryBytes else { return }
        let (cache, ttl) = (responseCache, deployment.cache.ttlSeconds)
        Task { await cache.put(plan.key, body, ttlSeconds: ttl) }
    }

    /// The deployments that may answer: the key must be allowed the name, the name must exist, and some deployment
    /// must serve the endpoint.
    private func resolve(_ parsed: ParsedRequest, key: AuthenticatedKey) async -> Result<Route, RelayError> {
        guard key.key.limits.allows(parsed.model) else { return .failure(.modelNotAllowed(parsed.model)) }
        guard var route = await cache.route(for: parsed.model) else { return .failure(.modelNotFound(parsed.model)) }
        route.candidates.removeAll { !$0.deployment.provider.provider.supports(parsed.endpoint) }
        guard !route.candidates.isEmpty else {
            return .failure(.invalidRequest(
                "The model '\(parsed.model)' does not support \(parsed.endpoint.rawValue).", param: "model", code: "unsupported_endpoint"
            ))
        }
        return .success(route)
    }

    /// The cached answer, when the request may read the cache and an entry can be replayed; marks the request a miss
    /// otherwise.
    private func lookUp(_ caching: CachePlan, parsed: ParsedRequest, record: inout RequestRecord) async -> Response? {
        record.cacheStatus = "miss"
        guard caching.read else { return nil }
        let span = record.trace?.child("cache lookup")
        let cached = await responseCache.get(caching.key)
        span?.attributes["fairway.cache.hit"] = cached != nil
        span?.end()
        guard let body = cached else { return nil }
        return await answer(fromCache: body, parsed: parsed, plan: caching, record: &record)
    }

    private struct Refusal: Error {
        var error: RelayError
        /// The requested model, when it was a valid name (so the event can say what was asked for).
        var model: String?
    }

    /// Reads and parses the body.
    private func read(_ request: Request, endpoint: RelayEndpoint) async -> Result<ParsedRequest, Refusal> {
        var request = request
        let bytes: [UInt8]
        do {
            let buffer = try await request.collectBody(upTo: settings.maxBodyBytes)
            bytes = Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            return .failure(Refusal(error: .bodyTooLarge(limit: settings.maxBodyBytes)))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return .failure(Refusal(error: .bodyTooLarge(limit: settings.maxBodyBytes)))
        } catch {
            return .failure(Refusal(error: .invalidRequest("The request body could not be read.")))
        }
        let json: (value: JSON, ranges: [(key: String, range: Range<Int>)])
        do {
            json = try ParsedRequest.json(bytes)
        } catch {
            return .failure(Refusal(error: error))
        }
        do {
            try ParsedRequest.rejectDuplicates(json.ranges)
            var parsed = try ParsedRequest(endpoint: endpoint, json: json.value, defaultMaxTokens: settings.defaultMaxTokens)
            parsed.original = SplicedJSON(bytes: bytes, ranges: json.ranges)
            parsed.forwardedHeaders = Self.forwardedHeaders.compactMap { name in request.headers[name].map { (name.canonicalName, $0) } }
            return .success(parsed)
        } catch {
            return .failure(Refusal(error: error, model: RequestBounds.loggableName(json.value["model"])))
        }
    }

    private func attempt(
        _ order: [Deployment], parsed: ParsedRequest, health: CooldownState, record: RequestRecord, caching: CachePlan?,
        cancellation: RequestCancellation
    ) async -> Response {
        var record = record
        var lastFailure: UpstreamFailure?
        var noHeadroom: Int?
        for deployment in order {
            record.deployment = deployment
            let ticket: any AdmissionTicket
            let admissionSpan = record.trace?.child("admission")
            admissionSpan?.attributes["fairway.deployment.id"] = deployment.id.lowercaseText
            do {
                ticket = try await admit(parsed, to: deployment, record: record, cancellation: cancellation)
                admissionSpan?.end()
            } catch {
                admissionSpan?.attributes["error.type"] = "\(error)"
                admissionSpan?.end()
                if case .noHeadroom(let retryAfter) = error {
                    // The deployment's own rate limit is used up: skip it without an upstream attempt.
                    noHeadroom = min(noHeadroom ?? retryAfter, retryAfter)
                    continue
                }
                return finished(cancellation, await finish(&record, Self.refusalError(error, cancellation: cancellation)))
            }
            record.queued += ticket.queued
            record.attempts += 1
            attemptsCounter.increment()
            if lastFailure != nil { failoverCounter.increment() }
            var call = UpstreamCall(deployment: deployment, parsed: parsed, http: upstream, settings: settings)
            let attemptSpan = record.trace?.child("upstream attempt", kind: .client)
            if let attemptSpan {
                attemptSpan.attributes["fairway.deployment.id"] = deployment.id.lowercaseText
                attemptSpan.attributes["gen_ai.provider.name"] = deployment.provider.rawValue
                attemptSpan.attributes["gen_ai.request.model"] = deployment.upstreamModel
                call.traceHeaders = RequestTrace.propagationHeaders(for: attemptSpan)
            }
            let stop = UpstreamStop()
            let outcome = await cancellation.run(until: call.totalDeadline, stopping: stop) { await call.run(stoppedBy: stop) }
            attemptSpan?.attributes["fairway.outcome"] = outcome.label
            attemptSpan?.end()
            let failingBefore = health.failing.contains(deployment.id)
            if let reason = cancellation.reason, !outcome.isStreaming {
                await ticket.release(actualTokens: nil)
                return finished(cancellation, await finish(&record, Self.stopped(reason)))
            }
            switch outcome {
            case .completed(let body, let usage):
                record.usage = usage
                record.firstTokenAt = .now
                // Settled before the answer goes out, so a client's next request already sees its quota refunded.
                await ticket.release(actualTokens: usage.totalTokens)
                if failingBefore { await cooldowns.recordSuccess(deployment.id) }
                let settlement = await emit(&record)
                store(body, plan: caching, deployment: deployment)
                return finished(cancellation, Self.json(status: .ok, body, record: record, budgetRemaining: settlement?.remainingPicoUSD))
            case .refused(let status, let body, let errorType):
                record.statusCode = status
                record.errorType = errorType
                await ticket.release(actualTokens: 0)
                let settlement = await emit(&record)
                return finished(cancellation, Self.json(
                    status: HTTPResponse.Status(code: status), body, record: record, budgetRemaining: settlement?.remainingPicoUSD
                ))
            case .invalid(let error):
                await ticket.release(actualTokens: nil)
                return finished(cancellation, await finish(&record, error))
            case .streaming(let stream):
                record.firstTokenAt = .now
                return streamingResponse(
                    stream, ticket: ticket, record: record, parsed: parsed, caching: caching, failingBefore: failingBefore, cancellation: cancellation
                )
            case .failed(let failure):
                await ticket.release(actualTokens: nil)
                if failure.countsAgainstDeployment, let kind = FailoverPolicy.cooldownKind(status: failure.status) {
                    await cooldowns.recordFailure(deployment.id, kind: kind)
                }
                logger.warning("Upstream attempt failed", metadata: [
                    "request_id": "\(record.requestID.lowercaseText)", "deployment": "\(deployment.modelName)",
                    "failure": "\(failure.detail)", "cause": "\(failure.cause ?? "")",
                ])
                lastFailure = failure
            }
        }
        if lastFailure == nil, let retryAfter = noHeadroom {
            record.deployment = nil
            return finished(cancellation, await finish(&record, RelayError(
                status: .serviceUnavailable, type: "capacity_exceeded",
                message: "Every deployment of this model is at its rate limit; retry shortly.", code: "capacity_exceeded",
                retryAfterSeconds: retryAfter
            )))
        }
        let error = lastFailure?.relayError(attempts: record.attempts)
            ?? RelayError(status: .serviceUnavailable, type: "upstream_error", message: "No deployment is available.", code: "no_deployment")
        return finished(cancellation, await finish(&record, error))
    }

    /// A slot and quota for one attempt; counting tokens generates nothing, so it takes neither.
    private func admit(
        _ parsed: ParsedRequest, to deployment: Deployment, record: RequestRecord, cancellation: RequestCancellation
    ) async throws(AdmissionRefusal) -> any AdmissionTicket {
        guard parsed.endpoint.generates else { return PassThroughAdmission.Ticket() }
        return try await admission.acquire(AdmissionRequest(
            tenant: record.key.tenant, deployment: deployment, estimatedTokens: parsed.estimatedTokens, requestID: record.requestID,
            clientConnected: { cancellation.reason == nil }
        ))
    }

    /// The answer for a stream: the response body relays it; its ``StreamOwner`` settles the ticket and the event.
    private func streamingResponse(
        _ stream: UpstreamStream, ticket: any AdmissionTicket, record: RequestRecord, parsed: ParsedRequest, caching: CachePlan?,
        failingBefore: Bool, cancellation: RequestCancellation
    ) -> Response {
        let abort = cancellation.onFire { stream.abort() }
        let interruption: @Sendable () -> RelayError? = { cancellation.reason == .draining ? Self.stopped(.draining) : nil }
        let deployment = record.deployment
        let capture = caching.flatMap { plan -> StreamCapture? in
            guard plan.write, deployment?.cache.enabled == true else { return nil }
            return StreamCapture(StreamAssembler(endpoint: parsed.endpoint, limit: settings.cacheMaxEntryBytes))
        }
        let owner = StreamOwner(.init(stream: stream, ticket: ticket, record: record), interruption: interruption, capture: capture) { end, held in
            cancellation.remove(abort)
            let usage = await settle(end, held: held, promptEstimate: parsed.promptTokenEstimate, failingBefore: failingBefore, stopped: cancellation.reason)
            if end.ending == .completed, let deployment, let body = capture?.answer(usage: usage) {
                store(body, plan: caching, deployment: deployment)
            }
            inFlight.finished(cancellation)
        }
        // Before this stream's own cost: the headers leave before it is known.
        let headers = streamHeaders(record, budgetRemaining: record.governance?.remainingPicoUSD)
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in await owner.relay(to: &writer) })
    }

    private func streamHeaders(_ record: RequestRecord, budgetRemaining: Int64?) -> HTTPFields {
        var headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", .fairwayRequestID: record.requestID.lowercaseText,
        ]
        if let budgetRemaining { headers[.fairwayBudgetRemaining] = PicoDollars.format(budgetRemaining) }
        if let status = record.cacheStatus { headers[.fairwayCache] = status }
        return headers
    }

    /// Settles a stream once it ended: the usage billed (estimated when the upstream reported none), the slot
    /// released with it, the deployment's health, and the event.
    /// - Returns: the usage billed.
    @discardableResult
    private func settle(
        _ end: StreamEnd, held: StreamOwner.Held, promptEstimate: Int64, failingBefore: Bool, stopped: RequestCancellation.Reason?
    ) async -> TokenUsage {
        var record = held.record
        let complete = end.ending == .completed
        record.usage = TokenUsage.billable(
            reported: end.reported, complete: complete, promptEstimate: promptEstimate, streamedCharacters: end.streamedCharacters
        )
        await held.ticket.release(actualTokens: record.usage.totalTokens)
        switch end.ending {
        case .completed:
            if failingBefore, let id = record.deployment?.id { await cooldowns.recordSuccess(id) }
        case .clientLeft:
            record.fail(stopped == .draining ? Self.stopped(.draining) : Self.stopped(.clientLeft))
        case .failed(let error):
            record.fail(stopped.map(Self.stopped) ?? error)
            if stopped == nil, let id = record.deployment?.id { await cooldowns.recordFailure(id, kind: .failure) }
        }
        await emit(&record)
        return record.usage
    }

    /// Client headers passed on to an upstream that speaks the client's own format.
    static let forwardedHeaders: [HTTPField.Name] = [.anthropicVersion, .anthropicBeta]

    /// Ends a request with an error answer (in the client's format) and its event.
    func finish(_ record: inout RequestRecord, _ error: RelayError) async -> Response {
        record.fail(error)
        await emit(&record)
        var response = error.response(in: record.endpoint.format)
        response.headers[.fairwayRequestID] = record.requestID.lowercaseText
        if let status = record.cacheStatus { response.headers[.fairwayCache] = status }
        return response
    }

    /// The one place a request's event leaves: its budgets are charged first (the real cost, once), so the event
    /// can say which soft budgets the charge crossed and a client's next request already sees the spend.
    @discardableResult
    func emit(_ record: inout RequestRecord) async -> GovernanceSettlement? {
        var settlement: GovernanceSettlement?
        if let hold = record.governance {
            record.governance = nil
            let settled = await hold.settle(costPicoUSD: record.costPicoUSD, actualTokens: record.usage.totalTokens)
            record.softBudgetsCrossed = settled.crossedSoftBudgets
            settlement = settled
        }
        record.trace?.finish(record)
        record.trace = nil
        events.emit(record.event())
        return settlement
    }

    private func finished(_ cancellation: RequestCancellation, _ response: Response) -> Response {
        inFlight.finished(cancellation)
        return response
    }

    static func json(status: HTTPResponse.Status, _ body: [UInt8], record: RequestRecord, budgetRemaining: Int64? = nil) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .fairwayRequestID: record.requestID.lowercaseText]
        if let budgetRemaining { headers[.fairwayBudgetRemaining] = PicoDollars.format(budgetRemaining) }
        if let status = record.cacheStatus { headers[.fairwayCache] = status }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func stopped(_ reason: RequestCancellation.Reason) -> RelayError {
        switch reason {
        case .clientLeft:
            RelayError(status: .init(code: 499), type: "client_disconnected", message: "The client went away.", code: "client_disconnected")
        case .draining:
            RelayError(
                status: .serviceUnavailable, type: "service_unavailable", message: "The relay is shutting down; retry.",
                code: "relay_draining", retryAfterSeconds: 1
            )
        }
    }

    static func refusalError(_ refusal: AdmissionRefusal, cancellation: RequestCancellation) -> RelayError {
        switch refusal {
        case .quotaExceeded(let retryAfter):
            RelayError(
                status: .tooManyRequests, type: "rate_limit_exceeded", message: "Token-per-minute quota exceeded for this tenant.",
                code: "rate_limit_exceeded", retryAfterSeconds: retryAfter
            )
        case .capacityExceeded(let retryAfter), .noHeadroom(let retryAfter):
            RelayError(
                status: .serviceUnavailable, type: "capacity_exceeded", message: "The model is at capacity; retry shortly.",
                code: "capacity_exceeded", retryAfterSeconds: retryAfter
            )
        case .cancelled:
            stopped(cancellation.reason ?? .clientLeft)
        }
    }
}

extension AttemptOutcome {
    var isStreaming: Bool {
        if case .streaming = self { return true }
        return false
    }

    /// What an attempt came to, for its span.
    var label: String {
        switch self {
        case .completed: "completed"
        case .refused(let status, _, _): "refused \(status)"
        case .invalid: "invalid"
        case .streaming: "streaming"
        case .failed: "failed"
        }
    }
}

extension HTTPField.Name {
    /// The request-log id of a request, so a client's report can be matched with its log row.
    // A valid literal field name: the initializer only fails on characters this literal does not contain.
    static let fairwayRequestID = HTTPField.Name("x-fairway-request-id")!
    /// Dollars left under the tightest budget that applies to the request (after its own cost, when not streamed).
    static let fairwayBudgetRemaining = HTTPField.Name("x-fairway-budget-remaining")!
    static let anthropicVersion = HTTPField.Name("anthropic-version")!
    static let anthropicBeta = HTTPField.Name("anthropic-beta")!
}

/// A per-process counter for round-robin rotation.
final class RotationCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
}
