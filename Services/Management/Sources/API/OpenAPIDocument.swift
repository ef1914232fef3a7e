import Foundation

/// The OpenAPI 3.1 description of the admin API, served at `/openapi.json`.
///
/// Resource paths and their request schemas are derived from the same ``ResourceDefinition``s that drive validation,
/// so the document cannot drift from what the server accepts; the few hand-written routes are listed here, and a test
/// checks that the router and this document name exactly the same routes.
struct OpenAPIDocument: Sendable {
    struct Operation: Sendable {
        var method: String
        var path: String
        var summary: String
        var requestFields: [FieldRule]? = nil
        var isCreate = false
        var successStatus = "200"
        var query: [FieldRule] = []
        var paginated = false
        var authenticated = true
    }

    let resources: [ResourceDefinition]

    var operations: [Operation] {
        var operations: [Operation] = [
            Operation(method: "get", path: "/healthz", summary: "Liveness: the process is up", authenticated: false),
            Operation(method: "get", path: "/readyz", summary: "Readiness: Postgres, Redis and migrations", authenticated: false),
            Operation(method: "get", path: "/metrics", summary: "Prometheus metrics", authenticated: false),
            Operation(method: "get", path: "/openapi.json", summary: "This document", authenticated: false),
        ]
        for resource in resources {
            let collection = "/v1/\(resource.path)"
            let item = "\(collection)/{\(resource.keyColumn == "id" ? "id" : resource.keyColumn)}"
            let noun = resource.displayName
            if resource.allowsCreate {
                operations.append(Operation(
                    method: "post", path: collection, summary: "Create a \(noun)",
                    requestFields: resource.fields, isCreate: true, successStatus: "201"
                ))
            }
            operations.append(Operation(method: "get", path: collection, summary: "List \(noun)s", query: resource.filters, paginated: true))
            operations.append(Operation(method: "get", path: item, summary: "Get a \(noun)"))
            operations.append(Operation(
                method: "patch", path: item, summary: "Update a \(noun)",
                requestFields: resource.fields.filter(\.updatable)
            ))
            operations.append(Operation(method: "delete", path: item, summary: "Delete a \(noun)", successStatus: "204"))
        }
        operations += [
            Operation(
                method: "post", path: "/v1/tenants/{id}/keys", summary: "Create an API key; the secret is returned once as `key`",
                requestFields: ResourceDefinition.apiKeys.fields, isCreate: true, successStatus: "201"
            ),
            Operation(method: "post", path: "/v1/keys/{id}/rotate", summary: "Replace a key's secret; the new one is returned once as `key`"),
            Operation(
                method: "post", path: "/v1/model-groups/{id}/members", summary: "Add a model to a group",
                requestFields: ModelGroupMemberRoutes.fields, isCreate: true, successStatus: "201"
            ),
            Operation(method: "delete", path: "/v1/model-groups/{id}/members/{model_id}", summary: "Remove a model from a group", successStatus: "204"),
            Operation(
                method: "get", path: "/v1/audit-log", summary: "Audit log, newest first",
                query: AuditLogRoutes.filters + [FieldRule(name: "from", kind: .timestamp), FieldRule(name: "to", kind: .timestamp)],
                paginated: true
            ),
            Operation(
                method: "get", path: "/v1/spend/daily",
                summary: "Daily spend from the rollup, grouped by any of day, tenant, key, model, group (JSON, or CSV with Accept: text/csv)",
                query: [
                    FieldRule(name: "from", kind: .text(maxLength: 10)), FieldRule(name: "to", kind: .text(maxLength: 10)),
                    FieldRule(name: "tenant_id", kind: .uuid), FieldRule(name: "api_key_id", kind: .uuid),
                    FieldRule(name: "model", kind: .text(maxLength: 256)), FieldRule(name: "group_by", kind: .text(maxLength: 64)),
                ],
                paginated: true
            ),
            Operation(
                method: "get", path: "/v1/tenants/{id}/spend", summary: "A tenant's spend: totals and a per-day series",
                query: [FieldRule(name: "from", kind: .text(maxLength: 10)), FieldRule(name: "to", kind: .text(maxLength: 10))]
            ),
            Operation(
                method: "get", path: "/v1/fairshare",
                summary: "Fair-share state: each tenant's weight, group, share and decayed usage; each capped deployment's capacity, in flight and waiting"
            ),
            Operation(
                method: "get", path: "/v1/budgets",
                summary: "Every tenant and key with a budget: limit, period, spent (the relays' live counter, else the rollup), remaining, resets at",
                query: [FieldRule(name: "tenant_id", kind: .uuid)], paginated: true
            ),
        ]
        return operations
    }

