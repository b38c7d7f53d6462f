import FHIR
import Foundation
import Trust

extension DemoData {
    /// The Prevention part of the demo (docs/prevention.md, "Demo"): three people of Dr.
    /// Hernández's panel at the IMSS UMF 20, written through the door like every other write —
    /// - Mateo, 14 months, whose hexavalent and pneumococcal doses were given partly at the IMSS and
    ///   partly at the Hospital Santa Fe, and who is missing his 12-month doses and MMR;
    /// - Rosa, 52, overdue for her mammography, HPV test and glucose, a 3 % cardiovascular risk
    ///   (WHO 2019 chart), who opposed being contacted (no reminder reaches her);
    /// - Ernesto, 58, with type 2 diabetes and an HbA1c of 9.1 % that drives a high FINDRISC, who
    ///   chose not to be told his diabetes risk results (right not to know); a daily smoker with a
    ///   systolic pressure of 150 and a cholesterol of 240 mg/dL: a 20 % cardiovascular risk.
    /// The consumers (`prevention.recommendations`, `prevention.risk`,
    /// `prevention.cardiovascular-risk`) compute the rest when the server runs.
    func seedPrevention(_ g: DemoGenerator) async throws {
        let imss = DemoGenerator.imss, hospital = DemoGenerator.hospital, doctor = "Practitioner/dr-hernandez"
        func patient(_ id: String, given: String, paternal: String, maternal: String, female: Bool, born: Date) -> JSON {
            let c = Calendar(identifier: .gregorian)
            var cal = c
            cal.timeZone = TimeZone(identifier: "UTC")!
            let parts = cal.dateComponents([.year, .month, .day], from: born)
            let curp = CURP.make(given: given, paternal: paternal, maternal: maternal, birth: (parts.year!, parts.month!, parts.day!), female: female,
                                 state: "DF", homonym: 0)
            return fhir(["resourceType": "Patient", "id": id, "active": true,
                         "identifier": [["system": "https://www.gob.mx/curp", "value": curp, "type": ["text": "CURP"]]],
                         "name": [["use": "official", "family": "\(paternal) \(maternal)", "given": given.split(separator: " ").map(String.init),
                                   "text": "\(given) \(paternal) \(maternal)"]],
                         "gender": female ? "female" : "male", "birthDate": g.day(born), "managingOrganization": g.ref(imss)])
        }
        func subject(_ id: String) -> [String: Any] { ["reference": "Patient/\(id)"] }
        func encounter(_ id: String, _ pt: String, daysAgo: Double) -> JSON {
            fhir(["resourceType": "Encounter", "id": id, "status": "finished",
                  "class": ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"],
                  "type": [["text": "Consulta de medicina familiar"]], "subject": subject(pt), "serviceProvider": g.ref(imss),
                  "participant": [["individual": g.ref(doctor)]],
                  "period": ["start": g.instant(g.ago(daysAgo)), "end": g.instant(g.ago(daysAgo).addingTimeInterval(1800))]])
        }
        func team(_ pt: String) -> JSON {
            fhir(["resourceType": "CareTeam", "id": "\(pt)-team", "status": "active", "name": "Equipo de atención primaria", "subject": subject(pt),
                  "managingOrganization": [g.ref(imss)], "participant": [["member": g.ref(doctor), "onBehalfOf": g.ref(imss)]]])
        }
        func vaccine(_ id: String, _ pt: String, cvx: String, display: String, daysAgo: Double, at org: String) -> JSON {
            fhir(["resourceType": "Immunization", "id": id, "status": "completed",
                  "vaccineCode": ["coding": [["system": "http://hl7.org/fhir/sid/cvx", "code": cvx, "display": display]], "text": display],
                  "patient": subject(pt), "occurrenceDateTime": g.day(g.ago(daysAgo)), "primarySource": true,
                  "performer": [["actor": g.ref(org)]]])
        }
        func smoking(_ id: String, _ pt: String, snomed: String, display: String, daysAgo: Double) -> JSON {
            fhir(["resourceType": "Observation", "id": id, "status": "final",
                  "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "social-history"]]]],
                  "code": ["coding": [["system": "http://loinc.org", "code": "72166-2", "display": "Tobacco smoking status"]], "text": "Tabaquismo"],
                  "subject": subject(pt), "effectiveDateTime": g.instant(g.ago(daysAgo)),
                  "valueCodeableConcept": ["coding": [["system": "http://snomed.info/sct", "code": snomed, "display": display]], "text": display]])
        }
        func lab(_ id: String, _ pt: String, loinc: String, display: String, value: Double, unit: String, daysAgo: Double) -> JSON {
            fhir(["resourceType": "Observation", "id": id, "status": "final",
                  "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": unit == "cm" || unit == "kg/m2" ? "vital-signs" : "laboratory"]]]],
                  "code": ["coding": [["system": "http://loinc.org", "code": loinc, "display": display]], "text": display],
                  "subject": subject(pt), "effectiveDateTime": g.instant(g.ago(daysAgo)),
                  "valueQuantity": ["value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit], "performer": [g.ref(imss)]])
        }
        // Mateo, 14 months: incomplete schedule, doses at two institutions
        let mateo = "demo-prev-mateo"
        let born = g.ago(14 * 30.4)
        let mateoAge = { (months: Double) in 14 * 30.4 - months * 30.4 }
        try await transaction([
            (patient(mateo, given: "Mateo", paternal: "Ramírez", maternal: "Soto", female: false, born: born), mateo), (team(mateo), mateo),
            (encounter("\(mateo)-enc-0", mateo, daysAgo: mateoAge(6)), mateo),
            (vaccine("\(mateo)-bcg", mateo, cvx: "19", display: "BCG", daysAgo: mateoAge(0) - 1, at: hospital), mateo),
            (vaccine("\(mateo)-hb0", mateo, cvx: "08", display: "Hepatitis B pediátrica", daysAgo: mateoAge(0) - 1, at: hospital), mateo),
            (vaccine("\(mateo)-hexa-1", mateo, cvx: "146", display: "Hexavalente", daysAgo: mateoAge(2), at: imss), mateo),
            (vaccine("\(mateo)-rota-1", mateo, cvx: "119", display: "Rotavirus", daysAgo: mateoAge(2), at: imss), mateo),
            (vaccine("\(mateo)-pcv-1", mateo, cvx: "133", display: "Neumocócica conjugada", daysAgo: mateoAge(2), at: imss), mateo),
            (vaccine("\(mateo)-hexa-2", mateo, cvx: "146", display: "Hexavalente", daysAgo: mateoAge(4), at: hospital), mateo),
            (vaccine("\(mateo)-rota-2", mateo, cvx: "119", display: "Rotavirus", daysAgo: mateoAge(4), at: hospital), mateo),
            (vaccine("\(mateo)-pcv-2", mateo, cvx: "133", display: "Neumocócica conjugada", daysAgo: mateoAge(4), at: hospital), mateo),
            (vaccine("\(mateo)-hexa-3", mateo, cvx: "146", display: "Hexavalente", daysAgo: mateoAge(6), at: imss), mateo),
        ], patients: [mateo])
        // Rosa, 52: overdue for screening (last mammography 3 years ago, blood pressure this year)
        let rosa = "demo-prev-rosa"
        try await transaction([
            (patient(rosa, given: "Rosa María", paternal: "Hernández", maternal: "Luna", female: true, born: g.ago(52 * 365.25 + 40)), rosa), (team(rosa), rosa),
            (encounter("\(rosa)-enc-0", rosa, daysAgo: 90), rosa),
            (lab("\(rosa)-bp", rosa, loinc: "8480-6", display: "Presión sistólica", value: 128, unit: "mm[Hg]", daysAgo: 90), rosa),
            (lab("\(rosa)-col", rosa, loinc: "2093-3", display: "Colesterol total", value: 217, unit: "mg/dL", daysAgo: 90), rosa),
            (smoking("\(rosa)-tabaco", rosa, snomed: "266919005", display: "Nunca ha fumado", daysAgo: 90), rosa),
            // she opposed being contacted (docs/prevention.md, "Reminders"): no reminder ever reaches her
            (fhir(["resourceType": "Consent", "id": "\(rosa)-no-contactar", "status": "active",
                   "scope": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"]]],
                   "category": [["coding": [["system": "http://loinc.org", "code": "59284-0"]]]],
                   "patient": subject(rosa), "dateTime": g.instant(g.ago(90)),
                   "policyRule": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"]]],
                   "provision": ["type": "deny",
                                 "action": [["coding": [["system": "https://enlace.mx/fhir/CodeSystem/consent-action", "code": "contact"]],
                                             "text": "No contactarme para recordatorios"]]]]), rosa),
            (fhir(["resourceType": "Procedure", "id": "\(rosa)-mamo", "status": "completed", "subject": subject(rosa),
                   "code": ["coding": [["system": "http://snomed.info/sct", "code": "71651007", "display": "Mammography"]], "text": "Mastografía"],
                   "performedDateTime": g.day(g.ago(3 * 365.25)), "performer": [["actor": g.ref(hospital)]]]), rosa),
        ], patients: [rosa])
        // Ernesto, 58: type 2 diabetes, HbA1c 9.1 %, BMI 33, waist 108 cm; he chose not to know his diabetes risk results
        let ernesto = "demo-prev-ernesto"
        try await transaction([
            (patient(ernesto, given: "Ernesto", paternal: "García", maternal: "Villa", female: false, born: g.ago(58 * 365.25 + 100)), ernesto), (team(ernesto), ernesto),
            (encounter("\(ernesto)-enc-0", ernesto, daysAgo: 20), ernesto),
            (fhir(["resourceType": "Condition", "id": "\(ernesto)-dm2", "subject": subject(ernesto),
                   "clinicalStatus": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"]]],
                   "code": ["coding": [["system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9", "display": "Diabetes mellitus tipo 2 sin complicaciones"]], "text": "Diabetes tipo 2"],
                   "onsetDateTime": g.day(g.ago(4 * 365.25))]), ernesto),
            (lab("\(ernesto)-a1c", ernesto, loinc: "4548-4", display: "Hemoglobina glucosilada (HbA1c)", value: 9.1, unit: "%", daysAgo: 20), ernesto),
            (lab("\(ernesto)-bmi", ernesto, loinc: "39156-5", display: "Índice de masa corporal", value: 33.1, unit: "kg/m2", daysAgo: 20), ernesto),
            (lab("\(ernesto)-waist", ernesto, loinc: "8280-0", display: "Circunferencia de cintura", value: 108, unit: "cm", daysAgo: 20), ernesto),
            (lab("\(ernesto)-bp", ernesto, loinc: "8480-6", display: "Presión sistólica", value: 150, unit: "mm[Hg]", daysAgo: 20), ernesto),
            (lab("\(ernesto)-col", ernesto, loinc: "2093-3", display: "Colesterol total", value: 240, unit: "mg/dL", daysAgo: 20), ernesto),
            (smoking("\(ernesto)-tabaco", ernesto, snomed: "449868002", display: "Fuma a diario", daysAgo: 20), ernesto),
            (fhir(["resourceType": "MedicationStatement", "id": "\(ernesto)-losartan", "status": "active", "subject": subject(ernesto),
                   "medicationCodeableConcept": ["coding": [["system": "http://www.whocc.no/atc", "code": "C09CA01", "display": "losartán"]], "text": "Losartán 50 mg"]]), ernesto),
            (fhir(["resourceType": "Consent", "id": "\(ernesto)-no-saber-riesgo", "status": "active",
                   "scope": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"]]],
                   "category": [["coding": [["system": "http://loinc.org", "code": "59284-0"]]]],
                   "patient": subject(ernesto), "dateTime": g.instant(g.ago(20)),
                   "policyRule": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"]]],
                   "provision": ["type": "deny",
                                 "actor": [["role": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"]]],
                                            "reference": subject(ernesto)]],
                                 "securityLabel": [["system": "https://enlace.mx/fhir/CodeSystem/risk-category", "code": "risk-diabetes"]]]]), ernesto),
        ], patients: [ernesto])
    }
}
