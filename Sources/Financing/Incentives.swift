import FHIR
import Foundation

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
    public var canonical: String { "https://enlace.mx/fhir/incentive-contract/\(id)|\(version)" }

    public init(id: String, version: String, title: String, payer: String, terms: [Term]) {
        self.id = id
        self.version = version
        self.title = title
        self.payer = payer
        self.terms = terms
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
    /// 1,500.00), continuity of care (70 %, 60 %, 1,000.00). Amounts are a sample.
    public static let imssCalidad2026 = IncentiveContract(
        id: "imss-calidad", version: "2026.1", title: "Incentivos de calidad IMSS 2026 (muestra)", payer: "Organization/imss",
        terms: [
            Term(measure: "diabetes-hba1c-control", targetBasisPoints: 5_000, baselineBasisPoints: 4_000, bonusPerPoint: Money(pesos: 2_500)),
            Term(measure: "hypertension-control", targetBasisPoints: 6_000, baselineBasisPoints: 5_000, bonusPerPoint: Money(pesos: 1_500)),
            Term(measure: "continuity-of-care", targetBasisPoints: 7_000, baselineBasisPoints: 6_000, bonusPerPoint: Money(pesos: 1_000)),
        ])
}
