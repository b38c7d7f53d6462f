import FHIR
import Foundation

/// A clinician's decision about what an algorithm produced (a FINDRISC or cardiovascular
/// `RiskAssessment`, an `ImmunizationRecommendation`): accepted or overridden, with a reason,
/// recorded as a `Provenance` after the HL7 *AI Transparency on FHIR* IG's way of recording human
/// review of algorithm output — the clinician is the `verifier` agent, the reviewed version is the
/// `entity` (role `source`), the decision is the `activity`, the reason is the `reason`
/// (docs/prevention.md, "Accepting or overriding a recommendation").
public enum ClinicianDecision {
    /// Enlace's codes for the decision (`Provenance.activity`).
    public static let activitySystem = "https://enlace.mx/fhir/CodeSystem/algorithm-review"
    /// The types whose resources a clinician may accept or override.
    public static let reviewableTypes: Set<String> = ["RiskAssessment", "ImmunizationRecommendation"]
    /// Longest reason kept, characters.
    public static let maxReason = 1000

    public enum Kind: String, Sendable, CaseIterable {
        case accept = "algorithm-accepted"
        case override = "algorithm-overridden"

        /// The operation's `decision` code (`accept`, `override`).
        public init?(parameter: String) {
            switch parameter {
            case "accept": self = .accept
            case "override": self = .override
            default: return nil
            }
        }

        public var text: Localized {
            switch self {
            case .accept: return Localized("Recomendación del algoritmo aceptada por el personal clínico", "Algorithm recommendation accepted by the clinician")
            case .override: return Localized("Recomendación del algoritmo rechazada por el personal clínico", "Algorithm recommendation overridden by the clinician")
            }
        }
    }

    /// What the clinician decided.
    public struct Request: Sendable, Equatable {
        public var kind: Kind
        public var reason: String
        public init(kind: Kind, reason: String) {
            self.kind = kind
            self.reason = reason
        }
    }

    /// Reads the operation's `Parameters`: `decision` (valueCode `accept` | `override`) and
    /// `reason` (valueString, required). Throws a 400 naming what is missing or wrong.
    public static func parse(_ parameters: JSON?) throws -> Request {
        guard let parameters, parameters["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError.badRequest("the body must be a Parameters resource with decision and reason",
                                       "el cuerpo debe ser un recurso Parameters con decision y reason", code: "invalid")
        }
        let list = parameters["parameter"]?.arrayValue ?? []
        func value(_ name: String) -> String? {
            list.first { $0["name"]?.stringValue == name }.flatMap { $0["valueCode"]?.stringValue ?? $0["valueString"]?.stringValue }
        }
        for p in list {
            let name = p["name"]?.stringValue ?? ""
            guard ["decision", "reason"].contains(name) else {
                throw FHIRError.badRequest("unknown parameter '\(name)' (expected decision and reason)",
                                           "parámetro desconocido '\(name)' (se esperan decision y reason)", code: "not-supported")
            }
        }
        guard let code = value("decision") else {
            throw FHIRError.badRequest("decision is required: accept or override", "falta decision: accept (aceptar) u override (rechazar)", code: "required")
        }
        guard let kind = Kind(parameter: code) else {
            throw FHIRError.badRequest("decision '\(code)' is not accept or override", "decision '\(code)' no es accept (aceptar) ni override (rechazar)",
                                       code: "code-invalid")
        }
        let reason = (value("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw FHIRError.badRequest("a reason is required for accepting or overriding an algorithm's result",
                                       "se requiere un motivo para aceptar o rechazar el resultado de un algoritmo", code: "required")
        }
        guard reason.count <= maxReason else {
            throw FHIRError.badRequest("the reason is longer than \(maxReason) characters", "el motivo tiene más de \(maxReason) caracteres", code: "too-long")
        }
        return Request(kind: kind, reason: reason)
    }

    /// The Provenance of the decision about version `version` of `type/id` (about `patient`), by
    /// `practitioner` (a reference) on behalf of `organization` (a reference, if known). The
    /// target's security labels are copied, so the decision is withheld wherever the target is
    /// (the right not to know).
    public static func provenance(type: String, id: String, version: Int, patient: String, practitioner: String, organization: String?,
                                  decision: Request, recorded: String, security: JSON?, practitionerName: String? = nil, organizationName: String? = nil) -> JSON {
        func ref(_ r: String, _ display: String?) -> JSON {
            .object([("reference", .string(r))] + (display.map { [("display", JSON.string($0))] } ?? []))
        }
        var agent: [(String, JSON)] = [
            ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                          ("code", .string("verifier")), ("display", .string("Verifier"))])]))])),
            ("who", ref(practitioner, practitionerName)),
        ]
        if let organization { agent.append(("onBehalfOf", ref(organization, organizationName))) }
        var m: [(String, JSON)] = [("resourceType", .string("Provenance"))]
        if let security, !(security.arrayValue ?? []).isEmpty { m.append(("meta", .object([("security", security)]))) }
        m += [
            ("target", .array([.object([("reference", .string("\(type)/\(id)"))]), .object([("reference", .string("Patient/\(patient)"))])])),
            ("recorded", .string(recorded)),
            ("activity", .object([("coding", .array([.object([("system", .string(activitySystem)), ("code", .string(decision.kind.rawValue)),
                                                             ("display", .string(decision.kind.text.en))])])),
                                  ("text", .string(decision.kind.text.es))])),
            ("reason", .array([.object([("text", .string(decision.reason))])])),
            ("agent", .array([.object(agent)])),
            ("entity", .array([.object([("role", .string("source")),
                                        ("what", .object([("reference", .string("\(type)/\(id)/_history/\(version)"))]))])])),
        ]
        return .object(m)
    }
}
