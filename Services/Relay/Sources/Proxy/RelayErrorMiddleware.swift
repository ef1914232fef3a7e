import Hummingbird

/// Answers unknown paths and methods in OpenAI's error shape instead of Hummingbird's default.
struct RelayErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            let relayError = RelayError(
                status: error.status, type: error.status == .notFound ? "invalid_request_error" : "server_error",
                message: error.status == .notFound ? "Unknown route \(request.method) \(request.uri.path)." : (error.body ?? "\(error.status)"),
                code: error.status == .notFound ? "unknown_route" : nil
            )
            return relayError.response
        }
    }
}
