import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

// The Monitoring module's tests (Swift Testing). HTTP-level tests of its routes live in
// Tests/ServerTests, process-level ones in tests/e2e.

/// A clock tests set by hand.
final class TestClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp
    init(_ start: String = "2026-11-24T18:00:00Z") { current = Timestamp(instant: start)! }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return current }
    func set(_ s: String) { lock.lock(); current = Timestamp(instant: s)!; lock.unlock() }
}

enum Fixture {
    static func door(clock: any Clock = TestClock()) throws -> Door {
        let dir = NSTemporaryDirectory() + "enlace-monitoring-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir), clock: clock)
    }

    static let operatorPrincipal = Principal(subject: "test-operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t")

    static func patientPrincipal(_ id: String, scopes: String = "patient/Observation.crs") -> Principal {
        Principal(subject: "user:\(id)", scopes: ScopeSet(scopes), tokenID: "t-\(id)", role: .patient, fhirUser: "Patient/\(id)", patient: id)
    }

    static func json(_ s: String) -> JSON { try! JSONParser.parse(s) }

    /// Every stored current resource of `type`, unguarded (a test is not a request).
    static func all(_ door: Door, _ type: String, _ parameters: [(String, String)] = []) async throws -> [JSON] {
        let (q, _) = try SearchParser().parse(types: [type], parameters: parameters + [("_count", "1000")])
        return try await door.store.read { try $0.search(q).matches }.map { try $0.json() }
    }

    static func point(_ schema: String, _ body: String, source: String = "Glucómetro Accu-Chek Guide") -> String {
        #"{"header":{"id":"\#(UUID().uuidString)","creation_date_time":"2026-11-24T15:00:00Z","schema_id":{"namespace":"omh","name":"\#(schema)","version":"2.0"},"acquisition_provenance":{"source_name":"\#(source)","modality":"sensed"}},"body":\#(body)}"#
    }
}

