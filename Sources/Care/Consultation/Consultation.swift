import FHIR
import Foundation

/// What a clinician types to record a visit (docs/care.md#the-consultation): every field as sent
/// by the form, unparsed, so a refusal can show it back.
public struct ConsultationForm: Sendable, Equatable {
    public var patient: String
    public var reason: String = ""
    /// `AMB` (in person) or `VR` (telemedicine).
    public var mode: String = "AMB"
    public var note = ConsultationNote()
    /// Raw values by `VitalSign.key`.
    public var vitals: [String: String] = [:]
    /// Raw CIE-10 codes, as typed or chosen ("E11.9" or "E11.9 Diabetes…").
    public var diagnoses: [String] = []

    public init(patient: String) { self.patient = patient }
}

/// The note's text: SOAP (subjective, objective, assessment, plan), free text, or both.
public struct ConsultationNote: Sendable, Equatable {
    public var subjective = ""
    public var objective = ""
    public var assessment = ""
    public var plan = ""
    public var freeText = ""

    public init(subjective: String = "", objective: String = "", assessment: String = "", plan: String = "", freeText: String = "") {
        self.subjective = subjective
        self.objective = objective
        self.assessment = assessment
        self.plan = plan
        self.freeText = freeText
    }

    var isEmpty: Bool { [subjective, objective, assessment, plan, freeText].allSatisfy { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty } }

    /// The sections of the note: (form key, LOINC code, LOINC display, Spanish title, text).
    /// Codes: the C-CDA narrative sections (Subjective 61150-9, Objective 61149-1,
    /// Assessment 51848-0, Plan of care 18776-5) and the generic Note 34109-9 for free text.
    public static let sections: [(key: String, code: String, display: String, title: String)] = [
        ("subjetivo", "61150-9", "Subjective Narrative", "Subjetivo"),
        ("objetivo", "61149-1", "Objective Narrative", "Objetivo"),
        ("analisis", "51848-0", "Evaluation note", "Análisis"),
        ("plan", "18776-5", "Plan of care note", "Plan"),
        ("nota", "34109-9", "Note", "Nota"),
    ]

    public func text(_ key: String) -> String {
        switch key {
        case "subjetivo": return subjective
        case "objetivo": return objective
        case "analisis": return assessment
        case "plan": return plan
        default: return freeText
        }
    }

    public mutating func set(_ key: String, _ value: String) {
        switch key {
        case "subjetivo": subjective = value
        case "objetivo": objective = value
        case "analisis": assessment = value
        case "plan": plan = value
        default: freeText = value
        }
    }

    /// The note as a Composition's sections carry it (nil for a Composition without them).
    public static func of(_ composition: JSON) -> ConsultationNote {
        var note = ConsultationNote()
        for s in composition["section"]?.arrayValue ?? [] {
            let code = s["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
            guard let key = sections.first(where: { $0.code == code })?.key, let div = s["text"]?["div"]?.stringValue else { continue }
            note.set(key, Consultation.plainText(div))
        }
        return note
    }
}

/// Builds and checks a consultation (docs/care.md#the-consultation): from a form to ONE
/// transaction Bundle — a finished `Encounter` (class AMB or VR, the practitioner as primary
/// performer, the reason, the diagnoses), one encounter-diagnosis `Condition` per CIE-10 code,
/// one vital-signs `Observation` per vital sign (the blood pressure as the 85354-9 panel), a
/// `Composition` note (LOINC 34108-1, SOAP sections) and the author's `Provenance` over all of
/// them with the author's signature — to be written through the clinician's guarded repository,
/// so the guard decides whether they may record for this patient. A note is corrected only as
/// a new version of its Composition, with a Provenance (activity UPDATE) that carries the reason.
/// Pure: no I/O.
public struct Consultation: Sendable {
    public static let cie10 = "http://hl7.org/fhir/sid/icd-10"
    public static let loinc = "http://loinc.org"
    public static let ucum = "http://unitsofmeasure.org"
    /// LOINC 34108-1 Outpatient Note: the type of every consultation note.
    public static let noteType = (code: "34108-1", display: "Outpatient Note")
    /// The Author's Signature (ASTM E1762-95, the R4 signature-type value set).
    public static let authorSignature = (system: "urn:iso-astm:E1762-95:2013", code: "1.2.840.10065.1.12.1.1", display: "Author's Signature")
    static let maxDiagnoses = 8
    static let maxText = 20_000

