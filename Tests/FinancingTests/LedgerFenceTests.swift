import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

/// `LedgerFence` with the interleaving made by hand (docs/financing.md, "Races"): an operation
/// prepared on what it read, then written after another wrote what it did not see — as on two
/// nodes — is refused in its transaction (a 409 the services retry), and done again it is right.
@Suite("The ledger's fence")
struct LedgerFenceTests {
    static func write(_ prepared: FinancingService.Prepared, _ guarded: GuardedRepository) async throws {
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(prepared.entries)))
        _ = try await guarded.process(bundle: bundle, options: .init(base: "urn:test", maxEntries: 3))
    }

    /// The error `body` throws, if a FHIRError.
    static func refusal(_ body: () async throws -> Void) async -> FHIRError? {
        do { try await body() } catch let e as FHIRError { return e } catch { return nil }
        return nil
    }

    /// Two claims of p1 under her private policy (deductible 1,500.00), both adjudicated on
    /// nothing met: the first written applies 1,170.00; the second, written after, is refused
    /// (it had also assumed nothing met), and submitted again applies the remaining 330.00.
    @Test func aDeductibleReadBeforeAnotherClaimIsNotUsedTwice() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService(gate: FinancingWriteGate())
        let g = try await f.guarded()
        let claims = (1...2).map { FinancingFixture.claim("fence-\($0)", patient: "p1", provider: "hospital-santa-fe", coverage: "p1-vp", date: "2026-08-1\($0)",
                                                          items: [("01.002", 1, nil)]) }
        var prepared: [FinancingService.Prepared] = []
        for c in claims { prepared.append(try await service.prepare(claim: c, input: ClaimInput(claim: c, tariff: service.tariff), guarded: g, now: FinancingFixture.now)) }
        #expect(prepared.map(\.result.deductibleApplied) == [Money(centavos: 117_000), Money(centavos: 117_000)])
        try await Self.write(prepared[0], g)
        let refused = await Self.refusal { try await Self.write(prepared[1], g) }
        #expect(refused.map(LedgerFence.isMoved) == true, "\(String(describing: refused))")
        #expect(refused?.issues.first?.spanish.contains("deducible") == true)
        #expect(try await f.count("ClaimResponse") == 1)
        let again = try await service.submit(claim: claims[1], guarded: g, now: FinancingFixture.now)
        #expect(again.created && again.result?.deductibleApplied == Money(centavos: 33_000))
        #expect(try await service.ledger(guarded: g).violations() == [])
    }

    /// A claim of 2026-Q3 adjudicated before the quarter is settled and written after: refused
    /// (its entry would be in a settled period); submitted again it lands in 2026-Q4, and the
    /// settlement stays equal to its statement.
    @Test func aClaimReadBeforeASettlementAndWrittenAfterIsRefused() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService(gate: FinancingWriteGate())
        let g = try await f.guarded()
        let first = FinancingFixture.claim("q3-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-08-01", items: [("01.001", 1, nil)])
        _ = try await service.submit(claim: first, guarded: g, now: FinancingFixture.now)
        let late = FinancingFixture.claim("q3-2", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-09-29", items: [("01.001", 1, nil)])
        let prepared = try await service.prepare(claim: late, input: ClaimInput(claim: late, tariff: service.tariff), guarded: g, now: FinancingFixture.now)
        #expect(prepared.entry.period.description == "2026-Q3")
        _ = try await service.settle(Period("2026-Q3")!, guarded: g, now: FinancingFixture.now)
        let refused = await Self.refusal { try await Self.write(prepared, g) }
        #expect(refused.map(LedgerFence.isMoved) == true, "\(String(describing: refused))")
        #expect(refused?.status == 409 && refused?.issues.first?.spanish.contains("se liquidó") == true)
        let again = try await service.submit(claim: late, guarded: g, now: FinancingFixture.now)
        let ledger = try await service.ledger(guarded: g)
        #expect(ledger.entry("claim:https://enlace.mx/test/claims|q3-2")?.period.description == "2026-Q4")
        #expect(again.created)
        #expect(ledger.violations() == [])
    }
}
