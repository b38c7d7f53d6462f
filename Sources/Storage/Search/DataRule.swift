import FHIR
import Foundation

/// A part of one patient's record named by a Consent provision
/// (https://hl7.org/fhir/R4/consent-definitions.html#Consent.provision): its resource types
/// (`provision.class`), codes (`provision.code`), clinical time (`provision.dataPeriod`) and
/// sensitivity labels (`provision.securityLabel`), combined with and/or/not the way nested
/// provisions combine. `AccessPolicy` builds one rule per patient whose Consents narrow what an
/// asker may see; `SearchSQL` compiles it into every query and `matches` evaluates the very same
/// rule in Swift over the resource's index entries, so both paths agree (docs/consent.md).
public indirect enum DataRule: Sendable, Equatable, Hashable {
    case all
    case nothing
    /// The resource is one of these types.
    case types([String])
    /// The resource is coded with one of these (`code`, `vaccine-code` or `reason-code`).
    case codes([DataCode])
    /// The resource's clinical date (effective, onset, period, authored, issued…) overlaps this
    /// span (milliseconds since 1970, inclusive; nil: open). A resource with no clinical date
    /// does not match.
    case period(low: Int64?, high: Int64?)
    /// The resource carries one of these `meta.security` labels.
    case labels([String])
    /// These resources (`Type/id`).
    case resources([String])
    /// The resource refers through search parameter `param` to one of these (`Type/id`): a
    /// Provenance whose `target` is a withheld resource is withheld with it.
    case references(param: String, targets: [String])
    case and([DataRule])
    case or([DataRule])
    case not(DataRule)

    /// Search parameters whose tokens say what a resource is about.
    public static let codeParameters = ["code", "vaccine-code", "reason-code"]
    /// Search parameters that carry a resource's clinical date.
    public static let dateParameters = ["date", "onset-date", "recorded-date", "authoredon", "created", "issued", "period",
                                        "effective", "occurrence", "whenhandedover", "whenprepared", "birthdate"]

    /// `and`/`or`/`not` that fold `.all` and `.nothing` away (so an unrestricted grant needs no SQL).
    public static func allOf(_ rules: [DataRule]) -> DataRule {
        let parts = rules.filter { $0 != .all }
        if parts.contains(.nothing) { return .nothing }
        if parts.isEmpty { return .all }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    public static func anyOf(_ rules: [DataRule]) -> DataRule {
        let parts = rules.filter { $0 != .nothing }
        if parts.contains(.all) { return .all }
        if parts.isEmpty { return .nothing }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    public static func negate(_ rule: DataRule) -> DataRule {
        switch rule {
        case .all: return .nothing
        case .nothing: return .all
        case .not(let inner): return inner
        default: return .not(rule)
        }
    }

    /// Evaluates the rule for one resource, given its index entries (as `Indexer` makes them).
    public func matches(type: String, id: String, labels: [String], entries: [IndexEntry]) -> Bool {
        switch self {
        case .all: return true
        case .nothing: return false
        case .types(let t): return t.contains(type)
        case .codes(let codes):
            return entries.contains { e in
                e.kind == .token && DataRule.codeParameters.contains(e.parameter)
                    && codes.contains { $0.code == e.value && ($0.system == nil || $0.system == e.system) }
            }
        case .period(let low, let high):
            return entries.contains { e in
                guard e.kind == .date, DataRule.dateParameters.contains(e.parameter), let l = e.low, let h = e.high else { return false }
                if let low, h < Double(low) { return false }
                if let high, l > Double(high) { return false }
                return true
            }
        case .labels(let l): return labels.contains { l.contains($0) }
        case .resources(let r): return r.contains("\(type)/\(id)")
        case .references(let param, let targets):
            return entries.contains { e in
                e.kind == .reference && e.parameter == param && targets.contains("\(e.system)/\(e.value)")
            }
        case .and(let parts): return parts.allSatisfy { $0.matches(type: type, id: id, labels: labels, entries: entries) }
        case .or(let parts): return parts.contains { $0.matches(type: type, id: id, labels: labels, entries: entries) }
        case .not(let inner): return !inner.matches(type: type, id: id, labels: labels, entries: entries)
        }
    }

    /// Could a resource of `type` satisfy the rule? (false only when its types rule it out)
    public func mayMatch(type: String) -> Bool {
        switch self {
        case .nothing: return false
        case .types(let t): return t.contains(type)
        case .resources(let r): return r.contains { $0.hasPrefix(type + "/") }
        case .and(let p): return p.allSatisfy { $0.mayMatch(type: type) }
        case .or(let p): return p.contains { $0.mayMatch(type: type) }
        case .not(.types(let t)): return !t.contains(type)
        default: return true
        }
    }

    /// Does evaluating the rule need the resource's index entries?
    public var needsEntries: Bool {
        switch self {
        case .codes, .period, .references: return true
        case .and(let p), .or(let p): return p.contains { $0.needsEntries }
        case .not(let inner): return inner.needsEntries
        default: return false
        }
    }
}

/// A code a Consent names (`system` nil: any system).
public struct DataCode: Sendable, Equatable, Hashable {
    public var system: String?
    public var code: String
    public init(system: String?, code: String) {
        self.system = system
        self.code = code
    }
}

extension Visibility {
    /// May this stored version be seen? Index entries are computed from its body only when a
    /// data rule needs them.
    public func allows(_ r: StoredResource) -> Bool {
        allows(type: r.type, compartments: r.compartments, labels: r.labels, id: r.id, entries: {
            guard let json = try? r.json() else { return [] }
            return Indexer().entries(for: json, type: r.type)
        })
    }
}
