import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// Referrals over HTTP (docs/care.md, "Referrals"): the Task state machine on ordinary Task
/// writes, what a waiting referral shows the receiver (only the referral and its documents),
/// the treating relationship an accepted one grants, its end in time, and the patient's
/// cancellation taking it away. On SQLite and PostgreSQL.
@Suite struct CareReferralTests {
    static let seed: [(String, String)] = [
        ("Organization/umf", #"{"resourceType":"Organization","id":"umf","name":"UMF 20 IMSS"}"#),
        ("Organization/hsf", #"{"resourceType":"Organization","id":"hsf","name":"Hospital Santa Fe"}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
        ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
        ("Observation/lab-ana", #"{"resourceType":"Observation","id":"lab-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-03","valueQuantity":{"value":7.8,"unit":"%"}}"#),
        ("DocumentReference/nota-ana", #"{"resourceType":"DocumentReference","id":"nota-ana","status":"current","subject":{"reference":"Patient/ana"},"content":[{"attachment":{"contentType":"text/plain","data":"UmVzdW1lbg=="}}]}"#),
    ]

    static func tokens(_ server: TestServer) throws -> (dra: String, drb: String, ana: String) {
        let a = server.services.authority, now = server.clock.now()
        let dra = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 86400 * 7, now: now, role: .practitioner, fhirUser: "Practitioner/dra",
                                    organization: "Organization/umf").token
        let drb = try a.issueClaims(subject: "user:drb", scope: "user/*.cruds", ttl: 86400 * 7, now: now, role: .practitioner, fhirUser: "Practitioner/drb",
                                    organization: "Organization/hsf").token
        let ana = try a.issueClaims(subject: "user:ana", scope: "patient/*.cruds", ttl: 86400 * 7, now: now, role: .patient, fhirUser: "Patient/ana",
                                    patient: "ana").token
        return (dra, drb, ana)
    }

    static let serviceRequest = #"{"resourceType":"ServiceRequest","status":"active","intent":"order","category":[{"coding":[{"system":"http://snomed.info/sct","code":"3457005","display":"Patient referral"}]}],"code":{"text":"Valoración por endocrinología"},"subject":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dra"},"performer":[{"reference":"Organization/hsf"}],"reasonCode":[{"text":"Diabetes tipo 2 descontrolada"}],"supportingInfo":[{"reference":"DocumentReference/nota-ana"}]}"#

    static func task(_ status: String, sr: String, extra: String = "") -> String {
        #"{"resourceType":"Task","status":"\#(status)","intent":"order","code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/care-task","code":"referral"}]},"focus":{"reference":"ServiceRequest/\#(sr)"},"for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dra"},"owner":{"reference":"Organization/hsf"}\#(extra)}"#
    }

    func send(_ c: Client, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String) async throws -> Client.Reply {
        try await c.send(method, path, body: body.map { Array($0.utf8) }, headers: ["Authorization": "Bearer \(token)"], auth: false)
    }

    /// PUTs the Task with a new status (and extra members).
    func move(_ c: Client, _ id: String, sr: String, to status: String, extra: String = "", token: String) async throws -> Client.Reply {
        let body = CareReferralTests.task(status, sr: sr, extra: #","id":"\#(id)""# + extra)
        return try await send(c, .put, "/fhir/Task/\(id)", body, token: token)
    }

    @Test(arguments: ServerBackend.allCases)
    func aReferralShowsTheReceiverOnlyItselfUntilAcceptedAndThePatientCanWithdrawIt(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, drb, ana) = try CareReferralTests.tokens(server)
        try await server.run { c in
            for (path, json) in CareReferralTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let sr = try await send(c, .post, "/fhir/ServiceRequest", CareReferralTests.serviceRequest, token: dra)
            #expect(sr.status == 201, "\(sr.text)")
            let srID = sr.json["id"]?.stringValue ?? ""
            // a referral cannot start accepted
            let early = try await send(c, .post, "/fhir/Task", CareReferralTests.task("accepted", sr: srID), token: dra)
            #expect(early.status == 422 && early.issueCodes == ["business-rule"], "\(early.text)")
            let task = try await send(c, .post, "/fhir/Task", CareReferralTests.task("requested", sr: srID), token: dra)
            #expect(task.status == 201, "\(task.text)")
            let id = task.json["id"]?.stringValue ?? ""

            // waiting: the receiver sees the referral, its ServiceRequest and its documents, nothing else
            #expect(try await send(c, .get, "/fhir/Task/\(id)", token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/ServiceRequest/\(srID)", token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/DocumentReference/nota-ana", token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/Patient/ana", token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/Observation/lab-ana", token: drb).status == 404)
            #expect(try await send(c, .get, "/fhir/Encounter/e-ana", token: drb).status == 404)
            let search = try await send(c, .get, "/fhir/Observation?patient=Patient/ana", token: drb)
            #expect((search.json["entry"]?.arrayValue ?? []).isEmpty, "\(search.text)")

            // illegal moves are OperationOutcomes; the sender may not accept for the receiver
            let skip = try await move(c, id, sr: srID, to: "completed", token: drb)
            #expect(skip.status == 422 && skip.issueCodes == ["business-rule"], "\(skip.text)")
            #expect(skip.json["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.contains("no puede pasar") == true)
            #expect(try await move(c, id, sr: srID, to: "accepted", token: dra).status == 422)
            #expect(try await move(c, id, sr: srID, to: "rejected", token: drb).status == 422)  // no reason
            // received, then accepted by the hospital (for a month)
            #expect(try await move(c, id, sr: srID, to: "received", token: drb).status == 200)
            let accepted = try await move(c, id, sr: srID, to: "accepted",
                                          extra: #","restriction":{"period":{"start":"2026-11-24","end":"2026-12-24"}}"#, token: drb)
            #expect(accepted.status == 200, "\(accepted.text)")
            #expect(try await send(c, .get, "/fhir/Observation/lab-ana", token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/Encounter/e-ana", token: drb).status == 200)
            #expect(try await move(c, id, sr: srID, to: "requested", token: drb).status == 422)

            // the patient sees where it stands and withdraws it: the hospital's access ends at once
            let mine = try await send(c, .get, "/fhir/Task?code=https://enlace.mx/fhir/CodeSystem/care-task|referral", token: ana)
            #expect(mine.json["entry"]?.arrayValue?.first?["resource"]?["status"]?.stringValue == "accepted", "\(mine.text)")
            let withdrawn = try await move(c, id, sr: srID, to: "cancelled",
                                           extra: #","restriction":{"period":{"start":"2026-11-24","end":"2026-12-24"}},"statusReason":{"text":"Prefiero otro hospital"}"#,
                                           token: ana)
            #expect(withdrawn.status == 200, "\(withdrawn.text)")
            #expect(try await send(c, .get, "/fhir/Observation/lab-ana", token: drb).status == 404)
            #expect(try await send(c, .get, "/fhir/Task/\(id)", token: drb).status == 404)
            // a cancelled referral stays cancelled
            #expect(try await move(c, id, sr: srID, to: "accepted", token: dra).status == 422)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func anAcceptedReferralGrantsAccessOnlyForItsPeriodAndEndsWhenCompleted(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, drb, _) = try CareReferralTests.tokens(server)
        try await server.run { c in
            for (path, json) in CareReferralTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let srID = try await send(c, .post, "/fhir/ServiceRequest", CareReferralTests.serviceRequest, token: dra).json["id"]?.stringValue ?? ""
            let id = try await send(c, .post, "/fhir/Task", CareReferralTests.task("requested", sr: srID), token: dra).json["id"]?.stringValue ?? ""
            let period = #","restriction":{"period":{"end":"2026-11-25T12:00:00Z"}}"#
            #expect(try await move(c, id, sr: srID, to: "accepted", extra: period, token: drb).status == 200)
            #expect(try await move(c, id, sr: srID, to: "in-progress", extra: period, token: drb).status == 200)
            #expect(try await send(c, .get, "/fhir/Observation/lab-ana", token: drb).status == 200)
            // completing needs the output; then the access of the referral ends
            #expect(try await move(c, id, sr: srID, to: "completed", extra: period, token: drb).status == 422)
            let output = #","output":[{"type":{"text":"Encounter"},"valueReference":{"reference":"Encounter/e-ana"}}]"#
            #expect(try await move(c, id, sr: srID, to: "on-hold", extra: period, token: drb).status == 200)
            #expect(try await move(c, id, sr: srID, to: "in-progress", extra: period, token: drb).status == 200)
            server.clock.advance(seconds: 2 * 86400)
            // past its period the hospital no longer sees the record (nor the Task)
            #expect(try await send(c, .get, "/fhir/Observation/lab-ana", token: drb).status == 404)
            #expect(try await move(c, id, sr: srID, to: "completed", extra: period + output, token: drb).status == 404)
            // a referral's ServiceRequest naming the hospital as performer grants nothing by itself
            #expect(try await send(c, .get, "/fhir/ServiceRequest/\(srID)", token: drb).status == 404)
            // deleting a referral is refused (cancel or entered-in-error instead)
            #expect(try await send(c, .delete, "/fhir/Task/\(id)", token: dra).status == 422)
        }
    }
}
