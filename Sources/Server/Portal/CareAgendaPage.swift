import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Agenda* (`/agenda?dia=2026-11-30&vista=semana`, practitioner): the slots of the
    /// practitioner's schedules on a day or a week, each free or with its appointment (the
    /// patient's name, the status, online or in person) and *Iniciar consulta*
    /// (`Booking.start`). Appointments and names are read through `Door.agenda`, which shows
    /// only the appointments on these slots and the patients' names, nothing of their records.
    func agendaPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, notice: String? = nil,
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        guard s.principal.effectiveRole == .practitioner, let me = s.principal.fhirUser else {
            throw FHIRError(status: 403, code: "forbidden", english: "practitioners only", spanish: "solo personal clínico")
        }
        let query = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let today = String(Timestamp(microseconds: services.clock.now().microseconds - 6 * 3_600_000_000).description.prefix(10))
        let day = query["dia"].flatMap { $0.count == 10 && DateRange($0) != nil ? $0 : nil } ?? today
        let weekView = query["vista"] == "semana"
        let span: Int64 = weekView ? 7 : 1
        func shift(_ d: String, _ days: Int64) -> String {
            String(Timestamp(microseconds: (DateRange(d)!.low + days * 86_400_000) * 1000).description.prefix(10))
        }
        let schedules = try await services.door.offeredSchedules(actors: [me], audit: context.audit)
        var body = "<p>\(esc(t.agendaLead))</p>"
        if let notice { body += "<p class=\"\(status == .ok ? "notice" : "error")\" role=\"\(status == .ok ? "status" : "alert")\">\(esc(notice))</p>" }
        let vista = weekView ? "semana" : "dia"
        body += "<form method=\"get\" action=\"/agenda\" class=\"inline\"><label for=\"dia\">\(esc(t.day))</label><input type=\"date\" id=\"dia\" name=\"dia\" value=\"\(esc(day))\">"
        body += "<select name=\"vista\" aria-label=\"\(esc(t.week))\"><option value=\"dia\"\(weekView ? "" : " selected")>\(esc(t.day))</option><option value=\"semana\"\(weekView ? " selected" : "")>\(esc(t.week))</option></select>"
        body += "<button type=\"submit\">\(esc(t.show))</button></form>"
        body += "<p><a href=\"/agenda?dia=\(shift(day, -span))&amp;vista=\(vista)\">← \(esc(t.previous))</a> · <a href=\"/agenda?dia=\(shift(day, span))&amp;vista=\(vista)\">\(esc(t.next)) →</a></p>"
        guard !schedules.isEmpty else {
            body += "<p>\(esc(t.noSchedules))</p>"
            return html(status, layout(s, request, title: t.navAgenda, body: body))
        }
        let from = "\(day)T00:00:00-06:00", to = "\(shift(day, span))T00:00:00-06:00"
        let g = try await services.door.agenda(s.principal, schedules: schedules.map { "Schedule/\($0.id)" }, from: from, to: to, audit: context.audit)
        let (sq, _) = try SearchParser().parse(types: ["Slot"], parameters: [("schedule", schedules.map { "Schedule/\($0.id)" }.joined(separator: ",")),
                                                                            ("start", "ge\(from)"), ("start", "lt\(to)"), ("_sort", "start"), ("_count", "500"), ("_total", "none")])
        let slots = try await g.search(sq).matches.compactMap { r in (try? r.json()).map { (r.id, $0) } }
        var bySlot: [String: JSON] = [:]
        if !slots.isEmpty {
            let (aq, _) = try SearchParser().parse(types: ["Appointment"], parameters: [("slot", slots.map { "Slot/\($0.0)" }.joined(separator: ",")),
                                                                                       ("_count", "1000"), ("_total", "none")])
            for a in try await g.search(aq).matches.compactMap({ try? $0.json() }) {
                let st = a["status"]?.stringValue ?? ""
                for ref in AppointmentRules.slots(a) where bySlot[ref] == nil || AppointmentRules.holding.contains(st) { bySlot[ref] = a }
            }
        }
        if slots.isEmpty { body += "<p>\(esc(t.noSlotsInRange))</p>" }
        var currentDay = ""
        var patientNames: [String: String] = [:]
        for (id, slot) in slots {
            let start = slot["start"]?.stringValue ?? ""
            if String(start.prefix(10)) != currentDay {
                if !currentDay.isEmpty { body += "</ul>" }
                currentDay = String(start.prefix(10))
                body += "<h2>\(esc(t.date(currentDay)))</h2><ul class=\"cards agenda\">"
            }
            let a = bySlot["Slot/\(id)"].flatMap { AppointmentRules.holding.contains($0["status"]?.stringValue ?? "") ? $0 : nil }
            body += "<li class=\"card\" id=\"horario-\(esc(id))\"><h3>\(esc(String(start.dropFirst(11).prefix(5))))–\(esc(String((slot["end"]?.stringValue ?? "").dropFirst(11).prefix(5))))</h3>"
            guard let a else {
                body += "<p>\(esc(slot["status"]?.stringValue == "free" ? t.slotFree : t.statusName(slot["status"]?.stringValue ?? "")))</p></li>"
                continue
            }
            let aid = a["id"]?.stringValue ?? ""
            var who = "—"
            if let p = (a["participant"]?.arrayValue ?? []).compactMap({ $0["actor"]?["reference"]?.stringValue }).first(where: { $0.hasPrefix("Patient/") }) {
                if let n = patientNames[p] { who = n } else if let pj = try? await g.read("Patient", String(p.dropFirst(8))).json() {
                    who = HumanNameText.display(pj, withPrefix: false) ?? p
                    patientNames[p] = who
                }
            }
            let st = a["status"]?.stringValue ?? ""
            body += "<dl class=\"facts\"><div><dt>\(esc(t.t("Paciente", "Patient")))</dt><dd>\(esc(who))</dd></div>"
            body += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(t.appointmentStatus(st)))</dd></div>"
            if let link = Booking.virtualLink(a) {
                body += "<div><dt>\(esc(t.telemedicine))</dt><dd><a href=\"\(esc(link))\" rel=\"noopener noreferrer\" target=\"_blank\">\(esc(t.joinVisit))</a></dd></div>"
            }
            body += "</dl>"
            if ["booked", "arrived", "checked-in"].contains(st) {
                body += "<form method=\"post\" action=\"/agenda/iniciar\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
                body += "<input type=\"hidden\" name=\"cita\" value=\"\(esc(aid))\"><input type=\"hidden\" name=\"dia\" value=\"\(esc(day))\">"
                body += "<button type=\"submit\">\(esc(t.startVisit))</button></form>"
            }
            body += "</li>"
        }
        if !currentDay.isEmpty { body += "</ul>" }
        return html(status, layout(s, request, title: t.navAgenda, body: body))
    }

    /// `POST /agenda/iniciar`: the clinician starts the visit of an appointment (an Encounter of
    /// class VR or AMB, `Booking.start`).
    func startVisit(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (form, refusal) = try await checkedForm(s, request, title: s.strings.navAgenda)
        if let refusal { return refusal }
        guard let id = form?["cita"], Repository.isValidID(id) else { throw FHIRError.notFound("Appointment", form?["cita"] ?? "") }
        do {
            _ = try await Booking(base: services.configuration.fhirBase).start(id, door: services.door, principal: s.principal, audit: context.audit, now: services.clock.now())
        } catch let e as FHIRError where e.status == 409 || e.status == 422 {
            return try await agendaPage(s, request, context, notice: s.strings.language == .es ? e.issues.first?.spanish : e.issues.first?.english, status: .unprocessableContent)
        }
        let day = form?["dia"].flatMap { $0.count == 10 && DateRange($0) != nil ? $0 : nil }
        return Portal.redirect("/agenda?iniciada=1" + (day.map { "&dia=\($0)" } ?? ""))
    }
}
