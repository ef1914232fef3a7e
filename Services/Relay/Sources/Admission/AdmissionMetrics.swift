import FairwayCore
import Foundation
import Metrics
import Synchronization

/// Admission's Prometheus metrics. In-flight and waiting gauges are this relay's own counts per deployment (sum them
/// across relays for the global figure, which `GET /v1/fairshare` on management reads from Redis directly).
public final class AdmissionMetrics: Sendable {
    public enum Rejection: String, Sendable {
        case queueFull = "queue_full"
        case queueTimeout = "queue_timeout"
        case quota
        case upstreamLimit = "upstream_limit"
        case cancelled
    }

    private struct Counts: Sendable {
        var inFlight: [UUID: Int] = [:]
        var waiting: [UUID: Int] = [:]
        /// Handles made once per deployment and tenant: a lookup in the metrics registry (and the UUID's text) on
        /// every admission cost more than the admission itself once it needs no Redis round trip.
        var inFlightGauges: [UUID: Gauge] = [:]
        var queueTimers: [UUID: Timer] = [:]
    }

    private let counts = Mutex(Counts())
    private let admittedCounter = Counter(label: "fairway_admission_admitted_total")
    /// Admissions served from this relay's idle slots, with no Redis round trip (a subset of the admitted).
    let pooled = Counter(label: "fairway_admission_pooled_total")
    /// Slots this relay holds idle for its next request (sampled by the pool's upkeep).
    let poolIdle = Gauge(label: "fairway_admission_pool_idle")
    let degraded = Gauge(label: "fairway_admission_degraded")

    public init() {
        degraded.record(0)
    }

    func admitted(deployment: UUID, tenant: UUID, queued: Duration) {
        admittedCounter.increment()
        let (timer, gauge, value) = counts.withLock { counts in
            counts.inFlight[deployment, default: 0] += 1
            return (Self.queueTimer(tenant, in: &counts), Self.inFlightGauge(deployment, in: &counts), counts.inFlight[deployment] ?? 0)
        }
        timer.recordNanoseconds(queued.nanoseconds)
        gauge.record(value)
    }

    func released(_ deployment: UUID) {
        let (gauge, value) = counts.withLock { counts in
            counts.inFlight[deployment] = max(0, (counts.inFlight[deployment] ?? 0) - 1)
            return (Self.inFlightGauge(deployment, in: &counts), counts.inFlight[deployment] ?? 0)
        }
        gauge.record(value)
    }

    private static func inFlightGauge(_ deployment: UUID, in counts: inout Counts) -> Gauge {
        if let gauge = counts.inFlightGauges[deployment] { return gauge }
        let gauge = Gauge(label: "fairway_admission_in_flight", dimensions: [("deployment", deployment.lowercaseText)])
        counts.inFlightGauges[deployment] = gauge
        return gauge
    }

    private static func queueTimer(_ tenant: UUID, in counts: inout Counts) -> Timer {
        if let timer = counts.queueTimers[tenant] { return timer }
        let timer = Timer(label: "fairway_admission_queue_wait_seconds", dimensions: [("tenant", tenant.lowercaseText)], preferredDisplayUnit: .seconds)
        counts.queueTimers[tenant] = timer
        return timer
    }

    func joinedQueue(_ deployment: UUID) { updateWaiting(deployment, by: 1) }
    func leftQueue(_ deployment: UUID) { updateWaiting(deployment, by: -1) }

    private func updateWaiting(_ deployment: UUID, by delta: Int) {
        let value = counts.withLock { counts -> Int in
            counts.waiting[deployment] = max(0, (counts.waiting[deployment] ?? 0) + delta)
            return counts.waiting[deployment] ?? 0
        }
        Gauge(label: "fairway_admission_waiting", dimensions: [("deployment", deployment.lowercaseText)]).record(value)
    }

    func rejected(_ reason: Rejection) {
        Counter(label: "fairway_admission_rejected_total", dimensions: [("reason", reason.rawValue)]).increment()
    }
}
