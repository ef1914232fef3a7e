import FairwayCore
import Hummingbird

/// Guards the admin API with `Authorization: Bearer $FAIRWAY_ADMIN_TOKEN`, compared in constant time.
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              ConstantTime.equals(String(header.dropFirst("Bearer ".count)), token)
        else {
            throw APIError(.unauthorized, "missing or invalid admin token (Authorization: Bearer …)")
        }
        return try await next(request, context)
    }
}
