import FHIR
import Foundation

/// The Cartilla Nacional de Salud as the engine's rules, read from FHIR knowledge artifacts: a
/// Bundle (or array) of `ActivityDefinition`s — what counts as done (`code.coding`: CVX, LOINC,
/// SNOMED CT), whether a vaccine is live — and `PlanDefinition`s, whose actions are the items:
///
/// - a vaccine series: one nested action per dose, `timingAge` the recommended age, the
///   extension `prevention-age-window` (a Range of ages: the minimum age for the dose to count,
///   the catch-up limit) and `relatedAction` (`after-end` the previous dose, `offsetDuration`
///   the minimum interval);
/// - a recurring item (screening, influenza, Td): `timingTiming.repeat` (`period`,
///   `periodUnit`) and `prevention-age-window` for the ages it applies to;
/// - either: `prevention-sex`, `prevention-when-pregnant`, `prevention-overdue-after`, and
///   English texts in the standard `translation` extension on `_title` and `_description`.
///
/// The format and the edition encoded are described in docs/prevention.md. An operator replaces
/// the schedule by giving the server another such Bundle (`CartillaKnowledge(json:)`).
public struct CartillaKnowledge: Sendable {
    public static let ext = "https://enlace.mx/fhir/StructureDefinition/"
    public static let translation = "http://hl7.org/fhir/StructureDefinition/translation"

    /// The items, in the order of the PlanDefinitions and their actions.
    public var rules: [ScheduleRule]
    /// `Bundle.id` and `Bundle.meta.versionId` (or the first PlanDefinition's version).
    public var name: String
    public var version: String
    /// The PlanDefinitions and ActivityDefinitions read (to serve or store them).
    public var resources: [JSON]

    /// The edition in this build (docs/prevention.md).
    public static let standard: CartillaKnowledge = {
        do { return try CartillaKnowledge(text: embeddedJSON) } catch { preconditionFailure("the embedded Cartilla does not load: \(error)") }
    }()

    public init(text: String) throws {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch {
            throw FHIRError.badRequest("the schedule is not JSON: \(error)", "el esquema no es JSON: \(error)")
        }
        try self.init(json: json)
    }

