import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// E-prescription to the pharmacy counter (docs/prescribing.md): a prescription gets a code,
/// any pharmacy finds it by that code only, dispenses never exceed quantity × (1 + refills)
/// even with counters racing, cancelled and expired prescriptions are refused with the reason,
/// controlled medicines get no refills and 30 days. On SQLite and PostgreSQL.
@Suite struct CarePrescriptionTests {
    static let seed: [(String, String)] = [
        ("Organization/roma", #"{"resourceType":"Organization","id":"roma","name":"Farmacia Roma"}"#),
        ("Organization/valle", #"{"resourceType":"Organization","id":"valle","name":"Farmacia del Valle"}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
        ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
    ]

    struct Tokens { let dra, roma, valle, ana: String }

    static func tokens(_ server: TestServer) throws -> Tokens {
        let a = server.services.authority, now = server.clock.now(), ttl: Int64 = 86400 * 60
        return Tokens(
            dra: try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: ttl, now: now, role: .practitioner, fhirUser: "Practitioner/dra",
                                   organization: "Organization/umf").token,
            roma: try a.issueClaims(subject: "user:roma", scope: "user/*.cruds", ttl: ttl, now: now, role: .pharmacy, organization: "Organization/roma").token,
            valle: try a.issueClaims(subject: "user:valle", scope: "user/*.cruds", ttl: ttl, now: now, role: .pharmacy, organization: "Organization/valle").token,
            ana: try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: ttl, now: now, role: .patient, fhirUser: "Patient/ana", patient: "ana").token)
    }

    static func prescription(_ medicine: String, quantity: Int, refills: Int, extra: String = "") -> String {
        #"{"resourceType":"MedicationRequest","status":"active","intent":"order","medicationCodeableConcept":{"text":"\#(medicine)"},"subject":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dra"},"dosageInstruction":[{"text":"1 cada 12 horas"}],"dispenseRequest":{"quantity":{"value":\#(quantity),"unit":"tabletas"},"numberOfRepeatsAllowed":\#(refills)\#(extra)}}"#
    }

    static func dispense(_ code: String, _ quantity: Int) -> String {
        #"{"resourceType":"Parameters","parameter":[{"name":"code","valueString":"\#(code)"},{"name":"quantity","valueQuantity":{"value":\#(quantity),"unit":"tabletas"}}]}"#
    }

    func send(_ c: Client, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, token: String) async throws -> Client.Reply {
        try await c.send(method, path, body: body.map { Array($0.utf8) }, headers: ["Authorization": "Bearer \(token)"], auth: false)
    }

