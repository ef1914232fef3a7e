import NIOCore
import NIOHTTP1
import Synchronization

/// One request on one upstream connection: its ``UpstreamResponseMachine`` behind a lock, the one reader waiting on
/// it, and the connection it acts on. The connection's handler reports to it on the event loop; the reader asks from
/// its task, wherever that runs.
final class UpstreamExchange: Sendable {
    enum Reply: Sendable {
        case head(HTTPResponseHead)
        case bytes(ByteBuffer?)
    }

    private struct State {
        var machine = UpstreamResponseMachine()
        var waiter: CheckedContinuation<Reply, any Error>?
        /// What the machine handed the reader while it was between deciding to wait and waiting.
        var pending: UpstreamResponseMachine.ReaderAction?
        /// The head's deadline, then the body's (one at a time).
        var timer: Scheduled<Void>?
    }

    private let state = Mutex(State())
    let connection: UpstreamConnection

    init(connection: UpstreamConnection) {
        self.connection = connection
    }

    /// Whether any byte of the response arrived.
    var receivedAnything: Bool { state.withLock { $0.machine.receivedAnything } }

    /// Fails the exchange with ``UpstreamHTTPError/headTimeout`` if no head arrived by `deadline`.
    func failWithoutHead(by deadline: NIODeadline) {
        let timer = connection.channel.eventLoop.scheduleTask(deadline: deadline) { [self] in perform { $0.failed(.headTimeout) } }
        let cancel = state.withLock { state -> Bool in
            guard state.machine.head == nil else { return true }
            state.timer = timer
            return false
        }
        if cancel { timer.cancel() }
    }

    /// Fails the exchange with `error` at `deadline` unless the body ended by then; replaces an earlier body deadline.
    func failBody(at deadline: NIODeadline, with error: UpstreamHTTPError) {
        let timer = connection.channel.eventLoop.scheduleTask(deadline: deadline) { [self] in perform { $0.failed(error) } }
        let previous = state.withLock { state in
            defer { state.timer = timer }
            return state.timer
        }
        previous?.cancel()
    }

    // MARK: Connection events (on the event loop)

    func receivedHead(_ head: HTTPResponseHead) {
        cancelTimer()
        perform { $0.receivedHead(head) }
    }

    func receivedBody(_ chunk: ByteBuffer) { perform { $0.receivedBody(chunk) } }

    func receivedEnd(keepAlive: Bool) {
        cancelTimer()
        perform { $0.receivedEnd(keepAlive: keepAlive) }
    }

    func failed(_ error: UpstreamHTTPError) { perform { $0.failed(error) } }

    func mayRead() -> Bool { state.withLock { $0.machine.mayRead() } }

    // MARK: The reader's requests

    func head() async throws -> HTTPResponseHead {
        guard case .head(let head) = try await ask({ $0.awaitHead() }) else {
            throw UpstreamHTTPError.protocolViolation("no response head")
        }
        return head
    }

    func next() async throws -> ByteBuffer? {
        guard case .bytes(let bytes) = try await ask({ $0.next() }) else { throw UpstreamHTTPError.protocolViolation("no body") }
        return bytes
    }

    func collect(upTo limit: Int) async throws -> ByteBuffer {
        guard case .bytes(let bytes) = try await ask({ $0.collect(upTo: limit) }) else {
            throw UpstreamHTTPError.protocolViolation("no body")
        }
        return bytes ?? ByteBuffer()
    }

    /// The reader is done with the response (it read it, or drops it unread).
    func readerLeft() {
        cancelTimer()
        perform { $0.readerLeft(cancelled: false) }
    }

    /// Stops the reader from outside its task: a read in progress fails with ``UpstreamHTTPError/cancelled`` at once.
    func cancel() {
        cancelTimer()
        perform { $0.readerLeft(cancelled: true) }
    }

    /// A deadline no longer needed (head or end arrived, the reader left) stops holding this exchange.
    private func cancelTimer() {
        let timer = state.withLock { state in
            defer { state.timer = nil }
            return state.timer
        }
        timer?.cancel()
    }

    /// Asks the machine; answers at once when it can, else waits — cancellably — for the event that answers.
    private func ask(_ request: (inout UpstreamResponseMachine) -> UpstreamResponseMachine.Action) async throws -> Reply {
        let action = state.withLock { request(&$0.machine) }
        carry(action.connection)
        if let reply = try Self.reply(for: action.reader) { return reply }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let pending = state.withLock { state -> UpstreamResponseMachine.ReaderAction? in
                    guard let pending = state.pending else {
                        state.waiter = continuation
                        return nil
                    }
                    state.pending = nil
                    return pending
                }
                if let pending { Self.resume(continuation, with: pending) }
            }
        } onCancel: {
            perform { $0.readerLeft(cancelled: true) }
        }
    }

    private func perform(_ event: (inout UpstreamResponseMachine) -> UpstreamResponseMachine.Action) {
        let (action, waiter) = state.withLock { state -> (UpstreamResponseMachine.Action, CheckedContinuation<Reply, any Error>?) in
            let action = event(&state.machine)
            if case .none = action.reader { return (action, nil) }
            guard let waiter = state.waiter else {
                state.pending = action.reader
                return (action, nil)
            }
            state.waiter = nil
            return (action, waiter)
        }
        // The connection first: a reader handed the last bytes may send its next request at once, on another thread.
        carry(action.connection)
        if let waiter { Self.resume(waiter, with: action.reader) }
    }

    private func carry(_ action: UpstreamResponseMachine.ConnectionAction) {
        switch action {
        case .none: break
        case .release: connection.release()
        case .close: connection.close()
        case .resumeReading: connection.resumeReading()
        }
    }

    private static func reply(for action: UpstreamResponseMachine.ReaderAction) throws -> Reply? {
        switch action {
        case .none: nil
        case .head(let head): .head(head)
        case .bytes(let bytes): .bytes(bytes)
        case .fail(let error): throw error
        }
    }

    private static func resume(_ continuation: CheckedContinuation<Reply, any Error>, with action: UpstreamResponseMachine.ReaderAction) {
        do {
            if let reply = try reply(for: action) { continuation.resume(returning: reply) }
        } catch {
            continuation.resume(throwing: error)
        }
    }
}
