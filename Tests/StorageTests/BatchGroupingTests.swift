import FHIR
import Foundation
@_spi(Unguarded) import Storage
import Testing

/// A store that counts its write transactions (commits).
final class CountingStore: ResourceStore, @unchecked Sendable {
    let inner: any ResourceStore
    private let lock = NSLock()
    private var count = 0
    var writes: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }

    init(_ inner: any ResourceStore) { self.inner = inner }

    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T { try await inner.read(body) }

    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try writeCounted()
        return try await inner.write(body)
    }

    func close() { inner.close() }

    /// Counts one without writing.
    func writeCounted() throws {
        lock.lock()
        count += 1
        lock.unlock()
    }
}

/// Batch Bundles (https://hl7.org/fhir/R4/http.html#transaction): entries are independent in
/// outcome, so each keeps its own response, but runs of writes share one commit, each entry in
/// a savepoint — an entry that fails inside the writer leaves nothing, the others are kept.
@Suite("Batch Bundles: writes grouped into one commit")
struct BatchGroupingTests {
    static func entry(_ method: String, _ url: String, _ resource: String? = nil, ifMatch: String? = nil) -> String {
        var request = #"{"method":"\#(method)","url":"\#(url)""#
        if let ifMatch { request += #","ifMatch":"\#(ifMatch)""# }
        request += "}"
        return resource.map { #"{"resource":\#($0),"request":\#(request)}"# } ?? #"{"request":\#(request)}"#
    }

    @Test(arguments: Backend.allCases)
    func writesShareOneCommitAndFailuresStayAlone(_ backend: Backend) async throws {
        let (inner, cleanup) = try await backend.make()
        defer { cleanup() }
        let store = CountingStore(inner)
        let validator = Validator()
        var repository = Repository(store: store, validate: { validator.validate($0) })
        // a check that refuses one resource after it was written, as the door's write check does
        repository.afterWrite = { _, written in
            if written.contains(where: { $0.resource.id == "refused" }) {
                throw FHIRError(status: 403, code: "forbidden", english: "refused", spanish: "rechazado")
            }
        }
        var entries: [String] = []
        for i in 0..<10 { entries.append(Self.entry("POST", "Patient", #"{"resourceType":"Patient","active":true,"birthDate":"19\#(50 + i)-01-01"}"#)) }
        entries.append(Self.entry("PUT", "Patient/ghost", #"{"resourceType":"Patient","id":"ghost"}"#, ifMatch: "3"))      // 10: 412 in the writer
        for i in 11..<20 { entries.append(Self.entry("PUT", "Patient/p\(i)", #"{"resourceType":"Patient","id":"p\#(i)"}"#)) }
        entries.append(Self.entry("PUT", "Patient/refused", #"{"resourceType":"Patient","id":"refused"}"#))                    // 20: 403 after its put
        entries.append(Self.entry("GET", "Patient/p11"))                                                                        // 21: sees entry 11
        entries.append(Self.entry("DELETE", "Patient/p12"))                                                                     // 22
        entries.append(Self.entry("POST", "Patient", #"{"resourceType":"Patient","bogus":1}"#))                      // 23: invalid, before the writer
        entries.append(Self.entry("PUT", "Patient/p24", #"{"resourceType":"Patient","id":"p24"}"#))                             // 24
        let bundle = try JSONParser.parse(#"{"resourceType":"Bundle","type":"batch","entry":[\#(entries.joined(separator: ","))]}"#)
        let response = try await repository.process(bundle: bundle, options: .init(base: "http://example.mx/fhir")) { _, _ in }
        let statuses = (response["entry"]?.arrayValue ?? []).map { $0["response"]?["status"]?.stringValue ?? "?" }
        var expected = Array(repeating: "201 Created", count: 10) + ["412"] + Array(repeating: "201 Created", count: 9)
        expected += ["403", "200 OK", "204 No Content", "422", "201 Created"]
        #expect(statuses == expected)
        // entries 0–20 in one commit; 22 and 24 in a second (the GET between them ends the first)
        #expect(store.writes == 2, "\(store.writes) commits")
        let stored = try await store.read { tx in
            (try tx.current("Patient", "ghost"), try tx.current("Patient", "refused"), try tx.current("Patient", "p19"), try tx.current("Patient", "p12"),
             try tx.current("Patient", "p24"))
        }
        #expect(stored.0 == nil, "the 412 entry left nothing")
        #expect(stored.1 == nil, "the entry refused after its write was undone by its savepoint")
        #expect(stored.2?.version == 1)
        #expect(stored.3?.deleted == true)
        #expect(stored.4?.version == 1)
        let created = (response["entry"]?.arrayValue ?? []).prefix(10).compactMap { $0["response"]?["location"]?.stringValue }
        #expect(Set(created).count == 10, "each create has its own id")
    }

    @Test func aGroupThatFailsWholeRunsItsEntriesOneByOne() async throws {
        let (inner, cleanup) = try await Backend.sqliteMemory.make()
        defer { cleanup() }
        let store = CountingStore(inner)
        var repository = Repository(store: store, validate: { _ in [] })
        // a database-level failure (not a FHIR error) in the first, grouped attempt only
        let calls = CountingStore(inner)   // its counter, reused as a thread-safe one
        repository.afterWrite = { tx, written in
            let first = calls.writes == 0
            if first { _ = try? calls.writeCounted() }
            if first, !written.isEmpty { throw StoreError.database("disk I/O error (simulated)") }
        }
        let entries = (0..<3).map { Self.entry("PUT", "Patient/q\($0)", #"{"resourceType":"Patient","id":"q\#($0)"}"#) }
        let bundle = try JSONParser.parse(#"{"resourceType":"Bundle","type":"batch","entry":[\#(entries.joined(separator: ","))]}"#)
        let response = try await repository.process(bundle: bundle, options: .init(base: "http://example.mx/fhir")) { _, _ in }
        let statuses = (response["entry"]?.arrayValue ?? []).map { $0["response"]?["status"]?.stringValue ?? "?" }
        #expect(statuses == ["201 Created", "201 Created", "201 Created"])
        #expect(store.writes == 4, "one failed group, then three single commits")
        #expect(try await store.read { try $0.current("Patient", "q2") }?.version == 1)
    }
}
