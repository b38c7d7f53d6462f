import FHIR
import Foundation
import Monitoring
import Storage
import Trust

extension DemoData {
    /// The Monitoring part of the demo (docs/monitoring.md, "Demo"): runs after the core demo
    /// record is loaded, through the door like every other write.
    ///
    /// Ana (diabetes and hypertension) has a glucometer and a blood-pressure monitor, a glucose
    /// Goal of 80–160 mg/dL set by Dr. Hernández, and 30 days of readings mapped from Open
    /// mHealth data points (the same mapping `$ingest-omh` uses). The alert rules judge them as
    /// they would live: a high-glucose episode 20–17 days ago that Dr. Hernández acknowledged
    /// (and that closed when her readings came back), a short blood-pressure episode, and a
    /// high-glucose episode in the last two days that is still open — the live alert on
    /// *Alertas* and the red points on *Mis mediciones*.
    func seedMonitoring(_ g: DemoGenerator) async throws {
        let ana = g.anaID
        let nowTS = services.clock.now()
        let day: Int64 = 86_400_000_000
        func at(_ daysAgo: Int, hourUTC: Int) -> Timestamp {
            let midnight = nowTS.microseconds - nowTS.microseconds % day
            return Timestamp(microseconds: midnight - Int64(daysAgo) * day + Int64(hourUTC) * 3_600_000_000)
        }
        var random = SeededRandom(state: 14_2026)
        let meter = "\(ana)-glucometro", cuff = "\(ana)-baumanometro"
        let shared: [(JSON, String?)] = [
            (fhir(["resourceType": "Device", "id": meter, "status": "active", "manufacturer": "Roche", "modelNumber": "Accu-Chek Guide",
                   "identifier": [["system": "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680", "value": "00-1B-2C-FF-FE-3D-4E-5F"]],
                   "type": ["coding": [["system": "urn:iso:std:iso:11073:10101", "code": "528401", "display": "MDC_DEV_SPEC_PROFILE_GLUCOSE"]], "text": "Glucómetro"],
                   "patient": ["reference": "Patient/\(ana)"]]), ana),
            (fhir(["resourceType": "Device", "id": cuff, "status": "active", "manufacturer": "Omron", "modelNumber": "HEM-7156T",
                   "identifier": [["system": "urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680", "value": "00-09-1F-FF-FE-80-12-34"]],
                   "type": ["coding": [["system": "urn:iso:std:iso:11073:10101", "code": "528391", "display": "MDC_DEV_SPEC_PROFILE_BPM"]], "text": "Baumanómetro"],
                   "patient": ["reference": "Patient/\(ana)"]]), ana),
            (fhir(["resourceType": "Goal", "id": "\(ana)-meta-glucosa", "lifecycleStatus": "active",
                   "description": ["text": "Glucosa capilar entre 80 y 160 mg/dL"], "subject": ["reference": "Patient/\(ana)"],
                   "expressedBy": ["reference": "Practitioner/dr-hernandez", "display": "Dr. Juan Carlos Hernández Ruiz"],
                   "startDate": g.day(g.ago(60)),
                   "target": [["measure": ["coding": [["system": "http://loinc.org", "code": "2339-0", "display": "Glucose [Mass/volume] in Blood"]]],
                               "detailRange": ["low": ["value": 80, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"],
                                               "high": ["value": 160, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"]]]]]), ana),
        ]
        try await transaction(shared, patients: [ana])

        // 30 days: fasting glucose at 07:00 and after lunch at 16:00 (Mexico City, UTC-6), blood pressure at 07:15
        func glucose(_ daysAgo: Int) -> (Int, Int) {
            switch daysAgo {
            case 17...20: return (random.int(178...205), random.int(210...248))
            case 0...2: return (random.int(196...214), random.int(236...262))
            default: return (random.int(96...128), random.int(124...156))
            }
        }
        func pressure(_ daysAgo: Int) -> (Int, Int) {
            (8...9).contains(daysAgo) ? (random.int(146...152), random.int(91...95)) : (random.int(118...134), random.int(72...86))
        }
        func point(_ schema: String, _ body: [String: Any], _ source: String) -> JSON {
            fhir(["header": ["schema_id": ["namespace": "omh", "name": schema, "version": "2.0"],
                             "acquisition_provenance": ["source_name": source, "modality": "sensed"]], "body": body])
        }
        func observations(days: ClosedRange<Int>) throws -> [(JSON, String?)] {
            var out: [(JSON, String?)] = []
            for d in days.reversed() {
                let (fasting, after) = glucose(d)
                let (sys, dia) = pressure(d)
                let readings: [(String, JSON, Timestamp, String)] = [
                    ("glu-\(d)-a", point("blood-glucose", ["blood_glucose": ["value": fasting, "unit": "mg/dL"], "temporal_relationship_to_meal": "fasting",
                                                            "effective_time_frame": ["date_time": at(d, hourUTC: 13).description]], "Accu-Chek Guide"), at(d, hourUTC: 13), meter),
                    ("glu-\(d)-b", point("blood-glucose", ["blood_glucose": ["value": after, "unit": "mg/dL"], "temporal_relationship_to_meal": "after lunch",
                                                            "effective_time_frame": ["date_time": at(d, hourUTC: 22).description]], "Accu-Chek Guide"), at(d, hourUTC: 22), meter),
                    ("pa-\(d)", point("blood-pressure", ["systolic_blood_pressure": ["value": sys, "unit": "mmHg"], "diastolic_blood_pressure": ["value": dia, "unit": "mmHg"],
                                                          "effective_time_frame": ["date_time": at(d, hourUTC: 13).description]], "Omron HEM-7156T"), at(d, hourUTC: 13), cuff),
                ]
                for (suffix, p, time, device) in readings where time <= nowTS {
                    let o = try OpenMHealth.observation(from: p, patient: ana, now: nowTS).get()
                    out.append((o.setting("id", .string("\(ana)-\(suffix)")).setting("device", .object([("reference", .string("Device/\(device)"))])), ana))
                }
            }
            return out
        }
        let alerts = AlertConsumer()
        // up to 17 days ago: the first glucose episode is open; Dr. Hernández acknowledges it
        try await transaction(try observations(days: 17...30), patients: [ana])
        try await services.door.catchUp(alerts)
        let hernandez = Principal(subject: "user:dr.hernandez", scopes: ScopeSet("user/*.cruds"), tokenID: "demo-monitoring", role: .practitioner,
                                  fhirUser: "Practitioner/dr-hernandez", organization: DemoGenerator.imss)
        let acknowledgedAt = at(16, hourUTC: 17)
        let doctor = try await services.door.open(hernandez, audit: nil)
        let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [("patient", "Patient/\(ana)"), ("code", "\(AlertConsumer.alertSystem)|review-reading"),
                                                                          ("status", "requested")])
        for stored in try await doctor.search(q).matches {
            var task = try stored.json()
            task = task.setting("status", .string("in-progress")).setting("lastModified", .string(acknowledgedAt.description))
                .setting("note", .array([fhir(["authorReference": ["reference": "Practitioner/dr-hernandez"], "time": acknowledgedAt.description,
                                               "text": "Llamé a Ana: ajustamos la dosis de metformina y la dieta. Revisar lecturas en una semana."])]))
                .setting("meta", nil)
            _ = try await doctor.update("Task", stored.id, task, ifMatch: stored.version)
        }
        // the rest of the month: back in range (the episode closes), a blood-pressure run, and today's high glucose
        try await transaction(try observations(days: 0...16), patients: [ana])
        try await services.door.catchUp(alerts)
    }
}