    /// Reads a Bundle (`entry.resource`) or a JSON array of PlanDefinitions and ActivityDefinitions.
    /// Throws a 400 FHIRError naming what is wrong (an unknown definition, a bad age).
    public init(json: JSON) throws {
        let resources: [JSON]
        if json["resourceType"]?.stringValue == "Bundle" {
            resources = (json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
        } else if let a = json.arrayValue {
            resources = a
        } else {
            resources = [json]
        }
        var activities: [String: JSON] = [:]
        for r in resources where r["resourceType"]?.stringValue == "ActivityDefinition" {
            if let url = r["url"]?.stringValue { activities[url] = r }
            if let id = r["id"]?.stringValue { activities["ActivityDefinition/\(id)"] = r }
        }
        var rules: [ScheduleRule] = []
        var seen: Set<String> = []
        var firstVersion: String?
        for plan in resources where plan["resourceType"]?.stringValue == "PlanDefinition" {
            guard plan["status"]?.stringValue != "retired" else { continue }
            let planRef = "\(plan["url"]?.stringValue ?? "PlanDefinition/\(plan["id"]?.stringValue ?? "")")|\(plan["version"]?.stringValue ?? "")"
            firstVersion = firstVersion ?? plan["version"]?.stringValue
            for action in plan["action"]?.arrayValue ?? [] {
                let rule = try CartillaKnowledge.rule(action, plan: planRef, planSex: CartillaKnowledge.extString(plan, "prevention-sex"), activities: activities)
                guard seen.insert(rule.id).inserted else {
                    throw FHIRError.badRequest("two schedule items have the id '\(rule.id)'", "dos elementos del esquema tienen el id '\(rule.id)'")
                }
                rules.append(rule)
            }
        }
        guard !rules.isEmpty else {
            throw FHIRError.badRequest("the schedule has no PlanDefinition actions", "el esquema no tiene acciones de PlanDefinition")
        }
        self.rules = rules
        self.resources = resources
        self.name = json["id"]?.stringValue ?? "cartilla"
        self.version = json["meta"]?["versionId"]?.stringValue ?? firstVersion ?? "unversioned"
    }

    static func rule(_ action: JSON, plan: String, planSex: String?, activities: [String: JSON]) throws -> ScheduleRule {
        guard let id = action["id"]?.stringValue, !id.isEmpty else {
            throw FHIRError.badRequest("a PlanDefinition action has no id", "una acción de PlanDefinition no tiene id")
        }
        func bad(_ en: String, _ es: String) -> FHIRError { FHIRError.badRequest("schedule item '\(id)': \(en)", "elemento del esquema '\(id)': \(es)") }
        guard let canonical = action["definitionCanonical"]?.stringValue else {
            throw bad("no definitionCanonical", "sin definitionCanonical")
        }
        let bare = canonical.split(separator: "|").first.map(String.init) ?? canonical
        guard let activity = activities[bare] else {
            throw bad("the ActivityDefinition \(canonical) is not in the schedule", "la ActivityDefinition \(canonical) no está en el esquema")
        }
        let kindCode = action["code"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue
        let kind: ScheduleRule.Kind = kindCode.flatMap(ScheduleRule.Kind.init(rawValue:))
            ?? (activity["kind"]?.stringValue == "ImmunizationRecommendation" ? .immunization : .screening)
        let codes = Set((activity["code"]?["coding"]?.arrayValue ?? []).compactMap { c -> Code? in
            guard let s = c["system"]?.stringValue, let v = c["code"]?.stringValue else { return nil }
            return Code(s, v)
        })
        guard !codes.isEmpty else { throw bad("its ActivityDefinition has no code.coding", "su ActivityDefinition no tiene code.coding") }
        let title = localized(action, "title") ?? localized(activity, "title") ?? Localized(id, id)
        let purpose = localized(activity, "description") ?? Localized("", "")
        let overdue = try extensionValue(action, "prevention-overdue-after", "valueDuration").map { try span($0, bad) } ?? .months(1)
        let window = extensionValue(action, "prevention-age-window", "valueRange")
        let schedule: ScheduleRule.Schedule
        if let repeatJSON = action["timingTiming"]?["repeat"] {
            guard let periodText = repeatJSON["period"].flatMap(numberText), let period = Int(periodText), period > 0,
                  let unitText = repeatJSON["periodUnit"]?.stringValue else {
                throw bad("timingTiming.repeat needs a whole period and periodUnit", "timingTiming.repeat necesita period entero y periodUnit")
            }
            let unit: Span.Unit
            switch unitText {
            case "d": unit = .day
            case "wk": unit = .week
            case "mo": unit = .month
            case "a": unit = .year
            default: throw bad("periodUnit '\(unitText)' is not d, wk, mo or a", "periodUnit '\(unitText)' no es d, wk, mo ni a")
            }
            let from = try window?["low"].map { try span($0, bad) } ?? .days(0)
            let until = try window?["high"].map { try span($0, bad) }
            schedule = .recurring(every: Span(period, unit), from: from, until: until)
        } else if let doses = action["action"]?.arrayValue, !doses.isEmpty {
            var out: [ScheduleRule.Dose] = []
            for d in doses {
                guard let rec = d["timingAge"] else { throw bad("a dose has no timingAge", "una dosis no tiene timingAge") }
                let w = extensionValue(d, "prevention-age-window", "valueRange")
                let recommended = try span(rec, bad)
                let gap = try d["relatedAction"]?.arrayValue?.first?["offsetDuration"].map { try span($0, bad) }
                out.append(ScheduleRule.Dose(recommendedAge: recommended, minimumAge: try w?["low"].map { try span($0, bad) } ?? recommended,
                                             maximumAge: try w?["high"].map { try span($0, bad) }, minimumInterval: gap))
            }
            schedule = .series(out)
        } else {
            throw bad("neither doses (nested actions) nor timingTiming", "ni dosis (acciones anidadas) ni timingTiming")
        }
        let live = extensionValue(activity, "prevention-live-vaccine", "valueBoolean")?.boolValue ?? false
        return ScheduleRule(id: id, kind: kind, title: title, purpose: purpose, plan: plan,
                            activity: "\(bare)|\(activity["version"]?.stringValue ?? "")",
                            sex: extString(action, "prevention-sex") ?? planSex,
                            whenPregnant: extensionValue(action, "prevention-when-pregnant", "valueBoolean")?.boolValue ?? false,
                            live: live, codes: codes, overdueAfter: overdue, schedule: schedule)
    }

    static func numberText(_ j: JSON) -> String? {
        if case let .number(s) = j { return s }
        return nil
    }

    static func span(_ q: JSON, _ bad: (String, String) -> FHIRError) throws -> Span {
        guard let text = q["value"].flatMap(numberText), let v = Double(text), v >= 0, v == v.rounded() else {
            throw bad("an age or duration needs a whole value", "una edad o duración necesita un valor entero")
        }
        let code = q["code"]?.stringValue ?? q["unit"]?.stringValue ?? ""
        let unit: Span.Unit
        switch code {
        case "d", "día", "días", "day", "days": unit = .day
        case "wk", "semanas", "weeks": unit = .week
        case "mo", "meses", "months": unit = .month
        case "a", "año", "años", "year", "years": unit = .year
        default: throw bad("unit '\(code)' is not d, wk, mo or a", "la unidad '\(code)' no es d, wk, mo ni a")
        }
        return Span(Int(v), unit)
    }

    static func extensionValue(_ r: JSON, _ name: String, _ key: String) -> JSON? {
        (r["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ext + name }?[key]
    }

    static func extString(_ r: JSON, _ name: String) -> String? {
        extensionValue(r, name, "valueCode")?.stringValue
    }

    /// `title` and its English translation (`_title.extension[translation]`).
    static func localized(_ r: JSON, _ key: String) -> Localized? {
        guard let es = r[key]?.stringValue else { return nil }
        var en = es
        for t in r["_" + key]?["extension"]?.arrayValue ?? [] where t["url"]?.stringValue == translation {
            let parts = t["extension"]?.arrayValue ?? []
            let lang = parts.first { $0["url"]?.stringValue == "lang" }?["valueCode"]?.stringValue
            if lang?.hasPrefix("en") == true, let c = parts.first(where: { $0["url"]?.stringValue == "content" })?["valueString"]?.stringValue { en = c }
        }
        return Localized(es, en)
    }
}
