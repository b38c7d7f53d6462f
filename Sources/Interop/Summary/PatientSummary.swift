import FHIR
import Foundation
import Storage
import Trust

/// `Patient/[id]/$summary`: the International Patient Summary (HL7 IPS IG,
/// https://hl7.org/fhir/uv/ips/) of a patient as the caller may see it — a `document` Bundle
/// whose first entry is a Composition with the IPS sections (docs/interop.md#patientsummary).
///
/// Every resource is read through the caller's guarded repository, so the summary holds what
/// the caller may see and nothing else, and every read is on the request's audit entry. A
/// section whose resource types the caller may not read at all is there with `emptyReason`
/// *withheld*; a section with nothing the caller can see, with *unavailable* — never left out
/// silently. The narrative is in Spanish.
public enum PatientSummary {
    /// One IPS section: its LOINC code, titles, and the searches that fill it.
    public struct Section: Sendable {
        public var key: String
        public var loinc: String
        public var display: String
        public var title: String
        /// (type, extra search parameters) read for the section.
        public var sources: [(type: String, parameters: [(String, String)])]
    }

    /// What no section lists: a record entered in error, and a Condition or allergy refuted
    /// (`:not` keeps the resources without the element).
    static let notInError: [(String, String)] = [("status:not", "entered-in-error")]
    static let verified: [(String, String)] = [("verification-status:not", "entered-in-error"), ("verification-status:not", "refuted")]
    /// A Condition that is over (the IPS lists it as past illness, not as a current problem).
    static let pastStatuses = ["inactive", "remission", "resolved"]

    /// The IPS sections (IPS IG 1.1, Composition-uv-ips): problems, medications and allergies
    /// (required), immunizations, results, procedures, devices, vital signs, past illness, plan of
    /// care. Current problems are the Conditions not inactive, in remission or resolved (those
    /// are past illness); nothing entered in error or refuted is listed; a cancelled
    /// prescription is not a medication.
    public static let sections: [Section] = [
        Section(key: "problems", loinc: "11450-4", display: "Problem list - Reported", title: "Problemas de salud",
                sources: [("Condition", pastStatuses.map { ("clinical-status:not", $0) } + verified)]),
        Section(key: "medications", loinc: "10160-0", display: "History of Medication use Narrative", title: "Medicamentos",
                sources: [("MedicationStatement", notInError), ("MedicationRequest", notInError + [("status:not", "cancelled")])]),
        Section(key: "allergies", loinc: "48765-2", display: "Allergies and adverse reactions Document", title: "Alergias e intolerancias",
                sources: [("AllergyIntolerance", verified)]),
        Section(key: "immunizations", loinc: "11369-6", display: "History of Immunization Narrative", title: "Vacunas",
                sources: [("Immunization", notInError)]),
        Section(key: "results", loinc: "30954-2", display: "Relevant diagnostic tests/laboratory data Narrative", title: "Resultados",
                sources: [("Observation", [("category", "laboratory")] + notInError), ("DiagnosticReport", notInError)]),
        Section(key: "procedures", loinc: "47519-4", display: "History of Procedures Document", title: "Procedimientos",
                sources: [("Procedure", notInError)]),
        // DeviceUseStatement has no status search parameter in R4
        Section(key: "devices", loinc: "46264-8", display: "History of medical device use", title: "Dispositivos médicos",
                sources: [("DeviceUseStatement", [])]),
        Section(key: "vital-signs", loinc: "8716-3", display: "Vital signs", title: "Signos vitales",
                sources: [("Observation", [("category", "vital-signs")] + notInError)]),
        Section(key: "past-illness", loinc: "11348-0", display: "History of Past illness Narrative", title: "Antecedentes: problemas resueltos o inactivos",
                sources: [("Condition", [("clinical-status", pastStatuses.joined(separator: ","))] + verified)]),
        Section(key: "plan-of-care", loinc: "18776-5", display: "Plan of care note", title: "Plan de cuidados",
                sources: [("CarePlan", [("status", "active,on-hold,draft")])]),
    ]

    /// How many resources of one type a section lists at most (newest first where the type has a date).
    public static let perType = 100

    /// The R4 date search parameter each type is sorted by, newest first, so that a record with
    /// more than `perType` of a type shows its latest (DeviceUseStatement has none).
    static let newestFirst: [String: String] = [
        "Condition": "recorded-date", "MedicationStatement": "effective", "MedicationRequest": "authoredon",
        "AllergyIntolerance": "date", "Immunization": "date", "Observation": "date", "DiagnosticReport": "date",
        "Procedure": "date", "CarePlan": "date",
    ]

    public static let emptyReasonSystem = "http://terminology.hl7.org/CodeSystem/list-empty-reason"

