import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// A payer's quality figures (docs/financing.md, "A payer's measures"; row Y5 of
/// docs/privacy-policy.md): a payer may not read its beneficiaries' clinical data (row Y2), yet a
/// quality contract pays on how well they are cared for. The door lets a payer's
/// `$evaluate-measure` count that data without ever returning it: the evaluation runs over a
/// read-only guard that sees the same patients as the payer's own (its beneficiaries, less those
/// whose Consent denies it, with the same labels hidden), with the clinical types a measure
/// counts made readable, and only a **summary** MeasureReport comes back, stripped of anything
/// that names a patient or a resource, with populations of fewer than
/// `PrivacyPolicy.smallCellMinimum` patients masked (`data-absent-reason` `masked`), so a count of
/// one or two cannot single anybody out. Every read of the evaluation is recorded in the
/// request's audit entry as usual, so each counted patient sees on *¿Quién vio mis datos?* that
/// the payer's measure read their record.
extension Door {
    /// The MeasureReport group extension (valueInteger) with the number of distinct patients
    /// the group's denominator is about (`MeasureEvaluator.peopleExtension`): a group about
    /// fewer than `smallCellMinimum` people is masked whole, even when it counts more visits.
    public static let measureReportPeopleExtension = "https://enlace.mx/fhir/StructureDefinition/measurereport-people"

    /// Whether `guarded`'s principal gets its summaries through `payerSummary` (a payer, and the
    /// policy allows payers aggregates).
    public func countsOnlyForPayer(_ guarded: GuardedRepository) -> Bool {
        guarded.principal.effectiveRole == .payer && policy.privacy.payerAggregateTypes.isEmpty == false
    }

    /// Runs `evaluate` over the payer's counting guard and returns its summary MeasureReport,
    /// counts only. Throws 403 for a principal that is not a payer, and when `evaluate` returns
    /// anything but a summary MeasureReport (nothing else may leave the counting guard).
    public func payerSummary(for guarded: GuardedRepository, _ evaluate: @Sendable (GuardedRepository) async throws -> JSON) async throws -> JSON {
        guard countsOnlyForPayer(guarded) else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a payer's measures are counted this way",
                            spanish: "solo los indicadores de una aseguradora se cuentan así")
        }
        let report = try await evaluate(countingGuard(for: guarded))
        guard report["resourceType"]?.stringValue == "MeasureReport", report["type"]?.stringValue == "summary" else {
            throw FHIRError(status: 403, code: "forbidden", english: "a payer receives summary measure reports only (counts), never lists of patients",
                            spanish: "una aseguradora recibe solo informes resumidos de indicadores (conteos), nunca listas de pacientes")
        }
        return Self.countsOnly(report, minimum: policy.privacy.smallCellMinimum)
    }

    /// The payer's decision, read-only, with `payerAggregateTypes` readable in full (no outline
    /// view) and the token's scopes widened to read them; the same patients, consents' data
    /// rules and hidden labels.
    func countingGuard(for guarded: GuardedRepository) -> GuardedRepository {
        let types = policy.privacy.payerAggregateTypes
        var decision = guarded.decision
        decision.readableTypes = (decision.readableTypes ?? []).union(types)
        decision.writableTypes = []
        decision.writePatients = []
        decision.writeShared = false
        decision.writableByRule = [:]
        decision.visibility?.minimal = [:]
        if decision.visibility != nil { decision.visibility?.readableTypes = decision.readableTypes?.sorted() }
        var principal = guarded.principal
        // the token's own scopes, plus reading what the measures count
        principal.scopes = ScopeSet(([principal.scopes.description] + types.sorted().map { "user/\($0).rs" }).joined(separator: " "))
        guarded.audit?.decidedBy("urn:enlace:rule:payer-quality-counts")
        var counting = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: guarded.audit,
                                         builder: auditBuilder, clock: clock)
        counting.writeRules = writeRules
        return counting
    }

    /// `report` with nothing that names a patient or a resource (`subject`, `contained`,
    /// `evaluatedResource`, `subjectResults`); every population count from 1 to `minimum` − 1
    /// masked, every non-zero count of a group about fewer than `minimum` people (its
    /// `measureReportPeopleExtension`), and the score of a group that has a masked population.
    static func countsOnly(_ report: JSON, minimum: Int) -> JSON {
        let masked = JSON.object([("extension", .array([.object([("url", .string("http://hl7.org/fhir/StructureDefinition/data-absent-reason")),
                                                                 ("valueCode", .string("masked"))])]))])
        func number(_ value: JSON?) -> Int? {
            guard case .number(let n)? = value else { return nil }
            return Int(n)
        }
        func stratum(_ s: JSON) -> JSON {
            let people = (s["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == measureReportPeopleExtension }.flatMap { number($0["valueInteger"]) }
            let fewPeople = people.map { $0 > 0 && $0 < minimum } ?? false
            var maskedAny = false
            let populations: [JSON] = (s["population"]?.arrayValue ?? []).map { p in
                let out = p.setting("subjectResults", nil)
                guard let count = number(p["count"]), count > 0, count < minimum || fewPeople else { return out }
                maskedAny = true
                return out.setting("count", nil).setting("_count", masked)
            }
            var out = s.setting("population", s["population"] == nil ? nil : .array(populations))
            if fewPeople {
                out = out.setting("extension", .array((s["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue != measureReportPeopleExtension }))
                if out["extension"]?.arrayValue?.isEmpty == true { out = out.setting("extension", nil) }
            }
            if maskedAny, out["measureScore"] != nil { out = out.setting("measureScore", masked) }
            return out
        }
        let groups: [JSON] = (report["group"]?.arrayValue ?? []).map { g in
            var out = stratum(g)
            if let strata = g["stratifier"]?.arrayValue {
                out = out.setting("stratifier", .array(strata.map { s in
                    s.setting("stratum", s["stratum"]?.arrayValue.map { .array($0.map(stratum)) })
                }))
            }
            return out
        }
        return report.setting("subject", nil).setting("contained", nil).setting("evaluatedResource", nil)
            .setting("group", report["group"] == nil ? nil : .array(groups))
    }
}
