import FHIR
import Foundation
import Trust

extension DemoData {
    /// The Care part of the demo (docs/care.md, docs/prescribing.md), written through the door's
    /// demo loader like the rest of the record:
    /// - referrals from the IMSS UMF 20 to Hospital Santa Fe in several states: Ana's accepted
    ///   (for 90 days), and others requested, received, rejected with a reason, and completed
    ///   with its Encounter;
    /// - Ana's HbA1c ordered again two days ago and caught by the CDS Hooks `order-sign` card:
    ///   the order withdrawn (`revoked`) and the accepted card recorded as Provenance;
    /// - a metformin prescription with a code (`RX-DEM0-ANA0-0001`), 30 of its 60 tablets
    ///   dispensed at Farmacia Roma five days ago.
    func seedCare(_ g: DemoGenerator) async throws {
        let ana = g.anaID
        let doctor = "Practitioner/dr-hernandez"
        let referral: [String: Any] = ["coding": [["system": AccessPolicy.referralSystem, "code": AccessPolicy.referralCode, "display": "Referencia"]]]
        let category: [[String: Any]] = [["coding": [["system": "http://snomed.info/sct", "code": "3457005", "display": "Referencia de paciente"]]]]
        func refer(_ patient: String, _ suffix: String, status: String, reason: String, daysAgo: Double, extra: [String: Any] = [:]) -> [(JSON, String?)] {
            let sr = "\(patient)-ref-\(suffix)"
            var task: [String: Any] = ["resourceType": "Task", "id": "\(sr)-task", "status": status, "intent": "order", "code": referral,
                                       "focus": ["reference": "ServiceRequest/\(sr)"], "for": ["reference": "Patient/\(patient)"],
                                       "authoredOn": g.instant(g.ago(daysAgo)), "lastModified": g.instant(g.ago(max(0, daysAgo - 2))),
                                       "requester": g.ref(doctor), "owner": g.ref(DemoGenerator.hospital),
                                       "description": "Referencia a Hospital Santa Fe: \(reason)"]
            for (k, v) in extra { task[k] = v }
            return [(fhir(["resourceType": "ServiceRequest", "id": sr, "status": "active", "intent": "order", "category": category,
                           "code": ["text": "Valoración por medicina interna / endocrinología"], "subject": ["reference": "Patient/\(patient)"],
                           "requester": g.ref(doctor), "performer": [g.ref(DemoGenerator.hospital)], "authoredOn": g.instant(g.ago(daysAgo)),
                           "reasonCode": [["text": reason]]]), patient),
                    (fhir(task), patient)]
        }
        let others = g.patientIDs.filter { $0 != ana && $0 != g.luciaID }
        try await transaction(refer(ana, "endo", status: "accepted", reason: "Diabetes tipo 2 con HbA1c fuera de meta pese a metformina", daysAgo: 6,
                                    extra: ["restriction": ["period": ["start": g.day(g.ago(4)), "end": g.day(g.ago(-86))]]]), patients: [ana])
        let states: [(String, String, [String: Any])] = [
            ("requested", "Dolor torácico atípico para valoración", [:]),
            ("received", "Nódulo tiroideo para ultrasonido y valoración", [:]),
            ("rejected", "Valoración por oftalmología", ["statusReason": ["text": "El hospital no cuenta con oftalmología; referir a otra unidad"]]),
            ("completed", "Hernia inguinal para valoración quirúrgica", ["output": [["type": ["text": "Encounter"], "valueReference": ["reference": "Encounter/\(others[3])-enc-0"]]]]),
        ]
        for (i, (status, reason, extra)) in states.enumerated() {
            try await transaction(refer(others[i], status, status: status, reason: reason, daysAgo: Double(10 + i * 5), extra: extra), patients: [others[i]])
        }

        // the HbA1c ordered twice, and the card that caught it
        let order = "\(ana)-sr-hba1c-repetida"
        let caught: [(JSON, String?)] = [
            (fhir(["resourceType": "ServiceRequest", "id": order, "status": "revoked", "intent": "order",
                   "code": ["coding": [["system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobina glucosilada (HbA1c)"]]],
                   "subject": ["reference": "Patient/\(ana)"], "requester": g.ref(doctor), "authoredOn": g.instant(g.ago(2))]), ana),
            (fhir(["resourceType": "Provenance", "id": "\(order)-cds",
                   "target": [["reference": "Patient/\(ana)"], ["reference": "ServiceRequest/\(order)"]],
                   "occurredDateTime": g.instant(g.ago(2)), "recorded": g.instant(g.ago(2)), "policy": ["urn:enlace:cds-service:enlace-order-sign"],
                   "activity": ["coding": [["system": "https://enlace.mx/fhir/CodeSystem/cds-feedback-outcome", "code": "accepted", "display": "Aceptada / Accepted"]],
                                "text": "Recomendación aceptada: se retiró la orden repetida"],
                   "agent": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author"]]],
                              "who": g.ref(doctor), "onBehalfOf": g.ref(DemoGenerator.imss)]],
                   "entity": [["role": "source", "what": ["identifier": ["system": "https://enlace.mx/fhir/NamingSystem/cds-card", "value": "demo-card-hba1c"],
                                                           "display": "[warning] Hemoglobina glucosilada (HbA1c) repetida: ya hay un resultado vigente en el expediente"]]]]), ana),
        ]
        try await transaction(caught, patients: [ana])

        // a prescription partly dispensed at Farmacia Roma
        let rx = "\(ana)-rx-receta"
        let code = "RX-DEM0-ANA0-0001"
        let prescription: [(JSON, String?)] = [
            (fhir(["resourceType": "MedicationRequest", "id": rx, "status": "active", "intent": "order",
                   "identifier": [["system": Door.prescriptionCodeSystem, "value": code]],
                   "medicationCodeableConcept": ["text": "Metformina 850 mg tabletas"], "subject": ["reference": "Patient/\(ana)"],
                   "requester": g.ref(doctor), "authoredOn": g.instant(g.ago(8)),
                   "dosageInstruction": [["text": "1 tableta cada 12 horas con alimentos"]],
                   "dispenseRequest": ["quantity": ["value": 60, "unit": "tabletas"], "numberOfRepeatsAllowed": 1,
                                       "validityPeriod": ["start": g.day(g.ago(8)), "end": g.day(g.ago(-172))]]]), ana),
            (fhir(["resourceType": "MedicationDispense", "id": "\(rx)-1", "status": "completed",
                   "identifier": [["system": "https://enlace.mx/fhir/sid/dispensa", "value": "\(code)-1"]],
                   "medicationCodeableConcept": ["text": "Metformina 850 mg tabletas"], "subject": ["reference": "Patient/\(ana)"],
                   "authorizingPrescription": [["reference": "MedicationRequest/\(rx)"]], "quantity": ["value": 30, "unit": "tabletas"],
                   "type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "FFP"]]],
                   "whenHandedOver": g.instant(g.ago(5)), "performer": [["actor": g.ref(DemoGenerator.pharmacy)]]]), ana),
        ]
        try await transaction(prescription, patients: [ana])
        try await seedScheduling(g)
    }
}
