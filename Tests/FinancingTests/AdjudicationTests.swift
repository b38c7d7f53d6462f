import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

@Suite("Adjudication")
struct AdjudicationTests {
    static let privatePlan = try! BenefitPlan(insurancePlan: BenefitPlan.samples.first { $0["id"]?.stringValue == "vida-plena-gmm-basico" }!)
    static let imss = try! BenefitPlan(insurancePlan: BenefitPlan.samples.first { $0["id"]?.stringValue == "imss-regimen-obligatorio" }!)

    @Test func thePlansAreReadFromTheirInsurancePlans() {
        #expect(Self.privatePlan.deductible == Money(pesos: 1_500))
        #expect(Self.privatePlan.coinsuranceBasisPoints == 1_000)
        #expect(Self.privatePlan.covered?.contains("01.001") == true)
        #expect(Self.privatePlan.covered?.contains("08.001") == false)
        #expect(Self.privatePlan.payer == "Organization/seguros-vida-plena")
        #expect(Self.imss.covered == nil && Self.imss.deductible == .zero && Self.imss.coinsuranceBasisPoints == 0)
        #expect(Tariff.intercambio2026.items["02.001"]?.price == Money(pesos: 1_485))
    }

    /// By hand: consultation 1,485.00 + HbA1c 310.00 + genetic panel (not covered). Deductible
    /// 1,500.00 eats the consultation and 15.00 of the HbA1c; the 295.00 left pays 10 %
    /// coinsurance (29.50): the insurer pays 265.50, Ana 1,529.50; the panel is denied.
    @Test func aPrivatePlanAppliesDeductibleCoinsuranceAndExclusions() {
        let r = Adjudicator().adjudicate([.init(sequence: 1, code: "02.001"), .init(sequence: 2, code: "03.001"), .init(sequence: 3, code: "08.001")],
                                         plan: Self.privatePlan, active: true, deductibleMet: .zero)
        #expect(r.lines.map(\.status) == [.approved, .approved, .denied])
        #expect(r.lines[0].deductible == Money(pesos: 1_485) && r.lines[0].benefit == .zero)
        #expect(r.lines[1].deductible == Money(pesos: 15) && r.lines[1].coinsurance == Money(centavos: 2_950) && r.lines[1].benefit == Money(centavos: 26_550))
        #expect(r.lines[2].reason == .notCovered && r.lines[2].submitted == Money(pesos: 8_900) && r.lines[2].benefit == .zero)
        #expect(r.benefit == Money(centavos: 26_550))
        #expect(r.patientShare == Money(centavos: 152_950))
        #expect(r.outcome == .partial)
        // every line: eligible = benefit + patient share
        for l in r.lines { #expect(l.eligible == l.benefit + l.patientShare) }
        // with the deductible already met, the same consultation pays 90 %
        let later = Adjudicator().adjudicate([.init(sequence: 1, code: "02.001")], plan: Self.privatePlan, active: true, deductibleMet: Money(pesos: 1_500))
        #expect(later.benefit == Money(centavos: 133_650) && later.patientShare == Money(centavos: 14_850) && later.outcome == .approved)
    }

    @Test func publicPlansPayTheTariffAndReduceWhatIsAboveIt() {
        let r = Adjudicator().adjudicate([.init(sequence: 1, code: "01.001", quantity: 2, submitted: Money(pesos: 2_000)),
                                          .init(sequence: 2, code: "99.999", submitted: Money(pesos: 50))],
                                         plan: Self.imss, active: true, deductibleMet: .zero)
        #expect(r.lines[0].status == .reduced && r.lines[0].reason == .aboveTariff)
        #expect(r.lines[0].eligible == Money(pesos: 1_652) && r.lines[0].benefit == Money(pesos: 1_652) && r.lines[0].patientShare == .zero)
        #expect(r.lines[1].status == .denied && r.lines[1].reason == .unknownService)
        #expect(r.outcome == .partial)
        let inactive = Adjudicator().adjudicate([.init(sequence: 1, code: "01.001")], plan: Self.imss, active: false, deductibleMet: .zero)
        #expect(inactive.outcome == .denied && inactive.lines[0].reason == .coverageInactive && inactive.benefit == .zero)
    }
}

@Suite("Claim submission")
struct SubmissionTests {
    @Test func aClaimIsAdjudicatedIntoAClaimResponseAndAnEOB() async throws {
        let f = try await FinancingFixture()
        let claim = FinancingFixture.claim("ana-1", patient: "p1", provider: "hospital-santa-fe", coverage: "p1-vp", date: "2026-08-14",
                                           items: [("02.001", 1, nil), ("03.001", 1, nil), ("08.001", 1, nil)])
        let s = try await FinancingService().submit(claim: claim, guarded: f.guarded(), now: FinancingFixture.now)
        #expect(s.created)
        let cr = s.claimResponse
        #expect(cr["outcome"]?.stringValue == "partial")
        #expect(cr["request"]?["reference"]?.stringValue == "Claim/\(s.claim["id"]!.stringValue!)")
        #expect(cr["item"]?.arrayValue?.count == 3)
        let denied = cr["item"]!.arrayValue![2]["adjudication"]!.arrayValue!.first { $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "benefit" }
        #expect(denied?["reason"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "ar001")
        let eob = s.explanationOfBenefit
        #expect(eob["claimResponse"]?["reference"]?.stringValue == "ClaimResponse/\(cr["id"]!.stringValue!)")
        #expect(eob["payment"]?["amount"]?["value"] == .number("265.50"))
        // the journal entry is in the ClaimResponse: the insurer owes the hospital 265.50, Ana 1,529.50
        let entries = try JournalExtension.entries(in: cr, source: "ClaimResponse")
        #expect(entries.count == 1 && entries[0].isBalanced)
        let ledger = try await FinancingService().ledger(guarded: f.guarded())
        #expect(ledger.balance(.receivable("Organization/hospital-santa-fe", from: "Organization/seguros-vida-plena")) == Money(centavos: 26_550))
        #expect(ledger.balance(.receivable("Organization/hospital-santa-fe", from: "Patient/p1")) == Money(centavos: 152_950))
        #expect(ledger.violations().isEmpty)
        // the Provenance of the adjudication names the plan and the tariff with their versions
        let target = "ClaimResponse/\(cr["id"]!.stringValue!)/"
        let provenances = try await FinancingService.all("Provenance", [], guarded: f.guarded()).filter { p in
            (p["target"]?.arrayValue ?? []).contains { ($0["reference"]?.stringValue ?? "").hasPrefix(target) }
        }
        #expect(provenances.count == 1)
        let policies = provenances.flatMap { $0["policy"]?.arrayValue ?? [] }.compactMap(\.stringValue)
        #expect(policies.contains("https://enlace.mx/fhir/InsurancePlan/vida-plena-gmm-basico|2026.1"))
        #expect(policies.contains("https://enlace.mx/fhir/tariff/tabulador-intercambio|2026.1"))
        // the deductible met carries over to the next claim of the year
        let second = try await FinancingService().submit(
            claim: FinancingFixture.claim("ana-2", patient: "p1", provider: "hospital-santa-fe", coverage: "p1-vp", date: "2026-09-01", items: [("02.001", 1, nil)]),
            guarded: f.guarded(), now: FinancingFixture.now)
        #expect(second.explanationOfBenefit["payment"]?["amount"]?["value"] == .number("1336.50"))
    }

