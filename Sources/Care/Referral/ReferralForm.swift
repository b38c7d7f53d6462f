import FHIR
import Foundation
import Storage
import Trust

/// The clinician's *Referir* form (docs/care.md#portal): to which organization, for which
/// service, why, how urgent, for how long the receiver's access lasts once accepted, and which
/// of the patient's documents travel with it — checked field by field and turned into the
/// referral's transaction (the `ServiceRequest` and its `Task`, FHIR Workflow, the shape
/// `ReferralWorkflow` enforces). No I/O: the page checks that the destination and the
/// documents exist and may be seen.
public struct ReferralForm: Sendable, Equatable {
    public var destination = ""
    public var service = ""
    public var reason = ""
    public var priority = "routine"
    public var days = "90"
    public var documents: [String] = []

    public init() {}

    /// The posted fields (`documento` may repeat).
    public init(_ raw: [String: String], documents: [String]) {
        destination = raw["destino"] ?? ""
        service = raw["servicio"] ?? ""
        reason = raw["motivo"] ?? ""
        priority = raw["prioridad"] ?? "routine"
        days = raw["vigencia"] ?? "90"
        self.documents = documents
    }

    public static let priorities: [(code: String, spanish: String, english: String)] = [
        ("routine", "Ordinaria", "Routine"), ("urgent", "Urgente", "Urgent"), ("asap", "Lo antes posible", "As soon as possible"),
    ]
    public static let periods = [30, 90, 180]
    /// The types a document attached to a referral may be.
    public static let documentTypes: Set<String> = [
        "Observation", "DiagnosticReport", "Condition", "Composition", "DocumentReference", "MedicationRequest", "AllergyIntolerance", "Encounter",
        "Procedure", "ImagingStudy",
    ]
    public static let maxDocuments = 20
    public static let referralCategory = ("http://snomed.info/sct", "3457005", "Referencia de paciente")

    /// The organization id chosen (`Organization/{id}`), documents as `Type/id`, or a 422 naming each wrong field.
    public func check() throws -> (organization: String, service: String, reason: String, priority: String, days: Int, documents: [String]) {
        var issues: [Issue] = []
        func refuse(_ field: String, _ english: String, _ spanish: String, code: String = "value") {
            issues.append(Issue(code: code, english: english, spanish: spanish, expression: [field]))
        }
        let destination = self.destination.trimmingCharacters(in: .whitespaces)
        if destination.isEmpty {
            refuse("destino", "choose where to refer the patient", "elija a dónde referir al paciente", code: "required")
        } else if !destination.hasPrefix("Organization/") || !Repository.isValidID(String(destination.dropFirst(13))) {
            refuse("destino", "'\(destination)' is not an institution of the list", "'\(destination)' no es una institución de la lista", code: "code-invalid")
        }
        let service = self.service.trimmingCharacters(in: .whitespacesAndNewlines)
        if service.isEmpty { refuse("servicio", "the service or specialty asked for is required", "el servicio o especialidad que se solicita es obligatorio", code: "required") }
        if service.count > 200 { refuse("servicio", "the service is longer than 200 characters", "el servicio supera 200 caracteres", code: "too-long") }
        let reason = self.reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if reason.isEmpty { refuse("motivo", "the reason for the referral is required", "el motivo de la referencia es obligatorio", code: "required") }
        if reason.count > 2000 { refuse("motivo", "the reason is longer than 2000 characters", "el motivo supera 2000 caracteres", code: "too-long") }
        if !ReferralForm.priorities.contains(where: { $0.code == priority }) {
            refuse("prioridad", "'\(priority)' is not a priority of the list", "'\(priority)' no es una prioridad de la lista", code: "code-invalid")
        }
        let days = Int(self.days)
        if days == nil || !ReferralForm.periods.contains(days!) {
            refuse("vigencia", "the access period must be one of \(ReferralForm.periods.map(String.init).joined(separator: ", ")) days",
                   "la vigencia del acceso debe ser de \(ReferralForm.periods.map(String.init).joined(separator: ", ")) días")
        }
        var seen = Set<String>()
        let documents = self.documents.filter { seen.insert($0).inserted }
        if documents.count > ReferralForm.maxDocuments {
            refuse("documentos", "at most \(ReferralForm.maxDocuments) documents travel with a referral", "a lo más \(ReferralForm.maxDocuments) documentos viajan con una referencia")
        }
        for d in documents {
            let parts = d.split(separator: "/").map(String.init)
            if parts.count != 2 || !ReferralForm.documentTypes.contains(parts[0]) || !Repository.isValidID(parts[1]) {
                refuse("documentos", "'\(d)' is not a document of the patient's record", "'\(d)' no es un documento del expediente del paciente", code: "code-invalid")
            }
        }
        guard issues.isEmpty, let days else { throw FHIRError(status: 422, issues: issues) }
        return (destination, service, reason, priority, days, documents)
    }

