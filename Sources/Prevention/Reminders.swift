import FHIR
import Foundation

/// Reminders to patients of what the Cartilla says is owed (docs/prevention.md, "Reminders"): a
/// `Communication` (category `reminder`, the channel in `medium`), never to a patient who opposed
/// being contacted. The opposition is a `Consent` (scope `patient-privacy`, `provision.type`
/// `deny`, `provision.action` Enlace's `consent-action|contact`), the same shape as the ARCO
/// opposition to secondary uses (docs/consent.md).
public enum Reminders {
    /// Enlace's Consent action "contact the patient" (what a reminder does).
    public static let consentActionSystem = "https://enlace.mx/fhir/CodeSystem/consent-action"
    public static let contactAction = "contact"
    public static let participationMode = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
    public static let categorySystem = "http://terminology.hl7.org/CodeSystem/communication-category"
    /// Most patients one request reminds.
    public static let maxPatients = 500
    public static let maxMessage = 1000

    /// The channel (`Communication.medium`, v3-ParticipationMode).
    public enum Medium: String, Sendable, CaseIterable {
        case sms, email, phone, portal, letter

        public var code: String {
            switch self {
            case .sms: return "SMSWRIT"
            case .email: return "EMAILWRIT"
            case .phone: return "PHONE"
            case .portal: return "ONLINEWRIT"
            case .letter: return "MAILWRIT"
            }
        }

        public var text: Localized {
            switch self {
            case .sms: return Localized("Mensaje SMS", "SMS message")
            case .email: return Localized("Correo electrónico", "Email")
            case .phone: return Localized("Llamada telefónica", "Telephone call")
            case .portal: return Localized("Portal del paciente", "Patient portal")
            case .letter: return Localized("Carta", "Letter")
            }
        }

        /// The portal delivers it itself (`completed`, shown on *Mi prevención*); any other channel
        /// is `preparation` until whoever delivers it (the clinic's staff, a gateway subscribed to
        /// Communication) marks it `completed`.
        public var deliveredByEnlace: Bool { self == .portal }
    }

    /// What one request asks.
    public struct Request: Sendable, Equatable {
        public var patients: [String]
        public var medium: Medium
        public var message: String?

        public init(patients: [String], medium: Medium, message: String?) {
            self.patients = patients
            self.medium = medium
            self.message = message
        }
    }

