import FairwayCore
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1

/// One attempt of one request on one deployment, reported as an ``AttemptOutcome``.
///
/// Timeouts: connect (client-wide), first byte (the response head, and for streams the first event), total (the
/// deployment's `timeout_secs`: for a stream its reader's own deadline; otherwise the caller runs the call with
/// ``RequestCancellation/run(until:stopping:_:)`` at ``totalDeadline``, and a call stopped past it reports a timeout). It
/// holds nothing that needs releasing: the caller owns the slot and the event.
struct UpstreamCall: Sendable {
    let deployment: Deployment
    let parsed: ParsedRequest
    let http: UpstreamHTTPClient
    let settings: RelaySettings
    /// `traceparent` (and friends) when tracing is on, so the provider's spans join the request's trace.
    var traceHeaders: [(String, String)] = []
    let started = ContinuousClock.now

    var totalDeadline: ContinuousClock.Instant { started + deployment.timeout }

    var provider: any UpstreamProvider { deployment.provider.provider }

    func run(stoppedBy stop: UpstreamStop) async -> AttemptOutcome {
        let firstByteDeadline = started + min(deployment.timeout, settings.firstByteTimeout)
        if let local = provider.localAnswer(parsed) { return .completed(body: local, usage: .zero) }
        let upstream: UpstreamRequest
        do {
            upstream = try provider.makeRequest(parsed, deployment: deployment)
        } catch {
            return .invalid(error)
        }
        let response: UpstreamHTTPResponse
        do {
            let remaining = TimeAmount.nanoseconds(max(0, (firstByteDeadline - .now).nanoseconds))
            response = try await http.post(upstream, extraHeaders: traceHeaders, headDeadline: .now() + remaining, stoppedBy: stop)
        } catch {
            return .failed(failure(for: error))
        }
        let status = response.status
        guard (200...599).contains(status), !(300..<400).contains(status) else {
            // Redirects are not followed (they would re-send the body and credential elsewhere); nonsense is a fault.
            return .failed(UpstreamFailure(kind: .protocolError, deploymentName: deployment.modelName, detail: "answered with status \(status)"))
        }
        if (200..<300).contains(status) && parsed.stream {
            return await UpstreamStream.open(
                body: response.body, translator: provider.makeStreamTranslator(endpoint: parsed.endpoint, deployment: deployment, clientWantsUsage: parsed.clientWantsUsage),
                format: parsed.endpoint.format, deploymentName: deployment.modelName, firstByteDeadline: firstByteDeadline, totalDeadline: totalDeadline
            )
        }
        let body: [UInt8]
        do {
            body = Array(try await response.body.collect(upTo: settings.maxResponseBytes).readableBytesView)
        } catch {
            return .failed(failure(for: error))
        }
        return answer(status: status, body: body, headers: response.headers)
    }

    private func answer(status: Int, body: [UInt8], headers: HTTPHeaders) -> AttemptOutcome {
        if (200..<300).contains(status) {
            do {
                let translated = try provider.translateResponse(endpoint: parsed.endpoint, deployment: deployment, body: body)
                return .completed(body: translated.body, usage: translated.usage)
            } catch {
                return .failed(UpstreamFailure(kind: .protocolError, deploymentName: deployment.modelName, detail: error.message))
            }
        }
        if FailoverPolicy.failsOver(status: status) {
            return .failed(UpstreamFailure(
                kind: .status(status), deploymentName: deployment.modelName,
                detail: "answered \(status): \(Self.summary(of: body))",
                retryAfterSeconds: headers.first(name: "retry-after").flatMap { Int($0) }.map { min(max($0, 1), 3600) }
            ))
        }
        // The client's own mistake: its answer, as the upstream gave it (in OpenAI's shape).
        let errorBody = provider.translateError(endpoint: parsed.endpoint, deployment: deployment, status: status, body: body)
        let reportedType = (try? JSONParser.parse(errorBody))?["error"]?["type"]?.string
        return .refused(status: status, body: errorBody, errorType: Self.label(reportedType) ?? "upstream_\(status)")
    }

    /// What an error means for the attempt. Past ``totalDeadline`` every error is the timeout: the caller's timer
    /// cancels the call there, whichever step (head or body) it was in.
    func failure(for error: any Error) -> UpstreamFailure {
        let name = deployment.modelName
        if ContinuousClock.now >= totalDeadline || [.headTimeout, .bodyTimeout].contains(error as? UpstreamHTTPError) {
            return UpstreamFailure(kind: .timeout, deploymentName: name, detail: "timed out")
        }
        if let relayError = error as? RelayError {
            return UpstreamFailure(kind: .protocolError, deploymentName: name, detail: relayError.message)
        }
        switch error as? UpstreamHTTPError {
        case .cancelled?:
            return UpstreamFailure(kind: .cancelled, deploymentName: name, detail: "was cancelled")
        case .responseTooLarge(let limit)?:
            return UpstreamFailure(kind: .protocolError, deploymentName: name, detail: "answered with more than \(limit) bytes")
        case .protocolViolation(let what)?:
            return UpstreamFailure(kind: .protocolError, deploymentName: name, detail: "broke HTTP/1.1: \(what)")
        case .unsupportedURL?:
            return UpstreamFailure(kind: .protocolError, deploymentName: name, detail: "has an api_base the relay cannot send to")
        default:
            if error is CancellationError { return UpstreamFailure(kind: .cancelled, deploymentName: name, detail: "was cancelled") }
            // The transport error names hosts and ports: logged by the pipeline, never shown to the client.
            return UpstreamFailure(kind: .transport, deploymentName: name, detail: "could not be reached", cause: "\(error)")
        }
    }

    /// An upstream's error type when it is a plain identifier fit for an event and a label; else nil.
    static func label(_ text: String?) -> String? {
        guard let text, (1...64).contains(text.utf8.count),
            text.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D })
        else { return nil }
        return text
    }

    static func summary(of body: [UInt8]) -> String {
        let text = (try? JSONParser.parse(body))?["error"]?["message"]?.string ?? String(decoding: body.prefix(300), as: UTF8.self)
        return String(text.unicodeScalars.prefix(300).map { RequestBounds.isControl($0) ? " " : Character($0) })
    }
}
