import AsyncHTTPClient
import FairwayCore
import Logging
import NIOPosix
import ServiceLifecycle

/// The upstream HTTP client as a `Service`, so it is shut down after in-flight requests drained.
struct UpstreamHTTPClient: Service {
    let client: HTTPClient

    init(connectTimeout: Duration, logger: Logger) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .nanoseconds(connectTimeout.nanoseconds)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        configuration.decompression = .disabled
        // A redirect would re-send the body and the upstream credential to wherever it points.
        configuration.redirectConfiguration = .disallow
        // The relay's own "upstream attempt" span is the client span; the HTTP client's would be a second one, and its
        // attribute building (a URL parse per request) runs even with no tracer installed.
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration, backgroundActivityLogger: logger)
    }

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
