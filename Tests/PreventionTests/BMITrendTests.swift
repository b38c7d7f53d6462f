import FHIR
import Foundation
import Testing
@testable import Prevention

/// The BMI trend's points (docs/prevention.md, "BMI trend"), worked out by hand.
@Suite struct BMITrendTests {
    static func bmi(_ id: String, _ date: String, _ value: String, status: String = "final", code: String = "39156-5", updated: String = "2026-01-01T00:00:00Z") -> JSON {
        try! JSONParser.parse(#"{"resourceType":"Observation","id":"\#(id)","meta":{"lastUpdated":"\#(updated)"},"status":"\#(status)","code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/a"},"effectiveDateTime":"\#(date)","valueQuantity":{"value":\#(value),"code":"kg/m2"}}"#)
    }

    @Test func pointsAreTheBMIsOldestFirstOneADay() throws {
        var record = PatientRecord(patient: try JSONParser.parse(#"{"resourceType":"Patient","id":"a","birthDate":"1970-01-01"}"#))
        for o in [
            Self.bmi("b3", "2026-06-01", "31.2"),
            Self.bmi("b1", "2024-05-10T09:30:00-06:00", "27.5"),
            Self.bmi("b2", "2025-05-10", "29"),
            // the same day twice: the one recorded last counts
            Self.bmi("b2-fix", "2025-05-10", "29.4", updated: "2026-02-01T00:00:00Z"),
            Self.bmi("err", "2025-08-01", "45", status: "entered-in-error"),
            Self.bmi("prelim", "2025-09-01", "33", status: "preliminary"),
            Self.bmi("typo", "2025-10-01", "290"),
            Self.bmi("weight", "2025-11-01", "80", code: "29463-7"),
            Self.bmi("future", "2027-01-01", "30"),
        ] { record.add(o) }
        let points = BMITrend.points(record, asOf: CivilDate(2026, 11, 24))
        #expect(points.map(\.reference) == ["Observation/b1", "Observation/b2-fix", "Observation/b3"])
        #expect(points.map(\.value) == [27.5, 29.4, 31.2])
        #expect(points.map(\.date) == [CivilDate(2024, 5, 10), CivilDate(2025, 5, 10), CivilDate(2026, 6, 1)])
        #expect(BMITrend.points(record, asOf: CivilDate(2024, 5, 9)).isEmpty)
    }

    @Test func atMostTheNewest24() throws {
        var record = PatientRecord(patient: try JSONParser.parse(#"{"resourceType":"Patient","id":"a"}"#))
        for k in 0..<30 { record.add(Self.bmi("m\(k)", CivilDate(2020, 1, 1).adding(.months(k)).description, String(20 + k))) }
        let points = BMITrend.points(record, asOf: CivilDate(2026, 1, 1))
        #expect(points.count == 24 && points.first?.value == 26 && points.last?.value == 49)
    }

    @Test func whoAdultCategoriesAtTheEdges() {
        #expect(BMITrend.category(18.49).en == "underweight")
        #expect(BMITrend.category(18.5).en == "normal weight")
        #expect(BMITrend.category(24.99).en == "normal weight")
        #expect(BMITrend.category(25).en == "overweight")
        #expect(BMITrend.category(29.99).en == "overweight")
        #expect(BMITrend.category(30).es == "obesidad")
    }
}
