import Foundation
import FHIR

/// Generates `GET /fhir/metadata` (https://hl7.org/fhir/R4/capabilitystatement.html) from the
/// compiled definitions: every resource type, its interactions and its search parameters.
struct CapabilityStatementBuilder {
    let base: String
    var definitions: Definitions = .r4

    func build() -> JSON {
        let interactions: [JSON] = ["read", "vread", "update", "delete", "history-instance", "history-type", "create"]
            .map { .object([("code", .string($0))]) }
        let resources: [JSON] = definitions.resourceTypes.map { type in
            let params = (definitions.searchParametersByType[type] ?? [:]).values.sorted { $0.code < $1.code }
            return .object([
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
                ("operation", .array([.object([("name", .string("validate")),
                                               ("definition", .string("http://hl7.org/fhir/OperationDefinition/Resource-validate"))])])),
            ])
        }
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
            ("rest", .array([.object([
                ("mode", .string("server")),
                ("documentation", .string("Search (search-type) arrives with the search issue; the search parameters listed are those of R4 that Enlace indexes as it lands them.")),
                ("security", .object([
                    ("cors", .bool(false)),
                    ("service", .array([.object([("coding", .array([.object([
                        ("system", .string("http://terminology.hl7.org/CodeSystem/restful-security-service")),
                        ("code", .string("SMART-on-FHIR")),
                    ])]))])])),
                    ("description", .string("Bearer tokens (ES256 JWT) are required on every endpoint except metadata and .well-known.")),
                ])),
                ("resource", .array(resources)),
                ("interaction", .array([.object([("code", .string("history-system"))])])),
            ])])),
        ])
    }
}

/// The version of this build.
public enum EnlaceVersion {
    public static let current = "0.1.0"
}
