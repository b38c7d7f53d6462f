import FHIR
import Foundation

/// `GET /fhir/openapi.json`: an OpenAPI 3.0.3 description of the FHIR API, generated from the
/// CapabilityStatement the server serves (docs/reliability.md, "OpenAPI"), so it never drifts
/// from it: every resource type with its interactions and search parameters, the operations the
/// domains register, transactions/batches, and the SMART security schemes.
///
/// Resource bodies are described loosely — an object with its `resourceType` (and `id`) — not
/// with the full R4 JSON Schema (3 MB), which client generators choke on; the R4 definitions
/// stay the reference for content, and every error is described as an `OperationOutcome`.
struct OpenAPIBuilder {
    /// The CapabilityStatement as built for `GET /fhir/metadata`.
    let capability: JSON
    let base: String
    var oauthBase: String?

    static let fhirJSON = "application/fhir+json"

    func build() -> JSON {
        var paths: [(String, JSON)] = [
            ("/metadata", .object([("get", operation("capabilities", summary: "The CapabilityStatement", tag: "system", security: false,
                                                     ok: ref("CapabilityStatement")))])),
            ("/", .object([("post", operation("transaction", summary: "A transaction or batch Bundle", tag: "system",
                                              body: ref("Bundle"), ok: ref("Bundle")))])),
            ("/_history", .object([("get", operation("history-system", summary: "History of every resource", tag: "system",
                                                     parameters: historyParameters, ok: ref("Bundle")))])),
        ]
        var schemas: [(String, JSON)] = [
            ("Resource", .object([
                ("type", .string("object")), ("required", .array([.string("resourceType")])),
                ("properties", .object([
                    ("resourceType", .object([("type", .string("string"))])),
                    ("id", idSchema),
                    ("meta", .object([("type", .string("object"))])),
                ])),
            ])),
            ("OperationOutcome", resourceSchema("OperationOutcome", extra: [
                ("issue", .object([("type", .string("array")), ("minItems", .number("1")),
                                   ("items", .object([("type", .string("object")), ("required", .array([.string("severity"), .string("code")])),
                                                      ("properties", .object([("severity", .object([("type", .string("string"))])),
                                                                              ("code", .object([("type", .string("string"))])),
                                                                              ("diagnostics", .object([("type", .string("string"))]))]))]))])),
            ], required: ["issue"])),
            ("Bundle", resourceSchema("Bundle", extra: [
                ("type", .object([("type", .string("string"))])),
                ("entry", .object([("type", .string("array")), ("items", .object([("type", .string("object"))]))])),
            ], required: ["type"])),
            ("CapabilityStatement", resourceSchema("CapabilityStatement")),
            ("Parameters", resourceSchema("Parameters", extra: [
                ("parameter", .object([("type", .string("array")), ("items", .object([("type", .string("object"))]))])),
            ])),
        ]
        var tags: [JSON] = [.object([("name", .string("system")), ("description", .string("Whole-server interactions"))])]
        let rest = capability["rest"]?.arrayValue?.first
        for resource in rest?["resource"]?.arrayValue ?? [] {
            guard let type = resource["type"]?.stringValue else { continue }
            tags.append(.object([("name", .string(type))]))
            if !["OperationOutcome", "Bundle", "CapabilityStatement", "Parameters"].contains(type) {
                schemas.append((type, resourceSchema(type)))
            }
            let interactions = Set((resource["interaction"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue })
            let search = (resource["searchParam"]?.arrayValue ?? []).compactMap { p -> JSON? in
                guard let name = p["name"]?.stringValue else { return nil }
                return query(name, description: "\(p["type"]?.stringValue ?? "") search parameter", schema: .object([("type", .string("string"))]))
            }
            var typePath: [(String, JSON)] = [("get", operation("search-\(type)", summary: "Search \(type)", tag: type,
                                                                parameters: search + resultParameters, ok: ref("Bundle")))]
            if interactions.contains("create") {
                typePath.append(("post", operation("create-\(type)", summary: "Create a \(type)", tag: type, body: ref(type), ok: ref(type), created: true)))
            }
            paths.append(("/\(type)", .object(typePath)))
            var instance: [(String, JSON)] = []
            if interactions.contains("read") {
                instance.append(("get", operation("read-\(type)", summary: "Read a \(type)", tag: type, parameters: [idParameter], ok: ref(type))))
            }
            if interactions.contains("update") {
                instance.append(("put", operation("update-\(type)", summary: "Update (or create) a \(type)", tag: type,
                                                  parameters: [idParameter, header("If-Match", "W/\"version\" for a versioned update")],
                                                  body: ref(type), ok: ref(type), created: true)))
            }
            if interactions.contains("delete") {
                instance.append(("delete", operation("delete-\(type)", summary: "Delete a \(type)", tag: type, parameters: [idParameter], ok: ref("OperationOutcome"))))
            }
            if !instance.isEmpty { paths.append(("/\(type)/{id}", .object(instance))) }
            if interactions.contains("history-type") {
                paths.append(("/\(type)/_history", .object([("get", operation("history-\(type)", summary: "History of every \(type)", tag: type,
                                                                             parameters: historyParameters, ok: ref("Bundle")))])))
            }
            if interactions.contains("history-instance") {
                paths.append(("/\(type)/{id}/_history", .object([("get", operation("history-instance-\(type)", summary: "History of a \(type)", tag: type,
                                                                                  parameters: [idParameter] + historyParameters, ok: ref("Bundle")))])))
            }
            if interactions.contains("vread") {
                let vid = path("vid", "The version id", schema: .object([("type", .string("string")), ("pattern", .string("^[0-9]{1,10}$"))]))
                paths.append(("/\(type)/{id}/_history/{vid}", .object([("get", operation("vread-\(type)", summary: "One version of a \(type)", tag: type,
                                                                                        parameters: [idParameter, vid], ok: ref(type)))])))
            }
            for op in resource["operation"]?.arrayValue ?? [] {
                guard let name = op["name"]?.stringValue else { continue }
                var o = operation("\(type)-\(name)", summary: "$\(name) on \(type)", tag: type, body: ref("Parameters"), ok: ref("Resource"))
                if let definition = op["definition"]?.stringValue {
                    o = o.setting("externalDocs", .object([("url", .string(definition))]))
                }
                paths.append(("/\(type)/$\(name)", .object([("post", o)])))
            }
        }
        var securitySchemes: [(String, JSON)] = [
            ("bearer", .object([("type", .string("http")), ("scheme", .string("bearer")), ("bearerFormat", .string("JWT")),
                                ("description", .string("A SMART on FHIR access token (ES256 JWT)"))])),
        ]
        if let o = oauthBase {
            securitySchemes.append(("smart", .object([
                ("type", .string("oauth2")),
                ("description", .string("SMART App Launch (authorization code + PKCE) and Backend Services (client credentials with a signed JWT assertion)")),
                ("flows", .object([
                    ("authorizationCode", .object([("authorizationUrl", .string(o + "/oauth/authorize")), ("tokenUrl", .string(o + "/oauth/token")),
                                                   ("scopes", scopes)])),
                    ("clientCredentials", .object([("tokenUrl", .string(o + "/oauth/token")), ("scopes", scopes)])),
                ])),
            ])))
        }
        return .object([
            ("openapi", .string("3.0.3")),
            ("info", .object([
                ("title", .string("Enlace FHIR R4 API")),
                ("version", .string(EnlaceVersion.current)),
                ("description", .string("Generated from the CapabilityStatement at \(base)/metadata. Resource content follows FHIR R4 (4.0.1): https://hl7.org/fhir/R4/. Every error is an OperationOutcome, in English (diagnostics) and Spanish (details.text).")),
                ("license", .object([("name", .string("See the project's LICENSE"))])),
            ])),
            ("servers", .array([.object([("url", .string(base))])])),
            ("tags", .array(tags)),
            ("security", .array([.object([("bearer", .array([]))])])),
            ("paths", .object(paths)),
            ("components", .object([("schemas", .object(schemas)), ("securitySchemes", .object(securitySchemes))])),
        ])
    }

    var scopes: JSON {
        .object([("patient/*.rs", .string("The patient's own record")), ("user/*.cruds", .string("What the user may see and do")),
                 ("system/*.rs", .string("Backend services")), ("launch/patient", .string("Patient context")), ("openid", .string("OpenID Connect")),
                 ("fhirUser", .string("The user's FHIR resource")), ("offline_access", .string("A refresh token"))])
    }

    var idSchema: JSON { .object([("type", .string("string")), ("pattern", .string("^[A-Za-z0-9\\-\\.]{1,64}$"))]) }

    var idParameter: JSON { path("id", "The logical id", schema: idSchema) }

    var resultParameters: [JSON] {
        [query("_count", description: "Page size", schema: .object([("type", .string("integer")), ("minimum", .number("0"))])),
         query("_sort", description: "Sort order", schema: .object([("type", .string("string"))])),
         query("_include", description: "Include referenced resources", schema: .object([("type", .string("string"))])),
         query("_revinclude", description: "Include referring resources", schema: .object([("type", .string("string"))])),
         query("_summary", description: "Summary mode", schema: .object([("type", .string("string")),
                                                                      ("enum", .array(["true", "false", "text", "data", "count"].map { .string($0) }))])),
         query("_total", description: "Total mode", schema: .object([("type", .string("string")), ("enum", .array(["none", "estimate", "accurate"].map { .string($0) }))])),
         query("_elements", description: "Elements to return", schema: .object([("type", .string("string"))]))]
    }

    var historyParameters: [JSON] {
        [query("_count", description: "Page size", schema: .object([("type", .string("integer")), ("minimum", .number("0"))])),
         query("_since", description: "Only versions after this instant", schema: .object([("type", .string("string"))])),
         query("_at", description: "Versions current at this time", schema: .object([("type", .string("string"))]))]
    }

    func ref(_ name: String) -> JSON { .object([("$ref", .string("#/components/schemas/\(name)"))]) }

    func resourceSchema(_ type: String, extra: [(String, JSON)] = [], required: [String] = []) -> JSON {
        .object([
            ("type", .string("object")),
            ("required", .array((["resourceType"] + required).map { .string($0) })),
            ("properties", .object([("resourceType", .object([("type", .string("string")), ("enum", .array([.string(type)]))])),
                                    ("id", idSchema)] + extra)),
            ("description", .string("A FHIR R4 \(type): https://hl7.org/fhir/R4/\(type.lowercased()).html")),
        ])
    }

    func query(_ name: String, description: String, schema: JSON) -> JSON {
        .object([("name", .string(name)), ("in", .string("query")), ("required", .bool(false)), ("description", .string(description)), ("schema", schema)])
    }

    func path(_ name: String, _ description: String, schema: JSON) -> JSON {
        .object([("name", .string(name)), ("in", .string("path")), ("required", .bool(true)), ("description", .string(description)), ("schema", schema)])
    }

    func header(_ name: String, _ description: String) -> JSON {
        .object([("name", .string(name)), ("in", .string("header")), ("required", .bool(false)), ("description", .string(description)),
                 ("schema", .object([("type", .string("string"))]))])
    }

    func content(_ schema: JSON) -> JSON { .object([(OpenAPIBuilder.fhirJSON, .object([("schema", schema)]))]) }

    func operation(_ id: String, summary: String, tag: String, security: Bool = true, parameters: [JSON] = [], body: JSON? = nil,
                   ok: JSON, created: Bool = false) -> JSON {
        var responses: [(String, JSON)] = [("200", .object([("description", .string("OK")), ("content", content(ok))]))]
        if created { responses.append(("201", .object([("description", .string("Created")), ("content", content(ok))]))) }
        responses.append(("default", .object([("description", .string("An error, as an OperationOutcome")), ("content", content(ref("OperationOutcome")))])))
        var members: [(String, JSON)] = [("operationId", .string(id)), ("summary", .string(summary)), ("tags", .array([.string(tag)]))]
        if !security { members.append(("security", .array([]))) }
        if !parameters.isEmpty { members.append(("parameters", .array(parameters))) }
        if let body {
            members.append(("requestBody", .object([("required", .bool(true)), ("content", content(body))])))
        }
        members.append(("responses", .object(responses)))
        return .object(members)
    }
}