    @Test func aRetriedSubmissionReturnsTheFirstResultAndStoresNothingMore() async throws {
        let f = try await FinancingFixture()
        let claim = FinancingFixture.claim("retry-1", patient: "p3", provider: "imss-umf-20", coverage: "p3-imss", date: "2026-08-14", items: [("01.001", 1, nil)])
        let first = try await FinancingService().submit(claim: claim, guarded: f.guarded(), now: FinancingFixture.now)
        // a retry with the same identifier (even with other content) is the same result
        let changed = FinancingFixture.claim("retry-1", patient: "p3", provider: "imss-umf-20", coverage: "p3-imss", date: "2026-08-14", items: [("02.001", 3, nil)])
        let again = try await FinancingService().submit(claim: changed, guarded: f.guarded(), now: FinancingFixture.now)
        #expect(!again.created)
        #expect(again.claimResponse["id"] == first.claimResponse["id"])
        #expect(try await f.count("Claim") == 1)
        #expect(try await f.count("ClaimResponse") == 1)
        #expect(try await f.count("ExplanationOfBenefit") == 1)
    }

    /// Eight submissions of one identifier at once: one Claim, one ClaimResponse, one EOB, one journal entry.
    @Test func concurrentRetriesMakeOneClaim() async throws {
        let f = try await FinancingFixture()
        let claim = FinancingFixture.claim("race-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-08-14", items: [("01.001", 1, nil)])
        let guarded = try await f.guarded()
        let ids = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { try await FinancingService().submit(claim: claim, guarded: guarded, now: FinancingFixture.now).claimResponse["id"]!.stringValue! } }
            var out: Set<String> = []
            for try await id in group { out.insert(id) }
            return out
        }
        #expect(ids.count == 1)
        #expect(try await f.count("Claim") == 1)
        #expect(try await f.count("ClaimResponse") == 1)
        #expect(try await f.count("ExplanationOfBenefit") == 1)
        let ledger = try await FinancingService().ledger(guarded: f.guarded())
        #expect(ledger.entries.count == 1)
        #expect(ledger.balance(.receivable("Organization/imss", from: "Organization/issste")) == Money(pesos: 826))
    }

    @Test func badClaimsAreRefusedWithAPreciseOutcome() async throws {
        let f = try await FinancingFixture()
        let g = try await f.guarded()
        let sixDecimals = FinancingFixture.claim("bad-1", patient: "p1", provider: "imss-umf-20", coverage: "p1-imss", date: "2026-08-14", items: [("01.001", 1, "826.005")])
        let e1 = await #expect(throws: FHIRError.self) { try await FinancingService().submit(claim: sixDecimals, guarded: g, now: FinancingFixture.now) }
        #expect(e1?.issues.first?.expression == ["Claim.item[0].net"])
        let otherPatients = FinancingFixture.claim("bad-2", patient: "p2", provider: "imss-umf-20", coverage: "p1-imss", date: "2026-08-14", items: [("01.001", 1, nil)])
        let e2 = await #expect(throws: FHIRError.self) { try await FinancingService().submit(claim: otherPatients, guarded: g, now: FinancingFixture.now) }
        #expect(e2?.status == 422)
        let noIdentifier = otherPatients.setting("identifier", nil)
        let e3 = await #expect(throws: FHIRError.self) { try await FinancingService().submit(claim: noIdentifier, guarded: g, now: FinancingFixture.now) }
        #expect(e3?.issues.first?.expression == ["Claim.identifier"])
        #expect(try await f.count("Claim") == 0)
    }

    @Test func eligibilityAnswersCoverageAndWhatThePatientWouldPay() async throws {
        let f = try await FinancingFixture()
        func request(_ coverage: String, _ patient: String, date: String) -> JSON {
            J.o(("resourceType", .string("CoverageEligibilityRequest")), ("status", .string("active")), ("purpose", J.a([.string("benefits")])),
                ("patient", J.ref("Patient/\(patient)")), ("servicedDate", .string(date)), ("created", .string(date)),
                ("insurer", J.ref("Organization/seguros-vida-plena")),
                ("insurance", J.a([J.o(("coverage", J.ref("Coverage/\(coverage)")))])),
                ("item", J.a([J.o(("productOrService", J.concept(Tariff.intercambio2026.system, "02.001"))),
                              J.o(("productOrService", J.concept(Tariff.intercambio2026.system, "08.001")))])))
        }
        let r = try await FinancingService().eligibility(request: request("p1-vp", "p1", date: "2026-08-14"), guarded: f.guarded(), now: FinancingFixture.now)
        let ins = r["insurance"]!.arrayValue![0]
        #expect(ins["inforce"] == .bool(true))
        #expect(ins["item"]?.arrayValue?[0]["excluded"] == .bool(false))
        #expect(ins["item"]?.arrayValue?[1]["excluded"] == .bool(true))
        let share = ins["item"]!.arrayValue![0]["benefit"]!.arrayValue!.first { $0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "patient-share" }
        #expect(share?["allowedMoney"]?["value"] == .number("1485.00"))  // all deductible
        let old = try await FinancingService().eligibility(request: request("p4-vp-old", "p4", date: "2026-08-14"), guarded: f.guarded(), now: FinancingFixture.now)
        #expect(old["insurance"]!.arrayValue![0]["inforce"] == .bool(false))
        #expect(try await f.count("Claim") == 0)
    }
}
