import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// An open-loop load generator (what wrk2 does; Debian has no wrk2): requests are due at a fixed rate whatever the
/// server's speed, and each one's latency runs from when it was due, not from when a connection was free to send it
/// — so a stalled server shows in the percentiles instead of slowing the load down (no coordinated omission).
///
///     fairway-bench-openloop --url http://127.0.0.1:8080/v1/chat/completions --rate 5000 --duration 10 \
///         --connections 128 --body '{"model":…}' --header 'Authorization: Bearer fw-…'
///
/// Prints one line: `offered=… achieved=… p50_ms=… p99_ms=… p999_ms=… max_ms=… non2xx=… errors=… unfinished=…`.
@main
struct OpenLoop {
    static func main() async throws {
        if CommandLine.arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            print(Options.usage)
            return
        }
        let options: Options
        do {
            options = try Options(CommandLine.arguments.dropFirst())
        } catch {
            FileHandle.standardError.write(Data("fairway-bench-openloop: \(error)\n\(Options.usage)\n".utf8))
            exit(2)
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let run = OpenLoopRun(loop: loop, options: options)
        var channels: [any Channel] = []
        for _ in 0..<options.connections {
            let channel = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseHandler(run: run))
                    }
                }
                .connect(host: options.host, port: options.port).get()
            channels.append(channel)
        }
        let report = try await loop.flatSubmit { run.start(channels) }.get()
        print(report)
        for channel in channels { try? await channel.close() }
        try await group.shutdownGracefully()
    }
}

struct Options {
    var host = "127.0.0.1"
    var port = 80
    var path = "/"
    var rate = 1000.0
    var seconds = 10.0
    var connections = 64
    var body = ""
    var headers: [(String, String)] = []

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    static let usage = """
        usage: fairway-bench-openloop --url http://HOST:PORT/PATH [--rate PER_SECOND] [--duration SECONDS]
                                      [--connections 1...10000] [--body JSON] [--header 'Name: value']…
        """

    init(_ arguments: ArraySlice<String>) throws {
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            guard let value = iterator.next() else { throw Invalid(description: "\(name) needs a value") }
            switch name {
            case "--url": try setURL(value)
            case "--rate": rate = try Self.number(value, name, upTo: 1_000_000)
            case "--duration": seconds = try Self.number(value, name, upTo: 86_400)
            case "--connections":
                guard let count = Int(value), (1...10_000).contains(count) else {
                    throw Invalid(description: "--connections wants a whole number from 1 to 10000")
                }
                connections = count
            case "--body": body = value
            case "--header":
                let parts = value.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw Invalid(description: "--header wants 'Name: value'") }
                headers.append((String(parts[0]), String(parts[1].drop { $0 == " " })))
            default: throw Invalid(description: "unknown option \(name)")
            }
        }
    }

    private mutating func setURL(_ url: String) throws {
        guard url.hasPrefix("http://") else { throw Invalid(description: "only http:// URLs") }
        let rest = url.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        path = rest.count > authority.count ? String(rest.dropFirst(authority.count)) : "/"
        let parts = authority.split(separator: ":")
        host = String(parts.first ?? "127.0.0.1")
        port = parts.count > 1 ? Int(parts[1]) ?? 80 : 80
    }

    /// A positive number no larger than `limit`, so the request count and deadlines derived from it fit their integers.
    private static func number(_ text: String, _ name: String, upTo limit: Double) throws -> Double {
        guard let value = Double(text), value > 0, value <= limit else {
            throw Invalid(description: "\(name) wants a number above 0 and at most \(Int(limit))")
        }
        return value
    }

    var requestHead: HTTPRequestHead {
        var fields = HTTPHeaders([
            ("Host", "\(host):\(port)"), ("Content-Type", "application/json"), ("Content-Length", String(body.utf8.count)),
        ])
        fields.add(contentsOf: headers)
        return HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: fields)
    }
}

