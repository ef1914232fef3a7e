import FairwayTestSupport
import Foundation
import Hummingbird
import Testing

/// One resource's life through the API, with valid and invalid bodies.
struct ResourceCase: Sendable, CustomTestStringConvertible {
    var path: String
    var valid: @Sendable (Int) -> [String: any Sendable]
    var patch: [String: any Sendable]
    var patchedField: String
    var invalid: [(body: [String: any Sendable], field: String)]
    var uniqueField: String?
    /// The path segment that identifies an item: "id", or "name" for fair-share groups.
    var keyField = "id"

    var testDescription: String { path }

    static let all: [ResourceCase] = [
        ResourceCase(
            path: "tenants",
            valid: { ["name": "tenant-\($0)", "weight": 100 + $0] },
            patch: ["weight": 300, "tokens_per_minute": 5000],
            patchedField: "weight",
            invalid: [
                (["name": ""], "name"), (["name": "bad name!"], "name"), (["name": "t", "weight": 0], "weight"),
                (["name": "t", "weight": true], "weight"), (["name": "t", "tokens_per_minute": -1], "tokens_per_minute"),
                (["name": "t", "wieght": 3], "wieght"), (["weight": 3], "name"),
                (["name": "t", "group_name": "no-such-group"], "group_name"),
            ],
            uniqueField: "name"
        ),
        ResourceCase(
            path: "fairshare-groups",
            valid: { ["name": "group-\($0)", "weight": 10] },
            patch: ["weight": 50],
            patchedField: "weight",
            invalid: [(["name": "g", "weight": -5], "weight"), (["name": "g/x"], "name")],
            uniqueField: "name",
            keyField: "name"
        ),
        ResourceCase(
            path: "models",
            valid: {
                [
                    "model_name": "model-\($0)", "provider": "openai", "upstream_model": "gpt-4o-mini",
                    "api_base": "http://127.0.0.1:9/v1", "api_key": "sk-upstream-secret-\($0)",
                    "input_cost_per_token": "0.0000025", "output_cost_per_token": 0.00001, "max_concurrency": 4,
                ]
            },
            patch: ["enabled": false, "admission_weight": 2.5],
            patchedField: "enabled",
            invalid: [
                (["model_name": "m", "provider": "azure", "upstream_model": "x", "api_base": "http://h/v1"], "provider"),
                (["model_name": "m", "provider": "openai", "upstream_model": "x", "api_base": "ftp://h"], "api_base"),
                (["model_name": "m", "provider": "openai", "upstream_model": "x", "api_base": "http://h", "input_cost_per_token": -1], "input_cost_per_token"),
                (["model_name": "m", "provider": "openai", "upstream_model": "x", "api_base": "http://h", "max_concurrency": 0], "max_concurrency"),
                (["model_name": "m", "provider": "openai", "api_base": "http://h"], "upstream_model"),
            ],
            uniqueField: "model_name"
        ),
        ResourceCase(
            path: "model-groups",
            valid: { ["name": "group/model-\($0)", "display_name": "Group \($0)"] },
            patch: ["failover_strategy": "round_robin"],
            patchedField: "failover_strategy",
            invalid: [(["name": "g", "failover_strategy": "random"], "failover_strategy"), (["display_name": "x"], "name")],
            uniqueField: "name"
        ),
        ResourceCase(
            path: "mcp-servers",
            valid: { ["name": "mcp-\($0)", "base_url": "https://mcp.example.com/\($0)", "auth_header": "Bearer mcp-secret-\($0)"] },
            patch: ["enabled": false],
            patchedField: "enabled",
            invalid: [(["name": "m", "base_url": "not a url"], "base_url"), (["name": "m"], "base_url")],
            uniqueField: "name"
        ),
    ]
}

