import AsyncHTTPClient
import FairwayCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTP1

/// One attempt of one request on one deployment.
///
/// It either answers the client (success, a client error passed through, or a started stream — after which no other
/// deployment may be tried) or reports a failure that lets the pipeline fail over. Timeouts: connect (client-wide),
/// first byte (the response head, and for streams the first event), total (the deployment's `timeout_secs`).
struct UpstreamCall: Sendable {
    enum Outcome: Sendable {
        case answered(Response)
        case failed(UpstreamFailure)
    }

    let deployment: Deployment
    let parsed: ParsedRequest
    let http: HTTPClient
    let settings: RelaySettings
    /// Whether the deployment had a failure streak, so a success must reset it.
    let failingBefore: Bool
    let pipeline: RelayPipeline

    var provider: any UpstreamProvider { deployment.provider.provider }

    func run(ticket: any AdmissionTicket, record: inout RequestRecord) async -> Outcome {
        let started = ContinuousClock.now
        let totalDeadline = started + deployment.timeout
        let firstByteDeadline = started + min(deployment.timeout, settings.firstByteTimeout)
        let upstream: UpstreamRequest
        do {
            upstream = try provider.makeRequest(endpoint: parsed.endpoint, body: parsed.body, deployment: deployment, stream: parsed.stream)
        } catch {
            await ticket.release(actualTokens: nil)
            return .answered(pipeline.finish(&record, error))
        }
        var request = HTTPClientRequest(url: upstream.url)
        request.method = .POST
        for (name, value) in upstream.headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: upstream.body))

        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .now() + .nanoseconds(max(0, (firstByteDeadline - .now).nanoseconds)))
        } catch {
            return .failed(failure(for: error))
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) && parsed.stream {
            return await StreamingAnswer(call: self, ticket: ticket).start(
                response: response, firstByteDeadline: firstByteDeadline, totalDeadline: totalDeadline, record: record
            )
        }
        let body: [UInt8]
        do {
            let limit = settings.maxResponseBytes
            let buffer = try await withDeadline(totalDeadline - .now) { try await response.body.collect(upTo: limit) }
            body = Array(buffer.readableBytesView)
        } catch {
            return .failed(failure(for: error))
        }
        if (200..<300).contains(status) {
            let translated: (body: [UInt8], usage: TokenUsage)
            do {
                translated = try provider.translateResponse(endpoint: parsed.endpoint, body: body)
            } catch {
                return .failed(UpstreamFailure(kind: .protocolError, deploymentName: deployment.modelName, detail: error.message))
            }
            record.usage = translated.usage
            record.firstTokenAt = .now
            // Settled before the answer goes out, so a client's next request already sees its quota refunded.
            await succeeded(ticket: ticket, usage: translated.usage)
            pipeline.events.emit(record.event())
            return .answered(Response(
                status: .ok,
                headers: [.contentType: "application/json", .fairwayRequestID: record.requestID.lowercaseText],
                body: .init(byteBuffer: ByteBuffer(bytes: translated.body))
            ))
        }
        if FailoverPolicy.failsOver(status: status) {
            return .failed(UpstreamFailure(
                kind: .status(status), deploymentName: deployment.modelName,
                detail: "answered \(status): \(Self.summary(of: body))",
                retryAfterSeconds: response.headers.first(name: "retry-after").flatMap { Int($0) }
            ))
        }
        // The client's own mistake: its answer, as the upstream gave it (in OpenAI's shape).
        let errorBody = provider.translateError(status: status, body: body)
        record.statusCode = status
        record.errorType = (try? JSONParser.parse(errorBody))?["error"]?["type"]?.string ?? "upstream_\(status)"
        await ticket.release(actualTokens: 0)
        pipeline.events.emit(record.event())
        return .answered(Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "application/json", .fairwayRequestID: record.requestID.lowercaseText],
            body: .init(byteBuffer: ByteBuffer(bytes: errorBody))
        ))
    }

    func succeeded(ticket: any AdmissionTicket, usage: TokenUsage) async {
        await ticket.release(actualTokens: usage.totalTokens)
        if failingBefore { await pipeline.cooldowns.recordSuccess(deployment.id) }
    }

    func failure(for error: any Error) -> UpstreamFailure {
        if error is DeadlineExceeded || (error as? HTTPClientError) == .deadlineExceeded || (error as? HTTPClientError) == .readTimeout {
            return UpstreamFailure(kind: .timeout, deploymentName: deployment.modelName, detail: "timed out")
        }
        if let relayError = error as? RelayError {
            return UpstreamFailure(kind: .protocolError, deploymentName: deployment.modelName, detail: relayError.message)
        }
        return UpstreamFailure(kind: .transport, deploymentName: deployment.modelName, detail: "could not be reached (\(error))")
    }

    static func summary(of body: [UInt8]) -> String {
        if let message = (try? JSONParser.parse(body))?["error"]?["message"]?.string { return message }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }
}
