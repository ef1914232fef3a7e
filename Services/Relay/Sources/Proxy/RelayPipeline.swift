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
/// Every exit releases what it acquired and emits exactly one event; the streaming exits do so when the stream ends.
public struct RelayPipeline: Sendable {
    let authenticator: Authenticator
    let cache: ConfigCache
    let router = UpstreamRouter()
    let cooldowns: any CooldownStore
    let admission: any Admission
    /// Remaining RPM/TPM headroom per deployment, for `quota_aware` groups.
    let headroom: any HeadroomSource
    let http: HTTPClient
    let events: any RequestLogSink
    let settings: RelaySettings
    let logger: Logger
    private let rotation: RotationCounter
    private let attemptsCounter = Counter(label: "fairway_upstream_attempts_total")
    private let failoverCounter = Counter(label: "fairway_upstream_failovers_total")

    public init(
        authenticator: Authenticator, cache: ConfigCache, cooldowns: any CooldownStore, admission: any Admission,
        headroom: any HeadroomSource, http: HTTPClient, events: any RequestLogSink, settings: RelaySettings, logger: Logger
    ) {
        self.authenticator = authenticator
        self.cache = cache
        self.cooldowns = cooldowns
        self.admission = admission
        self.headroom = headroom
        self.http = http
        self.events = events
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
        }
    }

    /// - Parameter clientConnected: whether the client is still there; a request waiting for a slot polls it.
    public func handle(_ endpoint: RelayEndpoint, request: Request, clientConnected: @escaping @Sendable () -> Bool = { true }) async -> Response {
        let key: AuthenticatedKey
        switch await authenticate(request) {
        case .success(let authenticated): key = authenticated
        case .failure(let error): return error.response
        }
        var record = RequestRecord(key: key, endpoint: endpoint, relayID: settings.relayID)
        var request = request
        let bytes: [UInt8]
        do {
            let buffer = try await request.collectBody(upTo: settings.maxBodyBytes)
            bytes = Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            return finish(&record, .bodyTooLarge(limit: settings.maxBodyBytes))
        } catch let error as HTTPError where error.status == .contentTooLarge {
            return finish(&record, .bodyTooLarge(limit: settings.maxBodyBytes))
        } catch {
            return finish(&record, .invalidRequest("The request body could not be read."))
        }
        let parsed: ParsedRequest
        do {
            parsed = try ParsedRequest(endpoint: endpoint, bytes: bytes, defaultMaxTokens: settings.defaultMaxTokens)
        } catch {
            if let model = (try? JSONParser.parse(bytes))?["model"]?.string, !model.isEmpty { record.modelName = model }
            return finish(&record, error)
        }
        record.modelName = parsed.model
        record.stream = parsed.stream
        guard var route = cache.snapshot.route(for: parsed.model) else {
            return finish(&record, .modelNotFound(parsed.model))
        }
        record.modelGroup = route.groupName
        route.candidates.removeAll { !$0.deployment.provider.provider.supports(endpoint) }
        guard !route.candidates.isEmpty else {
            return finish(&record, .invalidRequest(
                "The model '\(parsed.model)' does not support \(endpoint.rawValue).", param: "model", code: "unsupported_endpoint"
            ))
        }
        // One candidate is tried whatever its health: skip the Redis round trip.
        let health = route.candidates.count > 1 ? await cooldowns.state(of: route.candidates.map(\.deployment.id)) : CooldownState()
        let order = router.order(route, coolingDown: health.coolingDown, headroom: headroom.headroom(), rotation: rotation.next())
        return await attempt(order, parsed: parsed, health: health, record: record, clientConnected: clientConnected)
    }

    private func attempt(
        _ order: [Deployment], parsed: ParsedRequest, health: CooldownState, record: RequestRecord,
        clientConnected: @escaping @Sendable () -> Bool
    ) async -> Response {
        var record = record
        var lastFailure: UpstreamFailure?
        var noHeadroom: Int?
        for deployment in order {
            record.deployment = deployment
            let ticket: any AdmissionTicket
            do {
                ticket = try await admission.acquire(AdmissionRequest(
                    tenant: record.key.tenant, deployment: deployment, estimatedTokens: parsed.estimatedTokens, requestID: record.requestID,
                    clientConnected: clientConnected
                ))
            } catch {
                switch error {
                case .quotaExceeded(let retryAfter):
                    return finish(&record, RelayError(
                        status: .tooManyRequests, type: "rate_limit_exceeded", message: "Token-per-minute quota exceeded for this tenant.",
                        code: "rate_limit_exceeded", retryAfterSeconds: retryAfter
                    ))
                case .capacityExceeded(let retryAfter):
                    return finish(&record, RelayError(
                        status: .serviceUnavailable, type: "capacity_exceeded", message: "The model is at capacity; retry shortly.",
                        code: "capacity_exceeded", retryAfterSeconds: retryAfter
                    ))
                case .noHeadroom(let retryAfter):
                    // The deployment's own rate limit is used up: skip it without an upstream attempt.
                    noHeadroom = min(noHeadroom ?? retryAfter, retryAfter)
                    continue
                case .cancelled:
                    return finish(&record, RelayError(
                        status: .init(code: 499), type: "client_disconnected", message: "The client went away while queued.",
                        code: "client_disconnected"
                    ))
                }
            }
            record.queued += ticket.queued
            record.attempts += 1
            attemptsCounter.increment()
            if lastFailure != nil { failoverCounter.increment() }
            let call = UpstreamCall(
                deployment: deployment, parsed: parsed, http: http, settings: settings,
                failingBefore: health.failing.contains(deployment.id), pipeline: self
            )
            switch await call.run(ticket: ticket, record: &record) {
            case .answered(let response):
                return response
            case .failed(let failure):
                await ticket.release(actualTokens: nil)
                if let kind = FailoverPolicy.cooldownKind(status: failure.status) {
                    await cooldowns.recordFailure(deployment.id, kind: kind)
                }
                logger.warning("Upstream attempt failed", metadata: [
                    "request_id": "\(record.requestID.lowercaseText)", "deployment": "\(deployment.modelName)", "failure": "\(failure.detail)",
                ])
                lastFailure = failure
            }
        }
        if lastFailure == nil, let retryAfter = noHeadroom {
            record.deployment = nil
            return finish(&record, RelayError(
                status: .serviceUnavailable, type: "capacity_exceeded",
                message: "Every deployment of this model is at its rate limit; retry shortly.", code: "capacity_exceeded",
                retryAfterSeconds: retryAfter
            ))
        }
        let error = lastFailure?.relayError(attempts: record.attempts)
            ?? RelayError(status: .serviceUnavailable, type: "upstream_error", message: "No deployment is available.", code: "no_deployment")
        return finish(&record, error)
    }

    /// Ends a request with an error answer and its event.
    func finish(_ record: inout RequestRecord, _ error: RelayError) -> Response {
        record.fail(error)
        events.emit(record.event())
        var response = error.response
        response.headers[.fairwayRequestID] = record.requestID.lowercaseText
        return response
    }
}

extension HTTPField.Name {
    /// The request-log id of a request, so a client's report can be matched with its log row.
    // A valid literal field name: the initializer only fails on characters this literal does not contain.
    static let fairwayRequestID = HTTPField.Name("x-fairway-request-id")!
}

/// A per-process counter for round-robin rotation.
final class RotationCounter: Sendable {
    private let value = Atomic<Int>(0)
    func next() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max }
}
