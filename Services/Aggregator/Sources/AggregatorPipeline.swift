import FairwayPostgres
import ServiceLifecycle

/// Starts the aggregator's workers only once the schema they write to exists, then runs them until shutdown.
struct AggregatorPipeline: Service {
    let gate: SchemaGate
    let services: [any Service]

    func run() async throws {
        while !gate.isOpen {
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            try? await Task.sleep(for: .milliseconds(200))
        }
        try await withThrowingDiscardingTaskGroup { group in
            for service in services {
                group.addTask { try await service.run() }
            }
        }
    }
}
