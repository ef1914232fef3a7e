import Metrics
import Prometheus
import Synchronization

/// The process's Prometheus registry, installed as the swift-metrics backend so every counter, gauge and timer the
/// services and libraries create shows up on `/metrics`.
public enum ProcessMetrics {
    private static let bootstrapped = Atomic<Bool>(false)

    public static let registry = PrometheusCollectorRegistry()

    /// Installs the Prometheus backend; later calls do nothing (swift-metrics allows one bootstrap per process).
    public static func bootstrap() {
        guard bootstrapped.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// The Prometheus text exposition of everything recorded so far.
    public static func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
