import HTTPTypes
import Testing

@testable import FairwayRuntime

@Suite("Request metrics")
struct RequestMetricsTests {
    /// A client can send any method token; only the standard ones become label values, so none can mint series.
    @Test func inventedMethodsShareOneLabel() throws {
        #expect(RouteMetrics.label(.post) == "POST")
        #expect(RouteMetrics.label(.get) == "GET")
        let invented = try #require(HTTPRequest.Method("BREW-\(UInt32.random(in: 0...UInt32.max))"))
        #expect(RouteMetrics.label(invented) == "other")
        #expect(RouteMetrics.label(.connect) == "other")
    }

    /// The same route, method and status reuse one set of metric objects.
    @Test func aRouteIsMadeOnce() {
        let metrics = RouteMetrics()
        let first = metrics.route("/v1/chat/completions", .post, .ok)
        let again = metrics.route("/v1/chat/completions", .post, .ok)
        #expect(first.requests === again.requests)
        let other = metrics.route("/v1/chat/completions", HTTPRequest.Method("BREW")!, .ok)
        let otherToo = metrics.route("/v1/chat/completions", HTTPRequest.Method("TEAPOT")!, .ok)
        #expect(other.requests === otherToo.requests)
    }
}