    public var limits: VitalSignLimits
    /// The display of a CIE-10 code in the catalogue, nil when the catalogue does not have it
    /// (the Server wires the terminology service in: Care does not import Interop).
    public var catalogue: @Sendable (String) -> String?

    public init(limits: VitalSignLimits = .embedded, catalogue: @escaping @Sendable (String) -> String?) {
        self.limits = limits
        self.catalogue = catalogue
    }

    /// What a checked form holds.
    public struct Checked: Sendable {
        public var reason: String
        public var mode: String
        public var note: ConsultationNote
        public var vitals: [(sign: VitalSign, value: String)]
        public var diagnoses: [(code: String, display: String)]
    }

    // MARK: - checking

    static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A decimal as typed in Mexico or elsewhere ("72.5" or "72,5"), as FHIR's decimal text.
    public static func decimal(_ raw: String) -> String? {
        let s = trimmed(raw).replacingOccurrences(of: ",", with: ".")
        guard !s.isEmpty, s.count <= 12 else { return nil }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        return s
    }

    /// The CIE-10 code a diagnosis field names: its first word, upper case ("e11.9 Diabetes" → "E11.9").
    public static func code(_ raw: String) -> String {
        String(trimmed(raw).split(whereSeparator: { $0 == " " || $0 == "\u{2014}" || $0 == "\t" }).first ?? "").uppercased()
    }

    /// Checks a form; throws a 422 `FHIRError` with one issue per problem, each naming its form
    /// field in `expression`, in Spanish and English. Nothing is built from a refused form.
    public func check(_ form: ConsultationForm) throws -> Checked {
        var issues: [Issue] = []
        func refuse(_ field: String, _ english: String, _ spanish: String, code: String = "required") {
            issues.append(Issue(code: code, english: english, spanish: spanish, expression: [field]))
        }
        let reason = Consultation.trimmed(form.reason)
        if reason.isEmpty { refuse("motivo", "the reason for the visit is required", "el motivo de la consulta es obligatorio") }
        if reason.count > 500 { refuse("motivo", "the reason for the visit is longer than 500 characters", "el motivo de la consulta supera 500 caracteres", code: "too-long") }
        if !["AMB", "VR"].contains(form.mode) {
            refuse("modalidad", "the visit is in person (AMB) or by telemedicine (VR)", "la consulta es presencial (AMB) o por telemedicina (VR)", code: "value")
        }
        if form.note.isEmpty {
            refuse("nota", "write the note: subjective, objective, assessment and plan, or free text",
                   "escriba la nota: subjetivo, objetivo, análisis y plan, o texto libre")
        }
        for s in ConsultationNote.sections where form.note.text(s.key).count > Consultation.maxText {
            refuse(s.key, "the section \(s.display) is longer than \(Consultation.maxText) characters",
                   "la sección \(s.title) supera \(Consultation.maxText) caracteres", code: "too-long")
        }
        var vitals: [(sign: VitalSign, value: String)] = []
        for sign in limits.signs {
            let raw = Consultation.trimmed(form.vitals[sign.key] ?? "")
            if raw.isEmpty { continue }
            guard let value = Consultation.decimal(raw), let number = Decimal(string: value, locale: Locale(identifier: "en_US_POSIX")) else {
                refuse(sign.key, "\(sign.english): '\(raw)' is not a number", "\(sign.spanish): «\(raw)» no es un número", code: "value")
                continue
            }
            guard number >= sign.low, number <= sign.high else {
                refuse(sign.key, "\(sign.english) \(value) \(sign.unitDisplay) is impossible: it must be between \(sign.low) and \(sign.high) \(sign.unitDisplay)",
                       "\(sign.spanish) \(value) \(sign.unitDisplay) es imposible: debe estar entre \(sign.low) y \(sign.high) \(sign.unitDisplay)", code: "value")
                continue
            }
            vitals.append((sign, value))
        }
        let systolic = vitals.first { $0.sign.key == "sistolica" }, diastolic = vitals.first { $0.sign.key == "diastolica" }
        let sentSystolic = !Consultation.trimmed(form.vitals["sistolica"] ?? "").isEmpty
        let sentDiastolic = !Consultation.trimmed(form.vitals["diastolica"] ?? "").isEmpty
        if sentSystolic != sentDiastolic {
            refuse(sentSystolic ? "diastolica" : "sistolica", "a blood pressure needs both the systolic and the diastolic pressure",
                   "la presión arterial necesita la sistólica y la diastólica")
        } else if let s = systolic, let d = diastolic, let sv = Decimal(string: s.value), let dv = Decimal(string: d.value), dv >= sv {
            refuse("diastolica", "the diastolic pressure (\(d.value)) must be lower than the systolic (\(s.value))",
                   "la presión diastólica (\(d.value)) debe ser menor que la sistólica (\(s.value))", code: "value")
        }
        var diagnoses: [(code: String, display: String)] = []
        for (i, raw) in form.diagnoses.enumerated() {
            let code = Consultation.code(raw)
            if code.isEmpty { continue }
            let field = "diagnostico\(i + 1)"
            if diagnoses.contains(where: { $0.code == code }) {
                refuse(field, "the diagnosis \(code) is repeated", "el diagnóstico \(code) está repetido", code: "duplicate")
            } else if code.contains("-") {
                refuse(field, "\(code) is a chapter or block of the CIE-10, not a diagnosis: choose a category or subcategory",
                       "\(code) es un capítulo o grupo de la CIE-10, no un diagnóstico: elija una categoría o subcategoría", code: "code-invalid")
            } else if let display = catalogue(code) {
                diagnoses.append((code, display))
            } else {
                refuse(field, "\(code) is not a code of the CIE-10 catalogue (\(Consultation.cie10))",
                       "\(code) no es un código del catálogo CIE-10 (\(Consultation.cie10))", code: "code-invalid")
            }
        }
        if diagnoses.count > Consultation.maxDiagnoses {
            refuse("diagnostico1", "at most \(Consultation.maxDiagnoses) diagnoses", "a lo más \(Consultation.maxDiagnoses) diagnósticos", code: "too-long")
        }
        guard issues.isEmpty else { throw FHIRError(status: 422, issues: issues) }
        return Checked(reason: reason, mode: form.mode, note: form.note, vitals: vitals, diagnoses: diagnoses)
    }

