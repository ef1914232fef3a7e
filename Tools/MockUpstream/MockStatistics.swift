import Synchronization

/// Counts what the mock served, for tests that assert how many upstream calls a relay made and what it sent.
final class MockStatistics: Sendable {
    private struct State {
        var requests = 0
        var byPath: [String: Int] = [:]
        var lastBody: String = ""
        var lastHeaders: [(String, String)] = []
        var inFlight = 0
        var maxInFlight = 0
        var traces: [String] = []
    }

    private let state = Mutex(State())

    func begin(path: String, body: String, headers: [(String, String)] = []) {
        state.withLock { state in
            state.requests += 1
            state.byPath[path, default: 0] += 1
            state.lastBody = body
            state.lastHeaders = headers
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
        }
    }

    /// An OTLP/JSON export request's body, as received.
    func receiveTraces(_ body: String) {
        state.withLock { $0.traces.append(body) }
    }

    func traces() -> [String] { state.withLock { $0.traces } }

    func end() {
        state.withLock { $0.inFlight -= 1 }
    }

    func reset() {
        state.withLock { $0 = State() }
    }

    /// `{"requests":N,"in_flight":N,"max_in_flight":N,"by_path":{…},"last_body":…,"last_body_text":"…","last_headers":{…}}`
    /// (`last_body_text` is the body as received, for byte-for-byte comparisons).
    func json() -> String {
        state.withLock { state in
            let paths = state.byPath.sorted { $0.key < $1.key }
                .map { "\(MockJSON.quote($0.key)):\($0.value)" }
                .joined(separator: ",")
            let last = state.lastBody.isEmpty ? "null" : state.lastBody
            let headers = state.lastHeaders.map { "\(MockJSON.quote($0.0)):\(MockJSON.quote($0.1))" }.joined(separator: ",")
            return "{\"requests\":\(state.requests),\"in_flight\":\(state.inFlight),\"max_in_flight\":\(state.maxInFlight),\"by_path\":{\(paths)},"
                + "\"last_body\":\(last),\"last_body_text\":\(MockJSON.quote(state.lastBody)),\"last_headers\":{\(headers)}}"
        }
    }
}
