import FHIR
import Foundation
import Testing
@testable import Trust

/// Device binding over HTTP (docs/monitoring.md "Who may write readings"): a device gateway
/// (Backend Services client) writes readings only for the Devices it registered, and a Device
/// only to the patient it is assigned to; anything else is a bilingual 403 and nothing is stored.
@Suite("Monitoring: device binding")
struct MonitoringDeviceBindingTests {
    static func gatewayToken(_ server: TestServer, _ client: String) throws -> String {
        try server.services.authority.issueClaims(subject: "client:\(client)", scope: "system/Device.crus system/Observation.crs", ttl: 3600,
                                                  now: server.clock.now(), role: .service, clientID: client).token
    }

    static func observation(_ patient: String, device: String?, value: Int, minute: Int) -> String {
        let d = device.map { #","device":{"reference":"\#($0)"}"# } ?? ""
        return #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"subject":{"reference":"Patient/\#(patient)"},"effectiveDateTime":"2026-11-24T10:\#(String(format: "%02d", minute)):00Z","valueQuantity":{"value":\#(value),"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}\#(d)}"#
    }

    static func count(_ op: Client, _ patient: String) async throws -> JSON? {
        try await op.send(.get, "/fhir/Observation?subject=Patient/\(patient)&_summary=count").json["total"]
    }

    static func isBilingual403(_ r: Client.Reply) -> Bool {
        let issue = r.json["issue"]?.arrayValue?.first
        return r.status == 403 && r.json["resourceType"]?.stringValue == "OperationOutcome" && issue?["code"]?.stringValue == "forbidden"
            && !(issue?["diagnostics"]?.stringValue ?? "").isEmpty && !(issue?["details"]?["text"]?.stringValue ?? "").isEmpty
    }

    @Test(arguments: ServerBackend.allCases)
    func aGatewayWritesOnlyForItsDevicesAndTheirPatients(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let a = try Self.gatewayToken(server, "gateway-a"), b = try Self.gatewayToken(server, "gateway-b")
        let beto = try MonitoringHTTPTests.patientToken(server, "beto")
        let ana = try MonitoringHTTPTests.patientToken(server, "ana")
        try await server.run { op in
            let gwA = Client(client: op.client, token: a), gwB = Client(client: op.client, token: b)
            let created = try await gwA.send(.post, "/fhir/Device", json: #"{"resourceType":"Device","manufacturer":"Omron","patient":{"reference":"Patient/ana"}}"#)
            #expect(created.status == 201, "\(created.text.prefix(300))")
            let device = "Device/" + (created.json["id"]?.stringValue ?? "")

            // its own Device, its Device's patient: stored (Open mHealth with device=, and plain FHIR)
            let omh = try await gwA.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/ana&device=\(device)",
                                         json: MonitoringHTTPTests.heartRate(72, "2026-11-24T09:00:00Z"))
            #expect(MonitoringHTTPTests.statuses(omh) == ["201 Created"], "\(omh.text.prefix(300))")
            #expect(try await gwA.send(.post, "/fhir/Observation", json: Self.observation("ana", device: device, value: 70, minute: 1)).status == 201)

            // another patient, no device, another gateway's device, a device that does not exist
            let wrongPatient = try await gwA.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/beto&device=\(device)",
                                                  json: MonitoringHTTPTests.heartRate(80, "2026-11-24T09:05:00Z"))
            #expect(Self.isBilingual403(wrongPatient), "\(wrongPatient.text.prefix(300))")
            #expect(wrongPatient.text.contains("asignado"))
            // a reading that names no Device is not bound to one (a laboratory system writes results
            // this way): the client's scopes and the access decision govern it, as before
            let noDevice = try await gwA.send(.post, "/fhir/Observation/$ingest-omh?patient=Patient/ana", json: MonitoringHTTPTests.heartRate(81, "2026-11-24T09:06:00Z"))
            #expect(MonitoringHTTPTests.statuses(noDevice) == ["201 Created"], "\(noDevice.text.prefix(300))")
            let notMine = try await gwB.send(.post, "/fhir/Observation", json: Self.observation("ana", device: device, value: 75, minute: 2))
            let missing = try await gwB.send(.post, "/fhir/Observation", json: Self.observation("ana", device: "Device/no-such-device", value: 75, minute: 2))
            #expect(Self.isBilingual403(notMine) && Self.isBilingual403(missing))
            // the same words whether the Device exists or not (only the id differs)
            #expect(notMine.text.replacingOccurrences(of: device, with: "X") == missing.text.replacingOccurrences(of: "Device/no-such-device", with: "X"))
            // another gateway may not take the Device over
            let takeOver = try await gwB.send(.put, "/fhir/\(device)", json: #"{"resourceType":"Device","id":"\#(device.dropFirst(7))","patient":{"reference":"Patient/beto"}}"#)
            #expect(Self.isBilingual403(takeOver), "\(takeOver.text.prefix(300))")

            // a batch: each entry on its own
            let batch = try await gwA.send(.post, "/fhir", json: """
                {"resourceType":"Bundle","type":"batch","entry":[
                 {"resource":\(Self.observation("ana", device: device, value: 71, minute: 3)),"request":{"method":"POST","url":"Observation"}},
                 {"resource":\(Self.observation("beto", device: device, value: 71, minute: 3)),"request":{"method":"POST","url":"Observation"}}]}
                """)
            #expect(MonitoringHTTPTests.statuses(batch).map { $0.prefix(3) } == ["201", "403"], "\(batch.text.prefix(500))")

            // a PHD-shaped transaction: the Device and its reading together
            let phd = try await gwA.send(.post, "/fhir", json: """
                {"resourceType":"Bundle","type":"transaction","entry":[
                 {"fullUrl":"urn:uuid:5b7f3c1e-0000-4000-8000-000000000001","resource":{"resourceType":"Device","patient":{"reference":"Patient/beto"}},"request":{"method":"POST","url":"Device"}},
                 {"resource":\(Self.observation("beto", device: "urn:uuid:5b7f3c1e-0000-4000-8000-000000000001", value: 66, minute: 4)),"request":{"method":"POST","url":"Observation"}}]}
                """)
            #expect(phd.status == 200, "\(phd.text.prefix(400))")

            // a patient's app may not file a reading of a Device assigned to someone else
            let betoApp = Client(client: op.client, token: beto), anaApp = Client(client: op.client, token: ana)
            #expect(Self.isBilingual403(try await betoApp.send(.post, "/fhir/Observation", json: Self.observation("beto", device: device, value: 90, minute: 5))))
            #expect(try await anaApp.send(.post, "/fhir/Observation", json: Self.observation("ana", device: device, value: 90, minute: 5)).status == 201)

            // what was refused left nothing behind (Ana's five: the four bound readings and the one naming no Device)
            #expect(try await Self.count(op, "ana") == .number("5"))
            #expect(try await Self.count(op, "beto") == .number("1"))
        }
    }
}