    // MARK: - building

    static func s(_ v: String) -> JSON { .string(v) }
    static func ref(_ r: String) -> JSON { .object([("reference", .string(r))]) }
    static func coding(_ system: String, _ code: String, _ display: String) -> JSON {
        .object([("system", .string(system)), ("code", .string(code)), ("display", .string(display))])
    }
    static func concept(_ system: String, _ code: String, _ display: String, text: String? = nil) -> JSON {
        .object([("coding", .array([coding(system, code, display)]))] + (text.map { [("text", JSON.string($0))] } ?? []))
    }

    /// Escapes text for XHTML.
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// A section's narrative: one XHTML paragraph per line of the text.
    public static func narrative(_ text: String) -> JSON {
        let lines = trimmed(text).replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.map { "<p>\(escape(String($0)))</p>" }.joined()
        return .object([("status", .string("additional")), ("div", .string("<div xmlns=\"http://www.w3.org/1999/xhtml\">\(body)</div>"))])
    }

    /// The text of a narrative written by `narrative` (paragraphs as lines, entities decoded).
    public static func plainText(_ div: String) -> String {
        var s = div.replacingOccurrences(of: "</p><p>", with: "\n")
        while let open = s.range(of: "<"), let close = s.range(of: ">", range: open.upperBound..<s.endIndex) {
            s.removeSubrange(open.lowerBound..<close.upperBound)
        }
        return s.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    static func noteSections(_ note: ConsultationNote) -> [JSON] {
        ConsultationNote.sections.compactMap { s in
            let text = trimmed(note.text(s.key))
            guard !text.isEmpty else { return nil }
            return .object([("title", .string(s.title)), ("code", concept(loinc, s.code, s.display)), ("text", narrative(text))])
        }
    }

    static func uuid() -> String { "urn:uuid:" + UUID().uuidString.lowercased() }

    static func entry(_ fullUrl: String, _ resource: JSON, method: String = "POST", url: String, ifMatch: Int? = nil) -> JSON {
        var request: [(String, JSON)] = [("method", .string(method)), ("url", .string(url))]
        if let ifMatch { request.append(("ifMatch", .string("W/\"\(ifMatch)\""))) }
        return .object((fullUrl.isEmpty ? [] : [("fullUrl", JSON.string(fullUrl))]) + [("resource", resource), ("request", .object(request))])
    }

    /// The author's Provenance: `agent` author (on behalf of their organization), `target` every
    /// resource written (each `reference` with, for a resource the transaction creates, its
    /// `urn:uuid:` full URL kept as `identifier`, which the signature's content names it by,
    /// `ConsultationSignature`) and the patient, and the author's signature: `signature` a FHIR
    /// Signature with the JWS as `data` (`AuthorSignature.signature`), or without one an
    /// attestation by the signed-in author (type, who, when; docs/care.md).
    static func provenance(targets: [(reference: String, identifier: String?)], author: String, organization: String?, now: Timestamp, activity: String,
                           reason: String? = nil, revisionOf: String? = nil, signature: JSON? = nil) -> JSON {
        var agent: [(String, JSON)] = [
            ("type", concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "author", "Author")), ("who", ref(author)),
        ]
        if let organization { agent.append(("onBehalfOf", ref(organization))) }
        let target: [JSON] = targets.map { t in
            var members: [(String, JSON)] = [("reference", s(t.reference))]
            if let identifier = t.identifier {
                members.append(("identifier", .object([("system", s(ConsultationSignature.identifierSystem)), ("value", s(identifier))])))
            }
            return .object(members)
        }
        var p: [(String, JSON)] = [
            ("resourceType", s("Provenance")), ("target", .array(target)), ("recorded", s(now.description)),
            ("policy", .array([s(ConsultationSignature.policy)])),
        ]
        if let reason { p.append(("reason", .array([.object([("text", s(reason))])]))) }
        p.append(("activity", concept("http://terminology.hl7.org/CodeSystem/v3-DataOperation", activity, activity == "CREATE" ? "create" : "revise")))
        p.append(("agent", .array([.object(agent)])))
        if let revisionOf { p.append(("entity", .array([.object([("role", s("revision")), ("what", ref(revisionOf))])]))) }
        p.append(("signature", .array([signature ?? .object([
            ("type", .array([coding(authorSignature.system, authorSignature.code, authorSignature.display)])), ("when", s(now.description)),
            ("who", ref(author)),
        ])])))
        return .object(p)
    }

