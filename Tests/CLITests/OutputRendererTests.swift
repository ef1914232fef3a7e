import FairwayJSON
import Foundation
import Testing

@testable import FairwayCLI

@Suite("CLI output and arguments")
struct OutputRendererTests {
    static let rows: [JSON] = [
        ["name": "acme", "id": "1", "max_budget_usd": .number("1234.5"), "group_name": .null, "tags": ["a", "b"]],
        ["id": "2", "name": "=cmd,\"x\"", "max_budget_usd": .number("0.005"), "weight": 100],
    ]

    @Test func tablesAlignColumnsAndShowMoneyWithCents() {
        let table = OutputRenderer.render(Self.rows, as: .table)
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("ID  NAME"))
        #expect(lines[1].contains("$1,234.50") && lines[2].contains("$0.01"), "half up, to the cent")
        let column = lines[0].range(of: "MAX_BUDGET_USD").map { lines[0].distance(from: lines[0].startIndex, to: $0.lowerBound) }
        #expect(column != nil && lines[1].dropFirst(column ?? 0).hasPrefix("$1,234.50"), "aligned under its header")
        #expect(OutputRenderer.render([], as: .table) == "(none)\n")
    }

    @Test func csvParsesBackAndNeutralisesFormulas() {
        let csv = OutputRenderer.render(Self.rows, as: .csv)
        let lines = csv.components(separatedBy: "\r\n")
        #expect(lines[0] == "id,name,max_budget_usd,group_name,tags,weight")
        #expect(lines[1] == #"1,acme,1234.5,,"[""a"",""b""]","#, "exact amounts, nested JSON quoted")
        #expect(lines[2] == #"2,"'=cmd,""x""",0.005,,,100"#)
    }

    @Test func jsonKeepsNumbersExactly() throws {
        let json = OutputRenderer.render(Self.rows, as: .json)
        #expect(json.contains(#""max_budget_usd":0.005"#))
        #expect(try JSONParser.parse(json).array?.count == 2)
    }

    @Test func setValuesAreJSONWhenTheyLookLikeIt() throws {
        #expect(FieldOptions.value("42") == .number("42"))
        #expect(FieldOptions.value("0.000001") == .number("0.000001"))
        #expect(FieldOptions.value("true") == .bool(true) && FieldOptions.value("null") == .null)
        #expect(FieldOptions.value(#"["a","b"]"#) == ["a", "b"])
        #expect(FieldOptions.value("acme") == .string("acme"))
        #expect(FieldOptions.value(#""123""#) == .string("123"), "quote a number to send it as text")
        #expect(FieldOptions.value("-x") == .string("-x"))
    }

    @Test func apiErrorsMapToExitCodes() {
        func code(_ status: Int) -> Int32 {
            CLIFailure(status: status, body: Array(#"{"error":{"type":"x","message":"m","field":"f"}}"#.utf8)).exitCode
        }
        #expect(code(400) == 64 && code(401) == 77 && code(403) == 77 && code(404) == 1 && code(409) == 1 && code(503) == 69)
        #expect(CLIFailure(status: 400, body: Array(#"{"error":{"type":"validation","message":"weight must be between 1 and 1000000","field":"weight"}}"#.utf8)).description
            == "error: weight must be between 1 and 1000000 (field: weight)")
    }
}
