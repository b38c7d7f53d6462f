import FHIR
import Foundation
import Testing
@testable import Trust

/// Monitoring over HTTP (docs/monitoring.md): `Observation/$ingest-omh` and `Observation/$stats`.
@Suite("Monitoring over HTTP")
struct MonitoringHTTPTests {
    static func point(_ schema: String, _ body: String) -> String {
        #"{"header":{"id":"\#(UUID().uuidString)","schema_id":{"namespace":"omh","name":"\#(schema)","version":"2.0"},"acquisition_provenance":{"source_name":"Reloj Xiaomi Band 8"}},"body":\#(body)}"#
    }

    static func heartRate(_ v: Int, _ time: String) -> String {
        point("heart-rate", #"{"heart_rate":{"value":\#(v),"unit":"beats/min"},"effective_time_frame":{"date_time":"\#(time)"}}"#)
    }

    static func patientToken(_ server: TestServer, _ id: String, scope: String = "patient/Observation.crs") throws -> String {
        try server.services.authority.issueClaims(subject: "user:\(id)", scope: scope, ttl: 3600, now: server.clock.now(), role: .patient,
                                                  fhirUser: "Patient/\(id)", patient: id).token
    }

    static func statuses(_ r: Client.Reply) -> [String] { (r.json["entry"]?.arrayValue ?? []).compactMap { $0["response"]?["status"]?.stringValue } }

    @Test func aPatientsAppIngestsOnceAndARetryStoresNothing() async throws {
        let server = try TestServer()
        let ana = try MonitoringHTTPTests.patientToken(server, "ana")
        try await server.run { op in
            let app = Client(client: op.client, token: ana)
            let payload = "[" + [MonitoringHTTPTests.heartRate(71, "2026-11-24T04:00:00-06:00"), MonitoringHTTPTests.heartRate(74, "2026-11-24T05:00:00-06:00")].joined(separator: ",") + "]"
            let r = try await app.send(.post, "/fhir/Observation/$ingest-omh", json: payload)
            #expect(r.status == 200, "\(r.text.prefix(400))")
            #expect(MonitoringHTTPTests.statuses(r) == ["201 Created", "201 Created"])
            let again = try await app.send(.post, "/fhir/Observation/$ingest-omh", json: payload)
            #expect(MonitoringHTTPTests.statuses(again) == ["200 OK", "200 OK"])
            let stored = try await op.send(.get, "/fhir/Observation?subject=Patient/ana&code=http://loinc.org|8867-4")
            #expect(stored.json["total"] == .number("2"))
            // another patient's readings are refused, and nothing is stored
            let other = try await app.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/beto", json: MonitoringHTTPTests.heartRate(80, "2026-11-24T10:00:00Z"))
            #expect(other.status == 403)
            #expect(try await op.send(.get, "/fhir/Observation?subject=Patient/beto").json["total"] == .number("0"))
            // the routes of Observation/{id} still work beside the operation
            let id = stored.json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue ?? ""
            #expect(try await op.send(.get, "/fhir/Observation/\(id)").status == 200)
        }
    }

    @Test func badReadingsAreAPreciseOperationOutcome() async throws {
        let server = try TestServer()
        try await server.run { op in
            let spo2 = MonitoringHTTPTests.point("oxygen-saturation", #"{"oxygen_saturation":{"value":140,"unit":"%"},"effective_time_frame":{"date_time":"2026-11-24T08:00:00Z"}}"#)
            let good = MonitoringHTTPTests.heartRate(70, "2026-11-24T08:00:00Z")
            let r = try await op.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/ana", json: "[\(good),\(spo2)]")
            #expect(r.status == 422)
            #expect(r.json["resourceType"]?.stringValue == "OperationOutcome")
            #expect(r.locations == ["[1].body.oxygen_saturation.value"])
            #expect(r.text.contains("imposible"))
            #expect(try await op.send(.get, "/fhir/Observation?subject=Patient/ana").json["total"] == .number("0"))
            let batch = try await op.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/ana&mode=batch", json: "[\(good),\(spo2)]")
            #expect(batch.status == 200)
            #expect(MonitoringHTTPTests.statuses(batch) == ["201 Created", "422 Unprocessable Entity"])
            #expect(try await op.send(.get, "/fhir/Observation?subject=Patient/ana").json["total"] == .number("1"))
            // without a patient, on another type, with an unknown mode
            #expect(try await op.send(.post, "/fhir/Observation/$ingest-omh", json: good).status == 400)
            #expect(try await op.send(.post, "/fhir/Patient/$ingest-omh?patient=ana", json: good).status == 404)
            #expect(try await op.send(.post, "/fhir/Observation/$ingest-omh?patient=ana&mode=maybe", json: good).status == 400)
            #expect(try await op.send(.post, "/fhir/Observation/$ingest-omh?patient=ana", json: "[]").status == 400)
        }
    }

    /// A duration whose end time does not fit trapped the server (a patient's app could stop it):
    /// now a precise OperationOutcome, and the server answers the next request.
    @Test func aDurationBeyondAYearIsRefusedNotACrash() async throws {
        let server = try TestServer()
        let ana = try MonitoringHTTPTests.patientToken(server, "ana")
        try await server.run { op in
            let app = Client(client: op.client, token: ana)
            let huge = #"{"header":{"schema_id":"omh:step-count:1.0"},"body":{"step_count":10,"effective_time_frame":{"time_interval":{"start_date_time":"2026-11-24T08:00:00Z","duration":{"value":1e20,"unit":"d"}}}}}"#
            let r = try await app.send(.post, "/fhir/Observation/$ingest-omh", json: huge)
            #expect(r.status == 422, "\(r.text.prefix(400))")
            #expect(r.json["resourceType"]?.stringValue == "OperationOutcome")
            #expect(r.locations == ["body.effective_time_frame.time_interval.duration.value"])
            #expect(try await app.send(.post, "/fhir/Observation/$ingest-omh", json: MonitoringHTTPTests.heartRate(70, "2026-11-24T08:00:00Z")).status == 200)
        }
    }

    @Test func statsFollowsTheR4Definition() async throws {
        let server = try TestServer()
        let dr = try server.services.authority.issueClaims(subject: "user:dr", scope: "user/*.rs", ttl: 3600, now: server.clock.now(), role: .practitioner,
                                                           fhirUser: "Practitioner/dr").token
        try await server.run { op in
            let values = [(60, "2026-11-20T08:00:00Z"), (70, "2026-11-21T08:00:00Z"), (80, "2026-11-22T08:00:00Z"), (90, "2026-11-23T08:00:00Z"), (200, "2026-10-01T08:00:00Z")]
            let payload = "[" + values.map { MonitoringHTTPTests.heartRate($0.0, $0.1) }.joined(separator: ",") + "]"
            #expect(try await op.send(.post, "/fhir/Observation/$ingest-omh?patient=ana", json: payload).status == 200)
            let r = try await op.send(.get, "/fhir/Observation/$stats?subject=Patient/ana&code=8867-4&system=http://loinc.org&period=2026-11-01/2026-11-30&statistic=average,minimum,maximum,count,median,std-dev&include=true")
            #expect(r.status == 200, "\(r.text.prefix(400))")
            #expect(r.json["resourceType"]?.stringValue == "Parameters")
            let parameters = r.json["parameter"]?.arrayValue ?? []
            let stats = try #require(parameters.first { $0["name"]?.stringValue == "statistics" }?["resource"])
            #expect(stats["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "8867-4")
            #expect(stats["subject"]?["reference"]?.stringValue == "Patient/ana")
            #expect(stats["status"]?.stringValue == "final")
            var byCode: [String: JSON] = [:]
            for c in stats["component"]?.arrayValue ?? [] {
                #expect(c["code"]?["coding"]?.arrayValue?.first?["system"]?.stringValue == "http://terminology.hl7.org/CodeSystem/observation-statistics")
                byCode[c["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""] = c
            }
            #expect(byCode["average"]?["valueQuantity"]?["value"] == .number("75"))
            #expect(byCode["average"]?["valueQuantity"]?["code"]?.stringValue == "/min")
            #expect(byCode["minimum"]?["valueQuantity"]?["value"] == .number("60"))
            #expect(byCode["maximum"]?["valueQuantity"]?["value"] == .number("90"), "the October reading is outside the period")
            #expect(byCode["count"]?["valueInteger"] == .number("4"))
            #expect(byCode["median"]?["valueQuantity"]?["value"] == .number("75"))
            #expect(byCode["std-dev"]?["valueQuantity"]?["value"] == .number("12.9099"))
            #expect(parameters.filter { $0["name"]?.stringValue == "source" }.count == 4)
            // a practitioner without a relationship learns nothing: no statistics at all
            let doctor = Client(client: op.client, token: dr)
            let hidden = try await doctor.send(.get, "/fhir/Observation/$stats?subject=Patient/ana&code=8867-4&statistic=count")
            #expect(hidden.status == 200)
            #expect(hidden.json["parameter"] == nil)
            // POST with Parameters, and refusals
            let post = try await op.send(.post, "/fhir/Observation/$stats", json: #"{"resourceType":"Parameters","parameter":[{"name":"subject","valueUri":"Patient/ana"},{"name":"coding","valueCoding":{"system":"http://loinc.org","code":"8867-4"}},{"name":"statistic","valueCode":"maximum"}]}"#)
            #expect(post.status == 200)
            #expect(post.text.contains("\"value\":200"), "without a period every reading counts")
            #expect(try await op.send(.get, "/fhir/Observation/$stats?subject=Patient/ana&code=8867-4&statistic=regression").issueCodes == ["not-supported"])
            #expect(try await op.send(.get, "/fhir/Observation/$stats?subject=Patient/ana&code=8867-4&statistic=mode").issueCodes == ["code-invalid"])
            #expect(try await op.send(.get, "/fhir/Observation/$stats?code=8867-4&statistic=count").issueCodes == ["required"])
            #expect(try await op.send(.get, "/fhir/Patient/$stats?subject=Patient/ana&code=8867-4&statistic=count").status == 404)
        }
    }
}
