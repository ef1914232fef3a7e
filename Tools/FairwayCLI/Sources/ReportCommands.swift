import ArgumentParser
import FairwayJSON
import Foundation

/// `fairway spend`: the daily rollup, grouped like `GET /v1/spend/daily`.
struct SpendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "spend", abstract: "Spend from the daily rollup.")

    @OptionGroup var global: GlobalOptions
    @Option(help: "First UTC day, YYYY-MM-DD.") var from: String?
    @Option(help: "Last UTC day, YYYY-MM-DD.") var to: String?
    @Option(help: "Only this tenant's spend (id).") var tenant: String?
    @Option(name: .customLong("group-by"), help: "Any of day, tenant, key, model, group, comma-separated.") var groupBy: String?

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            var query: [(String, String)] = []
            if let from { query.append(("from", from)) }
            if let to { query.append(("to", to)) }
            if let tenant { query.append(("tenant_id", tenant)) }
            if let groupBy { query.append(("group_by", groupBy)) }
            let rows = try await global.client().list("/v1/spend/daily", query: query, all: true)
            printOut(OutputRenderer.render(rows, as: global.output))
        }
    }
}

/// `fairway fairshare`: each tenant's share and decayed usage, each capped deployment's slots.
struct FairshareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fairshare", abstract: "Fair share: tenants' shares and usage, deployments' slots in flight and waiting."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            let state = try await global.client().get("/v1/fairshare")
            switch global.output {
            case .json:
                printOut(state.text + "\n")
            case .csv, .table:
                let tenants = state["tenants"]?.array ?? []
                let deployments = state["deployments"]?.array ?? []
                if global.output == .table { printOut("Tenants (mode: \(state["mode"]?.string ?? "?"))\n") }
                printOut(OutputRenderer.render(tenants, as: global.output))
                printOut(global.output == .table ? "\nDeployments\n" : "\r\n")
                printOut(OutputRenderer.render(deployments, as: global.output))
            }
        }
    }
}

/// `fairway budgets`: every budget with its spend and reset time.
struct BudgetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "budgets", abstract: "Every tenant and key budget: spent, remaining, resets at.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            printOut(OutputRenderer.render(try await global.client().list("/v1/budgets", all: true), as: global.output))
        }
    }
}

/// The `fairway` command: the management API from a shell.
public struct FairwayCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fairway",
        abstract: "Administer Fairway through its management API.",
        discussion: """
            Reads FAIRWAY_MANAGEMENT_URL (default http://127.0.0.1:8081) and FAIRWAY_ADMIN_TOKEN, or --url and --token.
            Exit codes: 0 done, 64 bad usage or a value the API refused, 77 admin token refused, 1 not found or
            conflict, 69 management unreachable or failing. Shell completion: fairway --generate-completion-script bash.
            """,
        subcommands: [
            ResourceGroup<Tenants>.self, KeyGroup.self, ResourceGroup<Models>.self, ResourceGroup<Groups>.self,
            ResourceGroup<MCPServers>.self, SpendCommand.self, FairshareCommand.self, BudgetsCommand.self,
        ]
    )

    public init() {}
}
