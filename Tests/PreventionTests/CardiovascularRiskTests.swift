import FHIR
import Foundation
@testable import Prevention
import Testing

// The WHO 2019 chart for Central Latin America: cells checked against the source table (the
// CEN_LAT_AME column of whoishRisk's WHO_2019_Scores.csv, read by hand for each case below),
// the band edges, the answers read from a record, and malformed charts refused.
@Suite struct CardiovascularRiskTests {
    let chart = CardiovascularChart.centralLatinAmerica

    @Test func embeddedChartIsTheCentralLatinAmericaOne() {
        #expect(chart.region == "Central Latin America")
        #expect(chart.version == "2019.1")
        #expect(chart.tables.count == 2 * 2 * 2 * 7)
    }

    /// (sex, age, diabetes, smoker, systolic, cholesterol mmol/L) → risk % from the source table.
    static let cells: [(String, Int, Bool, Bool, Double, Double, Int)] = [
        ("male", 58, true, true, 150, 6.2, 20),      // 55-59, 140-159, 6-6.9
        ("female", 40, false, false, 110, 3.5, 1),   // 40-44, <120, <4
        ("female", 74, false, false, 190, 7.5, 18),  // 70-74, >=180, >=7
        ("male", 50, false, true, 130, 5.5, 6),      // 50-54, 120-139, 5-5.9
        ("male", 50, false, true, 119, 5.5, 5),      // one mmHg below the band: <120
        ("male", 50, false, true, 130, 4.9, 5),      // 4-4.9
        ("male", 54, false, false, 139, 5.0, 4),     // non-smoker; 139 still 120-139; 5.0 starts 5-5.9
        ("female", 65, true, false, 160, 4.0, 16),   // 65-69, 160-179 (its first mmHg), 4-4.9 (its first value)
        ("male", 70, true, true, 250, 9.0, 47),      // the chart's top cell
        ("female", 56, true, false, 150, 5.2, 9),
        ("female", 56, false, false, 150, 5.2, 5),   // the same woman without diabetes
    ]

    @Test(arguments: 0..<cells.count)
    func cellsMatchTheSource(_ i: Int) {
        let (sex, age, dm, smoker, sbp, chol, expected) = Self.cells[i]
        #expect(chart.risk(sex: sex, age: age, diabetes: dm, smoker: smoker, systolic: sbp, cholesterol: chol) == expected)
    }

    @Test func outsideTheChartIsNotScored() {
        #expect(chart.risk(sex: "male", age: 39, diabetes: false, smoker: false, systolic: 130, cholesterol: 5) == nil)
        #expect(chart.risk(sex: "male", age: 75, diabetes: false, smoker: false, systolic: 130, cholesterol: 5) == nil)
        #expect(chart.risk(sex: "unknown", age: 50, diabetes: false, smoker: false, systolic: 130, cholesterol: 5) == nil)
        #expect(chart.risk(sex: "male", age: 74, diabetes: false, smoker: false, systolic: 130, cholesterol: 5) != nil)
    }

    @Test func categories() {
        #expect(CardiovascularRisk.Category(percent: 4) == .below5)
        #expect(CardiovascularRisk.Category(percent: 5) == .from5)
        #expect(CardiovascularRisk.Category(percent: 10) == .from10)
        #expect(CardiovascularRisk.Category(percent: 20) == .from20)
        #expect(CardiovascularRisk.Category(percent: 30) == .above30)
        #expect(CardiovascularRisk.Category(percent: 20).riskProbability == "high")
    }

