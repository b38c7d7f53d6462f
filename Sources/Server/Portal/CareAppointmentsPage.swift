import Care
import FHIR
import Foundation
import Hummingbird
import Storage
import Trust

extension Portal {
    /// The display name of a Practitioner, PractitionerRole, Organization, HealthcareService or
    /// Location reference (read through `g`), else the reference.
    func actorName(_ g: GuardedRepository, _ ref: String, _ names: inout [String: String]) async -> String {
        if let n = names[ref] { return n }
        let parts = ref.split(separator: "/").map(String.init)
        guard parts.count == 2, ["Practitioner", "Organization", "PractitionerRole", "HealthcareService", "Location"].contains(parts[0]),
              let stored = try? await g.read(parts[0], parts[1]), let json = try? stored.json() else { return ref }
        let n = json["name"]?.stringValue ?? Portal.name(json)
        names[ref] = n
        return n
    }

    /// *Mis citas* (`/mis-citas`, patient): their appointments (when, with whom, the status, the
    /// online visit's link), *Cancelar cita* with a reason, and the next free slots of every
    /// offered schedule with *Reservar* (docs/care.md, "Appointments").
    func appointmentsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, notice: String? = nil,
                          status: HTTPResponse.Status = .ok) async throws -> Response {
        let t = s.strings
        guard s.isPatient, let patient = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "patients only", spanish: "solo pacientes") }
        let g = try await guarded(s, context)
        let (q, _) = try SearchParser().parse(types: ["Appointment"], parameters: [("patient", "Patient/\(patient)"), ("_sort", "-date"), ("_count", "50"), ("_total", "none")])
        let appointments = try await g.search(q).matches.compactMap { try? $0.json() }
        let query = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var body = "<p>\(esc(t.appointmentsLead))</p>"
        if let notice { body += "<p class=\"\(status == .ok ? "notice" : "error")\" role=\"\(status == .ok ? "status" : "alert")\">\(esc(notice))</p>" }
        if query["cancelada"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.appointmentCancelled))</p>" }
        if query["reservada"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.appointmentBooked))</p>" }
        if appointments.isEmpty { body += "<p>\(esc(t.noAppointments))</p>" }
        var names: [String: String] = [:]
        body += "<ul class=\"cards\">"
        for a in appointments {
            let id = a["id"]?.stringValue ?? ""
            let st = a["status"]?.stringValue ?? ""
            var with: [String] = []
            for ref in (a["participant"]?.arrayValue ?? []).compactMap({ $0["actor"]?["reference"]?.stringValue }) where !ref.hasPrefix("Patient/") {
                with.append(await actorName(g, ref, &names))
            }
            body += "<li class=\"card\" id=\"cita-\(esc(id))\"><h2>\(esc(t.localTime(a["start"]?.stringValue ?? "")))</h2><dl class=\"facts\">"
            body += "<div><dt>\(esc(t.statusLabel))</dt><dd>\(esc(t.appointmentStatus(st)))</dd></div>"
            if !with.isEmpty { body += "<div><dt>\(esc(t.appointmentWith))</dt><dd>\(esc(with.joined(separator: ", ")))</dd></div>" }
            if let why = a["cancelationReason"]?["text"]?.stringValue { body += "<div><dt>\(esc(t.reason))</dt><dd>\(esc(why))</dd></div>" }
            if let link = Booking.virtualLink(a) {
                body += "<div><dt>\(esc(t.telemedicine))</dt><dd>"
                body += ["booked", "arrived", "checked-in"].contains(st) ? "<a href=\"\(esc(link))\" rel=\"noopener noreferrer\" target=\"_blank\">\(esc(t.joinVisit))</a>" : "—"
                body += "</dd></div>"
            }
            body += "</dl>"
            if ["booked", "pending"].contains(st) {
                body += "<form method=\"post\" action=\"/mis-citas/cancelar\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
                body += "<input type=\"hidden\" name=\"cita\" value=\"\(esc(id))\">"
                body += "<label for=\"motivo-\(esc(id))\">\(esc(t.cancelReasonLabel))</label><input type=\"text\" id=\"motivo-\(esc(id))\" name=\"motivo\" maxlength=\"300\" required>"
                body += "<button type=\"submit\" class=\"danger\" data-confirm=\"\(esc(t.cancelAppointmentConfirm))\">\(esc(t.cancelAppointment))</button></form>"
            }
            body += "</li>"
        }
        body += "</ul>"

        // free slots: every offered schedule's next slots
        body += "<h2>\(esc(t.freeSlots))</h2><p>\(esc(t.freeSlotsLead))</p>"
        let schedules = try await services.door.offeredSchedules(all: true, audit: context.audit)
        var any = false
        for schedule in schedules.prefix(20) {
            let json = (try? schedule.json()) ?? .object([])
            let found = try await Slots().find(Slots.Find(schedules: ["Schedule/\(schedule.id)"], count: 12), door: services.door, repository: g, now: services.clock.now())
            guard !found.slots.isEmpty else { continue }
            any = true
            var title: [String] = []
            for ref in (json["actor"]?.arrayValue ?? []).compactMap({ $0["reference"]?.stringValue }) { title.append(await actorName(g, ref, &names)) }
            let service = (json["serviceType"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue ?? $0["coding"]?.arrayValue?.first?["display"]?.stringValue }.first
            body += "<section class=\"card\" id=\"agenda-\(esc(schedule.id))\"><h3>\(esc(title.joined(separator: ", ")))\(service.map { " · " + esc($0) } ?? "")</h3><ul class=\"slots\">"
            for slot in found.slots {
                let sj = (try? slot.json()) ?? .object([])
                body += "<li><form method=\"post\" action=\"/mis-citas/reservar\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
                body += "<input type=\"hidden\" name=\"horario\" value=\"\(esc(slot.id))\">"
                body += "<button type=\"submit\" aria-label=\"\(esc(t.book)) \(esc(t.localTime(sj["start"]?.stringValue ?? "")))\">\(esc(t.localTime(sj["start"]?.stringValue ?? "")))</button></form></li>"
            }
            body += "</ul></section>"
        }
        if !any { body += "<p>\(esc(t.noFreeSlots))</p>" }
        return html(status, layout(s, request, title: t.navAppointments, body: body))
    }

    func checkedForm(_ s: Session, _ request: Request, title: String) async throws -> (form: [String: String]?, refusal: Response?) {
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return (nil, html(.forbidden, layout(s, request, title: title, body: "<p class=\"error\" role=\"alert\">\(esc(s.strings.formExpired))</p>")))
        }
        return (form, nil)
    }

    /// `POST /mis-citas/reservar`: the patient books a free slot for themselves (`Booking.book`).
    func bookSlot(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (form, refusal) = try await checkedForm(s, request, title: s.strings.navAppointments)
        if let refusal { return refusal }
        guard s.isPatient, let patient = s.ownPatient, let slot = form?["horario"], Repository.isValidID(slot) else { throw FHIRError.notFound("Slot", form?["horario"] ?? "") }
        do {
            _ = try await Booking(base: services.configuration.fhirBase).book(Booking.Request(slots: ["Slot/\(slot)"], patient: patient), door: services.door,
                                                                            principal: s.principal, audit: context.audit, now: services.clock.now())
        } catch let e as FHIRError where e.status == 409 || e.status == 422 {
            return try await appointmentsPage(s, request, context, notice: s.strings.language == .es ? e.issues.first?.spanish : e.issues.first?.english, status: .conflict)
        }
        return Portal.redirect("/mis-citas?reservada=1")
    }

    /// `POST /mis-citas/cancelar`: the patient cancels an appointment with a reason (`Booking.cancel`: the slot is freed in the same transaction).
    func cancelAppointment(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let (form, refusal) = try await checkedForm(s, request, title: s.strings.navAppointments)
        if let refusal { return refusal }
        guard s.isPatient, let id = form?["cita"], Repository.isValidID(id) else { throw FHIRError.notFound("Appointment", form?["cita"] ?? "") }
        let reason = form?["motivo"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        do {
            _ = try await Booking(base: services.configuration.fhirBase).cancel(id, reason: reason.isEmpty ? s.strings.t("Cancelada por el paciente", "Cancelled by the patient") : reason,
                                                                              door: services.door, principal: s.principal, audit: context.audit, now: services.clock.now())
        } catch let e as FHIRError where e.status == 409 || e.status == 422 || e.status == 400 {
            return try await appointmentsPage(s, request, context, notice: s.strings.language == .es ? e.issues.first?.spanish : e.issues.first?.english,
                                              status: .unprocessableContent)
        }
        return Portal.redirect("/mis-citas?cancelada=1")
    }
}
