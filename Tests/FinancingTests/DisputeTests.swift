import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

@Suite("Settlement disputes")
struct DisputeTests {
    /// By hand: Q3 as in the settlement test (ISSSTE owes IMSS 1,962.00, IMSS owes ISSSTE
    /// 1,547.00: net 415.00). ISSSTE disputes the HbA1c line (item 2, 310.00) of its
    /// beneficiary's claim; IMSS accepts. Q3 stays as settled; Q4 opens with IMSS owing ISSSTE
    /// the 310.00 back (a correction), so Q4's statement is owedToA −310.00.
    @Test func anAcceptedDisputeIsACorrectionInTheNextPeriod() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let x1 = try await service.submit(claim: FinancingFixture.claim("x-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                        items: [("01.001", 2, nil), ("03.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        _ = try await service.submit(claim: FinancingFixture.claim("x-2", patient: "p3", provider: "issste-cmf-tlalpan", coverage: "p3-imss", date: "2026-09-20",
                                                                   items: [("02.001", 1, nil), ("03.002", 1, nil)]), guarded: g, now: FinancingFixture.now)
        // IMSS serving its own beneficiary: in the period, but owed to nobody else (not settled)
        let own = try await service.submit(claim: FinancingFixture.claim("x-3", patient: "p3", provider: "imss-umf-20", coverage: "p3-imss", date: "2026-08-11",
                                                                         items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let q3 = Period(year: 2026, quarter: 3)
        let settled = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        let rec = try #require(settled.resources.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        let recID = rec["id"]!.stringValue!
        let line = "ClaimResponse/\(x1.claimResponse["id"]!.stringValue!)"

        // a line an institution owes itself is not a line of the settlement (CI once disputed
        // one: the "payer" was then also the institution owed)
        let ownLine = "ClaimResponse/\(own.claimResponse["id"]!.stringValue!)"
        let notALine = await #expect(throws: FHIRError.self) {
            try await service.dispute(reconciliation: recID, line: ownLine, item: nil, reason: "x", amount: nil, guarded: g, now: FinancingFixture.now)
        }
        #expect(notALine?.status == 422)

        // bad disputes are refused precisely
        await #expect(throws: FHIRError.self) { try await service.dispute(reconciliation: recID, line: line, item: nil, reason: " ", amount: nil, guarded: g, now: FinancingFixture.now) }
        await #expect(throws: FHIRError.self) { try await service.dispute(reconciliation: recID, line: line, item: 9, reason: "x", amount: nil, guarded: g, now: FinancingFixture.now) }
        await #expect(throws: FHIRError.self) {
            try await service.dispute(reconciliation: recID, line: line, item: 2, reason: "x", amount: Money(pesos: 311), guarded: g, now: FinancingFixture.now)
        }
        // another institution may not dispute what ISSSTE pays
        let imssOfficer = Principal(subject: "imss-officer", scopes: ScopeSet("system/*.cruds"), tokenID: "t2", organization: "Organization/imss")
        let imss = try await f.door.open(imssOfficer, audit: nil)
        let forbidden = await #expect(throws: FHIRError.self) {
            try await service.dispute(reconciliation: recID, line: line, item: 2, reason: "x", amount: nil, guarded: imss, now: FinancingFixture.now)
        }
        #expect(forbidden?.status == 403)

        let (task, created) = try await service.dispute(reconciliation: recID, line: line, item: 2, reason: "Estudio no solicitado / study not ordered",
                                                        amount: nil, guarded: g, now: FinancingFixture.now)
        #expect(created)
        #expect(task["status"]?.stringValue == "requested" && Disputes.status(task) == .open)
        #expect(task["requester"]?["reference"]?.stringValue == "Organization/issste" && task["owner"]?["reference"]?.stringValue == "Organization/imss")
        #expect(task["focus"]?["reference"]?.stringValue == "PaymentReconciliation/\(recID)")
        #expect(Disputes.inputValue(task, "amount")?["valueMoney"]?["value"] == .number("310.00"))
        // disputing the same line item again is the same dispute
        let again = try await service.dispute(reconciliation: recID, line: line, item: 2, reason: "otra vez", amount: nil, guarded: g, now: FinancingFixture.now)
        #expect(!again.created && again.task["id"] == task["id"])
        // an open dispute changes nothing in the ledger
        #expect(try await service.ledger(guarded: g).statement(for: q3.next).isEmpty)

        let accepted = try await service.resolve(dispute: task["id"]!.stringValue!, accept: true, note: "Procede", guarded: g, now: FinancingFixture.now)
        #expect(accepted["status"]?.stringValue == "completed" && Disputes.status(accepted) == .accepted)
        #expect(accepted["output"]?.arrayValue?.first?["valueString"]?.stringValue == "2026-Q4")
        // resolved once only
        let twice = await #expect(throws: FHIRError.self) {
            try await service.resolve(dispute: task["id"]!.stringValue!, accept: false, note: nil, guarded: g, now: FinancingFixture.now)
        }
        #expect(twice?.status == 409)

        let ledger = try await service.ledger(guarded: g)
        #expect(ledger.violations().isEmpty)
        // the settled period is as it was; the correction is in Q4
        #expect(ledger.statement(for: q3) == settled.statement)
        #expect(ledger.statement(for: q3.next) == [PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: -310), owedToB: .zero)])
        let next = try await service.settle(q3.next, guarded: g, now: FinancingFixture.now)
        let q4 = try #require(next.resources.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        #expect(q4["paymentAmount"]?["value"] == .number("310.00") && q4["paymentIssuer"]?["reference"]?.stringValue == "Organization/imss")
        #expect(try await service.ledger(guarded: g).violations().isEmpty)
    }

    @Test func aRejectedDisputeChangesNothing() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let x1 = try await service.submit(claim: FinancingFixture.claim("r-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                        items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let q3 = Period(year: 2026, quarter: 3)
        let settled = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        let recID = try #require(settled.resources.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" }?["id"]?.stringValue)
        let (task, _) = try await service.dispute(reconciliation: recID, line: "ClaimResponse/\(x1.claimResponse["id"]!.stringValue!)", item: nil,
                                                  reason: "No reconocemos la consulta", amount: Money(pesos: 100), guarded: g, now: FinancingFixture.now)
        let rejected = try await service.resolve(dispute: task["id"]!.stringValue!, accept: false, note: "Consulta documentada", guarded: g, now: FinancingFixture.now)
        #expect(rejected["status"]?.stringValue == "rejected" && Disputes.status(rejected) == .rejected)
        let ledger = try await service.ledger(guarded: g)
        #expect(ledger.entries.allSatisfy { $0.kind != .correction })
        #expect(ledger.statement(for: q3.next).isEmpty && ledger.violations().isEmpty)
    }
}
