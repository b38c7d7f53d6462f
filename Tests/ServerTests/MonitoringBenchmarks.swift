import FHIR
import Foundation
@testable import Monitoring
@_spi(Unguarded) import Storage
import Server
import Testing
@_spi(Unguarded) @testable import Trust

/// `Observation/$stats` and `$lastn` over one patient's year of per-minute heart rate, run only by
/// `bench/monitoring/run.sh` (ENLACE_BENCH_MONITORING set; ENLACE_BENCH_READINGS readings,
/// default 525,600; on PostgreSQL too when ENLACE_TEST_DATABASE_URL is set). The readings are
/// loaded through the repository without the door (a benchmark's fixture, not a request: no
/// audit entry or Provenance per reading); the timed requests go over HTTP through the door like
/// any client's. Prints BENCH lines; asserts only correctness, never time
/// (docs/architecture.md: no timed unit tests).
@Suite("Monitoring benchmarks", .enabled(if: ProcessInfo.processInfo.environment["ENLACE_BENCH_MONITORING"] != nil), .serialized)
struct MonitoringBenchmarks {
    static var readings: Int { Int(ProcessInfo.processInfo.environment["ENLACE_BENCH_READINGS"] ?? "") ?? 525_600 }
    static func seconds(_ start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    static func observation(_ code: String, _ unit: String, _ value: String, _ time: String) -> String {
        #"{"resource":{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/bench"},"effectiveDateTime":"\#(time)","valueQuantity":{"value":\#(value),"unit":"\#(unit)","system":"http://unitsofmeasure.org","code":"\#(unit)"}},"request":{"method":"POST","url":"Observation"}}"#
    }

    /// Times `body` `runs` times after one warm-up; p50 and max in milliseconds.
    static func time(_ runs: Int, _ body: () async throws -> Void) async throws -> (p50: Double, max: Double) {
        try await body()
        var ms: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try await body()
            ms.append(seconds(start) * 1000)
        }
        ms.sort()
        return (ms[ms.count / 2], ms.last!)
    }

    @Test(arguments: ServerBackend.allCases)
    func statsAndLastNOverAYearOfPerMinuteHeartRate(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let n = Self.readings
        let start = Timestamp(instant: "2025-12-01T00:00:00Z")!
        let repository = server.services.repository
        let load = ContinuousClock.now
        var entries: [String] = []
        var rng: UInt64 = 42
        func flush() async throws {
            guard !entries.isEmpty else { return }
            let bundle = #"{"resourceType":"Bundle","type":"transaction","entry":["# + entries.joined(separator: ",") + "]}"
            _ = try await repository.process(bundle: try JSONParser.parse(bundle), options: .init(base: "http://localhost/fhir", maxEntries: 5000)) { _, _ in }
            entries.removeAll(keepingCapacity: true)
        }
        for i in 0..<n {
            rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let t = Timestamp(microseconds: start.microseconds + Int64(i) * 60_000_000).description
            entries.append(Self.observation("8867-4", "/min", "\(55 + Int(rng >> 58))", t))
            // a few other vitals a day, so $lastn has several codes to choose from
            if i % 1440 == 0 {
                entries.append(Self.observation("2339-0", "mg/dL", "\(90 + Int(rng >> 57))", t))
                entries.append(Self.observation("29463-7", "kg", "71.5", t))
            }
            if entries.count >= 2000 { try await flush() }
        }
        try await flush()
        let loaded = Self.seconds(load)
        print("BENCH monitoring.load backend=\(backend) readings=\(n) seconds=\(String(format: "%.1f", loaded)) readings_per_second=\(String(format: "%.0f", Double(n) / loaded)) (repository, no audit: a fixture)")

        try await server.run { op in
            let period = "period=2025-12-01/2026-11-30"
            let cheap = "/fhir/Observation/$stats?subject=Patient/bench&code=8867-4&system=http://loinc.org&\(period)&statistic=count,average,minimum,maximum,std-dev"
            let quantiles = "/fhir/Observation/$stats?subject=Patient/bench&code=8867-4&system=http://loinc.org&\(period)&statistic=count,average,median,4-lower,4-upper"
            let lastn = "/fhir/Observation/$lastn?patient=Patient/bench&max=1"
            let first = try await op.send(.get, cheap)
            #expect(first.status == 200, "\(first.text.prefix(300))")
            let count = first.json["parameter"]?.arrayValue?.first?["resource"]?["component"]?.arrayValue?.first?["valueInteger"]
            #expect(count == .number("\(n)"))
            for (name, uri) in [("stats.count-average-min-max-sd", cheap), ("stats.count-average-median-quartiles", quantiles), ("lastn.max1", lastn)] {
                let t = try await Self.time(10) {
                    let r = try await op.send(.get, uri)
                    #expect(r.status == 200)
                }
                print("BENCH monitoring.\(name) backend=\(backend) readings=\(n) p50_ms=\(String(format: "%.1f", t.p50)) max_ms=\(String(format: "%.1f", t.max))")
            }
            // the same answer as the statistics computed over the Observations read through the guard (timed once)
            let request = try ObservationStats.parse([("subject", "Patient/bench"), ("code", "8867-4"), ("system", "http://loinc.org"),
                                                      ("period", "2025-12-01/2026-11-30"), ("statistic", "count,average,median,4-lower,4-upper")],
                                                     now: server.clock.now())
            let guarded = try await server.services.door.open(Principal(subject: "bench", scopes: ScopeSet("system/*.rs"), tokenID: "bench"), audit: nil)
            let database = try #require(try await ObservationStats.inDatabase(request, guarded: guarded), "the database path answers this request")
            let memoryStart = ContinuousClock.now
            let memory = try await ObservationStats.inMemory(request, guarded: guarded)
            print("BENCH monitoring.stats-in-memory backend=\(backend) readings=\(n) ms=\(String(format: "%.0f", Self.seconds(memoryStart) * 1000)) (reads and parses every Observation)")
            #expect(database == memory)
        }
    }
}
