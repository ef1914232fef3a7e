import FairwayCore
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The start of every service's `serve`: logging and metrics installed once, then an HTTP application carrying the
/// operational routes, the service's own routes and its long-running services, shut down on SIGTERM/SIGINT.
public enum ProcessBootstrap {
    /// Runs Swift concurrency's tasks on NIO's event loops instead of a separate thread pool, so a request handler
    /// that awaits a socket (the upstream, Redis) resumes on the loop that read it rather than hopping threads twice per
    /// await. Call first thing in `main`, once. Anything that blocks a thread in a task would then stall a loop's
    /// sockets: the relay blocks only in writing its spill file (appends and `fsync`, while Redis is unreachable) and in
    /// writing log lines to standard error. Jobs run on the loops' threads on the generic executor, as Swift's own pool
    /// runs them (``EventLoopGlobalExecutor``).
    @discardableResult
    public static func runTasksOnEventLoops() -> Bool {
        EventLoopGlobalExecutor.install()
    }

    public static func start(logging: LoggingSettings, label: String, service: String) -> Logger {
        ProcessLogging.bootstrap(logging)
        ProcessMetrics.bootstrap()
        Gauge(label: "fairway_build_info", dimensions: [("service", service)]).record(1)
        return Logger(label: label)
    }

    /// A router with request metrics (`hb_requests`, `http_server_request_duration`) on every route.
    public static func router() -> Router<BasicRequestContext> {
        router(context: BasicRequestContext.self)
    }

    /// The same for a service's own request context (the relay's carries the connection, to notice clients leaving).
    public static func router<Context: RequestContext>(context: Context.Type) -> Router<Context> {
        let router = Router(context: Context.self)
        router.add(middleware: RequestMetricsMiddleware())
        return router
    }

    /// An application named `serverName` serving `router` at `address`, running `services` before the server starts
    /// and stopping them after it has drained.
    public static func application<Context: RequestContext>(
        serverName: String,
        address: ServerAddress,
        router: Router<Context>,
        server: HTTPServerBuilder = .http1(),
        services: [any Service],
        logger: Logger
    ) -> some ApplicationProtocol where Context.Source == ApplicationRequestContextSource {
        Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: serverName),
            services: services,
            logger: logger
        )
    }
}
