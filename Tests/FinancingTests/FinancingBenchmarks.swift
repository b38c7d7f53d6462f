import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

/// Throughput of the financing link, run only by `bench/financing/run.sh` (ENLACE_BENCH_FINANCING
/// set; sizes from ENLACE_BENCH_CLAIMS / ENLACE_BENCH_LINES / ENLACE_BENCH_PATIENTS). Prints
/// figures; asserts only correctness, never time (docs/architecture.md: no timed unit tests).
@Suite("Financing benchmarks", .enabled(if: ProcessInfo.processInfo.environment["ENLACE_BENCH_FINANCING"] != nil))
struct FinancingBenchmarks {
    static func size(_ name: String, _ fallback: Int) -> Int { Int(ProcessInfo.processInfo.environment[name] ?? "") ?? fallback }
    static func seconds(_ start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    @Test func adjudicationThroughTheDoor() async throws {
        let n = Self.size("ENLACE_BENCH_CLAIMS", 200)
        let f = try await FinancingFixture()
        let g = try await f.guarded()
        let start = ContinuousClock.now
        for i in 0..<n {
            _ = try await FinancingService().submit(claim: FinancingFixture.claim("bench-\(i)", patient: "p\(1 + i % 3)", provider: "imss-umf-20",
                                                                                  coverage: ["p1-vp", "p2-issste", "p3-imss"][i % 3], date: "2026-08-14",
                                                                                  items: [("01.001", 1, nil), ("03.001", 1, nil)]),
                                                    guarded: g, now: FinancingFixture.now)
        }
        let s = Self.seconds(start)
        print("BENCH financing.adjudicate claims=\(n) seconds=\(String(format: "%.2f", s)) claims_per_second=\(String(format: "%.0f", Double(n) / s))")
        #expect(try await f.count("ClaimResponse") == n)
    }

    @Test func adjudicationRulesAlone() {
        let n = Self.size("ENLACE_BENCH_CLAIMS", 200) * 100
        let plan = try! BenefitPlan(insurancePlan: BenefitPlan.samples.first { $0["id"]?.stringValue == "vida-plena-gmm-basico" }!)
        let a = Adjudicator()
        let lines: [Adjudicator.Line] = [.init(sequence: 1, code: "02.001"), .init(sequence: 2, code: "03.001"), .init(sequence: 3, code: "08.001")]
        let start = ContinuousClock.now
        var total = Money.zero
        for i in 0..<n { total += a.adjudicate(lines, plan: plan, active: true, deductibleMet: Money(centavos: Int64(i % 200_000))).benefit }
        let s = Self.seconds(start)
        print("BENCH financing.rules claims=\(n) seconds=\(String(format: "%.2f", s)) claims_per_second=\(String(format: "%.0f", Double(n) / s))")
        #expect(total > .zero)
    }

    @Test func settlingManyServiceLines() throws {
        let n = Self.size("ENLACE_BENCH_LINES", 100_000)
        let orgs = ["Organization/imss", "Organization/issste", "Organization/imss-bienestar", "Organization/pemex"]
        var ledger = Ledger()
        let q = Period(year: 2026, quarter: 3)
        var rng = SeededRandom(state: 7)
        let start = ContinuousClock.now
        for i in 0..<n {
            let a = orgs[i % 4], b = orgs[(i % 4 + 1 + (i / 4) % 3) % 4]
            try ledger.post(.claim(id: "l\(i)", period: q, date: "2026-08-01", source: "", provider: a, payer: b, patient: "Patient/p\(i % 1000)",
                                   payerShare: Money(centavos: Int64(rng.int(100...500_000))), patientShare: .zero))
        }
        let posted = Self.seconds(start)
        let statement = try ledger.settle(q)
        let s = Self.seconds(start)
        print("BENCH financing.settle lines=\(n) post_seconds=\(String(format: "%.2f", posted)) total_seconds=\(String(format: "%.2f", s)) pairs=\(statement.count)")
        #expect(!statement.isEmpty)
    }
}
