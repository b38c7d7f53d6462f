import FHIR
import Foundation
import Trust

/// A payer's quality contract: per measure, a target and a baseline rate and a bonus per whole
/// percentage point above the baseline, paid when the target is met (docs/financing.md,
/// "Incentives"). Versioned data; the shipped contract is a realistic sample, not an official one.
public struct IncentiveContract: Sendable, Hashable {
    public struct Term: Sendable, Hashable {
        public var measure: String
        /// Rates in basis points (10,000 = 100 %).
        public var targetBasisPoints: Int
        public var baselineBasisPoints: Int
        public var bonusPerPoint: Money
        public init(measure: String, targetBasisPoints: Int, baselineBasisPoints: Int, bonusPerPoint: Money) {
            self.measure = measure
            self.targetBasisPoints = targetBasisPoints
            self.baselineBasisPoints = baselineBasisPoints
            self.bonusPerPoint = bonusPerPoint
        }
    }

    public var id: String
    public var version: String
    public var title: String
    /// `Organization/x`: who pays the incentive.
    public var payer: String
    public var terms: [Term]
    /// `Organization/x`: the units (or institutions) the contract pays, each evaluated on the
    /// patients it manages (`$evaluate-measure` with `organization`).
    public var participants: [String]
    public var canonical: String { "https://enlace.mx/fhir/incentive-contract/\(id)|\(version)" }

    public init(id: String, version: String, title: String, payer: String, terms: [Term], participants: [String] = []) {
        self.id = id
        self.version = version
        self.title = title
        self.payer = payer
        self.terms = terms
        self.participants = participants
    }

    public func term(_ measure: String) -> Term? { terms.first { $0.measure == measure } }

    /// The rate in basis points, rounded down (nil: nobody in the denominator).
    public static func rate(numerator: Int, denominator: Int) -> Int? {
        guard denominator > 0, numerator >= 0 else { return nil }
        return Int((Int64(numerator) * 10_000) / Int64(denominator))
    }

    /// What `term` pays for a result: nothing below the target; at or above it, the bonus per
    /// whole percentage point above the baseline (exact centavos, never floating point).
    public static func earned(_ term: Term, numerator: Int, denominator: Int) -> Money {
        guard let rate = rate(numerator: numerator, denominator: denominator), rate >= term.targetBasisPoints,
              rate > term.baselineBasisPoints else { return .zero }
        let points = Int64((rate - term.baselineBasisPoints) / 100)
        return Money(centavos: term.bonusPerPoint.centavos * points)
    }

    /// The sample contract of IMSS with its units for 2026 (version 2026.1): HbA1c control
    /// (target 50 %, baseline 40 %, 2,500.00 MXN per point), hypertension control (60 %, 50 %,
    /// 1,500.00), continuity of care (70 %, 60 %, 1,000.00), paid to the IMSS UMF 20. Amounts
    /// are a sample.
    public static let imssCalidad2026 = IncentiveContract(
        id: "imss-calidad", version: "2026.1", title: "Incentivos de calidad IMSS 2026 (muestra)", payer: "Organization/imss",
        terms: [
            Term(measure: "diabetes-hba1c-control", targetBasisPoints: 5_000, baselineBasisPoints: 4_000, bonusPerPoint: Money(pesos: 2_500)),
            Term(measure: "hypertension-control", targetBasisPoints: 6_000, baselineBasisPoints: 5_000, bonusPerPoint: Money(pesos: 1_500)),
            Term(measure: "continuity-of-care", targetBasisPoints: 7_000, baselineBasisPoints: 6_000, bonusPerPoint: Money(pesos: 1_000)),
        ],
        participants: ["Organization/imss-umf-20"])

    /// The contracts `$settle` applies.
    public static let all = [imssCalidad2026]
}

/// One incentive earned for a period: a line of the settlement between `payer` and `payee`.
public struct IncentiveLine: Sendable, Hashable {
    public var contract: String
    public var measure: String
    public var payer: String
    public var payee: String
    public var numerator: Int
    public var denominator: Int
    public var amount: Money

