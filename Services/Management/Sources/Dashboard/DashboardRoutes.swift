import FairwayCore
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// The operators' dashboard under `/ui/` (server-rendered; no JavaScript): overview, spend, fair share and keys.
///
/// A browser signs in with the admin token and gets an HttpOnly, SameSite=Strict session cookie (Secure over TLS);
/// every form carries a CSRF token. Scripts may send `Authorization: Bearer <admin token>` instead (and need no CSRF
/// token: a browser never adds that header by itself). Anyone else is sent to the login page. Changes go through
/// the same audited code as the API.
struct DashboardRoutes: Sendable {
    let session: DashboardSession
    let data: DashboardData
    let fairshare: FairshareReport
    let keyRoutes: APIKeyRoutes
    let keyResource: ResourceRoutes
    let library: MustacheLibrary

    init(adminToken: String, store: ConfigStore, fairshare: FairshareReport) throws {
        session = DashboardSession(adminToken: adminToken)
        data = DashboardData(store: store)
        self.fairshare = fairshare
        keyRoutes = APIKeyRoutes(store: store)
        keyResource = ResourceRoutes(definition: .apiKeys, store: store)
        library = try DashboardTemplates.library()
    }

    /// Who is asking: a browser session (with its CSRF token) or a script with the bearer token.
    enum Viewer {
        case browser(csrf: String)
        case script
        var csrf: String {
            if case .browser(let token) = self { return token }
            return ""
        }
    }

    func register(on router: Router<BasicRequestContext>) {
        let routes = self
        router.get("ui") { _, _ in Self.redirect("/ui/overview") }
        router.get("ui/login") { request, _ in routes.loginPage(request, error: nil) }
        router.post("ui/login") { request, context in try await routes.login(request, context: context) }
        router.post("ui/logout") { request, context in
            try await routes.guarded(request, context: context, form: true) { _, _ in
                var response = Self.redirect("/ui/login")
                response.headers[.setCookie] = DashboardSession.cookie(DashboardSession.cookieName, "", maxAge: 0, secure: Self.isSecure(request))
                return response
            }
        }
        router.get("ui/overview") { request, context in try await routes.guarded(request, context: context) { viewer, _ in try await routes.overview(viewer) } }
        router.get("ui/spend") { request, context in try await routes.guarded(request, context: context) { viewer, _ in try await routes.spend(request, viewer) } }
        router.get("ui/spend.csv") { request, context in try await routes.guarded(request, context: context) { _, _ in try await routes.spendCSV(request) } }
        router.get("ui/fairshare") { request, context in try await routes.guarded(request, context: context) { viewer, _ in try await routes.fairsharePage(viewer) } }
        router.get("ui/keys") { request, context in try await routes.guarded(request, context: context) { viewer, _ in try await routes.keysPage(viewer) } }
        router.post("ui/keys/:id/disable") { request, context in
            try await routes.guarded(request, context: context, form: true) { _, _ in
                let id = try Self.keyID(context)
                _ = try await routes.keyResource.update(key: .uuid(id), columns: [("disabled", .bool(true))], actor: "admin:dashboard")
                return Self.redirect("/ui/keys")
            }
        }
        router.post("ui/keys/:id/rotate") { request, context in
            try await routes.guarded(request, context: context, form: true) { viewer, _ in
                let json = try await routes.keyRoutes.rotate(keyID: try Self.keyID(context), actor: "admin:dashboard")
                let secret = ((try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any])?["key"] as? String ?? ""
                var response = routes.page("revealed", title: "Key rotated", viewer: viewer, current: "keys", ["secret": secret])
                response.headers[.cacheControl] = "no-store"
                return response
            }
        }
    }

    // MARK: Access

    /// Runs `body` for a signed-in browser or a script; anyone else goes to the login page. A form (`form: true`)
    /// from a browser must carry the session's CSRF token.
    func guarded(
        _ request: Request, context: BasicRequestContext, form: Bool = false,
        _ body: (Viewer, [String: String]) async throws -> Response
    ) async throws -> Response {
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
           session.checksToken(String(authorization.dropFirst(7))) {
            return try await body(.script, form ? try await Self.formFields(request, context: context) : [:])
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard let cookie = DashboardSession.cookieValue(DashboardSession.cookieName, in: request.headers[.cookie]),
              let nonce = session.verify(cookie, nowSeconds: now)
        else { return Self.redirect("/ui/login") }
        let csrf = session.csrfToken(session: nonce)
        var fields: [String: String] = [:]
        if form {
            fields = try await Self.formFields(request, context: context)
            guard let sent = fields["csrf"], DashboardSession.constantTimeEqual(sent, csrf) else {
                return Response(status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "Missing or wrong CSRF token.\n")))
            }
        }
        return try await body(.browser(csrf: csrf), fields)
    }

    static func formFields(_ request: Request, context: BasicRequestContext) async throws -> [String: String] {
        var request = request
        let body = try await request.collectBody(upTo: 64 << 10)
        return FormDecoding.fields(String(buffer: body))
    }

    func loginPage(_ request: Request, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let nonce = DashboardSession.nonce()
        var response = page("login", title: "Sign in", viewer: nil, current: "", ["csrf": session.loginToken(nonce: nonce), "error": error ?? false], status: status)
        response.headers[.setCookie] = DashboardSession.cookie(DashboardSession.loginCookieName, nonce, maxAge: 600, secure: Self.isSecure(request))
        return response
    }

    func login(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let fields = try await Self.formFields(request, context: context)
        guard let nonce = DashboardSession.cookieValue(DashboardSession.loginCookieName, in: request.headers[.cookie]),
              let csrf = fields["csrf"], DashboardSession.constantTimeEqual(csrf, session.loginToken(nonce: nonce))
        else { return loginPage(request, error: "The form expired; sign in again.", status: .forbidden) }
        guard let token = fields["token"], session.checksToken(token) else {
            return loginPage(request, error: "That is not the admin token.", status: .unauthorized)
        }
        var response = Self.redirect("/ui/overview")
        response.headers[.setCookie] = DashboardSession.cookie(
            DashboardSession.cookieName, session.issue(nowSeconds: Int64(Date().timeIntervalSince1970)),
            maxAge: DashboardSession.lifetimeSeconds, secure: Self.isSecure(request)
        )
        return response
    }

    /// TLS in front of management (a proxy says so with `X-Forwarded-Proto`), or a TLS listener.
    static func isSecure(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("x-forwarded-proto")!]?.lowercased() == "https" || request.uri.scheme == .https
    }

    static func keyID(_ context: BasicRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.parameters.require("id")) else { throw APIError.notFound("api key") }
        return id
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    func page(
        _ template: String, title: String, viewer: Viewer?, current: String, _ values: [String: Any], status: HTTPResponse.Status = .ok
    ) -> Response {
        var context = values
        context["csrf"] = values["csrf"] ?? viewer?.csrf ?? ""
        let body = library.render(context, withTemplate: template) ?? ""
        var nav: Any = false
        if let viewer { nav = ["csrf": viewer.csrf, current: true] as [String: Any] }
        let html = library.render(["title": title, "body": body, "nav": nav], withTemplate: "layout") ?? ""
        return Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("x-frame-options")!: "DENY"],
            body: .init(byteBuffer: ByteBuffer(string: html))
        )
    }
}
