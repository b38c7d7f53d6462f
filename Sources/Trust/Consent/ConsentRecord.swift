import FHIR
import Foundation
import Storage

/// Code systems and codes Enlace uses for consent (docs/consent.md).
public enum PrivacyCodes {
    public static let actCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
    public static let purposeOfUse = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
    public static let consentScope = "http://terminology.hl7.org/CodeSystem/consentscope"
    /// Enlace's Task codes: `consent-request`, `btg-review`, `disclosure`.
    public static let taskCodes = "https://enlace.mx/fhir/CodeSystem/privacy-task"
    public static let consentRequest = "consent-request"
    public static let breakTheGlassReview = "btg-review"
    public static let disclosure = "disclosure"
    /// On a right-not-to-know Consent: does the patient want to know that withheld results exist?
    public static let knowExistence = "https://enlace.mx/fhir/StructureDefinition/right-not-to-know-existence"
}

/// A FHIR R4 Consent (https://hl7.org/fhir/R4/consent.html) as the decision point reads it:
/// scope `patient-privacy`, status, the patient, and the provision tree.
public struct ConsentRecord: Sendable, Equatable {
    public var id: String
    public var status: String
    public var scope: String?
    public var patient: String?
    public var provision: Provision?
    /// From the right-not-to-know extension (nil when absent).
    public var knowExistence: Bool?

    public struct Provision: Sendable, Equatable {
        public enum Kind: String, Sendable { case permit, deny }
        public var type: Kind?
        /// Validity in milliseconds since 1970 (inclusive bounds); nil: open.
        public var start: Int64?
        public var end: Int64?
        public var actors: [String]
        public var actions: [String]
        public var purposes: [String]
        public var securityLabels: [String]
        /// Resource types (`provision.class`, a Coding whose code is the type name).
        public var classes: [String]
        /// `provision.code`: what the data is about (a condition, a test…).
        public var codes: [DataCode]
        /// `provision.dataPeriod`: the clinical time of the data (ms since 1970, inclusive).
        public var dataStart: Int64?
        public var dataEnd: Int64?
        public var provisions: [Provision]

        public init(type: Kind?, start: Int64? = nil, end: Int64? = nil, actors: [String] = [], actions: [String] = [], purposes: [String] = [],
                    securityLabels: [String] = [], classes: [String] = [], codes: [DataCode] = [], dataStart: Int64? = nil, dataEnd: Int64? = nil,
                    provisions: [Provision] = []) {
            self.type = type
            self.start = start
            self.end = end
            self.actors = actors
            self.actions = actions
            self.purposes = purposes
            self.securityLabels = securityLabels
            self.classes = classes
            self.codes = codes
            self.dataStart = dataStart
            self.dataEnd = dataEnd
            self.provisions = provisions
        }

        /// Does this provision itself name part of the record (class, code or data period)?
        public var hasDataScope: Bool { !classes.isEmpty || !codes.isEmpty || dataStart != nil || dataEnd != nil }

        /// The part of the record this provision itself names (`.all` when it names none).
        /// Labels count only when `withLabels` (a deny's labels narrow it; a permit's labels are
        /// the express consent for a sensitive category, decided per label).
        public func dataScope(withLabels: Bool) -> DataRule {
            var parts: [DataRule] = []
            if !classes.isEmpty { parts.append(.types(classes)) }
            if !codes.isEmpty { parts.append(.codes(Provision.withDescendants(codes))) }
            if dataStart != nil || dataEnd != nil { parts.append(.period(low: dataStart, high: dataEnd)) }
            if withLabels, !securityLabels.isEmpty { parts.append(.labels(securityLabels)) }
            return DataRule.allOf(parts)
        }

        /// The codes a provision names and every code below them in a shipped hierarchy: a
        /// grant or denial of CIE-10 `E11` covers `E11.9` (docs/consent.md).
        static func withDescendants(_ codes: [DataCode]) -> [DataCode] {
            var seen = Set<DataCode>()
            return codes.flatMap { c in
                CodeHierarchies.shipped.withDescendants(system: c.system, code: c.code).map { DataCode(system: $0.system, code: $0.code) }
            }.filter { seen.insert($0).inserted }
        }

        func covers(_ millis: Int64) -> Bool {
            if let start, millis < start { return false }
            if let end, millis > end { return false }
            return true
        }
    }

