import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

@Suite("Settlement between institutions")
struct SettlementTests {
    /// By hand: in 2026-Q3 the IMSS clinic saw an ISSSTE beneficiary (2 × 826.00 + 310.00 =
    /// 1,962.00) and the ISSSTE clinic saw an IMSS beneficiary (1,485.00 + 62.00 = 1,547.00).
    /// Netted, ISSSTE pays IMSS 415.00. A claim dated in Q3 that arrives after the settlement
    /// counts in Q4; settling Q3 again changes nothing.
    @Test func twoInstitutionsAreNettedExactly() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        _ = try await service.submit(claim: FinancingFixture.claim("x-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                   items: [("01.001", 2, nil), ("03.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        _ = try await service.submit(claim: FinancingFixture.claim("x-2", patient: "p3", provider: "issste-cmf-tlalpan", coverage: "p3-imss", date: "2026-09-20",
                                                                   items: [("02.001", 1, nil), ("03.002", 1, nil)]), guarded: g, now: FinancingFixture.now)
        // another quarter's service does not count in Q3
        _ = try await service.submit(claim: FinancingFixture.claim("x-3", patient: "p3", provider: "issste-cmf-tlalpan", coverage: "p3-imss", date: "2026-10-02",
                                                                   items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let q3 = Period(year: 2026, quarter: 3)
        let result = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        #expect(result.created)
        #expect(result.statement == [PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: 1_962), owedToB: Money(pesos: 1_547))])
        let rec = try #require(result.resources.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        #expect(rec["paymentAmount"]?["value"] == .number("415.00"))
        #expect(rec["paymentIssuer"]?["reference"]?.stringValue == "Organization/issste")
        let details = rec["detail"]?.arrayValue ?? []
        #expect(details.map { $0["amount"]?["value"] } == [.number("1962.00"), .number("1547.00")])
        // the IMSS detail totals by tariff code: 1,652.00 of consultations and 310.00 of HbA1c
        let totals = (details[0]["extension"]?.arrayValue ?? []).map { e -> (String, JSON?) in
            let parts = e["extension"]?.arrayValue ?? []
            return (parts[0]["valueCoding"]?["code"]?.stringValue ?? "", parts[1]["valueMoney"]?["value"])
        }
        #expect(totals.map(\.0) == ["01.001", "03.001"] && totals.map(\.1) == [.number("1652.00"), .number("310.00")])
        let notice = try #require(result.resources.first { $0["resourceType"]?.stringValue == "PaymentNotice" })
        #expect(notice["amount"]?["value"] == .number("415.00") && notice["recipient"]?["reference"]?.stringValue == "Organization/imss")
        #expect(notice["payment"]?["reference"]?.stringValue == "PaymentReconciliation/\(rec["id"]!.stringValue!)")

        // the ledger read back: Q3 is settled, cleared, and its statement reproducible
        var ledger = try await service.ledger(guarded: g)
        #expect(ledger.settled == [q3])
        #expect(ledger.statement(for: q3) == result.statement)
        #expect(ledger.violations().isEmpty)
        #expect(ledger.balance(.cash("Organization/imss")) == Money(pesos: 415))
        #expect(ledger.balance(.cash("Organization/issste")) == Money(pesos: -415))
        // a late Q3 claim goes to Q4, and settling Q3 again is the same settlement
        let late = try await service.submit(claim: FinancingFixture.claim("x-4", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-09-29",
                                                                          items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        #expect(try JournalExtension.entries(in: late.claimResponse, source: "").first?.period == q3.next)
        let again = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        #expect(!again.created && again.statement == result.statement)
        #expect(try await f.count("PaymentReconciliation") == 1)
        ledger = try await service.ledger(guarded: g)
        #expect(ledger.statement(for: q3.next) == [PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: 826), owedToB: Money(pesos: 826))])
        #expect(ledger.violations().isEmpty)
    }
}

@Suite("Incentives in the settlement")
struct IncentiveSettlementTests {
    /// By hand: p1, p2, p3 are managed by the IMSS UMF 20 and have diabetes; their last HbA1c
    /// of the year to 2026-09-30 is 6.5, 6.0 and 8.0: 2 of 3 controlled, a rate of 6,666 basis
    /// points (66.66 %, rounded down). The sample contract (target 50 %, baseline 40 %,
    /// 2,500.00 per whole point above it) pays (6,666 − 4,000) / 100 = 26 points = 65,000.00,
    /// which IMSS owes its unit in Q3's settlement beside the services IMSS and ISSSTE gave
    /// each other. Hypertension (nobody in the denominator) earns nothing. Reversed, the
    /// incentive comes back out in Q4.
    /// The fixture above: three diabetics of the IMSS UMF 20 (2 of 3 controlled) and one claim
    /// of Q3 between IMSS and ISSSTE.
    static func earnedIncentive() async throws -> (FinancingFixture, GuardedRepository) {
        let f = try await FinancingFixture()
        var patients: [JSON] = []
        for p in ["p1", "p2", "p3"] {
            patients.append(J.o(("resourceType", .string("Patient")), ("id", .string(p)), ("active", .bool(true)),
                                ("managingOrganization", J.ref("Organization/imss-umf-20"))))
        }
        try await f.put(patients + [
            MeasureTests.condition("c1", "p1", "E11.9"), MeasureTests.condition("c2", "p2", "E11.9"), MeasureTests.condition("c3", "p3", "E11.65"),
            MeasureTests.observation("o1", "p1", "4548-4", "6.5", "2026-08-01T10:00:00Z"), MeasureTests.observation("o2", "p2", "4548-4", "6.0", "2026-07-15T10:00:00Z"),
            MeasureTests.observation("o3", "p3", "4548-4", "8.0", "2026-09-01T10:00:00Z"),
            // after the period's end: does not count for Q3
            MeasureTests.observation("o4", "p3", "4548-4", "5.0", "2026-10-02T10:00:00Z"),
        ])
        let g = try await f.guarded()
        _ = try await FinancingService().submit(claim: FinancingFixture.claim("i-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                              items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        return (f, g)
    }

    @Test func aMetTargetIsALineOfThePeriodsSettlement() async throws {
        let (_, g) = try await Self.earnedIncentive()
        let service = FinancingService()
        let q3 = Period(year: 2026, quarter: 3)
        let lines = try await service.incentives(q3, contracts: IncentiveContract.all, guarded: g, now: FinancingFixture.now)
        #expect(lines == [IncentiveLine(contract: "https://enlace.mx/fhir/incentive-contract/imss-calidad|2026.1", measure: "diabetes-hba1c-control",
                                        payer: "Organization/imss", payee: "Organization/imss-umf-20", numerator: 2, denominator: 3, amount: Money(pesos: 65_000))])
        // nothing is earned under a contract whose target is not met
        var strict = IncentiveContract.imssCalidad2026
        strict.terms = strict.terms.map { var t = $0; t.targetBasisPoints = 7_000; return t }
        #expect(try await service.incentives(q3, contracts: [strict], guarded: g, now: FinancingFixture.now).isEmpty)

        let result = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        #expect(result.statement.contains(PairSettlement(a: "Organization/imss", b: "Organization/imss-umf-20", owedToA: .zero, owedToB: Money(pesos: 65_000))))
        #expect(result.statement.contains(PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: 826), owedToB: .zero)))
        let rec = try #require(result.resources.first { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasSuffix("Organization.imss-umf-20") })
        #expect(rec["paymentAmount"]?["value"] == .number("65000.00") && rec["paymentIssuer"]?["reference"]?.stringValue == "Organization/imss")

        // the ledger read back holds it in Q3, settled, reproducible
        var ledger = try await service.ledger(guarded: g)
        let entry = try #require(ledger.entries.first { $0.kind == .incentive })
        #expect(entry.period == q3 && entry.id == lines[0].entryID(q3))
        #expect(ledger.balance(.revenue("Organization/imss-umf-20")) == Money(pesos: -65_000))
        #expect(ledger.statement(for: q3) == result.statement)
        #expect(ledger.violations().isEmpty)
        // the statement (portal, CSV, PDF) shows it as an incentive, not as a correction
        let statement = SettlementStatement(period: q3, reconciliations: result.resources)
        let direction = try #require(statement.pairs.flatMap(\.directions).first { $0.creditor == "Organization/imss-umf-20" })
        #expect(direction.incentives.map(\.amount) == [Money(pesos: 65_000)] && direction.incentives.first?.numerator == 2)
        #expect(direction.corrections == .zero && direction.total == Money(pesos: 65_000))
        #expect(statement.csv().contains("incentivo,Organization/imss-umf-20,Organization/imss,diabetes-hba1c-control,"))
        // settling again changes nothing (one incentive, never two)
        let again = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        #expect(!again.created && again.statement == result.statement)
        #expect(try await service.ledger(guarded: g).entries.filter { $0.kind == .incentive }.count == 1)
        // reversible: a reversal goes into the next open period, never into settled Q3
        let reversal = try ledger.reverse(entry.id, reversalID: "\(entry.id)~r", period: q3, date: "2026-10-05", source: "")
        #expect(reversal.period == q3.next)
        #expect(ledger.statement(for: q3.next).contains(PairSettlement(a: "Organization/imss", b: "Organization/imss-umf-20", owedToA: .zero, owedToB: Money(pesos: -65_000))))
        #expect(ledger.balance(.revenue("Organization/imss-umf-20")) == .zero)
        #expect(ledger.violations().isEmpty)
    }
}

extension IncentiveSettlementTests {
    /// An incentive line disputed with `$dispute` (`line` = the Measure) by the contract's payer,
    /// accepted by the unit paid: Q3 stays as settled, the whole 65,000.00 comes back out in Q4
    /// (a reversal held by the Task), and Q4's settlement has the unit owing IMSS exactly that.
    /// Refused precisely: a partial amount, an item, a measure that earned nothing, a unit of
    /// another institution, a second reversal.
    @Test func anAcceptedIncentiveDisputeReversesItInTheNextPeriod() async throws {
        let (f, g) = try await Self.earnedIncentive()
        let service = FinancingService()
        let q3 = Period(year: 2026, quarter: 3)
        let settled = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        let rec = try #require(settled.resources.first { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasSuffix("Organization.imss-umf-20") })
        let recID = try #require(rec["id"]?.stringValue)
        let imss = try await f.door.open(Principal(subject: "imss-officer", scopes: ScopeSet("system/*.cruds"), tokenID: "t2", organization: "Organization/imss"), audit: nil)
        let issste = try await f.door.open(Principal(subject: "issste-officer", scopes: ScopeSet("system/*.cruds"), tokenID: "t3", organization: "Organization/issste"), audit: nil)
        let unit = try await f.door.open(Principal(subject: "umf-officer", scopes: ScopeSet("system/*.cruds"), tokenID: "t4", organization: "Organization/imss-umf-20"), audit: nil)
        func refusal(_ line: String, item: Int? = nil, amount: Money? = nil, by guarded: GuardedRepository) async -> FHIRError? {
            await #expect(throws: FHIRError.self) {
                try await service.dispute(reconciliation: recID, line: line, item: item, reason: "medición con datos erróneos", amount: amount, guarded: guarded, now: FinancingFixture.now)
            }
        }
        #expect(await refusal("Measure/diabetes-hba1c-control", amount: Money(pesos: 1_000), by: imss)?.status == 422)
        #expect(await refusal("Measure/diabetes-hba1c-control", item: 1, by: imss)?.status == 400)
        #expect(await refusal("Measure/hypertension-control", by: imss)?.status == 422)
        #expect(await refusal("Measure/diabetes-hba1c-control", by: issste)?.status == 403)

        let (task, created) = try await service.dispute(reconciliation: recID, line: "Measure/diabetes-hba1c-control", item: nil, reason: "medición con datos erróneos",
                                                        amount: nil, guarded: imss, now: FinancingFixture.now)
        #expect(created && Disputes.status(task) == .open)
        #expect(task["requester"]?["reference"]?.stringValue == "Organization/imss" && task["owner"]?["reference"]?.stringValue == "Organization/imss-umf-20")
        #expect(Disputes.inputValue(task, "amount")?["valueMoney"]?["value"] == .number("65000.00"))
        // the same incentive by its journal entry id is the same dispute
        let entryID = IncentiveLine(contract: IncentiveContract.imssCalidad2026.canonical, measure: "diabetes-hba1c-control", payer: "Organization/imss",
                                    payee: "Organization/imss-umf-20", numerator: 2, denominator: 3, amount: Money(pesos: 65_000)).entryID(q3)
        let again = try await service.dispute(reconciliation: recID, line: entryID, item: nil, reason: "otra vez", amount: nil, guarded: imss, now: FinancingFixture.now)
        #expect(!again.created && again.task["id"] == task["id"])
        #expect(try await service.ledger(guarded: g).statement(for: q3.next).isEmpty)

        // the payer may not accept its own dispute: the unit paid does
        let taskID = try #require(task["id"]?.stringValue)
        let notOwner = await #expect(throws: FHIRError.self) { try await service.resolve(dispute: taskID, accept: true, note: nil, guarded: issste, now: FinancingFixture.now) }
        #expect(notOwner?.status == 403)
        let accepted = try await service.resolve(dispute: taskID, accept: true, note: "Procede", guarded: unit, now: FinancingFixture.now)
        #expect(Disputes.status(accepted) == .accepted && accepted["output"]?.arrayValue?.first?["valueString"]?.stringValue == "2026-Q4")

        let ledger = try await service.ledger(guarded: g)
        #expect(ledger.violations().isEmpty)
        #expect(ledger.statement(for: q3) == settled.statement)
        #expect(ledger.statement(for: q3.next) == [PairSettlement(a: "Organization/imss", b: "Organization/imss-umf-20", owedToA: .zero, owedToB: Money(pesos: -65_000))])
        #expect(ledger.balance(.revenue("Organization/imss-umf-20")) == .zero)
        #expect(ledger.entries.filter { $0.kind == .reversal && $0.reverses == entryID }.count == 1)
        let twice = await #expect(throws: FHIRError.self) { try await service.resolve(dispute: taskID, accept: true, note: nil, guarded: unit, now: FinancingFixture.now) }
        #expect(twice?.status == 409)

        // Q4 earns its own incentive (p3's October HbA1c of 5.0: 3 of 3 controlled); its
        // settlement nets that against the 65,000.00 taken back
        let earnedQ4 = try await service.incentives(q3.next, contracts: IncentiveContract.all, guarded: g, now: FinancingFixture.now).map(\.amount).sum()
        #expect(earnedQ4 == Money(pesos: 150_000))
        let q4 = try await service.settle(q3.next, guarded: g, now: FinancingFixture.now)
        #expect(q4.statement.contains(PairSettlement(a: "Organization/imss", b: "Organization/imss-umf-20", owedToA: .zero, owedToB: earnedQ4 - Money(pesos: 65_000))))
        let back = try #require(q4.resources.first { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasSuffix("Organization.imss-umf-20") })
        #expect(back["paymentAmount"]?["value"] == .number("85000.00") && back["paymentIssuer"]?["reference"]?.stringValue == "Organization/imss")
        let direction = try #require(SettlementStatement(period: q3.next, reconciliations: q4.resources).pairs.flatMap(\.directions).first { $0.creditor == "Organization/imss-umf-20" })
        #expect(direction.corrections == Money(pesos: -65_000) && direction.total == Money(pesos: 85_000))
        #expect(try await service.ledger(guarded: g).violations().isEmpty)
    }
}

@Suite("Quality measures")
struct MeasureTests {
    static func condition(_ id: String, _ patient: String, _ code: String) -> JSON {
        J.o(("resourceType", .string("Condition")), ("id", .string(id)),
            ("clinicalStatus", J.concept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")),
            ("code", J.concept("http://hl7.org/fhir/sid/icd-10", code)), ("subject", J.ref("Patient/\(patient)")), ("recordedDate", .string("2025-01-10")))
    }
    static func observation(_ id: String, _ patient: String, _ loinc: String, _ value: String, _ date: String) -> JSON {
        J.o(("resourceType", .string("Observation")), ("id", .string(id)), ("status", .string("final")),
            ("code", J.concept("http://loinc.org", loinc)), ("subject", J.ref("Patient/\(patient)")), ("effectiveDateTime", .string(date)),
            ("valueQuantity", J.o(("value", .number(value)), ("unit", .string("%")), ("system", .string("http://unitsofmeasure.org")), ("code", .string("%")))))
    }

    /// By hand: p1, p2, p3 have diabetes (p4 has hypertension only). p1's last HbA1c of the
    /// year is 6.8 (an older 8.1 does not count), p2's is 7.0 (not < 7), p3's only one is from
    /// 2024 (outside the 12 months). Denominator 3, numerator 1 (p1).
    @Test func hba1cControlIsCountedByHand() async throws {
        let f = try await FinancingFixture()
        try await f.put([
            Self.condition("c1", "p1", "E11.9"), Self.condition("c2", "p2", "E11.65"), Self.condition("c3", "p3", "E11.9"), Self.condition("c4", "p4", "I10"),
            Self.observation("o1", "p1", "4548-4", "8.1", "2026-02-01T10:00:00Z"), Self.observation("o2", "p1", "4548-4", "6.8", "2026-10-01T10:00:00Z"),
            Self.observation("o3", "p2", "4548-4", "7.0", "2026-06-01T10:00:00Z"), Self.observation("o4", "p3", "4548-4", "5.9", "2024-06-01T10:00:00Z"),
            Self.observation("o5", "p4", "4548-4", "5.5", "2026-06-01T10:00:00Z"),
        ])
        let request = MeasureEvaluator.Request(measureID: "diabetes-hba1c-control", periodStart: "2026-01-01", periodEnd: "2026-11-24", reportType: .subjectList)
        let report = try await MeasureEvaluator().report(request, guarded: f.guarded(), now: FinancingFixture.now)
        let pops = report["group"]!.arrayValue![0]["population"]!.arrayValue!
        func count(_ code: String) -> JSON? { pops.first { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == code }?["count"] }
        #expect(count("denominator") == .number("3") && count("numerator") == .number("1"))
        #expect(report["group"]!.arrayValue![0]["measureScore"]?["value"] == .number("0.3333"))
        let numeratorList = report["contained"]!.arrayValue!.first { $0["id"]?.stringValue == "numerator" }
        #expect(numeratorList?["entry"]?.arrayValue?.compactMap { $0["item"]?["reference"]?.stringValue } == ["Patient/p1"])
        // individual: p2 is in the denominator, not the numerator
        let p2 = try await MeasureEvaluator().report(.init(measureID: "diabetes-hba1c-control", periodStart: "2026-01-01", periodEnd: "2026-11-24",
                                                           reportType: .individual, subject: "Patient/p2"), guarded: f.guarded(), now: FinancingFixture.now)
        let p2pops = p2["group"]!.arrayValue![0]["population"]!.arrayValue!
        #expect(p2pops.map { $0["count"] } == [.number("1"), .number("1"), .number("0")])
        // a summary has counts and no lists
        let summary = try await MeasureEvaluator().report(.init(measureID: "diabetes-hba1c-control", periodStart: "2026-01-01", periodEnd: "2026-11-24",
                                                                reportType: .summary), guarded: f.guarded(), now: FinancingFixture.now)
        #expect(summary["contained"] == nil && summary["type"]?.stringValue == "summary")
    }
}