@Suite("Management API resources", .enabled(if: TestServers.enabled))
struct ResourceCRUDTests {
    @Test(arguments: ResourceCase.all)
    func lifecycle(_ resource: ResourceCase) async throws {
        try await ManagementHarness.with { api in
            let base = "/v1/\(resource.path)"

            // Create → get.
            let created = try await api.request(.post, base, json: resource.valid(0))
            #expect(created.status == .created, "\(created.body)")
            let key = try #require(created.json[resource.keyField].map { "\($0)" })
            // Times are RFC 3339 in UTC whatever the database server's own time zone (the test server's is not UTC).
            #expect((created.json["created_at"] as? String)?.hasSuffix("+00:00") == true, "\(created.body)")
            let fetched = try await api.request(.get, "\(base)/\(key)")
            #expect(fetched.status == .ok)
            #expect(fetched.json[resource.keyField].map { "\($0)" } == key)
            for (field, value) in resource.valid(0) where !(field.hasSuffix("api_key") || field == "auth_header") {
                #expect(fetched.json[field] != nil, "\(field) missing from \(fetched.body)")
                _ = value
            }
            #expect(!fetched.body.contains("secret"), "a write-only secret came back: \(fetched.body)")

            // Pagination: 25 items in pages of 10 → 10, 10, 5, no item twice.
            for index in 1..<25 {
                let reply = try await api.request(.post, base, json: resource.valid(index))
                #expect(reply.status == .created, "\(reply.body)")
            }
            var seen: [String] = []
            var pageSizes: [Int] = []
            var cursor: String?
            repeat {
                let path = "\(base)?limit=10" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await api.request(.get, path)
                #expect(page.status == .ok, "\(page.body)")
                pageSizes.append(page.data.count)
                seen += page.data.compactMap { $0[resource.keyField].map { "\($0)" } }
                cursor = page.nextCursor
            } while cursor != nil && pageSizes.count < 10
            #expect(pageSizes == [10, 10, 5])
            #expect(Set(seen).count == 25 && seen.count == 25)

            // Patch.
            let escaped = key
            let patched = try await api.request(.patch, "\(base)/\(escaped)", json: resource.patch)
            #expect(patched.status == .ok, "\(patched.body)")
            let expected = resource.patch[resource.patchedField]
            if let flag = expected as? Bool {
                #expect(patched.json[resource.patchedField] as? Bool == flag, "\(patched.body)")
            } else {
                #expect("\(patched.json[resource.patchedField] ?? "nil")" == "\(expected ?? "x")")
            }
            #expect(try await api.request(.patch, "\(base)/\(escaped)", json: [:]).status == .badRequest)

            // Validation names the field; duplicate → 409; bad token → 401.
            for (body, field) in resource.invalid {
                let reply = try await api.request(.post, base, json: body)
                #expect(reply.status == .badRequest, "\(body) → \(reply.status) \(reply.body)")
                #expect(reply.errorField == field, "\(body) → \(reply.body)")
                #expect(reply.errorType == "validation_error")
            }
            if let unique = resource.uniqueField {
                let duplicate = try await api.request(.post, base, json: resource.valid(3))
                #expect(duplicate.status == .conflict, "\(duplicate.body)")
                #expect(duplicate.errorField == unique)
            }
            let unauthorized = try await api.request(.get, base, token: "wrong-token")
            #expect(unauthorized.status == .unauthorized)
            #expect(unauthorized.errorType == "unauthorized")
            #expect(try await api.request(.get, base, token: nil).status == .unauthorized)

            // Delete → 404.
            #expect(try await api.request(.delete, "\(base)/\(escaped)").status == .noContent)
            let gone = try await api.request(.get, "\(base)/\(escaped)")
            #expect(gone.status == .notFound)
            #expect(gone.errorType == "not_found")
            #expect(try await api.request(.delete, "\(base)/\(escaped)").status == .notFound)
        }
    }

    @Test func badBodiesAndRoutes() async throws {
        try await ManagementHarness.with { api in
            let notJSON = try await api.request(.post, "/v1/tenants", rawBody: "name=x", contentType: "application/x-www-form-urlencoded")
            #expect(notJSON.status == .unsupportedMediaType)
            #expect(notJSON.errorType == "unsupported_media_type")
            let broken = try await api.request(.post, "/v1/tenants", rawBody: "{\"name\":")
            #expect(broken.status == .badRequest)
            let array = try await api.request(.post, "/v1/tenants", rawBody: "[1,2]")
            #expect(array.status == .badRequest)
            let huge = try await api.request(.post, "/v1/tenants", rawBody: "{\"name\":\"" + String(repeating: "x", count: 300_000) + "\"}")
            #expect(huge.status == .contentTooLarge)
            #expect(huge.errorType == "payload_too_large")
            let unknownRoute = try await api.request(.get, "/v1/nothing-here")
            #expect(unknownRoute.status == .notFound)
            #expect(unknownRoute.errorType == "not_found")
            #expect(try await api.request(.get, "/v1/tenants/not-a-uuid").status == .notFound)
            let badLimit = try await api.request(.get, "/v1/tenants?limit=501")
            #expect(badLimit.errorField == "limit")
            let badFilter = try await api.request(.get, "/v1/tenants?colour=blue")
            #expect(badFilter.errorField == "colour")
        }
    }
}
