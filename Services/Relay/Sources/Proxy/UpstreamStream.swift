import FairwayCore
import Hummingbird
import NIOCore
import Synchronization

/// Reads an upstream event stream and yields the OpenAI payloads it translates to.
///
/// Each read takes everything that arrived since the last one, so a burst of events leaves for the client in one write.
struct UpstreamStreamReader {
    let body: UpstreamResponseBody
    var decoder = SSEDecoder()
    var translator: any StreamTranslator
    let progress: StreamProgress

    init(body: UpstreamResponseBody, translator: any StreamTranslator, progress: StreamProgress) {
        self.body = body
        self.translator = translator
        self.progress = progress
    }

    /// Reads until the translator produced something; nil when the upstream stream ended.
    mutating func nextPayloads() async throws -> [SSEEvent]? {
        while true {
            guard let chunk = try await body.next() else {
                var out: [SSEEvent] = []
                for event in decoder.finish() { out += try translator.translate(event) }
                progress.record(translator)
                return out.isEmpty ? nil : out
            }
            var out: [SSEEvent] = []
            for event in try decoder.feed(chunk.readableBytesView) { out += try translator.translate(event) }
            progress.record(translator)
            if !out.isEmpty { return out }
        }
    }
}

/// A streamed answer (DESIGN §5 step 6) whose first event has arrived: nothing was sent to the client yet, so a
/// stream that fails before this can still fail over; from the first byte sent on, an upstream failure ends the
/// stream with an error event instead.
///
/// One reader task owns the upstream body (its iterator may not cross tasks) and hands translated payloads over a
/// stream to the response writer. It holds no slot and emits no event: ``relay(to:)`` reports a ``StreamEnd`` to the
/// owner, and ``abort()`` stops the reader (client gone, drain, or an owner that is dropped).
struct UpstreamStream: Sendable {
    struct Chunk: Sendable {
        var payloads: [SSEEvent]
        var complete: Bool
    }

    enum Item: Sendable {
        case chunk(Chunk)
        case ended(error: String?, timedOut: Bool)
    }

    let opener: Chunk
    let rest: AsyncStream<Item>
    let reader: Task<Void, Never>
    let progress: StreamProgress
    /// The client's format, for the error event that ends a failed stream.
    var format: WireFormat = .openAI

    func abort() { reader.cancel() }

    /// Starts the reader and waits for the first event until `firstByteDeadline`.
    static func open(
        body: UpstreamResponseBody, translator: any StreamTranslator, format: WireFormat, deploymentName: String,
        firstByteDeadline: ContinuousClock.Instant, totalDeadline: ContinuousClock.Instant
    ) async -> AttemptOutcome {
        let (firstItems, first) = AsyncStream.makeStream(of: Item.self)
        let (restItems, rest) = AsyncStream.makeStream(of: Item.self)
        let progress = StreamProgress()
        let reader = Task {
            var ending = Item.ended(error: nil, timedOut: false)
            var sentFirst = false
            do {
                try await withDeadline(totalDeadline - .now) {
                    var reader = UpstreamStreamReader(body: body, translator: translator, progress: progress)
                    var opened = false
                    while let payloads = try await reader.nextPayloads() {
                        let chunk = Chunk(payloads: payloads, complete: reader.translator.isComplete)
                        if opened {
                            rest.yield(.chunk(chunk))
                        } else {
                            progress.markOpened()
                            first.yield(.chunk(chunk))
                            first.finish()
                            opened = true
                        }
                        if chunk.complete { break }
                    }
                }
                sentFirst = progress.opened
                if !sentFirst { ending = .ended(error: "ended its stream before any event", timedOut: false) }
            } catch {
                sentFirst = progress.opened
                let timedOut = error is DeadlineExceeded
                let message = (error as? RelayError)?.message ?? (timedOut ? "timed out" : Task.isCancelled ? "was stopped" : "failed")
                ending = .ended(error: message, timedOut: timedOut)
            }
            (sentFirst ? rest : first).yield(ending)
            first.finish()
            rest.finish()
        }
        let opening: Item?
        do {
            opening = try await withDeadline(firstByteDeadline - .now) {
                for await item in firstItems { return item }
                return nil
            }
        } catch {
            reader.cancel()
            let cancelled = error is CancellationError || Task.isCancelled
            return .failed(UpstreamFailure(
                kind: cancelled ? .cancelled : .timeout, deploymentName: deploymentName, detail: cancelled ? "was cancelled" : "sent no stream event in time"
            ))
        }
        guard case .chunk(let opener) = opening else {
            reader.cancel()
            var kind = UpstreamFailure.Kind.protocolError
            var detail = "ended its stream before any event"
            if case .ended(let error, let timedOut)? = opening {
                kind = timedOut ? .timeout : Task.isCancelled ? .cancelled : .protocolError
                detail = error ?? detail
            }
            return .failed(UpstreamFailure(kind: kind, deploymentName: deploymentName, detail: detail))
        }
        return .streaming(UpstreamStream(opener: opener, rest: restItems, reader: reader, progress: progress, format: format))
    }

