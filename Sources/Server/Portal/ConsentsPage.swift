import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension Portal {
    /// *Mis permisos* (`/permisos`): the patient's pending access requests (consent-request
    /// Tasks, docs/consent.md), each with Approve — optionally narrowed to a shorter time or
    /// fewer sensitive categories — and Deny; then their active Consents, each revocable with one
    /// button (status → inactive). Every read and write goes through the patient's guarded
    /// repository, so each change is audited with a Provenance.
    func consentsPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let message: String? = q["revocado"] == "1" ? t.revoked : q["aprobada"] == "1" ? t.approved : q["rechazada"] == "1" ? t.denied
            : q["respondida"] == "1" ? t.alreadyAnswered : nil
        guard s.isPatient, let id = s.ownPatient else { throw FHIRError(status: 403, code: "forbidden", english: "no patient", spanish: "sin paciente") }
        let g = try await guarded(s, context)
        var names: [String: String] = [:]
        var body = "<p>\(esc(t.consentsLead))</p>"
        if let message { body += "<p class=\"notice\" role=\"status\">\(esc(message))</p>" }

        // Pending access requests.
        let tasks = try await compartment(g, patient: id, types: ["Task"], limit: 100,
                                          extra: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.consentRequest)"),
                                                  ("status", "requested,received,ready")])
        body += "<section aria-labelledby=\"requests\"><h2 id=\"requests\">\(esc(t.requestsTitle))</h2>"
        let pending = tasks.compactMap { task in (try? PrivacyOperations.Request(task: task)).map { (task, $0) } }
            .sorted { ($0.0["authoredOn"]?.stringValue ?? "") > ($1.0["authoredOn"]?.stringValue ?? "") }
        if pending.isEmpty {
            body += "<p>\(esc(t.noRequests))</p>"
        } else {
            body += "<p class=\"hint\">\(esc(t.requestsLead))</p><ul class=\"cards\">"
            for (task, asked) in pending {
                body += try await requestCard(s, g, task: task, asked: asked, names: &names)
            }
            body += "</ul>"
        }
        body += "</section>"

        // Active permissions.
        let consents = try await compartment(g, patient: id, types: ["Consent"], limit: 200)
        let active = consents.filter { $0["status"]?.stringValue == "active" }
        body += "<section aria-labelledby=\"active\"><h2 id=\"active\">\(esc(t.activeConsents))</h2>"
        if active.isEmpty {
            body += "<p>\(esc(t.noConsents))</p>"
        } else {
            body += "<ul class=\"cards\">"
            for c in active {
                let cid = c["id"]?.stringValue ?? ""
                let title = c["category"]?.arrayValue?.first?["text"]?.stringValue ?? t.consentDefaultTitle
                let provision = c["provision"]
                var actors: [String] = []
                for a in provision?["actor"]?.arrayValue ?? [] { if let n = await displayName(g, a["reference"], &names) { actors.append(n) } }
                var orgs: [String] = []
                for o in c["organization"]?.arrayValue ?? [] { if let n = await displayName(g, o, &names) { orgs.append(n) } }
                let purposes = (provision?["purpose"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
                let labels = (provision?["securityLabel"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
                let period = provision?["period"]
                body += "<li class=\"card\" id=\"consent-\(esc(cid))\"><h3>\(esc(title))</h3><dl class=\"facts\">"
                if let scope = c["scope"]?["text"]?.stringValue { body += "<div><dt>\(esc(t.consentScope))</dt><dd>\(esc(scope))</dd></div>" }
                if !actors.isEmpty { body += "<div><dt>\(esc(t.consentWho))</dt><dd>\(esc(actors.joined(separator: ", ")))</dd></div>" }
                if !orgs.isEmpty { body += "<div><dt>\(esc(t.organization))</dt><dd>\(esc(orgs.joined(separator: ", ")))</dd></div>" }
                if !purposes.isEmpty { body += "<div><dt>\(esc(t.why))</dt><dd>\(esc(purposes.map { t.purposeName($0) }.joined(separator: ", ")))</dd></div>" }
                var what = labels.isEmpty ? t.generalRecord : t.generalRecordAnd(labels.map { t.categoryName($0) })
                let classes = (provision?["class"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
                if !classes.isEmpty { what += ". " + t.onlyTypes(classes.map(t.typeName)) }
                let dataPeriod = provision?["dataPeriod"]
                if dataPeriod != nil { what += ". " + t.dataBetween(dataPeriod?["start"]?.stringValue, dataPeriod?["end"]?.stringValue) }
                body += "<div><dt>\(esc(t.consentWhat))</dt><dd>\(esc(what))</dd></div>"
                if let start = period?["start"]?.stringValue ?? c["dateTime"]?.stringValue {
                    body += "<div><dt>\(esc(t.since))</dt><dd>\(esc(t.date(start)))</dd></div>"
                }
                if let end = period?["end"]?.stringValue { body += "<div><dt>\(esc(t.until))</dt><dd>\(esc(t.date(end)))</dd></div>" }
                body += "</dl><form method=\"post\" action=\"/permisos/revocar\">"
                body += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"consent\" value=\"\(esc(cid))\">"
                body += "<button type=\"submit\" class=\"danger\" data-confirm=\"\(esc(t.revokeConfirm))\">\(esc(t.revoke))</button></form></li>"
            }
            body += "</ul>"
        }
        body += "</section>"
        return html(.ok, layout(s, request, title: t.navConsents, body: body))
    }

    /// One pending request: who asks (and for which organization), why, what, for how long,
    /// and the Approve (with optional narrowing) and Deny forms.
    func requestCard(_ s: Session, _ g: GuardedRepository, task: JSON, asked: PrivacyOperations.Request,
                     names: inout [String: String]) async throws -> String {
        let t = s.strings
        let tid = task["id"]?.stringValue ?? ""
        let who = await displayName(g, task["requester"], &names) ?? asked.requester
        var org: String? = nil
        if asked.requester.hasPrefix("Organization/") {
            org = nil  // the requester is the organization itself
        } else if asked.requester.hasPrefix("Practitioner/") {
            var options = SearchParser.Options()
            options.maxCount = 5
            let (query, _) = try SearchParser(options: options).parse(types: ["PractitionerRole"],
                                                                      parameters: [("practitioner", asked.requester), ("_count", "5"), ("_total", "none")])
            for role in try await g.search(query).matches where !role.deleted {
                if let n = await displayName(g, try role.json()["organization"], &names) { org = n; break }
            }
        }
        let now = services.clock.now()
        let seconds: Int64
        if let end = asked.end { seconds = max(0, (end.microseconds - now.microseconds) / 1_000_000) }
        else { seconds = asked.durationSeconds ?? services.configuration.privacy.defaultGrantSeconds }
        let days = max(1, Int((seconds + 86_399) / 86_400))
        let approxEnd = Timestamp(microseconds: now.microseconds + seconds * 1_000_000)
        let how = asked.end.map { t.grantUntil(t.date($0.description)) } ?? t.grantFor(t.days(days), t.date(approxEnd.description))
        let reason = task["reasonCode"]?["text"]?.stringValue ?? task["description"]?.stringValue
        var what = asked.categories.isEmpty ? t.generalRecord : t.generalRecordAnd(asked.categories.map { t.categoryName($0) })
        if !asked.classes.isEmpty { what += ". " + t.onlyTypes(asked.classes.map(t.typeName)) }
        if asked.dataStart != nil || asked.dataEnd != nil { what += ". " + t.dataBetween(asked.dataStart, asked.dataEnd) }

        var card = "<li class=\"card request\" id=\"request-\(esc(tid))\"><h3><span class=\"hint\">\(esc(t.requestedBy)):</span> \(esc(who))</h3><dl class=\"facts\">"
        if let org { card += "<div><dt>\(esc(t.organization))</dt><dd>\(esc(org))</dd></div>" }
        card += "<div><dt>\(esc(t.why))</dt><dd>\(esc(asked.purposes.map { t.purposeName($0) }.joined(separator: ", ")))</dd></div>"
        if let reason { card += "<div><dt>\(esc(t.reason))</dt><dd>\(esc(reason))</dd></div>" }
        card += "<div><dt>\(esc(t.consentWhat))</dt><dd>\(esc(what))</dd></div>"
        card += "<div><dt>\(esc(t.howLong))</dt><dd>\(esc(how))</dd></div>"
        if let on = task["authoredOn"]?.stringValue { card += "<div><dt>\(esc(t.requestedOn))</dt><dd>\(esc(t.date(on)))</dd></div>" }
        card += "</dl>"
        // Approve, optionally with less: a shorter duration, fewer sensitive categories.
        card += "<form method=\"post\" action=\"/permisos/solicitudes/aprobar\" class=\"answer\">"
        card += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"solicitud\" value=\"\(esc(tid))\">"
        let shorter = [180, 90, 30, 7, 1].filter { $0 < days }
        if !shorter.isEmpty || !asked.categories.isEmpty {
            card += "<details class=\"narrowing\"><summary>\(esc(t.narrowTitle))</summary>"
            if !shorter.isEmpty {
                card += "<label for=\"dias-\(esc(tid))\">\(esc(t.durationChoice))</label><select id=\"dias-\(esc(tid))\" name=\"dias\">"
                card += "<option value=\"\" selected>\(esc(t.asRequested(t.days(days))))</option>"
                for d in shorter { card += "<option value=\"\(d)\">\(esc(t.days(d)))</option>" }
                card += "</select>"
            }
            if !asked.categories.isEmpty {
                card += "<fieldset><legend>\(esc(t.categoriesChoice))</legend><input type=\"hidden\" name=\"categorias\" value=\"1\">"
                for c in asked.categories where Repository.isValidID(c) {
                    card += "<label class=\"check\"><input type=\"checkbox\" name=\"categoria-\(esc(c))\" value=\"1\" checked> \(esc(t.categoryName(c)))</label>"
                }
                card += "</fieldset>"
            }
            card += "</details>"
        }
        card += "<button type=\"submit\">\(esc(t.approve))</button></form>"
        card += "<form method=\"post\" action=\"/permisos/solicitudes/rechazar\" class=\"answer\">"
        card += "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\"><input type=\"hidden\" name=\"solicitud\" value=\"\(esc(tid))\">"
        card += "<button type=\"submit\" class=\"danger\" data-confirm=\"\(esc(t.denyConfirm))\">\(esc(t.deny))</button></form></li>"
        return card
    }

    /// The name of a Practitioner, PractitionerRole or Organization reference (its `display`, or
    /// the resource read through the guarded repository), cached per page.
    func displayName(_ g: GuardedRepository, _ ref: JSON?, _ names: inout [String: String]) async -> String? {
        guard let ref else { return nil }
        if let d = ref["display"]?.stringValue { return d }
        guard let r = ref["reference"]?.stringValue ?? ref.stringValue else { return nil }
        if let n = names[r] { return n }
        let parts = r.split(separator: "/")
        guard parts.count == 2, ["Practitioner", "Organization", "PractitionerRole"].contains(String(parts[0])),
              let stored = try? await g.read(String(parts[0]), String(parts[1])), let json = try? stored.json() else { return r }
        let n = json["name"]?.stringValue ?? Portal.name(json)
        names[r] = n
        return n
    }

    /// `POST /permisos/revocar`: sets one of the patient's Consents to `inactive`.
    func revokeConsent(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navConsents, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard s.isPatient, let id = form["consent"], Repository.isValidID(id) else { throw FHIRError.notFound("Consent", form["consent"] ?? "") }
        let g = try await guarded(s, context)
        let current = try await g.read("Consent", id)
        let json = try current.json()
        if json["status"]?.stringValue == "active" {
            _ = try await g.update("Consent", id, json.setting("status", .string("inactive")), ifMatch: current.version)
        }
        return Portal.redirect("/permisos?revocado=1")
    }

    /// `POST /permisos/solicitudes/aprobar` and `…/rechazar`: the patient answers a consent
    /// request. The form is only translated into the operation's parameters (`dias` → an earlier
    /// `end`, the ticked `categoria-*` → the categories kept); `PrivacyOperations.approve` /
    /// `deny` — the functions behind `Task/[id]/$approve` and `$deny` — check that the signed-in
    /// person may answer, that the request is still open, and write the Consent and the Task
    /// through the patient's guarded repository.
    func answerRequest(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, approve: Bool) async throws -> Response {
        let t = s.strings
        let form = try await OAuthEndpoints.readForm(request) ?? [:]
        guard let sent = form["csrf"], constantTimeEqual(sent, s.csrf) else {
            return html(.forbidden, layout(s, request, title: t.navConsents, body: "<p class=\"error\" role=\"alert\">\(esc(t.formExpired))</p>"))
        }
        guard let id = form["solicitud"], Repository.isValidID(id) else { throw FHIRError.notFound("Task", form["solicitud"] ?? "") }
        context.audit?.interaction = approve ? "$approve" : "$deny"
        let g = try await guarded(s, context)
        let operations = PrivacyOperations(policy: services.configuration.privacy)
        let now = services.clock.now()
        do {
            if approve {
                var narrowing = PrivacyOperations.Narrowing(parameters: nil)
                if let d = form["dias"].flatMap({ Int64($0) }), d > 0, d <= 36_500 {
                    narrowing.end = Timestamp(microseconds: now.microseconds + d * 86_400 * 1_000_000)
                }
                if form["categorias"] == "1" {
                    narrowing.categories = form.filter { $0.key.hasPrefix("categoria-") && $0.value == "1" }.map { String($0.key.dropFirst(10)) }.sorted()
                }
                _ = try await operations.approve(taskID: id, narrowing: narrowing, guarded: g, now: now)
            } else {
                _ = try await operations.deny(taskID: id, guarded: g, now: now)
            }
        } catch let e as FHIRError where e.status == 409 {
            return Portal.redirect("/permisos?respondida=1")
        } catch let e as FHIRError where e.status == 400 {
            return refusal(s, request)
        }
        return Portal.redirect(approve ? "/permisos?aprobada=1" : "/permisos?rechazada=1")
    }
}
