import FHIR
import Foundation
import Storage

/// What a principal may do, decided once per request before any query runs
/// (docs/access.md). Consent (issue #5) refines it at this same point.
public struct AccessDecision: Sendable {
    /// nil: may see everything the scopes allow.
    public var visibility: Visibility?
    /// Types the principal's role may read at all (nil: every type).
    public var readableTypes: Set<String>?
    /// Types the principal's role may write (nil: every type).
    public var writableTypes: Set<String>?
    /// When set, every written resource must be in the compartment of one of these patients
    /// (and nothing shared may be written unless `writeShared`).
    public var writePatients: Set<String>?
    public var writeShared: Bool
    /// May create resources with client-chosen ids (update-as-create). Only operators and
    /// services: for anyone else a missing id and a hidden id must look the same (404).
    public var updateAsCreate: Bool
    /// The rule that decided, for the audit entry (`urn:enlace:rule:…`).
    public var rule: String

    /// Every Consent, record and rule the decision rests on (each goes to `audit.decidedBy`).
    public var basis: [String] = []
    /// An active break-the-glass record was used (the audit entry is flagged, purpose ETREAT).
    public var breakTheGlass = false
    /// Patients seen only through an active break-the-glass record: an audit entry is flagged
    /// when the request touches one of them.
    public var breakTheGlassPatients: Set<String> = []
    /// Privacy Task codes (`btg-review`, `disclosure`) this principal may not write through
    /// the ordinary interactions.
    public var forbiddenTaskCodes: Set<String> = []
    /// A consent-request Task naming one of these as requester may be created for any patient
    /// (asking reveals nothing and grants nothing).
    public var consentRequesters: [String] = []
    /// Markers for the asker (e.g. a patient's right-not-to-know preference shown to clinicians),
    /// added to search bundles as an OperationOutcome.
    public var notices: [String] = []

    public static let unrestricted = AccessDecision(visibility: nil, readableTypes: nil, writableTypes: nil, writePatients: nil,
                                                    writeShared: true, updateAsCreate: true, rule: "urn:enlace:rule:system-scope")
}

/// The access rules of issue #4, by role:
///
/// | role | reads | writes |
/// |---|---|---|
/// | platform operator, backend service | everything its `system/` scopes name | same |
/// | patient, related person | own compartment (and those they act for) + shared data | own compartment |
/// | practitioner | compartments of patients with a treating relationship + shared data | those compartments |
/// | pharmacy | medication data of patients with a prescription naming the pharmacy | MedicationDispense |
/// | payer | Coverage, Claim and their responses of its beneficiaries | claim responses, EOB |
/// | organization admin | shared data (practitioners, organizations, locations …) | shared data |
/// | privacy officer | Consents, Tasks, the audit log | — |
/// | auditor | the audit log only | — |
///
/// A treating relationship is a CareTeam the practitioner is in, an Encounter the practitioner
/// took part in or that happened at their organization, an EpisodeOfCare they manage or their
/// organization runs, or an active ServiceRequest (referral) naming them or their organization
/// as performer.
///
/// Consent (issue #5) refines every row at this same point: `PrivacyPolicy` says, per patient
/// and sensitivity label, what the patient's Consents, the law's defaults, break-the-glass
/// records and right-not-to-know choices allow (docs/privacy-policy.md). Task is filed in the
/// compartment of its `for` patient (`SensitivityLabeler`), so it is not shared data here.
public struct AccessPolicy: Sendable {
    public var privacy: PrivacyPolicy

    public init(privacy: PrivacyPolicy = PrivacyPolicy()) { self.privacy = privacy }

    /// Types whose resources are not about one patient (R4 Patient compartment lists them with
    /// no parameter): practitioners, organizations, medications, definitions… Group is left
    /// out: its members are patients.
    public static let sharedTypes: [String] = Definitions.r4.resourceTypes.filter {
        (Definitions.r4.patientCompartment[$0]?.isEmpty ?? true) && !["Group", "AuditEvent", "Patient", "Person", "Linkage", "Bundle", "Task"].contains($0)
    }

    static let compartmentTypes: Set<String> = Set(Definitions.r4.resourceTypes.filter {
        !(Definitions.r4.patientCompartment[$0]?.isEmpty ?? true)
    }).union(["Patient", "Task"])

