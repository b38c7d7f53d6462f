import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// Appointments over HTTP (docs/care.md, "Appointments"): slots from a template, free-slot
/// search, booking by the patient, the clinic and a referral's receiver, no double booking
/// under real concurrency (20 bookings racing for 5 slots), cancellation and rescheduling
/// freeing slots atomically, illegal transitions, telemedicine and the Encounter a visit
/// starts. On SQLite (a file) and PostgreSQL.
@Suite struct CareSchedulingTests {
    static let seed: [(String, String)] = [
        ("Organization/umf", #"{"resourceType":"Organization","id":"umf","name":"UMF 20 IMSS"}"#),
        ("Organization/hsf", #"{"resourceType":"Organization","id":"hsf","name":"Hospital Santa Fe"}"#),
        ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Hernández","given":["Rosa"]}]}"#),
        ("PractitionerRole/dra-umf", #"{"resourceType":"PractitionerRole","id":"dra-umf","practitioner":{"reference":"Practitioner/dra"},"organization":{"reference":"Organization/umf"}}"#),
        ("HealthcareService/endo", #"{"resourceType":"HealthcareService","id":"endo","providedBy":{"reference":"Organization/hsf"},"name":"Endocrinología"}"#),
        ("Schedule/s-dra", #"{"resourceType":"Schedule","id":"s-dra","active":true,"actor":[{"reference":"Practitioner/dra"}],"planningHorizon":{"start":"2026-11-01T00:00:00Z","end":"2027-03-01T00:00:00Z"}}"#),
        ("Schedule/s-endo", #"{"resourceType":"Schedule","id":"s-endo","active":true,"actor":[{"reference":"HealthcareService/endo"}]}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
        ("Patient/beto", #"{"resourceType":"Patient","id":"beto","name":[{"family":"Ruiz","given":["Beto"]}]}"#),
    ]

    struct Tokens { let dra, drb, drc, ana, beto, admin: String }

    static func tokens(_ server: TestServer) throws -> Tokens {
        let a = server.services.authority, now = server.clock.now()
        func t(_ sub: String, _ scope: String, _ role: Principal.Role, _ user: String, org: String? = nil, patient: String? = nil) throws -> String {
            try a.issueClaims(subject: sub, scope: scope, ttl: 86400 * 30, now: now, role: role, fhirUser: user, patient: patient, organization: org).token
        }
        return Tokens(dra: try t("user:dra", "user/*.cruds", .practitioner, "Practitioner/dra", org: "Organization/umf"),
                      drb: try t("user:drb", "user/*.cruds", .practitioner, "Practitioner/drb", org: "Organization/hsf"),
                      drc: try t("user:drc", "user/*.cruds", .practitioner, "Practitioner/drc"),
                      ana: try t("user:ana", "patient/*.cruds", .patient, "Patient/ana", patient: "ana"),
                      beto: try t("user:beto", "patient/*.cruds", .patient, "Patient/beto", patient: "beto"),
                      admin: try t("user:admin-umf", "user/*.cruds", .organizationAdmin, "Practitioner/admin", org: "Organization/umf"))
    }

    func send(_ c: Client, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String) async throws -> Client.Reply {
        try await c.send(method, path, body: body.map { Array($0.utf8) }, headers: ["Authorization": "Bearer \(token)"], auth: false)
    }

    static func generate(start: String = "2026-11-30", days: Int = 1, sessions: [String] = ["09:00-10:40"], minutes: Int = 20) -> String {
        let s = sessions.map { #"{"name":"session","valueString":"\#($0)"}"# }.joined(separator: ",")
        return #"{"resourceType":"Parameters","parameter":[{"name":"start","valueDate":"\#(start)"},{"name":"days","valueInteger":\#(days)},{"name":"minutes","valueInteger":\#(minutes)},\#(s)]}"#
    }

    static func book(_ slot: String, _ patient: String, extra: String = "") -> String {
        #"{"resourceType":"Parameters","parameter":[{"name":"slot","valueReference":{"reference":"\#(slot)"}},{"name":"patient","valueReference":{"reference":"Patient/\#(patient)"}}\#(extra)]}"#
    }

    static func reason(_ text: String) -> String { #"{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"\#(text)"}]}"# }

    /// The free slots of `schedule` (as the operator sees them), soonest first.
    func free(_ c: Client, _ schedule: String = "Schedule/s-dra") async throws -> [String] {
        let r = try await c.send(.get, "/fhir/Slot?schedule=\(schedule)&status=free&start=ge2026-11-24&_sort=start&_count=500")
        return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue.map { "Slot/\($0)" } }
    }

    func status(_ c: Client, _ ref: String) async throws -> String {
        try await c.send(.get, "/fhir/\(ref)").json["status"]?.stringValue ?? "?"
    }

    func seed(_ c: Client, _ t: Tokens) async throws {
        for (path, json) in CareSchedulingTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
        let made = try await send(c, .post, "/fhir/Schedule/s-dra/$generate-slots", CareSchedulingTests.generate(), token: t.admin)
        #expect(made.status == 201, "\(made.text)")
        #expect(made.json["parameter"]?.arrayValue?.first?["valueInteger"] == .number("5"), "\(made.text)")
    }

    @Test(arguments: ServerBackend.allCases)
    func slotsAreGeneratedSearchedAndBookedOnceThenCancelledAndRescheduled(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CareSchedulingTests.tokens(server)
        try await server.run { c in
            try await seed(c, t)
            // the same template again creates nothing; a practitioner of another clinic may not generate
            let again = try await send(c, .post, "/fhir/Schedule/s-dra/$generate-slots", CareSchedulingTests.generate(), token: t.admin)
            #expect(again.status == 200 && again.json["parameter"]?.arrayValue?.last?["valueInteger"] == .number("5"), "\(again.text)")
            #expect(try await send(c, .post, "/fhir/Schedule/s-dra/$generate-slots", CareSchedulingTests.generate(), token: t.drb).status == 403)
            // 09:00 in Mexico City is 15:00 UTC; core search and $find agree
            let slots = try await free(c)
            #expect(slots.count == 5)
            let first = try await c.send(.get, "/fhir/\(slots[0])")
            #expect(first.json["start"]?.stringValue == "2026-11-30T09:00:00-06:00", "\(first.text)")
            let found = try await send(c, .get, "/fhir/Appointment/$find?practitioner=Practitioner/dra&start=2026-11-30T15:20:00Z&end=2026-12-01", token: t.ana)
            let matches = (found.json["entry"]?.arrayValue ?? []).filter { $0["search"]?["mode"]?.stringValue == "match" }
            #expect(matches.count == 4 && matches.first?["resource"]?["start"]?.stringValue == "2026-11-30T09:20:00-06:00", "\(found.text)")
            #expect(try await send(c, .get, "/fhir/Appointment/$find", token: t.ana).status == 400)
            #expect(try await send(c, .get, "/fhir/Patient/$find?practitioner=Practitioner/dra", token: t.ana).status == 404)

            // Ana books the first slot for herself; the slot is busy in the same write
            let booked = try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[0], "ana"), token: t.ana)
            #expect(booked.status == 201, "\(booked.text)")
            let id = booked.json["id"]?.stringValue ?? ""
            #expect(booked.json["status"]?.stringValue == "booked" && booked.json["start"]?.stringValue == "2026-11-30T09:00:00-06:00")
            #expect(try await status(c, slots[0]) == "busy")
            // Beto may not take it, nor book for Ana
            let second = try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[0], "beto"), token: t.beto)
            #expect(second.status == 409 && second.issueCodes == ["conflict"], "\(second.text)")
            #expect(second.json["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.contains("ya está ocupado") == true, "\(second.text)")
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[1], "ana"), token: t.beto).status == 403)
            // a plain POST naming a taken slot is refused too; one naming a free slot books it
            let plain = #"{"resourceType":"Appointment","status":"booked","slot":[{"reference":"SLOT"}],"participant":[{"actor":{"reference":"Patient/beto"},"status":"accepted"}]}"#
            #expect(try await send(c, .post, "/fhir/Appointment", plain.replacingOccurrences(of: "SLOT", with: slots[0]), token: t.beto).status == 409)
            let posted = try await send(c, .post, "/fhir/Appointment", plain.replacingOccurrences(of: "SLOT", with: slots[1]), token: t.beto)
            #expect(posted.status == 201, "\(posted.text)")
            #expect(try await status(c, slots[1]) == "busy")
            // bypassing the booking: an operator's transaction naming a free slot without making it busy is refused
            let sneaky = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":\#(plain.replacingOccurrences(of: "SLOT", with: slots[2])),"request":{"method":"POST","url":"Appointment"}}]}"#
            let bypass = try await c.send(.post, "/fhir", json: sneaky)
            #expect(bypass.status == 409, "\(bypass.text)")
            // a busy slot with an active appointment cannot just be set free
            var slot0 = try await c.send(.get, "/fhir/\(slots[0])").json
            slot0 = slot0.setting("status", .string("free"))
            #expect(try await c.send(.put, "/fhir/\(slots[0])", json: String(decoding: slot0.serialized(), as: UTF8.self)).status == 409)

            // cancelling needs a reason, frees the slot, and cannot be undone
            #expect(try await send(c, .post, "/fhir/Appointment/\(id)/$cancel", CareSchedulingTests.reason(""), token: t.ana).status == 400)
            #expect(try await send(c, .post, "/fhir/Appointment/\(id)/$cancel", CareSchedulingTests.reason("No puedo ir"), token: t.beto).status == 403)
            let cancelled = try await send(c, .post, "/fhir/Appointment/\(id)/$cancel", CareSchedulingTests.reason("No puedo ir"), token: t.ana)
            #expect(cancelled.status == 200 && cancelled.json["status"]?.stringValue == "cancelled", "\(cancelled.text)")
            #expect(cancelled.json["cancelationReason"]?["text"]?.stringValue == "No puedo ir")
            #expect(try await status(c, slots[0]) == "free")
            var revived = cancelled.json.setting("status", .string("booked")).setting("meta", nil)
            revived = revived.setting("cancelationReason", nil)
            let illegal = try await send(c, .put, "/fhir/Appointment/\(id)", String(decoding: revived.serialized(), as: UTF8.self), token: t.ana)
            #expect(illegal.status == 422 && illegal.issueCodes == ["business-rule"], "\(illegal.text)")
            #expect(try await send(c, .post, "/fhir/Appointment/\(id)/$cancel", CareSchedulingTests.reason("otra vez"), token: t.ana).status == 422)
            // a direct PUT cancelling a booked appointment without freeing its slot is refused
            var direct = posted.json.setting("status", .string("cancelled")).setting("meta", nil)
            direct = direct.setting("cancelationReason", .object([("text", .string("x"))]))
            #expect(try await send(c, .put, "/fhir/Appointment/\(posted.json["id"]?.stringValue ?? "")", String(decoding: direct.serialized(), as: UTF8.self), token: t.beto).status == 409)

            // the freed slot can be booked again; rescheduling moves Beto's appointment and frees the old slot
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[0], "ana"), token: t.ana).status == 201)
            let betoID = posted.json["id"]?.stringValue ?? ""
            let moved = try await send(c, .post, "/fhir/Appointment/\(betoID)/$reschedule",
                                       #"{"resourceType":"Parameters","parameter":[{"name":"slot","valueReference":{"reference":"\#(slots[3])"}}]}"#, token: t.beto)
            #expect(moved.status == 200 && moved.json["slot"]?.arrayValue?.first?["reference"]?.stringValue == slots[3], "\(moved.text)")
            #expect(try await status(c, slots[1]) == "free")
            #expect(try await status(c, slots[3]) == "busy")
            let occupied = try await send(c, .post, "/fhir/Appointment/\(betoID)/$reschedule",
                                          #"{"resourceType":"Parameters","parameter":[{"name":"slot","valueReference":{"reference":"\#(slots[0])"}}]}"#, token: t.beto)
            #expect(occupied.status == 409, "\(occupied.text)")
            #expect(try await status(c, slots[3]) == "busy")  // nothing of the refused move was kept
            #expect(try await free(c).count == 3)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func twentyRacingBookingsForFiveSlotsMakeExactlyFive(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CareSchedulingTests.tokens(server)
        try await server.run { c in
            try await seed(c, t)
            let slots = try await free(c)
            #expect(slots.count == 5)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<20 {
                    let slot = slots[i % 5]
                    let (patient, token) = i % 2 == 0 ? ("ana", t.ana) : ("beto", t.beto)
                    group.addTask {
                        let r = try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slot, patient), token: token)
                        return (r.status, r.text)
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 5, "\(statuses.map(\.0))")
            let refused = statuses.filter { $0.0 != 201 }
            #expect(refused.allSatisfy { $0.0 == 409 && $0.1.contains("OperationOutcome") }, "\(refused)")
            // exactly one active appointment per slot, every slot busy
            let all = try await c.send(.get, "/fhir/Appointment?status=booked&_count=100")
            let held = (all.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["slot"]?.arrayValue?.first?["reference"]?.stringValue }
            #expect(held.count == 5 && Set(held) == Set(slots), "\(held)")
            for s in slots { #expect(try await status(c, s) == "busy") }
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func theClinicAndAReferralsReceiverBookAndATelemedicineVisitStartsAVirtualEncounter(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CareSchedulingTests.tokens(server)
        try await server.run { c in
            try await seed(c, t)
            let slots = try await free(c)
            // the clinic's doctor books Beto (no treating relationship needed to book), as a telemedicine visit
            let tele = try await send(c, .post, "/fhir/Appointment/$book",
                                      CareSchedulingTests.book(slots[0], "beto", extra: #",{"name":"virtual","valueBoolean":true}"#), token: t.dra)
            #expect(tele.status == 201, "\(tele.text)")
            let link = (tele.json["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == "https://enlace.mx/fhir/StructureDefinition/virtual-visit-url" }?["valueUrl"]?.stringValue ?? ""
            #expect(link.hasPrefix("https://") && link.count > 30, "\(tele.text)")
            #expect((tele.json["participant"]?.arrayValue ?? []).contains { $0["actor"]?["reference"]?.stringValue == "Practitioner/dra" })
            // another clinic's doctor may not book on Dra.'s schedule
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[1], "ana"), token: t.drb).status == 403)
            // the visit starts: an Encounter of class VR linked to the appointment, which is now arrived
            let id = tele.json["id"]?.stringValue ?? ""
            #expect(try await send(c, .post, "/fhir/Appointment/\(id)/$start", token: t.beto).status == 403)
            let started = try await send(c, .post, "/fhir/Appointment/\(id)/$start", token: t.dra)
            #expect(started.status == 201, "\(started.text)")
            #expect(started.json["class"]?["code"]?.stringValue == "VR" && started.json["status"]?.stringValue == "in-progress")
            #expect(started.json["appointment"]?.arrayValue?.first?["reference"]?.stringValue == "Appointment/\(id)")
            #expect(try await status(c, "Appointment/\(id)") == "arrived")
            let again = try await send(c, .post, "/fhir/Appointment/\(id)/$start", token: t.dra)
            #expect(again.status == 200 && again.json["id"] == started.json["id"])
            // an in-person visit is AMB
            let visit = try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(slots[1], "ana"), token: t.ana)
            let amb = try await send(c, .post, "/fhir/Appointment/\(visit.json["id"]?.stringValue ?? "")/$start", token: t.dra)
            #expect(amb.status == 201 && amb.json["class"]?["code"]?.stringValue == "AMB", "\(amb.text)")

            // a referral to Dr. C (a consultant of no clinic here), accepted: Dr. C books Ana at the hospital's service, based on it
            _ = try await send(c, .post, "/fhir/Schedule/s-endo/$generate-slots", CareSchedulingTests.generate(), token: server.token)
            let endo = try await free(c, "Schedule/s-endo")
            #expect(endo.count == 5)
            let sr = #"{"resourceType":"ServiceRequest","id":"ref-ana","status":"active","intent":"order","category":[{"coding":[{"system":"http://snomed.info/sct","code":"3457005"}]}],"subject":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dra"},"performer":[{"reference":"Practitioner/drc"}]}"#
            #expect(try await c.send(.put, "/fhir/ServiceRequest/ref-ana", json: sr).status == 201)
            let task = #"{"resourceType":"Task","id":"t-ana","status":"STATUS","intent":"order","code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/care-task","code":"referral"}]},"focus":{"reference":"ServiceRequest/ref-ana"},"for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dra"},"owner":{"reference":"Practitioner/drc"}}"#
            #expect(try await c.send(.put, "/fhir/Task/t-ana", json: task.replacingOccurrences(of: "STATUS", with: "requested")).status == 201)
            let basedOn = #",{"name":"basedOn","valueReference":{"reference":"ServiceRequest/ref-ana"}}"#
            // not yet accepted: Dr. C (not staff of the service) may not book
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(endo[0], "ana", extra: basedOn), token: t.drc).status == 403)
            let accept = try await send(c, .put, "/fhir/Task/t-ana", task.replacingOccurrences(of: "STATUS", with: "accepted"), token: t.drc)
            #expect(accept.status == 200, "\(accept.text)")
            let referred = try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(endo[0], "ana", extra: basedOn), token: t.drc)
            #expect(referred.status == 201, "\(referred.text)")
            #expect(referred.json["basedOn"]?.arrayValue?.first?["reference"]?.stringValue == "ServiceRequest/ref-ana")
            // without the referral, not for another patient
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(endo[1], "ana"), token: t.drc).status == 403)
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(endo[1], "beto", extra: basedOn), token: t.drc).status == 403)
            // the hospital's own staff books on its service
            #expect(try await send(c, .post, "/fhir/Appointment/$book", CareSchedulingTests.book(endo[2], "beto"), token: t.drb).status == 201)
            // Ana lists her appointments
            let mine = try await send(c, .get, "/fhir/Appointment?patient=Patient/ana", token: t.ana)
            #expect((mine.json["entry"]?.arrayValue ?? []).count == 2, "\(mine.text)")
        }
    }
}
