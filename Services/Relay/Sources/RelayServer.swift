import FairShare
import Foundation
import AsyncHTTPClient
import FairwayCore
import FairwayPostgres
import FairwayRedis
import FairwayRuntime
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle

/// Wires the relay process: config reads from Postgres, Redis for shared state, the OpenAI-compatible API.
///
/// Readiness means: the schema is there, a configuration snapshot was loaded, and request-log events can be kept. It
/// does not follow Postgres or Redis afterwards: a relay keeps serving from its caches while they are down (DESIGN
/// §4, §5.1), so taking it out of the load balancer then would turn a dependency blip into an outage.
public struct RelayServer: Sendable {
    public let configuration: RelayConfiguration
    public let logger: Logger
    /// The requests in flight; the process's ``DrainTrigger`` starts their drain clock at SIGTERM.
    public let inFlight: InFlightRequests

    public init(configuration: RelayConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.inFlight = InFlightRequests(drainTimeout: configuration.drainTimeout, logger: logger)
    }

    public func makeApplication() throws -> some ApplicationProtocol {
        let clients = SharedClients(settings: configuration.common, logger: logger)
        let (postgres, redis) = (clients.postgres, clients.redis)
        let schema = SchemaGate(client: postgres, requiredVersion: try Migration.requiredVersion(), logger: logger)
        let cache = ConfigCache(
            source: PostgresConfigSource(client: postgres, logger: logger),
            keyCacheCapacity: configuration.keyCacheSize,
            negativeKeyCacheCapacity: configuration.negativeKeyCacheSize,
            positiveTTL: configuration.keyCacheTTL,
            negativeTTL: configuration.keyNegativeTTL,
            lookupsPerSecond: configuration.authLookupsPerSecond,
            logger: logger
        )
        let subscriber = RedisSubscriber(configuration: configuration.common.redis, channels: [Invalidation.channel], logger: logger)
        let synchronizer = ConfigSynchronizer(cache: cache, subscriber: subscriber, pollInterval: configuration.configPollInterval, logger: logger)
        let emitter = RequestLogEmitter(
            redis: redis, spillPath: configuration.spillPath, bufferLimit: configuration.eventBufferSize,
            linger: configuration.eventLinger, logger: logger
        )
        let admissionMetrics = AdmissionMetrics()
        let view = FairShareView(redis: redis, cache: cache, settings: configuration.admission, logger: logger)
        let wakeSubscriber = RedisSubscriber(
            configuration: configuration.common.redis, channels: [FairShareKeys.wakeChannel, FairShareKeys.contentionChannel], logger: logger
        )
        let wakeups = AdmissionWakeups(subscriber: wakeSubscriber)
        let renewer = LeaseRenewer(redis: redis, ttl: configuration.admission.leaseTTL, logger: logger)
        let admission = FairShareAdmission(
            global: RedisAdmission(
                redis: redis, view: view, wakeups: wakeups, renewer: renewer, settings: configuration.admission,
                metrics: admissionMetrics, logger: logger
            ),
            local: LocalAdmission(view: view, wakeups: wakeups, settings: configuration.admission, metrics: admissionMetrics),
            logger: logger
        )
        let upstream = UpstreamHTTPClient(connectTimeout: configuration.upstreamConnectTimeout, extraTrustRoots: configuration.upstreamCAFile.map { [$0] } ?? [])
        if let file = configuration.upstreamCAFile {
            // A CA file that cannot be read stops the relay now, naming it, not its first https request.
            do {
                _ = try upstream.pool.tlsContext()
            } catch {
                throw ConfigurationError(variable: "FAIRWAY_UPSTREAM_CA_FILE", reason: "\(file) is not a readable PEM file of certificates (\(error))")
            }
        }
        let http = MCPHTTPClient(connectTimeout: configuration.upstreamConnectTimeout, logger: logger)
        let tracing = try RelayTracing.bootstrap(environment: ProcessInfo.processInfo.environment, logger: logger)
        let pipeline = RelayPipeline(
            authenticator: Authenticator(cache: cache),
            cache: cache,
            cooldowns: RedisCooldownStore(
                redis: redis, threshold: configuration.cooldownFailures, duration: configuration.cooldownDuration, logger: logger
            ),
            admission: admission,
            governance: RedisGovernance(redis: redis, spend: PostgresSpendSource(client: postgres, logger: logger), logger: logger),
            responseCache: RedisResponseCache(redis: redis, logger: logger),
            headroom: view,
            upstream: upstream,
            http: http.client,
            events: emitter,
            inFlight: inFlight,
            settings: configuration.relaySettings,
            logger: logger,
            tracing: tracing != nil
        )

        let router = ProcessBootstrap.router(context: RelayRequestContext.self)
        router.add(middleware: RelayErrorMiddleware())
        OperationalRoutes(checks: [
            SchemaReadinessCheck(gate: schema),
            ClosureReadinessCheck {
                ReadinessResult(name: "config", ready: cache.isLoaded, detail: cache.isLoaded ? nil : "configuration snapshot not loaded yet")
            },
            ClosureReadinessCheck {
                let health = emitter.health
                return ReadinessResult(name: "events", ready: health == nil, detail: health)
            },
        ]).register(on: router)
        RelayRoutes(pipeline: pipeline).register(on: router)

        // Shut down in reverse: the server drains first, then events flush while Redis is still up.
        return ProcessBootstrap.application(
            serverName: "fairway-relay",
            address: configuration.common.address,
            router: router,
            server: .relay(responder: router.buildResponder(), bodyLimit: configuration.maxBodyBytes, serverName: "fairway-relay"),
            // Tracing first, so it is stopped last: spans of the drained requests are still exported.
            services: (tracing.map { [$0] } ?? []) + [
                postgres, redis, upstream, http, schema, subscriber, synchronizer, wakeSubscriber, wakeups, view, renewer, admission, emitter,
            ],
            logger: logger
        )
    }
}
