import FHIR
import Foundation

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
        public var classes: [String]
        public var codes: [String]
        public var provisions: [Provision]

        public init(type: Kind?, start: Int64? = nil, end: Int64? = nil, actors: [String] = [], actions: [String] = [], purposes: [String] = [],
                    securityLabels: [String] = [], classes: [String] = [], codes: [String] = [], provisions: [Provision] = []) {
            self.type = type
            self.start = start
            self.end = end
            self.actors = actors
            self.actions = actions
            self.purposes = purposes
            self.securityLabels = securityLabels
            self.classes = classes
            self.codes = codes
            self.provisions = provisions
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
        p.codes = codes(json["code"])
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

/// Evaluates Consents (https://hl7.org/fhir/R4/consent.html#provision): a provision applies
/// when its actor, purpose, period and security labels match the question; nested provisions
/// are exceptions to their parent and inherit what they do not state; the deepest applicable
/// provision decides within one Consent. Across Consents a deny wins over a permit.
///
/// Sensitive categories need *express* consent: for a question about a label, only a permit
/// provision that names the label counts, while a deny without labels covers every category.
public struct ConsentEvaluator: Sendable {
    public var consents: [ConsentRecord]

    public init(_ consents: [ConsentRecord]) { self.consents = consents }

    /// - Parameters:
    ///   - actors: references that identify the asker (`Practitioner/7`, `Organization/3`).
    ///   - purpose: a v3 PurposeOfUse code.
    ///   - label: nil for access to the record in general, else a sensitivity label.
    public func evaluate(actors: [String], purpose: String, label: String?, at millis: Int64) -> ConsentVerdict {
        var permit: String?
        for c in consents where c.inForce(at: millis) {
            guard let root = c.provision else { continue }
            var best: (depth: Int, kind: ConsentRecord.Provision.Kind)?
            walk(root, inheritedType: nil, inheritedActors: [], inheritedPurposes: [], depth: 0,
                 actors: actors, purpose: purpose, label: label, millis: millis) { depth, kind in
                if best == nil || depth > best!.depth || (depth == best!.depth && kind == .deny) { best = (depth, kind) }
            }
            switch best?.kind {
            case .deny?: return .deny("Consent/\(c.id)")
            case .permit?: if permit == nil { permit = "Consent/\(c.id)" }
            case nil: break
            }
        }
        return permit.map(ConsentVerdict.permit) ?? .none
    }

    private func walk(_ p: ConsentRecord.Provision, inheritedType: ConsentRecord.Provision.Kind?, inheritedActors: [String],
                      inheritedPurposes: [String], depth: Int, actors: [String], purpose: String, label: String?, millis: Int64,
                      found: (Int, ConsentRecord.Provision.Kind) -> Void) {
        guard p.covers(millis) else { return }
        let kind = p.type ?? inheritedType
        let who = p.actors.isEmpty ? inheritedActors : p.actors
        let why = p.purposes.isEmpty ? inheritedPurposes : p.purposes
        let actorOK = who.isEmpty || who.contains { actors.contains($0) }
        let purposeOK = why.isEmpty || why.contains(purpose)
        guard actorOK, purposeOK else { return }
        if let kind {
            let labelOK: Bool
            if let label {
                labelOK = p.securityLabels.contains(label) || (kind == .deny && p.securityLabels.isEmpty)
            } else {
                // general access: a deny limited to some categories does not close the record
                labelOK = kind == .permit || p.securityLabels.isEmpty
            }
            if labelOK { found(depth, kind) }
        }
        for child in p.provisions {
            walk(child, inheritedType: kind, inheritedActors: who, inheritedPurposes: why, depth: depth + 1,
                 actors: actors, purpose: purpose, label: label, millis: millis, found: found)
        }
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
                if kind == .deny, p.actors.contains(me), p.covers(millis) {
                    for l in p.securityLabels { out.append((label: l, consent: "Consent/\(c.id)", knowExistence: c.knowExistence ?? false)) }
                }
                stack += p.provisions.map { ($0, kind) }
            }
        }
        return out
    }
}
