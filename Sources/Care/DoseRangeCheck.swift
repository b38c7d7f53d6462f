import FHIR
import Foundation

/// The order-sign dose check: a draft MedicationRequest whose daily dose of an ingredient is above
/// the largest labelled adult daily dose in the curated table (`MedicationKnowledge.doseLimits`,
/// each with its source) gets a warning card. The daily dose is computed from the FHIR
/// `Dosage` only when it can be without guessing: `doseAndRate.doseQuantity` in milligrams (UCUM
/// `mg`, `g`) or in tablets/capsules with the strength in the medicine's name ("Metformina 850 mg
/// tabletas"), times the frequency of `timing.repeat` (`frequency` per `period` `h`/`d`/`wk`) or
/// `timing.code` (`QD`, `BID`, `TID`, `QID`, `Q4H`, `Q6H`, `Q8H`, `Q12H`). Anything else — a range,
/// "as needed" without a maximum, a unit per kilogram — is left unchecked rather than guessed.
/// docs/care.md, "Dose ranges".
public struct DoseRangeCheck: Sendable {
    public var knowledge: MedicationKnowledge

    public init(knowledge: MedicationKnowledge = .embedded) { self.knowledge = knowledge }

    /// Units of one solid dose form (UCUM annotations and the words prescriptions use).
    static let unitForms: Set<String> = ["tab", "tabs", "tablet", "tablets", "tableta", "tabletas", "comprimido", "comprimidos", "cap", "caps",
                                         "capsule", "capsules", "capsula", "capsulas", "{tbl}", "{tablet}", "{capsule}", "{cap}", "{tab}"]

    /// The strength in milligrams a medicine's name states ("850 mg", "0.5 g"), if exactly one.
    static func strengthMilligrams(_ name: String) -> Double? {
        let folded = name.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).lowercased().replacingOccurrences(of: ",", with: ".")
        let range = NSRange(folded.startIndex..., in: folded)
        // "100 mg/5 ml" is a concentration, "500 mg/5 mg" a combination: neither is one tablet's strength
        if folded.range(of: #"\d\s*(mg|g)\s*/"#, options: .regularExpression) != nil { return nil }
        let found = strength.matches(in: folded, range: range).compactMap { m -> Double? in
            guard let n = Range(m.range(at: 1), in: folded), let u = Range(m.range(at: 2), in: folded), let v = Double(folded[n]) else { return nil }
            return folded[u] == "g" ? v * 1000 : v
        }
        return found.count == 1 ? found[0] : nil
    }

