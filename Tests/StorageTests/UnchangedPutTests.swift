import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// `BundleOptions.skipUnchanged` (what imports set): a transaction's `PUT` of exactly the
/// current version writes nothing — no version, no event, nothing passed on as written — and
/// answers `200 OK` with the current version and an informational outcome. Without the option,
/// and for anything that differs, a PUT is a new version as always.
@Suite("Transactions: an unchanged PUT is not written again when asked")
struct UnchangedPutTests {
    static func transaction(_ resources: [String]) throws -> JSON {
        let entries = try resources.map { text -> String in
            let id = try JSONParser.parse(text)["id"]!.stringValue!
            return #"{"resource":\#(text),"request":{"method":"PUT","url":"Patient/\#(id)"}}"#
        }
        return try JSONParser.parse(#"{"resourceType":"Bundle","type":"transaction","entry":[\#(entries.joined(separator: ","))]}"#)
    }

    @Test(arguments: Backend.allCases)
    func anIdenticalResourceKeepsItsVersionAndTheRestAreWritten(_ backend: Backend) async throws {
        let (store, cleanup) = try await backend.make()
        defer { cleanup() }
        let validator = Validator()
        var repository = Repository(store: store, validate: { validator.validate($0) })
        let passed = WrittenLog()
        repository.afterWrite = { _, written in passed.add(written) }
        let a = #"{"resourceType":"Patient","id":"a","name":[{"family":"Pérez"}],"birthDate":"1970-01-01"}"#
        let b = #"{"resourceType":"Patient","id":"b","name":[{"family":"López"}],"meta":{"source":"https://hospital-a.example.mx/fhir"}}"#
        var options = Repository.BundleOptions(base: "http://example.mx/fhir")
        _ = try await repository.process(bundle: Self.transaction([a, b]), options: options) { _, _ in }
        let start = try await store.read { try $0.latestEventPosition() }

        options.skipUnchanged = true
        let changedB = #"{"resourceType":"Patient","id":"b","name":[{"family":"López"}],"meta":{"source":"https://hospital-a.example.mx/fhir"},"gender":"female"}"#
        passed.clear()
        let response = try await repository.process(bundle: Self.transaction([a, changedB]), options: options) { _, _ in }
        let entries = response["entry"]?.arrayValue ?? []
        #expect(entries.map { $0["response"]?["status"]?.stringValue } == ["200 OK", "200 OK"])
        #expect(entries.map { $0["response"]?["etag"]?.stringValue } == ["W/\"1\"", "W/\"2\""])
        #expect(entries.map(Repository.isUnchanged) == [true, false])
        #expect(entries[0]["response"]?["outcome"]?["issue"]?.arrayValue?.first?["severity"]?.stringValue == "information")
        #expect(try await repository.read("Patient", "a").version == 1)
        #expect(try await repository.read("Patient", "b").version == 2)
        // only b's new version is an event; a is passed on as unchanged, for the guard's check
        let events = try await store.read { try $0.events(after: start, limit: 10) }
        #expect(events.map { "\($0.id)/\($0.version)" } == ["b/2"])
        #expect(passed.all.map { "\($0.resource.id)/\($0.resource.version)/\($0.unchanged)" } == ["a/1/true", "b/2/false"])

        // meta.source differing is a change; without the option an identical PUT is a new version
        let otherSource = #"{"resourceType":"Patient","id":"a","name":[{"family":"Pérez"}],"birthDate":"1970-01-01","meta":{"source":"https://otro.example.mx"}}"#
        _ = try await repository.process(bundle: Self.transaction([otherSource]), options: options) { _, _ in }
        #expect(try await repository.read("Patient", "a").version == 2)
        options.skipUnchanged = false
        _ = try await repository.process(bundle: Self.transaction([otherSource]), options: options) { _, _ in }
        #expect(try await repository.read("Patient", "a").version == 3)
        // a deleted resource put back is written, even if its last content was the same
        _ = try await repository.delete("Patient", "b")
        options.skipUnchanged = true
        let back = try await repository.process(bundle: Self.transaction([changedB]), options: options) { _, _ in }
        #expect(back["entry"]?.arrayValue?.first?["response"]?["status"]?.stringValue == "201 Created")
        #expect(try await repository.read("Patient", "b").version == 4)
    }
}

final class WrittenLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Repository.Written] = []
    func add(_ w: [Repository.Written]) { lock.withLock { items += w } }
    func clear() { lock.withLock { items = [] } }
    var all: [Repository.Written] { lock.withLock { items } }
}
