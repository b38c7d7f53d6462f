import FHIR
import Foundation

/// A cardiovascular risk chart as versioned data: the WHO CVD risk charts, 2019 revision
/// (laboratory-based), for one of the WHO's 21 regions — for Mexico, "Central Latin America"
/// (docs/prevention.md, "Cardiovascular risk"). A chart gives, by sex, diabetes, current smoking,
/// age band, systolic pressure band and total cholesterol band, the 10-year risk (%) of a fatal
/// or non-fatal myocardial infarction or stroke, for people 40–74 without established
/// cardiovascular disease.
public struct CardiovascularChart: Sendable {
    public var id: String
    public var name: String
    public var version: String
    public var region: String
    public var source: String
    /// Lower bounds of the age bands, and the end of the last one (exclusive).
    public var ageBands: [Int]
    /// Lower bounds of the systolic pressure bands (mmHg) and total cholesterol bands (mmol/L).
    public var systolicBands: [Double]
    public var cholesterolBands: [Double]
    /// Risk (%) by key `sex|diabetes|smoker|ageBand`, `[systolic band][cholesterol band]`.
    var tables: [String: [[Int]]]

    /// The chart in this build: WHO 2019, laboratory-based, Central Latin America.
    public static let centralLatinAmerica: CardiovascularChart = {
        do { return try CardiovascularChart(text: centralLatinAmericaJSON) } catch { preconditionFailure("the embedded chart does not load: \(error)") }
    }()

    /// Reads a chart in Enlace's format (the embedded file is the example). Throws a 400 naming
    /// what is wrong: a missing field, a band list out of order, a table missing or of the wrong
    /// shape, a risk outside 0–100.
    public init(text: String) throws {
        let json: JSON
        do { json = try JSONParser.parse(text) } catch {
            throw FHIRError.badRequest("the chart is not JSON: \(error)", "la tabla de riesgo no es JSON: \(error)")
        }
        func string(_ k: String) throws -> String {
            guard let v = json[k]?.stringValue, !v.isEmpty else {
                throw FHIRError.badRequest("the chart has no \(k)", "a la tabla de riesgo le falta \(k)", code: "required")
            }
            return v
        }
        func numbers(_ k: String) throws -> [Double] {
            let v = (json[k]?.arrayValue ?? []).compactMap { n -> Double? in if case let .number(s) = n { return Double(s) } else { return nil } }
            guard v.count >= 2, zip(v, v.dropFirst()).allSatisfy({ $0 < $1 }) else {
                throw FHIRError.badRequest("\(k) must be at least two increasing numbers", "\(k) debe tener al menos dos números crecientes", code: "invalid")
            }
            return v
        }
        id = try string("id")
        name = try string("name")
        version = try string("version")
        region = try string("region")
        source = try string("source")
        ageBands = try numbers("ageBands").map { Int($0) }
        systolicBands = try numbers("systolicBands")
        cholesterolBands = try numbers("cholesterolBands")
        tables = [:]
        for t in json["tables"]?.arrayValue ?? [] {
            guard let sex = t["sex"]?.stringValue, ["female", "male"].contains(sex), let dm = t["diabetes"]?.boolValue, let smoker = t["smoker"]?.boolValue,
                  case let .number(a)? = t["age"], let age = Int(a), ageBands.dropLast().contains(age) else {
                throw FHIRError.badRequest("a table needs sex (female/male), diabetes, smoker and an age that starts a band",
                                           "cada tabla necesita sex (female/male), diabetes, smoker y una edad que inicie un grupo", code: "invalid")
            }
            let rows = (t["risk"]?.arrayValue ?? []).map { row in
                (row.arrayValue ?? []).compactMap { n -> Int? in if case let .number(s) = n { return Int(s) } else { return nil } }
            }
            guard rows.count == systolicBands.count, rows.allSatisfy({ $0.count == cholesterolBands.count && $0.allSatisfy { (0...100).contains($0) } }) else {
                throw FHIRError.badRequest("the table \(sex) diabetes=\(dm) smoker=\(smoker) age \(age) must be \(systolicBands.count)×\(cholesterolBands.count) risks from 0 to 100",
                                           "la tabla \(sex) diabetes=\(dm) fumador=\(smoker) edad \(age) debe ser de \(systolicBands.count)×\(cholesterolBands.count) riesgos de 0 a 100",
                                           code: "invalid")
            }
            tables[Self.key(sex, dm, smoker, age)] = rows
        }
        for sex in ["female", "male"] {
            for dm in [false, true] {
                for smoker in [false, true] {
                    for age in ageBands.dropLast() where tables[Self.key(sex, dm, smoker, age)] == nil {
                        throw FHIRError.badRequest("the chart has no table for \(sex) diabetes=\(dm) smoker=\(smoker) age \(age)",
                                                   "a la tabla de riesgo le falta \(sex) diabetes=\(dm) fumador=\(smoker) edad \(age)", code: "required")
                    }
                }
            }
        }
    }

