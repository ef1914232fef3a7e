import FairwayCore
import Foundation
import Instrumentation
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces for the relay, configured by the standard `OTEL_*` variables and off unless an OTLP endpoint
/// is set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_TRACES_EXPORTER=otlp`);
/// `OTEL_SDK_DISABLED=true` turns them off whatever else is set. Logs and metrics keep their own backends.
enum RelayTracing {
    static func isConfigured(_ environment: [String: String]) -> Bool {
        if environment["OTEL_SDK_DISABLED"]?.lowercased() == "true" { return false }
        if environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "none" { return false }
        return environment["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil || environment["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] != nil
            || environment["OTEL_TRACES_EXPORTER"]?.lowercased() == "otlp"
    }

    /// Bootstraps the process-wide tracer; the returned service exports spans (and flushes them at shutdown).
    static func bootstrap(environment: [String: String], logger: Logger) throws -> (any Service)? {
        guard isConfigured(environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "fairway-relay"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.diagnosticLogger = .custom(logger)
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        logger.info("Tracing on: spans are exported over OTLP")
        return backend.service
    }
}