    public func decide(_ p: Principal, store: any ResourceStore, now: Timestamp = SystemClock().now()) async throws -> AccessDecision {
        var decision = try await decideByRole(p, store: store, now: now)
        // the types a role may read hold inside every query too (chains, `_has`), not only on
        // the types asked for
        if let readable = decision.readableTypes, decision.visibility != nil { decision.visibility?.readableTypes = readable.sorted() }
        return decision
    }

    func decideByRole(_ p: Principal, store: any ResourceStore, now: Timestamp) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        let millis = now.microseconds / 1000
        if let purpose = p.purposeOfUse, privacy.secondaryPurposes.contains(purpose), p.effectiveRole != .patient, p.effectiveRole != .relatedPerson {
            let secondary = try await secondaryUse(p, purpose: purpose, store: store, millis: millis)
            switch p.effectiveRole {
            case .platformOperator, .service, .practitioner:
                return secondary
            default:
                // a secondary purpose only ever narrows what the role may see
                var base = try await roleDecision(p, store: store, millis: millis)
                let allowed = Set(secondary.visibility?.patients ?? [])
                var v = base.visibility ?? Visibility(patients: [], sharedTypes: shared)
                if base.visibility == nil { v.patients = allowed.sorted() } else { v.patients = v.patients.filter { allowed.contains($0) } }
                v.hiddenLabelsByPatient = secondary.visibility?.hiddenLabelsByPatient ?? [:]
                v.dataRules = secondary.visibility?.dataRules ?? [:]
                base.visibility = v
                base.writableTypes = []
                base.writePatients = []
                base.writeShared = false
                base.updateAsCreate = false
                base.rule = secondary.rule
                base.basis = secondary.basis
                return base
            }
        }
        return try await roleDecision(p, store: store, millis: millis)
    }

    /// The decision by role (issue #4's matrix, refined by consent).
    func roleDecision(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let shared = AccessPolicy.sharedTypes
        switch p.effectiveRole {
        case .platformOperator, .service:
            return .unrestricted
        case .patient, .relatedPerson:
            var patients = Set(p.actsFor.map(AccessPolicy.patientID))
            if let own = p.patient ?? (p.fhirUser?.hasPrefix("Patient/") == true ? p.fhirUser : nil) { patients.insert(AccessPolicy.patientID(own)) }
            var decision = AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared), readableTypes: nil,
                                          writableTypes: AccessPolicy.compartmentTypes, writePatients: patients, writeShared: false,
                                          updateAsCreate: false, rule: p.effectiveRole == .patient ? "urn:enlace:rule:own-record" : "urn:enlace:rule:acts-for")
            decision.forbiddenTaskCodes = [PrivacyCodes.breakTheGlassReview, PrivacyCodes.disclosure]
            decision.basis = [decision.rule]
            try await applyRightNotToKnow(&decision, patients: patients, store: store, millis: millis)
            return decision
        case .practitioner:
            return try await clinician(p, store: store, millis: millis)
        case .pharmacy:
            let patients = try await patientsOf(store, type: "MedicationRequest", param: "intended-performer", values: [p.organization, p.fhirUser])
            return AccessDecision(visibility: Visibility(patients: patients.sorted(), sharedTypes: shared),
                                  readableTypes: Set(shared + ["Patient", "MedicationRequest", "MedicationDispense", "MedicationStatement", "AllergyIntolerance"]),
                                  writableTypes: ["MedicationDispense"], writePatients: patients, writeShared: false,
                                  updateAsCreate: false, rule: "urn:enlace:rule:dispensing-pharmacy")
        case .payer:
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
        case .organizationAdmin:
            return AccessDecision(visibility: Visibility(patients: [], sharedTypes: shared), readableTypes: Set(shared),
                                  writableTypes: Set(shared), writePatients: [], writeShared: true, updateAsCreate: true,
                                  rule: "urn:enlace:rule:organization-admin")
        case .privacyOfficer:
            return AccessDecision(visibility: nil, readableTypes: ["Consent", "Task", "Communication"], writableTypes: [],
                                  writePatients: [], writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:privacy-officer")
        case .auditor:
            return AccessDecision(visibility: Visibility(patients: [], sharedTypes: []), readableTypes: [], writableTypes: [],
                                  writePatients: [], writeShared: false, updateAsCreate: false, rule: "urn:enlace:rule:auditor-no-clinical-data")
        }
    }

    /// A practitioner: treating relationships, the patients' Consents (grants, denials,
    /// sensitive categories) and break-the-glass records, decided per patient and label by
    /// `PrivacyPolicy`.
    func clinician(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> AccessDecision {
        let purpose = p.purposeOfUse ?? "TREAT"
        // a Consent may name the practitioner, one of their roles, their organization, or a care
        // team they are in (directly, through a role, or through a team within the team)
        let members = try await memberships(p, store: store)
        let actors = members + [p.organization].compactMap { $0 }.filter { !members.contains($0) }
        let treating = try await treatingPatients(p, members: members, store: store)
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
        decision.basis = [decision.rule] + basis
        if !glassPatients.isEmpty, !decision.basis.contains("urn:enlace:rule:break-the-glass") { decision.basis.append("urn:enlace:rule:break-the-glass") }
        decision.breakTheGlassPatients = glassPatients
        decision.forbiddenTaskCodes = [PrivacyCodes.breakTheGlassReview]
        decision.consentRequesters = actors
        decision.notices = notices
        return decision
    }

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

    /// The patient's own tokens: categories they chose not to be told about stay hidden (in
    /// every query, count and history) except results disclosed to them since.
    func applyRightNotToKnow(_ decision: inout AccessDecision, patients: Set<String>, store: any ResourceStore, millis: Int64) async throws {
        let consents = try await consentsOf(patients, store: store)
        var hidden: [String: [String]] = [:]
        var withheld: [String: DataRule] = [:]
        var knowExistence = false
        for pt in patients.sorted() {
            let evaluator = ConsentEvaluator(consents[pt] ?? [])
            let ntk = evaluator.notToKnow(patient: pt, at: millis)
            let named = evaluator.notToKnowData(patient: pt, at: millis)
            if !ntk.isEmpty { hidden[pt] = Array(Set(ntk.map { $0.label })).sorted() }
            if named.withheld != .nothing { withheld[pt] = named.withheld }
            for c in ntk.map(\.consent) + named.consents where !decision.basis.contains(c) { decision.basis.append(c) }
            knowExistence = knowExistence || ntk.contains(where: { $0.knowExistence }) || named.knowExistence
        }
        if knowExistence {
            decision.notices.append("Some results in categories you chose not to be told about exist; ask your care team for an accompanied disclosure")
        }
        guard !hidden.isEmpty || !withheld.isEmpty else { return }
        var disclosed: [String] = []
        let refs = Set(hidden.keys).union(withheld.keys).sorted().map { "Patient/\($0)" }.joined(separator: ",")
        for t in try await resources(store, type: "Task", parameters: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.disclosure)"),
                                                                       ("patient", refs), ("status", "completed")]) {
            let body = try t.json()
            if let focus = body["focus"]?["reference"]?.stringValue, !disclosed.contains(focus) { disclosed.append(focus) }
        }
        decision.visibility?.hiddenLabelsByPatient = hidden
        decision.visibility?.disclosed = disclosed.sorted()
        var rules: [String: DataRule] = [:]
        for (pt, rule) in withheld {
            // withheld unless disclosed since; the Patient resource itself is never withheld
            rules[pt] = AccessPolicy.keepPatient(DataRule.anyOf([DataRule.negate(rule), .resources(disclosed.sorted())]))
        }
        try await sealProvenance(&rules, store: store)
        for (pt, rule) in rules { decision.visibility?.dataRules[pt] = rule }
        if !disclosed.isEmpty { decision.basis.append(PrivacyPolicy.rule("accompanied-disclosure")) }
    }

    /// A Provenance names its target's id; where a data rule hides resources of a patient, the
    /// Provenances of those resources are hidden with them (the way labels are copied onto the
    /// Provenance of a labelled resource). One query per restricted patient, at most 1,000
    /// hidden resources each; skipped when the rule already hides every Provenance.
    func sealProvenance(_ rules: inout [String: DataRule], store: any ResourceStore) async throws {
        let types = AccessPolicy.compartmentTypes.subtracting(["Provenance", "Patient"]).sorted()
        for (pt, rule) in rules {
            // does the rule let some Provenance through (one with no codes, dates or labels)?
            guard rule.mayMatch(type: "Provenance") else { continue }
            var options = SearchParser.Options()
            options.maxCount = 1000
            guard var (query, _) = try? SearchParser(options: options).parse(types: types, parameters: [("_count", "1000"), ("_total", "none")]) else { continue }
            query.visibility = Visibility(patients: [pt], sharedTypes: [], dataRules: [pt: DataRule.negate(rule)])
            let q = query
            let hidden = try await store.read { try $0.search(q) }.matches.map { "\($0.type)/\($0.id)" }
            guard !hidden.isEmpty else { continue }
            rules[pt] = DataRule.allOf([rule, DataRule.negate(.and([.types(["Provenance"]), .references(param: "target", targets: hidden)]))])
        }
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

    /// A data rule never hides the Patient resource itself: whoever may see any of a patient's
    /// record may see who the patient is.
    static func keepPatient(_ rule: DataRule) -> DataRule {
        rule == .all ? .all : DataRule.anyOf([.types(["Patient"]), rule])
    }

    /// Labels named anywhere in a provision tree.
    static func labelsNamed(_ p: ConsentRecord.Provision?) -> [String] {
        guard let p else { return [] }
        return p.securityLabels + p.provisions.flatMap(labelsNamed)
    }

    /// Active break-the-glass records of the asker: patient id → `Task/…`.
    func breakTheGlassGrants(_ p: Principal, store: any ResourceStore, millis: Int64) async throws -> [String: String] {
        guard let me = p.fhirUser else { return [:] }
        var out: [String: String] = [:]
        for t in try await resources(store, type: "Task", parameters: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.breakTheGlassReview)"),
                                                                       ("requester", me)]) {
            let body = try t.json()
            guard !["cancelled", "entered-in-error", "rejected"].contains(body["status"]?.stringValue ?? ""),
                  let ref = body["for"]?["reference"]?.stringValue, ref.hasPrefix("Patient/"),
                  let start = body["executionPeriod"]?["start"]?.stringValue.flatMap({ DateRange($0)?.low }),
                  let end = body["executionPeriod"]?["end"]?.stringValue.flatMap({ DateRange($0)?.high }),
                  start <= millis, millis <= end else { continue }
            out[String(ref.dropFirst(8))] = "Task/\(t.id)"
        }
        return out
    }

    /// The Consents of each patient (read on every request; nothing outlives it).
    func consentsOf(_ patients: Set<String>, store: any ResourceStore) async throws -> [String: [ConsentRecord]] {
        var out: [String: [ConsentRecord]] = [:]
        let sorted = patients.sorted()
        var i = 0
        while i < sorted.count {
            let chunk = sorted[i..<min(i + 100, sorted.count)]
            i += 100
            for r in try await resources(store, type: "Consent", parameters: [("patient", chunk.map { "Patient/\($0)" }.joined(separator: ",")),
                                                                              ("status", "active")]) {
                let c = ConsentRecord(json: try r.json())
                if let pt = c.patient { out[pt, default: []].append(c) }
            }
        }
        return out
    }

    /// Current resources of `type` matching `parameters` (at most 20,000).
    func resources(_ store: any ResourceStore, type: String, parameters: [(String, String)], when: Bool = true) async throws -> [StoredResource] {
        guard when else { return [] }
        var options = SearchParser.Options()
        options.maxCount = 1000
        guard var (query, _) = try? SearchParser(options: options).parse(types: [type], parameters: parameters + [("_count", "1000"), ("_total", "none")]) else { return [] }
        var out: [StoredResource] = []
        for _ in 0..<20 {
            let q = query
            let page = try await store.read { try $0.search(q) }
            out += page.matches
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }

    static func patientID(_ ref: String) -> String {
        ref.hasPrefix("Patient/") ? String(ref.dropFirst(8)) : ref
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
        patients.formUnion(try await patientsOf(store, type: "ServiceRequest", param: "performer", values: people + [org], extra: [("status", "active")]))
        return patients
    }

    /// Patients whose compartment holds a `type` resource whose reference `param` is one of `values`.
    func patientsOf(_ store: any ResourceStore, type: String, param: String, values: [String?], extra: [(String, String)] = [],
                    raw: Bool = false) async throws -> Set<String> {
        let refs = values.compactMap { $0 }.filter { raw || $0.contains("/") }
        guard !refs.isEmpty else { return [] }
        var parameters = [(param, refs.joined(separator: ","))] + extra
        parameters += [("_count", "1000"), ("_total", "none")]
        var options = SearchParser.Options()
        options.maxCount = 1000
        guard var (query, _) = try? SearchParser(options: options).parse(types: [type], parameters: parameters) else { return [] }
        var out = Set<String>()
        for _ in 0..<20 {  // at most 20,000 resources per relationship kind
            let q = query
            let page = try await store.read { try $0.search(q) }
            for r in page.matches { out.formUnion(r.compartments) }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }
}
