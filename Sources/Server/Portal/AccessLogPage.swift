import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// One row of *¿Quién vio mis datos?*.
struct AccessEntry: Sendable {
    var index: Int64
    var recorded: String
    var who: String
    var role: String?
    var organization: String?
    var what: String
    var purpose: String?
    var policies: [String]
    var breakTheGlass: Bool
    var refused: Bool
    var verified: Bool?
}

extension Portal {
    /// *¿Quién vio mis datos?* (`/accesos`): the patient's entries of the audit ledger — who, for
    /// which organization, when, what, why (purposeOfEvent) and under which rule or Consent
    /// (agent.policy) — with break-the-glass highlighted. Each shown entry's inclusion proof is
    /// checked here, on the server, against the latest signed tree head (whose signature is
    /// checked with the server key); a verified entry gets the "verificado" mark.
    func accessLogPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard s.isPatient, let patient = s.ownPatient else {
            throw FHIRError(status: 403, code: "forbidden", english: "only the patient reads their access log here", spanish: "solo el paciente ve aquí su bitácora")
        }
        let log = try services.door.auditLog(for: s.principal, audit: context.audit)
        context.audit?.concerns(patient)
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let showOwn = q["propios"] == "1"
        let ledger = services.ledger
        var records: [AuditRecord] = []
        var ownCount = 0
        // the newest 1,000 entries at most, read 200 at a time, until 100 are shown
        var before: Int64? = nil
        pages: for _ in 0..<5 {
            let page = try await log.entries(patient: patient, before: before, limit: 200)
            for r in page.records {
                let event = (try? JSONParser.parse(r.bytes)) ?? .null
                let subject = event["agent"]?.arrayValue?.first?["who"]?["identifier"]?["value"]?.stringValue
                if subject == s.principal.subject && !showOwn { ownCount += 1; continue }
                records.append(r)
                if records.count >= 100 { break pages }
            }
            guard page.more, let last = page.records.last else { break }
            before = last.index
        }
        // The latest signed tree head (signed now if entries arrived since), its signature checked.
        _ = try await ledger.signTreeHead()
        let head = try await ledger.latestTreeHead()
        let headOK = head.map { AuditLedger.verifySignature($0, publicKey: services.key.privateKey.publicKey) } ?? false
        let g = try await guarded(s, context)
        var names: [String: String] = [:]
        func display(_ ref: String?) async -> String? {
            guard let ref else { return nil }
            if let n = names[ref] { return n }
            let parts = ref.split(separator: "/")
            guard parts.count == 2, ["Practitioner", "Organization", "PractitionerRole"].contains(String(parts[0])),
                  let r = try? await g.read(String(parts[0]), String(parts[1])), let json = try? r.json() else { return ref }
            let n = json["name"]?.stringValue ?? Portal.name(json)
            names[ref] = n
            return n
        }
        // what the entries name, checked at once (one read of the store, not one per entity)
        let events = records.map { (try? JSONParser.parse($0.bytes)) ?? .null }
        var named = Set<String>()
        for event in events {
            for e in event["entity"]?.arrayValue ?? [] {
                if let ref = e["what"]?["reference"]?.stringValue, !ref.hasPrefix("Patient/") || ref.contains("_history") { named.insert(ref) }
            }
        }
        let seen = try await g.visibleReferences(named)
        var proofs: [Int64: [[UInt8]]] = [:]
        if let head, headOK {
            let indexes = records.map(\.index).filter { $0 < head.treeSize }
            for (i, proof) in zip(indexes, try await ledger.inclusionProofs(indexes: indexes.map { Int($0) }, treeSize: Int(head.treeSize))) {
                proofs[i] = proof
            }
        }
        var entries: [AccessEntry] = []
        for (r, event) in zip(records, events) {
            let agent = event["agent"]?.arrayValue?.first
            let whoRef = agent?["who"]?["reference"]?.stringValue
            let subject = agent?["who"]?["identifier"]?["value"]?.stringValue ?? agent?["who"]?["display"]?.stringValue ?? "?"
            let role = agent?["role"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue
            let org = await display(agent?["location"]?["reference"]?.stringValue)
            var who = subject
            if whoRef != nil && whoRef == s.principal.fhirUser {
                who = t.you
            } else if let name = await display(whoRef) {
                who = name
            } else if let org, role != "operator" {
                who = org
            } else if role == "operator" {
                who = t.roleName("operator")
            }
            let purpose = event["purposeOfEvent"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue
            let policies = agent?["policy"]?.arrayValue?.compactMap { $0.stringValue } ?? []
            var types: [String: Int] = [:]
            for e in event["entity"]?.arrayValue ?? [] {
                if let ref = e["what"]?["reference"]?.stringValue, seen.contains(ref) {
                    types[String(ref.split(separator: "/").first ?? ""), default: 0] += 1
                }
            }
            var what = types.sorted { $0.key < $1.key }.map { "\(t.typeName($0.key)) ×\($0.value)" }.joined(separator: ", ")
            if what.isEmpty { what = t.describeRequest(event["outcomeDesc"]?.stringValue ?? "") }
            // a Subscription's notification (an Export to its owner's endpoint): who it was sent to, how, where
            var refused = event["outcome"]?.stringValue != "0"
            if event["type"]?["code"]?.stringValue == AuditEventBuilder.exportCode, let channel = event["agent"]?.arrayValue?.first(where: { $0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "110152" }),
               let destination = channel["network"]?["address"]?.stringValue {
                who = t.notificationTo(who)
                let how = String((channel["who"]?["display"]?.stringValue ?? "").split(separator: " ").first ?? "")
                what = t.notificationWhat(what, channel: how, destination: destination)
                if refused { what += " (\(t.notificationNotConfirmed))" }
                refused = false
            }
            let btg = purpose == "ETREAT" || policies.contains { $0.contains("break-the-glass") || $0.contains("btg") }
            var verified: Bool? = nil
            if let head, let proof = proofs[r.index] {
                verified = MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(r.bytes), index: Int(r.index), treeSize: Int(head.treeSize),
                                                      proof: proof, root: head.rootHash)
            }
            entries.append(AccessEntry(index: r.index, recorded: event["recorded"]?.stringValue ?? r.recorded.description, who: who, role: role,
                                       organization: org, what: what, purpose: purpose, policies: policies, breakTheGlass: btg,
                                       refused: refused, verified: verified))
        }
        entries.sort { $0.recorded > $1.recorded }
        var body = try await breakTheGlassNotices(s, g, patient: patient, entries: entries, display: display)
        body += "<p>\(esc(t.accessLead))</p>"
        if let head {
            body += "<p class=\"hint\">\(esc(t.treeHeadNote(Int(head.treeSize), head.timestamp.description, headOK)))</p>"
        }
        // What the mark means, in words (not only in a tooltip, which touch screens and many readers never show).
        body += "<details class=\"explain\" id=\"verificado\"><summary>\(esc(t.verifiedQuestion))</summary>"
        for paragraph in t.verifiedExplained { body += "<p>\(esc(paragraph))</p>" }
        body += "</details>"
        if ownCount > 0 {
            body += "<p class=\"hint\">\(esc(t.ownHidden(ownCount))) <a href=\"/accesos?propios=1\">\(esc(t.showOwn))</a></p>"
        }
        if entries.isEmpty {
            body += "<p>\(esc(t.noAccesses))</p>"
        } else {
            body += "<ol class=\"accesses\">"
            for e in entries {
                body += "<li class=\"entry\(e.breakTheGlass ? " btg" : "")\(e.refused ? " refused" : "")\" id=\"entrada-\(e.index)\">"
                body += "<div class=\"when\"><time datetime=\"\(esc(e.recorded))\">\(esc(t.dateTime(e.recorded)))</time>"
                if let v = e.verified {
                    body += v ? "<span class=\"badge ok\" title=\"\(esc(t.verifiedTooltip(Int(e.index))))\">✓ \(esc(t.verified))</span>"
                              : "<span class=\"badge warn\" title=\"\(esc(t.notVerifiedTooltip))\">\(esc(t.notVerified))</span>"
                }
                body += "</div><div class=\"what\">"
                if e.breakTheGlass { body += "<p class=\"badge btg\">\(esc(t.breakTheGlass))</p>" }
                body += "<h3 class=\"who\">\(esc(e.who))</h3><dl class=\"facts\">"
                if let role = e.role { body += "<div><dt>\(esc(t.roleLabel))</dt><dd>\(esc(t.roleName(role)))</dd></div>" }
                if let org = e.organization { body += "<div><dt>\(esc(t.organization))</dt><dd>\(esc(org))</dd></div>" }
                body += "<div><dt>\(esc(t.whatLabel))</dt><dd>\(esc(e.what))</dd></div>"
                body += "<div><dt>\(esc(t.why))</dt><dd>\(esc(t.purposeName(e.purpose)))</dd></div>"
                if !e.policies.isEmpty {
                    body += "<div><dt>\(esc(t.rule))</dt><dd>\(esc(e.policies.map { t.ruleName($0) }.joined(separator: "; ")))</dd></div>"
                }
                if e.refused { body += "<div><dt>\(esc(t.result))</dt><dd>\(esc(t.refused))</dd></div>" }
                body += "</dl></div></li>"
            }
            body += "</ol>"
        }
        return html(.ok, layout(s, request, title: t.navAccess, body: body))
    }