    /// The referral's transaction: a `ServiceRequest` (category patient referral, the service as
    /// `code.text`, the reason, `performer` the organization, the documents in `supportingInfo`)
    /// and its `Task` (code `referral`, status `requested`, `focus` the ServiceRequest, `owner`
    /// the organization, the documents again as `input`, the access period in `restriction`).
    public static func transaction(organization: String, organizationName: String?, service: String, reason: String, priority: String, days: Int,
                                   documents: [String], patient: String, requester: String, now: Timestamp) -> JSON {
        let sr = "urn:uuid:" + UUID().uuidString.lowercased()
        let today = String(now.description.prefix(10))
        let end = String(Timestamp(microseconds: now.microseconds + Int64(days) * 86_400_000_000).description.prefix(10))
        func ref(_ r: String, _ display: String? = nil) -> JSON {
            .object([("reference", .string(r))] + (display.map { [("display", JSON.string($0))] } ?? []))
        }
        let owner = ref(organization, organizationName)
        var request: [(String, JSON)] = [
            ("resourceType", .string("ServiceRequest")), ("status", .string("active")), ("intent", .string("order")),
            ("category", .array([.object([("coding", .array([.object([("system", .string(referralCategory.0)), ("code", .string(referralCategory.1)),
                                                                     ("display", .string(referralCategory.2))])]))])])),
            ("priority", .string(priority)), ("code", .object([("text", .string(service))])),
            ("subject", ref("Patient/\(patient)")), ("authoredOn", .string(now.description)), ("requester", ref(requester)),
            ("performer", .array([owner])), ("reasonCode", .array([.object([("text", .string(reason))])])),
        ]
        if !documents.isEmpty { request.append(("supportingInfo", .array(documents.map { ref($0) }))) }
        var task: [(String, JSON)] = [
            ("resourceType", .string("Task")), ("status", .string("requested")), ("intent", .string("order")), ("priority", .string(priority)),
            ("code", .object([("coding", .array([.object([("system", .string(ReferralWorkflow.system)), ("code", .string(ReferralWorkflow.code)),
                                                          ("display", .string("Referencia"))])]))])),
            ("description", .string("Referencia a \(organizationName ?? organization) (\(service)): \(reason)")),
            ("focus", ref(sr)), ("for", ref("Patient/\(patient)")), ("authoredOn", .string(now.description)), ("lastModified", .string(now.description)),
            ("requester", ref(requester)), ("owner", owner),
            ("restriction", .object([("period", .object([("start", .string(today)), ("end", .string(end))]))])),
        ]
        if !documents.isEmpty {
            task.append(("input", .array(documents.map { d in
                .object([("type", .object([("text", .string("Documento de la referencia"))])), ("valueReference", ref(d))])
            })))
        }
        func entry(_ fullUrl: String, _ resource: [(String, JSON)], _ type: String) -> JSON {
            .object([("fullUrl", .string(fullUrl)), ("resource", .object(resource)), ("request", .object([("method", .string("POST")), ("url", .string(type))]))])
        }
        return .object([
            ("resourceType", .string("Bundle")), ("type", .string("transaction")),
            ("entry", .array([entry(sr, request, "ServiceRequest"), entry("urn:uuid:" + UUID().uuidString.lowercased(), task, "Task")])),
        ])
    }
}
