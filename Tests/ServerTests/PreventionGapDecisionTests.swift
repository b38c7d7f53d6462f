import FHIR
import Foundation
import Testing
@testable import Prevention
@testable import Server
@_spi(Unguarded) import Trust

/// A decision counts (docs/prevention.md): when a clinician records through `$record-decision`
/// that a gap does not apply — declined, not indicated, done elsewhere — `$care-gaps` reports it
/// as a closed gap with the decision as the DetectedIssue's `mitigation` (what, when, who, why)
/// beside the explanation the schedule computed, reminders leave it out, and the refusals are
/// precise. Both backends. The clock is 2026-11-24; Ana (56) has never had a mammography.
@Suite("Prevention: a clinician's decision that a gap does not apply closes it")
struct PreventionGapDecisionTests {
    static func decision(_ d: String, _ reason: String?, item: String?) -> [UInt8] {
        var p: [String] = [#"{"name":"decision","valueCode":"\#(d)"}"#]
        if let reason { p.append(#"{"name":"reason","valueString":"\#(reason)"}"#) }
        if let item { p.append(#"{"name":"item","valueString":"\#(item)"}"#) }
        return Array(#"{"resourceType":"Parameters","parameter":[\#(p.joined(separator: ","))]}"#.utf8)
    }

    /// The DetectedIssue of `item` in the first returned Bundle.
    static func issue(_ r: Client.Reply, _ item: String) -> JSON? {
        let bundle = r.json["parameter"]?.arrayValue?.first?["resource"]
        return bundle?["entry"]?.arrayValue?.compactMap { $0["resource"] }.first { $0["id"]?.stringValue == item }
    }

    static func gapStatus(_ issue: JSON?) -> String? {
        issue?["modifierExtension"]?.arrayValue?.first?["valueCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
    }

    @Test(arguments: ServerBackend.allCases)
    func declinedGapIsClosedWithWhoAndWhy(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, anaToken) = try PreventionHTTPTests.tokens(server)
        let dra = ["Authorization": "Bearer \(practitioner)"]
        let ana = ["Authorization": "Bearer \(anaToken)"]
        let services = server.services
        try await server.run { c in
            try await PreventionHTTPTests.put(c, PreventionHTTPTests.seed)
            try await PreventionHTTPTests.catchUp(services)
            let gaps = "/fhir/Patient/ana/$care-gaps?periodStart=2026-01-01&periodEnd=2026-11-24"
            let before = try await c.send(.get, gaps, headers: dra, auth: false)
            #expect(before.status == 200, "\(before.text)")
            let open = Self.issue(before, "mujer-mastografia")
            #expect(Self.gapStatus(open) == "open-gap")
            #expect(open?["mitigation"] == nil)
            let computedDetail = open?["detail"]?.stringValue
            #expect(computedDetail?.isEmpty == false)

            // Dr. Ruiz records that Ana declined it
            let r = try await c.send(.post, "/fhir/Patient/ana/$record-decision",
                                     body: Self.decision("declined", "Prefiere hacerla en el ISSSTE el próximo año", item: "mujer-mastografia"), headers: dra, auth: false)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.json["resourceType"]?.stringValue == "Provenance")
            #expect(r.json["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "gap-declined")
            #expect(r.json["extension"]?.arrayValue?.first?["valueString"]?.stringValue == "mujer-mastografia")
            #expect(r.json["agent"]?.arrayValue?.first?["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "verifier")
            let provenance = "Provenance/\(r.json["id"]?.stringValue ?? "?")"

            let after = try await c.send(.get, gaps, headers: dra, auth: false)
            let closed = Self.issue(after, "mujer-mastografia")
            #expect(Self.gapStatus(closed) == "closed-gap", "\(closed.map { String(describing: $0) } ?? "none")")
            let mitigation = closed?["mitigation"]?.arrayValue?.first
            #expect(mitigation?["action"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "gap-declined")
            #expect(mitigation?["action"]?["text"]?.stringValue?.contains("Prefiere hacerla en el ISSSTE") == true)
            #expect(mitigation?["author"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(mitigation?["author"]?["display"]?.stringValue == "Ruiz")
            #expect(mitigation?["date"]?.stringValue?.hasPrefix("2026-11-24") == true)
            #expect(closed?["evidence"]?.arrayValue?.first?["detail"]?.arrayValue?.contains { $0["reference"]?.stringValue == provenance } == true)
            // what the schedule computed stays, beside the decision
            #expect(closed?["detail"]?.stringValue == computedDetail)
            // the other gaps are untouched
            #expect(Self.gapStatus(Self.issue(after, "mujer-glucosa")) == "open-gap")
            // status filters: not an open gap any more, a closed one
            let onlyOpen = try await c.send(.get, gaps + "&status=open-gap", headers: dra, auth: false)
            #expect(Self.issue(onlyOpen, "mujer-mastografia") == nil && Self.issue(onlyOpen, "mujer-glucosa") != nil)
            let onlyClosed = try await c.send(.get, gaps + "&status=closed-gap", headers: dra, auth: false)
            #expect(Self.gapStatus(Self.issue(onlyClosed, "mujer-mastografia")) == "closed-gap")
            // Ana herself sees it decided
            let hers = try await c.send(.get, gaps, headers: ana, auth: false)
            #expect(Self.issue(hers, "mujer-mastografia")?["mitigation"] != nil)

            // a vaccine gap decided on the ImmunizationRecommendation: Sofía's BCG done elsewhere
            let bcgBefore = try await c.send(.get, "/fhir/Patient/nina/$care-gaps", headers: dra, auth: false)
            #expect(Self.gapStatus(Self.issue(bcgBefore, "bcg")) == "open-gap")
            let bcg = try await c.send(.post, "/fhir/ImmunizationRecommendation/cns-nina/$record-decision",
                                       body: Self.decision("done-elsewhere", "Cartilla en papel: BCG al nacer en el hospital", item: "bcg"), headers: dra, auth: false)
            #expect(bcg.status == 201, "\(bcg.text)")
            let bcgAfter = try await c.send(.get, "/fhir/Patient/nina/$care-gaps", headers: dra, auth: false)
            #expect(Self.gapStatus(Self.issue(bcgAfter, "bcg")) == "closed-gap")
            #expect(Self.issue(bcgAfter, "bcg")?["mitigation"]?.arrayValue?.first?["action"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "gap-done-elsewhere")
            #expect(Self.gapStatus(Self.issue(bcgAfter, "hexavalente")) == "open-gap")
            // the ImmunizationRecommendation itself stays as the schedule computed it
            let rec = try await c.send(.get, "/fhir/ImmunizationRecommendation/cns-nina", headers: dra, auth: false)
            let bcgRec = rec.json["recommendation"]?.arrayValue?.first { $0["series"]?.stringValue == "bcg" }
            #expect(bcgRec?["forecastStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "overdue")

            // reminders leave a decided gap out: the reminder lists glucose, not mammography
            let remind = try await c.send(.post, "/fhir/Patient/ana/$send-reminders",
                                          body: Array(#"{"resourceType":"Parameters","parameter":[{"name":"medium","valueCode":"portal"}]}"#.utf8), headers: dra, auth: false)
            #expect(remind.status == 200, "\(remind.text)")
            let comm = remind.json["parameter"]?.arrayValue?.first?["part"]?.arrayValue?.first { $0["name"]?.stringValue == "communication" }?["valueReference"]?["reference"]?.stringValue
            let sent = try await c.send(.get, "/fhir/\(comm ?? "Communication/none")", headers: dra, auth: false)
            #expect(sent.status == 200 && sent.text.contains("mujer-glucosa") && !sent.text.contains("mujer-mastografia"), "\(sent.text.prefix(400))")

            // refusals, each a precise bilingual OperationOutcome
            let refusals: [(String, [UInt8], Int, String)] = [
                ("/fhir/Patient/ana/$record-decision", Self.decision("declined", "x", item: nil), 400, "required"),
                ("/fhir/Patient/ana/$record-decision", Self.decision("declined", nil, item: "mujer-mastografia"), 400, "required"),
                ("/fhir/Patient/ana/$record-decision", Self.decision("declined", "x", item: "no-existe"), 400, "code-invalid"),
                ("/fhir/Patient/ana/$record-decision", Self.decision("declined", "x", item: "<script>"), 400, "code-invalid"),
                ("/fhir/Patient/ana/$record-decision", Self.decision("accept", "x", item: nil), 400, "invalid"),
                ("/fhir/RiskAssessment/findrisc-ana/$record-decision", Self.decision("not-indicated", "x", item: "mujer-glucosa"), 400, "invalid"),
                ("/fhir/RiskAssessment/findrisc-ana/$record-decision", Self.decision("accept", "x", item: "mujer-glucosa"), 400, "invalid"),
                ("/fhir/ImmunizationRecommendation/cns-nina/$record-decision", Self.decision("declined", "x", item: "tamiz-auditivo"), 400, "invalid"),
                // Luis has no treating relationship with Dr. Ruiz: like a missing patient
                ("/fhir/Patient/luis/$record-decision", Self.decision("declined", "x", item: "bcg"), 404, "not-found"),
                ("/fhir/Patient/nadie/$record-decision", Self.decision("declined", "x", item: "bcg"), 404, "not-found"),
            ]
            for (path, body, status, code) in refusals {
                let e = try await c.send(.post, path, body: body, headers: dra, auth: false)
                #expect(e.status == status && e.issueCodes == [code], "\(path): \(e.status) \(e.text.prefix(300))")
                #expect(e.json["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.isEmpty == false, "\(path): bilingual text")
            }
            // a patient records no decision
            let herself = try await c.send(.post, "/fhir/Patient/ana/$record-decision", body: Self.decision("declined", "x", item: "mujer-glucosa"), headers: ana, auth: false)
            #expect(herself.status == 403)
            // none of the refusals wrote anything: glucose is still open
            let still = try await c.send(.get, gaps, headers: dra, auth: false)
            #expect(Self.gapStatus(Self.issue(still, "mujer-glucosa")) == "open-gap")
        }
    }

    /// `GapDecision.applies`: only to an open gap of the same cycle (already due when decided).
    @Test func aDecisionHoldsForTheCycleItWasMadeIn() throws {
        let rule = try #require(CartillaKnowledge.standard.rules.first { $0.id == "mujer-mastografia" })
        func item(_ status: PreventionItem.Status, due: CivilDate) -> PreventionItem {
            PreventionItem(rule: rule, status: status, dueDate: due, evidence: [], explanation: Localized("", ""))
        }
        let d = GapDecision(item: "mujer-mastografia", kind: .notIndicated, reason: "mastectomía bilateral", recorded: "2026-11-24T10:00:00Z",
                            date: CivilDate(2026, 11, 24), practitioner: "Practitioner/dra", practitionerName: "Ruiz", organizationName: nil,
                            provenance: "Provenance/1")
        #expect(d.applies(to: item(.overdue, due: CivilDate(2024, 1, 1))))
        #expect(d.applies(to: item(.due, due: CivilDate(2026, 11, 24))))
        #expect(!d.applies(to: item(.due, due: CivilDate(2026, 11, 25))), "a cycle due after the decision is open again")
        #expect(!d.applies(to: item(.done, due: CivilDate(2024, 1, 1))), "a done item is not decided")
        #expect(!d.applies(to: item(.upcoming, due: CivilDate(2027, 1, 1))))
        var other = d
        other.item = "mujer-glucosa"
        #expect(!other.applies(to: item(.overdue, due: CivilDate(2024, 1, 1))))
        // read back from its Provenance
        let p = ClinicianDecision.provenance(type: "Patient", id: "ana", version: 1, patient: "ana", practitioner: "Practitioner/dra", organization: nil,
                                             decision: .init(kind: .notIndicated, reason: "mastectomía bilateral", item: "mujer-mastografia"),
                                             recorded: "2026-11-24T10:00:00Z", security: nil, practitionerName: "Ruiz").setting("id", .string("1"))
        #expect(GapDecision(provenance: p) == d)
        let accept = ClinicianDecision.provenance(type: "RiskAssessment", id: "x", version: 1, patient: "ana", practitioner: "Practitioner/dra", organization: nil,
                                                  decision: .init(kind: .accept, reason: "ok"), recorded: "2026-11-24T10:00:00Z", security: nil)
        #expect(GapDecision(provenance: accept) == nil)
    }
}
