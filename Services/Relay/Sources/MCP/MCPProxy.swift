import AsyncHTTPClient
import FairwayCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// `/mcp/{server}` (DESIGN §8): MCP Streamable HTTP — POST, GET event streams, DELETE — passed to the registered
/// server after key auth, with the server's credential in place of the client's key.
///
/// The target comes from the raw request path alone, parsed once (``MCPPath``); no header can change it. Only the
/// headers MCP needs cross in either direction. Answers stream through as they arrive, filtered only where the server
/// has a tool allow-list. Each call emits one request-log event (`endpoint` = `mcp`, no tokens).
struct MCPProxy: Sendable {
    let pipeline: RelayPipeline
    /// Longest wait for a server's response head; event streams then run as long as both sides keep them open.
    var responseHeadTimeout: Duration = .seconds(300)

    /// Client headers a server receives.
    static let forwardedRequestHeaders: [HTTPField.Name] = [
        .contentType, .accept, .mcpSessionID, .mcpProtocolVersion, .lastEventID,
    ]
    /// Server headers a client receives.
    static let forwardedResponseHeaders: [HTTPField.Name] = [
        .contentType, .cacheControl, .mcpSessionID, .mcpProtocolVersion, .retryAfter, .wwwAuthenticate,
    ]

    func handle(_ request: Request, cancellation: RequestCancellation) async -> Response {
        let key: AuthenticatedKey
        switch await pipeline.authenticate(request) {
        case .success(let authenticated): key = authenticated
        case .failure(let error): return error.response
        }
        var call = MCPCall(key: key, relayID: pipeline.settings.relayID)
        guard let name = MCPPath.serverName(rawPath: request.uri.path) else {
            return call.finish(.mcpServerNotFound, events: pipeline.events)
        }
        call.server = name
        guard (request.uri.query ?? "").isEmpty else {
            return call.finish(.invalidRequest("An MCP endpoint takes no query string.", code: "invalid_mcp_request"), events: pipeline.events)
        }
        var server = pipeline.cache.snapshot.mcpServersByName[name]
        if server == nil { server = await pipeline.cache.current().mcpServersByName[name] }
        guard let server, server.enabled else { return call.finish(.mcpServerNotFound, events: pipeline.events) }
        guard server.admits(key) else {
            return call.finish(RelayError(
                status: .forbidden, type: "permission_denied", message: "This API key may not use the MCP server '\(name)'.",
                code: "mcp_server_not_allowed"
            ), events: pipeline.events)
        }
        let policy = server.allowedTools.map(MCPToolPolicy.init(allowed:))
        var body: [UInt8] = []
        if request.method == .post {
            var request = request
            guard let collected = try? await request.collectBody(upTo: pipeline.settings.maxBodyBytes) else {
                return call.finish(.bodyTooLarge(limit: pipeline.settings.maxBodyBytes), events: pipeline.events)
            }
            body = Array(collected.readableBytesView)
            if let policy, let refusal = policy.refusal(of: body) {
                call.errorType = "mcp_tool_not_allowed"
                pipeline.events.emit(call.event(status: 200))
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: refusal)))
            }
        }
        // Tracked like every request, so a drain's deadline also ends long event streams.
        pipeline.inFlight.track(cancellation)
        return await forward(request, body: body, to: server, policy: policy, call: call, cancellation: cancellation)
    }

    private func forward(
        _ request: Request, body: [UInt8], to server: MCPServer, policy: MCPToolPolicy?, call: MCPCall, cancellation: RequestCancellation
    ) async -> Response {
        var upstream = HTTPClientRequest(url: server.baseURL)
        upstream.method = HTTPMethod(rawValue: request.method.rawValue)
        for name in Self.forwardedRequestHeaders {
            for value in request.headers[values: name] { upstream.headers.add(name: name.canonicalName, value: value) }
        }
        if let credential = server.credential { upstream.headers.replaceOrAdd(name: credential.name.canonicalName, value: credential.value) }
        if !body.isEmpty { upstream.body = .bytes(ByteBuffer(bytes: body)) }
        let (http, timeout, logger, prepared) = (pipeline.http, responseHeadTimeout, pipeline.logger, upstream)
        let outcome: Result<HTTPClientResponse, any Error> = await cancellation.run {
            do {
                return .success(try await http.execute(prepared, deadline: .now() + .nanoseconds(timeout.nanoseconds)))
            } catch {
                return .failure(error)
            }
        }
        let response: HTTPClientResponse
        switch outcome {
        case .success(let answer): response = answer
        case .failure(let error):
            logger.warning("MCP server unreachable", metadata: ["server": "\(server.name)", "cause": "\(error)"])
            var call = call
            pipeline.inFlight.finished(cancellation)
            let failure = cancellation.reason.map(RelayPipeline.stopped) ?? RelayError(
                status: .badGateway, type: "upstream_error", message: "The MCP server '\(server.name)' could not be reached.", code: "mcp_server_unreachable"
            )
            return call.finish(failure, events: pipeline.events)
        }
        return relay(response, policy: policy, call: call, cancellation: cancellation)
    }

    /// The server's answer, streamed through (filtered when the server has a tool allow-list); the event leaves when
    /// the body ends, however it ends.
    private func relay(_ response: HTTPClientResponse, policy: MCPToolPolicy?, call: MCPCall, cancellation: RequestCancellation) -> Response {
        var headers = HTTPFields()
        for name in Self.forwardedResponseHeaders {
            for value in response.headers[name.canonicalName] { headers.append(HTTPField(name: name, value: value)) }
        }
        let status = Int(response.status.code)
        let isJSON = response.headers.first(name: "content-type")?.lowercased().hasPrefix("application/json") == true
        let (events, limit, inFlight) = (pipeline.events, pipeline.settings.maxResponseBytes, pipeline.inFlight)
        // A reader task owns the server's body, so a client that leaves (or a drain) stops it even while the server
        // is silent; the writer below hands its chunks on.
        let (chunks, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        let failed = Atomic<Bool>(false)
        let reader = Task {
            do {
                for try await chunk in response.body { continuation.yield(chunk) }
            } catch {
                failed.store(true, ordering: .relaxed)
            }
            continuation.finish()
        }
        let stop = cancellation.onFire { reader.cancel() }
        let owner = MCPBodyOwner(reader: reader, call: call, status: status, events: events) { inFlight.finished(cancellation) }
        return Response(status: .init(code: status), headers: headers, body: ResponseBody { writer in
            guard var call = owner.take() else { return try await writer.finish(nil) }
            defer {
                reader.cancel()
                cancellation.remove(stop)
            }
            do {
                if let policy, isJSON {
                    var whole = ByteBuffer()
                    for await chunk in chunks {
                        guard whole.readableBytes + chunk.readableBytes <= limit else { throw MCPAnswerTooLarge() }
                        whole.writeImmutableBuffer(chunk)
                    }
                    let text = String(buffer: whole)
                    try await writer.write(policy.filtered(text).map { ByteBuffer(string: $0) } ?? whole)
                } else if let policy {
                    var filter = MCPEventFilter(policy: policy)
                    for await chunk in chunks {
                        let out = filter.feed(chunk.readableBytesView)
                        if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                    }
                    let rest = filter.finish()
                    if !rest.isEmpty { try await writer.write(ByteBuffer(bytes: rest)) }
                } else {
                    for await chunk in chunks { try await writer.write(chunk) }
                }
                try await writer.finish(nil)
                if failed.load(ordering: .relaxed) { call.errorType = "mcp_stream_interrupted" }
            } catch {
                call.errorType = "client_disconnected"
            }
            if let reason = cancellation.reason { call.errorType = reason == .draining ? "relay_draining" : "client_disconnected" }
            events.emit(call.event(status: status))
            inFlight.finished(cancellation)
        })
    }
}

