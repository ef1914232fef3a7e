import NIOCore
import NIOHTTP1

/// One upstream response as its connection receives it and its reader asks for it — a pure value: every event returns
/// the ``Action`` to carry out (what to hand the waiting reader, what to do with the connection), and
/// ``UpstreamExchange`` carries it out.
///
/// The reader waits for one thing at a time: the head, the next bytes (a stream), or the whole body (a collect). Bytes
/// that arrive with nobody waiting are kept; past ``highWater`` the connection stops reading until the reader catches
/// up, so a slow client never makes the relay buffer an upstream's whole answer. The connection goes back to the pool
/// only when the response ended cleanly and may be reused; every other ending closes it.
struct UpstreamResponseMachine {
    enum Demand: Equatable {
        case none
        case head
        case next
        case collect(limit: Int)
    }

    enum ReaderAction {
        case none
        case head(HTTPResponseHead)
        /// Bytes for a `next` or a `collect`; nil is the end of the body.
        case bytes(ByteBuffer?)
        case fail(UpstreamHTTPError)
    }

    enum ConnectionAction: Equatable {
        case none
        /// The response ended and the connection may carry another request.
        case release
        case close
        /// Reading was paused and the reader caught up.
        case resumeReading
    }

    struct Action {
        var reader: ReaderAction = .none
        var connection: ConnectionAction = .none
    }

    /// Buffered bytes past which a streamed body stops being read from the socket.
    let highWater: Int

    private(set) var head: HTTPResponseHead?
    private(set) var demand = Demand.none
    private var buffer: ByteBuffer?
    private var ended = false
    private var failure: UpstreamHTTPError?
    private var readerGone = false
    private var readPaused = false
    /// Whether the connection was handed back or closed: it is no longer this response's to act on.
    private var connectionSettled = false
    /// Whether any byte of a response arrived (a reused connection that failed before one may be retried).
    private(set) var receivedAnything = false

    init(highWater: Int = 256 << 10) {
        self.highWater = highWater
    }

    private var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    // MARK: The connection's events

    mutating func receivedHead(_ head: HTTPResponseHead) -> Action {
        guard self.head == nil, failure == nil else { return Action() }
        receivedAnything = true
        self.head = head
        guard demand == .head else { return Action() }
        demand = .none
        return Action(reader: .head(head))
    }

    mutating func receivedBody(_ chunk: ByteBuffer) -> Action {
        guard !ended, failure == nil, !readerGone else { return Action() }
        receivedAnything = true
        if var kept = buffer {
            var chunk = chunk
            kept.writeBuffer(&chunk)
            buffer = kept
        } else {
            buffer = chunk
        }
        switch demand {
        case .next:
            demand = .none
            return Action(reader: .bytes(takeBuffer()))
        case .collect(let limit) where bufferedBytes > limit:
            return fail(.responseTooLarge(limit: limit))
        default:
            return Action()
        }
    }

    mutating func receivedEnd(keepAlive: Bool) -> Action {
        guard !ended, failure == nil else { return Action() }
        ended = true
        var action = Action()
        if !connectionSettled {
            connectionSettled = true
            action.connection = keepAlive && !readerGone ? .release : .close
        }
        switch demand {
        case .none: break
        case .head: action.reader = .fail(.protocolViolation("ended without a response head"))
        case .next, .collect: action.reader = .bytes(takeBuffer())
        }
        demand = .none
        return action
    }

    /// The connection failed: bytes that arrived before it still reach a streaming reader, then the failure does.
    mutating func failed(_ error: UpstreamHTTPError) -> Action {
        guard !ended, failure == nil else { return Action() }
        return fail(error, keepingBuffer: true)
    }

    /// Whether the connection may read more now (false: it waits for ``next()`` to resume it).
    mutating func mayRead() -> Bool {
        guard case .collect = demand else {
            if bufferedBytes >= highWater && !ended && failure == nil {
                readPaused = true
                return false
            }
            return true
        }
        return true
    }

    // MARK: The reader's requests

    mutating func awaitHead() -> Action {
        if let head { return Action(reader: .head(head)) }
        if let failure { return Action(reader: .fail(failure)) }
        demand = .head
        return Action()
    }

    mutating func next() -> Action {
        if bufferedBytes > 0 {
            var action = Action(reader: .bytes(takeBuffer()))
            if readPaused {
                readPaused = false
                action.connection = .resumeReading
            }
            return action
        }
        if ended { return Action(reader: .bytes(nil)) }
        if let failure { return Action(reader: .fail(failure)) }
        demand = .next
        if readPaused {
            readPaused = false
            return Action(connection: .resumeReading)
        }
        return Action()
    }

    mutating func collect(upTo limit: Int) -> Action {
        if let failure {
            buffer = nil
            return Action(reader: .fail(failure))
        }
        if bufferedBytes > limit {
            var action = fail(.responseTooLarge(limit: limit))
            action.reader = .fail(.responseTooLarge(limit: limit))
            return action
        }
        if ended { return Action(reader: .bytes(takeBuffer())) }
        demand = .collect(limit: limit)
        if readPaused {
            readPaused = false
            return Action(connection: .resumeReading)
        }
        return Action()
    }

    /// The reader stopped (cancelled, or dropped its body unread): a response still arriving closes its connection.
    mutating func readerLeft(cancelled: Bool) -> Action {
        readerGone = true
        buffer = nil
        var action = Action()
        if demand != .none {
            demand = .none
            action.reader = .fail(cancelled ? .cancelled : .connectionClosed("the reader left"))
        }
        if !ended && failure == nil { failure = .cancelled }
        if !connectionSettled {
            connectionSettled = true
            action.connection = .close
        }
        return action
    }

    private mutating func fail(_ error: UpstreamHTTPError, keepingBuffer: Bool = false) -> Action {
        failure = error
        if !keepingBuffer { buffer = nil }
        var action = Action()
        if demand != .none {
            demand = .none
            action.reader = .fail(error)
        }
        if !connectionSettled {
            connectionSettled = true
            action.connection = .close
        }
        return action
    }

    private mutating func takeBuffer() -> ByteBuffer? {
        defer { buffer = nil }
        return buffer
    }
}