    /// Writes the stream to the client until it completes, fails or the client leaves; says which, once.
    /// - Parameter interruption: why the relay itself stopped the stream (a drain), for the client's error event.
    /// - Parameter capture: sees every payload the client is sent (to cache the answer once complete).
    func relay(
        to writer: inout any ResponseBodyWriter, interruption: @Sendable () -> RelayError? = { nil }, capture: StreamCapture? = nil
    ) async -> StreamEnd {
        var complete = opener.complete
        capture?.add(opener.payloads)
        var clientGone = await Self.write(opener.payloads, to: &writer)
        var failure: (message: String, timedOut: Bool)?
        if !clientGone && !complete {
            for await item in rest {
                switch item {
                case .chunk(let chunk):
                    complete = chunk.complete
                    capture?.add(chunk.payloads)
                    clientGone = await Self.write(chunk.payloads, to: &writer)
                case .ended(let error, let timedOut):
                    if !complete { failure = (error ?? "ended early", timedOut) }
                }
                if clientGone || complete || failure != nil { break }
            }
            if !complete && failure == nil && !clientGone { failure = ("ended early", false) }
        }
        reader.cancel()
        var ending = StreamEnd.Ending.completed
        if clientGone {
            ending = .clientLeft
        } else if let failure {
            let error = interruption() ?? (failure.timedOut
                ? RelayError(status: .gatewayTimeout, type: "upstream_error", message: "The upstream did not finish within its timeout.", code: "upstream_timeout")
                : RelayError(status: .badGateway, type: "upstream_error", message: "The upstream stream \(failure.message).", code: "upstream_stream_error"))
            ending = .failed(error)
            let event = SSEEvent(event: error.streamEventName(in: format), data: error.json(in: format).text)
            _ = await Self.write([event], to: &writer)
        }
        try? await writer.finish(nil)
        return StreamEnd(ending: ending, reported: progress.usage, streamedCharacters: progress.characters)
    }

    /// Writes payloads as SSE; true when the client has gone.
    private static func write(_ payloads: [SSEEvent], to writer: inout any ResponseBodyWriter) async -> Bool {
        do {
            try await writer.write(encode(payloads))
            return false
        } catch {
            return true
        }
    }

    static func encode(_ payloads: [SSEEvent]) -> ByteBuffer {
        var text = ""
        for payload in payloads { text += SSEEvent.encode(data: payload.data, event: payload.event) }
        return ByteBuffer(string: text)
    }
}

/// A stream's answer being assembled for the cache while it is relayed.
final class StreamCapture: Sendable {
    private let assembler: Mutex<StreamAssembler>

    init(_ assembler: StreamAssembler) {
        self.assembler = Mutex(assembler)
    }

    func add(_ payloads: [SSEEvent]) { assembler.withLock { $0.add(payloads) } }

    func answer(usage: TokenUsage) -> [UInt8]? { assembler.withLock { $0.answer(usage: usage) } }
}

/// What the reader task has seen so far, readable after the reader was stopped.
final class StreamProgress: Sendable {
    private struct State {
        var usage = TokenUsage.zero
        var characters = 0
        var opened = false
    }

    private let state = Mutex(State())

    func record(_ translator: any StreamTranslator) {
        let (usage, characters) = (translator.usage, translator.streamedCharacters)
        state.withLock { state in
            state.usage = usage
            state.characters = characters
        }
    }

    func markOpened() { state.withLock { $0.opened = true } }

    var usage: TokenUsage { state.withLock { $0.usage } }
    var characters: Int { state.withLock { $0.characters } }
    var opened: Bool { state.withLock { $0.opened } }
}
