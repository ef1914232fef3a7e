import FairwayCore
import Foundation
import Testing

@testable import Management

@Suite("Validation rules")
struct FieldRuleTests {
    @Test func namesAreBoundedAndCharsetChecked() throws {
        let rule = FieldRule.identifier("name")
        #expect(try rule.validate(.string("team-a.prod_1")) == .text("team-a.prod_1"))
        for bad in ["", "-leading", "has space", String(repeating: "x", count: 65), "ümlaut"] {
            let error = #expect(throws: APIError.self) { try rule.validate(.string(bad)) }
            #expect(error?.field == "name", "\(bad)")
        }
        #expect(throws: APIError.self) { try rule.validate(.integer(3)) }
        #expect(throws: APIError.self) { try rule.validate(.null) }
    }

    @Test func numbersKeepBooleansApart() throws {
        let weight = FieldRule.weight()
        #expect(try weight.validate(.integer(300)) == .integer(300))
        #expect(throws: APIError.self) { try weight.validate(.bool(true)) }
        #expect(throws: APIError.self) { try weight.validate(.integer(0)) }
        #expect(throws: APIError.self) { try weight.validate(.number("1.5")) }
        let limit = FieldRule.optionalLimit("max_concurrency")
        #expect(try limit.validate(.null) == .null)
    }

    @Test func decimalsStayExact() throws {
        let cost = FieldRule(name: "input_cost_per_token", kind: .decimal(minimumExclusive: false))
        #expect(try cost.validate(.string("0.0000025")) == .decimal("0.0000025"))
        #expect(try cost.validate(.number("0.0000025")) == .decimal("0.0000025"))
        // Digits a Double would lose are kept exactly, down to the columns' 12 decimals; finer is refused, not rounded.
        #expect(try cost.validate(.number("0.000001234567")) == .decimal("0.000001234567"))
        #expect(try cost.validate(.number("1234567890.123456789012")) == .decimal("1234567890.123456789012"))
        #expect(throws: APIError.self) { try cost.validate(.number("0.000001234567891234")) }
        #expect(try cost.validate(.integer(0)) == .decimal("0"))
        for bad: JSONValue in [.string("-1"), .string("1.2.3x"), .string("abc"), .bool(false)] {
            #expect(throws: APIError.self) { try cost.validate(bad) }
        }
    }

    @Test func urlsEnumsUUIDsAndTimes() throws {
        let url = FieldRule(name: "api_base", kind: .url)
        #expect(try url.validate(.string("https://api.openai.com/v1")) == .text("https://api.openai.com/v1"))
        for bad in ["ftp://x", "api.openai.com", "http://", "javascript:alert(1)", "https://user:secret@api.example.com/v1", "http://user@host/"] {
            #expect(throws: APIError.self) { try url.validate(.string(bad)) }
        }
        let strategy = FieldRule(name: "failover_strategy", kind: .enumeration(["priority", "round_robin"]))
        #expect(throws: APIError.self) { try strategy.validate(.string("random")) }
        let id = FieldRule(name: "model_id", kind: .uuid)
        #expect(throws: APIError.self) { try id.validate(.string("not-a-uuid")) }
        let time = FieldRule(name: "expires_at", kind: .timestamp, nullable: true)
        #expect(try time.validate(.string("2027-01-31T12:00:00Z")) == .timestamp(Date(timeIntervalSince1970: 1_801_396_800)))
        #expect(try time.validate(.string("2027-01-31T12:00:00.250+01:00")) != .null)
        #expect(throws: APIError.self) { try time.validate(.string("tomorrow")) }
    }

    @Test func bodiesRejectUnknownFieldsAndEmptyPatches() throws {
        let rules = ResourceDefinition.fairshareGroups.fields
        let typo = #expect(throws: APIError.self) {
            try rules.validate(JSONRequestBody(fields: ["name": .string("g"), "wieght": .integer(2)]), isCreate: true)
        }
        #expect(typo?.field == "wieght")
        // `name` is the key of a group: it cannot be patched, so sending it is an unknown field there.
        let rename = #expect(throws: APIError.self) {
            try rules.validate(JSONRequestBody(fields: ["name": .string("h")]), isCreate: false)
        }
        #expect(rename?.field == "name")
        #expect(throws: APIError.self) { try rules.validate(JSONRequestBody(fields: [:]), isCreate: false) }
        let missing = #expect(throws: APIError.self) { try rules.validate(JSONRequestBody(fields: [:]), isCreate: true) }
        #expect(missing?.field == "name")
    }

    @Test func representationsHideSecrets() {
        let models = ResourceDefinition.models.representation
        #expect(models.contains("- 'api_key'"))
        #expect(models.contains("'has_api_key', t.api_key IS NOT NULL"))
        #expect(ResourceDefinition.apiKeys.representation.contains("- 'key_hash'"))
    }

    @Test func constraintNamesBecomeFields() {
        #expect(DatabaseErrorMapping.fieldName(constraint: "tenants_name_key", table: "tenants") == "name")
        #expect(DatabaseErrorMapping.fieldName(constraint: "tenants_group_name_fkey", table: "tenants") == "group_name")
        #expect(DatabaseErrorMapping.fieldName(constraint: "fairshare_groups_name_pkey", table: "fairshare_groups") == "name")
        #expect(DatabaseErrorMapping.fieldName(constraint: "models_rpm_limit_check", table: "models") == "rpm_limit")
    }

    @Test func cursorsRoundTrip() throws {
        let values = ["2026-11-23 01:02:03.456789+00", "0b8f7a4e-6d3c-4e43-9c53-8f0d1f0f7a11"]
        #expect(PageRequest.decode(PageRequest.encode(values)) == values)
        #expect(PageRequest.decode("%%%") == nil)
        #expect(throws: APIError.self) { try PageRequest(query: ["cursor": "bm9wZQ"]) }
        #expect(try PageRequest(query: [:]).limit == 50)
    }

    @Test func apiKeySecrets() {
        let secret = APIKeySecret.generate()
        #expect(secret.value.count == 43)
        #expect(APIKeySecret.looksValid(secret.value))
        #expect(secret.displayPrefix.count == 12)
        #expect(secret.hash.count == 64)
        #expect(APIKeySecret.generate() != secret)
        #expect(!APIKeySecret.looksValid("fw-short"))
        // Exactly letters and digits: the characters next to each range are refused.
        let body = String(repeating: "a", count: APIKeySecret.randomLength - 1)
        for edge in ["0", "9", "A", "Z", "a", "z"] { #expect(APIKeySecret.looksValid("fw-" + body + edge), "\(edge)") }
        for outside in ["/", ":", "@", "[", "`", "{", "-", "é"] { #expect(!APIKeySecret.looksValid("fw-" + body + outside), "\(outside)") }
        #expect(ConstantTime.equals("abc", "abc"))
        #expect(!ConstantTime.equals("abc", "abd"))
        #expect(!ConstantTime.equals("abc", "abcd"))
    }
}
