#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import Synchronization

/// Swift concurrency's global executor, run on NIO's event loops (``ProcessBootstrap/runTasksOnEventLoops()``).
///
/// NIO's own take-over (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`)
/// runs each job *isolated to the loop's serial executor*. Every nonisolated async function must then leave that
/// executor for the generic one before it goes on, and the runtime can only do that by enqueueing the task again: a
/// second trip through the loop for most resumptions (a profile of the relay had these re-enqueues at 9.6 % of its
/// CPU). Here a job runs on the loop's thread *on the generic executor*, as the default global executor runs its jobs,
/// so the code it resumes goes straight on. Jobs stay on the loop that enqueues them (a socket read resumes its task
/// on the thread that read it); from any other thread they go round the loops.
enum EventLoopGlobalExecutor {
    private static let installed = Atomic(false)

    typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// The runtime's generic executor: the reference with no identity (what `swift_job_run` is given by the default
    /// global executor). Built from its bytes, as the standard library has no public spelling for it.
    private static let generic: UnownedSerialExecutor = unsafeBitCast((UInt(0), UInt(0)), to: UnownedSerialExecutor.self)

    /// Installs the hook once; false when the runtime has no hook to set (the default global executor stays), the
    /// executor reference is not the two words this expects, or it was installed already.
    static func install() -> Bool {
        guard MemoryLayout<UnownedSerialExecutor>.size == 2 * MemoryLayout<UInt>.size,
              installed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged,
              let symbol = dlsym(dlopen(nil, RTLD_NOW), "swift_task_enqueueGlobal_hook")
        else { return false }
        _ = loops
        let hook = symbol.assumingMemoryBound(to: UnsafeRawPointer?.self)
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { storage -> Bool in
            guard let slot = storage.baseAddress else { return false }
            slot.initialize(to: { job, _ in EventLoopGlobalExecutor.enqueue(job) })
            // The hook's storage holds the thin function's pointer itself: copy those bytes into it.
            hook.pointee = UnsafeRawPointer(slot).load(as: UnsafeRawPointer?.self)
            return true
        }
    }

    /// The singleton group's loops: a job stays on the current loop only if it is one of them (a loop of some other
    /// group may be shut down while its jobs wait, and they would be lost).
    private static let loops: Set<ObjectIdentifier> = Set(MultiThreadedEventLoopGroup.singleton.makeIterator().map { ObjectIdentifier($0) })

    static func enqueue(_ job: UnownedJob) {
        let loop: any EventLoop
        if let current = MultiThreadedEventLoopGroup.currentEventLoop, loops.contains(ObjectIdentifier(current)) {
            loop = current
        } else {
            loop = MultiThreadedEventLoopGroup.singleton.next()
        }
        loop.execute { job.runSynchronously(on: generic) }
    }
}