    static func key(_ sex: String, _ dm: Bool, _ smoker: Bool, _ age: Int) -> String { "\(sex)|\(dm)|\(smoker)|\(age)" }

    static func band(_ value: Double, _ bounds: [Double]) -> Int { max(0, (bounds.lastIndex { value >= $0 }) ?? 0) }

    /// The 10-year risk (%) for these answers; nil outside the chart's ages or sexes.
    public func risk(sex: String, age: Int, diabetes: Bool, smoker: Bool, systolic: Double, cholesterol: Double) -> Int? {
        guard let first = ageBands.first, let end = ageBands.last, age >= first, age < end else { return nil }
        guard let ageBand = ageBands.dropLast().last(where: { age >= $0 }) else { return nil }
        guard let table = tables[Self.key(sex, diabetes, smoker, ageBand)] else { return nil }
        return table[Self.band(systolic, systolicBands)][Self.band(cholesterol, cholesterolBands)]
    }
}

/// The cardiovascular risk score computed from the record with a `CardiovascularChart`.
public enum CardiovascularRisk {
    public static let description = "https://enlace.mx/fhir/docs/prevention#cardiovascular-risk"
    public static let riskLabel = "risk-cardiovascular"

    /// The WHO chart's five risk categories.
    public enum Category: String, Sendable, Equatable {
        case below5 = "lt-5", from5 = "5-10", from10 = "10-20", from20 = "20-30", above30 = "ge-30"

        public init(percent: Int) {
            switch percent {
            case ..<5: self = .below5
            case 5..<10: self = .from5
            case 10..<20: self = .from10
            case 20..<30: self = .from20
            default: self = .above30
            }
        }

        public var text: Localized {
            switch self {
            case .below5: return Localized("menos de 5 %", "below 5%")
            case .from5: return Localized("de 5 a menos de 10 %", "5% to below 10%")
            case .from10: return Localized("de 10 a menos de 20 %", "10% to below 20%")
            case .from20: return Localized("de 20 a menos de 30 %", "20% to below 30%")
            case .above30: return Localized("30 % o más", "30% or more")
            }
        }

        /// http://terminology.hl7.org/CodeSystem/risk-probability
        public var riskProbability: String {
            switch self {
            case .below5, .from5: return "low"
            case .from10: return "moderate"
            case .from20, .above30: return "high"
            }
        }
    }

    /// The answers from the record.
    public struct Inputs: Sendable, Equatable {
        public var age: Int?
        public var sex: String?
        public var systolic: Double?
        /// Total cholesterol, mmol/L.
        public var cholesterol: Double?
        public var diabetes = false
        /// nil: not recorded (scored as a non-smoker, and said).
        public var smoker: Bool?
        /// A recorded cardiovascular disease (the chart does not apply).
        public var established: String?
        public var basis: [String] = []
    }

    /// Current smoker (SNOMED CT, the smoking-status value set of LOINC 72166-2).
    static let smokerCodes: Set<String> = ["449868002", "428041000124106", "77176002", "65568007", "428061000124105", "428071000124103"]
    static let nonSmokerCodes: Set<String> = ["8517006", "266919005", "405746006"]

