import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import Relay

/// The flush coalescer on real connections of the process's loops: a flush asked for during a pass of the loop happens
/// once that pass's work is done, for every channel asked, and nothing written is left unflushed.
@Suite("Flush coalescer")
struct FlushCoalescerTests {
    /// Counts the flushes that reach a client channel's socket.
    final class FlushCounter: ChannelOutboundHandler, Sendable {
        typealias OutboundIn = ByteBuffer
        let flushes = Mutex(0)

        func flush(context: ChannelHandlerContext) {
            flushes.withLock { $0 += 1 }
            context.flush()
        }
    }

    /// A server that keeps what its connections read.
    final class Server: Sendable {
        let channel: any Channel
        let box = ReceivedBox()

        init() async throws {
            let box = box
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(box.handler()) }
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        var port: Int { channel.localAddress?.port ?? 0 }

        /// Waits up to two seconds for everything in `parts` to have arrived.
        func waitFor(_ parts: [String]) async throws -> Bool {
            for _ in 0..<200 {
                let text = box.text
                if parts.allSatisfy({ text.contains($0) }) { return true }
                try await Task.sleep(for: .milliseconds(10))
            }
            return false
        }
    }

    /// What every accepted connection read, kept in one place.
    final class ReceivedBox: Sendable {
        private let state = Mutex("")
        var text: String { state.withLock { $0 } }

        func handler() -> Sink { Sink(box: self) }

        func append(_ bytes: String) { state.withLock { $0 += bytes } }

        final class Sink: ChannelInboundHandler, Sendable {
            typealias InboundIn = ByteBuffer
            let box: ReceivedBox

            init(box: ReceivedBox) { self.box = box }

            func channelRead(context: ChannelHandlerContext, data: NIOAny) {
                box.append(String(buffer: unwrapInboundIn(data)))
            }
        }
    }

    static func client(on loop: any EventLoop, to port: Int) async throws -> (any Channel, FlushCounter) {
        let counter = FlushCounter()
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(counter) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return (channel, counter)
    }

    @Test func flushesWaitForTheEndOfThePassAndCoverEveryChannel() async throws {
        let server = try await Server()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let (first, firstCounter) = try await Self.client(on: loop, to: server.port)
        let (second, secondCounter) = try await Self.client(on: loop, to: server.port)
        let during = try await loop.submit {
            first.write(ByteBuffer(string: "one;"), promise: nil)
            FlushCoalescer.flush(first)
            second.write(ByteBuffer(string: "two;"), promise: nil)
            FlushCoalescer.flush(second)
            first.write(ByteBuffer(string: "three;"), promise: nil)
            FlushCoalescer.flush(first)
            return (firstCounter.flushes.withLock { $0 }, secondCounter.flushes.withLock { $0 })
        }.get()
        #expect(during == (0, 0), "nothing is flushed while the pass that asked is still running")
        // A task queued now runs after the flush the pass queued.
        let after = try await loop.submit { (firstCounter.flushes.withLock { $0 }, secondCounter.flushes.withLock { $0 }) }.get()
        #expect(after.0 >= 1 && after.1 >= 1, "every channel that asked in the pass is flushed after it")
        #expect(try await server.waitFor(["one;three;", "two;"]))
        try await first.close()
        try await second.close()
        try await server.channel.close()
    }

    @Test func aFlushAskedOffTheChannelsLoopHappensAtOnce() async throws {
        let server = try await Server()
        let (channel, counter) = try await Self.client(on: MultiThreadedEventLoopGroup.singleton.next(), to: server.port)
        channel.write(ByteBuffer(string: "from a task"), promise: nil)
        FlushCoalescer.flush(channel)
        #expect(try await server.waitFor(["from a task"]))
        #expect(counter.flushes.withLock { $0 } == 1)
        try await channel.close()
        try await server.channel.close()
    }

    @Test func aFlushAskedWhileFlushingIsNotLost() async throws {
        let server = try await Server()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let (channel, _) = try await Self.client(on: loop, to: server.port)
        try await loop.submit {
            channel.write(ByteBuffer(string: "first;")).assumeIsolated().whenSuccess {
                // Written by the pass's flush: a write and flush asked for now go in the next one.
                channel.write(ByteBuffer(string: "second;"), promise: nil)
                FlushCoalescer.flush(channel)
            }
            FlushCoalescer.flush(channel)
        }.get()
        #expect(try await server.waitFor(["first;second;"]))
        try await channel.close()
        try await server.channel.close()
    }
}
