import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The privacy operations (docs/consent.md): answering a consent request
/// (`Task/[id]/$approve`, `$deny`) and break-the-glass (`Patient/[id]/$break-the-glass`).
/// They only *write records* (Consent, Task, Communication) through a guarded repository;
/// what those records allow is decided by `AccessPolicy` on the next request.
public struct PrivacyOperations: Sendable {
    public var policy: PrivacyPolicy

    public init(policy: PrivacyPolicy = PrivacyPolicy()) { self.policy = policy }

    static func coding(_ system: String, _ code: String) -> JSON {
        .object([("system", .string(system)), ("code", .string(code))])
    }

    static func taskCode(_ code: String) -> JSON {
        .object([("coding", .array([coding(PrivacyCodes.taskCodes, code)]))])
    }

    static func reference(_ r: String) -> JSON { .object([("reference", .string(r))]) }

    /// What a consent-request Task asks for (its `input`s: `purpose`, `category` (a sensitivity
    /// label), `class` (a resource type), `dataPeriod` (a Period: the clinical dates of the data),
    /// `duration` or `end` (how long the access lasts)).
    public struct Request: Sendable, Equatable {
        public var patient: String
        public var requester: String
        public var purposes: [String]
        public var categories: [String]
        public var classes: [String]
        public var dataStart: String?
        public var dataEnd: String?
        public var end: Timestamp?
        public var durationSeconds: Int64?

