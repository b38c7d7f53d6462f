import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Prevention
import Storage
import Trust

extension Portal {
    /// The items of one patient today, from what the signed-in person may see.
    func preventionItems(_ g: GuardedRepository, patient: String, record read: PatientRecord? = nil) async throws -> (PatientRecord, [PreventionItem]?) {
        let record: PatientRecord
        if let read { record = read } else { record = try await RecordReader.read(g, patient: patient) }
        let today = CivilDate(services.clock.now().date)
        guard let input = record.scheduleInput(asOf: today) else { return (record, nil) }
        return (record, ScheduleEngine(rules: PreventionWiring.knowledge(services.configuration).rules).evaluate(input))
    }

    /// The clinicians' decisions about the patient's gaps (by item), as the signed-in person may see them.
    func preventionDecisions(_ g: GuardedRepository, patient: String) async throws -> [String: GapDecision] {
        try await GapDecision.read(g, patients: [patient])[patient] ?? [:]
    }

    /// A decided gap: what was decided, by whom, why and when — beside what the schedule computed.
    func decidedItemHTML(_ item: PreventionItem, _ d: GapDecision, _ t: PortalStrings) -> String {
        var h = "<li class=\"entry\" data-item=\"\(esc(item.rule.id))\" data-status=\"decided\" data-decision=\"\(esc(d.kind.parameter))\"><div class=\"what\">"
        h += "<h3>\(esc(t.text(item.rule.title))) <span class=\"badge ok\">\(esc(t.gapDecision(d)))</span></h3><dl class=\"facts\">"
        h += "<div><dt>\(esc(t.gapDecisionReason))</dt><dd>\(esc(d.reason))</dd></div>"
        let who = [d.practitionerName ?? d.practitioner, d.organizationName].compactMap { $0 }.joined(separator: " · ")
        h += "<div><dt>\(esc(t.gapDecidedBy))</dt><dd>\(esc(who)) · \(esc(t.date(d.date.description)))</dd></div>"
        h += "<div><dt>\(esc(t.gapComputed))</dt><dd>\(esc(t.text(item.explanation)))</dd></div>"
        return h + "</dl></div></li>"
    }

    /// The BMI trend (docs/prevention.md, "BMI trend"): an inline SVG (no script, no CDN) that
    /// scales to the screen, the WHO adult limits as dashed lines for adults (20 and over), and the
    /// same values as a table for screen readers and small screens. Empty without a measurement.
    /// `clinician`: worded for the clinician's page of the patient (`/prevencion/paciente/{id}`).
    func bmiTrendHTML(_ record: PatientRecord, today: CivilDate, _ t: PortalStrings, clinician: Bool = false) -> String {
        let points = BMITrend.points(record, asOf: today)
        guard let first = points.first, let last = points.last else { return "" }
        let birth = record.patient["birthDate"]?.stringValue.flatMap(CivilDate.init(fhir:))
        let adult = birth.map { $0.years(until: today) >= 20 } ?? true
        let w = 320.0, h = 160.0, left = 34.0, right = 8.0, top = 8.0, bottom = 22.0
        let values = points.map(\.value)
        let low = min(adult ? 16 : values.min()!, values.min()!) - 1, high = max(adult ? 34 : values.max()!, values.max()!) + 1
        let span = Double(max(1, last.date.daysSince1970 - first.date.daysSince1970))
        func x(_ d: CivilDate) -> Double { points.count == 1 ? (left + w - right) / 2 : left + (w - left - right) * Double(d.daysSince1970 - first.date.daysSince1970) / span }
        func y(_ v: Double) -> Double { top + (h - top - bottom) * (high - v) / (high - low) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" width=\"100%\" role=\"img\" aria-label=\"\(esc(t.bmiTrendLabel(points.count, t.date(first.date.description), t.date(last.date.description))))\" data-bmi-trend=\"\(points.count)\">"
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(w - left - right))\" height=\"\(f(h - top - bottom))\" fill=\"none\" stroke=\"#999\" stroke-width=\"1\"/>"
        if adult {
            for b in BMITrend.bands where b > low && b < high {
                svg += "<line x1=\"\(f(left))\" x2=\"\(f(w - right))\" y1=\"\(f(y(b)))\" y2=\"\(f(y(b)))\" stroke=\"#b35900\" stroke-dasharray=\"4 3\" stroke-width=\"1\"/>"
                svg += "<text x=\"2\" y=\"\(f(y(b) + 4))\" font-size=\"11\" fill=\"#333\">\(f(b))</text>"
            }
        }
        svg += "<polyline fill=\"none\" stroke=\"#1a5e8a\" stroke-width=\"2\" points=\"\(points.map { "\(f(x($0.date))),\(f(y($0.value)))" }.joined(separator: " "))\"/>"
        for p in points {
            svg += "<circle cx=\"\(f(x(p.date)))\" cy=\"\(f(y(p.value)))\" r=\"4\" fill=\"#1a5e8a\"><title>\(esc(t.date(p.date.description))): \(f(p.value))</title></circle>"
        }
        svg += "<text x=\"\(f(left))\" y=\"\(f(h - 6))\" font-size=\"11\" fill=\"#333\">\(esc(first.date.description))</text>"
        if points.count > 1 { svg += "<text x=\"\(f(w - right))\" y=\"\(f(h - 6))\" font-size=\"11\" fill=\"#333\" text-anchor=\"end\">\(esc(last.date.description))</text>" }
        svg += "</svg>"
        var table = "<details><summary>\(esc(t.bmiTrendTable))</summary><table><thead><tr><th scope=\"col\">\(esc(t.recorded))</th><th scope=\"col\">\(esc(t.bmiValue))</th>"
        if adult { table += "<th scope=\"col\">\(esc(t.bmiCategory))</th>" }
        table += "</tr></thead><tbody>"
        for p in points.reversed() {
            table += "<tr><td>\(esc(t.date(p.date.description)))</td><td>\(f(p.value))</td>" + (adult ? "<td>\(esc(t.text(BMITrend.category(p.value))))</td>" : "") + "</tr>"
        }
        table += "</tbody></table></details>"
        let title = clinician ? t.bmiTrendTitleClinician : t.bmiTrendTitle
        let lead = adult ? (clinician ? t.bmiTrendLeadClinician : t.bmiTrendLead) : t.bmiTrendChildLead
        return "<section class=\"card\" aria-labelledby=\"p-bmi\"><h2 id=\"p-bmi\">\(esc(title))</h2><p class=\"hint\">\(esc(lead))</p>"
            + svg + table + "</section>"
    }

