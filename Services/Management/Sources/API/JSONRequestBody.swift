import FairwayJSON
import Foundation
import Hummingbird

/// The JSON object of an admin request, read with the API's limits: `application/json` only (415), at most
/// `maximumSize` bytes (413), an object at the top level (400).
struct JSONRequestBody: Sendable {
    static let maximumSize = 256 * 1024

    let fields: [String: JSONValue]

    init(fields: [String: JSONValue]) {
        self.fields = fields
    }

    /// Reads the body; an empty body counts as `{}` when `allowEmpty` (action routes such as `rotate`).
    static func read(_ request: Request, context: some RequestContext, allowEmpty: Bool = false) async throws -> JSONRequestBody {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumSize)
        } catch {
            throw APIError(.payloadTooLarge, "request body is larger than \(maximumSize) bytes")
        }
        if buffer.readableBytes == 0 {
            if allowEmpty { return JSONRequestBody(fields: [:]) }
            throw APIError(.validation, "request body must be a JSON object")
        }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json")
        }
        let value: JSONValue
        do {
            value = JSONValue(try JSONParser.parse(Array(buffer.readableBytesView)))
        } catch {
            throw APIError(.validation, "request body is not valid JSON (\(error))")
        }
        guard case .object(let fields) = value else {
            throw APIError(.validation, "request body must be a JSON object, not \(value.typeName)")
        }
        return JSONRequestBody(fields: fields)
    }

    /// Throws for the first field not in `allowed`: a typo must not be silently ignored.
    func rejectUnknown(allowed: Set<String>) throws(APIError) {
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw .validation(key, "unknown field '\(key)'; allowed: \(allowed.sorted().joined(separator: ", "))")
        }
    }
}
