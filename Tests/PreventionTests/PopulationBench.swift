import FHIR
import Foundation
@testable import Prevention
import Testing

// The population benchmark of bench/prevention (not a timed test: it runs only with
// ENLACE_BENCH_PREVENTION=<patients> and prints its figures; it asserts nothing about time).
@Suite struct PopulationBench {
    static let size = Int(ProcessInfo.processInfo.environment["ENLACE_BENCH_PREVENTION"] ?? "") ?? 0

    /// A synthetic record: ages spread over 0–90 years, about 12 doses and 8 results each.
    static func record(_ n: Int) -> PatientRecord {
        let born = CivilDate(2026, 11, 24).adding(.days(-(n * 7919 % 32_850)))
        var r = PatientRecord(patient: try! JSONParser.parse(#"{"resourceType":"Patient","id":"p\#(n)","gender":"\#(n % 2 == 0 ? "female" : "male")","birthDate":"\#(born)"}"#))
        let vaccines = ["19", "08", "146", "146", "146", "119", "119", "133", "133", "03", "150", "09"]
        for (k, code) in vaccines.enumerated() {
            let d = born.adding(.months(2 * k + (n % 3)))
            r.add(try! JSONParser.parse(#"{"resourceType":"Immunization","id":"i\#(n)-\#(k)","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"\#(code)"}]},"patient":{"reference":"Patient/p\#(n)"},"occurrenceDateTime":"\#(d)"}"#))
        }
        let labs = [("39156-5", "27.5", "kg/m2"), ("8280-0", "91", "cm"), ("4548-4", "6.1", "%"), ("85354-9", "120", "mm[Hg]"),
                    ("1558-6", "98", "mg/dL"), ("10524-7", "1", "1"), ("24606-6", "1", "1"), ("2857-1", "1.1", "ng/mL")]
        for (k, (code, value, unit)) in labs.enumerated() {
            let d = CivilDate(2026, 11, 24).adding(.days(-(30 * k + n % 400)))
            r.add(try! JSONParser.parse(#"{"resourceType":"Observation","id":"o\#(n)-\#(k)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/p\#(n)"},"effectiveDateTime":"\#(d)","valueQuantity":{"value":\#(value),"code":"\#(unit)"}}"#))
        }
        return r
    }

    @Test(.enabled(if: size > 0)) func gapsAndRisksForAPopulation() {
        let records = (0..<Self.size).map(Self.record)
        let engine = ScheduleEngine()
        let asOf = CivilDate(2026, 11, 24)
        var items = 0, score = 0
        let start = Date()
        for r in records {
            if let input = r.scheduleInput(asOf: asOf) { items += engine.evaluate(input).count }
            score += FINDRISC.score(FINDRISC.inputs(from: r, asOf: asOf)).score
        }
        let seconds = Date().timeIntervalSince(start)
        print("prevention bench: \(records.count) patients, \(items) items, FINDRISC sum \(score), \(String(format: "%.3f", seconds)) s, \(Int(Double(records.count) / seconds)) patients/s")
        #expect(items > records.count)
    }
}