    /// The answers on `asOf`: the latest systolic pressure (LOINC 8480-6, alone or a component of
    /// 85354-9/55284-4), the latest total cholesterol (2093-3; mg/dL ÷ 38.67 = mmol/L), the latest
    /// smoking status (72166-2), diabetes (a Condition CIE-10 E10–E14 or SNOMED 44054006,
    /// 46635009, 73211009, or a fasting glucose ≥ 126 mg/dL / 7.0 mmol/L or HbA1c ≥ 6.5 %), and a
    /// recorded ischaemic heart disease or stroke (CIE-10 I20–I25, I63–I64) that takes the person
    /// out of the chart.
    public static func inputs(from record: PatientRecord, asOf: CivilDate) -> Inputs {
        var i = Inputs()
        i.sex = record.patient["gender"]?.stringValue
        if let birth = record.patient["birthDate"]?.stringValue.flatMap(CivilDate.init(fhir:)) { i.age = birth.years(until: asOf) }
        func dated(_ o: JSON) -> CivilDate? {
            guard o["status"]?.stringValue != "entered-in-error" else { return nil }
            return PatientRecord.date(o, "effectiveDateTime", "effectivePeriod", "issued").flatMap { $0 <= asOf ? $0 : nil }
        }
        func loinc(_ cc: JSON?) -> Set<String> { Set(PatientRecord.codes(cc).filter { $0.system == Code.loinc }.map(\.code)) }
        var systolic: (CivilDate, String, Double)?
        var cholesterol: (CivilDate, String, Double)?
        var smoking: (CivilDate, String, Bool)?
        for o in record.observations {
            guard let d = dated(o) else { continue }
            let ref = PatientRecord.ref(o)
            let codes = loinc(o["code"])
            if codes.contains("8480-6"), let v = FINDRISC.quantity(o["valueQuantity"]) {
                if systolic.map({ ($0.0, $0.1) < (d, ref) }) ?? true { systolic = (d, ref, v) }
            }
            for c in o["component"]?.arrayValue ?? [] where loinc(c["code"]).contains("8480-6") {
                if let v = FINDRISC.quantity(c["valueQuantity"]), systolic.map({ ($0.0, $0.1) < (d, ref) }) ?? true { systolic = (d, ref, v) }
            }
            if codes.contains("2093-3") || codes.contains("14647-2"), let v = FINDRISC.quantity(o["valueQuantity"]) {
                let unit = (FINDRISC.unit(o) ?? "mg/dL").lowercased()
                let mmol = unit.contains("mmol") ? v : v / 38.67
                if cholesterol.map({ ($0.0, $0.1) < (d, ref) }) ?? true { cholesterol = (d, ref, mmol) }
            }
            if codes.contains("72166-2") {
                let values = Set(PatientRecord.codes(o["valueCodeableConcept"]).filter { $0.system == Code.snomed }.map(\.code))
                let answer: Bool? = !values.isDisjoint(with: smokerCodes) ? true : (!values.isDisjoint(with: nonSmokerCodes) ? false : nil)
                if let answer, smoking.map({ ($0.0, $0.1) < (d, ref) }) ?? true { smoking = (d, ref, answer) }
            }
            let mmol = FINDRISC.unit(o) == "mmol/L"
            if let v = FINDRISC.quantity(o["valueQuantity"]), !i.diabetes {
                if (codes.contains("1558-6") && (mmol ? v * 18.0 : v) >= 126) || ((codes.contains("4548-4") || codes.contains("17856-6")) && v >= 6.5) {
                    i.diabetes = true
                    i.basis.append(ref)
                }
            }
        }
        for c in record.conditions where PatientRecord.isActive(c) {
            let codes = PatientRecord.codes(c["code"])
            if !i.diabetes, codes.contains(where: { k in
                ["E10", "E11", "E12", "E13", "E14"].contains { k.code.uppercased().hasPrefix($0) }
                    || (k.system == Code.snomed && ["44054006", "46635009", "73211009"].contains(k.code))
            }) {
                i.diabetes = true
                i.basis.append(PatientRecord.ref(c))
            }
            if i.established == nil, codes.contains(where: { k in
                ["I20", "I21", "I22", "I23", "I24", "I25", "I63", "I64"].contains { k.code.uppercased().hasPrefix($0) }
            }) {
                i.established = PatientRecord.ref(c)
            }
        }
        if let systolic { i.systolic = systolic.2; i.basis.append(systolic.1) }
        if let cholesterol { i.cholesterol = cholesterol.2; i.basis.append(cholesterol.1) }
        if let smoking { i.smoker = smoking.2; i.basis.append(smoking.1) }
        i.basis = i.basis.uniqued()
        return i
    }

