import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import ServiceLifecycle
import Synchronization

/// Lets waiting requests sleep until a slot of their deployment may have freed: release scripts publish the
/// deployment id on ``FairShareKeys/wakeChannel``; a short poll covers lost messages. Also passes on the deployments
/// other relays' requests wait for (``FairShareKeys/contentionChannel``) as ``contention``.
public final class AdmissionWakeups: Service, Sendable {
    private struct Waiter: Sendable {
        var deployment: UUID
        var signal: AsyncStream<Void>.Continuation
    }

    private let subscriber: RedisSubscriber
    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let nextID = Atomic<UInt64>(0)
    /// Deployments someone waits for, as the notices arrive (the newest few kept if nobody reads them).
    let contention: AsyncStream<UUID>
    private let contentionNotices: AsyncStream<UUID>.Continuation

    public init(subscriber: RedisSubscriber) {
        self.subscriber = subscriber
        (contention, contentionNotices) = AsyncStream.makeStream(of: UUID.self, bufferingPolicy: .bufferingNewest(64))
    }

    /// Wakes everything waiting on `deployment` (also used by local admission).
    public func wake(_ deployment: UUID) {
        let signals = waiters.withLock { waiters in
            waiters.values.filter { $0.deployment == deployment }.map(\.signal)
        }
        signals.forEach { $0.yield() }
    }

    /// Returns on a wake-up for `deployment`, after `timeout`, or on cancellation, whichever comes first.
    public func wait(for deployment: UUID, timeout: Duration) async {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        waiters.withLock { $0[id] = Waiter(deployment: deployment, signal: signal) }
        defer { waiters.withLock { _ = $0.removeValue(forKey: id) } }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var iterator = signals.makeAsyncIterator()
                _ = await iterator.next()
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    public func run() async throws {
        // Stops on shutdown without waiting for the subscriber, which is shut down after this service.
        await cancelWhenGracefulShutdown { [self] in
            for await event in subscriber.events {
                guard case .message(let channel, let payload) = event, let deployment = UUID(text: payload) else { continue }
                if channel == FairShareKeys.contentionChannel {
                    contentionNotices.yield(deployment)
                } else {
                    wake(deployment)
                }
            }
        }
    }
}
