import Care
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// One entry of a patient's timeline, whatever its FHIR type.
struct TimelineItem: Sendable {
    var date: String
    var type: String
    var title: String
    var details: [String]
    var source: String?
    var flagged: Bool = false
    var reference: String
    /// A link offered on the entry (e.g. *Corregir nota* for the author of a consultation note).
    var action: (href: String, label: String)? = nil
    /// What re-verifying its signature found, as HTML (`signatureText`): a consultation note.
    var signature: String? = nil
}

extension Portal {
    /// The types a timeline shows, in the patient's compartment.
    static let timelineTypes = ["Encounter", "Condition", "Observation", "DiagnosticReport", "MedicationRequest", "MedicationStatement",
                                "Immunization", "Procedure", "DocumentReference", "AllergyIntolerance", "CarePlan", "Composition"]

    /// Every resource of `types` in the patient's compartment that the principal may see (through
    /// the guarded repository), newest first by clinical date; paged up to `limit`.
    func compartment(_ g: GuardedRepository, patient: String, types: [String], limit: Int = 2000,
                     extra: [(String, String)] = []) async throws -> [JSON] {
        var options = SearchParser.Options()
        options.maxCount = 500
        var (query, _) = try SearchParser(options: options).parse(types: types, parameters: [("_count", "500"), ("_total", "none")] + extra,
                                                                  compartment: patient)
        var out: [JSON] = []
        while out.count < limit {
            let page = try await g.search(query)
            for r in page.matches where !r.deleted { out.append(try r.json()) }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }

    /// How many resources one round of a timeline page reads (`window`); a page reads more
    /// rounds, up to `timelineRounds`, while a device series collapses them to fewer entries.
    static let timelineWindow = 150
    static let timelineRounds = 2
    /// How many Provenance a page of *Decisiones* shows.
    static let decisionsWindow = 100
    /// How many entries a section of `/resumen` lists at most (results: how many it reads to find the latest 15 kinds).
    static let summaryWindow = 25
    static let summaryResults = 100

    /// One page of a newest-first window over the patient's compartment (what the principal may
    /// see, through the guarded repository): at most `count` resources per round, ordered by
    /// `sort`, from `cursor` (a `SearchCursorCodec` text from the previous page's *Ver más* link).
    /// Reads further rounds while `enough` says the page is still short, up to `rounds`. A page's
    /// cost is bounded by `count × rounds`, however long the record; `next` is the cursor of the
    /// next page, nil at the end — so every entry is reached, page after page.
    func window(_ g: GuardedRepository, patient: String, types: [String], sort: SortKey = .byClinicalDate(descending: true),
                count: Int, cursor: String?, rounds: Int = 1, extra: [(String, String)] = [],
                enough: ([JSON]) -> Bool = { _ in true }) async throws -> (resources: [JSON], next: String?) {
        var options = SearchParser.Options()
        options.maxCount = max(count, 1)
        var (query, _) = try SearchParser(options: options).parse(types: types, parameters: [("_count", String(count)), ("_total", "none")] + extra,
                                                                  compartment: patient)
        query.sort = [sort]
        query.cursor = try cursor.map { try SearchCursorCodec.decode($0) }
        var out: [JSON] = []
        for _ in 0..<max(rounds, 1) {
            let page = try await g.search(query)
            for r in page.matches where !r.deleted { out.append(try r.json()) }
            guard page.hasMore, let last = page.matches.last else { return (out, nil) }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
            if enough(out) { break }
        }
        return (out, query.cursor.map(SearchCursorCodec.encode))
    }

    /// The *Ver más* link to a window's next page (and, on a later page, back to the first).
    func windowLinks(_ base: String, _ parameters: [String], next: String?, later: Bool, _ t: PortalStrings) -> String {
        guard next != nil || later else { return "" }
        let query = parameters.joined(separator: "&")
        var html = "<nav class=\"pages\" aria-label=\"\(esc(t.pagesLabel))\"><ul>"
        if later { html += "<li><a href=\"\(esc(query.isEmpty ? base : base + "?" + query))\">\(esc(t.newestFirst))</a></li>" }
        if let next {
            html += "<li><a class=\"more\" rel=\"next\" href=\"\(esc(base + "?" + (parameters + ["desde=\(next)"]).joined(separator: "&")))\">\(esc(t.showMore))</a></li>"
        }
        return html + "</ul></nav>"
    }

    static func text(_ concept: JSON?) -> String? {
        guard let c = concept else { return nil }
        if let t = c["text"]?.stringValue { return t }
        if let coding = c["coding"]?.arrayValue?.first {
            let display = coding["display"]?.stringValue
            let code = coding["code"]?.stringValue
            if let display, let code { return "\(display) (\(code))" }
            return display ?? code
        }
        return nil
    }

    static func refText(_ ref: JSON?) -> String? {
        guard let r = ref else { return nil }
        return r["display"]?.stringValue ?? r["reference"]?.stringValue
    }

    static func quantity(_ q: JSON?) -> String? {
        guard let q, let v = q["value"] else { return nil }
        let value: String
        if case .number(let n) = v { value = n } else { value = v.stringValue ?? "" }
        return [value, q["unit"]?.stringValue ?? q["code"]?.stringValue ?? ""].joined(separator: " ").trimmingCharacters(in: .whitespaces)
    }

    static func number(_ j: JSON?) -> Double? {
        guard let j else { return nil }
        if case .number(let n) = j { return Double(n) }
        return nil
    }

    /// The clinical date of a resource (not when it was stored), as FHIR text.
    static func clinicalDate(_ r: JSON) -> String {
        for key in ["effectiveDateTime", "occurrenceDateTime", "performedDateTime", "onsetDateTime", "recordedDate", "authoredOn",
                    "date", "issued", "dateAsserted", "created"] {
            if let d = r[key]?.stringValue { return d }
        }
        for key in ["period", "effectivePeriod", "performedPeriod"] {
            if let d = r[key]?["start"]?.stringValue { return d }
        }
        return r["meta"]?["lastUpdated"]?.stringValue ?? ""
    }

    /// Where an entry came from: the organization or person responsible and `meta.source`.
    static func provenance(_ r: JSON) -> String? {
        var parts: [String] = []
        let who: [JSON?] = [r["serviceProvider"], r["performer"]?.arrayValue?.first.flatMap { $0["actor"] ?? $0 }, r["recorder"],
                            r["asserter"], r["requester"], r["custodian"], r["author"]?.arrayValue?.first, r["informationSource"]]
        for w in who {
            if let t = refText(w), !parts.contains(t) { parts.append(t) }
            if parts.count >= 2 { break }
        }
        if let s = r["meta"]?["source"]?.stringValue { parts.append(s) }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }

    func item(_ r: JSON, _ t: PortalStrings) -> TimelineItem {
        let type = r["resourceType"]?.stringValue ?? ""
        let ref = "\(type)/\(r["id"]?.stringValue ?? "")"
        var item = TimelineItem(date: Portal.clinicalDate(r), type: t.typeName(type), title: "", details: [], source: Portal.provenance(r), reference: ref)
        switch type {
        case "Encounter":
            item.title = t.concept(r["type"]?.arrayValue?.first) ?? t.concept(r["reasonCode"]?.arrayValue?.first) ?? t.typeName(type)
            if let reason = t.concept(r["reasonCode"]?.arrayValue?.first) { item.details.append(t.reason + ": " + reason) }
        case "Condition":
            item.title = t.concept(r["code"]) ?? t.typeName(type)
            if let s = t.concept(r["clinicalStatus"]) { item.details.append(t.status + ": " + s) }
        case "Observation":
            item.title = t.concept(r["code"]) ?? t.typeName(type)
            if let v = Portal.quantity(r["valueQuantity"]) ?? r["valueString"]?.stringValue ?? t.concept(r["valueCodeableConcept"]) {
                item.details.append(t.value + ": " + v)
            }
            if let range = r["referenceRange"]?.arrayValue?.first {
                let low = Portal.quantity(range["low"]), high = Portal.quantity(range["high"])
                let text = range["text"]?.stringValue ?? [low.map { "≥ \($0)" }, high.map { "≤ \($0)" }].compactMap { $0 }.joined(separator: ", ")
                if !text.isEmpty { item.details.append(t.referenceRange + ": " + text) }
                if let v = Portal.number(r["valueQuantity"]?["value"]) {
                    if let l = Portal.number(range["low"]?["value"]), v < l { item.flagged = true }
                    if let h = Portal.number(range["high"]?["value"]), v > h { item.flagged = true }
                }
            }
            if let code = r["interpretation"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue, ["H", "L", "HH", "LL", "A"].contains(code) {
                item.flagged = true
            }
        case "MedicationRequest", "MedicationStatement":
            item.title = t.concept(r["medicationCodeableConcept"]) ?? Portal.refText(r["medicationReference"]) ?? t.typeName(type)
            if let d = r["dosageInstruction"]?.arrayValue?.first?["text"]?.stringValue ?? r["dosage"]?.arrayValue?.first?["text"]?.stringValue {
                item.details.append(d)
            }
        case "Immunization":
            item.title = t.concept(r["vaccineCode"]) ?? t.typeName(type)
            if let dose = r["protocolApplied"]?.arrayValue?.first?["doseNumberPositiveInt"].flatMap({ Portal.number($0) }) {
                item.details.append(t.dose + " \(Int(dose))")
            }
        case "AllergyIntolerance":
            item.title = t.concept(r["code"]) ?? t.typeName(type)
            if let s = t.concept(r["clinicalStatus"]) { item.details.append(t.status + ": " + s) }
            if let c = r["criticality"]?.stringValue { item.details.append(t.statusName(c)) }
        case "DocumentReference":
            item.title = r["description"]?.stringValue ?? t.concept(r["type"]) ?? t.typeName(type)
        case "Composition":
            // a consultation note (docs/care.md#the-consultation): its sections as text
            item.title = r["title"]?.stringValue ?? t.concept(r["type"]) ?? t.typeName(type)
            for section in r["section"]?.arrayValue ?? [] {
                guard let div = section["text"]?["div"]?.stringValue else { continue }
                let text = Consultation.plainText(div).replacingOccurrences(of: "\n", with: " ")
                item.details.append((section["title"]?.stringValue ?? "") + ": " + (text.count > 300 ? String(text.prefix(300)) + "…" : text))
            }
            if r["status"]?.stringValue == "amended" { item.details.append(t.amendedNote) }
        default:
            item.title = t.concept(r["code"]) ?? t.concept(r["type"]?.arrayValue?.first) ?? r["description"]?.stringValue
                ?? r["title"]?.stringValue ?? t.typeName(type)
        }
        if let status = r["status"]?.stringValue, type != "Observation" { item.details.append(t.status + ": " + t.statusName(status)) }
        return item
    }

    /// Device series (a smartwatch's daily steps, heart rate…: Observations of category
    /// `activity`) become one timeline entry per code — the latest reading and the span — so they
    /// do not bury the visits and results.
    func collapseSeries(_ resources: [JSON], _ t: PortalStrings) -> [TimelineItem] {
        var out: [TimelineItem] = []
        var series: [String: [JSON]] = [:]
        for r in resources {
            let category = r["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue
            if r["resourceType"]?.stringValue == "Observation", category == "activity" {
                let code = r["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? Portal.text(r["code"]) ?? ""
                series[code, default: []].append(r)
            } else {
                out.append(item(r, t))
            }
        }
        for (_, readings) in series {
            let sorted = readings.sorted { Portal.clinicalDate($0) > Portal.clinicalDate($1) }
            guard let latest = sorted.first else { continue }
            var entry = item(latest, t)
            if sorted.count > 1 {
                entry.details.append(t.series(sorted.count, t.date(Portal.clinicalDate(sorted.last!)), t.date(Portal.clinicalDate(latest))))
            }
            out.append(entry)
        }
        return out
    }

    func patientCard(_ p: JSON, _ t: PortalStrings) -> String {
        let name = Portal.name(p)
        let curp = p["identifier"]?.arrayValue?.first { ($0["system"]?.stringValue ?? "").lowercased().contains("curp") }?["value"]?.stringValue
        var rows: [(String, String)] = []
        rows.append((t.curp, curp ?? "—"))
        rows.append((t.birthDate, p["birthDate"]?.stringValue ?? "—"))
        rows.append((t.sex, t.gender(p["gender"]?.stringValue)))
        if let phone = p["telecom"]?.arrayValue?.first?["value"]?.stringValue { rows.append((t.phone, phone)) }
        if let a = p["address"]?.arrayValue?.first {
            let line = ([a["city"]?.stringValue, a["state"]?.stringValue].compactMap { $0 }).joined(separator: ", ")
            if !line.isEmpty { rows.append((t.address, line)) }
        }
        var html = "<section class=\"card\" aria-labelledby=\"patient-name\"><h2 id=\"patient-name\">\(esc(name))</h2><dl class=\"facts\">"
        for (k, v) in rows { html += "<div><dt>\(esc(k))</dt><dd\(k == t.curp ? " class=\"mono\"" : "")>\(esc(v))</dd></div>" }
        return html + "</dl></section>"
    }

    static func name(_ p: JSON) -> String {
        guard p["name"]?.arrayValue?.first != nil else { return "—" }
        return HumanNameText.display(p, withPrefix: false) ?? ""
    }

    func timelineHTML(_ items: [TimelineItem], _ t: PortalStrings) -> String {
        guard !items.isEmpty else { return "<p>\(esc(t.emptyTimeline))</p>" }
        var html = "<ol class=\"timeline\">"
        for i in items {
            html += "<li class=\"entry\(i.flagged ? " flagged" : "")\"><div class=\"when\"><time datetime=\"\(esc(i.date))\">\(esc(t.date(i.date)))</time>"
            html += "<span class=\"kind\">\(esc(i.type))</span></div><div class=\"what\"><h3>\(esc(i.title))</h3>"
            if i.flagged { html += "<p class=\"badge warn\">\(esc(t.outOfRange))</p>" }
            for d in i.details { html += "<p>\(esc(d))</p>" }
            if let sig = i.signature { html += "<p class=\"firma\"><span class=\"label\">\(esc(t.signatureLabel)):</span> \(sig)</p>" }
            if let s = i.source { html += "<p class=\"source\"><span class=\"label\">\(esc(t.source)):</span> \(esc(s))</p>" }
            if let a = i.action { html += "<p><a class=\"action\" href=\"\(esc(a.href))\">\(esc(a.label))</a></p>" }
            html += "</div></li>"
        }
        return html + "</ol>"
    }

    /// *Mi expediente* (`/expediente`) for a patient, and a patient's summary and timeline for a
    /// clinician (`/pacientes/{id}`): the Patient and the timeline, read through the guarded
    /// repository (a patient the clinician may not see is refused like a missing one).
    func recordPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String?) async throws -> Response {
        let t = s.strings
        guard let id = patientID ?? s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", id).json()
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let filter = q["tipo"].flatMap { Portal.timelineTypes.contains($0) ? $0 : nil }
        // a bounded window, newest first (docs/portal.md, "Long records"): *Ver más* reads the next
        let from = q["desde"].flatMap { $0.isEmpty ? nil : $0 }
        let (resources, next) = try await window(g, patient: id, types: filter.map { [$0] } ?? Portal.timelineTypes,
                                                 count: Portal.timelineWindow, cursor: from, rounds: Portal.timelineRounds) {
            collapseSeries($0, t).count >= Portal.timelineWindow / 2
        }
        var items = collapseSeries(resources, t).sorted { $0.date > $1.date }
        // a consultation note's signature is verified again each time it is shown (ConsultationSignature.verdict)
        for r in resources where r["resourceType"]?.stringValue == "Composition" && Consultation.isNote(r) {
            let reference = "Composition/\(r["id"]?.stringValue ?? "")"
            guard let i = items.firstIndex(where: { $0.reference == reference }) else { continue }
            items[i].signature = signatureText(await ConsultationSignature.verdict(r, repository: g), t)
        }
        var body = ""
        let me = s.principal.effectiveRole == .practitioner ? s.principal.fhirUser : nil
        if patientID != nil, let me {
            // the author of a consultation note may correct it (a new version with its reason)
            let authored = Set(resources.filter { r in
                r["resourceType"]?.stringValue == "Composition" && Consultation.isNote(r)
                    && (r["author"]?.arrayValue ?? []).contains { $0["reference"]?.stringValue == me }
            }.compactMap { $0["id"]?.stringValue })
            for i in items.indices where items[i].reference.hasPrefix("Composition/") && authored.contains(String(items[i].reference.dropFirst(12))) {
                items[i].action = ("/pacientes/\(id)/consulta/\(items[i].reference.dropFirst(12))/corregir", t.correctNote)
            }
            if q["consulta"] == "registrada" { body += "<p class=\"notice\" role=\"status\">\(esc(t.visitRecorded))</p>" }
            if q["nota"] == "corregida" { body += "<p class=\"notice\" role=\"status\">\(esc(t.noteCorrected))</p>" }
        }
        if patientID != nil, q["emergencia"] == "1", let me = s.principal.fhirUser {
            // the clinician just broke the glass: say until when, and that it is recorded and reviewed
            let grants = try await compartment(g, patient: id, types: ["Task"], limit: 50,
                                               extra: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.breakTheGlassReview)"), ("requester", me)])
            if let until = grants.compactMap({ $0["executionPeriod"]?["end"]?.stringValue }).max() {
                body += "<p class=\"notice emergency\" role=\"status\">\(esc(t.btgActive(t.dateTime(until))))</p>"
            }
        }
        body += patientCard(patient, t)
        if patientID != nil, me != nil {
            body += "<p class=\"actions\"><a class=\"button\" id=\"registrar-consulta\" href=\"/pacientes/\(esc(id))/consulta\">\(esc(t.recordVisit))</a>"
                + " <a class=\"button\" id=\"recetar\" href=\"/pacientes/\(esc(id))/recetar\">\(esc(t.prescribe))</a>"
                + " <a class=\"button\" id=\"referir\" href=\"/pacientes/\(esc(id))/referir\">\(esc(t.refer))</a></p>"
        }
        if patientID != nil { body += try await preventionSummaryCard(g, patient: id, t) }  // Portal/PreventionPage.swift
        let base = patientID == nil ? "/expediente" : "/pacientes/\(id)"
        body += "<section aria-labelledby=\"tl\"><h2 id=\"tl\">\(esc(t.timeline))</h2>"
        body += "<nav aria-label=\"\(esc(t.filterLabel))\" class=\"filters\"><ul>"
        body += "<li><a href=\"\(base)\"\(filter == nil ? " aria-current=\"true\"" : "")>\(esc(t.all))</a></li>"
        for type in Portal.timelineTypes where type != "CarePlan" && type != "MedicationStatement" {
            body += "<li><a href=\"\(base)?tipo=\(type)\"\(filter == type ? " aria-current=\"true\"" : "")>\(esc(t.typeName(type)))</a></li>"
        }
        body += "</ul></nav>"
        body += "<p class=\"hint\">\(esc(next == nil && from == nil ? t.timelineCount(items.count) : t.timelineWindow(items.count)))</p>"
        body += timelineHTML(items, t)
        body += windowLinks(base, filter.map { ["tipo=\($0)"] } ?? [], next: next, later: from != nil, t) + "</section>"
        if patientID == nil {
            body += "<section class=\"card\"><h2>\(esc(t.yourRights))</h2><ul class=\"actions\">"
            body += "<li><a href=\"/descargar\" download>\(esc(t.downloadRecord))</a></li><li><a href=\"/resumen\">\(esc(t.printableSummary))</a></li></ul></section>"
        }
        let title = patientID == nil ? t.navRecord : Portal.name(patient)
        return html(.ok, layout(s, request, title: title, body: body))
    }

    /// `/resumen`: a printable one-page summary of the record (print styles in portal.css).
    func summaryPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, patientID: String?) async throws -> Response {
        let t = s.strings
        guard let id = patientID ?? s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        let patient = try await g.read("Patient", id).json()
        var body = "<p class=\"no-print\"><button type=\"button\" data-action=\"print\">\(esc(t.print))</button></p>"
        body += patientCard(patient, t)
        let groups: [(String, String)] = [("Condition", t.conditions), ("MedicationRequest", t.medications), ("AllergyIntolerance", t.allergies),
                                           ("Immunization", t.immunizations), ("Observation", t.latestResults)]
        let base = patientID == nil ? "/expediente" : "/pacientes/\(id)"
        for (type, heading) in groups {
            // each section a bounded, newest-first window; the rest is on *Mi expediente*, paged
            let (resources, next) = try await window(g, patient: id, types: [type], count: type == "Observation" ? Portal.summaryResults : Portal.summaryWindow,
                                                     cursor: nil)
            var items = resources.map { item($0, t) }.sorted { $0.date > $1.date }
            var more = next != nil
            if type == "Observation" {
                var seen = Set<String>()
                items = items.filter { seen.insert($0.title).inserted && !$0.title.isEmpty }
                more = more || items.count > 15
                items = Array(items.prefix(15))
            }
            body += "<section class=\"card\"><h2>\(esc(heading))</h2>"
            if items.isEmpty { body += "<p>—</p>" } else {
                body += "<ul class=\"summary\">"
                for i in items {
                    body += "<li><strong>\(esc(i.title))</strong> <span class=\"hint\">\(esc(t.date(i.date)))</span>"
                    if !i.details.isEmpty { body += " — \(esc(i.details.joined(separator: "; ")))" }
                    if i.flagged { body += " <span class=\"badge warn\">\(esc(t.outOfRange))</span>" }
                    body += "</li>"
                }
                body += "</ul>"
            }
            if more { body += "<p class=\"no-print\"><a class=\"more\" href=\"\(esc(base))?tipo=\(type)\">\(esc(t.seeAllInRecord))</a></p>" }
            body += "</section>"
        }
        body += "<p class=\"hint\">\(esc(t.summaryGenerated(services.clock.now().description)))</p>"
        return html(.ok, layout(s, request, title: t.summaryTitle, body: body))
    }

