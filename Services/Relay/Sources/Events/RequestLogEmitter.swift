import FairwayCore
import FairwayRedis
import Logging
import Metrics
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Sends one request-log event per request to `fairway:requests`, off the request path (DESIGN §6).
///
/// `emit` only appends to memory. A background loop pipelines XADDs in batches. While Redis is unreachable events
/// stay in memory up to `bufferLimit`; past that they go to the ``EventSpillFile``, and once spilling started every new
/// event goes there too until the file is replayed, so delivery stays in order. Nothing is dropped silently: an event
/// that could not even be spilled is counted in `fairway_request_events_lost_total`, logged, and turns readiness red.
public final class RequestLogEmitter: Service, RequestLogSink {
    private struct State: Sendable {
        var memory: [RequestLogEvent] = []
        var spill: EventSpillFile
        var spilling = false
        /// False once an event could not be kept anywhere (until restart: the operator must look).
        var nothingLost = true
        /// Whether the spill file can be written now (checked at start and at every spill).
        var spillWritable = true
    }

    private let redis: RedisClient
    private let state: Mutex<State>
    private let wake: AsyncStream<Void>.Continuation
    private let wakeups: AsyncStream<Void>
    public let bufferLimit: Int
    public let batchSize: Int
    public let streamMaxLength: Int?
    /// How long a wake-up waits for more events before sending (zero: send at once).
    public let linger: Duration
    private let logger: Logger
    private let sent = Counter(label: "fairway_request_events_sent_total")
    private let spilled = Counter(label: "fairway_request_events_spilled_total")
    private let lost = Counter(label: "fairway_request_events_lost_total")
    private let buffered = Gauge(label: "fairway_request_events_buffered")

    public init(redis: RedisClient, spillPath: String, bufferLimit: Int = 50_000, batchSize: Int = 500, streamMaxLength: Int? = nil, linger: Duration = .zero, logger: Logger) {
        self.redis = redis
        self.linger = linger
        self.bufferLimit = bufferLimit
        self.batchSize = batchSize
        self.streamMaxLength = streamMaxLength
        self.logger = logger
        var spill = EventSpillFile(path: spillPath)
        let leftover = spill.pendingBytes > 0
        if !leftover { spill.reset() }
        let writable = spill.isWritable()
        if !writable { logger.error("The event spill file cannot be written: readiness is red", metadata: ["path": "\(spillPath)"]) }
        self.state = Mutex(State(spill: spill, spilling: leftover, spillWritable: writable))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        if leftover { logger.info("Replaying request-log events spilled by an earlier run", metadata: ["path": "\(spillPath)"]) }
    }

    /// Nil while events are safe; else why not (an event was lost, or the spill file cannot be written), for readiness.
    public var health: String? {
        state.withLock { state in
            if !state.nothingLost { return "request-log events were lost; see logs" }
            if !state.spillWritable { return "the event spill file cannot be written" }
            return nil
        }
    }

    public var isHealthy: Bool { health == nil }

    private enum Kept {
        case inMemory
        case spilled
        case lost(EventSpillFile.WriteFailed)
    }

