import AsyncHTTPClient
import FairwayTestSupport
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Closed-loop load for fairness tests: each client keeps one request outstanding, round-robin over the relays, and
/// counts completions per tenant inside the measuring window.
struct FairShareLoad: Sendable {
    struct Client: Sendable {
        var tenant: String
        var key: String
    }

    let relays: [ServiceBinary]
    let model: String

    /// Runs `clients` from `start` until `start + duration`; returns completed requests per tenant.
    func run(_ clients: [Client], for duration: Duration, startingAt start: ContinuousClock.Instant = .now) async -> [String: Int] {
        let end = start + duration
        let counts = Tally()
        // Its own client with room for every request at once: a pooled client queueing requests itself (FIFO) would
        // undo the very ordering under test.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        await withTaskGroup(of: Void.self) { group in
            for (index, client) in clients.enumerated() {
                group.addTask {
                    try? await Task.sleep(until: start)
                    var turn = index
                    while ContinuousClock.now < end {
                        let relay = relays[turn % relays.count]
                        turn += 1
                        let status = await Self.chat(http, relay: relay, key: client.key, model: model)
                        if status == 200 && ContinuousClock.now <= end {
                            counts.add(client.tenant)
                        }
                    }
                }
            }
        }
        return counts.values
    }

    static func chat(_ http: HTTPClient, relay: ServiceBinary, key: String, model: String) async -> Int? {
        var request = HTTPClientRequest(url: relay.baseURL + "/v1/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(key)")
        request.headers.add(name: "content-type", value: "application/json")
        let body = #"{"model":"\#(model)","max_tokens":64,"messages":[{"role":"user","content":"Hello there, how are you?"}]}"#
        request.body = .bytes(ByteBuffer(string: body))
        guard let response = try? await http.execute(request, timeout: .seconds(60)) else { return nil }
        _ = try? await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}

/// Completions per tenant, shared by the load's client tasks.
final class Tally: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    func add(_ tenant: String) { counts.withLock { $0[tenant, default: 0] += 1 } }
    var values: [String: Int] { counts.withLock { $0 } }
}
