import FHIR

/// Enlace's rules engine for the payers it hosts: prices each claimed service by the tariff and
/// applies the plan (covered services, annual deductible, coinsurance, copay). Pure and
/// deterministic: the same claim, plan, tariff and deductible already met give the same result.
public struct Adjudicator: Sendable {
    public var tariff: Tariff

    public init(tariff: Tariff = .intercambio2026) { self.tariff = tariff }

    /// One claimed line.
    public struct Line: Sendable, Hashable {
        public var sequence: Int
        public var code: String
        public var quantity: Int
        /// What the provider asked for the line (nil: the tariff price).
        public var submitted: Money?
        public init(sequence: Int, code: String, quantity: Int = 1, submitted: Money? = nil) {
            self.sequence = sequence
            self.code = code
            self.quantity = quantity
            self.submitted = submitted
        }
    }

    /// Why a line was denied or reduced: an R4 adjudication-reason code
    /// (http://terminology.hl7.org/CodeSystem/adjudication-reason) or Enlace's own, with texts.
    public struct Reason: Sendable, Hashable {
        public var system: String
        public var code: String
        public var spanish: String
        public var english: String

        static let r4 = "http://terminology.hl7.org/CodeSystem/adjudication-reason"
        static let enlace = "https://enlace.mx/fhir/CodeSystem/adjudication-reason"
        public static let notCovered = Reason(system: r4, code: "ar001", spanish: "Servicio no cubierto por el plan", english: "Service not covered by the plan")
        public static let unknownService = Reason(system: enlace, code: "not-in-tariff", spanish: "El servicio no está en el tabulador",
                                                  english: "The service is not in the tariff table")
        public static let coverageInactive = Reason(system: enlace, code: "coverage-inactive", spanish: "La cobertura no estaba vigente en la fecha del servicio",
                                                    english: "The coverage was not in force on the date of service")
        public static let aboveTariff = Reason(system: enlace, code: "above-tariff", spanish: "Se paga al precio del tabulador",
                                               english: "Paid at the tariff price")
    }

    public enum Status: String, Sendable { case approved, reduced, denied }

    public struct LineResult: Sendable, Hashable {
        public var line: Line
        public var display: String
        public var status: Status
        public var reason: Reason?
        /// Submitted amount (what was asked, or tariff × quantity).
        public var submitted: Money
        /// What the plan recognises (tariff × quantity; zero when denied).
        public var eligible: Money
        public var deductible: Money
        public var coinsurance: Money
        public var copay: Money
        /// What the payer pays.
        public var benefit: Money
        /// What the patient owes.
        public var patientShare: Money { deductible + coinsurance + copay }
    }

    public enum Outcome: String, Sendable {
        /// Every line paid as asked.
        case approved
        /// Some lines denied or reduced.
        case partial
        /// Nothing paid.
        case denied
    }

    public struct Result: Sendable, Hashable {
        public var lines: [LineResult]
        public var submitted: Money { lines.map(\.submitted).sum() }
        public var eligible: Money { lines.map(\.eligible).sum() }
        public var benefit: Money { lines.map(\.benefit).sum() }
        public var patientShare: Money { lines.map(\.patientShare).sum() }
        public var deductibleApplied: Money { lines.map(\.deductible).sum() }
        public var outcome: Outcome {
            if lines.allSatisfy({ $0.status == .denied }) { return .denied }
            return lines.allSatisfy({ $0.status == .approved }) ? .approved : .partial
        }
    }

    /// Adjudicates `lines` under `plan`. `active`: the coverage was in force on the service date;
    /// `deductibleMet`: deductible already paid this plan year by earlier claims.
    public func adjudicate(_ lines: [Line], plan: BenefitPlan, active: Bool, deductibleMet: Money) -> Result {
        var remaining = Money.max(.zero, plan.deductible - deductibleMet)
        var out: [LineResult] = []
        for l in lines.sorted(by: { $0.sequence < $1.sequence }) {
            let q = max(1, l.quantity)
            guard let item = tariff.items[l.code] else {
                let s = l.submitted ?? .zero
                out.append(LineResult(line: l, display: l.code, status: .denied, reason: .unknownService, submitted: s, eligible: .zero,
                                      deductible: .zero, coinsurance: .zero, copay: .zero, benefit: .zero))
                continue
            }
            let priced = item.price * q
            let submitted = l.submitted ?? priced
            func denied(_ r: Reason) -> LineResult {
                LineResult(line: l, display: item.display, status: .denied, reason: r, submitted: submitted, eligible: .zero, deductible: .zero,
                           coinsurance: .zero, copay: .zero, benefit: .zero)
            }
            if !active { out.append(denied(.coverageInactive)); continue }
            if let covered = plan.covered, !covered.contains(l.code) { out.append(denied(.notCovered)); continue }
            let eligible = Money.min(submitted, priced)
            let deductible = Money.min(remaining, eligible)
            remaining -= deductible
            let afterDeductible = eligible - deductible
            let coinsurance = afterDeductible.share(basisPoints: plan.coinsuranceBasisPoints)
            let copay = Money.min(plan.copay * q, afterDeductible - coinsurance)
            let benefit = afterDeductible - coinsurance - copay
            let reduced = submitted > priced
            out.append(LineResult(line: l, display: item.display, status: reduced ? .reduced : .approved, reason: reduced ? .aboveTariff : nil,
                                  submitted: submitted, eligible: eligible, deductible: deductible, coinsurance: coinsurance, copay: copay,
                                  benefit: benefit))
        }
        return Result(lines: out)
    }
}
