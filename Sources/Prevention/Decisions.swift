import FHIR
import Foundation
import Storage
import Trust

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
        /// A care gap that does not apply: the patient declined it (informed refusal)…
        case declined = "gap-declined"
        /// …it is not indicated for this patient (the clinician's judgement)…
        case notIndicated = "gap-not-indicated"
        /// …or it was done where the record does not show it.
        case doneElsewhere = "gap-done-elsewhere"

        /// The operation's `decision` code (`accept`, `override`, `declined`, `not-indicated`, `done-elsewhere`).
        public init?(parameter: String) {
            switch parameter {
            case "accept": self = .accept
            case "override": self = .override
            case "declined": self = .declined
            case "not-indicated": self = .notIndicated
            case "done-elsewhere": self = .doneElsewhere
            default: return nil
            }
        }

        /// The operation's code for this kind.
        public var parameter: String {
            switch self {
            case .accept: return "accept"
            case .override: return "override"
            case .declined: return "declined"
            case .notIndicated: return "not-indicated"
            case .doneElsewhere: return "done-elsewhere"
            }
        }

        /// A decision about one care gap (it names an `item`), not about a score as a whole.
        public var isGapDecision: Bool { self == .declined || self == .notIndicated || self == .doneElsewhere }

        public var text: Localized {
            switch self {
            case .accept: return Localized("Recomendación del algoritmo aceptada por el personal clínico", "Algorithm recommendation accepted by the clinician")
            case .override: return Localized("Recomendación del algoritmo rechazada por el personal clínico", "Algorithm recommendation overridden by the clinician")
            case .declined: return Localized("La persona decidió no hacerlo (rechazo informado)", "The person declined it (informed refusal)")
            case .notIndicated: return Localized("No está indicado para esta persona, según su médico", "Not indicated for this person, in the clinician's judgement")
            case .doneElsewhere: return Localized("Ya se hizo en otro lugar (no consta en el expediente)", "Already done elsewhere (not in the record)")
            }
        }
    }

    /// What the clinician decided (`item`: the Cartilla item a gap decision is about).
    public struct Request: Sendable, Equatable {
        public var kind: Kind
        public var reason: String
        public var item: String?
        public init(kind: Kind, reason: String, item: String? = nil) {
            self.kind = kind
            self.reason = reason
            self.item = item
        }
    }

    /// The extension naming the Cartilla item (the care gap) a decision is about.
    public static let gapExtension = "https://enlace.mx/fhir/StructureDefinition/prevention-gap"

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
            guard ["decision", "reason", "item"].contains(name) else {
                throw FHIRError.badRequest("unknown parameter '\(name)' (expected decision, reason and, for a care gap, item)",
                                           "parámetro desconocido '\(name)' (se esperan decision, reason y, para una brecha, item)", code: "not-supported")
            }
        }
        guard let code = value("decision") else {
            throw FHIRError.badRequest("decision is required: accept or override (a score), declined, not-indicated or done-elsewhere (a care gap)",
                                       "falta decision: accept u override (un resultado), declined, not-indicated o done-elsewhere (una brecha)", code: "required")
        }
        guard let kind = Kind(parameter: code) else {
            throw FHIRError.badRequest("decision '\(code)' is not accept, override, declined, not-indicated or done-elsewhere",
                                       "decision '\(code)' no es accept (aceptar), override (rechazar), declined (rechazado por la persona), not-indicated (no indicado) ni done-elsewhere (hecho en otro lugar)",
                                       code: "code-invalid")
        }
        let item = value("item")?.trimmingCharacters(in: .whitespaces)
        if kind.isGapDecision {
            guard let item, !item.isEmpty else {
                throw FHIRError.badRequest("decision '\(code)' is about a care gap: item (the Cartilla item, e.g. mujer-mastografia) is required",
                                           "la decisión '\(code)' es sobre una brecha: falta item (el elemento de la Cartilla, p. ej. mujer-mastografia)", code: "required")
            }
            guard item.count <= 64, item.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw FHIRError.badRequest("item '\(item.prefix(64))' is not a Cartilla item id", "item '\(item.prefix(64))' no es un elemento de la Cartilla", code: "code-invalid")
            }
        } else if item != nil {
            throw FHIRError.badRequest("item is only for a care-gap decision (declined, not-indicated, done-elsewhere), not for \(code)",
                                       "item solo se usa en una decisión sobre una brecha (declined, not-indicated, done-elsewhere), no con \(code)", code: "invalid")
        }
        let reason = (value("reason") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty else {
            throw FHIRError.badRequest("a reason is required for accepting or overriding an algorithm's result",
                                       "se requiere un motivo para aceptar o rechazar el resultado de un algoritmo", code: "required")
        }
        guard reason.count <= maxReason else {
            throw FHIRError.badRequest("the reason is longer than \(maxReason) characters", "el motivo tiene más de \(maxReason) caracteres", code: "too-long")
        }
        return Request(kind: kind, reason: reason, item: kind.isGapDecision ? item : nil)
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
        if let item = decision.item { m.append(("extension", .array([.object([("url", .string(gapExtension)), ("valueString", .string(item))])]))) }
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

/// A clinician's decision that a care gap does not apply (read back from its Provenance): the
/// gap is then reported closed, with the decision beside what the schedule computed
/// (docs/prevention.md, "A decision counts").
public struct GapDecision: Sendable, Equatable {
    public var item: String
    public var kind: ClinicianDecision.Kind
    public var reason: String
    /// When it was recorded (the Provenance's `recorded`), and that as a date.
    public var recorded: String
    public var date: CivilDate
    /// The practitioner (a reference and, when known, their name) and the organization's name.
    public var practitioner: String
    public var practitionerName: String?
    public var organizationName: String?
    /// `Provenance/<id>`.
    public var provenance: String

    public init(item: String, kind: ClinicianDecision.Kind, reason: String, recorded: String, date: CivilDate, practitioner: String,
                practitionerName: String?, organizationName: String?, provenance: String) {
        self.item = item
        self.kind = kind
        self.reason = reason
        self.recorded = recorded
        self.date = date
        self.practitioner = practitioner
        self.practitionerName = practitionerName
        self.organizationName = organizationName
        self.provenance = provenance
    }

    /// The gap decision a Provenance records (nil for any other Provenance).
    public init?(provenance p: JSON) {
        guard p["resourceType"]?.stringValue == "Provenance",
              let coding = p["activity"]?["coding"]?.arrayValue?.first(where: { $0["system"]?.stringValue == ClinicianDecision.activitySystem }),
              let kind = coding["code"]?.stringValue.flatMap(ClinicianDecision.Kind.init(rawValue:)), kind.isGapDecision,
              let item = p["extension"]?.arrayValue?.first(where: { $0["url"]?.stringValue == ClinicianDecision.gapExtension })?["valueString"]?.stringValue,
              let recorded = p["recorded"]?.stringValue, let date = CivilDate(fhir: recorded),
              let agent = p["agent"]?.arrayValue?.first, let who = agent["who"]?["reference"]?.stringValue else { return nil }
        self.init(item: item, kind: kind, reason: p["reason"]?.arrayValue?.first?["text"]?.stringValue ?? "", recorded: recorded, date: date,
                  practitioner: who, practitionerName: agent["who"]?["display"]?.stringValue, organizationName: agent["onBehalfOf"]?["display"]?.stringValue,
                  provenance: "Provenance/\(p["id"]?.stringValue ?? "")")
    }

    /// Does the decision settle `item` as computed now? Only an open gap (due, overdue, declined)
    /// of the same cycle: one that was already due when the decision was recorded. When the item
    /// is done again and falls due later, the new gap is open again.
    public func applies(to item: PreventionItem) -> Bool {
        guard item.rule.id == self.item, item.status.isOpen else { return false }
        return (item.dueDate ?? CivilDate(1, 1, 1)) <= date
    }

    /// The DEQM gap's `DetectedIssue.mitigation`: what was decided (coded, with the clinician's
    /// words as text), when and by whom.
    public var mitigation: JSON {
        var author: [(String, JSON)] = [("reference", .string(practitioner))]
        if let practitionerName { author.append(("display", .string(practitionerName))) }
        return .object([
            ("action", .object([("coding", .array([.object([("system", .string(ClinicianDecision.activitySystem)), ("code", .string(kind.rawValue)),
                                                           ("display", .string(kind.text.en))])])),
                                ("text", .string("\(kind.text.es) / \(kind.text.en): \(reason)"))])),
            ("date", .string(recorded)),
            ("author", .object(author)),
        ])
    }

    /// The latest gap decision per item of each patient of `patients`, read through the asker's
    /// guard: the Provenances of those patients whose agent is a `verifier` (one search per 200
    /// patients). A principal that may not search Provenance sees none.
    public static func read(_ guarded: GuardedRepository, patients: [String]) async throws -> [String: [String: GapDecision]] {
        var out: [String: [String: GapDecision]] = [:]
        var start = 0
        while start < patients.count {
            let chunk = Array(patients[start..<min(start + RecordReader.pageChunk, patients.count)])
            start += chunk.count
            let found: [StoredResource]
            do {
                found = try await guarded.searchAll("Provenance", [("patient", chunk.map { "Patient/\($0)" }.joined(separator: ",")),
                                                                ("agent-type", "verifier")], pageSize: RecordReader.perType)
            } catch let e as FHIRError where e.status == 403 {
                return [:]
            }
            let set = Set(chunk)
            for r in found {
                guard let d = GapDecision(provenance: try r.json()) else { continue }
                for p in Set(r.compartments) where set.contains(p) {
                    if let old = out[p]?[d.item], old.recorded >= d.recorded { continue }
                    out[p, default: [:]][d.item] = d
                }
            }
        }
        return out
    }
}
