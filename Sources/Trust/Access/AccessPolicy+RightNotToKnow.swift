import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The right not to know: categories and named conditions a patient chose not to be told about
/// stay hidden from the patient's own views until an accompanied disclosure (docs/consent.md);
/// and what a data rule hides, its Provenances hide too.
extension AccessPolicy {
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
        try await sealDerived(&rules, store: store)
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

    /// What is derived from a withheld result tells it too: an alert Flag and its Task about a
    /// glucose the patient chose not to know, a risk score computed from it. Those resources name
    /// the result in their content (`Flag` through the `flag-detail` extension, `Task.focus`,
    /// `RiskAssessment.basis`, `DetectedIssue.implicated`, …), not always through a search
    /// parameter, so the patient's derived resources are read here and those that refer to a
    /// withheld one are withheld with it (found by the generated leak hunt, docs/reliability.md).
    /// One query per restricted patient over the derived types only, at most 1,000 resources.
    func sealDerived(_ rules: inout [String: DataRule], store: any ResourceStore) async throws {
        let derivedTypes = ["ClinicalImpression", "Communication", "CommunicationRequest", "DetectedIssue", "Flag", "GuidanceResponse",
                            "RiskAssessment", "Task"]
        let types = AccessPolicy.compartmentTypes.subtracting(["Provenance", "Patient"]).sorted()
        for (pt, rule) in rules {
            var options = SearchParser.Options()
            options.maxCount = 1000
            guard var (hiddenQuery, _) = try? SearchParser(options: options).parse(types: types, parameters: [("_count", "1000"), ("_total", "none")]),
                  var (derivedQuery, _) = try? SearchParser(options: options).parse(types: derivedTypes, parameters: [("_count", "1000"), ("_total", "none")])
            else { continue }
            hiddenQuery.visibility = Visibility(patients: [pt], sharedTypes: [], dataRules: [pt: DataRule.negate(rule)])
            derivedQuery.visibility = Visibility(patients: [pt], sharedTypes: [], dataRules: [pt: rule])
            let (hq, dq) = (hiddenQuery, derivedQuery)
            let (hidden, derived) = try await store.read { r in
                (Set(try r.search(hq).matches.map { "\($0.type)/\($0.id)" }), try r.search(dq).matches)
            }
            guard !hidden.isEmpty else { continue }
            var sealed: [String] = []
            for resource in derived {
                guard let json = try? resource.json() else { continue }
                var refs: [String] = []
                AccessPolicy.collectReferences(json, into: &refs)
                if refs.contains(where: { hidden.contains($0) }) { sealed.append("\(resource.type)/\(resource.id)") }
            }
            guard !sealed.isEmpty else { continue }
            rules[pt] = DataRule.allOf([rule, DataRule.negate(.resources(sealed.sorted()))])
        }
    }

    /// Every `reference` in a resource, without a `_history` suffix.
    static func collectReferences(_ json: JSON, into refs: inout [String]) {
        switch json {
        case .object(let members):
            for (k, v) in members {
                if k == "reference", let r = v.stringValue {
                    refs.append(r.components(separatedBy: "/_history").first ?? r)
                } else {
                    collectReferences(v, into: &refs)
                }
            }
        case .array(let items):
            for v in items { collectReferences(v, into: &refs) }
        default:
            break
        }
    }

    /// A data rule never hides the Patient resource itself: whoever may see any of a patient's
    /// record may see who the patient is.
    static func keepPatient(_ rule: DataRule) -> DataRule {
        rule == .all ? .all : DataRule.anyOf([.types(["Patient"]), rule])
    }
}
