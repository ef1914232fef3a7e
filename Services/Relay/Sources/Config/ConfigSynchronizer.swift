import FairwayCore
import FairwayRedis
import Logging
import Metrics
import ServiceLifecycle

/// Keeps ``ConfigCache`` current (DESIGN §4) along two paths, because pub/sub is at-most-once:
/// - `fairway:invalidate` messages: a key message drops that key's cache entry at once; anything else asks for a
///   (debounced) snapshot reload; a resubscription after a Redis reconnect reloads everything.
/// - `config_version` polling every `pollInterval`: a version different from the snapshot's reloads, so a lost message
///   costs at most one poll interval.
/// While Postgres is down the last snapshot keeps serving.
public struct ConfigSynchronizer: Service {
    public let cache: ConfigCache
    public let subscriber: RedisSubscriber
    public let pollInterval: Duration
    public let debounce: Duration
    private let logger: Logger
    private let reloads = Counter(label: "fairway_config_reloads_total")
    private let reloadFailures = Counter(label: "fairway_config_reload_failures_total")
    private let versionGauge = Gauge(label: "fairway_config_version")

    public init(cache: ConfigCache, subscriber: RedisSubscriber, pollInterval: Duration, debounce: Duration = .milliseconds(50), logger: Logger) {
        self.cache = cache
        self.subscriber = subscriber
        self.pollInterval = pollInterval
        self.debounce = debounce
        self.logger = logger
    }

    public func run() async throws {
        let (requests, requester) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.reloadLoop(requests: requests) }
            group.addTask { await self.listen(requester: requester) }
            group.addTask { await self.poll(requester: requester) }
            requester.yield()
            await withGracefulShutdownHandler {
                await group.next()
            } onGracefulShutdown: {
                requester.finish()
            }
            group.cancelAll()
        }
    }

    private func reloadLoop(requests: AsyncStream<Void>) async {
        var failures = 0
        for await _ in requests {
            try? await Task.sleep(for: debounce)
            while !Task.isCancelled {
                do {
                    let snapshot = try await cache.reload()
                    reloads.increment()
                    versionGauge.record(snapshot.version)
                    if failures > 0 { logger.info("Configuration reloaded after failures", metadata: ["version": "\(snapshot.version)"]) }
                    failures = 0
                    break
                } catch {
                    reloadFailures.increment()
                    failures += 1
                    if failures == 1 || failures % 20 == 0 {
                        logger.warning("Configuration reload failed; serving the last snapshot", metadata: ["error": "\(error)"])
                    }
                    // Keep retrying only until the first snapshot exists; later, the next poll asks again.
                    if cache.isLoaded { break }
                    try? await Task.sleep(for: Backoff().delay(attempt: failures))
                }
            }
        }
    }

    private func listen(requester: AsyncStream<Void>.Continuation) async {
        for await event in subscriber.events {
            switch event {
            case .message(_, let payload):
                if let message = Invalidation(json: payload), message.entity == "api_key", let hash = message.keyHash {
                    cache.invalidateKey(hash: hash)
                } else {
                    requester.yield()
                }
            case .subscribed(let isReconnect):
                if isReconnect {
                    logger.info("Invalidation channel resubscribed; reloading configuration")
                    cache.invalidateAllKeys()
                    requester.yield()
                }
            case .disconnected:
                break
            }
        }
    }

    private func poll(requester: AsyncStream<Void>.Continuation) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                return
            }
            do {
                let version = try await cache.source.currentVersion()
                if version != cache.snapshot.version { requester.yield() }
            } catch {
                logger.debug("config_version poll failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
