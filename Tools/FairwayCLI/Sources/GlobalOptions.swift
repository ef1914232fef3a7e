import ArgumentParser
import FairwayJSON
import Foundation

extension OutputFormat: ExpressibleByArgument {}

/// Where management is, the admin token and the output format, on every command.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Management API base URL (default: $FAIRWAY_MANAGEMENT_URL or http://127.0.0.1:8081).")
    var url: String?

    @Option(help: "Admin token (default: $FAIRWAY_ADMIN_TOKEN).")
    var token: String?

    @Option(help: "Output format: table (default on a terminal), json or csv.")
    var format: OutputFormat?

    static let defaultURL = "http://127.0.0.1:8081"

    func client() throws(CLIFailure) -> ManagementClient {
        let environment = ProcessInfo.processInfo.environment
        guard let token = token ?? environment["FAIRWAY_ADMIN_TOKEN"], !token.isEmpty else {
            throw .usage("No admin token: pass --token or set FAIRWAY_ADMIN_TOKEN.")
        }
        return ManagementClient(baseURL: url ?? environment["FAIRWAY_MANAGEMENT_URL"] ?? Self.defaultURL, token: token)
    }

    var output: OutputFormat { format ?? .automatic }
}

/// Fields for create and update: `--set name=value` (the value read as JSON when it is a number, `true`, `false`,
/// `null`, an array, an object or a quoted string; as text otherwise) and/or `--json '{…}'`.
struct FieldOptions: ParsableArguments {
    @Option(name: .customLong("set"), help: ArgumentHelp("A field as name=value (repeatable).", valueName: "name=value"))
    var fields: [String] = []

    @Option(help: "Fields as one JSON object (merged under --set).")
    var json: String?

    func body() throws(CLIFailure) -> JSON {
        var object = JSONObject()
        if let json {
            guard let parsed = try? JSONParser.parse(json), let members = parsed.object else {
                throw .usage("--json must be a JSON object.", field: "json")
            }
            object = members
        }
        for field in fields {
            guard let equals = field.firstIndex(of: "="), equals != field.startIndex else {
                throw .usage("--set takes name=value, got '\(field)'.", field: "set")
            }
            let name = String(field[..<equals])
            object[name] = Self.value(String(field[field.index(after: equals)...]))
        }
        guard !object.members.isEmpty else { throw .usage("Give at least one field with --set name=value or --json.") }
        return .object(object)
    }

    static func value(_ text: String) -> JSON {
        let first = text.first
        let looksLikeJSON = ["true", "false", "null"].contains(text) || first == "[" || first == "{" || first == "\""
            || (first.map { $0 == "-" || $0.isNumber } ?? false)
        if looksLikeJSON, let parsed = try? JSONParser.parse(text) { return parsed }
        return .string(text)
    }
}

/// Runs a command body, printing a failure on stderr and exiting with its code.
func reporting(_ body: () async throws(CLIFailure) -> Void) async throws {
    do {
        try await body()
    } catch {
        FileHandle.standardError.write(Data((error.description + "\n").utf8))
        throw ExitCode(error.exitCode)
    }
}

func printOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