/// The run's state. Every method runs on the generator's one event loop (the channels and the timer all belong to
/// it; `start` is submitted to it), so nothing here is touched from two threads — hence `@unchecked Sendable`.
final class OpenLoopRun: @unchecked Sendable {
    let loop: any EventLoop
    let options: Options
    private let head: HTTPRequestHead
    private let body: ByteBuffer
    private let interval: Double
    private let total: Int
    private var started = NIODeadline.now()
    private var scheduled = 0
    private var idle: [ObjectIdentifier: any Channel] = [:]
    private var waiting: [NIODeadline] = []
    private var waitingHead = 0
    private var due: [ObjectIdentifier: NIODeadline] = [:]
    private var latencies: [Int64] = []
    private var non2xx = 0
    private var errors = 0
    private var timer: RepeatedTask?
    private var finished: EventLoopPromise<String>?

    init(loop: any EventLoop, options: Options) {
        self.loop = loop
        self.options = options
        head = options.requestHead
        body = ByteBuffer(string: options.body)
        interval = 1e9 / options.rate
        total = Int(options.rate * options.seconds)
        latencies.reserveCapacity(total)
    }

    func start(_ channels: [any Channel]) -> EventLoopFuture<String> {
        loop.preconditionInEventLoop()
        for channel in channels { idle[ObjectIdentifier(channel)] = channel }
        started = .now()
        let promise = loop.makePromise(of: String.self)
        finished = promise
        timer = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .microseconds(200)) { [self] _ in tick() }
        // Whatever is still out 5 s after the last request was due is reported as unfinished.
        loop.scheduleTask(in: .nanoseconds(Int64(options.seconds * 1e9)) + .seconds(5)) { [self] in finish() }
        return promise.futureResult
    }

    private func tick() {
        let elapsed = Double((NIODeadline.now() - started).nanoseconds)
        let now = min(total, Int(elapsed / interval) + 1)
        while scheduled < now {
            let intended = started + .nanoseconds(Int64(Double(scheduled) * interval))
            scheduled += 1
            if let (id, channel) = idle.first {
                idle[id] = nil
                send(on: channel, due: intended)
            } else {
                waiting.append(intended)
            }
        }
        if scheduled == total {
            timer?.cancel()
            if due.isEmpty && waitingHead == waiting.count { finish() }
        }
    }

    private func send(on channel: any Channel, due intended: NIODeadline) {
        due[ObjectIdentifier(channel)] = intended
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    func answered(_ channel: any Channel, status: Int?) {
        let id = ObjectIdentifier(channel)
        guard let intended = due.removeValue(forKey: id) else { return }
        if let status {
            latencies.append((NIODeadline.now() - intended).nanoseconds)
            if !(200..<300).contains(status) { non2xx += 1 }
        } else {
            errors += 1
        }
        if waitingHead < waiting.count {
            let next = waiting[waitingHead]
            waitingHead += 1
            send(on: channel, due: next)
        } else if channel.isActive {
            idle[id] = channel
        }
        if scheduled == total && due.isEmpty && waitingHead == waiting.count { finish() }
    }

    private func finish() {
        guard let promise = finished else { return }
        finished = nil
        timer?.cancel()
        let seconds = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let sorted = latencies.sorted()
        func percentile(_ q: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            let value = sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
            return String(Double(value / 1000) / 1000)
        }
        let unfinished = due.count + waiting.count - waitingHead
        let achieved = Double(Int(Double(sorted.count) / seconds * 10)) / 10
        promise.succeed(
            "offered=\(options.rate) achieved=\(achieved) p50_ms=\(percentile(0.5)) p99_ms=\(percentile(0.99)) "
                + "p999_ms=\(percentile(0.999)) max_ms=\(percentile(1)) non2xx=\(non2xx) errors=\(errors) unfinished=\(unfinished)"
        )
    }
}

/// Reports each response's status once its end arrived; a connection that closes fails its request.
final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    let run: OpenLoopRun
    private var status: Int?

    init(run: OpenLoopRun) {
        self.run = run
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end:
            run.answered(context.channel, status: status)
            status = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        run.answered(context.channel, status: nil)
    }
}
