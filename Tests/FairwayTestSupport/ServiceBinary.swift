import AsyncHTTPClient
import Foundation
import NIOCore

/// A built Fairway executable (`fairway-management`, `fairway-relay`, `fairway-aggregator`) run as a real process.
public final class ServiceBinary: Sendable {
    public let name: String
    public let port: Int
    public let child: ChildProcess

    public init(_ name: String, environment: [String: String], arguments: [String] = [], port: Int = FreePort.next()) throws {
        self.name = name
        self.port = port
        var env = ProcessInfo.processInfo.environment
        env["FAIRWAY_HOST"] = "127.0.0.1"
        env["FAIRWAY_PORT"] = "\(port)"
        env["FAIRWAY_LOG_LEVEL"] = env["FAIRWAY_TEST_LOG_LEVEL"] ?? "info"
        env.merge(environment) { _, new in new }
        child = try ChildProcess(executable: try Self.path(of: name), arguments: arguments, environment: env)
    }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// GETs `path` and returns the status and body (nil status when nothing answers).
    public func get(_ path: String, headers: [(String, String)] = []) async -> (status: Int?, body: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 16 << 20)
            return (Int(response.status.code), String(buffer: body))
        } catch {
            return (nil, "\(error)")
        }
    }

    /// Polls `/readyz` until it answers 200; returns false on timeout or if the process exits.
    public func waitUntilReady(timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard child.isRunning else { return false }
            if await get("/readyz").status == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// The directory holding the built executables: `FAIRWAY_BIN_DIR`, or the build folder the test runner lives in.
    public static func path(of name: String) throws -> String {
        var candidates: [URL] = []
        if let dir = ProcessInfo.processInfo.environment["FAIRWAY_BIN_DIR"] {
            candidates.append(URL(fileURLWithPath: dir))
        }
        var runner = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        candidates.append(runner)
        // macOS bundles: …/debug/fairwayPackageTests.xctest/Contents/MacOS/…
        for _ in 0..<4 {
            runner = runner.deletingLastPathComponent()
            candidates.append(runner)
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let path = directory.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw MissingBinary(name: name, searched: candidates.map(\.path))
    }

    public struct MissingBinary: Error, CustomStringConvertible {
        public var name: String
        public var searched: [String]
        public var description: String {
            "\(name) not found (build with `swift build --build-tests`); looked in \(searched.joined(separator: ", "))"
        }
    }
}
