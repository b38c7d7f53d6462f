import FHIR
import Foundation

/// FINDRISC, the Finnish Diabetes Risk Score (Lindström J, Tuomilehto J. *The Diabetes Risk
/// Score: a practical tool to predict type 2 diabetes risk.* Diabetes Care 2003;26(3):725–731):
/// eight questions, 0–26 points, the 10-year risk of type 2 diabetes. The points and bands are
/// the published ones; how each answer is read from the record is Enlace's choice
/// (docs/prevention.md, "FINDRISC").
public enum FINDRISC {
    public static let name = "FINDRISC"
    public static let version = "2003.1"
    public static let description = "https://enlace.mx/fhir/docs/prevention#findrisc"
    /// Enlace's codes for the questionnaire answers the record does not otherwise hold.
    public static let answers = "https://enlace.mx/fhir/CodeSystem/findrisc"

    public enum FamilyHistory: Int, Sendable { case none = 0, secondDegree = 3, firstDegree = 5 }

    /// The answers. nil: not in the record (it scores 0, and the result says so).
    public struct Inputs: Sendable, Equatable {
        public var age: Int?
        public var bmi: Double?
        /// Waist circumference in cm, with the sex it is judged by.
        public var waist: Double?
        public var sex: String?
        /// At least 30 minutes of physical activity a day.
        public var active: Bool?
        /// Vegetables, fruit or berries every day.
        public var dailyVegetables: Bool?
        public var antihypertensives: Bool?
        /// Ever found to have high blood glucose.
        public var highGlucose: Bool?
        public var family: FamilyHistory?
        /// The records each answer came from.
        public var basis: [String] = []

        public init(age: Int? = nil, bmi: Double? = nil, waist: Double? = nil, sex: String? = nil, active: Bool? = nil, dailyVegetables: Bool? = nil,
                    antihypertensives: Bool? = nil, highGlucose: Bool? = nil, family: FamilyHistory? = nil, basis: [String] = []) {
            self.age = age
            self.bmi = bmi
            self.waist = waist
            self.sex = sex
            self.active = active
            self.dailyVegetables = dailyVegetables
            self.antihypertensives = antihypertensives
            self.highGlucose = highGlucose
            self.family = family
            self.basis = basis
        }
    }

    public struct Result: Sendable, Equatable {
        public var score: Int
        /// Points by question, in the questionnaire's order.
        public var points: [(String, Int)]
        /// Questions with no answer in the record.
        public var missing: [String]
        public var band: Band

        public static func == (a: Result, b: Result) -> Bool {
            a.score == b.score && a.missing == b.missing && a.band == b.band && a.points.map(\.0) == b.points.map(\.0) && a.points.map(\.1) == b.points.map(\.1)
        }
    }

    /// The published bands and their estimated 10-year risk.
    public enum Band: String, Sendable, Equatable {
        case low, slightlyElevated = "slightly-elevated", moderate, high, veryHigh = "very-high"

        public init(score: Int) {
            switch score {
            case ..<7: self = .low
            case 7...11: self = .slightlyElevated
            case 12...14: self = .moderate
            case 15...20: self = .high
            default: self = .veryHigh
            }
        }

        public var probability: String {
            switch self {
            case .low: return "0.01"
            case .slightlyElevated: return "0.04"
            case .moderate: return "0.17"
            case .high: return "0.33"
            case .veryHigh: return "0.5"
            }
        }

        public var text: Localized {
            switch self {
            case .low: return Localized("bajo (1 de cada 100)", "low (1 in 100)")
            case .slightlyElevated: return Localized("ligeramente elevado (1 de cada 25)", "slightly elevated (1 in 25)")
            case .moderate: return Localized("moderado (1 de cada 6)", "moderate (1 in 6)")
            case .high: return Localized("alto (1 de cada 3)", "high (1 in 3)")
            case .veryHigh: return Localized("muy alto (1 de cada 2)", "very high (1 in 2)")
            }
        }

        /// http://terminology.hl7.org/CodeSystem/risk-probability
        public var riskProbability: String {
            switch self {
            case .low: return "low"
            case .slightlyElevated, .moderate: return "moderate"
            case .high, .veryHigh: return "high"
            }
        }
    }

