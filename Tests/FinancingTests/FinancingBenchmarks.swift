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

    /// Claims adjudicated per second through the door (each: read the Coverage, plan, EOBs and
    /// settled periods, then one transaction of Claim + ClaimResponse + EOB + Provenances and its
    /// audit), then the settlement of their period read back from the stored resources — each
    /// beside its floor in the same run: transactions of three small creates through the same
    /// door, and a plain summing of the same journal entries' amounts.
    @Test func adjudicationThroughTheDoor() async throws {
        let n = Self.size("ENLACE_BENCH_CLAIMS", 200)
        let f = try await FinancingFixture()
        let g = try await f.guarded()
        // floor: n transactions of three minimal creates through the same door
        let floorStart = ContinuousClock.now
        for i in 0..<n {
            let entries = (0..<3).map { k in
                J.o(("resource", J.o(("resourceType", .string("Basic")), ("code", J.text("floor-\(i)-\(k)")))),
                    ("request", J.o(("method", .string("POST")), ("url", .string("Basic")))))
            }
            _ = try await g.process(bundle: J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(entries))),
                                    options: .init(base: "urn:bench", maxEntries: 3))
        }
        let floor = Self.seconds(floorStart)
        let start = ContinuousClock.now
        for i in 0..<n {
            _ = try await FinancingService().submit(claim: FinancingFixture.claim("bench-\(i)", patient: "p\(1 + i % 3)", provider: i % 2 == 0 ? "imss-umf-20" : "issste-cmf-tlalpan",
                                                                                  coverage: ["p1-vp", "p2-issste", "p3-imss"][i % 3], date: "2026-08-14",
                                                                                  items: [("01.001", 1, nil), ("03.001", 1, nil)]),
                                                    guarded: g, now: FinancingFixture.now)
        }
        let s = Self.seconds(start)
        print("BENCH financing.adjudicate claims=\(n) seconds=\(String(format: "%.2f", s)) claims_per_second=\(String(format: "%.0f", Double(n) / s))"
              + " floor_transactions_per_second=\(String(format: "%.0f", Double(n) / floor)) ratio_to_floor=\(String(format: "%.3f", floor / s))")
        #expect(try await f.count("ClaimResponse") == n)
        // the settlement of the period, from the stored ClaimResponses (ledger rebuilt, netted, written)
        let settleStart = ContinuousClock.now
        let result = try await FinancingService().settle(Period(year: 2026, quarter: 3), guarded: g, now: FinancingFixture.now, contracts: [])
        let settled = Self.seconds(settleStart)
        let ledgerFloorStart = ContinuousClock.now
        var sums: [String: Money] = [:]
        for r in try await FinancingService.all("ClaimResponse", [], guarded: g) {
            for e in try JournalExtension.entries(in: r, source: "") { for p in e.postings { sums[p.account.description, default: .zero] += p.amount } }
        }
        let ledgerFloor = Self.seconds(ledgerFloorStart)
        print("BENCH financing.settle_period claims=\(n) seconds=\(String(format: "%.3f", settled)) floor_read_and_sum_seconds=\(String(format: "%.3f", ledgerFloor))"
              + " ratio_to_floor=\(String(format: "%.2f", settled / max(ledgerFloor, 1e-6))) pairs=\(result.statement.count)")
        #expect(result.created && !sums.isEmpty)
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
        // floor: the same amounts summed per pair in a dictionary, nothing else
        var rng2 = SeededRandom(state: 7)
        let floorStart = ContinuousClock.now
        var owed: [String: Int64] = [:]
        for i in 0..<n {
            let a = orgs[i % 4], b = orgs[(i % 4 + 1 + (i / 4) % 3) % 4]
            owed[a + ">" + b, default: 0] += Int64(rng2.int(100...500_000))
        }
        let floor = Self.seconds(floorStart)
        print("BENCH financing.settle lines=\(n) post_seconds=\(String(format: "%.2f", posted)) total_seconds=\(String(format: "%.2f", s)) pairs=\(statement.count)"
              + " floor_seconds=\(String(format: "%.3f", floor)) ratio_to_floor=\(String(format: "%.1f", s / max(floor, 1e-6)))")
        #expect(!statement.isEmpty)
        // the statement equals the floor's sums: nothing lost
        #expect(statement.map { $0.owedToA + $0.owedToB }.sum().centavos == owed.values.reduce(0, +))
    }
}
