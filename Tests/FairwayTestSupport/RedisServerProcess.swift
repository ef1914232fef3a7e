import FairwayRedis
import Foundation

/// A private `redis-server` for tests that stop, restart or disrupt Redis, so they never disturb the shared one.
public final class RedisServerProcess: Sendable {
    public let port: Int
    private let directory: URL
    private let child: ChildProcess

    public init(port: Int = FreePort.next()) async throws {
        self.port = port
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        child = try ChildProcess(
            executable: Self.executable(),
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory.path, "--daemonize", "no",
            ],
            environment: ProcessInfo.processInfo.environment
        )
        try await waitUntilAccepting()
    }

    public var configuration: RedisConfiguration {
        RedisConfiguration(host: "127.0.0.1", port: port)
    }

    public var url: String { "redis://127.0.0.1:\(port)" }

    public func stop() async {
        await child.stop()
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    private func waitUntilAccepting() async throws {
        let probe = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: port, poolSize: 1))
        defer { probe.close() }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if (try? await probe.ping()) != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisError.connectionFailed("redis-server on port \(port) did not start: \(child.output)")
    }

    static func executable() -> String {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "redis-server"
    }
}