    public static func score(_ i: Inputs) -> Result {
        var points: [(String, Int)] = []
        var missing: [String] = []
        func add(_ name: String, _ value: Int?) {
            if let value { points.append((name, value)) } else { points.append((name, 0)); missing.append(name) }
        }
        add("age", i.age.map { $0 < 45 ? 0 : $0 < 55 ? 2 : $0 < 65 ? 3 : 4 })
        add("bmi", i.bmi.map { $0 < 25 ? 0 : $0 <= 30 ? 1 : 3 })
        add("waist", i.waist.flatMap { w -> Int? in
            switch i.sex {
            case "male": return w < 94 ? 0 : w <= 102 ? 3 : 4
            case "female": return w < 80 ? 0 : w <= 88 ? 3 : 4
            default: return nil
            }
        })
        add("physical-activity", i.active.map { $0 ? 0 : 2 })
        add("vegetables", i.dailyVegetables.map { $0 ? 0 : 1 })
        add("antihypertensives", i.antihypertensives.map { $0 ? 2 : 0 })
        add("high-glucose", i.highGlucose.map { $0 ? 5 : 0 })
        add("family-history", i.family?.rawValue)
        let total = points.reduce(0) { $0 + $1.1 }
        return Result(score: total, points: points, missing: missing, band: Band(score: total))
    }

