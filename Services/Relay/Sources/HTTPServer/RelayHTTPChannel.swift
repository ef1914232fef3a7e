import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// A relay connection: its channel and where its requests wait for the connection's task.
struct RelayConnection: ServerChildChannelValue {
    let channel: any Channel
    let inbox: RequestInbox
    let presence: ClientPresence
}

/// The relay's HTTP/1.1 connections, served by Hummingbird's router without Hummingbird's async channel.
///
/// Hummingbird's own `HTTP1Channel` hands every request part to the connection's task through an async sequence and
/// every response part back through an async writer; on the relay's path that machinery and its task switches cost
/// more than the relay's own work. Here the event loop collects each request whole (``RequestCollector``), one
/// resumption hands it to the connection's task, the router answers it, and the answer is written to the channel
/// directly (``ChannelResponseWriter``). NIO's pipelining handler keeps a pipelined request back until the answer
/// before it is written and closes an idle connection when the server quiesces; its error handler answers a request
/// that does not parse with 400 and closes.
struct RelayHTTPChannel<Responder: HTTPResponder>: ServerChildChannel where Responder.Context == RelayRequestContext {
    let responder: Responder
    let bodyLimit: Int
    let serverName: String
    private let date = HTTPDateHeader()

    init(responder: Responder, bodyLimit: Int, serverName: String) {
        self.responder = responder
        self.bodyLimit = bodyLimit
        self.serverName = serverName
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<RelayConnection> {
        channel.eventLoop.makeCompletedFuture {
            let inbox = RequestInbox(), presence = ClientPresence()
            let pipeline = channel.pipeline.syncOperations
            // The collector paces reading itself (NIO's pipelining handler cost two epoll_ctl per request).
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: true, withOutboundHeaderValidation: false
            )
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(RequestCollector(inbox: inbox, presence: presence, bodyLimit: bodyLimit))
            return RelayConnection(channel: channel, inbox: inbox, presence: presence)
        }
    }

    func handle(value connection: RelayConnection, logger: Logger) async {
        while let inbound = await connection.inbox.next() {
            let closing = inbound.bodyTruncated || inbound.request.headers[.connection]?.lowercased() == "close"
            var response = await respond(to: inbound.request, on: connection, logger: logger)
            response.headers[.date] = date.current
            response.headers[.server] = serverName
            if closing { response.headers[.connection] = "close" }
            do {
                try await ChannelResponseWriter(channel: connection.channel).write(response)
            } catch {
                logger.trace("Could not write a response", metadata: ["error": "\(error)"])
                break
            }
            if closing { break }
        }
        connection.inbox.close()
        try? await connection.channel.close()
    }

    /// The router's answer; an error no middleware turned into one is a 500, as in Hummingbird's own server.
    private func respond(to request: Request, on connection: RelayConnection, logger: Logger) async -> Response {
        var context = RelayRequestContext(source: ApplicationRequestContextSource(channel: connection.channel, logger: logger))
        context.presence = connection.presence
        do {
            return try await responder.respond(to: request, context: context)
        } catch {
            logger.debug("Unrecognised error", metadata: ["error.type": "\(error)"])
            return Response(status: .internalServerError)
        }
    }
}

extension HTTPServerBuilder {
    /// The relay's HTTP/1.1 server (``RelayHTTPChannel``) for `responder`; the application's own responder is not
    /// used: the router's answers it would wrap are the same ones.
    static func relay<Responder: HTTPResponder>(
        responder: Responder, bodyLimit: Int, serverName: String
    ) -> HTTPServerBuilder where Responder.Context == RelayRequestContext {
        HTTPServerBuilder { _ in RelayHTTPChannel(responder: responder, bodyLimit: bodyLimit, serverName: serverName) }
    }
}
