import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

/// `Claim/{id}/$correct` (docs/financing.md, "Corrections"): a new version with its reason,
/// the earlier journal entry reversed and the new one posted, nothing counted twice.
@Suite("Claim corrections")
struct ClaimCorrectionTests {
    static func entries(_ response: JSON) throws -> [JournalEntry] { try JournalExtension.entries(in: response, source: "") }

    /// By hand: the IMSS UMF 20 claimed two consultations (2 × 826.00 = 1,652.00) for an ISSSTE
    /// beneficiary; corrected to one consultation and an HbA1c (826.00 + 310.00 = 1,136.00).
    /// Q3 then owes 1,136.00: the 1,652.00 entry, its reversal and the 1,136.00 entry. After Q3
    /// is settled, a second correction (back to 826.00) goes into Q4 as −1,136.00 + 826.00.
    @Test func aCorrectionReversesTheEntryAndPostsTheNewOne() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let first = try await service.submit(claim: FinancingFixture.claim("k-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                           items: [("01.001", 2, nil)]), guarded: g, now: FinancingFixture.now)
        let claimID = try #require(first.claim["id"]?.stringValue)
        let corrected = FinancingFixture.claim("k-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                               items: [("01.001", 1, nil), ("03.001", 1, nil)])
        let c = try await service.correct(claim: claimID, corrected: corrected, reason: "Se registró una consulta de más", guarded: g, now: FinancingFixture.now)
        #expect(c.claim["meta"]?["versionId"]?.stringValue == "2")
        #expect(c.claim["extension"]?.arrayValue?.contains { $0["url"]?.stringValue == FinancingService.correctionReasonURL
            && $0["valueString"]?.stringValue == "Se registró una consulta de más" } == true)
        #expect(c.claim["item"]?.arrayValue?.count == 2)
        let held = try Self.entries(c.claimResponse)
        #expect(held.map(\.kind) == [.claim, .reversal, .claim])
        #expect(held[1].reverses == held[0].id && c.reversal.id == held[1].id && c.entry.id == held[2].id)
        #expect(c.explanationOfBenefit["payment"]?["amount"]?["value"] == .number("1136.00"))
        // one Claim, one ClaimResponse, one EOB: new versions, not new resources
        for type in ["Claim", "ClaimResponse", "ExplanationOfBenefit"] { #expect(try await f.count(type) == 1, "\(type)") }
        let q3 = Period(year: 2026, quarter: 3)
        var ledger = try await service.ledger(guarded: g)
        #expect(ledger.statement(for: q3) == [PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: 1_136), owedToB: .zero)])
        #expect(ledger.violations().isEmpty)
        // the Provenance of the correction says why
        let provenances = try await FinancingService.all("Provenance", [("target", "Claim/\(claimID)")], guarded: g)
        #expect(provenances.contains { $0["reason"]?.arrayValue?.first?["text"]?.stringValue?.contains("Se registró una consulta de más") == true })
        // a retried submit of the identifier returns the corrected result
        let retry = try await service.submit(claim: corrected, guarded: g, now: FinancingFixture.now)
        let retried = try Self.entries(retry.claimResponse)
        #expect(!retry.created && retried.count == 3)

        let settled = try await service.settle(q3, guarded: g, now: FinancingFixture.now, contracts: [])
        let servicesQ3 = SettlementStatement(period: q3, reconciliations: settled.resources).pairs.first?.directions.first
        #expect(servicesQ3?.services.map(\.amount) == [Money(pesos: 826), Money(pesos: 310)] && servicesQ3?.corrections == .zero)
        let again = try await service.correct(claim: claimID, corrected: FinancingFixture.claim("k-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste",
                                                                                              date: "2026-07-03", items: [("01.001", 1, nil)]),
                                              reason: "El estudio no se hizo", guarded: g, now: FinancingFixture.now)
        #expect(again.reversal.period == q3.next && again.entry.period == q3.next)
        ledger = try await service.ledger(guarded: g)
        #expect(ledger.statement(for: q3) == settled.statement)
        #expect(ledger.statement(for: q3.next) == [PairSettlement(a: "Organization/imss", b: "Organization/issste", owedToA: Money(pesos: 826 - 1_136), owedToB: .zero)])
        #expect(ledger.balance(.revenue("Organization/imss")) == Money(pesos: -826))
        #expect(ledger.violations().isEmpty)
    }

    /// By hand: Vida Plena's deductible is 1,500.00 a year. A first claim of 1,485.00 used
    /// 1,485.00 of it; corrected to 1,485.00 + 826.00 = 2,311.00, the correction applies the
    /// whole 1,500.00 (its own earlier 1,485.00 is not counted as already met) and 10 % of the
    /// remaining 811.00 = 81.10: the insurer pays 729.90.
    @Test func theCorrectedClaimDoesNotCountItsOwnEarlierDeductible() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let first = try await service.submit(claim: FinancingFixture.claim("k-2", patient: "p1", provider: "hospital-santa-fe", coverage: "p1-vp", date: "2026-08-03",
                                                                           items: [("02.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let c = try await service.correct(claim: first.claim["id"]!.stringValue!,
                                          corrected: FinancingFixture.claim("k-2", patient: "p1", provider: "hospital-santa-fe", coverage: "p1-vp", date: "2026-08-03",
                                                                            items: [("02.001", 1, nil), ("01.001", 1, nil)]),
                                          reason: "Faltó la consulta", guarded: g, now: FinancingFixture.now)
        let totals = Dictionary(uniqueKeysWithValues: (c.explanationOfBenefit["total"]?.arrayValue ?? []).compactMap { t -> (String, JSON)? in
            guard let code = t["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue, let v = t["amount"]?["value"] else { return nil }
            return (code, v)
        })
        #expect(totals["deductible"] == .number("1500.00"), "\(totals)")
        #expect(c.explanationOfBenefit["payment"]?["amount"]?["value"] == .number("729.90"))
        #expect(try await service.ledger(guarded: g).violations().isEmpty)
    }

    @Test func badCorrectionsAreRefusedAndChangeNothing() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let first = try await service.submit(claim: FinancingFixture.claim("k-3", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                           items: [("01.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let id = first.claim["id"]!.stringValue!
        let same = FinancingFixture.claim("k-3", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03", items: [("01.001", 2, nil)])
        func status(_ body: @Sendable () async throws -> Void) async -> Int? {
            do { try await body(); return nil } catch let e as FHIRError { return e.status } catch { return -1 }
        }
        #expect(await status { _ = try await service.correct(claim: id, corrected: same, reason: "  ", guarded: g, now: FinancingFixture.now) } == 400)
        let otherID = FinancingFixture.claim("k-4", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03", items: [("01.001", 2, nil)])
        #expect(await status { _ = try await service.correct(claim: id, corrected: otherID, reason: "x", guarded: g, now: FinancingFixture.now) } == 422)
        let otherPatient = FinancingFixture.claim("k-3", patient: "p3", provider: "imss-umf-20", coverage: "p3-imss", date: "2026-07-03", items: [("01.001", 2, nil)])
        #expect(await status { _ = try await service.correct(claim: id, corrected: otherPatient, reason: "x", guarded: g, now: FinancingFixture.now) } == 422)
        let notInTariff = FinancingFixture.claim("k-3", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03", items: [("99.999", 1, nil)])
        let denied = await status { _ = try await service.correct(claim: id, corrected: notInTariff.setting("identifier", nil), reason: "x", guarded: g, now: FinancingFixture.now) }
        #expect(denied == 422)
        #expect(await status { _ = try await service.correct(claim: "nope", corrected: same, reason: "x", guarded: g, now: FinancingFixture.now) } == 404)
        // nothing changed
        let response = try #require(try await FinancingService.all("ClaimResponse", [], guarded: g).first)
        let unchanged = try Self.entries(response)
        #expect(response["meta"]?["versionId"]?.stringValue == "1" && unchanged.count == 1)
    }
}
