import FairShare
import FairwayCore
import FairwayRedis
import Foundation
import ServiceLifecycle
import Synchronization

/// Lets waiting requests sleep until a slot of their deployment may have freed: release scripts publish the
/// deployment id on ``FairShareKeys/wakeChannel``; a short poll covers lost messages.
public final class AdmissionWakeups: Service, Sendable {
    private struct Waiter: Sendable {
        var deployment: UUID
        var signal: AsyncStream<Void>.Continuation
    }

    private let subscriber: RedisSubscriber
    private let waiters = Mutex<[UInt64: Waiter]>([:])
    private let nextID = Atomic<UInt64>(0)

    public init(subscriber: RedisSubscriber) {
        self.subscriber = subscriber
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
                if case .message(_, let payload) = event, let deployment = UUID(text: payload) {
                    wake(deployment)
                }
            }
        }
    }
}