    public init(contract: String, measure: String, payer: String, payee: String, numerator: Int, denominator: Int, amount: Money) {
        self.contract = contract
        self.measure = measure
        self.payer = payer
        self.payee = payee
        self.numerator = numerator
        self.denominator = denominator
        self.amount = amount
    }

    /// One per contract, period, payee and measure: a second settlement cannot count it twice.
    public func entryID(_ period: Period) -> String { "incentive:\(contract):\(period):\(payee):\(measure)" }

    public func entry(_ period: Period, source: String = "PaymentReconciliation") -> JournalEntry {
        .incentive(id: entryID(period), period: period, date: period.end, source: source, payer: payer, payee: payee, amount: amount)
    }

    static let extensionURL = "https://enlace.mx/fhir/StructureDefinition/incentive-total"

    /// The `detail` extension of the settlement that shows it (what was measured and paid).
    var json: JSON {
        J.o(("url", .string(Self.extensionURL)), ("extension", J.a([
            J.o(("url", .string("contract")), ("valueCanonical", .string(contract))),
            J.o(("url", .string("measure")), ("valueCanonical", .string("https://enlace.mx/fhir/Measure/\(measure)"))),
            J.o(("url", .string("numerator")), ("valueInteger", J.n(numerator))),
            J.o(("url", .string("denominator")), ("valueInteger", J.n(denominator))),
            J.o(("url", .string("amount")), ("valueMoney", amount.json)),
        ])))
    }

    /// Reads the `detail` extension back (nil: not one); `payer` and `payee` from the direction.
    init?(json e: JSON, payer: String, payee: String) {
        guard e["url"]?.stringValue == Self.extensionURL else { return nil }
        let parts = e["extension"]?.arrayValue ?? []
        func part(_ name: String) -> JSON? { parts.first { $0["url"]?.stringValue == name } }
        func int(_ name: String) -> Int { if case .number(let n)? = part(name)?["valueInteger"] { return Int(n) ?? 0 } else { return 0 } }
        guard let contract = part("contract")?["valueCanonical"]?.stringValue, let measure = part("measure")?["valueCanonical"]?.stringValue,
              let amount = try? Money(json: part("amount")?["valueMoney"], path: "") else { return nil }
        self.init(contract: contract, measure: String(measure.split(separator: "/").last ?? ""), payer: payer, payee: payee,
                  numerator: int("numerator"), denominator: int("denominator"), amount: amount)
    }
}

extension FinancingService {
    /// The incentives `contracts` owe for `period`: per participant and term, the measure
    /// evaluated over the period on the patients the participant manages, as the caller's guard
    /// sees them (a caller that may not read what a measure counts earns nobody anything), paid
    /// when the target is met (`IncentiveContract.earned`).
    public func incentives(_ period: Period, contracts: [IncentiveContract], guarded: GuardedRepository, now: Timestamp) async throws -> [IncentiveLine] {
        var out: [IncentiveLine] = []
        for contract in contracts {
            for payee in contract.participants where payee != contract.payer {
                for term in contract.terms {
                    let outcome: MeasureEvaluator.Outcome
                    do {
                        outcome = try await MeasureEvaluator().evaluate(.init(measureID: term.measure, periodStart: period.start, periodEnd: period.end,
                                                                              reportType: .summary, organization: payee), guarded: guarded)
                    } catch let e as FHIRError where e.status == 403 { continue }
                    let earned = IncentiveContract.earned(term, numerator: outcome.numerator.count, denominator: outcome.denominator.count)
                    guard earned > .zero else { continue }
                    out.append(IncentiveLine(contract: contract.canonical, measure: term.measure, payer: contract.payer, payee: payee,
                                             numerator: outcome.numerator.count, denominator: outcome.denominator.count, amount: earned))
                }
            }
        }
        return out
    }
}
