import AsyncHTTPClient
import FairwayJSON
import Foundation
import NIOCore
import NIOHTTP1

/// The management API as the CLI uses it: JSON in and out, numbers kept exactly, errors turned into ``CLIFailure``.
struct ManagementClient: Sendable {
    let baseURL: String
    let token: String
    var timeout: Duration = .seconds(30)

    func get(_ path: String, query: [(String, String)] = []) async throws(CLIFailure) -> JSON {
        try await send(.GET, path, query: query, body: nil)
    }

    /// Every page of a list: follows `next_cursor` until the last page.
    func list(_ path: String, query: [(String, String)] = [], all: Bool) async throws(CLIFailure) -> [JSON] {
        var rows: [JSON] = []
        var cursor: String?
        repeat {
            var pageQuery = query
            if let cursor { pageQuery.append(("cursor", cursor)) }
            let page = try await get(path, query: pageQuery)
            rows += page["data"]?.array ?? []
            cursor = all ? page["next_cursor"]?.string : nil
        } while cursor != nil
        return rows
    }

    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: JSON?) async throws(CLIFailure) -> JSON {
        var request = HTTPClientRequest(url: url(path, query: query))
        request.method = method
        request.headers.add(name: "authorization", value: "Bearer \(token)")
        request.headers.add(name: "accept", value: "application/json")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body.bytes))
        }
        // A refused connection fails at once instead of being retried until the timeout: a person is waiting.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(5)
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
            status = Int(response.status.code)
            bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw .unreachable("\(baseURL) could not be reached (\(error)).")
        }
        guard (200..<300).contains(status) else { throw CLIFailure(status: status, body: bytes) }
        if bytes.isEmpty { return .null }
        guard let json = try? JSONParser.parse(bytes) else { throw .server("The management API answered with something that is not JSON.") }
        return json
    }

    func url(_ path: String, query: [(String, String)]) -> String {
        var url = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        url += path
        guard !query.isEmpty else { return url }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        let pairs = query.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }
        return url + "?" + pairs.joined(separator: "&")
    }
}

/// Why a command failed, and the exit code that says which kind of failure it was.
struct CLIFailure: Error, CustomStringConvertible {
    enum Kind: Sendable {
        /// Bad arguments or a value the API refused (400): 64, as `sysexits.h`'s `EX_USAGE`.
        case usage
        /// Wrong or missing admin token (401, 403): 77, `EX_NOPERM`.
        case refused
        /// Not found or in conflict (404, 409): 1.
        case rejected
        /// Unreachable, or a server error (5xx): 69, `EX_UNAVAILABLE`.
        case unavailable
    }

    var kind: Kind
    var message: String
    var field: String?

    var exitCode: Int32 {
        switch kind {
        case .usage: 64
        case .refused: 77
        case .rejected: 1
        case .unavailable: 69
        }
    }

    var description: String {
        field.map { "error: \(message) (field: \($0))" } ?? "error: \(message)"
    }

    static func unreachable(_ message: String) -> CLIFailure { CLIFailure(kind: .unavailable, message: message) }
    static func server(_ message: String) -> CLIFailure { CLIFailure(kind: .unavailable, message: message) }
    static func usage(_ message: String, field: String? = nil) -> CLIFailure { CLIFailure(kind: .usage, message: message, field: field) }

    init(kind: Kind, message: String, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    /// From an API error answer `{"error":{"type","message","field"}}`.
    init(status: Int, body: [UInt8]) {
        let error = (try? JSONParser.parse(body))?["error"]
        message = error?["message"]?.string ?? "HTTP \(status)"
        field = error?["field"]?.string
        switch status {
        case 400, 413, 415, 422: kind = .usage
        case 401, 403: kind = .refused
        case 500...: kind = .unavailable
        default: kind = .rejected
        }
    }
}
