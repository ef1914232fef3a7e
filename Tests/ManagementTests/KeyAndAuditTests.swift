import Crypto
import FairwayCore
import FairwayRedis
import FairwayTestSupport
import Foundation
import Hummingbird
import Testing

@testable import Management

@Suite("Keys, audit, invalidation, versions", .enabled(if: TestServers.enabled))
struct KeyAndAuditTests {
    @Test func keySecretIsShownOnceStoredAsSHA256AndRotationReplacesIt() async throws {
        try await ManagementHarness.with { api in
            let tenant = try #require(try await api.request(.post, "/v1/tenants", json: ["name": "acme"]).string("id"))
            let created = try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: ["name": "ci key"])
            #expect(created.status == .created, "\(created.body)")
            let secret = try #require(created.string("key"))
            let keyID = try #require(created.string("id"))
            #expect(APIKeySecret.looksValid(secret))
            #expect(created.string("key_prefix") == String(secret.prefix(12)))
            #expect(created.json["key_hash"] == nil)

            let stored = try await api.query("SELECT key_hash FROM api_keys WHERE id = '\(keyID)'", as: String.self)
            #expect(stored == [SHA256.hash(data: Array(secret.utf8)).map { String(format: "%02x", $0) }.joined()])

            let fetched = try await api.request(.get, "/v1/keys/\(keyID)")
            #expect(fetched.json["key"] == nil && !fetched.body.contains(secret))
            let listed = try await api.request(.get, "/v1/keys?tenant_id=\(tenant)")
            #expect(listed.data.count == 1 && !listed.body.contains(secret))

            let rotated = try await api.request(.post, "/v1/keys/\(keyID)/rotate")
            #expect(rotated.status == .ok, "\(rotated.body)")
            let newSecret = try #require(rotated.string("key"))
            #expect(newSecret != secret)
            let hashes = try await api.query("SELECT key_hash FROM api_keys", as: String.self)
            #expect(hashes == [APIKeySecret.hash(newSecret)])
            #expect(!hashes.contains(APIKeySecret.hash(secret)))

            #expect(try await api.request(.post, "/v1/tenants/\(UUID())/keys", json: ["name": "x"]).status == .notFound)
            #expect(try await api.request(.post, "/v1/keys/\(keyID)/rotate", json: ["force": true]).errorField == "force")
        }
    }

    @Test func disablingAKeyPublishesItsHash() async throws {
        try await ManagementHarness.with { api in
            let subscriber = RedisSubscriber(configuration: try TestServers.redisConfiguration(), channels: [Invalidation.channel])
            let run = Task { try await subscriber.run() }
            defer { run.cancel() }
            var events = subscriber.events.makeAsyncIterator()
            #expect(await events.next() == .subscribed(isReconnect: false))

            let tenant = try #require(try await api.request(.post, "/v1/tenants", json: ["name": "globex"]).string("id"))
            let created = try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: ["name": "prod"])
            let keyID = try #require(created.string("id"))
            let hash = APIKeySecret.hash(try #require(created.string("key")))
            let disabled = try await api.request(.patch, "/v1/keys/\(keyID)", json: ["disabled": true])
            #expect(disabled.status == .ok)
            #expect(disabled.json["disabled"] as? Bool == true)

            // Other tests share this Redis: wait (at most 5 s) for the message about this key.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(5))
                run.cancel()
            }
            defer { watchdog.cancel() }
            var received: Invalidation?
            let decoder = JSONDecoder()
            while received == nil, let event = await events.next() {
                guard case .message(_, let payload) = event,
                      let message = try? decoder.decode(Invalidation.self, from: Data(payload.utf8)),
                      message.id == keyID, message.entity == "api_key"
                else { continue }
                // The create message also names the key; the disable one comes after it.
                if try await api.query("SELECT version FROM config_version", as: Int64.self).first == message.version {
                    received = message
                }
            }
            #expect(received?.keyHash == hash)
        }
    }

    @Test func everyMutationIsAuditedOnceVersionedAndFreeOfSecrets() async throws {
        try await ManagementHarness.with { api in
            let upstreamSecret = "sk-upstream-very-secret-value"
            let mcpSecret = "Bearer mcp-very-secret-value"
            var versions: [Int64] = [try await api.query("SELECT version FROM config_version", as: Int64.self)[0]]
            var expectedActions: [String] = []

            func mutate(_ method: HTTPRequest.Method, _ path: String, _ json: [String: Any]? = nil, action: String) async throws -> ManagementHarness.Reply {
                let reply = try await api.request(method, path, json: json)
                #expect(reply.status.code < 300, "\(method) \(path): \(reply.body)")
                expectedActions.append(action)
                versions.append(try await api.query("SELECT version FROM config_version", as: Int64.self)[0])
                return reply
            }

            _ = try await mutate(.post, "/v1/fairshare-groups", ["name": "research", "weight": 2], action: "create_fairshare_group")
            let tenant = try #require(try await mutate(.post, "/v1/tenants", ["name": "initech", "group_name": "research"], action: "create_tenant").string("id"))
            let key = try await mutate(.post, "/v1/tenants/\(tenant)/keys", ["name": "k"], action: "create_key")
            let keyID = try #require(key.string("id"))
            let keySecret = try #require(key.string("key"))
            let rotated = try await mutate(.post, "/v1/keys/\(keyID)/rotate", action: "rotate_key")
            let rotatedSecret = try #require(rotated.string("key"))
            let model = try #require(try await mutate(.post, "/v1/models", [
                "model_name": "gpt-x", "provider": "openai", "upstream_model": "gpt-x", "api_base": "http://127.0.0.1:9/v1",
                "api_key": upstreamSecret,
            ], action: "create_model").string("id"))
            #expect(try await api.request(.get, "/v1/models/\(model)").json["has_api_key"] as? Bool == true)
            _ = try await mutate(.patch, "/v1/models/\(model)", ["api_key": upstreamSecret + "-2"], action: "update_model")
            let group = try #require(try await mutate(.post, "/v1/model-groups", ["name": "smart"], action: "create_model_group").string("id"))
            let withMember = try await mutate(.post, "/v1/model-groups/\(group)/members", ["model_id": model, "priority": 1], action: "add_model_group_member")
            #expect((withMember.json["members"] as? [[String: Any]])?.first?["model_name"] as? String == "gpt-x")
            let duplicateMember = try await api.request(.post, "/v1/model-groups/\(group)/members", json: ["model_id": model])
            #expect(duplicateMember.status == .conflict)
            _ = try await mutate(.post, "/v1/mcp-servers", ["name": "files", "base_url": "http://127.0.0.1:9", "auth_header": mcpSecret], action: "create_mcp_server")

            // A group in use cannot go; a deleted model leaves its groups.
            let inUse = try await api.request(.delete, "/v1/fairshare-groups/research")
            #expect(inUse.status == .conflict)
            #expect(inUse.body.contains("1 tenant"))
            _ = try await mutate(.delete, "/v1/models/\(model)", action: "delete_model")
            #expect((try await api.request(.get, "/v1/model-groups/\(group)").json["members"] as? [Any])?.isEmpty == true)
            // Deleting the tenant takes its keys with it.
            _ = try await mutate(.delete, "/v1/tenants/\(tenant)", action: "delete_tenant")
            #expect(try await api.query("SELECT count(*)::int FROM api_keys", as: Int.self) == [0])

            // config_version strictly increases, once per mutation.
            #expect(zip(versions, versions.dropFirst()).allSatisfy { $0 + 1 == $1 }, "\(versions)")

            // Exactly one audit row per mutation, in order, each with before/after.
            let actions = try await api.query("SELECT action FROM audit_log ORDER BY created_at, id", as: String.self)
            #expect(actions == expectedActions)
            let shapes = try await api.query(
                "SELECT (payload ? 'before')::text || (payload ? 'after')::text FROM audit_log", as: String.self
            )
            #expect(shapes.allSatisfy { $0 == "truetrue" })
            let updates = try await api.query(
                "SELECT count(*)::int FROM audit_log WHERE payload->'before' <> 'null' AND payload->'after' <> 'null'", as: Int.self
            )
            #expect(updates == [3])  // rotate_key, update_model, add_model_group_member

            let audit = try await api.query("SELECT payload::text FROM audit_log", as: String.self).joined(separator: "\n")
            let logs = api.logs.text
            for secret in [upstreamSecret, mcpSecret, keySecret, rotatedSecret, APIKeySecret.hash(keySecret)] {
                #expect(!audit.contains(secret), "secret found in audit_log")
                #expect(!logs.contains(secret), "secret found in logs")
            }

            let page = try await api.request(.get, "/v1/audit-log?entity_type=api_key&limit=1")
            #expect(page.data.count == 1)
            #expect(page.data.first?["action"] as? String == "rotate_key")
            let next = try await api.request(.get, "/v1/audit-log?entity_type=api_key&limit=1&cursor=\(try #require(page.nextCursor))")
            #expect(next.data.first?["action"] as? String == "create_key")
            #expect(try await api.request(.get, "/v1/audit-log?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z").errorField == "to")
        }
    }
}
