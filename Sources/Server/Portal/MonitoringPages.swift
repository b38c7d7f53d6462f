import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Monitoring
import Storage
import Trust

extension Portal {
    /// *Mis mediciones* (`/mediciones?dias=30`): the patient's charts — glucose, blood pressure,
    /// heart rate, SpO₂, weight and steps over 7, 30 or 90 days, target band drawn, readings
    /// outside marked — and their active alerts (Flags). A clinician sees a patient's with
    /// `?paciente=<id>` (linked from *Alertas*). Read through the person's guarded repository.
    func measurementsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let days = [7, 30, 90].first { String($0) == q["dias"] } ?? 30
        let patientID: String
        if let asked = q["paciente"], !s.isPatient {
            guard Repository.isValidID(asked) else { throw FHIRError.notFound("Patient", asked) }
            patientID = asked
        } else if let own = s.ownPatient {
            patientID = own
        } else {
            throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente")
        }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", patientID).json()
        let now = services.clock.now()
        let from = Timestamp(microseconds: now.microseconds - Int64(days) * 86_400_000_000)
        let series = try await VitalSeries.load(patient: patientID, from: from, to: now, guarded: g)
        var body = ""
        let title = s.isPatient ? t.navMeasurements : t.measurementsOf(Portal.name(patient))
        if s.isPatient { body += "<p>\(esc(t.measurementsLead))</p>" }
        // active alerts on the record (Flags the rules raised)
        let (fq, _) = try SearchParser().parse(types: ["Flag"], parameters: [("patient", "Patient/\(patientID)"), ("status", "active"),
                                                                           ("code", "\(AlertConsumer.alertSystem)|out-of-range"), ("_count", "20")])
        let flags = try await g.search(fq).matches.compactMap { try? $0.json() }
        body += "<section class=\"card\" aria-labelledby=\"h-alertas\"><h2 id=\"h-alertas\">\(esc(t.activeAlerts))</h2>"
        if flags.isEmpty {
            body += "<p>\(esc(t.noActiveAlerts))</p>"
        } else {
            body += "<ul class=\"alerts\">"
            for f in flags {
                let since = f["period"]?["start"]?.stringValue.map { " · \(t.alertSince) \(t.dateTime($0))" } ?? ""
                body += "<li class=\"alert-flag\"><span class=\"badge warn\">!</span> \(esc(f["code"]?["text"]?.stringValue ?? ""))\(esc(since))</li>"
            }
            body += "</ul>"
        }
        body += "</section>"
        // period
        let base = s.isPatient ? "/mediciones?" : "/mediciones?paciente=\(patientID)&"
        body += "<nav class=\"filters\" aria-label=\"\(esc(t.periodLabel))\"><ul>"
        for d in [7, 30, 90] {
            body += "<li><a href=\"\(esc(base))dias=\(d)\"\(d == days ? " aria-current=\"true\"" : "")>\(esc(t.lastDays(d)))</a></li>"
        }
        body += "</ul></nav>"
        var empty: [String] = []
        for v in series {
            let name = t.t(v.vital.spanish, v.vital.english)
            guard v.count > 0 else { empty.append(name); continue }
            let lineNames = v.lines.map { $0.code == "8480-6" ? t.systolic : ($0.code == "8462-4" ? t.diastolic : "") }
            let description = t.chartDescription(name, v.count, v.outside, t.date(from.description), t.date(now.description))
            body += "<section class=\"card vital\" aria-labelledby=\"h-\(v.vital.key)\" id=\"vital-\(v.vital.key)\"><h2 id=\"h-\(v.vital.key)\">\(esc(name))</h2>"
            body += MonitoringChart.svg(v, from: from, to: now, name: name, description: description, lineNames: lineNames, strings: t)
            body += "<p class=\"hint\">\(esc(t.readingsSummary(v.count, v.outside)))</p>"
            for (n, line) in v.lines.enumerated() {
                guard let target = line.target else { continue }
                var fromGoal = false
                if case .goal = target.origin { fromGoal = true }
                let prefix = lineNames[n].isEmpty ? "" : "\(lineNames[n]): "
                body += "<p class=\"hint\">\(esc(prefix + t.targetText(target.rangeText, line.unit, fromGoal: fromGoal)))</p>"
            }
            if let last = v.lines.first?.points.last {
                let values = v.lines.compactMap { $0.points.last.map { "\(ObservationStats.formatShort($0.value))" } }.joined(separator: "/")
                body += "<p>\(esc(t.lastReading)): <strong>\(esc(values)) \(esc(v.lines.first?.unit ?? ""))</strong> · \(esc(t.dateTime(last.time.description)))</p>"
            }
            body += "</section>"
        }
        if !empty.isEmpty { body += "<p class=\"hint\">\(esc(t.noReadings)): \(esc(empty.joined(separator: ", ")))</p>" }
        return html(.ok, layout(s, request, title: title, body: body))
    }

    /// *Alertas* (`/alertas`): the clinician's inbox of open alert Tasks of their patients (the
    /// guard shows only patients they treat), urgent first, with acknowledge and resolve buttons.
    func alertsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let g = try await guarded(s, context)
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var body = "<p>\(esc(t.alertsLead))</p>"
        if q["hecho"] == "1" { body += "<p class=\"notice\" role=\"status\">\(esc(t.alertSaved))</p>" }
        var names: [String: String] = [:]
        for (status, heading, actionable) in [("requested,received,accepted,ready,in-progress", t.openAlerts, true), ("completed,cancelled", t.closedAlerts, false)] {
            let (tq, _) = try SearchParser().parse(types: ["Task"], parameters: [
                ("code", "\(AlertConsumer.alertSystem)|review-reading"), ("status", status), ("_sort", "-_lastUpdated"),
                ("_count", actionable ? "100" : "10"), ("_total", "none")])
            var tasks = try await g.search(tq).matches.compactMap { try? $0.json() }
            if actionable {
                tasks.sort { AlertPriority.rank($0["priority"]?.stringValue) > AlertPriority.rank($1["priority"]?.stringValue) }
            }
            let hid = actionable ? "h-abiertas" : "h-cerradas"
            body += "<section aria-labelledby=\"\(hid)\"><h2 id=\"\(hid)\">\(esc(heading))</h2>"
            if tasks.isEmpty {
                body += "<p>\(esc(actionable ? t.noOpenAlerts : t.noClosedAlerts))</p></section>"
                continue
            }
            body += "<ul class=\"cards\">"
            for task in tasks { body += await alertCard(s, g, task, actionable: actionable, names: &names) }
            body += "</ul></section>"
        }
        return html(.ok, layout(s, request, title: t.navAlerts, body: body))
    }

    func alertCard(_ s: Session, _ g: GuardedRepository, _ task: JSON, actionable: Bool, names: inout [String: String]) async -> String {
        let t = s.strings
        let id = task["id"]?.stringValue ?? ""
        let patientRef = task["for"]?["reference"]?.stringValue ?? ""
        let patientID = patientRef.hasPrefix("Patient/") ? String(patientRef.dropFirst(8)) : ""
        if names[patientRef] == nil, !patientID.isEmpty {
            names[patientRef] = (try? await g.read("Patient", patientID).json()).map(Portal.name) ?? patientRef
        }
        let priority = task["priority"]?.stringValue ?? "routine"
        let status = task["status"]?.stringValue ?? ""
        var card = "<li class=\"card alert-task\" id=\"alerta-\(esc(id))\" data-prioridad=\"\(esc(priority))\" data-estado=\"\(esc(status))\">"
        card += "<h3><span class=\"badge \(priority == "routine" ? "ok" : "warn")\">\(esc(t.priorityName(priority)))</span> \(esc(names[patientRef] ?? patientRef))</h3>"
        card += "<dl class=\"facts\">"
        card += "<div><dt>\(esc(t.alertReading))</dt><dd>\(esc(task["description"]?.stringValue ?? ""))</dd></div>"
        if let when = task["authoredOn"]?.stringValue { card += "<div><dt>\(esc(t.alertSince))</dt><dd>\(esc(t.dateTime(when)))</dd></div>" }
        card += "<div><dt>\(esc(t.alertStatus))</dt><dd>\(esc(t.taskStatusName(status)))</dd></div>"
        for note in task["note"]?.arrayValue ?? [] {
            if let text = note["text"]?.stringValue { card += "<div><dt>\(esc(t.reviewNote))</dt><dd>\(esc(text))</dd></div>" }
        }
        card += "</dl>"
        if !patientID.isEmpty { card += "<p><a href=\"/mediciones?paciente=\(esc(patientID))\">\(esc(t.seeChart))</a></p>" }
        if actionable {
            card += "<form method=\"post\" action=\"/alertas/\(esc(id))\">"
            card += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
            card += "<label for=\"nota-\(esc(id))\">\(esc(t.alertNote))</label>"
            card += "<textarea id=\"nota-\(esc(id))\" name=\"nota\" rows=\"2\" maxlength=\"500\"></textarea>"
            card += "<div class=\"actions\">"
            if status != "in-progress" { card += "<button type=\"submit\" name=\"accion\" value=\"atender\">\(esc(t.alertAcknowledge))</button>" }
            card += "<button type=\"submit\" name=\"accion\" value=\"resolver\">\(esc(t.alertResolve))</button></div></form>"
        }
        return card + "</li>"
    }

    /// `POST /alertas/{id}`: acknowledges (`in-progress`) or resolves (`completed`) an alert Task
    /// with the clinician's note (author and time), written through their guard (If-Match: the
    /// version they saw, so a rule closing the episode at the same moment is not overwritten).
    func acknowledgeAlert(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, taskID: String) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navAlerts, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard Repository.isValidID(taskID), let action = form["accion"], ["atender", "resolver"].contains(action) else {
            throw FHIRError.badRequest("choose acknowledge or resolve", "elija atender o resolver")
        }
        let g = try await guarded(s, context)
        let stored = try await g.read("Task", taskID)
        var task = try stored.json()
        let isAlert = (task["code"]?["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == AlertConsumer.alertSystem }
        guard isAlert else { throw FHIRError.notFound("Task", taskID) }
        let typed = (form["nota"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let text = typed.isEmpty ? (action == "atender" ? t.acknowledgedDefault : t.resolvedDefault) : String(typed.prefix(500))
        let now = services.clock.now().description
        var note: [(String, JSON)] = []
        if let me = s.principal.fhirUser { note.append(("authorReference", .object([("reference", .string(me))]))) }
        note += [("time", .string(now)), ("text", .string(text))]
        task = task.setting("status", .string(action == "atender" ? "in-progress" : "completed"))
            .setting("note", .array((task["note"]?.arrayValue ?? []) + [.object(note)]))
            .setting("lastModified", .string(now))
        if let me = s.principal.fhirUser, action == "atender" { task = task.setting("owner", task["owner"] ?? .object([("reference", .string(me))])) }
        if let security = task["meta"]?["security"] { task = task.setting("meta", .object([("security", security)])) } else { task = task.setting("meta", nil) }
        context.audit?.interaction = "update"
        _ = try await g.update("Task", taskID, task, ifMatch: stored.version)
        return Portal.redirect("/alertas?hecho=1")
    }
}

enum AlertPriority {
    static func rank(_ p: String?) -> Int { ["routine": 0, "urgent": 1, "asap": 2, "stat": 3][p ?? ""] ?? 0 }
}
