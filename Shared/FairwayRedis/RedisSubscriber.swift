import FairwayCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A dedicated pub/sub connection that stays subscribed.
///
/// Pub/sub delivery is at-most-once: a message published while the connection is down is lost. So the subscriber
/// reconnects with backoff, re-subscribes, and tells its owner through ``Event/subscribed(isReconnect:)`` so the owner
/// can resynchronise (the relay reloads its configuration snapshot on every reconnect).
public final class RedisSubscriber: Sendable, Service {
    public enum Event: Sendable, Equatable {
        /// All channels are subscribed; `isReconnect` is true after the first time.
        case subscribed(isReconnect: Bool)
        case message(channel: String, payload: String)
        /// The connection dropped; messages may be missed until the next `subscribed`.
        case disconnected
    }

    public let channels: [String]
    public let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let configuration: RedisConfiguration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    public init(
        configuration: RedisConfiguration,
        channels: [String],
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "fairway.redis.subscriber")
    ) {
        self.configuration = configuration
        self.channels = channels
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    public func run() async throws {
        defer { continuation.finish() }
        var failures = 0
        var everSubscribed = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let subscribedOnce = everSubscribed
            let confirmed = NIOLockedValueBox(Set<String>())
            let continuation = self.continuation
            let channels = self.channels
            do {
                let connection = try await RedisConnection.connect(
                    configuration: configuration,
                    eventLoop: eventLoopGroup.next(),
                    pushHandler: { reply in
                        Self.handlePush(reply, channels: channels, confirmed: confirmed, isReconnect: subscribedOnce, continuation: continuation)
                    }
                ).get()
                try await connection.sendWithoutReply([RedisCommand("SUBSCRIBE", channels)]).get()
                failures = 0
                everSubscribed = true
                if subscribedOnce {
                    logger.info("Redis subscription restored", metadata: ["channels": "\(channels)"])
                }
                try await withGracefulShutdownHandler {
                    try await withTaskCancellationHandler {
                        try await connection.channel.closeFuture.get()
                    } onCancel: {
                        connection.close()
                    }
                } onGracefulShutdown: {
                    connection.close()
                }
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                logger.warning("Redis subscription connection lost; reconnecting")
                continuation.yield(.disconnected)
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { break }
                if failures == 0 {
                    logger.warning("Redis subscription failed; retrying", metadata: ["error": "\(error)"])
                }
            }
            let delay = configuration.reconnectBackoff.delay(attempt: failures)
            failures += 1
            try? await Task.sleep(for: delay)
        }
    }

    private static func handlePush(
        _ reply: RESPValue,
        channels: [String],
        confirmed: NIOLockedValueBox<Set<String>>,
        isReconnect: Bool,
        continuation: AsyncStream<Event>.Continuation
    ) {
        guard let parts = reply.array, parts.count >= 3, let kind = parts[0].string, let channel = parts[1].string else {
            return
        }
        switch kind {
        case "message":
            continuation.yield(.message(channel: channel, payload: parts[2].string ?? ""))
        case "subscribe":
            let complete = confirmed.withLockedValue { set -> Bool in
                set.insert(channel)
                return set.count == Set(channels).count
            }
            if complete {
                continuation.yield(.subscribed(isReconnect: isReconnect))
            }
        default:
            break
        }
    }
}
