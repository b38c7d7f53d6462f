import Care
import FHIR
import Foundation
import Storage
import Trust

extension DemoData {
    /// The appointments of the demo (docs/care.md, "Appointments"): Dr. Hernández's schedule at
    /// the IMSS UMF 20 (weekdays 09:00–13:00, 30-minute slots, for the next week) and Hospital
    /// Santa Fe's endocrinology service (Tuesdays and Thursdays 08:00–12:00, 40 minutes); Ana
    /// booked with Dr. Hernández in person and, as the next step of her accepted referral, an
    /// online visit at the hospital (`basedOn` the referral); two other patients booked, and one
    /// cancellation with its reason (its slot free again).
    func seedScheduling(_ g: DemoGenerator) async throws {
        let ana = g.anaID
        let others = g.patientIDs.filter { $0 != ana && $0 != g.luciaID }
        let service = "HealthcareService/hsf-endocrinologia"
        let tomorrow = g.day(g.ago(-1))
        func schedule(_ id: String, actor: [String: Any], serviceType: String) -> JSON {
            fhir(["resourceType": "Schedule", "id": id, "active": true, "actor": [actor], "serviceType": [["text": serviceType]],
                  "planningHorizon": ["start": g.instant(g.ago(0)), "end": g.instant(g.ago(-60))], "comment": "Agenda de demostración"])
        }
        let umf = schedule("demo-agenda-hernandez", actor: g.ref("Practitioner/dr-hernandez"), serviceType: "Medicina familiar")
        let hsf = schedule("demo-agenda-hsf-endocrinologia", actor: ["reference": service, "display": "Endocrinología, Hospital Santa Fe"], serviceType: "Endocrinología")
        func stored(_ j: JSON) -> StoredResource {
            StoredResource(type: "Schedule", id: j["id"]?.stringValue ?? "", version: 1, lastUpdated: Timestamp(date: g.now), deleted: false, body: j.serialized(), compartments: [])
        }
        func slots(_ s: JSON, _ t: Slots.Template, prefix: String) throws -> [JSON] {
            try Slots().slots(t, schedule: stored(s)).enumerated().map { i, slot in slot.setting("id", .string("\(prefix)-\(i + 1)")) }
        }
        var umfSlots = try slots(umf, Slots.Template(startDate: tomorrow, days: 7, sessions: [("09:00", "13:00")], minutes: 30), prefix: "demo-slot-hernandez")
        var hsfSlots = try slots(hsf, Slots.Template(startDate: tomorrow, days: 7, weekdays: [2, 4], sessions: [("08:00", "12:00")], minutes: 40), prefix: "demo-slot-hsf")
        let healthcareService = fhir(["resourceType": "HealthcareService", "id": "hsf-endocrinologia", "active": true, "providedBy": g.ref(DemoGenerator.hospital),
                                      "name": "Endocrinología, Hospital Santa Fe", "type": [["text": "Endocrinología"]]])
        guard umfSlots.count > 10, hsfSlots.count > 2 else { return }
        func appointment(_ id: String, _ patient: String, slot: inout JSON, actor: String, status: String = "booked", reason: String,
                         extra: [String: Any] = [:]) -> JSON {
            var a: [String: Any] = ["resourceType": "Appointment", "id": id, "status": status,
                                    "serviceType": [["text": actor == service ? "Endocrinología" : "Medicina familiar"]],
                                    "reasonCode": [["text": reason]], "start": slot["start"]?.stringValue ?? "", "end": slot["end"]?.stringValue ?? "",
                                    "slot": [["reference": "Slot/\(slot["id"]?.stringValue ?? "")"]], "created": g.instant(g.ago(3)),
                                    "participant": [["actor": ["reference": "Patient/\(patient)"], "required": "required", "status": "accepted"],
                                                    ["actor": g.ref(actor), "required": "required", "status": "accepted"]]]
            for (k, v) in extra { a[k] = v }
            if status != "cancelled" { slot = slot.setting("status", .string("busy")) }
            return fhir(a)
        }
        let anaVisit = appointment("\(ana)-cita-control", ana, slot: &umfSlots[2], actor: "Practitioner/dr-hernandez", reason: "Control de diabetes tipo 2 e hipertensión")
        let anaReferral = appointment("\(ana)-cita-endocrinologia", ana, slot: &hsfSlots[0], actor: service, reason: "Valoración por endocrinología (referencia)",
                                      extra: ["basedOn": [["reference": "ServiceRequest/\(ana)-ref-endo"]],
                                              "extension": [["url": Booking.virtualVisitURL, "valueUrl": "https://meet.jit.si/enlace-demo-ana-endocrinologia"]]])
        let second = appointment("\(others[4])-cita-1", others[4], slot: &umfSlots[0], actor: "Practitioner/dr-hernandez", reason: "Dolor lumbar")
        let third = appointment("\(others[5])-cita-1", others[5], slot: &umfSlots[9], actor: "Practitioner/dr-hernandez", reason: "Revisión de resultados de laboratorio")
        let cancelled = appointment("\(others[6])-cita-1", others[6], slot: &umfSlots[1], actor: "Practitioner/dr-hernandez", status: "cancelled", reason: "Certificado médico",
                                    extra: ["cancelationReason": ["text": "La paciente tuvo un viaje de trabajo"]])
        try await transaction(([healthcareService, umf, hsf] + umfSlots + hsfSlots).map { ($0, nil) }, patients: [])
        try await transaction([(anaVisit, ana), (anaReferral, ana)], patients: [ana])
        try await transaction([(second, others[4])], patients: [others[4]])
        try await transaction([(third, others[5])], patients: [others[5]])
        try await transaction([(cancelled, others[6])], patients: [others[6]])
    }
}
