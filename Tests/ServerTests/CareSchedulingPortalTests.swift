import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server
import Trust

/// The appointment pages (docs/care.md, "Appointments"): the patient books a free slot on
/// *Mis citas* and cancels one; the clinician sees the booked slot with the patient's name on
/// *Agenda* and starts the visit; CSRF is checked; English works.
@Suite struct CareSchedulingPortalTests {
    @Test func aPatientBooksAndCancelsAndTheClinicianStartsTheVisit() async throws {
        let server = try TestServer { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        let identity = server.services.identity
        _ = try await identity.addUser(username: "ana", role: .patient, password: "contraseña-larga-1", patient: "Patient/ana")
        _ = try await identity.addUser(username: "dra", role: .practitioner, password: "contraseña-larga-2", fhirUser: "Practitioner/dra",
                                       organization: "Organization/umf")
        try await server.run { c in
            for (path, json) in CareSchedulingTests.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            #expect(try await c.send(.post, "/fhir/Schedule/s-dra/$generate-slots", json: CareSchedulingTests.generate()).status == 201)
            let browser = PortalBrowser(client: c.client, passwords: ["ana": "contraseña-larga-1", "dra": "contraseña-larga-2"])
            let ana = try await browser.signIn("ana")
            let (s1, page) = try await browser.get("/mis-citas", cookie: ana)
            #expect(s1 == .ok && page.contains("No tiene citas") && page.contains("Horarios libres") && page.contains("30/11/2026 09:00"), "\(page)")
            let csrf = try PortalBrowser.csrf(page)
            let slots = try await c.send(.get, "/fhir/Slot?schedule=Schedule/s-dra&status=free&_sort=start")
            let ids = (slots.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue }
            #expect(ids.count == 5)
            // a form without the session's CSRF token books nothing
            let (forged, _, _) = try await browser.post("/mis-citas/reservar", cookie: ana, "csrf=x&horario=\(ids[0])")
            #expect(forged == .forbidden)
            let (s2, location, _) = try await browser.post("/mis-citas/reservar", cookie: ana, "csrf=\(csrf)&horario=\(ids[0])")
            #expect(s2 == .seeOther && location == "/mis-citas?reservada=1", "\(s2)")
            let (s2b, _, _) = try await browser.post("/mis-citas/reservar", cookie: ana, "csrf=\(csrf)&horario=\(ids[1])")
            #expect(s2b == .seeOther)
            // the same slot again: the page says it is taken
            let (s3, _, taken) = try await browser.post("/mis-citas/reservar", cookie: ana, "csrf=\(csrf)&horario=\(ids[0])")
            #expect(s3 == .conflict && taken.contains("ya está ocupado"), "\(taken)")
            let (_, mine) = try await browser.get("/mis-citas?reservada=1", cookie: ana)
            #expect(mine.contains("Cita reservada") && mine.contains("Agendada") && mine.contains("Hernández"), "\(mine)")

            // the clinician's agenda of that day: Ana's name on her slots, free ones free
            let dra = try await browser.signIn("dra")
            let (s4, agenda) = try await browser.get("/agenda?dia=2026-11-30", cookie: dra)
            #expect(s4 == .ok && agenda.contains("Ana") && agenda.contains("Iniciar consulta") && agenda.contains("Libre") && agenda.contains("09:00–09:20"), "\(agenda)")
            let (_, week) = try await browser.get("/agenda?dia=2026-11-30&vista=semana", cookie: dra)
            #expect(week.contains("30/11/2026"))
            let appointments = try await c.send(.get, "/fhir/Appointment?slot=Slot/\(ids[0])")
            let aid = appointments.json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue ?? ""
            let (s5, started, _) = try await browser.post("/agenda/iniciar", cookie: dra, "csrf=\(try PortalBrowser.csrf(agenda))&cita=\(aid)&dia=2026-11-30")
            #expect(s5 == .seeOther && started?.hasPrefix("/agenda?iniciada=1") == true, "\(s5)")
            let encounters = try await c.send(.get, "/fhir/Encounter?appointment=Appointment/\(aid)")
            #expect(encounters.json["entry"]?.arrayValue?.first?["resource"]?["class"]?["code"]?.stringValue == "AMB", "\(encounters.text)")

            // Ana cancels the other appointment with a reason: the slot is free again
            let second = try await c.send(.get, "/fhir/Appointment?slot=Slot/\(ids[1])").json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue ?? ""
            let (s6, cancelled, _) = try await browser.post("/mis-citas/cancelar", cookie: ana, "csrf=\(csrf)&cita=\(second)&motivo=Tengo+trabajo")
            #expect(s6 == .seeOther && cancelled == "/mis-citas?cancelada=1")
            #expect(try await c.send(.get, "/fhir/Slot/\(ids[1])").json["status"]?.stringValue == "free")
            let (_, after) = try await browser.get("/mis-citas?cancelada=1", cookie: ana)
            #expect(after.contains("Cancelada") && after.contains("Tengo trabajo"), "\(after)")
            // a patient does not see the clinician's agenda
            let (s7, _) = try await browser.get("/agenda", cookie: ana)
            #expect(s7 == .forbidden)
        }
    }
}
