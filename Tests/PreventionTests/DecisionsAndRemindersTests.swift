import FHIR
import Foundation
@testable import Prevention
import Testing

// A clinician's decision about an algorithm's result (its Parameters and Provenance) and
// reminders (their Parameters, the opposition to contact, the Communication).
@Suite struct DecisionsAndRemindersTests {
    static func parameters(_ parts: [(String, String, String)]) -> JSON {
        .object([("resourceType", .string("Parameters")),
                 ("parameter", .array(parts.map { .object([("name", .string($0.0)), ($0.1, .string($0.2))]) }))])
    }

    @Test func decisionParameters() throws {
        let ok = try ClinicianDecision.parse(Self.parameters([("decision", "valueCode", "override"), ("reason", "valueString", "  HbA1c de laboratorio dudosa ")]))
        #expect(ok == .init(kind: .override, reason: "HbA1c de laboratorio dudosa"))
        #expect(try ClinicianDecision.parse(Self.parameters([("decision", "valueCode", "accept"), ("reason", "valueString", "x")])).kind == .accept)
        let bad: [(JSON?, String)] = [
            (nil, "invalid"),
            (Self.parameters([("reason", "valueString", "x")]), "required"),
            (Self.parameters([("decision", "valueCode", "maybe"), ("reason", "valueString", "x")]), "code-invalid"),
            (Self.parameters([("decision", "valueCode", "accept")]), "required"),
            (Self.parameters([("decision", "valueCode", "accept"), ("reason", "valueString", "   ")]), "required"),
            (Self.parameters([("decision", "valueCode", "accept"), ("reason", "valueString", String(repeating: "a", count: 1001))]), "too-long"),
            (Self.parameters([("decision", "valueCode", "accept"), ("reason", "valueString", "x"), ("who", "valueString", "me")]), "not-supported"),
        ]
        for (p, code) in bad {
            do {
                _ = try ClinicianDecision.parse(p)
                Issue.record("accepted \(String(describing: p))")
            } catch let e as FHIRError {
                #expect(e.status == 400 && e.issues.first?.code == code, "\(e)")
                #expect(e.issues.first?.spanish.isEmpty == false)
            }
        }
    }

    @Test func decisionProvenance() {
        let label: JSON = .array([.object([("system", .string("https://enlace.mx/fhir/CodeSystem/risk-category")), ("code", .string("risk-diabetes"))])])
        let p = ClinicianDecision.provenance(type: "RiskAssessment", id: "findrisc-ana", version: 3, patient: "ana", practitioner: "Practitioner/dra",
                                             organization: "Organization/umf", decision: .init(kind: .override, reason: "no aplica"),
                                             recorded: "2026-11-24T12:00:00Z", security: label)
        #expect(p["target"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } == ["RiskAssessment/findrisc-ana", "Patient/ana"])
        #expect(p["entity"]?.arrayValue?.first?["what"]?["reference"]?.stringValue == "RiskAssessment/findrisc-ana/_history/3")
        #expect(p["entity"]?.arrayValue?.first?["role"]?.stringValue == "source")
        #expect(p["agent"]?.arrayValue?.first?["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "verifier")
        #expect(p["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
        #expect(p["agent"]?.arrayValue?.first?["onBehalfOf"]?["reference"]?.stringValue == "Organization/umf")
        #expect(p["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "algorithm-overridden")
        #expect(p["reason"]?.arrayValue?.first?["text"]?.stringValue == "no aplica")
        #expect(p["meta"]?["security"] == label, "the target's labels go with the decision (the right not to know)")
    }