/// Sample data points written by hand from the published Open mHealth schemas
/// (https://www.openmhealth.org/documentation/#/schema-docs/schema-library).
enum Samples {
    static let heartRate = Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T07:30:00-06:00"}}"#)
    static let glucose = Fixture.point("blood-glucose", #"{"blood_glucose":{"value":126,"unit":"mg/dL"},"specimen_source":"capillary blood","temporal_relationship_to_meal":"fasting","effective_time_frame":{"date_time":"2026-11-24T07:00:00-06:00"}}"#)
    static let bloodPressure = Fixture.point("blood-pressure", #"{"systolic_blood_pressure":{"value":142,"unit":"mmHg"},"diastolic_blood_pressure":{"value":91,"unit":"mmHg"},"positioning":"sitting","effective_time_frame":{"date_time":"2026-11-24T08:00:00-06:00"}}"#)
    static let oxygen = Fixture.point("oxygen-saturation", #"{"oxygen_saturation":{"value":96.5,"unit":"%"},"measurement_method":"pulse oximetry","effective_time_frame":{"date_time":"2026-11-24T08:05:00-06:00"}}"#)
    static let steps = Fixture.point("step-count", #"{"step_count":{"value":8042,"unit":"steps"},"effective_time_frame":{"time_interval":{"start_date_time":"2026-11-23T00:00:00-06:00","end_date_time":"2026-11-24T00:00:00-06:00"}}}"#)
    static let weight = Fixture.point("body-weight", #"{"body_weight":{"value":81.4,"unit":"kg"},"effective_time_frame":{"date_time":"2026-11-24T06:45:00-06:00"}}"#)
    static let temperature = Fixture.point("body-temperature", #"{"body_temperature":{"value":36.8,"unit":"C"},"measurement_location":"oral","effective_time_frame":{"date_time":"2026-11-24T06:50:00-06:00"}}"#)
    static var all: [String] { [heartRate, glucose, bloodPressure, oxygen, steps, weight, temperature] }
}

@Suite("Open mHealth mapping")
struct OpenMHealthMappingTests {
    let now = Timestamp(instant: "2026-11-24T18:00:00Z")!

    func map(_ s: String) throws -> JSON {
        try OpenMHealth.observation(from: Fixture.json(s), patient: "ana", now: now).get()
    }

    @Test(arguments: [
        (Samples.heartRate, "8867-4", "72", "/min"),
        (Samples.glucose, "2339-0", "126", "mg/dL"),
        (Samples.oxygen, "59408-5", "96.5", "%"),
        (Samples.steps, "55423-8", "8042", "{steps}"),
        (Samples.weight, "29463-7", "81.4", "kg"),
        (Samples.temperature, "8310-5", "36.8", "Cel"),
    ])
    func eachSchemaMapsToItsLOINCCodeAndUCUMUnit(sample: String, loinc: String, value: String, ucum: String) throws {
        let o = try map(sample)
        #expect(o["code"]?["coding"]?.arrayValue?.first?["system"]?.stringValue == "http://loinc.org")
        #expect(o["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == loinc)
        #expect(o["valueQuantity"]?["value"] == .number(value))
        #expect(o["valueQuantity"]?["system"]?.stringValue == "http://unitsofmeasure.org")
        #expect(o["valueQuantity"]?["code"]?.stringValue == ucum)
        #expect(o["subject"]?["reference"]?.stringValue == "Patient/ana")
        #expect(o["status"]?.stringValue == "final")
        #expect(Validator().validate(o).filter { $0.severity == .error }.isEmpty, "\(Validator().validate(o))")
    }

    @Test func bloodPressureIsAPanelWithSystolicAndDiastolicComponents() throws {
        let o = try map(Samples.bloodPressure)
        #expect(o["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "85354-9")
        let components = o["component"]?.arrayValue ?? []
        #expect(components.map { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue } == ["8480-6", "8462-4"])
        #expect(components.map { $0["valueQuantity"]?["value"] } == [.number("142"), .number("91")])
        #expect(components.allSatisfy { $0["valueQuantity"]?["code"]?.stringValue == "mm[Hg]" })
        #expect(o["valueQuantity"] == nil)
    }

    @Test func theReadingKeyDependsOnSourceTimeAndCodeNotOnSpelling() throws {
        let a = try map(Samples.heartRate)
        // the same instant written in UTC, another header id
        let b = try map(Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T13:30:00Z"}}"#))
        let c = try map(Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T13:31:00Z"}}"#))
        let d = try map(Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T13:30:00Z"}}"#, source: "Reloj"))
        func key(_ o: JSON) -> String? { o["identifier"]?.arrayValue?.first?["value"]?.stringValue }
        #expect(key(a) != nil && key(a) == key(b))
        #expect(key(a) != key(c))
        #expect(key(a) != key(d))
        #expect(a["identifier"]?.arrayValue?.first?["system"]?.stringValue == "urn:enlace:reading")
    }

    @Test(arguments: [
        (Fixture.point("oxygen-saturation", #"{"oxygen_saturation":{"value":140,"unit":"%"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#), "value", "body.oxygen_saturation.value"),
        (Fixture.point("step-count", #"{"step_count":{"value":-5,"unit":"steps"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#), "value", "body.step_count.value"),
        (Fixture.point("step-count", #"{"step_count":-5,"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#), "value", "body.step_count"),
        (Fixture.point("blood-glucose", #"{"blood_glucose":{"value":120,"unit":"mg/dl/h"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#), "code-invalid", "body.blood_glucose.unit"),
        (Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T18:06:00Z"}}"#), "value", "body.effective_time_frame"),
        (Fixture.point("sleep-duration", #"{"sleep_duration":{"value":7,"unit":"h"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#), "not-supported", "header.schema_id"),
        (#"{"header":{"schema_id":"omh:heart-rate:9.0"},"body":{}}"#, "not-supported", "header.schema_id"),
        (#"{"body":{}}"#, "required", "header"),
        // a duration whose end time does not fit (it trapped before)
        (Fixture.point("step-count", #"{"step_count":10,"effective_time_frame":{"time_interval":{"start_date_time":"2026-11-24T08:00:00Z","duration":{"value":1e20,"unit":"d"}}}}"#), "value", "body.effective_time_frame.time_interval.duration.value"),
        (Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24"}}"#), "value", "body.effective_time_frame.date_time"),
        (Fixture.point("blood-pressure", #"{"systolic_blood_pressure":{"value":80,"unit":"mmHg"},"diastolic_blood_pressure":{"value":120,"unit":"mmHg"},"effective_time_frame":{"date_time":"2026-11-24T08:00:00Z"}}"#), "value", "body.diastolic_blood_pressure.value"),
    ])
    func badReadingsGetAPreciseIssue(sample: String, code: String, expression: String) throws {
        switch OpenMHealth.observation(from: Fixture.json(sample), patient: "ana", now: now) {
        case .success(let o): Issue.record("accepted: \(o.compactString)")
        case .failure(let f):
            #expect(f.issues.map(\.code) == [code])
            #expect(f.issues.first?.expression == [expression])
            #expect(!(f.issues.first?.spanish.isEmpty ?? true))
        }
    }

    @Test func aReadingAFewMinutesAheadIsAcceptedClockDrift() throws {
        _ = try map(Fixture.point("heart-rate", #"{"heart_rate":{"value":72,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T18:04:00Z"}}"#))
    }

    @Test func stringSchemaIDsAndVersionOneStepCountsAreRead() throws {
        let o = try map(#"{"header":{"schema_id":"omh:step-count:1.0"},"body":{"step_count":1200,"effective_time_frame":{"time_interval":{"start_date_time":"2026-11-24T08:00:00Z","duration":{"value":1,"unit":"h"}}}}}"#)
        #expect(o["valueQuantity"]?["value"] == .number("1200"))
        #expect(o["effectivePeriod"]?["end"]?.stringValue == Timestamp(instant: "2026-11-24T09:00:00Z")!.description)
    }
}

@Suite("Open mHealth ingestion")
struct IngestionTests {
    let clock = TestClock()

    func ingest(_ door: Door, _ payload: String, as principal: Principal = Fixture.patientPrincipal("ana"), patient: String = "ana",
                mode: Ingestion.Mode = .transaction) async throws -> JSON {
        let g = try await door.open(principal, audit: nil)
        return try await Ingestion.ingest(Fixture.json(payload), patient: patient, mode: mode, now: clock.now(), guarded: g, base: "http://localhost/fhir")
    }

    func statuses(_ bundle: JSON) -> [String] { (bundle["entry"]?.arrayValue ?? []).compactMap { $0["response"]?["status"]?.stringValue } }

    @Test func aRetriedArrayStoresNothingNew() async throws {
        let door = try Fixture.door(clock: clock)
        let payload = "[" + Samples.all.joined(separator: ",") + "]"
        let first = try await ingest(door, payload)
        #expect(first["type"]?.stringValue == "transaction-response")
        #expect(statuses(first) == Array(repeating: "201 Created", count: 7))
        #expect(try await Fixture.all(door, "Observation").count == 7)
        let again = try await ingest(door, payload)
        #expect(statuses(again) == Array(repeating: "200 OK", count: 7))
        #expect(try await Fixture.all(door, "Observation").count == 7)
        // the same reading twice in one request is stored once
        let twice = Fixture.point("heart-rate", #"{"heart_rate":{"value":61,"unit":"beats/min"},"effective_time_frame":{"date_time":"2026-11-24T10:00:00Z"}}"#)
        let r = try await ingest(door, "[\(twice),\(twice)]")
        #expect(statuses(r) == ["201 Created", "201 Created"])
        #expect(try await Fixture.all(door, "Observation").count == 8)
    }

    @Test func aTransactionWithOneBadReadingStoresNothing() async throws {
        let door = try Fixture.door(clock: clock)
        let bad = Fixture.point("oxygen-saturation", #"{"oxygen_saturation":{"value":140,"unit":"%"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#)
        do {
            _ = try await ingest(door, "[\(Samples.heartRate),\(bad),\(Samples.weight)]")
            Issue.record("a transaction with an impossible SpO2 was accepted")
        } catch let e as FHIRError {
            #expect(e.status == 422)
            #expect(e.issues.flatMap(\.expression) == ["[1].body.oxygen_saturation.value"])
        }
        #expect(try await Fixture.all(door, "Observation").isEmpty)
    }

    @Test func aBatchStoresTheGoodReadingsAndExplainsTheBadOnes() async throws {
        let door = try Fixture.door(clock: clock)
        let negative = Fixture.point("step-count", #"{"step_count":{"value":-20,"unit":"steps"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#)
        let unknown = Fixture.point("sleep-duration", #"{"sleep_duration":{"value":7,"unit":"h"},"effective_time_frame":{"date_time":"2026-11-24T08:05:00Z"}}"#)
        let r = try await ingest(door, "[\(Samples.heartRate),\(negative),\(unknown),\(Samples.glucose)]", mode: .batch)
        #expect(r["type"]?.stringValue == "batch-response")
        #expect(statuses(r) == ["201 Created", "422 Unprocessable Entity", "422 Unprocessable Entity", "201 Created"])
        let outcome = r["entry"]?.arrayValue?[1]["response"]?["outcome"]
        #expect(outcome?["resourceType"]?.stringValue == "OperationOutcome")
        #expect(outcome?["issue"]?.arrayValue?.first?["expression"]?.arrayValue?.first?.stringValue == "[1].body.step_count.value")
        #expect(try await Fixture.all(door, "Observation").count == 2)
    }

    @Test func aPatientWritesOnlyTheirOwnReadings() async throws {
        let door = try Fixture.door(clock: clock)
        await #expect(throws: FHIRError.self) {
            _ = try await self.ingest(door, Samples.heartRate, as: Fixture.patientPrincipal("ana"), patient: "beto")
        }
        // without the create scope
        await #expect(throws: FHIRError.self) {
            _ = try await self.ingest(door, Samples.heartRate, as: Fixture.patientPrincipal("ana", scopes: "patient/Observation.rs"))
        }
        #expect(try await Fixture.all(door, "Observation").isEmpty)
        // a device gateway with system/Observation.c writes for any patient
        let gateway = Principal(subject: "client:gateway", scopes: ScopeSet("system/Observation.cs"), tokenID: "g", role: .service, clientID: "gateway")
        _ = try await ingest(door, Samples.heartRate, as: gateway, patient: "beto")
        #expect(try await Fixture.all(door, "Observation", [("subject", "Patient/beto")]).count == 1)
    }

    /// A Personal Health Device gateway's transaction (HL7 PHD IG: a Device for the meter and an
    /// Observation with `device`, MDC and LOINC codes, UCUM units) and the Open mHealth data point
    /// of the same reading give the same code, value, unit and time.
    @Test func openMHealthAndPHDGiveTheSameObservation() async throws {
        let door = try Fixture.door(clock: clock)
        let op = try await door.open(Fixture.operatorPrincipal, audit: nil)
        let phd = #"""
        {"resourceType":"Bundle","type":"transaction","entry":[
         {"fullUrl":"urn:uuid:7f0c4a53-0000-4000-8000-000000000001","resource":{"resourceType":"Device",
           "identifier":[{"system":"urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680","value":"FE-ED-AB-EE-DE-AD-BE-EF"}],
           "type":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"65573","display":"MDC_MOC_VMS_MDS_SIMP"}]},
           "manufacturer":"Roche","modelNumber":"Accu-Chek Guide","patient":{"reference":"Patient/beto"}},
          "request":{"method":"POST","url":"Device","ifNoneExist":"identifier=urn:oid:1.2.840.10004.1.1.1.0.0.1.0.0.1.2680|FE-ED-AB-EE-DE-AD-BE-EF"}},
         {"fullUrl":"urn:uuid:7f0c4a53-0000-4000-8000-000000000002","resource":{"resourceType":"Observation","status":"final",
           "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
           "code":{"coding":[{"system":"urn:iso:std:iso:11073:10101","code":"160184","display":"MDC_CONC_GLU_CAPILLARY_WHOLEBLOOD"},
                             {"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"}]},
           "subject":{"reference":"Patient/beto"},"effectiveDateTime":"2026-11-24T13:00:00Z",
           "valueQuantity":{"value":126,"unit":"mg/dL","system":"http://unitsofmeasure.org","code":"mg/dL"},
           "device":{"reference":"urn:uuid:7f0c4a53-0000-4000-8000-000000000001"}},
          "request":{"method":"POST","url":"Observation"}}]}
        """#
        _ = try await op.process(bundle: Fixture.json(phd), options: .init(base: "http://localhost/fhir"))
        _ = try await ingest(door, Samples.glucose)
        let fromPHD = try #require(try await Fixture.all(door, "Observation", [("subject", "Patient/beto")]).first)
        let fromOMH = try #require(try await Fixture.all(door, "Observation", [("subject", "Patient/ana")]).first)
        let a = try #require(VitalReading(fromPHD)), b = try #require(VitalReading(fromOMH))
        #expect(a.code == "2339-0")
        #expect(a.code == b.code)
        #expect(a.value == b.value)
        #expect(a.unit == b.unit)
        #expect(a.time == b.time)
        #expect(fromPHD["device"]?["reference"]?.stringValue?.hasPrefix("Device/") == true)
    }
}