    public func emit(_ event: RequestLogEvent) {
        let kept = state.withLock { state -> Kept in
            if !state.spilling && state.memory.count < bufferLimit {
                state.memory.append(event)
                return .inMemory
            }
            state.spilling = true
            do throws(EventSpillFile.WriteFailed) {
                try state.spill.append([event])
                state.spillWritable = true
                return .spilled
            } catch {
                state.nothingLost = false
                state.spillWritable = false
                return .lost(error)
            }
        }
        switch kept {
        case .inMemory:
            break
        case .spilled:
            spilled.increment()
        case .lost(let failure):
            lost.increment()
            logger.error("Request-log event lost: Redis unreachable and the spill file failed", metadata: ["error": "\(failure)"])
        }
        wake.yield()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await deliverLoop()
        } onGracefulShutdown: {
            self.wake.finish()
        }
        await flushAtShutdown()
    }

    private func deliverLoop() async {
        var failures = 0
        var iterator = wakeups.makeAsyncIterator()
        while true {
            let delivered = await deliverAvailable()
            if delivered {
                failures = 0
                guard await iterator.next() != nil else { return }
                await waitForMore()
            } else {
                syncSpill()
                failures += 1
                // Wait out the backoff, but stop promptly at shutdown.
                let delay = Backoff(initial: .milliseconds(100), maximum: .seconds(2)).delay(attempt: failures)
                if (try? await Task.sleep(for: delay)) == nil { return }
                if Task.isShuttingDownGracefully { return }
            }
        }
    }

    /// Lingers on the current loop's timer while the batch is not full, so events that arrive one at a time share a
    /// write and a reply. A loop timer, not `Task.sleep`: that one wakes a Dispatch thread, which wakes a loop again.
    private func waitForMore() async {
        guard linger > .zero, state.withLock({ $0.memory.count < batchSize }) else { return }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        try? await loop.scheduleTask(in: .nanoseconds(linger.nanoseconds)) {}.futureResult.get()
    }

    /// Sends everything buffered (memory first, then the spill file); false when Redis failed.
    private func deliverAvailable() async -> Bool {
        while true {
            let batch = state.withLock { Array($0.memory.prefix(batchSize)) }
            buffered.record(state.withLock { $0.memory.count })
            if !batch.isEmpty {
                guard await send(batch) else { return false }
                state.withLock { $0.memory.removeFirst(batch.count) }
                continue
            }
            let (events, endOffset, undecodable, spilling) = state.withLock { state -> ([RequestLogEvent], UInt64, Int, Bool) in
                guard state.spilling else { return ([], 0, 0, false) }
                let read = state.spill.read(limit: batchSize)
                return (read.events, read.endOffset, read.undecodable, true)
            }
            guard spilling else { return true }
            if undecodable > 0 {
                lost.increment(by: Int64(undecodable))
                logger.error("Undecodable lines in the event spill file were skipped", metadata: ["count": "\(undecodable)"])
            }
            if !events.isEmpty {
                guard await send(events) else { return false }
            }
            let finished = state.withLock { state -> Bool in
                state.spill.commit(endOffset)
                guard state.spill.pendingBytes == 0 else { return false }
                state.spill.reset()
                state.spilling = false
                return true
            }
            if finished {
                logger.info("Spilled request-log events replayed")
                return true
            }
        }
    }

    private func send(_ events: [RequestLogEvent]) async -> Bool {
        let commands = events.map { event in
            RedisClient.xaddCommand(RequestLogStream.key, fields: event.fields, approximateMaxLength: streamMaxLength)
        }
        do {
            let replies = try await redis.pipeline(commands, timeout: .seconds(5))
            if let failure = replies.first(where: { if case .error = $0 { true } else { false } }) {
                logger.error("Redis refused a request-log event", metadata: ["reply": "\(failure)"])
                return false
            }
            sent.increment(by: Int64(events.count))
            return true
        } catch {
            logger.warning("Request-log events not delivered yet; keeping them", metadata: ["error": "\(error)", "events": "\(events.count)"])
            return false
        }
    }

    /// Fsyncs spilled events (appends sync every few events; this covers the rest while Redis stays away).
    private func syncSpill() {
        let failure = state.withLock { state -> EventSpillFile.WriteFailed? in
            do throws(EventSpillFile.WriteFailed) {
                try state.spill.sync()
                return nil
            } catch {
                state.spillWritable = false
                return error
            }
        }
        if let failure { logger.error("Syncing the event spill file failed", metadata: ["error": "\(failure)"]) }
    }

    /// At shutdown: one last delivery attempt, then whatever is still in memory goes to the front of the spill file so
    /// the next start replays it.
    private func flushAtShutdown() async {
        if await deliverAvailable() { return }
        let failure = state.withLock { state -> EventSpillFile.WriteFailed? in
            guard !state.memory.isEmpty else { return nil }
            do throws(EventSpillFile.WriteFailed) {
                try state.spill.prepend(state.memory)
                state.memory.removeAll()
                state.spilling = true
                return nil
            } catch {
                return error
            }
        }
        if let failure {
            let count = state.withLock { $0.memory.count }
            lost.increment(by: Int64(count))
            logger.error("Request-log events lost at shutdown", metadata: ["error": "\(failure)", "events": "\(count)"])
        } else {
            syncSpill()
            logger.info("Undelivered request-log events kept in the spill file for the next start")
        }
    }
}
