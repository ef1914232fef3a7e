import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// A pooled, pipelining Redis client: hiredis speaks RESP, SwiftNIO does the I/O.
///
/// Commands are spread round-robin over a few long-lived connections; each connection carries many commands at once,
/// so a relay needs no more than a handful of sockets however busy it is. As a `Service` it closes its connections on
/// graceful shutdown.
public final class RedisClient: Sendable, Service {
    public let configuration: RedisConfiguration
    private let slots: [RedisConnectionSlot]
    private let slotTurn = Atomic<Int>(0)
    private let logger: Logger

    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "fairway.redis")
    ) {
        self.configuration = configuration
        self.logger = logger
        self.slots = (0..<max(1, configuration.poolSize)).map { _ in
            RedisConnectionSlot(configuration: configuration, eventLoop: eventLoopGroup.next())
        }
    }

    /// Sends one command; an error reply is thrown as `RedisError.server`.
    @discardableResult
    public func send(_ command: RedisCommand, timeout: Duration? = nil) async throws(RedisError) -> RESPValue {
        let replies = try await pipeline([command], timeout: timeout)
        guard let reply = replies.first else { throw .unexpectedReply("no reply") }
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    public func send(_ name: String, _ arguments: any RedisArgument...) async throws(RedisError) -> RESPValue {
        try await send(RedisCommand(name, arguments))
    }

    /// Sends the commands back to back on one connection in one write and returns every reply, error replies
    /// included as `.error` values: one network round trip for the lot.
    public func pipeline(_ commands: [RedisCommand], timeout: Duration? = nil) async throws(RedisError) -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let slot = nextSlot()
        let effectiveTimeout = timeout ?? configuration.commandTimeout
        do {
            return try await slot.connection()
                .flatMap { $0.send(commands, timeout: effectiveTimeout) }
                .get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw .connectionFailed(String(describing: error))
        }
    }

    /// The next slot in turn among those on the caller's own event loop, when it runs on one: the reply then resumes the
    /// caller on its own thread instead of waking another (the relay's tasks run on the event loops). Any slot in turn
    /// otherwise.
    private func nextSlot() -> RedisConnectionSlot {
        let start = slotTurn.wrappingAdd(1, ordering: .relaxed).oldValue
        for offset in 0..<slots.count {
            let slot = slots[(start &+ offset) % slots.count]
            if slot.eventLoop.inEventLoop { return slot }
        }
        return slots[start % slots.count]
    }

    /// Closes every connection; later commands fail with `RedisError.clientClosed`.
    public func close() {
        for slot in slots { slot.close() }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        close()
    }
}