    /// `METHOD /path` for every documented operation, paths in OpenAPI `{param}` form.
    var routeKeys: Set<String> {
        Set(operations.map { "\($0.method.uppercased()) \($0.path)" })
    }

    var json: [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for operation in operations {
            var entry: [String: Any] = ["summary": operation.summary]
            var parameters: [[String: Any]] = []
            for name in Self.pathParameters(operation.path) {
                parameters.append(["name": name, "in": "path", "required": true, "schema": ["type": "string"]])
            }
            for rule in operation.query {
                parameters.append(["name": rule.name, "in": "query", "required": false, "schema": Self.schema(for: rule)])
            }
            if operation.paginated {
                parameters.append(["name": "limit", "in": "query", "schema": ["type": "integer", "minimum": 1, "maximum": 500, "default": 50]])
                parameters.append(["name": "cursor", "in": "query", "schema": ["type": "string"]])
            }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let fields = operation.requestFields {
                var properties: [String: Any] = [:]
                for rule in fields { properties[rule.name] = Self.schema(for: rule) }
                var schema: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
                let required = fields.filter { operation.isCreate && $0.requiredOnCreate }.map(\.name)
                if !required.isEmpty { schema["required"] = required }
                entry["requestBody"] = ["required": true, "content": ["application/json": ["schema": schema]]]
            }
            var responses: [String: Any] = [:]
            if operation.successStatus == "204" {
                responses[operation.successStatus] = ["description": "Done"] as [String: Any]
            } else {
                let content: [String: Any] = ["application/json": ["schema": ["type": "object"]]]
                responses[operation.successStatus] = ["description": "OK", "content": content] as [String: Any]
            }
            if operation.authenticated {
                for (status, description) in [
                    ("400", "Validation error (the `field` names the culprit)"), ("401", "Missing or wrong admin token"),
                    ("404", "Not found"), ("409", "Conflict (name taken, still in use)"), ("413", "Body too large"),
                    ("415", "Body is not application/json"),
                ] {
                    responses[status] = [
                        "description": description,
                        "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]],
                    ]
                }
                entry["security"] = [["adminToken": [String]()]]
            }
            entry["responses"] = responses
            paths[operation.path, default: [:]][operation.method] = entry
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Fairway management API",
                "version": "1",
                "description": "Control plane of the Fairway LLM gateway: tenants, keys, models, groups, audit log.",
            ],
            "paths": paths,
            "components": [
                "securitySchemes": ["adminToken": ["type": "http", "scheme": "bearer"]],
                "schemas": [
                    "Error": [
                        "type": "object",
                        "required": ["error"],
                        "properties": [
                            "error": [
                                "type": "object",
                                "required": ["type", "message"],
                                "properties": [
                                    "type": ["type": "string"], "message": ["type": "string"], "field": ["type": "string"],
                                ],
                            ],
                        ],
                    ],
                ],
            ],
        ]
    }

    static func pathParameters(_ path: String) -> [String] {
        path.split(separator: "/").compactMap { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? String(segment.dropFirst().dropLast()) : nil
        }
    }

    static func schema(for rule: FieldRule) -> [String: Any] {
        var schema: [String: Any]
        switch rule.kind {
        case .name(let maxLength, _): schema = ["type": "string", "minLength": 1, "maxLength": maxLength]
        case .text(let maxLength): schema = ["type": "string", "maxLength": maxLength]
        case .integer(let range): schema = ["type": "integer", "minimum": range.lowerBound, "maximum": range.upperBound]
        case .decimal: schema = ["oneOf": [["type": "number", "minimum": 0], ["type": "string", "pattern": "^[0-9.eE+-]+$"]]]
        case .double(let minimum): schema = ["type": "number", "exclusiveMinimum": minimum]
        case .bool: schema = ["type": "boolean"]
        case .url: schema = ["type": "string", "format": "uri"]
        case .enumeration(let values): schema = ["type": "string", "enum": values]
        case .uuid: schema = ["type": "string", "format": "uuid"]
        case .timestamp: schema = ["type": "string", "format": "date-time"]
        case .list(let maxCount, let item):
            schema = ["type": "array", "maxItems": maxCount, "items": Self.schema(for: FieldRule(name: rule.name, kind: item))]
        }
        if rule.secret { schema["writeOnly"] = true }
        if rule.nullable { schema = ["oneOf": [schema, ["type": "null"]]] }
        return schema
    }
}
