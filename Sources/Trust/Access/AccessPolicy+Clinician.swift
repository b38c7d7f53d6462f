import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Practitioners: treating relationships (care teams, encounters, episodes, referrals), the
/// patients' Consents and break-the-glass, decided per patient and label (docs/access.md).
extension AccessPolicy {
    /// A practitioner: treating relationships, the patients' Consents (grants, denials,
    /// sensitive categories) and break-the-glass records, decided per patient and label by
    /// `PrivacyPolicy`.
    func clinician(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let purpose = p.purposeOfUse ?? "TREAT"
        // a Consent may name the practitioner, one of their roles, their organization, or a care
        // team they are in (directly, through a role, or through a team within the team)
        let members = try await memberships(p, store: store)
        let actors = members + [p.organization].compactMap { $0 }.filter { !members.contains($0) }
        // an accepted referral is a treating relationship; a waiting one shows only the referral (AccessPolicy+Referral.swift)
        let referred = try await referrals(p, members: members, store: store, millis: millis)
        let fullyTreating = try await treatingPatients(p, members: members, store: store).union(referred.granted)
        let treating = fullyTreating.union(referred.pending.keys)
        var granted = Set<String>()
        for c in try await resources(store, type: "Consent", parameters: [("actor", actors.joined(separator: ",")), ("status", "active")], when: !actors.isEmpty) {
            if let pt = ConsentRecord(json: try c.json()).patient { granted.insert(pt) }
        }
        let btg = try await breakTheGlassGrants(p, store: store, millis: millis)
        var candidates = treating.union(granted).union(btg.keys)
        if let launch = p.patient { candidates = candidates.intersection([AccessPolicy.patientID(launch)]) }
        let consents = try await consentsOf(candidates, store: store)
        var patients: [String] = []
        var writable = Set<String>()
        var hidden: [String: [String]] = [:]
        var rules: [String: DataRule] = [:]
        var basis: [String] = []
        var notices: [String] = []
        var glassPatients = Set<String>()
        func note(_ r: String) { if basis.count < 100, !basis.contains(r) { basis.append(r) } }
        for pt in candidates.sorted() {
            let records = consents[pt] ?? []
            let evaluator = ConsentEvaluator(records)
            let general = privacy.decide(.init(actor: .clinician, purpose: purpose, treating: treating.contains(pt), label: nil,
                                               consent: evaluator.evaluate(actors: actors, purpose: purpose, label: nil, at: millis),
                                               breakTheGlass: btg[pt]))
            note(general.reason)
            guard general.permit else { continue }
            patients.append(pt)
            if btg[pt] != nil {
                glassPatients.insert(pt)
            } else {
                // a Consent may narrow what is seen by type, code or clinical date (or a treating
                // team's view by a partial denial)
                let base = treating.contains(pt) && privacy.treatmentPurposes.contains(purpose)
                let narrowed = evaluator.dataRule(actors: actors, purpose: purpose, base: base, at: millis)
                if narrowed.rule != .all { rules[pt] = AccessPolicy.keepPatient(narrowed.rule) }
                if let docs = referred.pending[pt], !fullyTreating.contains(pt), !granted.contains(pt) {
                    rules[pt] = DataRule.allOf([narrowed.rule, .resources(docs)])
                    note("urn:enlace:rule:referral-pending")
                }
                for c in narrowed.consents { note(c) }
            }
            let write = privacy.decide(.init(actor: .clinician, purpose: purpose, treating: treating.contains(pt), label: nil,
                                             consent: evaluator.evaluate(actors: actors, purpose: purpose, label: nil, action: .write, at: millis),
                                             breakTheGlass: btg[pt]))
            if write.permit { writable.insert(pt) }
            var labels = privacy.sensitiveLabels
            for r in records { for l in AccessPolicy.labelsNamed(r.provision) where !labels.contains(l) { labels.append(l) } }
            for label in labels {
                let answer = privacy.decide(.init(actor: .clinician, purpose: purpose, treating: treating.contains(pt), label: label,
                                                  consent: evaluator.evaluate(actors: actors, purpose: purpose, label: label, at: millis),
                                                  breakTheGlass: btg[pt]))
                if !answer.permit { hidden[pt, default: []].append(label) }
                if answer.permit || answer.reason.hasPrefix("Consent/") { note(answer.reason) }
            }
            if hidden[pt] != nil { note(PrivacyPolicy.rule("sensitive-needs-consent")) }
            let ntk = evaluator.notToKnow(patient: pt, at: millis)
            let named = evaluator.notToKnowData(patient: pt, at: millis)
            if !ntk.isEmpty || !named.consents.isEmpty {
                let cats = (Set(ntk.map { $0.label }).sorted() + named.describe).joined(separator: ", ")
                let consent = ntk.first?.consent ?? named.consents[0]
                notices.append("Patient/\(pt) chose not to be told about: \(cats) (\(consent)); results in these categories are withheld from the patient until an accompanied disclosure is recorded (Task code 'disclosure')")
            }
        }
        if purpose == privacy.emergencyPurpose, btg.count < max(candidates.count, 1) {
            notices.append("Purpose ETREAT needs break-the-glass: POST /fhir/Patient/{id}/$break-the-glass with a written reason; without it no patient's record is shown / "
                           + "El propósito ETREAT requiere romper el cristal: POST /fhir/Patient/{id}/$break-the-glass con un motivo escrito; sin ello no se muestra ningún expediente")
        }
        try await sealProvenance(&rules, store: store)
        var decision = AccessDecision(visibility: Visibility(patients: patients, sharedTypes: AccessPolicy.sharedTypes, hiddenLabelsByPatient: hidden,
                                                             dataRules: rules),
                                      readableTypes: nil, writableTypes: AccessPolicy.compartmentTypes.subtracting(["Consent"]),
                                      writePatients: writable, writeShared: false, updateAsCreate: false,
                                      rule: AccessPolicy.clinicianRule(patients: patients, treating: treating, glass: glassPatients))
        decision.basis = [decision.rule] + basis + referred.basis
        if !glassPatients.isEmpty, !decision.basis.contains("urn:enlace:rule:break-the-glass") { decision.basis.append("urn:enlace:rule:break-the-glass") }
        decision.breakTheGlassPatients = glassPatients
        decision.forbiddenTaskCodes = [PrivacyCodes.breakTheGlassReview]
        decision.consentRequesters = actors
        decision.notices = notices
        return decision
    }

