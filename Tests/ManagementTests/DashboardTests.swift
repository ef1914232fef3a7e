import FairwayCore
import FairwayTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

@testable import Management

@Suite("Dashboard", .enabled(if: TestServers.enabled))
struct DashboardTests {
    /// A browser's cookie jar, for the in-process client.
    struct Browser {
        var cookies: [String: String] = [:]

        mutating func keep(_ reply: ManagementHarness.Reply) {
            for value in reply.headers[values: .setCookie] {
                let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                guard pair.count == 2 else { continue }
                cookies[pair[0]] = value.contains("Max-Age=0") ? nil : pair[1]
            }
        }

        var header: String { cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
    }

    static func request(_ api: ManagementHarness, _ method: HTTPRequest.Method, _ path: String, browser: inout Browser, form: [String: String]? = nil, headers extra: HTTPFields = [:]) async throws -> ManagementHarness.Reply {
        var headers = extra
        if !browser.cookies.isEmpty { headers[.cookie] = browser.header }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
        }
        let response = try await api.client.execute(uri: path, method: method, headers: headers, body: body)
        let reply = ManagementHarness.Reply(status: response.status, body: String(buffer: response.body), headers: response.headers)
        browser.keep(reply)
        return reply
    }

    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    static func signIn(_ api: ManagementHarness) async throws -> (Browser, String) {
        var browser = Browser()
        let login = try await request(api, .get, "/ui/login", browser: &browser)
        let csrf = try #require(hidden("csrf", in: login.body))
        let signedIn = try await request(api, .post, "/ui/login", browser: &browser, form: ["csrf": csrf, "token": ManagementHarness.token])
        try #require(signedIn.status == .seeOther && signedIn.headers[.location] == "/ui/overview", "\(signedIn.status) \(signedIn.body)")
        let overview = try await request(api, .get, "/ui/overview", browser: &browser)
        return (browser, try #require(hidden("csrf", in: overview.body)))
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndAnonymousVisitorsGoToLogin() async throws {
        try await ManagementHarness.with { api in
            var anonymous = Browser()
            for path in ["/ui/overview", "/ui/spend", "/ui/fairshare", "/ui/keys", "/ui/spend.csv"] {
                let reply = try await Self.request(api, .get, path, browser: &anonymous)
                #expect(reply.status == .seeOther && reply.headers[.location] == "/ui/login", "\(path)")
            }
            var browser = Browser()
            let login = try await Self.request(api, .get, "/ui/login", browser: &browser)
            #expect(login.status == .ok && login.body.contains("<label for=\"token\">"))
            let csrf = try #require(Self.hidden("csrf", in: login.body))
            #expect(try await Self.request(api, .post, "/ui/login", browser: &browser, form: ["csrf": "forged", "token": ManagementHarness.token]).status == .forbidden)
            let again = try #require(Self.hidden("csrf", in: try await Self.request(api, .get, "/ui/login", browser: &browser).body))
            #expect(again != csrf)
            #expect(try await Self.request(api, .post, "/ui/login", browser: &browser, form: ["csrf": again, "token": "not-the-token"]).status == .unauthorized)
            let fresh = try #require(Self.hidden("csrf", in: try await Self.request(api, .get, "/ui/login", browser: &browser).body))
            let signedIn = try await Self.request(api, .post, "/ui/login", browser: &browser, form: ["csrf": fresh, "token": ManagementHarness.token])
            let cookie = try #require(signedIn.headers[values: .setCookie].first { $0.hasPrefix("fw_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && !cookie.contains("Secure"))
            #expect(try await Self.request(api, .get, "/ui/overview", browser: &browser).status == .ok)

            var proxied = Browser()
            let behindTLS: HTTPFields = [HTTPField.Name("x-forwarded-proto")!: "https"]
            let tlsLogin = try await Self.request(api, .get, "/ui/login", browser: &proxied, headers: behindTLS)
            let tlsSignIn = try await Self.request(api, .post, "/ui/login", browser: &proxied, form: [
                "csrf": try #require(Self.hidden("csrf", in: tlsLogin.body)), "token": ManagementHarness.token,
            ], headers: behindTLS)
            #expect(tlsSignIn.headers[values: .setCookie].first { $0.hasPrefix("fw_session=") }?.contains("; Secure") == true)

            // A forged session cookie is no session; scripts may use the bearer token.
            var forged = Browser(cookies: ["fw_session": "9999999999.00000000000000000000000000000000.abc"])
            #expect(try await Self.request(api, .get, "/ui/keys", browser: &forged).status == .seeOther)
            var script = Browser()
            let bearer: HTTPFields = [.authorization: "Bearer \(ManagementHarness.token)"]
            #expect(try await Self.request(api, .get, "/ui/overview", browser: &script, headers: bearer).status == .ok)

            // Logging out needs the CSRF token too, and clears the cookie.
            #expect(try await Self.request(api, .post, "/ui/logout", browser: &browser, form: [:]).status == .forbidden)
            let (_, csrfToken) = (browser, Self.hidden("csrf", in: try await Self.request(api, .get, "/ui/overview", browser: &browser).body) ?? "")
            let out = try await Self.request(api, .post, "/ui/logout", browser: &browser, form: ["csrf": csrfToken])
            #expect(out.status == .seeOther && out.headers[values: .setCookie].contains { $0.hasPrefix("fw_session=;") && $0.contains("Max-Age=0") })
            #expect(try await Self.request(api, .get, "/ui/overview", browser: &browser).status == .seeOther)
        }
    }

    @Test func pagesShowTheNumbersTheAPIReports() async throws {
        try await ManagementHarness.with { api in
            let tenant = try #require(try await api.request(.post, "/v1/tenants", json: ["name": "acme"]).string("id"))
            let key = try #require(try await api.request(.post, "/v1/tenants/\(tenant)/keys", json: ["name": "ci key"]).string("id"))
            let today = CivilDay(microseconds: UnixClock.microseconds())
            for (offset, requests, failed, cost) in [(0, 10, 2, "1.25"), (-3, 5, 0, "0.5"), (-40, 7, 7, "9")] {
                try await api.database.withClient { client in
                    _ = try await client.query(
                        """
                        INSERT INTO daily_spend (day, tenant_id, api_key_id, model_name, requests, failed, succeeded, prompt_tokens, completion_tokens, cost_usd)
                        VALUES (\(today.adding(days: Int64(offset)).text)::date, \(UUID(uuidString: tenant) ?? UUID()), \(UUID(uuidString: key) ?? UUID()),
                                'gpt-x', \(requests), \(failed), \(requests - failed), 100, 50, \(cost)::numeric)
                        """,
                        logger: TestDatabase.logger
                    )
                }
            }
            var (browser, csrf) = try await Self.signIn(api)
            _ = csrf
            let overview = try await Self.request(api, .get, "/ui/overview", browser: &browser)
            #expect(overview.body.contains(#"<b data-metric="requests">10</b>"#) && overview.body.contains(#"<b data-metric="spend">$1.25</b>"#))
            #expect(overview.body.contains(#"<b data-metric="error_rate">20.0%</b>"#) && overview.body.contains(#"<b data-metric="tokens">150</b>"#))
            #expect(overview.body.contains(#"<b data-metric="requests">15</b>"#) && overview.body.contains(#"<b data-metric="spend">$1.75</b>"#), "30 days")

            let from = today.adding(days: -13).text, to = today.text
            let spend = try await Self.request(api, .get, "/ui/spend?from=\(from)&to=\(to)&by=tenant", browser: &browser)
            #expect(spend.status == .ok && spend.body.contains("<svg") && spend.body.components(separatedBy: "<rect").count - 1 >= 2)
            let api14 = try await api.request(.get, "/v1/spend/daily?from=\(from)&to=\(to)&group_by=tenant")
            let apiTotal = api14.data.compactMap { ($0["cost_usd"] as? String).flatMap { Decimal(string: $0) } }.reduce(0, +)
            #expect(apiTotal == Decimal(string: "1.75") && spend.body.contains(#"data-total="1.75""#), "\(api14.body)")
            let byModel = try await Self.request(api, .get, "/ui/spend?from=\(from)&to=\(to)&by=model", browser: &browser)
            #expect(byModel.body.contains("gpt-x"))
            let csv = try await Self.request(api, .get, "/ui/spend.csv?from=\(from)&to=\(to)&by=tenant", browser: &browser)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.body.components(separatedBy: "\r\n").filter { !$0.isEmpty } == [
                "day,tenant,requests,cost_usd", "\(today.adding(days: -3).text),acme,5,0.5", "\(today.text),acme,10,1.25",
            ])
            #expect(try await Self.request(api, .get, "/ui/spend?from=nonsense", browser: &browser).body.contains("Dates are YYYY-MM-DD."))
            #expect(try await Self.request(api, .get, "/ui/fairshare", browser: &browser).body.contains("acme"))

            // Keys: listed (escaped), disabled and rotated through the audited API code, only with the CSRF token.
            let keys = try await Self.request(api, .get, "/ui/keys", browser: &browser)
            #expect(keys.body.contains("ci key") && keys.body.contains("action=\"/ui/keys/\(key)/rotate\""))
            #expect(try await Self.request(api, .post, "/ui/keys/\(key)/disable", browser: &browser, form: [:]).status == .forbidden)
            #expect(try await api.request(.get, "/v1/keys/\(key)").json["disabled"] as? Bool == false)
            #expect(try await Self.request(api, .post, "/ui/keys/\(key)/disable", browser: &browser, form: ["csrf": csrf]).status == .seeOther)
            #expect(try await api.request(.get, "/v1/keys/\(key)").json["disabled"] as? Bool == true)
            let hashBefore = try await api.query("SELECT key_hash FROM api_keys", as: String.self)
            let rotated = try await Self.request(api, .post, "/ui/keys/\(key)/rotate", browser: &browser, form: ["csrf": csrf])
            let secret = try #require(rotated.body.range(of: #"<p class="secret" id="secret">"#).map { String(rotated.body[$0.upperBound...].prefix { $0 != "<" }) })
            let hashAfter = try await api.query("SELECT key_hash FROM api_keys", as: String.self)
            #expect(APIKeySecret.looksValid(secret) && [APIKeySecret.hash(secret)] == hashAfter)
            #expect(hashBefore != [APIKeySecret.hash(secret)])
            let actors = try await api.query("SELECT actor || ':' || action FROM audit_log WHERE entity_id = '\(key)' ORDER BY created_at", as: String.self)
            #expect(actors.suffix(2) == ["admin:dashboard:update_key", "admin:dashboard:rotate_key"])
        }
    }
}

@Suite("Dashboard charts")
struct SpendChartTests {
    @Test func barsStackPerDayAndLabelsAreEscaped() {
        let svg = SpendChart.stackedBars(days: ["2026-12-01", "2026-12-02"], series: [
            .init(label: "<script>", values: ["2026-12-01": 2_000_000_000_000]),
            .init(label: "b&c", values: ["2026-12-01": 1_000_000_000_000, "2026-12-02": 3_000_000_000_000]),
        ])
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        #expect(!svg.contains("<script>") && svg.contains("&lt;script&gt;") && svg.contains("b&amp;c"))
        #expect(svg.components(separatedBy: "<rect").count - 1 == 3 + 2, "three segments and two legend swatches")
        #expect(svg.contains("<title>2026-12-02 · b&amp;c: $3</title>"))
        // The tallest day fills the plot: 3 units of 3 over 228 px.
        #expect(svg.contains("height=\"228.0\""))
    }

    @Test func pairedBarsClampTheirValues() {
        let svg = SpendChart.pairedBars([("a", 0.5, 2), ("b", .nan, -1)], firstName: "share", secondName: "usage")
        #expect(svg.contains("a usage: 100.0%") && svg.contains("b share: 0.0%") && svg.contains("a share: 50.0%"))
    }
}
