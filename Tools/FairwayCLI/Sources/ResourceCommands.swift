import ArgumentParser
import FairwayJSON
import Foundation

/// A collection of the admin API the CLI manages with list / show / create / update / delete.
protocol ManagedResource: Sendable {
    /// URL segment under `/v1`.
    static var path: String { get }
    /// The word in help texts.
    static var noun: String { get }
    /// Query filters `list` offers, as (option name, API parameter).
    static var filters: [String] { get }
}

enum Tenants: ManagedResource {
    static let path = "tenants"
    static let noun = "tenant"
    static let filters = ["name", "group_name"]
}

enum Models: ManagedResource {
    static let path = "models"
    static let noun = "model"
    static let filters = ["model_name", "provider", "enabled"]
}

enum Groups: ManagedResource {
    static let path = "model-groups"
    static let noun = "model group"
    static let filters = ["name", "enabled"]
}

enum MCPServers: ManagedResource {
    static let path = "mcp-servers"
    static let noun = "MCP server"
    static let filters = ["name", "enabled"]
}

enum Keys: ManagedResource {
    static let path = "keys"
    static let noun = "API key"
    static let filters = ["tenant_id", "disabled"]
}

struct ListCommand<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "list", abstract: "List every \(Resource.noun) (all pages).")
    }

    @OptionGroup var global: GlobalOptions
    @Option(name: .customLong("filter"), help: ArgumentHelp("A filter as name=value: \(Resource.filters.joined(separator: ", ")).", valueName: "name=value"))
    var filters: [String] = []

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            var query: [(String, String)] = []
            for filter in filters {
                let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, Resource.filters.contains(parts[0]) else {
                    throw .usage("--filter takes one of \(Resource.filters.joined(separator: ", ")) as name=value.", field: "filter")
                }
                query.append((parts[0], parts[1]))
            }
            let rows = try await global.client().list("/v1/\(Resource.path)", query: query, all: true)
            printOut(OutputRenderer.render(rows, as: global.output))
        }
    }
}

struct ShowCommand<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "show", abstract: "Show one \(Resource.noun).")
    }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The \(Resource.noun)'s id.") var id: String

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            let object = try await global.client().get("/v1/\(Resource.path)/\(try pathSegment(id))")
            printOut(OutputRenderer.render(object: object, as: global.output))
        }
    }
}

struct CreateCommand<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "create", abstract: "Create a \(Resource.noun) from --set name=value fields.")
    }

    @OptionGroup var global: GlobalOptions
    @OptionGroup var fields: FieldOptions

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            let object = try await global.client().send(.POST, "/v1/\(Resource.path)", body: try fields.body())
            printOut(OutputRenderer.render(object: object, as: global.output))
        }
    }
}

struct UpdateCommand<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "update", abstract: "Change fields of a \(Resource.noun).")
    }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The \(Resource.noun)'s id.") var id: String
    @OptionGroup var fields: FieldOptions

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            let object = try await global.client().send(.PATCH, "/v1/\(Resource.path)/\(try pathSegment(id))", body: try fields.body())
            printOut(OutputRenderer.render(object: object, as: global.output))
        }
    }
}

struct DeleteCommand<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "delete", abstract: "Delete a \(Resource.noun).")
    }

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The \(Resource.noun)'s id.") var id: String

    func run() async throws {
        try await reporting { () async throws(CLIFailure) in
            _ = try await global.client().send(.DELETE, "/v1/\(Resource.path)/\(try pathSegment(id))", body: nil)
            FileHandle.standardError.write(Data("Deleted \(Resource.noun) \(id).\n".utf8))
        }
    }
}

/// An id as one path segment: nothing that could address another route.
func pathSegment(_ text: String) throws(CLIFailure) -> String {
    guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), text != ".", text != ".." else {
        throw .usage("'\(text)' is not an id.", field: "id")
    }
    return text
}

/// The command group of one resource.
struct ResourceGroup<Resource: ManagedResource>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Resource.path == "model-groups" ? "groups" : Resource.path,
            abstract: "Manage \(Resource.noun)s.",
            subcommands: [ListCommand<Resource>.self, ShowCommand<Resource>.self, CreateCommand<Resource>.self,
                          UpdateCommand<Resource>.self, DeleteCommand<Resource>.self]
        )
    }
}
