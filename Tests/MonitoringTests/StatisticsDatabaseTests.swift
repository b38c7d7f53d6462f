import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) @testable import Trust

/// `$stats` computed in the database (`ObservationStats.inDatabase`, SQL through the guard) gives
/// the same `Parameters` as the statistics computed over the Observations read through the guard
/// (`inMemory`), on SQLite and (with `ENLACE_TEST_DATABASE_URL`) PostgreSQL: random readings,
/// random statistics and periods, some readings hidden from the asker (a label the patient chose
/// not to know), and some the database path must decline (a panel, two codings, entered in error).
@Suite("$stats in the database")
struct StatisticsDatabaseTests {
    /// SplitMix64: the same cases on every run.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    }

    static let heartRate = ("http://loinc.org", "8867-4", "/min")
    static let glucose = ("http://loinc.org", "2339-0", "mg/dL")

    static func observation(_ patient: String, _ code: (String, String, String), value: String, second: Int, labelled: Bool = false,
                            status: String = "final", extraCoding: Bool = false) -> String {
        let time = Timestamp(microseconds: Timestamp(instant: "2026-11-01T00:00:00Z")!.microseconds + Int64(second) * 1_000_000).description
        let meta = labelled ? #""meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"MH"}]},"# : ""
        let extra = extraCoding ? #",{"system":"urn:iso:std:iso:11073:10101","code":"147842"}"# : ""
        return #"{"resourceType":"Observation",\#(meta)"status":"\#(status)","code":{"coding":[{"system":"\#(code.0)","code":"\#(code.1)"}\#(extra)]},"subject":{"reference":"Patient/\#(patient)"},"effectiveDateTime":"\#(time)","valueQuantity":{"value":\#(value),"unit":"\#(code.2)","system":"http://unitsofmeasure.org","code":"\#(code.2)"}}"#
    }

    static func panel(_ patient: String, second: Int) -> String {
        let time = Timestamp(microseconds: Timestamp(instant: "2026-11-01T00:00:00Z")!.microseconds + Int64(second) * 1_000_000).description
        return #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"subject":{"reference":"Patient/\#(patient)"},"effectiveDateTime":"\#(time)","component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8867-4"}]},"valueQuantity":{"value":77,"unit":"/min","system":"http://unitsofmeasure.org","code":"/min"}}]}"#
    }

    @Test(arguments: SubscriptionRaceTests.Backend.available)
    func theDatabaseGivesTheSameAnswer(backend: SubscriptionRaceTests.Backend) async throws {
        var declined = 0, answered = 0
        for seed in UInt64(1)...8 {
            var rng = Random(state: seed)
            let (door, cleanup) = try await backend.door()
            defer { cleanup() }
            let irregular = seed % 4 == 0
            var entries: [String] = [StatisticsDatabaseTests.notToKnowMH]
            let count = rng.int(1...250)
            for _ in 0..<count {
                let value = rng.chance(50) ? "\(rng.int(40...180))" : "\(rng.int(40...180)).\(rng.int(0...9))"
                let code = rng.chance(70) ? Self.heartRate : Self.glucose
                let patient = rng.chance(85) ? "ana" : "beto"
                entries.append(Self.observation(patient, code, value: value, second: rng.int(0...2_500_000), labelled: rng.chance(15)))
            }
            if irregular {
                switch seed % 8 {
                case 0: entries.append(Self.panel("ana", second: rng.int(0...2_500_000)))
                default: entries.append(Self.observation("ana", Self.heartRate, value: "99", second: 7, status: "entered-in-error"))
                }
                entries.append(Self.observation("ana", Self.heartRate, value: "88", second: 9, extraCoding: true))
            }
            let bundle = #"{"resourceType":"Bundle","type":"transaction","entry":["# + entries.map { #"{"resource":\#($0),"request":{"method":"POST","url":"\#($0.contains("\"Consent\"") ? "Consent" : "Observation")"}}"# }.joined(separator: ",") + "]}"
            _ = try await door.open(Fixture.operatorPrincipal, audit: nil).process(bundle: Fixture.json(bundle), options: .init(base: "http://localhost/fhir"))

            let askers = [Fixture.operatorPrincipal, Fixture.patientPrincipal("ana", scopes: "patient/*.rs")]
            for round in 0..<6 {
                var parameters: [(String, String)] = [("subject", "Patient/ana")]
                let both = rng.chance(40)
                parameters.append(("code", both ? "8867-4,2339-0" : "8867-4"))
                parameters.append(("system", "http://loinc.org"))
                var statistics = ObservationStats.supported.filter { _ in rng.chance(40) }
                if statistics.isEmpty { statistics = ["median"] }
                parameters.append(("statistic", statistics.joined(separator: ",")))
                switch rng.int(0...2) {
                case 0: break
                case 1: parameters.append(("period", "2026-11-05/2026-11-20"))
                default: parameters.append(("period", "2026-11-10T06:30:00Z/"))
                }
                let request = try ObservationStats.parse(parameters, now: Timestamp(instant: "2026-12-01T00:00:00Z")!)
                let guarded = try await door.open(askers[round % 2], audit: nil)
                let memory = try await ObservationStats.inMemory(request, guarded: guarded)
                if let database = try await ObservationStats.inDatabase(request, guarded: guarded) {
                    answered += 1
                    #expect(database == memory, "seed \(seed) round \(round) \(parameters)\ndatabase \(database.compactString)\nmemory   \(memory.compactString)")
                } else {
                    declined += 1
                    // only what it cannot answer alike: the irregular readings, or two series starting at the same second
                    #expect(irregular || both, "seed \(seed) round \(round): declined \(parameters)")
                }
                // and `run` gives the same answer either way
                #expect(try await ObservationStats.run(request, guarded: guarded) == memory)
            }
        }
        #expect(answered > 20, "the database path answered \(answered) times, declined \(declined)")
        #expect(declined > 0)
    }

    /// A decimal tie is decided as a decimal, whatever order the values were added in: the two
    /// paths add the same readings in different orders (CI once printed 116.0688 from one and
    /// 116.0687 from the other for the average of 16 glucose readings summing to 1857.1).
    @Test func aDecimalTieRoundsTheSameWhateverTheOrderOfTheSum() {
        let values: [Double] = [152, 73.5, 131, 147, 99.9, 120.3, 88.8, 101.1, 150.5, 60.2, 140, 110.7, 95.6, 130.4, 125.1, 131]
        #expect(values.count == 16)
        var rng = Random(state: 7)
        var printed: Set<String> = []
        for _ in 0..<200 {
            var shuffled = values
            for i in stride(from: shuffled.count - 1, to: 0, by: -1) { shuffled.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            let sum = shuffled.reduce(0, +)
            printed.insert(ObservationStats.format(sum / 16))
        }
        #expect(printed == ["116.0688"])
        #expect(ObservationStats.format(-0.00005) == "-0.0001")
        #expect(ObservationStats.format(2.5) == "2.5")
        #expect(ObservationStats.format(102.03571428) == "102.0357")
        #expect(ObservationStats.format(3) == "3")
    }

    /// Ana chose not to be told about results labelled MH: they are hidden from her own guard.
    static let notToKnowMH = #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/ana"}}],"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"MH"}]}}"#
}
