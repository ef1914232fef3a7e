import ArgumentParser
import Hummingbird
import Logging

/// `fairway-mock-upstream`: an OpenAI-compatible and Anthropic-compatible fake model server with controllable latency,
/// errors and streaming. Tests, `scripts/up` and the benchmarks use it as the upstream.
@main
struct MockUpstreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fairway-mock-upstream",
        abstract: "Fake LLM upstream: /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, /v1/messages."
    )

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks one and prints it).") var port = 9090
    @Option(help: "Delay before the response head, ms.") var latencyMs = 0
    @Option(help: "Delay before the first streamed chunk, ms.") var ttftMs = 0
    @Option(help: "Streaming pace in tokens per second (0 = as fast as possible).") var tokensPerSecond: Double = 0
    @Option(help: "Completion tokens per answer.") var tokens = 8
    @Option(help: "Answer every request with this status.") var status: Int?
    @Option(help: "Require this upstream credential (Bearer or x-api-key).") var requireKey: String?

    func run() async throws {
        var behavior = MockBehavior()
        behavior.latencyMS = latencyMs
        behavior.ttftMS = ttftMs
        behavior.tokensPerSecond = tokensPerSecond
        behavior.tokens = tokens
        behavior.status = status
        var logger = Logger(label: "fairway.mock-upstream")
        logger.logLevel = .warning
        let server = MockServer(defaults: behavior, requiredKey: requireKey)
        let app = Application(
            router: server.router(),
            configuration: .init(address: .hostname(host, port: port), serverName: "fairway-mock-upstream"),
            onServerRunning: { channel in
                print("fairway-mock-upstream listening on \(channel.localAddress?.port ?? port)")
            },
            logger: logger
        )
        try await app.runService()
    }
}
