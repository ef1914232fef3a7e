import ArgumentParser
import FairwayJSON
import Foundation

/// `fairway keys …`: keys are created under a tenant and rotated or disabled by id; a new secret is printed once.
struct KeyGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.",
        subcommands: [ListCommand<Keys>.self, ShowCommand<Keys>.self, Create.self, UpdateCommand<Keys>.self,
                      DeleteCommand<Keys>.self, Rotate.self, Disable.self]
    )

    static let warning = "This is the only time the key is shown: store it now."

    /// Prints the key; its secret goes to stdout, the warning to stderr.
    static func reveal(_ object: JSON, format: OutputFormat) {
        printOut(OutputRenderer.render(object: object, as: format))
        if format == .table, let secret = object["key"]?.string { printOut("\nkey: \(secret)\n") }
        FileHandle.standardError.write(Data((warning + "\n").utf8))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key for a tenant (the secret is shown once).")

        @OptionGroup var global: GlobalOptions
        @Option(help: "The tenant's id.") var tenant: String
        @OptionGroup var fields: FieldOptions

        func run() async throws {
            try await reporting { () async throws(CLIFailure) in
                let object = try await global.client().send(.POST, "/v1/tenants/\(try pathSegment(tenant))/keys", body: try fields.body())
                KeyGroup.reveal(object, format: global.output)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a key's secret (the new one is shown once).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id.") var id: String

        func run() async throws {
            try await reporting { () async throws(CLIFailure) in
                let object = try await global.client().send(.POST, "/v1/keys/\(try pathSegment(id))/rotate", body: .object([:]))
                KeyGroup.reveal(object, format: global.output)
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a key (every relay refuses it within a second).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key's id.") var id: String

        func run() async throws {
            try await reporting { () async throws(CLIFailure) in
                let object = try await global.client().send(.PATCH, "/v1/keys/\(try pathSegment(id))", body: ["disabled": true])
                printOut(OutputRenderer.render(object: object, as: global.output))
            }
        }
    }
}
