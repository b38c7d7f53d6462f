import FHIR
import Foundation
import Storage
import Trust

/// E-prescription (docs/prescribing.md): `MedicationRequest/$prescribe` checks a prescription,
/// applies the rules of controlled medicines, gives it a validity and a prescription code, and
/// stores it through the prescriber's guarded repository; the pharmacy counter finds it by that
/// code only (`Dispensing`).
public struct Prescribing: Sendable {
    public var controlled: ControlledMedicines

    public init(controlled: ControlledMedicines = .embedded) { self.controlled = controlled }

    static func refuse(_ english: String, _ spanish: String, _ expression: String) -> FHIRError {
        FHIRError(status: 422, code: "business-rule", english: english, spanish: spanish, expression: [expression])
    }

    public static func number(_ j: JSON?) -> Decimal? {
        if case let .number(n)? = j { return Decimal(string: n) }
        return nil
    }

    static func day(_ t: Timestamp, plus days: Int) -> String {
        String(Timestamp(microseconds: t.microseconds + Int64(days) * 86_400_000_000).description.prefix(10))
    }

    /// The prescription as it will be stored (code, validity, group), or a 4xx naming what is wrong.
    public func prepare(_ request: JSON, now: Timestamp) throws -> JSON {
        guard request["resourceType"]?.stringValue == "MedicationRequest" else {
            throw FHIRError(status: 400, code: "invalid", english: "$prescribe takes a MedicationRequest", spanish: "$prescribe recibe un MedicationRequest")
        }
        guard request["status"]?.stringValue == "active", request["intent"]?.stringValue == "order" else {
            throw Prescribing.refuse("a prescription is signed with status 'active' and intent 'order'",
                                     "una receta se firma con status 'active' e intent 'order'", "MedicationRequest.status")
        }
        guard request["subject"]?["reference"]?.stringValue?.hasPrefix("Patient/") == true else {
            throw Prescribing.refuse("a prescription names its patient (subject)", "una receta nombra a su paciente (subject)", "MedicationRequest.subject")
        }
        guard request["medicationCodeableConcept"] != nil || request["medicationReference"] != nil else {
            throw Prescribing.refuse("a prescription names its medicine", "una receta nombra su medicamento", "MedicationRequest.medication[x]")
        }
        guard let quantity = Prescribing.number(request["dispenseRequest"]?["quantity"]?["value"]), quantity > 0 else {
            throw Prescribing.refuse("a prescription states the quantity to dispense (dispenseRequest.quantity)",
                                     "una receta indica la cantidad a surtir (dispenseRequest.quantity)", "MedicationRequest.dispenseRequest.quantity")
        }
        let refills = Prescribing.number(request["dispenseRequest"]?["numberOfRepeatsAllowed"]) ?? 0
        if PrescriptionCode.of(request) != nil {
            throw Prescribing.refuse("prescription codes are issued by Enlace, not sent", "los códigos de receta los emite Enlace, no se envían",
                                     "MedicationRequest.identifier")
        }
        var out = request
        let authored = request["authoredOn"]?.stringValue.flatMap(DateRange.init).map { Timestamp(microseconds: $0.low * 1000) } ?? now
        if request["authoredOn"] == nil { out = out.setting("authoredOn", .string(now.description)) }
        var validityDays = controlled.defaultValidityDays
        if let g = controlled.group(of: request) {
            if refills > Decimal(g.refillsAllowed) {
                throw Prescribing.refuse("a group \(g.group) controlled medicine is prescribed without refills (\(g.source))",
                                         "un medicamento controlado del grupo \(g.group) se receta sin resurtidos (\(g.spanish))",
                                         "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed")
            }
            validityDays = g.maxValidityDays
            let category = JSON.object([("coding", .array([.object([("system", .string(ControlledMedicines.groupSystem)), ("code", .string(g.group)),
                                                                    ("display", .string("Grupo \(g.group)"))])]))])
            let existing = (out["category"]?.arrayValue ?? []).filter { c in
                !(c["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == ControlledMedicines.groupSystem }
            }
            out = out.setting("category", .array(existing + [category]))
        }
        let latest = Prescribing.day(authored, plus: validityDays)
        var dispense = out["dispenseRequest"] ?? .object([])
        if let end = dispense["validityPeriod"]?["end"]?.stringValue {
            guard let r = DateRange(end), let limit = DateRange(latest), r.low <= limit.high else {
                throw Prescribing.refuse("the prescription may be valid for at most \(validityDays) days (until \(latest))",
                                         "la receta puede tener vigencia de a lo más \(validityDays) días (hasta \(latest))",
                                         "MedicationRequest.dispenseRequest.validityPeriod.end")
            }
        } else {
            dispense = dispense.setting("validityPeriod", .object([("start", .string(String(authored.description.prefix(10)))), ("end", .string(latest))]))
        }
        out = out.setting("dispenseRequest", dispense)
        let identifier = JSON.object([("system", .string(PrescriptionCode.system)), ("value", .string(PrescriptionCode.generate()))])
        out = out.setting("identifier", .array((out["identifier"]?.arrayValue ?? []) + [identifier]))
        return out
    }

    /// Prepares and stores the prescription as the prescriber.
    public func prescribe(_ request: JSON, repository: GuardedRepository, now: Timestamp) async throws -> StoredResource {
        guard repository.principal.effectiveRole == .practitioner || repository.principal.effectiveRole == .platformOperator else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner prescribes", spanish: "solo un profesional de la salud receta")
        }
        return try await repository.create("MedicationRequest", try prepare(request, now: now), ifNoneExist: nil).resource
    }
}
