import AsyncHTTPClient
import FairwayCore
import Logging
import NIOPosix
import ServiceLifecycle

/// The HTTP client for MCP servers (sessions, event streams, any method) as a `Service`, so it is shut down after
/// in-flight requests drained. Model upstreams have their own lean client, ``UpstreamHTTPClient``.
struct MCPHTTPClient: Service {
    let client: HTTPClient

    init(connectTimeout: Duration, logger: Logger) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout.connect = .nanoseconds(connectTimeout.nanoseconds)
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
        configuration.decompression = .disabled
        // A redirect would re-send the body and the upstream credential to wherever it points.
        configuration.redirectConfiguration = .disallow
        // The relay traces MCP calls itself; the client's own span would be a second one.
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration, backgroundActivityLogger: logger)
    }

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
