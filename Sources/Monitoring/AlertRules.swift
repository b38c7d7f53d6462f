import FHIR
import Foundation

/// The default alert targets (`Knowledge/alert-defaults.json.swift`, docs/monitoring.md): used
/// for a code when the patient has no active `Goal` with a target for it.
public struct AlertDefaults: Sendable {
    public struct Rule: Sendable {
        public var id: String
        public var codes: [String]
        public var unit: String
        public var meal: [String]?
        public var low: Double?
        public var high: Double?
        public var highExclusive: Bool
        public var criticalLow: Double?
        public var criticalHigh: Double?
        public var priority: String
        public var criticalPriority: String
        public var source: String
        public var spanish: String
        public var english: String
    }

    public var id: String
    public var url: String
    public var version: String
    public var publisher: String
    public var rules: [Rule]

    /// The defaults this build ships.
    public static let current: AlertDefaults = {
        guard let d = try? AlertDefaults(JSONParser.parse(alertDefaultsJSON)) else { fatalError("alert-defaults.json is malformed") }
        return d
    }()

    public init(_ json: JSON) throws {
        func s(_ j: JSON?, _ k: String) throws -> String {
            guard let v = j?[k]?.stringValue else { throw FHIRError.badRequest("alert defaults: '\(k)' missing", "valores de alerta: falta '\(k)'") }
            return v
        }
        id = try s(json, "id")
        url = try s(json, "url")
        version = try s(json, "version")
        publisher = try s(json, "publisher")
        rules = try (json["rules"]?.arrayValue ?? []).map { r in
            Rule(id: try s(r, "id"), codes: [try s(r, "code")] + (r["aliases"]?.arrayValue ?? []).compactMap(\.stringValue),
                 unit: try s(r, "unit"), meal: r["meal"]?.arrayValue?.compactMap(\.stringValue),
                 low: Number.double(r["low"]), high: Number.double(r["high"]), highExclusive: r["highExclusive"]?.boolValue ?? false,
                 criticalLow: Number.double(r["critical"]?["low"]), criticalHigh: Number.double(r["critical"]?["high"]),
                 priority: try s(r, "priority"), criticalPriority: try s(r, "criticalPriority"), source: try s(r, "source"),
                 spanish: try s(r["display"], "es"), english: try s(r["display"], "en"))
        }
    }

    /// The rule for `code` (a glucose reading's `meal` picks the fasting rule), or nil.
    public func rule(for code: String, meal: String?) -> Rule? {
        let candidates = rules.filter { $0.codes.contains(code) }
        if let meal, let m = candidates.first(where: { $0.meal?.contains(meal) ?? false }) { return m }
        return candidates.first { $0.meal == nil }
    }

    /// The canonical of one rule, as alerts' Provenance cites it (`url|version#rule`).
    public func canonical(_ rule: Rule) -> String { "\(url)|\(version)#\(rule.id)" }
}

/// What a value is judged against: a Goal's target, or a default rule.
public struct AlertTarget: Sendable {
    public enum Origin: Sendable, Equatable {
        /// `Goal/id` at `version`, set by `expressedBy` (a reference, or nil).
        case goal(id: String, version: Int, expressedBy: String?)
        /// A default rule (its canonical).
        case defaults(canonical: String, source: String)
    }

    public var low: Double?
    public var high: Double?
    public var highExclusive = false
    public var criticalLow: Double?
    public var criticalHigh: Double?
    public var priority = "routine"
    public var criticalPriority = "urgent"
    public var origin: Origin
    public var spanish: String
    public var english: String

    /// Is `v` outside the target?
    public func outside(_ v: Double) -> Bool {
        if let low, v < low { return true }
        if let high, highExclusive ? v >= high : v > high { return true }
        return false
    }

    /// Is `v` beyond the critical limits?
    public func critical(_ v: Double) -> Bool {
        if let criticalLow, v < criticalLow { return true }
        if let criticalHigh, v >= criticalHigh { return true }
        return false
    }

    /// `70–180`, `< 140`, `≥ 90`.
    public var rangeText: String {
        func f(_ x: Double) -> String { ObservationStats.format(x) }
        switch (low, high) {
        case let (l?, h?): return highExclusive ? "\(f(l))–<\(f(h))" : "\(f(l))–\(f(h))"
        case let (nil, h?): return highExclusive ? "< \(f(h))" : "≤ \(f(h))"
        case let (l?, nil): return "≥ \(f(l))"
        default: return "—"
        }
    }
}

