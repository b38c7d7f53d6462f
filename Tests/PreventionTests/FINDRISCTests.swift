import FHIR
import Foundation
@testable import Prevention
import Testing

// FINDRISC scores worked out by hand from Lindström & Tuomilehto 2003 (table in docs/prevention.md).
@Suite struct FINDRISCTests {
    @Test func everyQuestionAtItsHighestIs26() {
        let r = FINDRISC.score(.init(age: 70, bmi: 31, waist: 103, sex: "male", active: false, dailyVegetables: false, antihypertensives: true,
                                     highGlucose: true, family: .firstDegree))
        // 4 + 3 + 4 + 2 + 1 + 2 + 5 + 5
        #expect(r.score == 26)
        #expect(r.band == .veryHigh)
        #expect(r.missing.isEmpty)
    }

    @Test func healthyYoungWomanIsZero() {
        let r = FINDRISC.score(.init(age: 30, bmi: 22, waist: 70, sex: "female", active: true, dailyVegetables: true, antihypertensives: false,
                                     highGlucose: false, family: FINDRISC.FamilyHistory.none))
        #expect(r.score == 0)
        #expect(r.band == .low)
    }

    @Test func bandEdges() {
        // 45–54 → 2; BMI 25–30 → 1; woman's waist 80–88 → 3; inactive → 2; vegetables daily → 0; no drugs → 0; glucose → 0; grandparent → 3 = 11
        let a = FINDRISC.score(.init(age: 45, bmi: 25, waist: 80, sex: "female", active: false, dailyVegetables: true, antihypertensives: false,
                                     highGlucose: false, family: .secondDegree))
        #expect(a.score == 11)
        #expect(a.band == .slightlyElevated)
        // same with a parent → 13 (moderate)
        let b = FINDRISC.score(.init(age: 45, bmi: 25, waist: 80, sex: "female", active: false, dailyVegetables: true, antihypertensives: false,
                                     highGlucose: false, family: .firstDegree))
        #expect(b.score == 13)
        #expect(b.band == .moderate)
        // 55–64 → 3; BMI 30 (≤30) → 1; man's waist 102 (≤102) → 3; active → 0; no vegetables → 1; drugs → 2; high glucose → 5; none → 0 = 15
        let c = FINDRISC.score(.init(age: 64, bmi: 30, waist: 102, sex: "male", active: true, dailyVegetables: false, antihypertensives: true,
                                     highGlucose: true, family: FINDRISC.FamilyHistory.none))
        #expect(c.score == 15)
        #expect(c.band == .high)
        #expect(FINDRISC.Band(score: 6) == .low)
        #expect(FINDRISC.Band(score: 7) == .slightlyElevated)
        #expect(FINDRISC.Band(score: 20) == .high)
        #expect(FINDRISC.Band(score: 21) == .veryHigh)
    }

    @Test func missingAnswersScoreZeroAndAreListed() {
        let r = FINDRISC.score(.init(age: 50, bmi: 32))
        #expect(r.score == 5)  // 2 + 3
        #expect(r.missing == ["waist", "physical-activity", "vegetables", "antihypertensives", "high-glucose", "family-history"])
    }

    static func resource(_ text: String) -> JSON { try! JSONParser.parse(text) }

    @Test func answersFromTheRecord() throws {
        var record = PatientRecord(patient: Self.resource(#"{"resourceType":"Patient","id":"p","gender":"male","birthDate":"1968-05-01"}"#))
        record.add(Self.resource(#"{"resourceType":"Observation","id":"bmi","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"effectiveDateTime":"2025-01-10","valueQuantity":{"value":31.2,"code":"kg/m2"}}"#))
        record.add(Self.resource(#"{"resourceType":"Observation","id":"bmi-old","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"39156-5"}]},"effectiveDateTime":"2020-01-10","valueQuantity":{"value":24,"code":"kg/m2"}}"#))
        record.add(Self.resource(#"{"resourceType":"Observation","id":"waist","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8280-0"}]},"effectiveDateTime":"2025-01-10","valueQuantity":{"value":99,"code":"cm"}}"#))
        record.add(Self.resource(#"{"resourceType":"Observation","id":"a1c","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2025-01-10","valueQuantity":{"value":8.1,"code":"%"}}"#))
        record.add(Self.resource(#"{"resourceType":"MedicationStatement","id":"ms","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"C09AA02"}]}}"#))
        record.add(Self.resource(#"{"resourceType":"FamilyMemberHistory","id":"fmh","status":"completed","relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"MTH"}]},"condition":[{"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]}}]}"#))
        record.add(Self.resource(#"{"resourceType":"Observation","id":"act","status":"final","code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/findrisc","code":"physical-activity-30min"}]},"effectiveDateTime":"2025-01-10","valueBoolean":false}"#))
        let i = FINDRISC.inputs(from: record, asOf: CivilDate(2025, 6, 1))
        #expect(i.age == 57)
        #expect(i.bmi == 31.2)
        #expect(i.waist == 99)
        #expect(i.highGlucose == true)
        #expect(i.antihypertensives == true)
        #expect(i.family == .firstDegree)
        #expect(i.active == false)
        #expect(i.dailyVegetables == nil)
        // 3 + 3 + 3 + 2 + 0(missing) + 2 + 5 + 5 = 23
        let r = FINDRISC.score(i)
        #expect(r.score == 23)
        #expect(r.missing == ["vegetables"])
        #expect(Set(i.basis) == ["Observation/bmi", "Observation/waist", "Observation/a1c", "MedicationStatement/ms", "FamilyMemberHistory/fmh", "Observation/act"])
        // a normal HbA1c and no other glucose finding: the glucose answer is "no"
        var normal = PatientRecord(patient: record.patient)
        normal.add(Self.resource(#"{"resourceType":"Observation","id":"a1c2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4"}]},"effectiveDateTime":"2025-01-10","valueQuantity":{"value":5.2,"code":"%"}}"#))
        #expect(FINDRISC.inputs(from: normal, asOf: CivilDate(2025, 6, 1)).highGlucose == false)
    }

    @Test func riskAssessmentIsLabelledAndCitesItsBasis() {
        let i = FINDRISC.Inputs(age: 57, bmi: 31, basis: ["Observation/bmi"])
        let ra = PreventionResources.findriscAssessment(id: "findrisc-p", patient: "p", result: FINDRISC.score(i), inputs: i, date: "2025-06-01T00:00:00Z")
        let labels = ra["meta"]?["security"]?.arrayValue?.compactMap { $0["code"]?.stringValue } ?? []
        #expect(labels.contains("AIAST"))
        #expect(labels.contains(PreventionResources.diabetesRiskLabel))
        #expect(ra["basis"]?.arrayValue?.first?["reference"]?.stringValue == "Observation/bmi")
        #expect(ra["status"]?.stringValue == "preliminary")
        #expect(ra["prediction"]?.arrayValue?.first?["probabilityDecimal"] == .number("0.01"))  // 3 + 3 = 6 → low
    }
}