    /// Builds the document. Throws 404 when the caller may not see the patient (exactly like a
    /// patient that does not exist), 403 when the caller may not read Patients at all.
    /// - Parameters:
    ///   - id: the Patient's id.
    ///   - now: the document's time (`Bundle.timestamp`, `Composition.date`).
    ///   - documentID: the Bundle's identifier (a UUID).
    public static func build(patient id: String, repository: GuardedRepository, base: String, now: Timestamp, documentID: UUID) async throws -> JSON {
        let patient = try await repository.read("Patient", id)
        if patient.deleted { throw FHIRError.notFound("Patient", id) }
        let patientJSON = try patient.json()
        var included: [String: JSON] = [:]   // "Type/id" → resource, in order of first use
        var order: [String] = []
        var sectionsJSON: [JSON] = []
        let parser = SearchParser(options: { var o = SearchParser.Options(); o.maxCount = perType; return o }())
        for section in sections {
            var items: [StoredResource] = []
            var withheld = false
            var truncated: [String] = []
            for source in section.sources {
                if let readable = repository.decision.readableTypes, !readable.contains(source.type) { withheld = true; continue }
                let sort = newestFirst[source.type].map { [("_sort", "-" + $0)] } ?? []
                let (query, _) = try parser.parse(types: [source.type], parameters: [("patient", "Patient/\(id)")] + source.parameters
                                                  + sort + [("_count", String(perType)), ("_total", "none")])
                do {
                    let result = try await repository.search(query)
                    items += result.matches.filter { !$0.deleted }
                    if result.hasMore { truncated.append(source.type) }
                } catch let e as FHIRError where e.status == 403 {
                    withheld = true
                }
            }
            var refs: [String] = []
            var rows: [String] = []
            for r in items {
                let ref = "\(r.type)/\(r.id)"
                guard !refs.contains(ref) else { continue }
                let json = try r.json()
                refs.append(ref)
                rows.append(SummaryNarrative.row(json))
                if included[ref] == nil { included[ref] = json; order.append(ref) }
            }
            var s: [(String, JSON)] = [
                ("title", .string(section.title)),
                ("code", .object([("coding", .array([.object([("system", .string("http://loinc.org")), ("code", .string(section.loinc)),
                                                              ("display", .string(section.display))])]))])),
            ]
            if refs.isEmpty {
                let reason = withheld ? ("withheld", "Information Withheld") : ("unavailable", "Unavailable")
                let text = withheld ? "Información no disponible para usted: su acceso no incluye esta sección."
                                    : "No hay información registrada que usted pueda consultar."
                s.append(("text", SummaryNarrative.narrative("<p>\(SummaryNarrative.escape(text))</p>")))
                s.append(("emptyReason", .object([("coding", .array([.object([("system", .string(emptyReasonSystem)), ("code", .string(reason.0)),
                                                                              ("display", .string(reason.1))])]))])))
            } else {
                var html = "<ul>" + rows.map { "<li>\($0)</li>" }.joined() + "</ul>"
                if withheld { html += "<p>Parte de esta sección no está disponible para usted.</p>" }
                if !truncated.isEmpty {
                    // the reader must not take the list for the whole record
                    let sorted = truncated.allSatisfy { newestFirst[$0] != nil }
                    html += "<p>Se muestran \(sorted ? "los \(perType) más recientes" : "\(perType)") por tipo de recurso; el expediente tiene más (\(truncated.joined(separator: ", "))).</p>"
                }
                s.append(("text", SummaryNarrative.narrative(html)))
                s.append(("entry", .array(refs.map { .object([("reference", .string($0))]) })))
            }
            sectionsJSON.append(.object(s))
        }
        let compositionID = documentID.uuidString.lowercased()
        let name = HumanNameText.display(patientJSON, withPrefix: false) ?? "Patient/\(id)"
        let composition: JSON = .object([
            ("resourceType", .string("Composition")),
            ("id", .string(compositionID)),
            ("language", .string("es-MX")),
            ("text", SummaryNarrative.narrative("<p>Resumen internacional del paciente (IPS) de \(SummaryNarrative.escape(name)), generado el \(now.description).</p>")),
            ("status", .string("final")),
            ("type", .object([("coding", .array([.object([("system", .string("http://loinc.org")), ("code", .string("60591-5")),
                                                          ("display", .string("Patient summary Document"))])]))])),
            ("subject", .object([("reference", .string("Patient/\(id)"))])),
            ("date", .string(now.description)),
            ("author", .array([.object([("display", .string("Enlace"))])])),
            ("title", .string("Resumen del paciente (International Patient Summary)")),
            ("confidentiality", .string("N")),
            ("section", .array(sectionsJSON)),
        ])
        var entries: [JSON] = [
            .object([("fullUrl", .string("\(base)/Composition/\(compositionID)")), ("resource", composition)]),
            .object([("fullUrl", .string("\(base)/Patient/\(id)")), ("resource", patientJSON)]),
        ]
        for ref in order { entries.append(.object([("fullUrl", .string("\(base)/\(ref)")), ("resource", included[ref]!)])) }
        return .object([
            ("resourceType", .string("Bundle")),
            ("identifier", .object([("system", .string("urn:ietf:rfc:3986")), ("value", .string("urn:uuid:\(compositionID)"))])),
            ("type", .string("document")),
            ("timestamp", .string(now.description)),
            ("entry", .array(entries)),
        ])
    }
}

