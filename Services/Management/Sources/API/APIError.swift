import Foundation
import Hummingbird

/// An admin-API failure, rendered as `{"error":{"type","message","field"}}` with its HTTP status.
public struct APIError: Error, HTTPResponseError, Equatable {
    public enum Kind: String, Sendable {
        case validation = "validation_error"
        case unauthorized = "unauthorized"
        case notFound = "not_found"
        case conflict = "conflict"
        case payloadTooLarge = "payload_too_large"
        case unsupportedMediaType = "unsupported_media_type"
        case methodNotAllowed = "method_not_allowed"
        case internalError = "internal_error"
        case unavailable = "service_unavailable"
    }

    public var kind: Kind
    public var message: String
    public var field: String?

    public init(_ kind: Kind, _ message: String, field: String? = nil) {
        self.kind = kind
        self.message = message
        self.field = field
    }

    public static func validation(_ field: String, _ message: String) -> APIError {
        APIError(.validation, message, field: field)
    }

    public static func notFound(_ what: String) -> APIError {
        APIError(.notFound, "\(what) not found")
    }

    public var status: HTTPResponse.Status {
        switch kind {
        case .validation: .badRequest
        case .unauthorized: .unauthorized
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .methodNotAllowed: .methodNotAllowed
        case .internalError: .internalServerError
        case .unavailable: .serviceUnavailable
        }
    }

    public var jsonBody: [String: Any] {
        var error: [String: Any] = ["type": kind.rawValue, "message": message]
        if let field { error["field"] = field }
        return ["error": error]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if kind == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let data = (try? JSONSerialization.data(withJSONObject: jsonBody, options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