    func value(_ parameters: JSON, _ name: String) -> JSON? {
        (parameters["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }
    }

    func remaining(_ r: Client.Reply) -> String? {
        if case let .number(n)? = value(r.json, "remaining")?["valueQuantity"]?["value"] { return n }
        return nil
    }

    func code(_ r: Client.Reply) -> String {
        (r.json["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "https://enlace.mx/fhir/sid/receta" }?["value"]?.stringValue ?? ""
    }

    @Test(arguments: ServerBackend.allCases)
    func anyPharmacyFindsByCodeOnlyAndNeverDispensesBeyondThePrescription(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CarePrescriptionTests.tokens(server)
        try await server.run { c in
            for (path, json) in CarePrescriptionTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let rx = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionTests.prescription("Metformina 850 mg", quantity: 60, refills: 1), token: t.dra)
            #expect(rx.status == 201, "\(rx.text)")
            let code = code(rx), id = rx.json["id"]?.stringValue ?? ""
            #expect(code.hasPrefix("RX-") && code.count == 17, "\(code)")
            #expect(rx.json["dispenseRequest"]?["validityPeriod"]?["end"]?.stringValue == "2027-05-23")
            // a code is issued by Enlace, never sent
            let withCode = CarePrescriptionTests.prescription("Metformina", quantity: 1, refills: 0)
                .replacingOccurrences(of: #""status":"active""#, with: #""status":"active","identifier":[{"system":"https://enlace.mx/fhir/sid/receta","value":"RX-0000-0000-0000"}]"#)
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$prescribe", withCode, token: t.dra).status == 422)

            // no browsing: a pharmacy the prescription does not name sees nothing of it
            #expect(try await send(c, .get, "/fhir/MedicationRequest/\(id)", token: t.valle).status == 404)
            let browse = try await send(c, .get, "/fhir/MedicationRequest?patient=Patient/ana", token: t.valle)
            #expect((browse.json["entry"]?.arrayValue ?? []).isEmpty)
            // by code: what dispensing needs
            let found = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.valle)
            #expect(found.status == 200, "\(found.text)")
            #expect(value(found.json, "status")?["valueCode"]?.stringValue == "dispensable")
            #expect(remaining(found) == "120")
            #expect(value(found.json, "patient")?["valueString"]?.stringValue?.contains("Ana") == true)
            #expect(try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=RX-ZZZZ-ZZZZ-ZZZZ", token: t.valle).status == 404)
            #expect(try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(id)", token: t.valle).status == 404)
            #expect(try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code)", token: t.dra).status == 403)
            #expect(try await send(c, .get, "/fhir/Patient/$find-by-code?code=\(code)", token: t.valle).status == 404)

            // partial dispenses up to quantity × (1 + refills), and not one more
            let first = try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code, 50), token: t.valle)
            #expect(first.status == 201, "\(first.text)")
            #expect(remaining(first) == "70")
            let tooMuch = try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code, 80), token: t.roma)
            #expect(tooMuch.status == 422 && tooMuch.text.contains("70"), "\(tooMuch.text)")
            #expect(remaining(try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code, 70), token: t.roma)) == "0")
            let done = try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code, 1), token: t.valle)
            #expect(done.status == 422 && done.text.contains("por completo"), "\(done.text)")
            // the patient sees where it was dispensed
            let mine = try await send(c, .get, "/fhir/MedicationDispense?prescription=MedicationRequest/\(id)", token: t.ana)
            #expect(Set((mine.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["performer"]?.arrayValue?.first?["actor"]?["reference"]?.stringValue })
                    == ["Organization/valle", "Organization/roma"], "\(mine.text)")
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func racingCountersDispenseExactlyWhatWasPrescribed(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CarePrescriptionTests.tokens(server)
        try await server.run { c in
            for (path, json) in CarePrescriptionTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let rx = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionTests.prescription("Losartán 50 mg", quantity: 30, refills: 0), token: t.dra)
            let code = code(rx), id = rx.json["id"]?.stringValue ?? ""
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    let token = i % 2 == 0 ? t.roma : t.valle
                    group.addTask { try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code, 10), token: token).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 422 || $0 == 409 }.count == 5, "\(statuses)")
            let stored = try await c.send(.get, "/fhir/MedicationDispense?prescription=MedicationRequest/\(id)&_count=50")
            let total = (stored.json["entry"]?.arrayValue ?? []).compactMap { e -> Int? in
                if case let .number(n)? = e["resource"]?["quantity"]?["value"] { return Int(n) }
                return nil
            }.reduce(0, +)
            #expect(total == 30, "\(stored.text)")
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func controlledCancelledAndExpiredPrescriptionsFollowTheirRules(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let t = try CarePrescriptionTests.tokens(server)
        try await server.run { c in
            for (path, json) in CarePrescriptionTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            // group III (clonazepam): no refills, 30 days
            let refills = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionTests.prescription("Clonazepam 2 mg", quantity: 30, refills: 2), token: t.dra)
            #expect(refills.status == 422 && refills.text.contains("grupo III"), "\(refills.text)")
            let long = try await send(c, .post, "/fhir/MedicationRequest/$prescribe",
                                      CarePrescriptionTests.prescription("Clonazepam 2 mg", quantity: 30, refills: 0, extra: #","validityPeriod":{"end":"2027-02-01"}"#), token: t.dra)
            #expect(long.status == 422, "\(long.text)")
            let ok = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionTests.prescription("Clonazepam 2 mg", quantity: 30, refills: 0), token: t.dra)
            #expect(ok.status == 201, "\(ok.text)")
            #expect(ok.json["dispenseRequest"]?["validityPeriod"]?["end"]?.stringValue == "2026-12-24")
            #expect(ok.json["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "III")
            let controlled = code(ok)

            // cancelled by the prescriber: refused with the reason
            let plain = try await send(c, .post, "/fhir/MedicationRequest/$prescribe", CarePrescriptionTests.prescription("Metformina 850 mg", quantity: 60, refills: 0), token: t.dra)
            var cancelled = plain.json.setting("status", .string("cancelled"))
            cancelled = cancelled.setting("statusReason", .object([("text", .string("Cambio de tratamiento"))]))
            let id = plain.json["id"]?.stringValue ?? ""
            #expect(try await send(c, .put, "/fhir/MedicationRequest/\(id)", cancelled.compactString, token: t.dra).status == 200)
            let refused = try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(code(plain), 10), token: t.roma)
            #expect(refused.status == 422 && refused.text.contains("Cambio de tratamiento"), "\(refused.text)")
            let seen = try await send(c, .get, "/fhir/MedicationRequest/$find-by-code?code=\(code(plain))", token: t.roma)
            #expect(value(seen.json, "status")?["valueCode"]?.stringValue == "refused")

            // expired: 31 days later the controlled prescription is refused
            #expect(try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(controlled, 10), token: t.roma).status == 201)
            server.clock.advance(seconds: 31 * 86400)
            let expired = try await send(c, .post, "/fhir/MedicationRequest/$dispense", CarePrescriptionTests.dispense(controlled, 10), token: t.roma)
            #expect(expired.status == 422 && expired.text.contains("venció"), "\(expired.text)")
        }
    }
}