    /// The transaction recording a visit's `written` resources (`fullUrl` a `urn:uuid:`, each
    /// created, version 1) and the author's Provenance over them and `patient`, with `signature`
    /// (see `provenance`).
    public static func recording(_ written: [(fullUrl: String, resource: JSON)], patient: String, author: String, organization: String?, now: Timestamp,
                                 signature: JSON? = nil) -> JSON {
        var entries = written.map { entry($0.fullUrl, $0.resource, url: $0.resource["resourceType"]?.stringValue ?? "") }
        var targets: [(reference: String, identifier: String?)] = written.map { ($0.fullUrl + "/_history/1", $0.fullUrl) }
        targets.append((patient, nil))
        entries.append(entry(uuid(), provenance(targets: targets, author: author, organization: organization, now: now, activity: "CREATE", signature: signature),
                             url: "Provenance"))
        return .object([("resourceType", s("Bundle")), ("type", s("transaction")), ("entry", .array(entries))])
    }

    /// The transaction Bundle of a checked visit, written by `author` (a `Practitioner/…`
    /// reference) for `organization` at `now` (the end of the visit; `start` its beginning).
    public func transaction(_ c: Checked, patient: String, author: String, organization: String?, start: Timestamp?, now: Timestamp) -> JSON {
        Consultation.recording(written(c, patient: patient, author: author, organization: organization, start: start, now: now), patient: "Patient/\(patient)",
                               author: author, organization: organization, now: now)
    }

