import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Secondary uses (research, analytics, algorithm training): only with the patient's Consent
/// (docs/privacy-policy.md).
extension AccessPolicy {
    /// Research, analytics, algorithm training: only patients whose Consent permits the purpose
    /// (and who did not oppose it); sensitive labels only when the Consent names them.
    func secondaryUse(_ p: Principal, purpose: String, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let actors = [p.fhirUser, p.organization, p.clientID.map { "Device/\($0)" }].compactMap { $0 }
        var candidates = Set<String>()
        for c in try await resources(store, type: "Consent", parameters: [("purpose", purpose), ("status", "active")]) {
            if let pt = ConsentRecord(json: try c.json()).patient { candidates.insert(pt) }
        }
        let consents = try await consentsOf(candidates, store: store)
        var patients: [String] = []
        var hidden: [String: [String]] = [:]
        var rules: [String: DataRule] = [:]
        var basis: [String] = []
        for pt in candidates.sorted() {
            let evaluator = ConsentEvaluator(consents[pt] ?? [])
            let answer = privacy.decide(.init(actor: .secondaryUser, purpose: purpose,
                                              consent: evaluator.evaluate(actors: actors, purpose: purpose, label: nil, at: millis)))
            if basis.count < 100, !basis.contains(answer.reason) { basis.append(answer.reason) }
            guard answer.permit else { continue }
            patients.append(pt)
            let narrowed = evaluator.dataRule(actors: actors, purpose: purpose, base: false, at: millis)
            if narrowed.rule != .all { rules[pt] = AccessPolicy.keepPatient(narrowed.rule) }
            for label in privacy.sensitiveLabels {
                let a = privacy.decide(.init(actor: .secondaryUser, purpose: purpose, label: label,
                                             consent: evaluator.evaluate(actors: actors, purpose: purpose, label: label, at: millis)))
                if !a.permit || !(a.reason.hasPrefix("Consent/")) { hidden[pt, default: []].append(label) }
            }
        }
        try await sealProvenance(&rules, store: store)
        var decision = AccessDecision(visibility: Visibility(patients: patients, sharedTypes: AccessPolicy.sharedTypes, hiddenLabelsByPatient: hidden,
                                                             dataRules: rules),
                                      readableTypes: nil, writableTypes: [], writePatients: [], writeShared: false, updateAsCreate: false,
                                      rule: PrivacyPolicy.rule("secondary-use-needs-consent"))
        decision.basis = [decision.rule] + basis
        return decision
    }
}