        public init(task: JSON) throws {
            guard (task["code"]?["coding"]?.arrayValue ?? []).contains(where: {
                $0["system"]?.stringValue == PrivacyCodes.taskCodes && $0["code"]?.stringValue == PrivacyCodes.consentRequest
            }) else {
                throw FHIRError(status: 400, code: "invalid", english: "this Task is not a consent request (code \(PrivacyCodes.consentRequest))",
                                spanish: "esta Task no es una solicitud de consentimiento (código \(PrivacyCodes.consentRequest))")
            }
            guard let p = task["for"]?["reference"]?.stringValue, p.hasPrefix("Patient/"),
                  let r = task["requester"]?["reference"]?.stringValue else {
                throw FHIRError.badRequest("a consent request needs 'for' (the Patient) and 'requester'",
                                           "una solicitud de consentimiento necesita 'for' (el Patient) y 'requester'")
            }
            patient = String(p.dropFirst(8))
            requester = r
            purposes = []
            categories = []
            classes = []
            for input in task["input"]?.arrayValue ?? [] {
                let name = input["type"]?["text"]?.stringValue ?? input["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""
                let code = input["valueCode"]?.stringValue ?? input["valueString"]?.stringValue
                    ?? input["valueCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
                switch name {
                case "purpose": if let code { purposes.append(code) }
                case "category": if let code { categories.append(code) }
                case "class":
                    guard let code, Definitions.r4.isResourceType(code) else {
                        throw FHIRError.badRequest("a consent request's 'class' must be a resource type, not '\(code ?? "")'",
                                                   "el 'class' de una solicitud de consentimiento debe ser un tipo de recurso, no '\(code ?? "")'")
                    }
                    classes.append(code)
                case "dataPeriod":
                    dataStart = input["valuePeriod"]?["start"]?.stringValue
                    dataEnd = input["valuePeriod"]?["end"]?.stringValue
                    for d in [dataStart, dataEnd].compactMap({ $0 }) where DateRange(d) == nil {
                        throw FHIRError.badRequest("a consent request's 'dataPeriod' has an invalid date '\(d)'",
                                                   "el 'dataPeriod' de una solicitud de consentimiento tiene una fecha inválida '\(d)'")
                    }
                case "end": end = (input["valueDateTime"]?.stringValue).flatMap { DateRange($0) }.map { Timestamp(microseconds: $0.high * 1000) }
                case "duration":
                    if case .number(let n)? = input["valueDuration"]?["value"], let v = Double(n) {
                        let unit = input["valueDuration"]?["code"]?.stringValue ?? "d"
                        let scale: Double = ["h": 3600, "min": 60, "s": 1, "wk": 7 * 86400, "mo": 30 * 86400, "a": 365 * 86400][unit] ?? 86400
                        durationSeconds = Int64(v * scale)
                    }
                default: break
                }
            }
            if purposes.isEmpty { purposes = ["TREAT"] }
        }
    }

    /// The patient's answer: `end` (dateTime), `category`, `purpose` and `class` (codes) and
    /// `dataPeriod` (Period) parameters, each only narrowing what was asked.
    public struct Narrowing: Sendable {
        public var end: Timestamp?
        public var categories: [String]?
        public var purposes: [String]?
        public var classes: [String]?
        public var dataStart: String?
        public var dataEnd: String?
        public init(parameters: JSON?) {
            var cats: [String] = []
            var purposes: [String] = []
            var classes: [String] = []
            for p in parameters?["parameter"]?.arrayValue ?? [] {
                switch p["name"]?.stringValue {
                case "class": if let c = p["valueCode"]?.stringValue { classes.append(c) }
                case "dataPeriod":
                    dataStart = p["valuePeriod"]?["start"]?.stringValue.flatMap { DateRange($0) != nil ? $0 : nil }
                    dataEnd = p["valuePeriod"]?["end"]?.stringValue.flatMap { DateRange($0) != nil ? $0 : nil }
                case "end": end = (p["valueDateTime"]?.stringValue ?? p["valueInstant"]?.stringValue).flatMap { DateRange($0) }.map { Timestamp(microseconds: $0.high * 1000) }
                case "category": if let c = p["valueCode"]?.stringValue { cats.append(c) }
                case "purpose": if let c = p["valueCode"]?.stringValue { purposes.append(c) }
                default: break
                }
            }
            categories = cats.isEmpty ? nil : cats
            self.purposes = purposes.isEmpty ? nil : purposes
            self.classes = classes.isEmpty ? nil : classes
        }
    }

    /// The later of two start dates / the earlier of two end dates (a narrowing never widens).
    static func narrower(_ asked: String?, _ answer: String?, start: Bool) -> String? {
        guard let answer, let a = DateRange(answer) else { return asked }
        guard let asked, let q = DateRange(asked) else { return answer }
        return start ? (a.low > q.low ? answer : asked) : (a.high < q.high ? answer : asked)
    }

    /// The Consent an approval creates: permit, for the requester, for the purposes and
    /// categories asked (narrowed by the patient), from now until the end (it expires by itself).
    /// The Task's `output` points at it (R4 Consent.sourceReference cannot name a Task).
    public func consent(for request: Request, narrowing: Narrowing, taskID: String, now: Timestamp) -> JSON {
        var end = request.end ?? Timestamp(microseconds: now.microseconds + (request.durationSeconds ?? policy.defaultGrantSeconds) * 1_000_000)
        if let e = narrowing.end, e < end { end = e }
        let categories = narrowing.categories.map { n in request.categories.filter { n.contains($0) } } ?? request.categories
        let purposes = narrowing.purposes.map { n in request.purposes.filter { n.contains($0) } } ?? request.purposes
        // no class asked means every class: the patient may then narrow to some
        let classes = narrowing.classes.map { n in request.classes.isEmpty ? n.filter { Definitions.r4.isResourceType($0) } : request.classes.filter { n.contains($0) } }
            ?? request.classes
        let dataStart = PrivacyOperations.narrower(request.dataStart, narrowing.dataStart, start: true)
        let dataEnd = PrivacyOperations.narrower(request.dataEnd, narrowing.dataEnd, start: false)
        var provision: [(String, JSON)] = [
            ("type", .string("permit")),
            ("period", .object([("start", .string(now.description)), ("end", .string(end.description))])),
            ("actor", .array([.object([("role", .object([("coding", .array([PrivacyOperations.coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")]))])),
                                      ("reference", PrivacyOperations.reference(request.requester))])])),
            ("action", .array([.object([("coding", .array([PrivacyOperations.coding("http://terminology.hl7.org/CodeSystem/consentaction", "access")]))])])),
        ]
        if !purposes.isEmpty { provision.append(("purpose", .array(purposes.map { PrivacyOperations.coding(PrivacyCodes.purposeOfUse, $0) }))) }
        if !categories.isEmpty { provision.append(("securityLabel", .array(categories.map { PrivacyOperations.coding(PrivacyCodes.actCode, $0) }))) }
        if !classes.isEmpty { provision.append(("class", .array(classes.map { PrivacyOperations.coding("http://hl7.org/fhir/resource-types", $0) }))) }
        if dataStart != nil || dataEnd != nil {
            var period: [(String, JSON)] = []
            if let dataStart { period.append(("start", .string(dataStart))) }
            if let dataEnd { period.append(("end", .string(dataEnd))) }
            provision.append(("dataPeriod", .object(period)))
        }
        return .object([
            ("resourceType", .string("Consent")),
            ("status", .string("active")),
            ("scope", .object([("coding", .array([PrivacyOperations.coding(PrivacyCodes.consentScope, "patient-privacy")]))])),
            ("category", .array([.object([("coding", .array([PrivacyOperations.coding("http://loinc.org", "59284-0")]))])])),
            ("patient", PrivacyOperations.reference("Patient/\(request.patient)")),
            ("dateTime", .string(now.description)),
            ("performer", .array([PrivacyOperations.reference("Patient/\(request.patient)")])),
            ("policyRule", .object([("coding", .array([PrivacyOperations.coding(PrivacyCodes.actCode, "OPTIN")]))])),
            ("provision", .object(provision)),
        ])
    }

    /// `Task/[id]/$approve`: the patient (or who acts for them) approves a consent request,
    /// possibly narrowed; creates the Consent and completes the Task. Returns the Consent.
    public func approve(taskID: String, narrowing: Narrowing, guarded: GuardedRepository, now: Timestamp) async throws -> StoredResource {
        let (task, request) = try await answerable(taskID, guarded: guarded)
        let consent = try await guarded.create("Consent", consent(for: request, narrowing: narrowing, taskID: taskID, now: now), ifNoneExist: nil).resource
        let done = task.setting("status", .string("completed"))
            .setting("lastModified", .string(now.description))
            .setting("output", .array([.object([("type", .object([("text", .string("consent"))])),
                                                ("valueReference", PrivacyOperations.reference("Consent/\(consent.id)"))])]))
        _ = try await guarded.update("Task", taskID, done, ifMatch: nil)
        return consent
    }

    /// `Task/[id]/$deny`: the patient refuses; the Task is rejected and nothing is granted.
    public func deny(taskID: String, guarded: GuardedRepository, now: Timestamp) async throws -> StoredResource {
        let (task, _) = try await answerable(taskID, guarded: guarded)
        let rejected = task.setting("status", .string("rejected")).setting("lastModified", .string(now.description))
        return try await guarded.update("Task", taskID, rejected, ifMatch: nil).resource
    }

    func answerable(_ taskID: String, guarded: GuardedRepository) async throws -> (JSON, Request) {
        guard [.patient, .relatedPerson].contains(guarded.principal.effectiveRole) else {
            throw FHIRError(status: 403, code: "forbidden", english: "only the patient (or who acts for them) answers a consent request",
                            spanish: "solo el paciente (o quien actúa por él) responde una solicitud de consentimiento")
        }
        let task = try await guarded.read("Task", taskID).json()
        let request = try Request(task: task)
        guard ["requested", "received", "ready"].contains(task["status"]?.stringValue ?? "") else {
            throw FHIRError(status: 409, code: "conflict", english: "this consent request was already answered",
                            spanish: "esta solicitud de consentimiento ya fue respondida")
        }
        return (task, request)
    }
}
