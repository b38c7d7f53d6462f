import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

/// The four measures beyond HbA1c and blood pressure, each with numerator and denominator counted by hand.
@Suite("Quality measures: schedule, continuity, follow-up, experience")
struct CareMeasureTests {
    static func counts(_ report: JSON) -> [String: Int] {
        var out: [String: Int] = [:]
        for p in report["group"]?.arrayValue?.first?["population"]?.arrayValue ?? [] {
            if let c = p["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue, case .number(let n)? = p["count"] { out[c] = Int(n) }
        }
        return out
    }
    static func listed(_ report: JSON, _ id: String) -> [String] {
        (report["contained"]?.arrayValue ?? []).first { $0["id"]?.stringValue == id }?["entry"]?.arrayValue?.compactMap { $0["item"]?["reference"]?.stringValue } ?? []
    }
    static func evaluate(_ f: FinancingFixture, _ id: String, _ type: MeasureEvaluator.ReportType = .subjectList, subject: String? = nil,
                         organization: String? = nil) async throws -> JSON {
        try await MeasureEvaluator().report(.init(measureID: id, periodStart: "2026-07-01", periodEnd: "2026-09-30", reportType: type, subject: subject,
                                                  organization: organization), guarded: f.guarded(), now: FinancingFixture.now)
    }
    static func patient(_ id: String, born: String, gp: String? = nil, org: String? = nil) -> JSON {
        J.o(("resourceType", .string("Patient")), ("id", .string(id)), ("active", .bool(true)), ("birthDate", .string(born)),
            ("generalPractitioner", gp.map { J.a([J.ref($0)]) }), ("managingOrganization", org.map { J.ref($0) }))
    }
    static func shot(_ id: String, _ patient: String, _ cvx: String, _ date: String, status: String = "completed") -> JSON {
        J.o(("resourceType", .string("Immunization")), ("id", .string(id)), ("status", .string(status)),
            ("vaccineCode", J.concept("http://hl7.org/fhir/sid/cvx", cvx)), ("patient", J.ref("Patient/\(patient)")), ("occurrenceDateTime", .string(date)))
    }
    static func encounter(_ id: String, _ patient: String, cls: String, start: String, end: String, practitioner: String? = nil, provider: String = "imss-umf-20") -> JSON {
        J.o(("resourceType", .string("Encounter")), ("id", .string(id)), ("status", .string("finished")),
            ("class", J.coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", cls)), ("subject", J.ref("Patient/\(patient)")),
            ("participant", practitioner.map { J.a([J.o(("individual", J.ref($0)))]) }), ("serviceProvider", J.ref("Organization/\(provider)")),
            ("period", J.o(("start", .string(start)), ("end", .string(end)))))
    }

    /// A complete schedule: every series of the Cartilla due by 24 months.
    static func fullSchedule(_ p: String, born: String) -> [JSON] {
        let y = Int(born.prefix(4))!
        let d = { (months: Int) -> String in String(format: "%04d-%02d-15", y + months / 12, 1 + months % 12) }
        return [shot("\(p)-bcg", p, "19", d(0)), shot("\(p)-hb", p, "08", d(0))]
            + (0..<4).map { shot("\(p)-hx\($0)", p, "146", d([2, 4, 6, 18][$0])) }
            + (0..<2).map { shot("\(p)-rv\($0)", p, "119", d([2, 4][$0])) }
            + (0..<3).map { shot("\(p)-pcv\($0)", p, "133", d([2, 4, 12][$0])) }
            + (0..<2).map { shot("\(p)-srp\($0)", p, "03", d([12, 18][$0])) }
    }

    /// By hand: k1, k2, k3 turn 2 in 2026-Q3 (born 2024-07-05, 2024-08-20, 2024-09-30); k4 turns 2
    /// in Q4 (not in the denominator). k1 has every dose; k2 lacks the second SRP; k3 has every
    /// dose but its fourth hexavalent was entered in error and its second SRP came after the
    /// birthday. Denominator 3, numerator 1 (k1).
    @Test func childhoodScheduleAt24Months() async throws {
        let f = try await FinancingFixture()
        var rs: [JSON] = [Self.patient("k1", born: "2024-07-05"), Self.patient("k2", born: "2024-08-20"), Self.patient("k3", born: "2024-09-30"),
                          Self.patient("k4", born: "2024-10-02")]
        // the doses are dated from January 2024 (all before any of the second birthdays)
        rs += Self.fullSchedule("k1", born: "2024-01-01") + Self.fullSchedule("k4", born: "2024-01-01")
        rs += Self.fullSchedule("k2", born: "2024-01-01").filter { $0["id"]?.stringValue != "k2-srp1" }
        rs += Self.fullSchedule("k3", born: "2024-01-01").map { s in
            switch s["id"]?.stringValue {
            case "k3-hx3": return s.setting("status", .string("entered-in-error"))
            case "k3-srp1": return s.setting("occurrenceDateTime", .string("2026-10-01"))
            default: return s
            }
        }
        try await f.put(rs)
        let report = try await Self.evaluate(f, "childhood-immunization-24m")
        #expect(Self.counts(report) == ["initial-population": 3, "denominator": 3, "numerator": 1])
        #expect(Self.listed(report, "numerator") == ["Patient/k1"])
        #expect(Self.listed(report, "denominator") == ["Patient/k1", "Patient/k2", "Patient/k3"])
        let k2 = try await Self.evaluate(f, "childhood-immunization-24m", .individual, subject: "Patient/k2")
        #expect(Self.counts(k2) == ["initial-population": 1, "denominator": 1, "numerator": 0])
        #expect(ChildhoodSchedule24Months.cns2024.edition == "cns-ninas-ninos-0-9|2024.1")
    }

    /// By hand: p1's family doctor is dr-a, p2's team is the IMSS unit (an Organization), p3 has
    /// none (not counted). Q3 visits: p1 with dr-a, p1 with dr-b, p1 virtual with dr-a; p2 at the
    /// unit; p2 at the hospital; an emergency of p1 is not a visit; a July 2026 visit still
    /// in-progress is not counted. Denominator 5 visits, numerator 3 (p1's two with dr-a, p2's at the unit).
    @Test func continuityOfCareCountsVisits() async throws {
        let f = try await FinancingFixture()
        try await f.put([
            Self.patient("p1", born: "1980-01-01", gp: "Practitioner/dr-a"), Self.patient("p2", born: "1970-01-01", gp: "Organization/imss-umf-20"),
            Self.patient("p3", born: "1990-01-01"),
            Self.encounter("e1", "p1", cls: "AMB", start: "2026-07-02T10:00:00Z", end: "2026-07-02T10:30:00Z", practitioner: "Practitioner/dr-a"),
            Self.encounter("e2", "p1", cls: "AMB", start: "2026-08-02T10:00:00Z", end: "2026-08-02T10:30:00Z", practitioner: "Practitioner/dr-b"),
            Self.encounter("e3", "p1", cls: "VR", start: "2026-09-02T10:00:00Z", end: "2026-09-02T10:30:00Z", practitioner: "Practitioner/dr-a"),
            Self.encounter("e4", "p2", cls: "AMB", start: "2026-07-10T10:00:00Z", end: "2026-07-10T10:30:00Z", practitioner: "Practitioner/dr-c"),
            Self.encounter("e5", "p2", cls: "AMB", start: "2026-07-20T10:00:00Z", end: "2026-07-20T10:30:00Z", practitioner: "Practitioner/dr-c",
                           provider: "hospital-santa-fe"),
            Self.encounter("e6", "p1", cls: "EMER", start: "2026-07-21T10:00:00Z", end: "2026-07-21T12:30:00Z", practitioner: "Practitioner/dr-a"),
            Self.encounter("e7", "p3", cls: "AMB", start: "2026-07-21T10:00:00Z", end: "2026-07-21T10:30:00Z", practitioner: "Practitioner/dr-a"),
            Self.encounter("e8", "p1", cls: "AMB", start: "2026-07-22T10:00:00Z", end: "2026-07-22T10:30:00Z", practitioner: "Practitioner/dr-a")
                .setting("status", .string("in-progress")),
            Self.encounter("e9", "p1", cls: "AMB", start: "2026-10-02T10:00:00Z", end: "2026-10-02T10:30:00Z", practitioner: "Practitioner/dr-a"),
        ])
        let report = try await Self.evaluate(f, "continuity-of-care")
        #expect(Self.counts(report) == ["initial-population": 5, "denominator": 5, "numerator": 3])
        #expect(Self.listed(report, "numerator") == ["Encounter/e1", "Encounter/e3", "Encounter/e4"])
        #expect(report["group"]?.arrayValue?.first?["measureScore"]?["value"] == .number("0.6000"))
        let p1 = try await Self.evaluate(f, "continuity-of-care", .individual, subject: "Patient/p1")
        #expect(Self.counts(p1) == ["initial-population": 3, "denominator": 3, "numerator": 2])
    }

    /// By hand: three Q3 discharges. s1 (out 2026-07-10) seen 2026-07-15: counts; s2 (out
    /// 2026-08-01) seen 2026-08-09 (8 days): does not; s3 (out 2026-09-28) seen on 2026-10-03,
    /// after the period but within 7 days: counts. A stay ending in June is not a Q3 discharge.
    /// Denominator 3, numerator 2.
    @Test func followUpWithinSevenDaysOfDischarge() async throws {
        let f = try await FinancingFixture()
        try await f.put([
            Self.encounter("s1", "p1", cls: "IMP", start: "2026-07-05T10:00:00Z", end: "2026-07-10T09:00:00Z"),
            Self.encounter("v1", "p1", cls: "AMB", start: "2026-07-15T10:00:00Z", end: "2026-07-15T10:30:00Z"),
            Self.encounter("s2", "p2", cls: "IMP", start: "2026-07-28T10:00:00Z", end: "2026-08-01T09:00:00Z"),
            Self.encounter("v2", "p2", cls: "AMB", start: "2026-08-09T10:00:00Z", end: "2026-08-09T10:30:00Z"),
            Self.encounter("s3", "p3", cls: "ACUTE", start: "2026-09-20T10:00:00Z", end: "2026-09-28T09:00:00Z"),
            Self.encounter("v3", "p3", cls: "HH", start: "2026-10-03T10:00:00Z", end: "2026-10-03T10:30:00Z"),
            Self.encounter("s4", "p4", cls: "IMP", start: "2026-06-20T10:00:00Z", end: "2026-06-25T09:00:00Z"),
            Self.encounter("v4", "p4", cls: "AMB", start: "2026-07-01T10:00:00Z", end: "2026-07-01T10:30:00Z"),
        ])
        let report = try await Self.evaluate(f, "follow-up-after-discharge-7d")
        #expect(Self.counts(report) == ["initial-population": 3, "denominator": 3, "numerator": 2])
        #expect(Self.listed(report, "numerator") == ["Encounter/s1", "Encounter/s3"])
        let summary = try await Self.evaluate(f, "follow-up-after-discharge-7d", .summary)
        #expect(summary["contained"] == nil && summary["group"]?.arrayValue?.first?["measureScore"]?["value"] == .number("0.6667"))
    }

    static func answers(_ id: String, _ patient: String, _ values: [Int], authored: String = "2026-08-01T10:00:00Z", status: String = "completed",
                        questionnaire: String = ExperienceQuestionnaire.url + "|" + ExperienceQuestionnaire.version) -> JSON {
        let items: [JSON] = zip(ExperienceQuestionnaire.questions, values).map { q, v in
            J.o(("linkId", .string(q.id)), ("answer", J.a([J.o(("valueCoding", J.o(("system", .string("https://enlace.mx/fhir/CodeSystem/escala-experiencia")),
                                                                                      ("code", .string(String(v))))))])))
        }
        return J.o(("resourceType", .string("QuestionnaireResponse")), ("id", .string(id)), ("questionnaire", .string(questionnaire)),
                   ("status", .string(status)), ("subject", J.ref("Patient/\(patient)")), ("authored", .string(authored)), ("item", J.a(items)))
    }

    /// By hand: r1 (5,5,4,4,5: mean 4.6) and r2 (4,4,4,4,4: 4.0) are favourable; r3 (3,4,2,5,3:
    /// 3.4) is not; r4 answers only two questions (5,3: 4.0) and counts as favourable; r5 is
    /// in progress, r6 from June, r7 another questionnaire: none counts. Denominator 4, numerator 3.
    @Test func patientExperienceIsATopBoxScore() async throws {
        let f = try await FinancingFixture()
        try await f.put([
            Self.answers("r1", "p1", [5, 5, 4, 4, 5]), Self.answers("r2", "p2", [4, 4, 4, 4, 4]), Self.answers("r3", "p3", [3, 4, 2, 5, 3]),
            Self.answers("r4", "p4", [5, 3]), Self.answers("r5", "p1", [1, 1, 1, 1, 1], status: "in-progress"),
            Self.answers("r6", "p1", [1, 1, 1, 1, 1], authored: "2026-06-01T10:00:00Z"),
            Self.answers("r7", "p2", [1, 1, 1, 1, 1], questionnaire: "https://example.org/Questionnaire/other"),
        ])
        let report = try await Self.evaluate(f, "patient-experience")
        #expect(Self.counts(report) == ["initial-population": 4, "denominator": 4, "numerator": 3])
        #expect(Self.listed(report, "numerator") == ["QuestionnaireResponse/r1", "QuestionnaireResponse/r2", "QuestionnaireResponse/r4"])
        // the questionnaire: five questions, each with its English translation
        let q = ExperienceQuestionnaire.resource
        #expect(q["item"]?.arrayValue?.count == 5)
        #expect((q["item"]?.arrayValue ?? []).allSatisfy { $0["_text"]?["extension"]?.arrayValue?.first?["extension"]?.arrayValue?.count == 2 })
        #expect((q["item"]?.arrayValue ?? []).allSatisfy { $0["required"] == .bool(false) })
    }

    @Test func theMeasuresAreShippedAsMeasureResources() {
        let ids = MeasureEvaluator.measures.compactMap { $0["id"]?.stringValue }
        #expect(ids == ["diabetes-hba1c-control", "hypertension-control", "childhood-immunization-24m", "continuity-of-care",
                        "follow-up-after-discharge-7d", "patient-experience"])
    }
}