    public init(id: String, status: String, scope: String?, patient: String?, provision: Provision?, knowExistence: Bool? = nil) {
        self.id = id
        self.status = status
        self.scope = scope
        self.patient = patient
        self.provision = provision
        self.knowExistence = knowExistence
    }

    public init(json: JSON) {
        id = json["id"]?.stringValue ?? ""
        status = json["status"]?.stringValue ?? ""
        scope = json["scope"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        patient = json["patient"]?["reference"]?.stringValue.map { $0.hasPrefix("Patient/") ? String($0.dropFirst(8)) : $0 }
        provision = json["provision"].map(ConsentRecord.provision)
        knowExistence = (json["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == PrivacyCodes.knowExistence }?["valueBoolean"]?.boolValue
    }

    static func codings(_ node: JSON?) -> [DataCode] {
        // [CodeableConcept]
        guard let node else { return [] }
        return (node.arrayValue ?? [node]).flatMap { item -> [DataCode] in
            let codings = item["coding"]?.arrayValue ?? [item]
            return codings.compactMap { c in c["code"]?.stringValue.map { DataCode(system: c["system"]?.stringValue, code: $0) } }
        }
    }

    static func codes(_ node: JSON?) -> [String] {
        // CodeableConcept, [CodeableConcept] or [Coding]
        guard let node else { return [] }
        let items = node.arrayValue ?? [node]
        return items.flatMap { item -> [String] in
            if let codings = item["coding"]?.arrayValue { return codings.compactMap { $0["code"]?.stringValue } }
            return item["code"]?.stringValue.map { [$0] } ?? []
        }
    }

    static func provision(_ json: JSON) -> Provision {
        var p = Provision(type: json["type"]?.stringValue.flatMap(Provision.Kind.init(rawValue:)))
        if let s = json["period"]?["start"]?.stringValue { p.start = DateRange(s)?.low }
        if let e = json["period"]?["end"]?.stringValue { p.end = DateRange(e)?.high }
        p.actors = (json["actor"]?.arrayValue ?? []).compactMap { $0["reference"]?["reference"]?.stringValue }
        p.actions = codes(json["action"])
        p.purposes = codes(json["purpose"])
        p.securityLabels = codes(json["securityLabel"])
        p.classes = codes(json["class"])
        p.codes = codings(json["code"])
        if let s = json["dataPeriod"]?["start"]?.stringValue { p.dataStart = DateRange(s)?.low }
        if let e = json["dataPeriod"]?["end"]?.stringValue { p.dataEnd = DateRange(e)?.high }
        p.provisions = (json["provision"]?.arrayValue ?? []).map(provision)
        return p
    }

    /// Active, patient-privacy, and (when the root provision has a period) in force at `millis`.
    public func inForce(at millis: Int64) -> Bool {
        guard status == "active", scope == nil || scope == "patient-privacy" else { return false }
        return provision?.covers(millis) ?? true
    }
}

/// The outcome of the patient's Consents for one question.
public enum ConsentVerdict: Sendable, Equatable {
    case none
    case permit(String)
    case deny(String)

    public var reference: String? {
        switch self {
        case .none: return nil
        case .permit(let r), .deny(let r): return r
        }
    }
}

/// What the asker wants to do with the data, as Consent `provision.action` names it
/// (http://terminology.hl7.org/CodeSystem/consentaction): reading is `access` or `use`,
/// writing is `correct`. A provision without actions covers both.
public enum ConsentAction: Sendable {
    case read, write
    var codes: [String] { self == .read ? ["access", "use"] : ["correct"] }
}

/// Evaluates Consents (https://hl7.org/fhir/R4/consent.html#provision): a provision applies
/// when its actor, purpose, action and period match the question; nested provisions are
/// exceptions to their parent and inherit what they do not state (type, actors, purposes,
/// actions, and the part of the record their parent names); the deepest applicable provision
/// decides within one Consent. Across Consents a deny wins over a permit.
///
/// Two questions are asked. `evaluate` answers *may this asker see the record at all / this
/// sensitive category?* — a provision that names only part of the record (class, code, data
/// period) still opens the record when it permits, but a deny limited that way does not close
/// it. `dataRule` then answers *which part?*: the resources a permit reaches and a deny closes,
/// as a `DataRule` the store compiles into every query.
///
/// Sensitive categories need *express* consent: for a question about a label, only a permit
/// provision that names the label counts, while a deny without labels covers every category.
public struct ConsentEvaluator: Sendable {
    public var consents: [ConsentRecord]

    public init(_ consents: [ConsentRecord]) { self.consents = consents }

    /// One applicable provision, flattened: its depth, type, and the part of the record it
    /// names together with its ancestors.
    struct Applicable {
        var depth: Int
        var kind: ConsentRecord.Provision.Kind
        var scoped: Bool
        var provision: ConsentRecord.Provision
        var scope: DataRule
    }

    /// - Parameters:
    ///   - actors: references that identify the asker (`Practitioner/7`, `Organization/3`).
    ///   - purpose: a v3 PurposeOfUse code.
    ///   - label: nil for access to the record in general, else a sensitivity label.
    public func evaluate(actors: [String], purpose: String, label: String?, action: ConsentAction = .read, at millis: Int64) -> ConsentVerdict {
        var permit: String?
        for c in consents where c.inForce(at: millis) {
            var best: (depth: Int, kind: ConsentRecord.Provision.Kind)?
            for a in applicable(c, actors: actors, purpose: purpose, action: action, at: millis) {
                let labelOK: Bool
                if a.kind == .deny && a.scoped {
                    labelOK = false   // closes only part of the record: `dataRule`'s job
                } else if let label {
                    labelOK = a.provision.securityLabels.contains(label) || (a.kind == .deny && a.provision.securityLabels.isEmpty)
                } else {
                    // general access: a deny limited to some categories does not close the record
                    labelOK = a.kind == .permit || a.provision.securityLabels.isEmpty
                }
                guard labelOK else { continue }
                if best == nil || a.depth > best!.depth || (a.depth == best!.depth && a.kind == .deny) { best = (a.depth, a.kind) }
            }
            switch best?.kind {
            case .deny?: return .deny("Consent/\(c.id)")
            case .permit?: if permit == nil { permit = "Consent/\(c.id)" }
            case nil: break
            }
        }
        return permit.map(ConsentVerdict.permit) ?? .none
    }

    /// The part of the patient's record the asker may see, given whether they may see all of it
    /// on other grounds (`base`: a treating relationship, a payer's beneficiary): what the
    /// Consents permit (or everything, with `base`) less what they deny. Within one Consent the
    /// deepest matching provision decides each resource; across Consents a deny wins. Returns
    /// the rule (`.all` when nothing narrows) and the Consents it rests on.
    public func dataRule(actors: [String], purpose: String, action: ConsentAction = .read, base: Bool, at millis: Int64) -> (rule: DataRule, consents: [String]) {
        var permits: [DataRule] = [base ? .all : .nothing]
        var denies: [DataRule] = []
        var used: [String] = []
        for c in consents where c.inForce(at: millis) {
            let list = applicable(c, actors: actors, purpose: purpose, action: action, at: millis)
            guard list.contains(where: { $0.scoped || $0.kind == .deny }) else {
                if !base, list.contains(where: { $0.kind == .permit }) { permits.append(.all); used.append("Consent/\(c.id)") }
                continue
            }
            var permit: [DataRule] = []
            var deny: [DataRule] = []
            for a in list {
                let deeper = DataRule.anyOf(list.filter { $0.depth > a.depth }.map(\.scope))
                if a.kind == .permit {
                    let sameDepthDeny = DataRule.anyOf(list.filter { $0.depth == a.depth && $0.kind == .deny }.map(\.scope))
                    permit.append(DataRule.allOf([a.scope, DataRule.negate(sameDepthDeny), DataRule.negate(deeper)]))
                } else {
                    deny.append(DataRule.allOf([a.scope, DataRule.negate(deeper)]))
                }
            }
            let p = DataRule.anyOf(permit)
            let d = DataRule.anyOf(deny)
            if p != .nothing || d != .nothing { used.append("Consent/\(c.id)") }
            permits.append(p)
            denies.append(d)
        }
        let rule = DataRule.allOf([DataRule.anyOf(permits), DataRule.negate(DataRule.anyOf(denies))])
        return (rule, rule == .all ? [] : used)
    }

    /// The provisions of `c` that apply to the asker, flattened with their inherited scope.
    /// Deny scopes include their security labels; permit scopes do not (see `dataScope`).
    func applicable(_ c: ConsentRecord, actors: [String], purpose: String, action: ConsentAction, at millis: Int64) -> [Applicable] {
        guard let root = c.provision else { return [] }
        var out: [Applicable] = []
        func walk(_ p: ConsentRecord.Provision, kind inheritedKind: ConsentRecord.Provision.Kind?, actors inheritedActors: [String],
                  purposes inheritedPurposes: [String], actions inheritedActions: [String], scoped inheritedScoped: Bool,
                  scope inheritedScope: DataRule, depth: Int) {
            guard p.covers(millis), depth < 16 else { return }
            let kind = p.type ?? inheritedKind
            let who = p.actors.isEmpty ? inheritedActors : p.actors
            let why = p.purposes.isEmpty ? inheritedPurposes : p.purposes
            let what = p.actions.isEmpty ? inheritedActions : p.actions
            guard who.isEmpty || who.contains(where: { actors.contains($0) }),
                  why.isEmpty || why.contains(purpose),
                  what.isEmpty || what.contains(where: { action.codes.contains($0) }) else { return }
            let scoped = inheritedScoped || p.hasDataScope
            let ownScope = p.dataScope(withLabels: kind == .deny)
            let scope = DataRule.allOf([inheritedScope, ownScope])
            if let kind { out.append(Applicable(depth: depth, kind: kind, scoped: scoped, provision: p, scope: scope)) }
            // a child inherits the part of the record its parent names, not the parent's labels
            let passOn = DataRule.allOf([inheritedScope, p.dataScope(withLabels: false)])
            for child in p.provisions {
                walk(child, kind: kind, actors: who, purposes: why, actions: what, scoped: scoped, scope: passOn, depth: depth + 1)
            }
        }
        walk(root, kind: nil, actors: [], purposes: [], actions: [], scoped: false, scope: .all, depth: 0)
        return out
    }

    /// Categories the patient chose not to be told about: deny provisions whose actor is the
    /// patient, with the Consent that says so and whether the patient wants to know they exist.
    public func notToKnow(patient: String, at millis: Int64) -> [(label: String, consent: String, knowExistence: Bool)] {
        var out: [(label: String, consent: String, knowExistence: Bool)] = []
        let me = "Patient/\(patient)"
        for c in consents where c.inForce(at: millis) {
            guard let root = c.provision else { continue }
            var stack = [(root, root.type)]
            while let (p, inherited) = stack.popLast() {
                let kind = p.type ?? inherited
                if kind == .deny, p.actors.contains(me), p.covers(millis), !p.hasDataScope {
                    for l in p.securityLabels { out.append((label: l, consent: "Consent/\(c.id)", knowExistence: c.knowExistence ?? false)) }
                }
                stack += p.provisions.map { ($0, kind) }
            }
        }
        return out
    }

    /// Named things the patient chose not to be told about (a condition's code, a kind of
    /// result, a time): deny provisions whose actor is the patient and that name part of the
    /// record. The rule is what stays withheld; `describe` lists the codes and classes named.
    public func notToKnowData(patient: String, at millis: Int64) -> (withheld: DataRule, consents: [String], knowExistence: Bool, describe: [String]) {
        var withheld: [DataRule] = []
        var used: [String] = []
        var know = false
        var describe: [String] = []
        let me = "Patient/\(patient)"
        for c in consents where c.inForce(at: millis) {
            guard let root = c.provision else { continue }
            var stack: [(ConsentRecord.Provision, ConsentRecord.Provision.Kind?, DataRule)] = [(root, root.type, .all)]
            while let (p, inherited, scope) = stack.popLast() {
                let kind = p.type ?? inherited
                let here = DataRule.allOf([scope, p.dataScope(withLabels: false)])
                if kind == .deny, p.actors.contains(me), p.covers(millis), p.hasDataScope {
                    withheld.append(DataRule.allOf([here, p.securityLabels.isEmpty ? .all : .labels(p.securityLabels)]))
                    if !used.contains("Consent/\(c.id)") { used.append("Consent/\(c.id)") }
                    know = know || (c.knowExistence ?? false)
                    describe += p.codes.map { $0.code } + p.classes
                }
                stack += p.provisions.map { ($0, kind, here) }
            }
        }
        return (DataRule.anyOf(withheld), used, know, describe)
    }
}