    /// The break-the-glass notifications of the patient (the Communications `$break-the-glass`
    /// writes to them), newest first, as a highlighted notice: who, when, until when, the reason
    /// (from the btg-review Task the Communication is about), the privacy office's review, and a
    /// link to the access log entry the emergency access left.
    func breakTheGlassNotices(_ s: Session, _ g: GuardedRepository, patient: String, entries: [AccessEntry],
                              display: (String?) async -> String?) async throws -> String {
        let t = s.strings
        let communications = try await compartment(g, patient: patient, types: ["Communication"], limit: 200)
            .filter { c in (c["category"]?.arrayValue ?? []).contains { $0["text"]?.stringValue == "break-the-glass" } }
            .sorted { ($0["sent"]?.stringValue ?? "") > ($1["sent"]?.stringValue ?? "") }
        guard !communications.isEmpty else { return "" }
        var html = "<section class=\"card btg-notices\" aria-labelledby=\"emergencias\"><h2 id=\"emergencias\">\(esc(t.btgNoticesTitle))</h2>"
        html += "<p>\(esc(t.btgNoticesLead))</p><ul class=\"cards\">"
        for c in communications.prefix(20) {
            let sent = c["sent"]?.stringValue ?? ""
            let senderRef = c["sender"]?["reference"]?.stringValue
            let who = await display(senderRef) ?? senderRef ?? "?"
            let taskRef = (c["about"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }.first { $0.hasPrefix("Task/") }
            var task: JSON? = nil
            if let taskRef, let stored = try? await g.read("Task", String(taskRef.dropFirst(5))) { task = try? stored.json() }
            let payload = c["payload"]?.arrayValue?.first?["contentString"]?.stringValue
            let reason = task?["reasonCode"]?["text"]?.stringValue
                ?? payload.flatMap { p in p.range(of: "Motivo: ").map { String(p[$0.upperBound...]) } }
            // the access log entry: the first one resting on this record, else the emergency entry at that moment
            let chronological = entries.reversed()
            let entry = chronological.first { e in taskRef.map { e.policies.contains($0) } ?? false }
                ?? chronological.first { $0.breakTheGlass && $0.recorded >= String(sent.prefix(19)) }
            html += "<li class=\"card btg-notice\"><p class=\"badge btg\">\(esc(t.breakTheGlass))</p><dl class=\"facts\">"
            html += "<div><dt>\(esc(t.btgWho))</dt><dd>\(esc(who))</dd></div>"
            html += "<div><dt>\(esc(t.btgWhen))</dt><dd><time datetime=\"\(esc(sent))\">\(esc(t.dateTime(sent)))</time></dd></div>"
            if let end = task?["executionPeriod"]?["end"]?.stringValue {
                html += "<div><dt>\(esc(t.btgUntil))</dt><dd>\(esc(t.dateTime(end)))</dd></div>"
            }
            if let reason { html += "<div><dt>\(esc(t.reason))</dt><dd>\(esc(reason))</dd></div>" }
            if let status = task?["status"]?.stringValue {
                html += "<div><dt>\(esc(t.btgReview))</dt><dd>\(esc(t.btgReviewState(status)))</dd></div>"
            }
            html += "</dl>"
            if let entry { html += "<p><a href=\"#entrada-\(entry.index)\">\(esc(t.btgSeeEntry))</a></p>" }
            html += "</li>"
        }
        return html + "</ul></section>"
    }
}
