// Ingest benchmark: how many request-log events per second one aggregator moves from the Redis stream into
// `request_logs` + `daily_spend`, for several batch sizes. Prints figures; asserts nothing.
//
// Usage: DATABASE_URL=… REDIS_URL=… fairway-bench-ingest [--events N] [--batch-sizes 500,1000,5000]
// (bench/ingest starts throwaway servers and runs it.)
import Aggregator
import FairwayCore
import FairwayPostgres
import FairwayRedis
import FairwayTestSupport
import Foundation
import Logging
import PostgresNIO

@main
struct IngestBenchmark {
    static func main() async {
        do {
            try await run()
        } catch {
            FileHandle.standardError.write(Data("fairway-bench-ingest: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run() async throws {
        var events = 100_000
        var batchSizes = [500, 1000, 5000]
        var consumerCounts = [1]
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--events": events = Int(arguments.next() ?? "") ?? events
            case "--batch-sizes": batchSizes = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
            case "--consumers": consumerCounts = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
            default: print("unknown argument \(argument)"); exit(2)
            }
        }
        let environment = EnvironmentReader.process()
        let database = try DatabaseConfiguration(url: try environment.require("DATABASE_URL"))
        let redisConfiguration = try RedisConfiguration(url: try environment.require("REDIS_URL"))
        var logger = Logger(label: "bench.ingest")
        logger.logLevel = .warning
        let postgres = PostgresClient(configuration: database.clientConfiguration, backgroundLogger: logger)
        let redis = RedisClient(configuration: redisConfiguration, logger: logger)

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await postgres.run() }
            defer { group.cancelAll() }
            try await MigrationRunner(migrations: try Migration.embedded(), logger: logger).run(on: postgres)
            let synthetic = SyntheticEvents(tenants: 20, keysPerTenant: 5, models: 8, firstDay: "2026-03-01", days: 3)
            print("ingest benchmark: \(events) events per run, 20 tenants × 5 keys, 8 models, 3 days")
            print("batch  consumers  publish ev/s  writer-only ev/s  end-to-end ev/s")
            for batchSize in batchSizes {
            for consumerCount in consumerCounts {
                let batch = synthetic.make(events, seed: UInt64(batchSize))
                try await reset(postgres: postgres, redis: redis, logger: logger)

                // Postgres alone: the writer fed directly, batch after batch.
                let writer = RequestLogWriter(client: postgres, logger: logger)
                let writerStart = ContinuousClock.now
                var index = 0
                while index < batch.count {
                    try await writer.write(Array(batch[index..<min(index + batchSize, batch.count)]))
                    index += batchSize
                }
                let writerRate = Double(events) / (ContinuousClock.now - writerStart).seconds
                try await reset(postgres: postgres, redis: redis, logger: logger)

                // End to end: the stream filled first, then one consumer drains it.
                let publishStart = ContinuousClock.now
                try await SyntheticEvents.publish(batch, to: redis, chunk: 1000)
                let publishRate = Double(events) / (ContinuousClock.now - publishStart).seconds
                let consumers = (0..<consumerCount).map { index in
                    StreamConsumer(
                        redis: redis, writer: RequestLogWriter(client: postgres, logger: logger),
                        settings: IngestSettings(
                            consumerName: "bench-\(index)", batchSize: batchSize, batchWait: .milliseconds(50), retentionDays: 3650
                        ),
                        logger: logger
                    )
                }
                let start = ContinuousClock.now
                let tasks = consumers.map { consumer in Task { try await consumer.run() } }
                while consumers.reduce(0, { $0 + $1.acknowledgedCount }) < events {
                    try await Task.sleep(for: .milliseconds(5))
                }
                let endToEnd = Double(events) / (ContinuousClock.now - start).seconds
                for task in tasks {
                    task.cancel()
                    _ = try? await task.value
                }
                print(String(format: "%5d  %9d  %12.0f  %16.0f  %15.0f", batchSize, consumerCount, publishRate, writerRate, endToEnd))
            }
            }
        }
        redis.close()
    }

    static func reset(postgres: PostgresClient, redis: RedisClient, logger: Logger) async throws {
        _ = try await postgres.query("TRUNCATE request_logs, daily_spend", logger: logger)
        try await redis.delete([RequestLogStream.key])
    }
}