    /// The risk (%) or nil when the chart does not apply (age outside 40–74, unknown sex, no
    /// systolic pressure or cholesterol, established cardiovascular disease).
    public static func score(_ i: Inputs, chart: CardiovascularChart) -> Int? {
        guard i.established == nil, let age = i.age, let sex = i.sex, let sbp = i.systolic, let chol = i.cholesterol else { return nil }
        return chart.risk(sex: sex, age: age, diabetes: i.diabetes, smoker: i.smoker ?? false, systolic: sbp, cholesterol: chol)
    }

    /// The `RiskAssessment` (https://hl7.org/fhir/R4/riskassessment.html): `preliminary` when the
    /// smoking status is not recorded (scored as a non-smoker: the risk may be higher).
    public static func assessment(id: String, patient: String, percent: Int, inputs: Inputs, chart: CardiovascularChart, date: String) -> JSON {
        let category = Category(percent: percent)
        let method = "\(chart.name) — \(chart.region) \(chart.version)"
        var notes: [JSON] = [
            .object([("text", .string("Riesgo cardiovascular a 10 años: \(percent) % (\(category.text.es)), tabla de la OMS 2019 para \(chart.region)."))]),
            .object([("text", .string("10-year cardiovascular risk: \(percent)% (\(category.text.en)), WHO 2019 chart for \(chart.region)."))]),
        ]
        if inputs.smoker == nil {
            notes.append(.object([("text", .string("Sin registro de tabaquismo: se calculó como no fumador; el riesgo puede ser mayor. / Smoking status not recorded: scored as a non-smoker; the risk may be higher."))]))
        }
        var m: [(String, JSON)] = [
            ("resourceType", .string("RiskAssessment")), ("id", .string(id)),
            ("meta", .object([("security", .array([PreventionResources.algorithmLabel,
                                                   PreventionResources.coding(PreventionResources.riskCategorySystem, riskLabel, "Riesgo cardiovascular")]))])),
            ("status", .string(inputs.smoker == nil ? "preliminary" : "final")),
            ("method", .object([("coding", .array([PreventionResources.coding("https://enlace.mx/fhir/CodeSystem/risk-algorithm", chart.id, chart.name)])),
                                ("text", .string(method))])),
            ("code", .object([("text", .string("Riesgo cardiovascular a 10 años / 10-year cardiovascular risk"))])),
            ("subject", .object([("reference", .string("Patient/\(patient)"))])),
            ("occurrenceDateTime", .string(date)),
        ]
        if !inputs.basis.isEmpty { m.append(("basis", .array(inputs.basis.map { .object([("reference", .string($0))]) }))) }
        let end = CivilDate(fhir: date).map { $0.adding(.years(10)).description } ?? ""
        m.append(("prediction", .array([.object([
            ("outcome", .object([("coding", .array([PreventionResources.coding("http://snomed.info/sct", "49601007", "Disorder of cardiovascular system")])),
                                 ("text", .string("Infarto o evento vascular cerebral, mortal o no / fatal or non-fatal myocardial infarction or stroke"))])),
            ("probabilityDecimal", .number(percent == 100 ? "1" : String(format: "0.%02d", percent))),
            ("qualitativeRisk", .object([("coding", .array([PreventionResources.coding("http://terminology.hl7.org/CodeSystem/risk-probability", category.riskProbability)])),
                                         ("text", .string(category.text.es))])),
            ("whenPeriod", .object([("start", .string(String(date.prefix(10)))), ("end", .string(end))])),
            ("rationale", .string("\(chart.name), \(chart.region), \(chart.version): \(chart.source)")),
        ])])))
        m.append(("note", .array(notes)))
        return .object(m)
    }
}