struct MCPAnswerTooLarge: Error {}

/// Owns a relayed answer until its body runs; if it never does (the response head could not be written), dropping it
/// stops the reader and emits the call's event, so no answer goes unlogged or keeps a server connection open.
final class MCPBodyOwner: Sendable {
    private let reader: Task<Void, Never>
    private let call: Mutex<MCPCall?>
    private let status: Int
    private let events: any RequestLogSink
    private let finished: @Sendable () -> Void

    init(reader: Task<Void, Never>, call: MCPCall, status: Int, events: any RequestLogSink, finished: @escaping @Sendable () -> Void) {
        self.reader = reader
        self.call = Mutex(call)
        self.status = status
        self.events = events
        self.finished = finished
    }

    /// The call, for the body that now owns its event (nil if a body already took it).
    func take() -> MCPCall? {
        call.withLock { $0.take() }
    }

    deinit {
        guard var call = call.withLock({ $0.take() }) else { return }
        reader.cancel()
        call.errorType = "client_disconnected"
        events.emit(call.event(status: status))
        finished()
    }
}

/// What one MCP call's event says.
struct MCPCall: Sendable {
    let requestID = UUID.version7()
    let startedAt = UnixClock.microseconds()
    let startInstant = ContinuousClock.now
    let key: AuthenticatedKey
    let relayID: String
    var server = "unknown"
    var errorType: String?

    init(key: AuthenticatedKey, relayID: String) {
        self.key = key
        self.relayID = relayID
    }

    /// Ends a call the relay answered itself.
    mutating func finish(_ error: RelayError, events: any RequestLogSink) -> Response {
        errorType = error.code ?? error.type
        events.emit(event(status: Int(error.status.code)))
        var response = error.response
        response.headers[.fairwayRequestID] = requestID.lowercaseText
        return response
    }

    func event(status: Int) -> RequestLogEvent {
        RequestLogEvent(
            requestID: requestID, startedAt: startedAt, finishedAt: max(startedAt, UnixClock.microseconds()),
            tenantID: key.tenant.id, apiKeyID: key.key.id, modelName: server, endpoint: "mcp", stream: false,
            statusCode: (100...599).contains(status) ? status : 502, errorType: errorType,
            latencyMS: RequestRecord.milliseconds(ContinuousClock.now - startInstant), relayID: relayID
        )
    }
}

extension RelayError {
    static let mcpServerNotFound = RelayError(
        status: .notFound, type: "invalid_request_error", message: "No such MCP server.", code: "mcp_server_not_found"
    )
}

extension HTTPField.Name {
    static let mcpSessionID = HTTPField.Name("mcp-session-id")!
    static let mcpProtocolVersion = HTTPField.Name("mcp-protocol-version")!
    static let lastEventID = HTTPField.Name("last-event-id")!
}
