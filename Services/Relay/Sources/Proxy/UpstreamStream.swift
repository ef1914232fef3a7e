import FairwayCore
import Hummingbird
import NIOCore
import Synchronization

/// Reads an upstream event stream and yields the payloads it translates to, in the task that asks.
///
/// Each read takes everything that arrived since the last one, so a burst of events leaves for the client in one write.
/// The body may be read from whichever task holds the stream, one at a time; the decoder and translator sit behind a
/// lock that is held only between reads.
final class UpstreamStreamReader: Sendable {
    private struct State {
        var decoder = SSEDecoder()
        var translator: any StreamTranslator
        var finished = false
    }

    let body: UpstreamResponseBody
    let progress = StreamProgress()
    private let state: Mutex<State>

    init(body: UpstreamResponseBody, translator: any StreamTranslator) {
        self.body = body
        self.state = Mutex(State(translator: translator))
    }

    /// Reads what follows the end of the answer (a chunked body's last chunk) for a moment, so a connection whose
    /// upstream ends its body right after the answer goes back to the pool instead of being closed.
    func drain() async {
        body.fail(at: .now() + .milliseconds(100), with: .bodyTimeout)
        while let bytes = try? await body.next(), bytes.readableBytes <= 4096 {}
        body.cancel()
    }

    /// Reads until the translator produced something; nil when the upstream stream ended.
    func next() async throws -> UpstreamStream.Chunk? {
        while true {
            let bytes = try await body.next()
            let chunk = try state.withLock { state throws -> UpstreamStream.Chunk? in
                guard !state.finished else { return nil }
                var out: [SSEEvent] = []
                if let bytes {
                    for event in try state.decoder.feed(bytes.readableBytesView) { out += try state.translator.translate(event) }
                } else {
                    state.finished = true
                    for event in state.decoder.finish() { out += try state.translator.translate(event) }
                }
                progress.record(state.translator)
                return UpstreamStream.Chunk(payloads: out, complete: state.translator.isComplete)
            }
            guard let chunk else { return nil }
            if !chunk.payloads.isEmpty { return chunk }
            if bytes == nil { return nil }
        }
    }
}

/// A streamed answer (DESIGN §5 step 6) whose first event has arrived: nothing was sent to the client yet, so a
/// stream that fails before this can still fail over; from the first byte sent on, an upstream failure ends the
/// stream with an error event instead.
///
/// The task that writes the answer reads the upstream itself (``UpstreamStreamReader``): no task and no hand-over
/// between reading and writing. It holds no slot and emits no event: ``relay(to:)`` reports a ``StreamEnd`` to the
/// owner, and ``abort()`` stops the reading from outside (client gone, drain, or an owner that is dropped).
struct UpstreamStream: Sendable {
    struct Chunk: Sendable {
        var payloads: [SSEEvent]
        var complete: Bool
    }

    let opener: Chunk
    let reader: UpstreamStreamReader
    /// The client's format, for the error event that ends a failed stream.
    var format: WireFormat = .openAI

    var progress: StreamProgress { reader.progress }

    func abort() { reader.body.cancel() }

    /// Reads the first event by `firstByteDeadline`; from then on the body must end by `totalDeadline`.
    static func open(
        body: UpstreamResponseBody, translator: any StreamTranslator, format: WireFormat, deploymentName: String,
        firstByteDeadline: ContinuousClock.Instant, totalDeadline: ContinuousClock.Instant
    ) async -> AttemptOutcome {
        let reader = UpstreamStreamReader(body: body, translator: translator)
        body.fail(at: Self.deadline(firstByteDeadline), with: .headTimeout)
        let opener: Chunk?
        do {
            opener = try await reader.next()
        } catch {
            let kind: UpstreamFailure.Kind
            let detail: String
            switch error as? UpstreamHTTPError {
            case .headTimeout?: (kind, detail) = (.timeout, "sent no stream event in time")
            case .cancelled?: (kind, detail) = ContinuousClock.now >= totalDeadline ? (.timeout, "timed out") : (.cancelled, "was cancelled")
            default: (kind, detail) = (.protocolError, (error as? RelayError)?.message ?? "broke off its stream")
            }
            return .failed(UpstreamFailure(kind: kind, deploymentName: deploymentName, detail: detail))
        }
        guard let opener else {
            return .failed(UpstreamFailure(kind: .protocolError, deploymentName: deploymentName, detail: "ended its stream before any event"))
        }
        body.fail(at: Self.deadline(totalDeadline), with: .bodyTimeout)
        return .streaming(UpstreamStream(opener: opener, reader: reader, format: format))
    }

    private static func deadline(_ instant: ContinuousClock.Instant) -> NIODeadline {
        .now() + .nanoseconds(max(0, (instant - .now).nanoseconds))
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
        while !clientGone && !complete && failure == nil {
            do {
                guard let chunk = try await reader.next() else {
                    failure = ("ended early", false)
                    break
                }
                complete = chunk.complete
                capture?.add(chunk.payloads)
                clientGone = await Self.write(chunk.payloads, to: &writer)
            } catch {
                failure = (Self.message(for: error), (error as? UpstreamHTTPError) == .bodyTimeout)
            }
        }
        if !complete || clientGone { reader.body.cancel() }
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
        if complete && !clientGone { await reader.drain() }
        return StreamEnd(ending: ending, reported: progress.usage, streamedCharacters: progress.characters)
    }

    /// How a broken-off stream is described in the client's error event.
    private static func message(for error: any Error) -> String {
        if let relayError = error as? RelayError { return relayError.message }
        switch error as? UpstreamHTTPError {
        case .bodyTimeout?: return "timed out"
        case .cancelled?: return "was stopped"
        default: return "failed"
        }
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
        var buffer = ByteBuffer()
        for payload in payloads { payload.write(to: &buffer) }
        return buffer
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
    }

    private let state = Mutex(State())

    func record(_ translator: any StreamTranslator) {
        let (usage, characters) = (translator.usage, translator.streamedCharacters)
        state.withLock { state in
            state.usage = usage
            state.characters = characters
        }
    }

    var usage: TokenUsage { state.withLock { $0.usage } }
    var characters: Int { state.withLock { $0.characters } }
}
