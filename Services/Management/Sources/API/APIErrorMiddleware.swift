import Hummingbird
import Logging

/// Makes every failure of the admin API a JSON error body: unknown routes and methods included, and unexpected errors
/// as a 500 that is logged here rather than shown to the client.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw APIError(.notFound, "no route for \(request.method) \(request.uri.path)")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "\(request.method) is not allowed on \(request.uri.path)")
            case .contentTooLarge: throw APIError(.payloadTooLarge, error.body ?? "request body too large")
            case .badRequest: throw APIError(.validation, error.body ?? "bad request")
            default: throw APIError(.internalError, error.body ?? "\(error.status)")
            }
        } catch {
            context.logger.error("Admin API request failed", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError(.internalError, "internal error; see the management logs")
        }
    }
}
