import FairwayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The relay's client for model upstreams: HTTP/1.1 over pooled NIO channels, written for the request path's one
/// job — send a POST, hand back the head, then the body whole or as it arrives — with none of a general client's
/// machinery per request (`docs/decisions.md`, "The relay's hot path"). A `Service`, so idle connections are
/// swept while it runs and closed after in-flight requests drained.
public final class UpstreamHTTPClient: Service, Sendable {
    let pool: UpstreamConnectionPool
    let idleTimeout: Duration
    private let group: MultiThreadedEventLoopGroup

    /// - Parameter extraTrustRoots: PEM files of certificate authorities https upstreams may also be signed by.
    public init(
        connectTimeout: Duration, extraTrustRoots: [String] = [], idleTimeout: Duration = .seconds(60), group: MultiThreadedEventLoopGroup = .singleton
    ) {
        self.pool = UpstreamConnectionPool(connectTimeout: connectTimeout, extraTrustRoots: extraTrustRoots)
        self.idleTimeout = idleTimeout
        self.group = group
    }

    /// POSTs `request` (with `extraHeaders` replacing any of the same name) and returns once the response head
    /// arrived, or throws ``UpstreamHTTPError``: ``UpstreamHTTPError/headTimeout`` when it did not by `headDeadline`.
    ///
    /// A request that fails on a reused connection before any byte of an answer arrived is sent once more on a new
    /// connection: the upstream closed that connection while it sat idle, and never saw the request. `stop` stops the
    /// exchange in flight from outside the caller's task.
    func post(
        _ request: UpstreamRequest, extraHeaders: [(String, String)] = [], headDeadline: NIODeadline, stoppedBy stop: UpstreamStop? = nil
    ) async throws -> UpstreamHTTPResponse {
        guard let (origin, target) = UpstreamOrigin.parse(request.url) else { throw UpstreamHTTPError.unsupportedURL }
        let head = Self.head(for: request, origin: origin, target: target, extraHeaders: extraHeaders)
        let body = ByteBuffer(bytes: request.body)
        let loop = MultiThreadedEventLoopGroup.currentEventLoop
        var retried = false
        while true {
            let (connection, reused) = try await pool.connection(to: origin, on: loop, fallback: group.any(), deadline: headDeadline)
            let exchange = UpstreamExchange(connection: connection)
            guard stop?.attach(exchange) ?? true else { throw UpstreamHTTPError.cancelled }
            exchange.failWithoutHead(by: headDeadline)
            connection.send(head, body: body, to: exchange)
            do {
                let responseHead = try await exchange.head()
                return UpstreamHTTPResponse(status: Int(responseHead.status.code), headers: responseHead.headers, body: UpstreamResponseBody(exchange: exchange))
            } catch UpstreamHTTPError.connectionClosed(let reason) {
                exchange.readerLeft()
                guard reused, !retried, !exchange.receivedAnything else { throw UpstreamHTTPError.connectionClosed(reason) }
                retried = true
            } catch {
                exchange.readerLeft()
                throw error
            }
        }
    }

    static func head(for request: UpstreamRequest, origin: UpstreamOrigin, target: String, extraHeaders: [(String, String)]) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(request.headers.count + extraHeaders.count + 2)
        headers.add(name: "host", value: origin.hostHeader)
        for (name, value) in request.headers { headers.add(name: name, value: value) }
        for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
        headers.add(name: "content-length", value: String(request.body.count))
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: target, headers: headers)
    }

    public func run() async throws {
        let sweep = min(idleTimeout, .seconds(10))
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: sweep) }
            pool.closeIdle(since: .now() - .nanoseconds(idleTimeout.nanoseconds))
        }
        pool.shutdown()
    }
}
