import FHIR
import Foundation

/// A CDS Hooks 2.0 request (https://cds-hooks.hl7.org/2.0/#http-request): the hook, its
/// instance, and the context of `patient-view`, `order-select` and `order-sign`. `prefetch`,
/// `fhirServer` and `fhirAuthorization` are accepted and not used: Enlace is the record, and
/// reads it through the door for the caller (docs/care.md, "Authentication").
public struct CDSRequest: Sendable {
    public var hook: String
    public var hookInstance: String
    public var patientID: String
    public var userID: String?
    public var encounterID: String?
    /// The resources of `context.draftOrders` (a Bundle).
    public var draftOrders: [JSON]
    /// `context.selections` of order-select (`Type/id`).
    public var selections: [String]

    static func bad(_ english: String, _ spanish: String, _ expression: String) -> FHIRError {
        FHIRError(status: 400, code: "invalid", english: english, spanish: spanish, expression: [expression])
    }

    /// Parses and checks `json` for `service`; a missing or wrong member is a 400 naming it.
    public init(json: JSON, service: CDSCatalogue.Service) throws {
        guard case .object = json else { throw CDSRequest.bad("a CDS Hooks request is a JSON object", "una solicitud CDS Hooks es un objeto JSON", "$") }
        guard let hook = json["hook"]?.stringValue else {
            throw CDSRequest.bad("'hook' is required", "'hook' es obligatorio", "hook")
        }
        guard hook == service.hook else {
            throw CDSRequest.bad("the service \(service.id) answers the hook '\(service.hook)', not '\(hook)'",
                                 "el servicio \(service.id) responde al hook '\(service.hook)', no a '\(hook)'", "hook")
        }
        guard let instance = json["hookInstance"]?.stringValue, !instance.isEmpty else {
            throw CDSRequest.bad("'hookInstance' is required (a UUID)", "'hookInstance' es obligatorio (un UUID)", "hookInstance")
        }
        guard let context = json["context"], case .object = context else {
            throw CDSRequest.bad("'context' is required", "'context' es obligatorio", "context")
        }
        guard var patient = context["patientId"]?.stringValue, !patient.isEmpty else {
            throw CDSRequest.bad("'context.patientId' is required", "'context.patientId' es obligatorio", "context.patientId")
        }
        if patient.hasPrefix("Patient/") { patient = String(patient.dropFirst(8)) }
        guard patient.count <= 64, patient.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw CDSRequest.bad("'context.patientId' is not a FHIR id", "'context.patientId' no es un id FHIR", "context.patientId")
        }
        self.hook = hook
        hookInstance = instance
        patientID = patient
        userID = context["userId"]?.stringValue
        encounterID = context["encounterId"]?.stringValue
        draftOrders = []
        selections = (context["selections"]?.arrayValue ?? []).compactMap(\.stringValue)
        if hook == "order-sign" || hook == "order-select" {
            guard let bundle = context["draftOrders"], bundle["resourceType"]?.stringValue == "Bundle" else {
                throw CDSRequest.bad("'context.draftOrders' (a Bundle) is required for \(hook)",
                                     "'context.draftOrders' (un Bundle) es obligatorio para \(hook)", "context.draftOrders")
            }
            for (i, entry) in (bundle["entry"]?.arrayValue ?? []).enumerated() {
                guard let r = entry["resource"], let type = r["resourceType"]?.stringValue, Definitions.r4.isResourceType(type) else {
                    throw CDSRequest.bad("draftOrders entry \(i) has no FHIR resource", "la entrada \(i) de draftOrders no tiene un recurso FHIR",
                                         "context.draftOrders.entry[\(i)]")
                }
                draftOrders.append(r)
            }
            if hook == "order-select", selections.isEmpty {
                throw CDSRequest.bad("'context.selections' is required for order-select", "'context.selections' es obligatorio para order-select",
                                     "context.selections")
            }
        }
    }

    /// The draft orders the hook asks about: the selected ones for order-select, all for order-sign.
    public var ordersInQuestion: [JSON] {
        guard hook == "order-select" else { return draftOrders }
        return draftOrders.filter { r in
            selections.contains("\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")")
        }
    }
}

/// `Type/id` of a resource.
func reference(_ r: JSON) -> String? {
    guard let t = r["resourceType"]?.stringValue, let id = r["id"]?.stringValue else { return nil }
    return "\(t)/\(id)"
}