    /// Reads `Parameters`: `patient` (valueReference `Patient/<id>`, repeatable, at most 500;
    /// `instance` is the id of `Patient/{id}/$send-reminders`), `medium` (valueCode, required) and
    /// `message` (valueString, optional). Throws a 400 naming what is wrong.
    public static func parse(_ parameters: JSON?, instance: String?) throws -> Request {
        guard let parameters, parameters["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError.badRequest("the body must be a Parameters resource with patient and medium",
                                       "el cuerpo debe ser un recurso Parameters con patient y medium", code: "invalid")
        }
        var patients: [String] = instance.map { [$0] } ?? []
        var medium: String?
        var message: String?
        for p in parameters["parameter"]?.arrayValue ?? [] {
            switch p["name"]?.stringValue ?? "" {
            case "patient":
                guard let ref = p["valueReference"]?["reference"]?.stringValue, ref.hasPrefix("Patient/"), ref.count > 8 else {
                    throw FHIRError.badRequest("patient must be a valueReference to Patient/<id>", "patient debe ser un valueReference a Patient/<id>",
                                               code: "invalid")
                }
                patients.append(String(ref.dropFirst(8)))
            case "medium": medium = p["valueCode"]?.stringValue
            case "message": message = p["valueString"]?.stringValue
            case let other:
                throw FHIRError.badRequest("unknown parameter '\(other)' (expected patient, medium, message)",
                                           "parámetro desconocido '\(other)' (se esperan patient, medium, message)", code: "not-supported")
            }
        }
        guard !patients.isEmpty else {
            throw FHIRError.badRequest("name at least one patient to remind", "indique al menos un paciente a quien recordar", code: "required")
        }
        guard patients.count <= maxPatients else {
            throw FHIRError.badRequest("at most \(maxPatients) patients per request", "a lo más \(maxPatients) pacientes por solicitud", code: "too-costly")
        }
        guard let medium else {
            throw FHIRError.badRequest("medium is required: \(Medium.allCases.map(\.rawValue).joined(separator: ", "))",
                                       "falta medium (el canal): \(Medium.allCases.map(\.rawValue).joined(separator: ", "))", code: "required")
        }
        guard let channel = Medium(rawValue: medium) else {
            throw FHIRError.badRequest("medium '\(medium)' is not one of \(Medium.allCases.map(\.rawValue).joined(separator: ", "))",
                                       "el canal '\(medium)' no es uno de \(Medium.allCases.map(\.rawValue).joined(separator: ", "))", code: "code-invalid")
        }
        let text = message?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let text, text.count > maxMessage {
            throw FHIRError.badRequest("the message is longer than \(maxMessage) characters", "el mensaje tiene más de \(maxMessage) caracteres", code: "too-long")
        }
        var seen: Set<String> = []
        return Request(patients: patients.filter { seen.insert($0).inserted }, medium: channel, message: (text?.isEmpty ?? true) ? nil : text)
    }

    /// The id of the first Consent of `consents` (one patient's) in force at `now` that opposes
    /// contact: active, scope `patient-privacy` (or none), a `deny` provision — the root or a
    /// nested one — whose actions include `contact` and whose period covers `now`. nil: no
    /// opposition.
    public static func opposition(_ consents: [JSON], now: Date) -> String? {
        let today = Timestamp(date: now).description
        func covers(_ p: JSON) -> Bool {
            if let start = p["period"]?["start"]?.stringValue, start > today { return false }
            if let end = p["period"]?["end"]?.stringValue, end < String(today.prefix(end.count)) { return false }
            return true
        }
        func denies(_ p: JSON, inherited: String?) -> Bool {
            let type = p["type"]?.stringValue ?? inherited
            let contact = (p["action"]?.arrayValue ?? []).contains { a in
                (a["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == consentActionSystem && $0["code"]?.stringValue == contactAction }
            }
            if type == "deny", contact, covers(p) { return true }
            return (p["provision"]?.arrayValue ?? []).contains { denies($0, inherited: type) }
        }
        for c in consents {
            guard c["resourceType"]?.stringValue == "Consent", c["status"]?.stringValue == "active" else { continue }
            let scope = c["scope"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
            guard scope == nil || scope == "patient-privacy", let p = c["provision"], denies(p, inherited: nil) else { continue }
            return c["id"]?.stringValue ?? ""
        }
        return nil
    }

    /// The reminder for `patient` of its open `gaps`, from `sender` (a reference) through `medium`.
    public static func communication(patient: String, sender: String?, medium: Medium, gaps: [PreventionItem], message: String?, now: String) -> JSON {
        let es = gaps.map { "\($0.rule.title.es) (\(statusText($0.status).es))" }.joined(separator: "; ")
        let en = gaps.map { "\($0.rule.title.en.isEmpty ? $0.rule.title.es : $0.rule.title.en) (\(statusText($0.status).en))" }.joined(separator: "; ")
        var payload: [JSON] = []
        if let message { payload.append(.object([("contentString", .string(message))])) }
        payload.append(.object([("contentString", .string("Recordatorio de su Cartilla Nacional de Salud. Tiene pendiente: \(es)."))]))
        payload.append(.object([("contentString", .string("Reminder from your Cartilla Nacional de Salud. Still to do: \(en)."))]))
        var m: [(String, JSON)] = [
            ("resourceType", .string("Communication")),
            ("status", .string(medium.deliveredByEnlace ? "completed" : "preparation")),
            ("category", .array([.object([("coding", .array([.object([("system", .string(categorySystem)), ("code", .string("reminder"))])])),
                                          ("text", .string("Recordatorio de prevención / prevention reminder"))])])),
            ("medium", .array([.object([("coding", .array([.object([("system", .string(participationMode)), ("code", .string(medium.code)),
                                                                   ("display", .string(medium.text.en))])])),
                                        ("text", .string(medium.text.es))])])),
            ("subject", .object([("reference", .string("Patient/\(patient)"))])),
            ("recipient", .array([.object([("reference", .string("Patient/\(patient)"))])])),
        ]
        if medium.deliveredByEnlace { m.append(("sent", .string(now))) }
        if let sender { m.append(("sender", .object([("reference", .string(sender))]))) }
        m.append(("reasonCode", .array([.object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActCode")),
                                                                            ("code", .string("CAREGAP")), ("display", .string("Care Gaps"))])])),
                                                ("text", .string(gaps.map(\.rule.id).joined(separator: ", ")))])])))
        m.append(("payload", .array(payload)))
        return .object(m)
    }

    static func statusText(_ s: PreventionItem.Status) -> Localized {
        switch s {
        case .overdue: return Localized("atrasado", "overdue")
        case .due: return Localized("toca ahora", "due now")
        case .declined: return Localized("lo rechazó antes", "declined before")
        case .upcoming: return Localized("próximo", "coming up")
        case .done: return Localized("hecho", "done")
        case .contraindicated: return Localized("contraindicado", "contraindicated")
        }
    }
}