    /// The answers from the record on `asOf`: age from the birth date; the latest BMI (LOINC
    /// 39156-5, or weight 29463-7 and height 8302-2 of the same day) and waist (8280-0, cm);
    /// activity and vegetables from Enlace's FINDRISC answer codes (a boolean Observation);
    /// antihypertensives from an active MedicationStatement/MedicationRequest with an ATC code
    /// C02, C03, C07, C08 or C09; high glucose from a fasting glucose ≥ 100 mg/dL (1558-6), a
    /// random glucose ≥ 140 mg/dL (2339-0, 2345-7), an HbA1c ≥ 5.7 % (4548-4, 17856-6), or a
    /// Condition of diabetes, prediabetes or gestational diabetes (CIE-10 E10–E14, R73, O24);
    /// family history from FamilyMemberHistory with diabetes (E10–E14, SNOMED 44054006/46635009)
    /// by relationship (v3-RoleCode: parent, sibling, child = first degree).
    public static func inputs(from record: PatientRecord, asOf: CivilDate) -> Inputs {
        var i = Inputs(sex: record.patient["gender"]?.stringValue)
        if let birth = record.patient["birthDate"]?.stringValue.flatMap(CivilDate.init(fhir:)) { i.age = birth.years(until: asOf) }
        func latest(_ codes: [String]) -> (JSON, Double)? {
            record.observations.compactMap { o -> (CivilDate, String, JSON, Double)? in
                guard let d = PatientRecord.date(o, "effectiveDateTime", "effectivePeriod", "issued"), d <= asOf,
                      PatientRecord.codes(o["code"]).contains(where: { $0.system == Code.loinc && codes.contains($0.code) }),
                      let v = quantity(o["valueQuantity"]), o["status"]?.stringValue != "entered-in-error" else { return nil }
                return (d, PatientRecord.ref(o), o, v)
            }.max { ($0.0, $0.1) < ($1.0, $1.1) }.map { ($0.2, $0.3) }
        }
        if case let (o, v)? = latest(["39156-5"]) {
            i.bmi = v
            i.basis.append(PatientRecord.ref(o))
        } else if case let (wo, w)? = latest(["29463-7"]), case let (ho, h)? = latest(["8302-2"]), h > 0 {
            let metres = unit(ho) == "cm" ? h / 100 : h
            i.bmi = w / (metres * metres)
            i.basis += [PatientRecord.ref(wo), PatientRecord.ref(ho)]
        }
        if case let (o, v)? = latest(["8280-0", "56086-2"]) {
            i.waist = unit(o) == "m" ? v * 100 : v
            i.basis.append(PatientRecord.ref(o))
        }
        func answer(_ code: String) -> Bool? {
            let o = record.observations.filter { PatientRecord.codes($0["code"]).contains(Code(answers, code)) }
                .compactMap { o -> (CivilDate, JSON)? in PatientRecord.date(o, "effectiveDateTime", "issued").map { ($0, o) } }
                .filter { $0.0 <= asOf }.max { $0.0 < $1.0 }?.1
            guard let o, let b = o["valueBoolean"]?.boolValue else { return nil }
            i.basis.append(PatientRecord.ref(o))
            return b
        }
        i.active = answer("physical-activity-30min")
        i.dailyVegetables = answer("daily-vegetables")
        let atc = ["C02", "C03", "C07", "C08", "C09"]
        let antihypertensive = record.medications.first { m in
            let status = m["status"]?.stringValue ?? "active"
            guard ["active", "completed", "intended", "on-hold"].contains(status) else { return false }
            return PatientRecord.codes(m["medicationCodeableConcept"]).contains { k in k.system == "http://www.whocc.no/atc" && atc.contains { k.code.hasPrefix($0) } }
        }
        if let m = antihypertensive { i.antihypertensives = true; i.basis.append(PatientRecord.ref(m)) } else if !record.medications.isEmpty { i.antihypertensives = false }
        var high: String?
        for o in record.observations {
            guard let d = PatientRecord.date(o, "effectiveDateTime", "issued"), d <= asOf, let v = quantity(o["valueQuantity"]) else { continue }
            let codes = PatientRecord.codes(o["code"]).filter { $0.system == Code.loinc }.map(\.code)
            let mmol = unit(o) == "mmol/L"
            let mgdl = mmol ? v * 18.0 : v
            if (codes.contains("1558-6") && mgdl >= 100) || ((codes.contains("2339-0") || codes.contains("2345-7")) && mgdl >= 140)
                || ((codes.contains("4548-4") || codes.contains("17856-6")) && v >= 5.7) {
                high = PatientRecord.ref(o)
            }
        }
        if high == nil {
            high = record.conditions.first { c in
                let status = c["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
                guard PatientRecord.isActive(c) || status == "resolved" || status == "remission" else { return false }
                return PatientRecord.codes(c["code"]).contains { k in
                    let code = k.code.uppercased()
                    return ["E10", "E11", "E12", "E13", "E14", "R73", "O24"].contains { code.hasPrefix($0) }
                        || (k.system == Code.snomed && ["44054006", "46635009", "714628002", "11687002"].contains(k.code))
                }
            }.map(PatientRecord.ref)
        }
        let glucoseMeasured = record.observations.contains { PatientRecord.codes($0["code"]).contains { ["1558-6", "2339-0", "2345-7", "4548-4", "17856-6"].contains($0.code) } }
        if let high { i.highGlucose = true; i.basis.append(high) } else if glucoseMeasured { i.highGlucose = false }
        let first = ["MTH", "FTH", "PRN", "NMTH", "NFTH", "SIB", "NSIB", "BRO", "SIS", "NBRO", "NSIS", "CHILD", "SON", "DAU", "NCHILD"]
        var family: FamilyHistory?
        for f in record.familyHistory {
            let diabetes = (f["condition"]?.arrayValue ?? []).contains { c in
                PatientRecord.codes(c["code"]).contains { k in
                    ["E10", "E11", "E13", "E14"].contains { k.code.uppercased().hasPrefix($0) } || (k.system == Code.snomed && ["44054006", "46635009", "73211009"].contains(k.code))
                }
            }
            family = family ?? FamilyHistory.none
            guard diabetes else { continue }
            let rel = f["relationship"]?["coding"]?.arrayValue?.first?["code"]?.stringValue ?? ""
            let degree: FamilyHistory = first.contains(rel) ? .firstDegree : .secondDegree
            if degree.rawValue > family!.rawValue { family = degree }
            i.basis.append(PatientRecord.ref(f))
        }
        i.family = family
        i.basis = i.basis.uniqued()
        return i
    }

    static func quantity(_ q: JSON?) -> Double? {
        guard case let .number(s)? = q?["value"] else { return nil }
        return Double(s)
    }

    static func unit(_ o: JSON) -> String? { o["valueQuantity"]?["code"]?.stringValue ?? o["valueQuantity"]?["unit"]?.stringValue }
}
