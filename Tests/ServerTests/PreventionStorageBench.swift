import FHIR
import Foundation
import Testing
@testable import Prevention
@testable import Server
@_spi(Unguarded) import Trust

/// The population benchmark of bench/prevention **with the storage path** (not a timed test: it
/// runs only with `ENLACE_BENCH_PREVENTION_STORAGE=<patients>` and prints its figures; it asserts
/// only that the work was done). A SQLite store is filled with synthetic records (about 12 doses
/// and 8 results each) through the door; then the daily pass reads every record through its
/// guard, evaluates the Cartilla and writes the ImmunizationRecommendations (first pass: every
/// one is new), a second pass reads everything and writes nothing, the three outbox consumers
/// catch up on every write, and one patient's `$care-gaps` is timed over HTTP in process.
@Suite struct PreventionStorageBench {
    static let size = Int(ProcessInfo.processInfo.environment["ENLACE_BENCH_PREVENTION_STORAGE"] ?? "") ?? 0

    /// The entries of one synthetic record: ages spread over 0–90 years.
    static func entries(_ n: Int) -> [JSON] {
        let born = CivilDate(2026, 11, 24).adding(.days(-(n * 7919 % 32_850)))
        var out: [String] = [#"{"resourceType":"Patient","id":"p\#(n)","gender":"\#(n % 2 == 0 ? "female" : "male")","birthDate":"\#(born)"}"#]
        for (k, code) in ["19", "08", "146", "146", "146", "119", "119", "133", "133", "03", "150", "09"].enumerated() {
            out.append(#"{"resourceType":"Immunization","id":"i\#(n)-\#(k)","status":"completed","vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"\#(code)"}]},"patient":{"reference":"Patient/p\#(n)"},"occurrenceDateTime":"\#(born.adding(.months(2 * k + n % 3)))"}"#)
        }
        let labs = [("39156-5", "27.5", "kg/m2"), ("8280-0", "91", "cm"), ("4548-4", "6.1", "%"), ("8480-6", "135", "mm[Hg]"),
                    ("2093-3", "210", "mg/dL"), ("10524-7", "1", "1"), ("24606-6", "1", "1"), ("2857-1", "1.1", "ng/mL")]
        for (k, (code, value, unit)) in labs.enumerated() {
            let d = CivilDate(2026, 11, 24).adding(.days(-(30 * k + n % 400)))
            out.append(#"{"resourceType":"Observation","id":"o\#(n)-\#(k)","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"\#(code)"}]},"subject":{"reference":"Patient/p\#(n)"},"effectiveDateTime":"\#(d)","valueQuantity":{"value":\#(value),"code":"\#(unit)"}}"#)
        }
        return out.map { text in
            let r = try! JSONParser.parse(text)
            let url = "\(r["resourceType"]!.stringValue!)/\(r["id"]!.stringValue!)"
            return .object([("fullUrl", .string(url)), ("resource", r), ("request", .object([("method", .string("PUT")), ("url", .string(url))]))])
        }
    }

    @Test(.enabled(if: size > 0)) func gapsAndRisksThroughTheStore() async throws {
        let server = try TestServer()
        let services = server.services
        let door = services.door
        let writer = Principal(subject: "bench", scopes: ScopeSet("system/*.cruds"), tokenID: "bench", role: .service)
        var t = Date()
        var batch: [JSON] = []
        for n in 0..<Self.size {
            batch += Self.entries(n)
            if batch.count >= 950 || n == Self.size - 1 {
                let g = try await door.open(writer, audit: AuditContext(requestID: "bench-\(n)", method: "POST", path: "/fhir", query: nil, remoteAddress: nil))
                _ = try await g.process(bundle: .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(batch))]),
                                        options: .init(base: "urn:bench", maxEntries: 10_000))
                batch = []
            }
        }
        let load = Date().timeIntervalSince(t)
        let pass = DailyRecomputation(settings: services.preventionSettings)
        t = Date()
        let first = try await pass.run(door: door)
        let firstSeconds = Date().timeIntervalSince(t)
        t = Date()
        let second = try await pass.run(door: door)
        let secondSeconds = Date().timeIntervalSince(t)
        t = Date()
        var caught = 0
        for c in services.preventionConsumers() { caught += try await door.catchUp(c) }
        let events = caught
        let consumersSeconds = Date().timeIntervalSince(t)
        let op = server.token
        let size = Self.size
        try await server.run { c in
            var careGaps: [Double] = []
            for k in 0..<30 {
                let s = Date()
                let r = try await c.send(.get, "/fhir/Patient/p\(k * 7 % size)/$care-gaps", headers: ["Authorization": "Bearer \(op)"], auth: false)
                careGaps.append(Date().timeIntervalSince(s) * 1000)
                #expect(r.status == 200)
            }
            careGaps.sort()
            func f(_ x: Double) -> String { String(format: "%.1f", x) }
            print("prevention storage bench: \(size) patients (\(size * 21) resources) loaded in \(f(load)) s;"
                  + " daily pass 1 (read + evaluate + write): \(first.patients) patients, \(first.written) written, \(f(firstSeconds)) s = \(Int(Double(first.patients) / firstSeconds)) patients/s;"
                  + " pass 2 (read + evaluate, nothing to write): \(second.written) written, \(f(secondSeconds)) s = \(Int(Double(second.patients) / secondSeconds)) patients/s;"
                  + " consumers catch-up (3): \(events) events, \(f(consumersSeconds)) s = \(Int(Double(size) / consumersSeconds)) patients/s;"
                  + " $care-gaps p50 \(f(careGaps[careGaps.count / 2])) ms, max \(f(careGaps.last ?? 0)) ms")
        }
        #expect(first.patients == Self.size && first.written >= Self.size * 9 / 10 && second.written == 0)
    }
}