    /// The resources of a checked visit, in the order the Provenance names them: the Encounter,
    /// the Conditions, the Observations, the Composition; each with its `urn:uuid:` full URL.
    public func written(_ c: Checked, patient: String, author: String, organization: String?, start: Timestamp?, now: Timestamp) -> [(fullUrl: String, resource: JSON)] {
        let patientRef = "Patient/\(patient)"
        let encounterURL = Consultation.uuid(), compositionURL = Consultation.uuid()
        let conditionURLs = c.diagnoses.map { _ in Consultation.uuid() }
        var entries: [(fullUrl: String, resource: JSON)] = []
        let time = now.description
        let s = Consultation.s, ref = Consultation.ref
        // Encounter
        var encounter: [(String, JSON)] = [
            ("resourceType", s("Encounter")), ("status", s("finished")),
            ("class", Consultation.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", c.mode, c.mode == "VR" ? "virtual" : "ambulatory")),
            ("type", .array([Consultation.concept("http://snomed.info/sct", "11429006", "Consultation", text: c.mode == "VR" ? "Teleconsulta" : "Consulta")])),
            ("subject", ref(patientRef)),
            ("participant", .array([.object([
                ("type", .array([Consultation.concept("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF", "primary performer")])),
                ("individual", ref(author)),
            ])])),
            ("period", .object([("start", s((start ?? now).description)), ("end", s(time))])),
            ("reasonCode", .array([.object([("text", s(c.reason))])])),
        ]
        if !c.diagnoses.isEmpty {
            encounter.append(("diagnosis", .array(conditionURLs.enumerated().map { i, url in
                .object([("condition", ref(url)), ("rank", .number("\(i + 1)"))])
            })))
        }
        if let organization { encounter.append(("serviceProvider", ref(organization))) }
        entries.append((encounterURL, .object(encounter)))
        // Conditions
        for (i, d) in c.diagnoses.enumerated() {
            let condition: JSON = .object([
                ("resourceType", s("Condition")),
                ("clinicalStatus", Consultation.concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active")),
                ("verificationStatus", Consultation.concept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed")),
                ("category", .array([Consultation.concept("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis", "Encounter Diagnosis")])),
                ("code", Consultation.concept(Consultation.cie10, d.code, d.display, text: d.display)),
                ("subject", ref(patientRef)), ("encounter", ref(encounterURL)), ("recordedDate", s(time)),
                ("recorder", ref(author)), ("asserter", ref(author)),
            ])
            entries.append((conditionURLs[i], condition))
        }
        // Observations
        var observationURLs: [String] = []
        func observation(code: JSON, value: [(String, JSON)]) -> JSON {
            .object([
                ("resourceType", s("Observation")), ("status", s("final")),
                ("category", .array([Consultation.concept("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs")])),
                ("code", code), ("subject", ref(patientRef)), ("encounter", ref(encounterURL)), ("effectiveDateTime", s(time)),
                ("performer", .array([ref(author)])),
            ] + value)
        }
        func quantity(_ v: (sign: VitalSign, value: String)) -> JSON {
            .object([("value", .number(v.value)), ("unit", s(v.sign.unitDisplay)), ("system", s(Consultation.ucum)), ("code", s(v.sign.unit))])
        }
        for v in c.vitals where v.sign.key != "sistolica" && v.sign.key != "diastolica" {
            let url = Consultation.uuid()
            observationURLs.append(url)
            entries.append((url, observation(code: Consultation.concept(Consultation.loinc, v.sign.loinc, v.sign.display, text: v.sign.spanish),
                                             value: [("valueQuantity", quantity(v))])))
        }
        if let sys = c.vitals.first(where: { $0.sign.key == "sistolica" }), let dia = c.vitals.first(where: { $0.sign.key == "diastolica" }) {
            let url = Consultation.uuid()
            observationURLs.append(url)
            let components: JSON = .array([sys, dia].map { v in
                .object([("code", Consultation.concept(Consultation.loinc, v.sign.loinc, v.sign.display)), ("valueQuantity", quantity(v))])
            })
            let panel = Consultation.concept(Consultation.loinc, VitalSignLimits.bloodPressurePanel.code, VitalSignLimits.bloodPressurePanel.display, text: "Presión arterial")
            entries.append((url, observation(code: panel, value: [("component", components)])))
        }
        // Composition
        var sections = Consultation.noteSections(c.note)
        if !observationURLs.isEmpty {
            sections.append(.object([("title", s("Signos vitales")), ("code", Consultation.concept(Consultation.loinc, "8716-3", "Vital signs")),
                                     ("entry", .array(observationURLs.map(ref)))]))
        }
        if !conditionURLs.isEmpty {
            sections.append(.object([("title", s("Diagnósticos")), ("code", Consultation.concept(Consultation.loinc, "29548-5", "Diagnosis Narrative")),
                                     ("entry", .array(conditionURLs.map(ref)))]))
        }
        let composition: JSON = .object([
            ("resourceType", s("Composition")), ("status", s("final")),
            ("type", Consultation.concept(Consultation.loinc, Consultation.noteType.code, Consultation.noteType.display, text: "Nota de consulta")),
            ("subject", ref(patientRef)), ("encounter", ref(encounterURL)), ("date", s(time)), ("author", .array([ref(author)])),
            ("title", s("Nota de consulta: \(c.reason)")),
            ("attester", .array([.object([("mode", s("legal")), ("time", s(time)), ("party", ref(author))])])),
            ("section", .array(sections)),
        ])
        entries.append((compositionURL, composition))
        return entries
    }

    /// Whether a Composition is a consultation note (LOINC 34108-1).
    public static func isNote(_ composition: JSON) -> Bool {
        (composition["type"]?["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == loinc && $0["code"]?.stringValue == noteType.code }
    }

    /// The transaction that corrects a note: a new version of the Composition (`If-Match` the
    /// version read, status `amended`, the new text in its SOAP sections, the entries kept) and
    /// a Provenance (activity UPDATE, the reason as `reason.text`, the earlier version as
    /// `entity` role `revision`). Only an author of the note corrects it; throws a 403 otherwise
    /// and a 422 naming the field for a missing reason or an empty note.
    public func correction(of composition: JSON, id: String, version: Int, note: ConsultationNote, reason: String, author: String,
                           organization: String?, now: Timestamp) throws -> JSON {
        guard Consultation.isNote(composition), composition["subject"]?["reference"]?.stringValue != nil else {
            throw FHIRError.notFound("Composition", id)
        }
        guard (composition["author"]?.arrayValue ?? []).contains(where: { $0["reference"]?.stringValue == author }) else {
            throw FHIRError(status: 403, code: "forbidden", english: "only an author of a note corrects it", spanish: "solo un autor de la nota puede corregirla")
        }
        var issues: [Issue] = []
        let why = Consultation.trimmed(reason)
        if why.isEmpty {
            issues.append(Issue(code: "required", english: "the reason for the correction is required", spanish: "el motivo de la corrección es obligatorio",
                                expression: ["razon"]))
        }
        if note.isEmpty {
            issues.append(Issue(code: "required", english: "a corrected note cannot be empty", spanish: "la nota corregida no puede quedar vacía", expression: ["nota"]))
        }
        for s in ConsultationNote.sections where note.text(s.key).count > Consultation.maxText {
            issues.append(Issue(code: "too-long", english: "the section \(s.display) is longer than \(Consultation.maxText) characters",
                                spanish: "la sección \(s.title) supera \(Consultation.maxText) caracteres", expression: [s.key]))
        }
        guard issues.isEmpty else { throw FHIRError(status: 422, issues: issues) }
        let narrativeCodes = Set(ConsultationNote.sections.map(\.code))
        let kept = (composition["section"]?.arrayValue ?? []).filter { s in
            !narrativeCodes.contains(s["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? "")
        }
        var amended = composition.setting("meta", nil).setting("text", nil)
        amended = amended.setting("status", .string("amended")).setting("date", .string(now.description))
        amended = amended.setting("section", .array(Consultation.noteSections(note) + kept))
        amended = amended.setting("attester", .array([.object([("mode", .string("legal")), ("time", .string(now.description)), ("party", Consultation.ref(author))])]))
        return Consultation.correction(amended, id: id, version: version, reason: why, author: author, organization: organization, now: now)
    }

    /// The transaction of a checked correction: the `amended` Composition `id` (`PUT`, `If-Match`
    /// `version`) and its Provenance (UPDATE, `reason`, the revised version, `signature` as in
    /// `provenance`).
    public static func correction(_ amended: JSON, id: String, version: Int, reason: String, author: String, organization: String?, now: Timestamp,
                                  signature: JSON? = nil) -> JSON {
        let url = "Composition/\(id)"
        let subject = amended["subject"]?["reference"]?.stringValue ?? ""
        let provenance = Consultation.provenance(targets: [("\(url)/_history/\(version + 1)", nil), (subject, nil)], author: author, organization: organization,
                                                 now: now, activity: "UPDATE", reason: reason, revisionOf: "\(url)/_history/\(version)", signature: signature)
        return .object([
            ("resourceType", .string("Bundle")), ("type", .string("transaction")),
            ("entry", .array([
                Consultation.entry("", amended, method: "PUT", url: url, ifMatch: version),
                Consultation.entry(Consultation.uuid(), provenance, url: "Provenance"),
            ])),
        ])
    }
}
