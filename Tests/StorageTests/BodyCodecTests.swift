import FHIR
import Foundation
import GRDB
@_spi(Unguarded) import Storage
@testable import StorageSQLite
import Testing

/// Stored bodies compressed with deflate and a preset dictionary (docs/performance.md,
/// "Compressed bodies"): every body comes back byte for byte, plain bodies written before are
/// read as they are, damage is named, and the SQL that reads bodies still finds them.
@Suite("Compressed bodies")
struct BodyCodecTests {
    static var examples: [[UInt8]] {
        let dir = IndexerTests.examplesDirectory
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasSuffix(".json") }.sorted() ?? []
        return files.compactMap { try? JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/" + $0)))).serialized() }
    }

    @Test func everyExampleComesBackByteForByteAndSmaller() throws {
        let examples = Self.examples
        #expect(examples.count > 100)
        var plain = 0, stored = 0
        for body in examples {
            let encoded = BodyCodec.encode(body)
            #expect(try BodyCodec.decode(encoded) == body)
            #expect(encoded.count <= body.count)
            if body.count >= BodyCodec.minimumSize { #expect(encoded.first == BodyCodec.deflateV1) }
            plain += body.count
            stored += encoded.count
        }
        // the dictionary is made of some of these examples, so this ratio flatters; the
        // benchmark's external data is the honest figure (BENCHMARKS.md)
        #expect(stored * 3 < plain, "\(plain) → \(stored) bytes")
    }

    @Test func bodiesNobodyTrainedOnComeBack() throws {
        // large, non-ASCII, escapes, a body longer than the deflate window, and random bytes in a string
        var generator = SystemRandomNumberGenerator()
        let random = (0..<3000).map { _ in Character(UnicodeScalar(UInt8.random(in: 32...126, using: &generator))) }
        let escaped = String(random).replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        let bodies = [
            #"{"resourceType":"Patient","name":[{"family":"Núñez","given":["José","Ñandú"]}],"note":"línea\nsegunda \u0000 \"comillas\""}"#,
            #"{"resourceType":"Basic","code":{"text":"\#(escaped)"}}"#,
            "{\"resourceType\":\"Binary\",\"data\":\"" + String(repeating: "QUJD", count: 40_000) + "\"}",
        ]
        for text in bodies {
            let body = Array(text.utf8)
            #expect(try BodyCodec.decode(BodyCodec.encode(body)) == body)
        }
    }

    @Test func plainSmallAndDamagedBodies() throws {
        let small = Array(#"{"resourceType":"Patient"}"#.utf8)
        #expect(BodyCodec.encode(small) == small, "too small to gain: kept plain")
        #expect(try BodyCodec.decode(small) == small, "a body that starts with { is plain (written before compression)")
        #expect(try BodyCodec.decode([]) == [])
        let body = Array((#"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}"# + ",\"x\":1}").utf8)
        var encoded = BodyCodec.encode(body)
        #expect(encoded.first == BodyCodec.deflateV1)
        #expect(throws: BodyCodec.Corrupt.self) { try BodyCodec.decode([0x7F] + body) }  // an unknown form
        #expect(throws: BodyCodec.Corrupt.self) { try BodyCodec.decode(Array(encoded.dropLast(3))) }  // truncated
        encoded[1] = encoded[1] &+ 1  // the recorded length no longer matches
        #expect(throws: BodyCodec.Corrupt.self) { try BodyCodec.decode(encoded) }
        #expect(throws: BodyCodec.Corrupt.self) { try BodyCodec.decode([BodyCodec.deflateV1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) }
    }

    /// A file with bodies of both forms: those written before compression (plain) and after.
    @Test func aDatabaseWithPlainAndCompressedBodiesReadsAndSearchesBoth() async throws {
        let dir = NSTemporaryDirectory() + "enlace-bodies-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/db.sqlite"
        let validator = Validator()
        func fixture() throws -> SearchFixture {
            SearchFixture(Repository(store: try SQLiteStore(path: path), clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) }))
        }
        let old = #"{"resourceType":"Patient","id":"antes","name":[{"family":"Villaseñor","given":["Rosa"]}],"address":[{"city":"Mérida","state":"Yucatán"}],"gender":"female"}"#
        let new = #"{"resourceType":"Patient","id":"despues","name":[{"family":"Quintero","given":["Luis"]}],"address":[{"city":"Tijuana","state":"Baja California"}],"gender":"male"}"#
        do {
            let f = try fixture()
            try await f.put(old)
            try await f.put(new)
        }
        // make the first one as a database from before stores it: plain JSON
        try await DatabaseQueue(path: path).write { db in
            let stored = try Data.fetchOne(db, sql: "SELECT body FROM resource_version WHERE id = 'antes'")!
            #expect(stored.first == BodyCodec.deflateV1, "written compressed")
            try db.execute(sql: "UPDATE resource_version SET body = ? WHERE id = 'antes'", arguments: [Data(try BodyCodec.decode([UInt8](stored)))])
        }
        let forms = try await DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT id, substr(body, 1, 1) = x'7b' FROM resource_version WHERE type = 'Patient' ORDER BY id").map { ($0[0] as String, $0[1] as Bool) }
        }
        #expect(forms.map(\.0) == ["antes", "despues"] && forms.map(\.1) == [true, false], "\(forms)")
        let f = try fixture()
        for (id, text) in [("antes", old), ("despues", new)] {
            let read = try await f.repository.read("Patient", id)
            #expect(try read.json()["name"] == JSONParser.parse(text)["name"])
        }
        #expect(try await f.search("Patient", "_content=yucat") == ["antes"])
        #expect(try await f.search("Patient", "_content=tijuana") == ["despues"])
        #expect(try await f.search("Patient", "_content=baja%20california") == ["despues"])
    }
}
