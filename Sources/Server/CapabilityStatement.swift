import Foundation
import FHIR

/// Generates `GET /fhir/metadata` (https://hl7.org/fhir/R4/capabilitystatement.html) from the
/// compiled definitions: every resource type, its interactions and its search parameters.
struct CapabilityStatementBuilder {
    let base: String
    /// Where the OAuth endpoints live (`ServerConfiguration.oauthBase`).
    var oauthBase: String?
    /// What the domain modules add (operations, rest extensions).
    var contributions: [CapabilityContribution] = []
    var definitions: Definitions = .r4

    /// The operations of `type` ("" for system-level): `$validate` and the domains' ones.
    func operations(_ type: String) -> [JSON] {
        var out: [JSON] = type.isEmpty ? [] : [.object([("name", .string("validate")),
                                                        ("definition", .string("http://hl7.org/fhir/OperationDefinition/Resource-validate"))])]
        for c in contributions {
            for op in c.operations[type] ?? [] {
                out.append(.object([("name", .string(op.name)), ("definition", .string(op.definition))]))
            }
        }
        return out
    }

    func build() -> JSON {
        let interactions: [JSON] = ["read", "vread", "update", "delete", "history-instance", "history-type", "create"]
            .map { .object([("code", .string($0))]) }
        let resources: [JSON] = definitions.resourceTypes.map { type in
            let params = (definitions.searchParametersByType[type] ?? [:]).values.sorted { $0.code < $1.code }
            let extensions = contributions.flatMap { $0.resourceExtensions[type] ?? [] }
            return .object((extensions.isEmpty ? [] : [("extension", JSON.array(extensions))]) + [
                ("type", .string(type)),
                ("profile", .string("http://hl7.org/fhir/StructureDefinition/\(type)")),
                ("interaction", .array(interactions)),
                ("versioning", .string("versioned-update")),
                ("readHistory", .bool(true)),
                ("updateCreate", .bool(true)),
                ("conditionalCreate", .bool(true)),
                ("conditionalUpdate", .bool(false)),
                ("conditionalDelete", .string("not-supported")),
                ("searchParam", .array(params.map { p in
                    .object([("name", .string(p.code)), ("definition", .string(p.url)), ("type", .string(p.type.rawValue))])
                })),
                ("operation", .array(operations(type))),
            ])
        }
        var rest: [(String, JSON)] = []
        let restExtensions = contributions.flatMap(\.restExtensions)
        if !restExtensions.isEmpty { rest.append(("extension", .array(restExtensions))) }
        let systemOperations = operations("")
        return .object([
            ("resourceType", .string("CapabilityStatement")),
            ("status", .string("active")),
            ("date", .string("2026-11-24")),
            ("publisher", .string("Enlace")),
            ("kind", .string("instance")),
            ("software", .object([("name", .string("Enlace")), ("version", .string(EnlaceVersion.current))])),
            ("implementation", .object([("description", .string("Enlace FHIR R4 server")), ("url", .string(base))])),
            ("fhirVersion", .string(definitions.fhirVersion)),
            ("format", .array([.string("application/fhir+json"), .string("json")])),
            ("rest", .array([.object(rest + [
                ("mode", .string("server")),
                ("documentation", .string("FHIR R4 (4.0.1) JSON. Every resource type with read, vread, update, delete, history, create and search; transactions and batches; the operations listed per type. See the project's docs/ for the access rules.")),
                ("security", security()),
                ("resource", .array(resources)),
                ("interaction", .array(["transaction", "batch", "search-system", "history-system"].map { .object([("code", .string($0))]) })),
            ] + (systemOperations.isEmpty ? [] : [("operation", .array(systemOperations))]))])),
        ])
    }

    /// `rest.security`: SMART on FHIR, with the authorization server's endpoints both in
    /// `.well-known/smart-configuration` and — for clients written before SMART App Launch 2 that
    /// still look here (the SMART Health IT Python `fhirclient`, for one) — in the `oauth-uris`
    /// extension, which SMART 2.x still allows for backward compatibility
    /// (https://hl7.org/fhir/smart-app-launch/STU1/conformance/).
    func security() -> JSON {
        var members: [(String, JSON)] = []
        if let o = oauthBase {
            func uri(_ name: String, _ value: String) -> JSON { .object([("url", .string(name)), ("valueUri", .string(value))]) }
            members.append(("extension", .array([.object([
                ("url", .string("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris")),
                ("extension", .array([uri("authorize", o + "/oauth/authorize"), uri("token", o + "/oauth/token"),
                                      uri("introspect", o + "/oauth/introspect"), uri("revoke", o + "/oauth/revoke")])),
            ])])))
        }
        members += [
            ("cors", .bool(false)),
            ("service", .array([.object([("coding", .array([.object([
                ("system", .string("http://terminology.hl7.org/CodeSystem/restful-security-service")),
                ("code", .string("SMART-on-FHIR")),
            ])]))])])),
            ("description", .string("Bearer tokens (ES256 JWT) are required on every endpoint except metadata and .well-known.")),
        ]
        return .object(members)
    }
}

/// The version of this build.
public enum EnlaceVersion {
    public static let current = "0.1.0"
}