    /// *Mi prevención* (`/prevencion`): the patient's Cartilla — overdue, due, declined, coming up
    /// (next 12 months), done, contraindicated — each with what it is for and where and when it
    /// was last done; then the risk estimates the patient may see (a category they chose not to
    /// know stays hidden by the guard itself).
    func preventionPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let (record, found) = try await preventionItems(g, patient: id)
        var body = "<p>\(esc(t.preventionLead))</p>"
        guard let items = found else {
            body += "<p class=\"notice\">\(esc(t.preventionNoBirthDate))</p>"
            return html(.ok, layout(s, request, title: t.navPrevention, body: body))
        }
        let horizon = CivilDate(services.clock.now().date).adding(.months(12))
        let decisions = try await preventionDecisions(g, patient: id)
        let decided = items.filter { decisions[$0.rule.id]?.applies(to: $0) ?? false }
        let shown = items.filter { item in
            !(decisions[item.rule.id]?.applies(to: item) ?? false) && (item.status != .upcoming || (item.dueDate.map { $0 <= horizon } ?? false))
        }
        if shown.isEmpty { body += "<p>\(esc(t.preventionNothing))</p>" }
        let order: [PreventionItem.Status] = [.overdue, .due, .declined, .upcoming, .done, .contraindicated]
        for status in order {
            let group = shown.filter { $0.status == status }
            guard !group.isEmpty else { continue }
            body += "<section class=\"card\" aria-labelledby=\"p-\(status.rawValue)\"><h2 id=\"p-\(status.rawValue)\">\(esc(t.preventionSection(status))) (\(group.count))</h2><ul class=\"cards\">"
            for item in group.sorted(by: { ($0.dueDate ?? .init(9999, 1, 1)) < ($1.dueDate ?? .init(9999, 1, 1)) }) {
                body += preventionItemHTML(item, t)
            }
            body += "</ul></section>"
        }
        if !decided.isEmpty {
            body += "<section class=\"card\" aria-labelledby=\"p-decided\"><h2 id=\"p-decided\">\(esc(t.gapDecidedTitle)) (\(decided.count))</h2>"
            body += "<p class=\"hint\">\(esc(t.gapDecidedLead))</p><ul class=\"cards\">"
            for item in decided { body += decidedItemHTML(item, decisions[item.rule.id]!, t) }
            body += "</ul></section>"
        }
        body += "<p class=\"hint\">\(esc(t.preventionAsk))</p>"
        body += bmiTrendHTML(record, today: CivilDate(services.clock.now().date), t)
        body += try await riskSection(g, patient: id, t)
        body += try await remindersSection(g, patient: id, t)
        return html(.ok, layout(s, request, title: t.navPrevention, body: body))
    }

    func preventionItemHTML(_ item: PreventionItem, _ t: PortalStrings) -> String {
        let badge = item.status == .done ? "badge ok" : (item.status == .overdue || item.status == .contraindicated ? "badge warn" : "badge")
        var h = "<li class=\"entry\" data-item=\"\(esc(item.rule.id))\" data-status=\"\(item.status.rawValue)\"><div class=\"what\">"
        h += "<h3>\(esc(t.text(item.rule.title))) <span class=\"\(badge)\">\(esc(t.preventionStatus(item.status)))</span></h3>"
        h += "<p>\(esc(t.text(item.explanation)))</p><dl class=\"facts\">"
        if !item.rule.purpose.es.isEmpty { h += "<div><dt>\(esc(t.preventionWhatFor))</dt><dd>\(esc(t.text(item.rule.purpose)))</dd></div>" }
        if let last = item.last {
            h += "<div><dt>\(esc(t.preventionLast))</dt><dd>\(esc(t.date(last.date.description)))\(last.place.map { " · " + esc($0) } ?? "")</dd></div>"
        }
        if let due = item.dueDate, item.status != .contraindicated {
            let label = item.status == .upcoming || item.status == .done ? t.preventionNext : t.panelOldest
            h += "<div><dt>\(esc(label))</dt><dd>\(esc(t.date(due.description)))</dd></div>"
        }
        return h + "</dl></div></li>"
    }

    /// The RiskAssessments the reader may see, in plain words, with the algorithm that made them.
    func riskSection(_ g: GuardedRepository, patient: String, _ t: PortalStrings) async throws -> String {
        let risks = try await compartment(g, patient: patient, types: ["RiskAssessment"], limit: 20)
        guard !risks.isEmpty else { return "" }
        var h = "<section class=\"card\" aria-labelledby=\"p-risk\"><h2 id=\"p-risk\">\(esc(t.preventionRisks))</h2><p class=\"hint\">\(esc(t.preventionRiskLead))</p><ul class=\"cards\">"
        for r in risks {
            let notes = (r["note"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }
            let text = t.language == .es ? notes.first : (notes.count > 1 ? notes[1] : notes.first)
            h += "<li class=\"entry\" data-risk=\"\(esc(r["id"]?.stringValue ?? ""))\"><div class=\"what\"><h3>\(esc(Portal.text(r["code"]) ?? t.typeName("RiskAssessment")))</h3>"
            if let text { h += "<p>\(esc(text))</p>" }
            h += "<dl class=\"facts\"><div><dt>\(esc(t.preventionAlgorithm))</dt><dd>\(esc(Portal.text(r["method"]) ?? "—"))</dd></div>"
            let basis = (r["basis"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
            if !basis.isEmpty { h += "<div><dt>\(esc(t.preventionBasedOn))</dt><dd>\(esc(basis.map { t.typeName(String($0.split(separator: "/").first ?? "")) }.uniquedStrings().joined(separator: ", ")))</dd></div>" }
            if let when = r["occurrenceDateTime"]?.stringValue { h += "<div><dt>\(esc(t.recorded))</dt><dd>\(esc(t.date(when)))</dd></div>" }
            h += "</dl></div></li>"
        }
        return h + "</ul></section>"
    }

    /// The reminders the patient's care team sent (Communication, category `reminder`), newest first.
    func remindersSection(_ g: GuardedRepository, patient: String, _ t: PortalStrings) async throws -> String {
        let sent = try await compartment(g, patient: patient, types: ["Communication"], limit: 50, extra: [("category", "reminder")])
            .sorted { ($0["sent"]?.stringValue ?? $0["meta"]?["lastUpdated"]?.stringValue ?? "") > ($1["sent"]?.stringValue ?? $1["meta"]?["lastUpdated"]?.stringValue ?? "") }
        guard !sent.isEmpty else { return "" }
        var h = "<section class=\"card\" aria-labelledby=\"p-reminders\"><h2 id=\"p-reminders\">\(esc(t.remindersReceived))</h2><ul class=\"cards\">"
        for c in sent.prefix(5) {
            let texts = (c["payload"]?.arrayValue ?? []).compactMap { $0["contentString"]?.stringValue }
            let shown = texts.filter { t.language == .es ? !$0.hasPrefix("Reminder from") : !$0.hasPrefix("Recordatorio de su") }
            h += "<li class=\"entry\" data-reminder=\"\(esc(c["id"]?.stringValue ?? ""))\"><div class=\"what\">"
            for text in shown { h += "<p>\(esc(text))</p>" }
            h += "<dl class=\"facts\"><div><dt>\(esc(t.reminderMedium))</dt><dd>\(esc(Portal.text(c["medium"]?.arrayValue?.first) ?? "—"))</dd></div>"
            if let when = c["sent"]?.stringValue ?? c["meta"]?["lastUpdated"]?.stringValue { h += "<div><dt>\(esc(t.recorded))</dt><dd>\(esc(t.date(when)))</dd></div>" }
            h += "</dl></div></li>"
        }
        return h + "</ul></section>"
    }

    /// The gaps card on a clinician's patient summary (`/pacientes/{id}`).
    func preventionSummaryCard(_ g: GuardedRepository, patient: String, _ t: PortalStrings) async throws -> String {
        let (_, found) = try await preventionItems(g, patient: patient)
        guard let items = found else { return "" }
        let decisions = try await preventionDecisions(g, patient: patient)
        let decided = items.filter { decisions[$0.rule.id]?.applies(to: $0) ?? false }
        let open = items.filter { $0.status.isOpen && !(decisions[$0.rule.id]?.applies(to: $0) ?? false) }
            .sorted { ($0.dueDate ?? .init(9999, 1, 1)) < ($1.dueDate ?? .init(9999, 1, 1)) }
        var decidedHTML = ""
        if !decided.isEmpty {
            decidedHTML = "<h3>\(esc(t.gapDecidedClinicianTitle)) (\(decided.count))</h3><ul class=\"cards\">"
            for item in decided { decidedHTML += decidedItemHTML(item, decisions[item.rule.id]!, t) }
            decidedHTML += "</ul>"
        }
        var h = "<section class=\"card\" aria-labelledby=\"p-gaps\" data-prevention-gaps=\"\(open.count)\"><h2 id=\"p-gaps\">\(esc(t.preventionGapsTitle))</h2>"
        let actions = "<p><a href=\"/prevencion/paciente/\(esc(patient))\">\(esc(t.preventionActions))</a></p>"
        if open.isEmpty { return h + "<p>\(esc(t.preventionNoGaps))</p>" + decidedHTML + actions + "</section>" }
        h += "<ul class=\"summary\">"
        for item in open {
            h += "<li data-item=\"\(esc(item.rule.id))\"><strong>\(esc(t.text(item.rule.title)))</strong> — \(esc(t.preventionStatus(item.status))): \(esc(t.text(item.explanation)))</li>"
        }
        return h + "</ul>" + decidedHTML + actions + "</section>"
    }

    /// The clinician's panel (`/prevencion/panel`): every patient the clinician may see (at most
    /// 500) with open gaps; `?brecha=<item>` filters, `?orden=nombre|brechas|atraso` sorts,
    /// `?formato=csv` downloads the same rows.
    func preventionPanel(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        try requirePractitioner(s)
        let g = try await guarded(s, context)
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let rules = PreventionWiring.knowledge(services.configuration).rules
        let filter = q["brecha"].flatMap { f in rules.contains { $0.id == f } ? f : nil }
        let sort = ["nombre", "brechas", "atraso"].contains(q["orden"] ?? "") ? q["orden"]! : "atraso"
        var (query, _) = try SearchParser().parse(types: ["Patient"], parameters: [("_count", String(CareGaps.panelLimit)), ("_total", "none")])
        query.count = CareGaps.panelLimit
        let patients = try await g.search(query).matches.filter { !$0.deleted }
        var rows: [(id: String, name: String, gaps: [PreventionItem])] = []
        let records = try await RecordReader.read(g, patients: patients.map(\.id))
        let decisions = try await GapDecision.read(g, patients: patients.map(\.id))
        for p in patients {
            let json = try p.json()
            let (_, found) = try await preventionItems(g, patient: p.id, record: records[p.id])
            let decided = decisions[p.id] ?? [:]
            let open = (found ?? []).filter {
                $0.status.isOpen && (filter == nil || $0.rule.id == filter) && !(decided[$0.rule.id]?.applies(to: $0) ?? false)
            }
            if !open.isEmpty { rows.append((p.id, Portal.name(json), open)) }
        }
        func oldest(_ r: (id: String, name: String, gaps: [PreventionItem])) -> CivilDate { r.gaps.compactMap(\.dueDate).min() ?? .init(9999, 1, 1) }
        switch sort {
        case "nombre": rows.sort { ($0.name, $0.id) < ($1.name, $1.id) }
        case "brechas": rows.sort { ($1.gaps.count, $0.name) < ($0.gaps.count, $1.name) }
        default: rows.sort { (oldest($0), $0.name) < (oldest($1), $1.name) }
        }
        if q["formato"] == "csv" {
            var csv = "patient,name,gap,status,due_since\r\n"
            func field(_ v: String) -> String {
                var v = v
                if let f = v.first, "=+-@".contains(f) { v = "'" + v }  // no formulas in a spreadsheet
                return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            for r in rows {
                for gap in r.gaps {
                    csv += [r.id, r.name, gap.rule.id, gap.status.rawValue, gap.dueDate?.description ?? ""].map(field).joined(separator: ",") + "\r\n"
                }
            }
            var h = Portal.headers()
            h[.contentType] = "text/csv; charset=utf-8"
            h[HTTPField.Name("Content-Disposition")!] = "attachment; filename=\"brechas.csv\""
            return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        var body = "<p>\(esc(t.panelLead))</p>"
        body += "<form method=\"get\" action=\"/prevencion/panel\" class=\"card stack\"><label for=\"brecha\">\(esc(t.panelFilter))</label><select id=\"brecha\" name=\"brecha\"><option value=\"\">\(esc(t.panelAll))</option>"
        for r in rules { body += "<option value=\"\(esc(r.id))\"\(filter == r.id ? " selected" : "")>\(esc(t.text(r.title))) (\(esc(r.id)))</option>" }
        body += "</select><label for=\"orden\">\(esc(t.panelSort))</label><select id=\"orden\" name=\"orden\">"
        for (v, label) in [("atraso", t.panelSortOverdue), ("brechas", t.panelSortCount), ("nombre", t.panelSortName)] {
            body += "<option value=\"\(v)\"\(sort == v ? " selected" : "")>\(esc(label))</option>"
        }
        body += "</select><button type=\"submit\">\(esc(t.panelShow))</button></form>"
        var csvLink = "/prevencion/panel?formato=csv&orden=\(sort)"
        if let filter { csvLink += "&brecha=\(filter.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        body += "<p><a href=\"\(esc(csvLink))\" download>\(esc(t.panelCSV))</a> · \(esc(t.panelCount(rows.count)))</p>"
        if let sent = q["recordatorio"] { body += "<p class=\"notice\" role=\"status\">\(esc(t.reminderOutcome(sent)))</p>" }
        if rows.isEmpty {
            body += "<p>\(esc(t.panelNone))</p>"
        } else {
            body += "<form method=\"post\" action=\"/prevencion/recordatorios\" class=\"stack\"><input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
            body += "<ul class=\"patients\">"
            for r in rows {
                body += "<li class=\"entry\" data-patient=\"\(esc(r.id))\"><div class=\"what\"><h3><input type=\"checkbox\" id=\"p-\(esc(r.id))\" name=\"p-\(esc(r.id))\" value=\"1\" aria-label=\"\(esc(t.reminderChoose(r.name)))\"> <a href=\"/prevencion/paciente/\(esc(r.id))\">\(esc(r.name))</a></h3>"
                body += "<dl class=\"facts\"><div><dt>\(esc(t.panelGaps))</dt><dd>\(esc(r.gaps.map { "\(t.text($0.rule.title)) (\(t.preventionStatus($0.status)))" }.joined(separator: "; ")))</dd></div>"
                if let since = r.gaps.compactMap(\.dueDate).min() { body += "<div><dt>\(esc(t.panelOldest))</dt><dd>\(esc(t.date(since.description)))</dd></div>" }
                body += "</dl></div></li>"
            }
            body += "</ul><fieldset class=\"card stack\"><legend>\(esc(t.reminderTitle))</legend><p class=\"hint\">\(esc(t.reminderLead))</p>"
            body += mediumSelect(t, id: "medio") + "<button type=\"submit\">\(esc(t.reminderSendChecked))</button></fieldset></form>"
        }
        return html(.ok, layout(s, request, title: t.navPreventionPanel, body: body))
    }
}

extension Array where Element == String {
    func uniquedStrings() -> [String] {
        var seen: Set<String> = []
        return filter { seen.insert($0).inserted }
    }
}
