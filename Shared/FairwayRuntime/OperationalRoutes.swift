import Foundation
import Hummingbird
import Synchronization

/// `/healthz`, `/readyz` and `/metrics`, the same on every service.
///
/// `/healthz` answers 200 while the process runs (liveness: restart only a wedged process). `/readyz` answers 200 only
/// when every check passes and 503 otherwise, with a JSON body saying which check failed, so a load balancer routes
/// around an instance that cannot serve yet. Checks run concurrently and each has a short deadline.
public struct OperationalRoutes: Sendable {
    public let checks: [any ReadinessCheck]
    public let checkTimeout: Duration

    public init(checks: [any ReadinessCheck], checkTimeout: Duration = .seconds(2)) {
        self.checks = checks
        self.checkTimeout = checkTimeout
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("healthz") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("readyz") { _, _ in
            await readiness()
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: ProcessMetrics.exposition()))
            )
        }
    }

    func readiness() async -> Response {
        let timeout = checkTimeout
        let results = await withTaskGroup(of: ReadinessResult.self) { group in
            for check in checks {
                group.addTask { await Self.run(check, timeout: timeout) }
            }
            var collected: [ReadinessResult] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.name < $1.name }
        }
        let ready = results.allSatisfy(\.ready)
        var checksObject: [String: Any] = [:]
        for result in results {
            var entry: [String: Any] = ["ready": result.ready]
            if let detail = result.detail { entry["detail"] = detail }
            checksObject[result.name] = entry
        }
        let body = (try? JSONSerialization.data(
            withJSONObject: ["ready": ready, "checks": checksObject], options: [.sortedKeys]
        )) ?? Data()
        return Response(
            status: ready ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    /// Runs a check, giving up after `timeout` without waiting for a check that hangs.
    static func run(_ check: any ReadinessCheck, timeout: Duration) async -> ReadinessResult {
        let name = String(describing: type(of: check))
        return await withCheckedContinuation { (continuation: CheckedContinuation<ReadinessResult, Never>) in
            let resumed = Mutex(false)
            let finish: @Sendable (ReadinessResult) -> Void = { result in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: result) }
            }
            let work = Task { finish(await check.check()) }
            Task {
                try? await Task.sleep(for: timeout)
                work.cancel()
                finish(ReadinessResult(name: name, ready: false, detail: "no answer within \(timeout)"))
            }
        }
    }
}
