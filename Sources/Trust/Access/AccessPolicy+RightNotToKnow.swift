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

    /// A data rule never hides the Patient resource itself: whoever may see any of a patient's
    /// record may see who the patient is.
    static func keepPatient(_ rule: DataRule) -> DataRule {
        rule == .all ? .all : DataRule.anyOf([.types(["Patient"]), rule])
    }
}
