import NIOCore
import NIOPosix

/// Flushes the channels written on an event loop together, once the jobs already queued on that loop have run, rather
/// than each as it is written.
///
/// At c=64 one pass of a loop resumes many requests. Flushed one by one, each answer's and each upstream request's
/// `writev` landed between the work of the requests around it, so the peer (the client, the upstream server) woke
/// for every one; flushed together at the end of the pass, a peer finds them all on one wake-up. The flush is a task
/// queued behind the pass's jobs (the loop runs every job and task queued before it first, and the ones they queue
/// after it), so nothing waits for a later pass. Off a loop of the process's group, or off the channel's loop, a
/// channel is flushed at once.
enum FlushCoalescer {
    private static let batches: [ObjectIdentifier: NIOLoopBoundBox<Batch>] = Dictionary(
        uniqueKeysWithValues: MultiThreadedEventLoopGroup.singleton.makeIterator().map { loop in
            (ObjectIdentifier(loop), NIOLoopBoundBox.makeBoxSendingValue(Batch(loop: loop), eventLoop: loop))
        }
    )

    /// Flushes `channel` at the end of its loop's current pass.
    static func flush(_ channel: any Channel) {
        let loop = channel.eventLoop
        guard loop.inEventLoop, let batch = batches[ObjectIdentifier(loop)] else {
            channel.flush()
            return
        }
        batch.value.add(channel)
    }

    /// One loop's channels waiting for the pass's flush; only ever touched on that loop.
    private final class Batch {
        private let loop: any EventLoop
        private var waiting: [any Channel] = []
        private var spare: [any Channel] = []

        init(loop: any EventLoop) { self.loop = loop }

        func add(_ channel: any Channel) {
            waiting.append(channel)
            guard waiting.count == 1 else { return }
            loop.assumeIsolated().execute { self.flushAll() }
        }

        private func flushAll() {
            swap(&waiting, &spare)
            for channel in spare { channel.flush() }
            spare.removeAll(keepingCapacity: true)
        }
    }
}