    static func obs(_ id: String, _ loinc: String, _ value: Double, _ unit: String, _ date: String = "2026-10-01") -> JSON {
        try! JSONParser.parse(#"{"resourceType":"Observation","id":"\#(id)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"\#(loinc)"}]},"effectiveDateTime":"\#(date)","valueQuantity":{"value":\#(value),"unit":"\#(unit)","code":"\#(unit)"}}"#)
    }

    @Test func answersFromTheRecord() throws {
        var record = PatientRecord(patient: try JSONParser.parse(#"{"resourceType":"Patient","id":"e","gender":"male","birthDate":"1968-05-10"}"#))
        record.add(Self.obs("sbp-old", "8480-6", 170, "mm[Hg]", "2025-01-01"))
        record.add(try JSONParser.parse(#"{"resourceType":"Observation","id":"bp","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"effectiveDateTime":"2026-09-01","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":150,"unit":"mm[Hg]"}}]}"#))
        record.add(Self.obs("chol", "2093-3", 240, "mg/dL"))
        record.add(try JSONParser.parse(#"{"resourceType":"Observation","id":"smoke","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}]},"effectiveDateTime":"2026-08-01","valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"449868002"}]}}"#))
        record.add(try JSONParser.parse(#"{"resourceType":"Condition","id":"dm","clinicalStatus":{"coding":[{"code":"active"}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11.9"}]}}"#))
        let i = CardiovascularRisk.inputs(from: record, asOf: CivilDate(2026, 11, 24))
        #expect(i.age == 58)
        #expect(i.systolic == 150)  // the newest, from the panel's component
        #expect(abs((i.cholesterol ?? 0) - 240 / 38.67) < 0.001)  // 6.21 mmol/L
        #expect(i.smoker == true)
        #expect(i.diabetes)
        #expect(Set(i.basis) == ["Observation/bp", "Observation/chol", "Observation/smoke", "Condition/dm"])
        #expect(CardiovascularRisk.score(i, chart: chart) == 20)
        let ra = CardiovascularRisk.assessment(id: "cvd-e", patient: "e", percent: 20, inputs: i, chart: chart, date: "2026-11-24T12:00:00Z")
        #expect(ra["status"]?.stringValue == "final")
        #expect(ra["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.20"))
        let labels = ra["meta"]?["security"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
        #expect(labels == ["AIAST", "risk-cardiovascular"])
        // a recorded myocardial infarction takes him out of the chart
        record.add(try JSONParser.parse(#"{"resourceType":"Condition","id":"mi","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"I21.9"}]}}"#))
        #expect(CardiovascularRisk.score(CardiovascularRisk.inputs(from: record, asOf: CivilDate(2026, 11, 24)), chart: chart) == nil)
    }

    @Test func unrecordedSmokingIsPreliminary() throws {
        var record = PatientRecord(patient: try JSONParser.parse(#"{"resourceType":"Patient","id":"f","gender":"female","birthDate":"1970-03-01"}"#))
        record.add(Self.obs("sbp", "8480-6", 150, "mm[Hg]"))
        record.add(Self.obs("chol", "2093-3", 5.2, "mmol/L"))
        let i = CardiovascularRisk.inputs(from: record, asOf: CivilDate(2026, 11, 24))
        #expect(i.smoker == nil)
        #expect(CardiovascularRisk.score(i, chart: chart) == 5)
        let ra = CardiovascularRisk.assessment(id: "cvd-f", patient: "f", percent: 5, inputs: i, chart: chart, date: "2026-11-24T12:00:00Z")
        #expect(ra["status"]?.stringValue == "preliminary")
        #expect(ra["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.05"))
        // no cholesterol → no score
        var noChol = PatientRecord(patient: record.patient)
        noChol.add(Self.obs("sbp", "8480-6", 150, "mm[Hg]"))
        #expect(CardiovascularRisk.score(CardiovascularRisk.inputs(from: noChol, asOf: CivilDate(2026, 11, 24)), chart: chart) == nil)
    }

    @Test(arguments: [
        (#"[]"#, "no id"),
        (#"{"id":"x","name":"n","version":"1","region":"r","source":"s","ageBands":[40,45],"systolicBands":[0,120],"cholesterolBands":[5,4],"tables":[]}"#, "cholesterolBands"),
        (#"{"id":"x","name":"n","version":"1","region":"r","source":"s","ageBands":[40,45],"systolicBands":[0,120],"cholesterolBands":[0,4],"tables":[]}"#, "no table"),
        (#"{"id":"x","name":"n","version":"1","region":"r","source":"s","ageBands":[40,45],"systolicBands":[0,120],"cholesterolBands":[0,4],"tables":[{"sex":"male","diabetes":false,"smoker":false,"age":40,"risk":[[1,2],[3,101]]}]}"#, "0 to 100"),
        ("not json", "not JSON"),
    ])
    func malformedChartsAreRefused(_ text: String, _ says: String) {
        do {
            _ = try CardiovascularChart(text: text)
            Issue.record("accepted a malformed chart")
        } catch let e as FHIRError {
            #expect(e.status == 400)
            #expect(!e.issues.isEmpty && !e.issues[0].spanish.isEmpty)
            if says != "no id" { #expect(e.issues[0].english.contains(says), "\(e.issues[0].english)") }
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}
