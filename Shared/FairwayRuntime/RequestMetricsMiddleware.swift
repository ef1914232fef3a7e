import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Requests counted and timed per route, method and status, under Hummingbird's `MetricsMiddleware` names
/// (`hb.requests`, `http.server.request.duration`, `hb.request.errors`, `http.server.active_requests`).
///
/// Hummingbird's middleware times every answer by wrapping its body in a closure, which makes the server write the
/// head and the body with two system calls instead of one. Here an answer whose length is known (one buffer) is
/// recorded when the handler returns it and keeps its body; a streamed answer is still recorded when its body ends.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let metrics = RouteMetrics()

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let active = metrics.active(request.method)
        active.increment()
        do {
            var response = try await next(request, context)
            let route = metrics.route(context.endpointPath ?? "Unknown", request.method, response.status)
            if response.body.contentLength != nil {
                route.record(since: started, active: active)
            } else {
                let body = response.body
                response.body = ResponseBody { writer in
                    // Recorded however the body ends: a client that left still made a request.
                    defer { route.record(since: started, active: active) }
                    try await body.write(writer)
                }
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let route = metrics.route(context.endpointPath ?? "NotFound", request.method, status)
            route.requests.increment()
            route.errors.increment()
            active.decrement()
            throw error
        }
    }
}

/// The metric objects per route, made once each (a factory lookup per request would cost more than the recording).
final class RouteMetrics: Sendable {
    struct Route: Sendable {
        let requests: Counter
        let duration: Timer
        let errors: Counter

        func record(since started: ContinuousClock.Instant, active: Meter) {
            requests.increment()
            duration.record(duration: ContinuousClock.now - started)
            active.decrement()
        }
    }

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private let routes = Mutex<[Key: Route]>([:])
    private let meters = Mutex<[String: Meter]>([:])

    /// The method as a label: any method a client invents is `other`, so it cannot mint metric series.
    static func label(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .patch, .delete, .options: method.rawValue
        default: "other"
        }
    }

    func active(_ method: HTTPRequest.Method) -> Meter {
        let method = Self.label(method)
        return meters.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method)])
            meters[method] = meter
            return meter
        }
    }

    /// `route` is the matched route's pattern (or `NotFound` / `Unknown`), never the client's path.
    func route(_ route: String, _ method: HTTPRequest.Method, _ status: HTTPResponse.Status) -> Route {
        let method = Self.label(method)
        let key = Key(route: route, method: method, status: status.code)
        return routes.withLock { routes in
            if let found = routes[key] { return found }
            let dimensions = [("http.route", route), ("http.request.method", method), ("http.response.status_code", String(status.code))]
            let made = Route(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
                errors: Counter(label: "hb.request.errors", dimensions: [
                    ("http.route", route), ("http.request.method", method), ("error.type", String(status.code)),
                ])
            )
            routes[key] = made
            return made
        }
    }
}