    @Test func reminderParameters() throws {
        let ask: JSON = .object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/a"))]))]),
            .object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/b"))]))]),
            .object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/a"))]))]),
            .object([("name", .string("medium")), ("valueCode", .string("sms"))]),
        ]))])
        let r = try Reminders.parse(ask, instance: nil)
        #expect(r.patients == ["a", "b"])
        #expect(r.medium == .sms && r.medium.code == "SMSWRIT")
        #expect(try Reminders.parse(Self.parameters([("medium", "valueCode", "portal")]), instance: "c").patients == ["c"])
        for (p, code) in [(Self.parameters([("medium", "valueCode", "sms")]), "required"),
                          (Self.parameters([("medium", "valueCode", "pigeon")]), "code-invalid"),
                          (Self.parameters([("medium", "valueCode", "sms"), ("urgent", "valueString", "x")]), "not-supported")] {
            do {
                _ = try Reminders.parse(p, instance: code == "required" ? nil : "c")
                Issue.record("accepted \(p)")
            } catch let e as FHIRError {
                #expect(e.status == 400 && e.issues.first?.code == code, "\(e)")
            }
        }
        #expect(throws: FHIRError.self) { try Reminders.parse(Self.parameters([]), instance: "c") }  // no medium
    }

    static func consent(_ provision: String, status: String = "active", scope: String = "patient-privacy") -> JSON {
        try! JSONParser.parse(#"{"resourceType":"Consent","id":"c1","status":"\#(status)","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"\#(scope)"}]},"patient":{"reference":"Patient/a"},"provision":\#(provision)}"#)
    }

    static let contact = #"{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/consent-action","code":"contact"}]}"#

    @Test func oppositionToContact() {
        let now = Date(timeIntervalSince1970: 1_795_521_600)  // 2026-11-24
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","action":[\#(Self.contact)]}"#)], now: now) == "c1")
        // nested: permit in general, deny contact
        #expect(Reminders.opposition([Self.consent(#"{"type":"permit","provision":[{"type":"deny","action":[\#(Self.contact)]}]}"#)], now: now) == "c1")
        // a deny of something else, a permit of contact, an inactive or other-scope Consent, a period over: no opposition
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","action":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentaction","code":"access"}]}]}"#)], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"permit","action":[\#(Self.contact)]}"#)], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","action":[\#(Self.contact)]}"#, status: "inactive")], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","action":[\#(Self.contact)]}"#, scope: "research")], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","period":{"end":"2026-01-01"},"action":[\#(Self.contact)]}"#)], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","period":{"start":"2027-01-01"},"action":[\#(Self.contact)]}"#)], now: now) == nil)
        #expect(Reminders.opposition([Self.consent(#"{"type":"deny","period":{"start":"2026-01-01","end":"2026-12-31"},"action":[\#(Self.contact)]}"#)], now: now) == "c1")
    }

    @Test func reminderCommunication() throws {
        let rule = try #require(CartillaKnowledge.standard.rules.first { $0.id == "hexavalente" })
        let item = PreventionItem(rule: rule, status: .overdue, dose: 3, doses: 4, dueDate: CivilDate(2026, 7, 10), overdueDate: CivilDate(2026, 8, 10),
                                  last: nil, evidence: [], explanation: Localized("a", "b"))
        let sms = Reminders.communication(patient: "a", sender: "Practitioner/dra", medium: .sms, gaps: [item], message: nil, now: "2026-11-24T12:00:00Z")
        #expect(sms["status"]?.stringValue == "preparation")
        #expect(sms["sent"] == nil)
        #expect(sms["medium"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "SMSWRIT")
        #expect(sms["category"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "reminder")
        #expect(sms["recipient"]?.arrayValue?.first?["reference"]?.stringValue == "Patient/a")
        #expect(sms["payload"]?.arrayValue?.first?["contentString"]?.stringValue?.contains("atrasado") == true)
        let portal = Reminders.communication(patient: "a", sender: nil, medium: .portal, gaps: [item], message: "Venga el martes", now: "2026-11-24T12:00:00Z")
        #expect(portal["status"]?.stringValue == "completed")
        #expect(portal["sent"]?.stringValue == "2026-11-24T12:00:00Z")
        #expect(portal["payload"]?.arrayValue?.first?["contentString"]?.stringValue == "Venga el martes")
    }
}
