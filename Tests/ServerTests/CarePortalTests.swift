import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server
@_spi(Unguarded) import Storage
import Trust

/// The Care portal pages (docs/care.md, docs/prescribing.md): *Mis recetas* shows the code and
/// where it was dispensed, the pharmacy counter finds by code and dispenses, *Mis referencias*
/// shows where a referral stands and lets the patient cancel it; and the demo's Care story.
@Suite struct CarePortalTests {
    @Test func patientPagesAndThePharmacyCounter() async throws {
        let server = try TestServer { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        let identity = server.services.identity
        _ = try await identity.addUser(username: "ana", role: .patient, password: "contraseña-larga-1", patient: "Patient/ana")
        _ = try await identity.addUser(username: "roma", role: .pharmacy, password: "contraseña-larga-2", organization: "Organization/roma")
        _ = try await identity.addUser(username: "drb", role: .practitioner, password: "contraseña-larga-3", fhirUser: "Practitioner/drb",
                                       organization: "Organization/hsf")
        let a = server.services.authority, now = server.clock.now()
        let dra = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/dra",
                                    organization: "Organization/umf").token
        let drb = try a.issueClaims(subject: "user:drb", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/drb",
                                    organization: "Organization/hsf").token
        try await server.run { c in
            for (path, json) in CarePrescriptionTests.seed + [("Organization/hsf", #"{"resourceType":"Organization","id":"hsf","name":"Hospital Santa Fe"}"#)] {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)")
            }
            let auth = { (t: String) in ["Authorization": "Bearer \(t)"] }
            let rx = try await c.send(.post, "/fhir/MedicationRequest/$prescribe",
                                      body: Array(CarePrescriptionTests.prescription("Metformina 850 mg", quantity: 60, refills: 0).utf8), headers: auth(dra), auth: false)
            let code = (rx.json["identifier"]?.arrayValue ?? []).first?["value"]?.stringValue ?? ""
            #expect(rx.status == 201 && !code.isEmpty, "\(rx.text)")
            let sr = try await c.send(.post, "/fhir/ServiceRequest", body: Array(CareReferralTests.serviceRequest.utf8), headers: auth(dra), auth: false)
            let srID = sr.json["id"]?.stringValue ?? ""
            let task = try await c.send(.post, "/fhir/Task", body: Array(CareReferralTests.task("requested", sr: srID).utf8), headers: auth(dra), auth: false)
            let taskID = task.json["id"]?.stringValue ?? ""
            let accepted = CareReferralTests.task("accepted", sr: srID, extra: #","id":"\#(taskID)""#)
            #expect(try await c.send(.put, "/fhir/Task/\(taskID)", body: Array(accepted.utf8), headers: auth(drb), auth: false).status == 200)

            let browser = PortalBrowser(client: c.client, passwords: ["ana": "contraseña-larga-1", "roma": "contraseña-larga-2", "drb": "contraseña-larga-3"])
            let ana = try await browser.signIn("ana")
            let (s1, recetas) = try await browser.get("/mis-recetas", cookie: ana)
            #expect(s1 == .ok && recetas.contains(code) && recetas.contains("Metformina") && recetas.contains("Aún no se ha surtido"), "\(recetas)")

            // the counter: by code only, then a partial dispense
            let roma = try await browser.signIn("roma")
            let (s2, counter) = try await browser.get("/farmacia", cookie: roma)
            #expect(s2 == .ok && counter.contains("id=\"buscar-receta\""))
            let csrf = try PortalBrowser.csrf(counter)
            let (s3, _, wrong) = try await browser.post("/farmacia", cookie: roma, "csrf=\(csrf)&codigo=RX-0000-0000-0000")
            #expect(s3 == .notFound && wrong.contains("Ninguna receta tiene este código"))
            let (s4, _, found) = try await browser.post("/farmacia", cookie: roma, "csrf=\(csrf)&codigo=\(code)")
            #expect(s4 == .ok && found.contains("Ana") && found.contains("id=\"surtir\""), "\(found)")
            let (s5, _, done) = try await browser.post("/farmacia/surtir", cookie: roma, "csrf=\(csrf)&codigo=\(code)&cantidad=20")
            #expect(s5 == .ok && done.contains("Se registró la entrega de 20") && done.contains("40 tabletas"), "\(done)")
            let (s6, _, over) = try await browser.post("/farmacia/surtir", cookie: roma, "csrf=\(csrf)&codigo=\(code)&cantidad=50")
            #expect(s6 == .unprocessableContent && over.contains("solo le quedan 40"), "\(over)")
            // a patient may not use the counter
            #expect(try await browser.get("/farmacia", cookie: ana).0 == .forbidden)
            let (_, after) = try await browser.get("/mis-recetas", cookie: ana)
            #expect(after.contains("Farmacia Roma") && after.contains("20 de 60"), "\(after)")

            // Mis referencias: where it stands, and the patient cancels it
            let (s7, refs) = try await browser.get("/mis-referencias", cookie: ana)
            #expect(s7 == .ok && refs.contains("Hospital Santa Fe") && refs.contains("Aceptada") && refs.contains("Diabetes tipo 2 descontrolada"), "\(refs)")
            let (s8, location, _) = try await browser.post("/mis-referencias/cancelar", cookie: ana, "csrf=\(try PortalBrowser.csrf(refs))&referencia=\(taskID)")
            #expect(s8 == .seeOther && location == "/mis-referencias?cancelada=1")
            let (_, cancelled) = try await browser.get("/mis-referencias?cancelada=1", cookie: ana)
            #expect(cancelled.contains("Cancelada") && !cancelled.contains("name=\"referencia\""))
            #expect(try await c.send(.get, "/fhir/Encounter?patient=Patient/ana", headers: auth(drb), auth: false).json["entry"] == nil)

            // the receiving side's inbox: a new referral, rejected without a reason (refused), then accepted
            let sr2 = try await c.send(.post, "/fhir/ServiceRequest", body: Array(CareReferralTests.serviceRequest.utf8), headers: auth(dra), auth: false)
            let task2 = try await c.send(.post, "/fhir/Task", body: Array(CareReferralTests.task("requested", sr: sr2.json["id"]?.stringValue ?? "").utf8),
                                         headers: auth(dra), auth: false)
            let id2 = task2.json["id"]?.stringValue ?? ""
            let doctor = try await browser.signIn("drb")
            let (s9, inbox) = try await browser.get("/referencias-recibidas", cookie: doctor)
            #expect(s9 == .ok && inbox.contains("id=\"recibida-\(id2)\"") && inbox.contains("Ana") && inbox.contains("Diabetes tipo 2 descontrolada"), "\(inbox)")
            let csrf2 = try PortalBrowser.csrf(inbox)
            let (s10, _, noReason) = try await browser.post("/referencias-recibidas/mover", cookie: doctor, "csrf=\(csrf2)&referencia=\(id2)&estado=rejected&motivo=")
            #expect(s10 == .unprocessableContent && noReason.contains("motivo"), "\(noReason)")
            let (s11, _, moved) = try await browser.post("/referencias-recibidas/mover", cookie: doctor, "csrf=\(csrf2)&referencia=\(id2)&estado=accepted")
            #expect(s11 == .ok && moved.contains("Referencia actualizada: Aceptada") && moved.contains("Iniciar atención"), "\(moved)")
            #expect(try await c.send(.get, "/fhir/Encounter?patient=Patient/ana", headers: auth(drb), auth: false).json["entry"] != nil)
        }
    }

    @Test func theDemoTellsTheCareStory() async throws {
        let (server, _) = try await PortalTests.demoServer()
        defer { server.remove() }
        let store = server.services.store
        func current(_ type: String, _ id: String) async throws -> JSON? {
            try await store.read { try $0.current(type, id) }.flatMap { try? $0.json() }
        }
        #expect(try await current("Task", "demo-p001-ref-endo-task")?["status"]?.stringValue == "accepted")
        #expect(try await current("ServiceRequest", "demo-p001-sr-hba1c-repetida")?["status"]?.stringValue == "revoked")
        #expect(try await current("Provenance", "demo-p001-sr-hba1c-repetida-cds")?["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "accepted")
        #expect(try await current("MedicationDispense", "demo-p001-rx-receta-1")?["quantity"]?["value"] == .number("30"))
        var statuses = Set<String>()
        let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [("code", "https://enlace.mx/fhir/CodeSystem/care-task|referral"), ("_count", "50")])
        for r in try await store.read({ try $0.search(q) }).matches { if let s = (try? r.json())?["status"]?.stringValue { statuses.insert(s) } }
        #expect(statuses == ["accepted", "requested", "received", "rejected", "completed"])
        // booked appointments: Ana in person and online after her referral, each on a busy slot; a cancellation freed its slot
        let visit = try await current("Appointment", "demo-p001-cita-endocrinologia")
        #expect(visit?["status"]?.stringValue == "booked" && visit?["basedOn"]?.arrayValue?.first?["reference"]?.stringValue == "ServiceRequest/demo-p001-ref-endo")
        let (aq, _) = try SearchParser().parse(types: ["Appointment"], parameters: [("_count", "50")])
        let appointments = try await store.read({ try $0.search(aq) }).matches.compactMap { try? $0.json() }
        #expect(appointments.count == 5)
        for a in appointments {
            let slot = a["slot"]?.arrayValue?.first?["reference"]?.stringValue?.split(separator: "/").last.map(String.init) ?? ""
            let expected = a["status"]?.stringValue == "cancelled" ? "free" : "busy"
            #expect(try await current("Slot", slot)?["status"]?.stringValue == expected, "\(slot)")
        }
    }
}