/// The Spanish narrative of the summary: one line per resource.
enum SummaryNarrative {
    static func narrative(_ html: String) -> JSON {
        .object([("status", .string("generated")), ("div", .string("<div xmlns=\"http://www.w3.org/1999/xhtml\">\(html)</div>"))])
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The text of a CodeableConcept: its `text`, else the first coding's display, else code.
    static func concept(_ c: JSON?) -> String? {
        guard let c else { return nil }
        if let t = c["text"]?.stringValue { return t }
        let codings = c["coding"]?.arrayValue ?? []
        if let d = codings.compactMap({ $0["display"]?.stringValue }).first { return d }
        return codings.compactMap { $0["code"]?.stringValue }.first
    }

    static func code(_ c: JSON?) -> String? { c?["coding"]?.arrayValue?.first?["code"]?.stringValue }

    static let statusES: [String: String] = [
        "active": "activo", "recurrence": "recurrente", "relapse": "recaída", "inactive": "inactivo", "remission": "en remisión",
        "resolved": "resuelto", "completed": "completado", "stopped": "suspendido", "on-hold": "en pausa", "intended": "previsto",
        "entered-in-error": "registrado por error", "draft": "borrador", "cancelled": "cancelado", "final": "final",
        "preliminary": "preliminar", "amended": "corregido", "not-done": "no realizado", "in-progress": "en curso",
    ]

    static func status(_ json: JSON) -> String? {
        let raw = json["clinicalStatus"].flatMap(code) ?? json["status"]?.stringValue
        return raw.map { statusES[$0] ?? $0 }
    }

    /// One line: what (with its code), its value or dose, when, and its status.
    static func row(_ json: JSON) -> String {
        let type = json["resourceType"]?.stringValue ?? ""
        var what: String
        switch type {
        case "MedicationRequest", "MedicationStatement":
            what = concept(json["medicationCodeableConcept"]) ?? json["medicationReference"]?["display"]?.stringValue ?? "Medicamento"
            if let dose = (json["dosageInstruction"] ?? json["dosage"])?.arrayValue?.first?["text"]?.stringValue { what += ": \(dose)" }
        case "Immunization":
            what = concept(json["vaccineCode"]) ?? "Vacuna"
        case "DeviceUseStatement":
            what = json["device"]?["display"]?.stringValue ?? "Dispositivo"
        case "CarePlan":
            what = json["title"]?.stringValue ?? json["description"]?.stringValue ?? concept(json["category"]?.arrayValue?.first) ?? "Plan de cuidados"
        default:
            what = concept(json["code"]) ?? type
        }
        if let c = code(json["code"] ?? json["vaccineCode"] ?? json["medicationCodeableConcept"]), !what.contains(c) { what += " (\(c))" }
        var parts = [escape(what)]
        if let q = json["valueQuantity"], let v = q["value"] {
            let n: String
            if case let .number(s) = v { n = s } else { n = v.stringValue ?? "" }
            parts.append(escape("\(n) \(q["unit"]?.stringValue ?? q["code"]?.stringValue ?? "")".trimmingCharacters(in: .whitespaces)))
        } else if let v = json["valueString"]?.stringValue ?? concept(json["valueCodeableConcept"]) {
            parts.append(escape(v))
        }
        if let crit = json["criticality"]?.stringValue { parts.append(["high": "criticidad alta", "low": "criticidad baja"][crit] ?? crit) }
        if let when = json["effectiveDateTime"]?.stringValue ?? json["onsetDateTime"]?.stringValue ?? json["occurrenceDateTime"]?.stringValue
            ?? json["performedDateTime"]?.stringValue ?? json["authoredOn"]?.stringValue ?? json["recordedDate"]?.stringValue {
            parts.append(escape(String(when.prefix(10))))
        }
        if let s = status(json) { parts.append(escape(s)) }
        return parts.joined(separator: " — ")
    }
}