    /// Who the practitioner is, as references: themselves (`fhirUser`), their PractitionerRoles,
    /// and every CareTeam they belong to — directly, through a role, or through a team that is
    /// itself a member of another team (R4 `CareTeam.participant.member` may be a CareTeam),
    /// up to four levels deep.
    func memberships(_ p: Principal, store: any ResourceStore) async throws -> [String] {
        guard let me = p.fhirUser, me.contains("/") else { return [] }
        var refs = [me]
        if me.hasPrefix("Practitioner/") {
            for role in try await resources(store, type: "PractitionerRole", parameters: [("practitioner", me), ("active", "true")]) {
                refs.append("PractitionerRole/\(role.id)")
            }
        }
        var frontier = refs
        for _ in 0..<4 where !frontier.isEmpty {
            var next: [String] = []
            for team in try await resources(store, type: "CareTeam", parameters: [("participant", frontier.joined(separator: ","))]) {
                let ref = "CareTeam/\(team.id)"
                if !refs.contains(ref) { refs.append(ref); next.append(ref) }
            }
            frontier = next
        }
        return refs
    }

    /// Patients a practitioner treats (see the type's documentation). `members` are the
    /// practitioner's own references (`memberships`).
    func treatingPatients(_ p: Principal, members: [String], store: any ResourceStore) async throws -> Set<String> {
        let org = p.organization
        let people = members.filter { !$0.hasPrefix("CareTeam/") }
        let teams = members.filter { $0.hasPrefix("CareTeam/") }
        var patients = Set<String>()
        patients.formUnion(try await patientsOf(store, type: "CareTeam", param: "participant", values: members))
        // a team the practitioner is in that has a subject is that patient's team
        patients.formUnion(try await patientsOf(store, type: "CareTeam", param: "_id", values: teams.map { String($0.dropFirst(9)) }, raw: true))
        patients.formUnion(try await patientsOf(store, type: "Encounter", param: "participant", values: people))
        patients.formUnion(try await patientsOf(store, type: "Encounter", param: "service-provider", values: [org]))
        patients.formUnion(try await patientsOf(store, type: "EpisodeOfCare", param: "care-manager", values: people))
        patients.formUnion(try await patientsOf(store, type: "EpisodeOfCare", param: "organization", values: [org]))
        // a referral's ServiceRequest grants nothing by its performer: its Task does (AccessPolicy+Referral.swift)
        patients.formUnion(try await patientsOf(store, type: "ServiceRequest", param: "performer", values: people + [org],
                                                extra: [("status", "active"), ("category:not", AccessPolicy.referralCategory)]))
        return patients
    }

    /// The rule that sums up a clinician's decision for the audit entry (the Consents and
    /// records behind it are in `basis`): no patient at all, only break-the-glass, a treating
    /// relationship with at least one, or only the patients' Consents.
    static func clinicianRule(patients: [String], treating: Set<String>, glass: Set<String>) -> String {
        if patients.isEmpty { return PrivacyPolicy.rule("no-relationship") }
        if glass.count == patients.count { return PrivacyPolicy.rule("break-the-glass") }
        if patients.contains(where: { treating.contains($0) }) { return PrivacyPolicy.rule("treating-relationship") }
        return PrivacyPolicy.rule("patient-consent")
    }
}