/// The judgement of one Observation.
public struct AlertJudgement: Sendable {
    public struct Value: Sendable {
        public var reading: VitalReading
        public var target: AlertTarget
        public var outside: Bool
        public var critical: Bool
    }

    public var values: [Value]
    public var outside: Bool { values.contains { $0.outside } }
    /// The priority of the alert (`routine` < `urgent` < `asap` < `stat`).
    public var priority: String {
        let p = values.filter(\.outside).map { $0.critical ? $0.target.criticalPriority : $0.target.priority }
        return p.max { AlertJudgement.rank($0) < AlertJudgement.rank($1) } ?? "routine"
    }

    static func rank(_ p: String) -> Int { ["routine": 0, "urgent": 1, "asap": 2, "stat": 3][p] ?? 0 }

    /// `Glucosa 342 mg/dL (meta 70–<180)` for the values outside (or all, if none is).
    public var spanish: String {
        let shown = values.filter(\.outside).isEmpty ? values : values.filter(\.outside)
        return shown.map { "\($0.target.spanish) \(ObservationStats.format($0.reading.value)) \($0.reading.unit) (meta \($0.target.rangeText))" }.joined(separator: "; ")
    }

    public var english: String {
        let shown = values.filter(\.outside).isEmpty ? values : values.filter(\.outside)
        return shown.map { "\($0.target.english) \(ObservationStats.format($0.reading.value)) \($0.reading.unit) (target \($0.target.rangeText))" }.joined(separator: "; ")
    }
}

/// Judges readings against a patient's active Goals, else the defaults.
public struct AlertRules: Sendable {
    public var defaults: AlertDefaults

    public init(defaults: AlertDefaults = .current) {
        self.defaults = defaults
    }

    /// The target for one value: the first active Goal with a `target.measure` of the code and
    /// a `detailRange`, else the default rule; nil when neither has one.
    public func target(code: String, meal: String?, goals: [JSON]) -> AlertTarget? {
        let rule = defaults.rule(for: code, meal: meal)
        for goal in goals {
            for t in goal["target"]?.arrayValue ?? [] {
                let codes = (t["measure"]?["coding"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
                guard codes.contains(code) || rule.map({ r in codes.contains { r.codes.contains($0) } }) == true,
                      let range = t["detailRange"] else { continue }
                let low = Number.double(range["low"]?["value"]), high = Number.double(range["high"]?["value"])
                guard low != nil || high != nil else { continue }
                let version = Int(goal["meta"]?["versionId"]?.stringValue ?? "1") ?? 1
                let measure = t["measure"]?["text"]?.stringValue ?? t["measure"]?["coding"]?.arrayValue?.first?["display"]?.stringValue
                return AlertTarget(low: low, high: high, criticalLow: rule?.criticalLow, criticalHigh: rule?.criticalHigh,
                                   priority: rule?.priority ?? "routine", criticalPriority: rule?.criticalPriority ?? "urgent",
                                   origin: .goal(id: goal["id"]?.stringValue ?? "", version: version,
                                                 expressedBy: goal["expressedBy"]?["reference"]?.stringValue),
                                   spanish: rule?.spanish ?? measure ?? code, english: rule?.english ?? measure ?? code)
            }
        }
        guard let rule else { return nil }
        return AlertTarget(low: rule.low, high: rule.high, highExclusive: rule.highExclusive, criticalLow: rule.criticalLow,
                           criticalHigh: rule.criticalHigh, priority: rule.priority, criticalPriority: rule.criticalPriority,
                           origin: .defaults(canonical: defaults.canonical(rule), source: rule.source), spanish: rule.spanish, english: rule.english)
    }

    /// Judges an Observation's values (its own, or its components); nil when no target applies to any.
    public func judge(_ reading: VitalReading, goals: [JSON]) -> AlertJudgement? {
        var values: [AlertJudgement.Value] = []
        for r in reading.all {
            guard let t = target(code: r.code, meal: reading.meal, goals: goals) else { continue }
            values.append(.init(reading: r, target: t, outside: t.outside(r.value), critical: t.critical(r.value)))
        }
        return values.isEmpty ? nil : AlertJudgement(values: values)
    }
}