    // a number not glued to a word, then mg or g not followed by a letter or "/" ("5 mg/ml" is a concentration)
    nonisolated(unsafe) static let strength = try! NSRegularExpression(pattern: #"(?<![\w.])(\d+(?:\.\d+)?)\s*(mg|g)(?![a-z/])"#)

    static func number(_ j: JSON?) -> Double? {
        if case let .number(n)? = j { return Double(n) }
        return nil
    }

    /// Administrations per day of a `Timing`, if stated plainly.
    static func perDay(_ timing: JSON?) -> Double? {
        guard let timing else { return nil }
        if let r = timing["repeat"], case .object = r {
            if r["frequencyMax"] != nil || r["periodMax"] != nil { return nil }
            let frequency = number(r["frequency"]) ?? 1
            let period = number(r["period"]) ?? 1
            guard frequency > 0, period > 0, let unit = r["periodUnit"]?.stringValue else { return nil }
            switch unit {
            case "h": return frequency * 24 / period
            case "d": return frequency / period
            case "wk": return frequency / (7 * period)
            case "min": return frequency * 1440 / period
            default: return nil
            }
        }
        let code = timing["code"]?["coding"]?.arrayValue?.first { $0["system"]?.stringValue == "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation" }?["code"]?.stringValue
        return ["QD": 1, "BID": 2, "TID": 3, "QID": 4, "Q4H": 6, "Q6H": 4, "Q8H": 3, "Q12H": 2, "AM": 1, "PM": 1][code ?? ""]
    }

    /// Milligrams of the medicine in one dose, if the dose says so or counts tablets of a stated strength.
    static func doseMilligrams(_ dose: JSON?, medicine: String) -> Double? {
        guard let dose, let value = number(dose["value"]), value > 0 else { return nil }
        let unit = (dose["code"]?.stringValue ?? dose["unit"]?.stringValue ?? "").lowercased()
        let plain = unit.folding(options: [.diacriticInsensitive], locale: nil)
        switch plain {
        case "mg": return value
        case "g": return value * 1000
        case _ where unitForms.contains(plain): return strengthMilligrams(medicine).map { $0 * value }
        default: return nil
        }
    }

    /// The daily dose of a MedicationRequest in milligrams, or nil when it cannot be computed plainly.
    public static func dailyMilligrams(_ request: JSON) -> Double? {
        let dosages = request["dosageInstruction"]?.arrayValue ?? []
        guard !dosages.isEmpty else { return nil }
        let medicine = MedicationSafetyCheck.medicationName(request)
        var total = 0.0
        for d in dosages {
            if d["asNeededBoolean"]?.boolValue == true || d["asNeededCodeableConcept"] != nil { return nil }
            guard let rates = d["doseAndRate"]?.arrayValue, rates.count == 1, let mg = doseMilligrams(rates[0]["doseQuantity"], medicine: medicine),
                  let n = perDay(d["timing"]) else { return nil }
            total += mg * n
        }
        return total
    }

    /// Warning cards for the draft MedicationRequests among `orders` above a daily limit.
    public func cards(orders: [JSON], patient: String, language l: Language) -> [Card] {
        var cards: [Card] = []
        for draft in orders where draft["resourceType"]?.stringValue == "MedicationRequest" {
            let ingredients = knowledge.ingredients(in: draft["medicationCodeableConcept"])
            // one ingredient only: a combination's milligrams cannot be split between its ingredients
            guard ingredients.count == 1, let limit = knowledge.doseLimits.first(where: { $0.ingredient == ingredients[0].id }),
                  let daily = DoseRangeCheck.dailyMilligrams(draft), daily > limit.maxDailyMilligrams + 0.0001 else { continue }
            let name = MedicationSafetyCheck.medicationName(draft)
            let dose = DoseRangeCheck.milligrams(daily), max = DoseRangeCheck.milligrams(limit.maxDailyMilligrams)
            var card = Card(summary: l.pick("Dosis diaria mayor a la máxima: \(name), \(dose) mg/día (máximo \(max) mg/día)",
                                            "Daily dose above the maximum: \(name), \(dose) mg/day (maximum \(max) mg/day)"),
                            detail: l.pick("La dosis indicada suma \(dose) mg al día; la dosis diaria máxima en adultos es \(max) mg.",
                                           "The dose ordered adds up to \(dose) mg a day; the maximum adult daily dose is \(max) mg.")
                                + "\n\n" + l.pick("Fuente: ", "Source: ") + limit.source,
                            indicator: .warning, sourceLabel: l.pick("Enlace — tabla curada de dosis", "Enlace — curated dose table"), patient: patient)
            card.sourceTopic = ("dose-range", l.pick("Dosis fuera de rango", "Dose out of range"))
            card.orders = [reference(draft)].compactMap { $0 }
            card.overrideReasons = [
                ("intended-dose", l.pick("Dosis intencional, bajo vigilancia", "Intended dose, under monitoring")),
                ("specialist-indication", l.pick("Indicación del especialista", "Specialist's indication")),
            ]
            cards.append(card)
        }
        return cards
    }

    /// A dose in milligrams as people write it (no trailing ".0"; thousands with a comma).
    static func milligrams(_ v: Double) -> String {
        let rounded = (v * 100).rounded() / 100
        let whole = rounded.rounded() == rounded
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.locale = Locale(identifier: "en_US")
        f.maximumFractionDigits = whole ? 0 : 2
        return f.string(from: NSNumber(value: rounded)) ?? String(rounded)
    }
}
