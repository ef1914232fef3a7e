import HTTPTypes
import Hummingbird

/// An error answered in OpenAI's shape, `{"error":{"message","type","param","code"}}`, which every OpenAI SDK maps
/// to its exception types by status.
public struct RelayError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var type: String
    public var message: String
    public var param: String?
    public var code: String?
    public var retryAfterSeconds: Int?

    public init(status: HTTPResponse.Status, type: String, message: String, param: String? = nil, code: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.param = param
        self.code = code
        self.retryAfterSeconds = retryAfterSeconds
    }

    public static func invalidRequest(_ message: String, param: String? = nil, code: String? = nil) -> RelayError {
        RelayError(status: .badRequest, type: "invalid_request_error", message: message, param: param, code: code)
    }

    public static let unauthorized = RelayError(
        status: .unauthorized, type: "invalid_request_error",
        message: "Invalid API key. Send a valid Fairway key as 'Authorization: Bearer fw-…' or 'x-api-key'.", code: "invalid_api_key"
    )

    public static let authUnavailable = RelayError(
        status: .serviceUnavailable, type: "service_unavailable",
        message: "The key could not be checked right now; retry shortly.", code: "auth_unavailable", retryAfterSeconds: 1
    )

    public static let authThrottled = RelayError(
        status: .serviceUnavailable, type: "service_unavailable",
        message: "Too many key checks right now; retry shortly.", code: "auth_throttled", retryAfterSeconds: 1
    )

    public static func modelNotFound(_ name: String) -> RelayError {
        RelayError(
            status: .notFound, type: "invalid_request_error",
            message: "The model '\(name)' does not exist or you do not have access to it.", param: "model", code: "model_not_found"
        )
    }

    public static func modelNotAllowed(_ name: String) -> RelayError {
        RelayError(
            status: .forbidden, type: "permission_denied",
            message: "This API key may not use the model '\(name)'.", param: "model", code: "model_not_allowed"
        )
    }

    public static func bodyTooLarge(limit: Int) -> RelayError {
        RelayError(status: .contentTooLarge, type: "invalid_request_error", message: "Request body is larger than \(limit) bytes.", code: "request_too_large")
    }

    /// The error's JSON body.
    public var json: JSON {
        [
            "error": [
                "message": .string(message),
                "type": .string(type),
                "param": param.map(JSON.string) ?? .null,
                "code": code.map(JSON.string) ?? .null,
            ]
        ]
    }

    public var response: Response { response(in: .openAI) }

    /// The answer in a client's own wire format: OpenAI's, or Anthropic's (whose SDKs map the error type and status to
    /// their exception classes; a saturated deployment is 529 `overloaded_error` there, which they retry).
    public func response(in format: WireFormat) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        switch format {
        case .openAI, .responses:
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        case .anthropic:
            return Response(status: anthropicStatus, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: anthropicJSON.bytes)))
        }
    }

    /// The error in a client's format, for a stream's final error event.
    func json(in format: WireFormat) -> JSON {
        switch format {
        case .openAI: json
        case .anthropic: anthropicJSON
        case .responses: ["type": "error", "code": .string(code ?? type), "message": .string(message), "param": param.map(JSON.string) ?? .null]
        }
    }

    /// The event name of a stream's final error event, in formats that name their events.
    func streamEventName(in format: WireFormat) -> String? {
        format == .openAI ? nil : "error"
    }

    /// Anthropic's error body, `{"type":"error","error":{"type","message"}}`.
    public var anthropicJSON: JSON {
        ["type": "error", "error": ["type": .string(anthropicType), "message": .string(message)]]
    }

    var anthropicStatus: HTTPResponse.Status {
        type == "capacity_exceeded" || code == "upstream_rate_limited" ? .init(code: 529) : status
    }

    /// Anthropic's error type for this error's status.
    var anthropicType: String {
        switch anthropicStatus.code {
        case 400, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529, 503: "overloaded_error"
        default: "api_error"
        }
    }
}
