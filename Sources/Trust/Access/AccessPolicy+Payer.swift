import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Payers: their beneficiaries' coverage and claims, plus patients whose Consent grants them,
/// less patients whose Consent denies them (rows Y1–Y4 of docs/privacy-policy.md); an Encounter
/// only in outline.
extension AccessPolicy {
    func payer(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        // beneficiaries of the payer's Coverages, plus patients whose Consent grants it, less
        // patients whose Consent denies it (rows Y1–Y3 of docs/privacy-policy.md)
        let purpose = p.purposeOfUse ?? "HPAYMT"
        let actors = [p.organization, p.fhirUser].compactMap { $0 }
        let beneficiaries = try await patientsOf(store, type: "Coverage", param: "payor", values: [p.organization])
        var candidates = beneficiaries
        for c in try await resources(store, type: "Consent", parameters: [("actor", actors.joined(separator: ",")), ("status", "active")], when: !actors.isEmpty) {
            if let pt = ConsentRecord(json: try c.json()).patient { candidates.insert(pt) }
        }
        let consents = try await consentsOf(candidates, store: store)
        var patients = Set<String>()
        var basis = ["urn:enlace:rule:payer-beneficiary"]
        var rules: [String: DataRule] = [:]
        for pt in candidates.sorted() {
            let evaluator = ConsentEvaluator(consents[pt] ?? [])
            let verdict = evaluator.evaluate(actors: actors, purpose: purpose, label: nil, at: millis)
            let answer = privacy.decide(.init(actor: .payer, purpose: purpose, consent: verdict))
            if answer.reason.hasPrefix("Consent/") || !answer.permit, basis.count < 100, !basis.contains(answer.reason) { basis.append(answer.reason) }
            if answer.permit, beneficiaries.contains(pt) || verdict != .none {
                patients.insert(pt)
                let narrowed = evaluator.dataRule(actors: actors, purpose: purpose, base: beneficiaries.contains(pt), at: millis)
                if narrowed.rule != .all { rules[pt] = AccessPolicy.keepPatient(narrowed.rule) }
                for c in narrowed.consents where basis.count < 100 && !basis.contains(c) { basis.append(c) }
            }
        }
        try await sealProvenance(&rules, store: store)
        var visibility = Visibility(patients: patients.sorted(), sharedTypes: shared, dataRules: rules)
        visibility.minimal = privacy.payerMinimal
        var decision = AccessDecision(visibility: visibility,
                                      readableTypes: Set(shared + privacy.payerTypes + privacy.payerMinimal.keys),
                                      writableTypes: ["ClaimResponse", "ExplanationOfBenefit", "CoverageEligibilityResponse", "Coverage", "Task"],
                                      writePatients: patients, writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:payer-beneficiary")
        decision.basis = basis
        decision.consentRequesters = [p.organization, p.fhirUser].compactMap { $0 }
        decision.forbiddenTaskCodes = [PrivacyCodes.breakTheGlassReview, PrivacyCodes.disclosure]
        return decision
    }
}