    /// `/descargar`: the whole record as a FHIR JSON Bundle (what `Patient/[id]/$everything`
    /// returns: the compartment and the shared resources it refers to) — the ARCO right of access.
    func download(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        guard let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        context.audit?.interaction = "operation"
        let patient = try await g.read("Patient", id)
        let types = Definitions.r4.patientCompartment.filter { !$0.value.isEmpty }.keys.sorted()
        var options = SearchParser.Options()
        options.maxCount = 500
        var (query, _) = try SearchParser(options: options).parse(types: types, parameters: [("_count", "500"), ("_total", "none"), ("_include", "*")],
                                                                  compartment: id)
        query.includeTypes = Set(Definitions.r4.resourceTypes.filter { Definitions.r4.patientCompartment[$0]?.isEmpty ?? true }).subtracting(["Patient"])
        var seen = Set<String>(["Patient/\(id)"])
        var entries: [JSON] = [entry(patient)]
        for _ in 0..<200 {
            let page = try await g.search(query)
            for r in page.matches + page.included where !r.deleted && seen.insert("\(r.type)/\(r.id)").inserted {
                entries.append(entry(r))
            }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("searchset")),
                                  ("timestamp", .string(services.clock.now().description)),
                                  ("total", .number(String(entries.count))), ("entry", .array(entries))])
        var h: HTTPFields = [.contentType: "application/fhir+json; charset=utf-8", .cacheControl: "no-store"]
        h[HTTPField.Name("Content-Disposition")!] = "attachment; filename=\"expediente-\(id).json\""
        h[.xContentTypeOptions] = "nosniff"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bundle.prettySerialized())))
    }

    func entry(_ r: StoredResource) -> JSON {
        .object([("fullUrl", .string("\(services.configuration.fhirBase)/\(r.type)/\(r.id)")), ("resource", (try? r.json()) ?? .null)])
    }
}
