import AsyncHTTPClient
import FairwayCore
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Reads an upstream event stream and yields the OpenAI payloads it translates to.
struct UpstreamStreamReader {
    var iterator: HTTPClientResponse.Body.AsyncIterator
    var decoder = SSEDecoder()
    var translator: any StreamTranslator

    init(body: HTTPClientResponse.Body, translator: any StreamTranslator) {
        self.iterator = body.makeAsyncIterator()
        self.translator = translator
    }

    /// Reads until the translator produced something; nil when the upstream stream ended.
    mutating func nextPayloads() async throws -> [String]? {
        while true {
            guard let chunk = try await iterator.next() else {
                var out: [String] = []
                for event in decoder.finish() { out += try translator.translate(event) }
                return out.isEmpty ? nil : out
            }
            var out: [String] = []
            for event in try decoder.feed(chunk.readableBytesView) { out += try translator.translate(event) }
            if !out.isEmpty { return out }
        }
    }
}

/// A streamed answer (DESIGN §5 step 6): the first event is read before the client sees anything, so a stream that
/// fails at once can still fail over; from the first byte sent on, an upstream failure ends the stream with an error
/// event instead. The slot is released, usage recorded and the event emitted when the stream ends, however it ends.
///
/// One reader task owns the upstream body (its iterator may not cross tasks) and hands translated payloads over two
/// streams: the first chunk to the request handler, the rest to the response writer.
struct StreamingAnswer: Sendable {
    let call: UpstreamCall
    let ticket: any AdmissionTicket

    struct Chunk: Sendable {
        var payloads: [String]
        var usage: TokenUsage
        var complete: Bool
    }

    enum Item: Sendable {
        case chunk(Chunk)
        case ended(error: String?, timedOut: Bool, usage: TokenUsage)
    }

    func start(
        response: HTTPClientResponse, firstByteDeadline: ContinuousClock.Instant, totalDeadline: ContinuousClock.Instant,
        record: RequestRecord
    ) async -> UpstreamCall.Outcome {
        let translator = call.provider.makeStreamTranslator(endpoint: call.parsed.endpoint, clientWantsUsage: call.parsed.clientWantsUsage)
        let (firstItems, first) = AsyncStream.makeStream(of: Item.self)
        let (restItems, rest) = AsyncStream.makeStream(of: Item.self)
        let body = response.body
        let reader = Task {
            let usage = UsageBox()
            var delivered = false
            do {
                delivered = try await withDeadline(totalDeadline - .now) {
                    var reader = UpstreamStreamReader(body: body, translator: translator)
                    var sentFirst = false
                    while let payloads = try await reader.nextPayloads() {
                        let chunk = Chunk(payloads: payloads, usage: reader.translator.usage, complete: reader.translator.isComplete)
                        usage.value = chunk.usage
                        if sentFirst {
                            rest.yield(.chunk(chunk))
                        } else {
                            first.yield(.chunk(chunk))
                            first.finish()
                            sentFirst = true
                        }
                        if chunk.complete { break }
                    }
                    return sentFirst
                }
                let ending = Item.ended(error: delivered ? nil : "ended its stream before any event", timedOut: false, usage: usage.value)
                (delivered ? rest : first).yield(ending)
            } catch {
                let timedOut = error is DeadlineExceeded
                let message = (error as? RelayError)?.message ?? (timedOut ? "timed out" : "\(error)")
                first.yield(.ended(error: message, timedOut: timedOut, usage: usage.value))
                rest.yield(.ended(error: message, timedOut: timedOut, usage: usage.value))
            }
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
            return .failed(UpstreamFailure(kind: .timeout, deploymentName: call.deployment.modelName, detail: "sent no stream event in time"))
        }
        guard case .chunk(let opener) = opening else {
            reader.cancel()
            if case .ended(let error, let timedOut, _) = opening {
                return .failed(UpstreamFailure(
                    kind: timedOut ? .timeout : .protocolError, deploymentName: call.deployment.modelName,
                    detail: error ?? "ended its stream before any event"
                ))
            }
            return .failed(UpstreamFailure(kind: .protocolError, deploymentName: call.deployment.modelName, detail: "ended its stream before any event"))
        }
        var record = record
        record.firstTokenAt = .now
        let started = record
        return .answered(Response(
            status: .ok,
            headers: [
                .contentType: "text/event-stream; charset=utf-8",
                .cacheControl: "no-cache",
                .fairwayRequestID: record.requestID.lowercaseText,
            ],
            body: ResponseBody { writer in
                await self.relay(opener: opener, rest: restItems, reader: reader, record: started, writer: &writer)
            }
        ))
    }

    private func relay(
        opener: Chunk, rest: AsyncStream<Item>, reader: Task<Void, Never>, record: RequestRecord, writer: inout any ResponseBodyWriter
    ) async {
        var record = record
        var clientGone = false
        var usage = opener.usage
        var complete = opener.complete
        var failure: (message: String, timedOut: Bool)?
        do {
            try await writer.write(Self.encode(opener.payloads))
        } catch {
            clientGone = true
        }
        if !clientGone && !complete {
            for await item in rest {
                switch item {
                case .chunk(let chunk):
                    usage = chunk.usage
                    complete = chunk.complete
                    do {
                        try await writer.write(Self.encode(chunk.payloads))
                    } catch {
                        clientGone = true
                    }
                case .ended(let error, let timedOut, let finalUsage):
                    usage = finalUsage
                    if let error, !complete { failure = (error, timedOut) }
                }
                if clientGone || complete || failure != nil { break }
            }
            if !complete && failure == nil && !clientGone { failure = ("ended early", false) }
        }
        reader.cancel()
        record.usage = usage
        if clientGone {
            record.statusCode = 499
            record.errorType = "client_disconnected"
        } else if let failure {
            let error = failure.timedOut
                ? RelayError(status: .gatewayTimeout, type: "upstream_error", message: "The upstream did not finish within its timeout.", code: "upstream_timeout")
                : RelayError(status: .badGateway, type: "upstream_error", message: "The upstream stream failed: \(failure.message).", code: "upstream_stream_error")
            record.fail(error)
            try? await writer.write(Self.encode([error.json.text]))
        }
        try? await writer.finish(nil)
        if complete {
            await call.succeeded(ticket: ticket, usage: usage)
        } else {
            await ticket.release(actualTokens: usage.totalTokens)
            if !clientGone { await call.pipeline.cooldowns.recordFailure(call.deployment.id, kind: .failure) }
        }
        call.pipeline.events.emit(record.event())
    }

    static func encode(_ payloads: [String]) -> ByteBuffer {
        var text = ""
        for payload in payloads { text += "data: \(payload)\n\n" }
        return ByteBuffer(string: text)
    }
}

/// The latest usage seen by the reader task, readable after its deadline cancelled the read.
final class UsageBox: Sendable {
    private let storage = Mutex(TokenUsage.zero)
    var value: TokenUsage {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
