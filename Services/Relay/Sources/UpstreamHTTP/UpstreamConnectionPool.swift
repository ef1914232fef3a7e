import FairwayCore
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Idle upstream connections per origin and event loop, and the making of new ones.
///
/// A request takes a connection of its own task's event loop (the relay runs its tasks on NIO's loops), so the
/// upstream's answer is read on the thread that is waiting for it. Connections are reused most-recent first; one that
/// closes while idle leaves the pool as it closes, and the sweep closes those idle past the idle timeout.
final class UpstreamConnectionPool: Sendable {
    private struct Key: Hashable {
        var origin: UpstreamOrigin
        var loop: ObjectIdentifier
    }

    private struct State {
        var idle: [Key: [UpstreamConnection]] = [:]
        var shutDown = false
    }

    private let state = Mutex(State())
    private let madeTLSContext = Mutex<NIOSSLContext?>(nil)
    let connectTimeout: Duration
    let maxIdlePerOrigin: Int
    /// PEM files of certificate authorities trusted besides the system's (an internal PKI's upstreams).
    let extraTrustRoots: [String]

    init(connectTimeout: Duration, extraTrustRoots: [String] = [], maxIdlePerOrigin: Int = 256) {
        self.connectTimeout = connectTimeout
        self.extraTrustRoots = extraTrustRoots
        self.maxIdlePerOrigin = maxIdlePerOrigin
    }

    /// An idle connection to `origin` (`reused` true), or a new one; the connect gives up at `deadline` or after the
    /// connect timeout, whichever is first. A caller on an event loop takes only that loop's connections; one that is
    /// not (a test, a tool) takes any and connects on `fallback`.
    func connection(
        to origin: UpstreamOrigin, on loop: (any EventLoop)?, fallback: any EventLoop, deadline: NIODeadline
    ) async throws -> (UpstreamConnection, reused: Bool) {
        let idle = state.withLock { state -> UpstreamConnection? in
            if let loop { return Self.takeActive(Key(origin: origin, loop: ObjectIdentifier(loop)), from: &state) }
            for key in state.idle.keys.filter({ $0.origin == origin }) {
                if let connection = Self.takeActive(key, from: &state) { return connection }
            }
            return nil
        }
        if let idle { return (idle, true) }
        return (try await connect(to: origin, on: loop ?? fallback, deadline: deadline), false)
    }

    /// The most recently pooled connection under `key` that is still open (closed ones on the way are dropped).
    private static func takeActive(_ key: Key, from state: inout State) -> UpstreamConnection? {
        while let connection = state.idle[key]?.popLast() {
            if connection.channel.isActive { return connection }
        }
        return nil
    }

    /// Takes back a connection whose response ended cleanly (on its event loop).
    func release(_ connection: UpstreamConnection) {
        let key = Key(origin: connection.origin, loop: ObjectIdentifier(connection.channel.eventLoop))
        let kept = state.withLock { state -> Bool in
            guard !state.shutDown, connection.channel.isActive, state.idle[key, default: []].count < maxIdlePerOrigin else { return false }
            state.idle[key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes the connections idle since before `deadline`.
    func closeIdle(since deadline: NIODeadline) {
        let stale = state.withLock { state -> [UpstreamConnection] in
            var stale: [UpstreamConnection] = []
            for (key, connections) in state.idle {
                let (old, fresh) = (connections.filter { $0.idle(since: deadline) }, connections.filter { !$0.idle(since: deadline) })
                stale += old
                state.idle[key] = fresh.isEmpty ? nil : fresh
            }
            return stale
        }
        for connection in stale { connection.close() }
    }

    /// Closes every idle connection and keeps none from now on (connections still carrying a request finish it).
    func shutdown() {
        let all = state.withLock { state -> [UpstreamConnection] in
            state.shutDown = true
            defer { state.idle.removeAll() }
            return state.idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }

    var idleCount: Int { state.withLock { $0.idle.values.reduce(0) { $0 + $1.count } } }

    private func remove(_ connection: UpstreamConnection) {
        let key = Key(origin: connection.origin, loop: ObjectIdentifier(connection.channel.eventLoop))
        state.withLock { state in
            state.idle[key]?.removeAll { $0 === connection }
            if state.idle[key]?.isEmpty == true { state.idle[key] = nil }
        }
    }

    private func connect(to origin: UpstreamOrigin, on loop: any EventLoop, deadline: NIODeadline) async throws -> UpstreamConnection {
        let tls = try origin.tls ? tlsContext() : nil
        let handlerBox = Mutex<NIOLoopBound<UpstreamConnectionHandler>?>(nil)
        let timeout = min(TimeAmount.nanoseconds(connectTimeout.nanoseconds), deadline - .now())
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(max(timeout, .milliseconds(1)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: origin.hostIsAddress ? nil : origin.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    let handler = UpstreamConnectionHandler()
                    try channel.pipeline.syncOperations.addHandler(handler)
                    handlerBox.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: origin.host, port: origin.port).get()
        } catch {
            throw UpstreamHTTPError.connectFailed("\(error)")
        }
        guard let handler = handlerBox.withLock({ $0 }) else {
            channel.close(promise: nil)
            throw UpstreamHTTPError.connectFailed("the connection was not set up")
        }
        let connection = UpstreamConnection(channel: channel, origin: origin, handler: handler, pool: self)
        channel.closeFuture.whenComplete { [self] _ in remove(connection) }
        return connection
    }

    /// One TLS context for every https origin (the system's trust roots and ``extraTrustRoots``, HTTP/1.1 by ALPN),
    /// made on first use.
    func tlsContext() throws -> NIOSSLContext {
        try madeTLSContext.withLock { context in
            if let context { return context }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.applicationProtocols = ["http/1.1"]
            configuration.additionalTrustRoots = extraTrustRoots.map { .file($0) }
            do {
                let made = try NIOSSLContext(configuration: configuration)
                context = made
                return made
            } catch {
                throw UpstreamHTTPError.connectFailed("TLS could not be set up: \(error)")
            }
        }
    }
}
