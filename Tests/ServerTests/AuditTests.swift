import Crypto
import FHIR
import Foundation
import GRDB
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) import Trust

@Suite("Audit ledger: every request, tamper evidence, proofs")
struct AuditTests {
    func size(_ s: TestServer) async throws -> Int64 { try await s.services.store.read { try $0.auditSize() } }

    @Test func everyRequestLeavesExactlyOneEntryWithTheRightFields() async throws {
        let server = try TestServer(faultInjection: true)
        let limited = try server.services.authority.issue(subject: "limited", scope: "system/Patient.rs", ttl: 600, now: server.clock.now())
        let before = try await size(server)
        try await server.run { c in
            var expected: [(Int, String)] = []
            func go(_ r: Client.Reply, _ status: Int, _ subtype: String) {
                #expect(r.status == status, "\(subtype): \(r.text.prefix(200))")
                expected.append((status, subtype))
            }
            go(try await c.send(.put, "/fhir/Patient/p1", json: #"{"resourceType":"Patient","id":"p1","active":true}"#), 201, "update")
            go(try await c.send(.get, "/fhir/Patient/p1"), 200, "read")
            go(try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient"}"#), 201, "create")
            go(try await c.send(.get, "/fhir/Patient/p1", auth: false), 401, "read")
            go(try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation"}"#, headers: ["Authorization": "Bearer \(limited)"]), 403, "create")
            go(try await c.send(.get, "/fhir/Patient/nope"), 404, "read")
            go(try await c.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/p1"}},{"request":{"method":"DELETE","url":"Patient/p1"}}]}"#), 409, "transaction")
            go(try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","gender":"sometimes"}"#), 422, "create")
            go(try await c.send(.get, "/_fault"), 500, "read")
            let cancelled = try await c.send(.get, "/_fault?kind=cancelled")
            go(cancelled, 503, "read")
            #expect(cancelled.text.contains("cancel"), "\(cancelled.text.prefix(300))")
            go(try await c.send(.get, "/fhir/Patient?gender=female"), 200, "search-type")
            go(try await c.send(.get, "/fhir/metadata", auth: false), 200, "capabilities")
            let after = try await c.client.execute(uri: "/healthz", method: .get) { _ in 0 }
            _ = after
            expected.append((200, "read"))  // the /healthz just sent
            let entries = try await server.services.store.read { try $0.auditEntries(start: before, end: before + 100) }
            #expect(entries.count == expected.count)
            for (record, (status, subtype)) in zip(entries, expected) {
                let event = try JSONParser.parse(record.bytes)
                #expect(Validator().validate(event).isEmpty, "\(Validator().validate(event).map(\.english))")
                let outcome = event["outcome"]?.stringValue
                #expect(outcome == (status < 400 ? "0" : status < 500 ? "4" : "8"), "\(subtype) \(status)")
                #expect(event["outcomeDesc"]?.stringValue?.hasPrefix("HTTP \(status) ") == true, "\(event["outcomeDesc"]?.stringValue ?? "")")
                #expect(event["subtype"]?.arrayValue?.first?["code"]?.stringValue == subtype, "\(status)")
                #expect(event["recorded"]?.stringValue?.hasSuffix("Z") == true)
                #expect(event["source"]?["observer"] != nil)
            }
            // who is recorded; the anonymous request too
            let first = try JSONParser.parse(entries[0].bytes)
            #expect(first["agent"]?.arrayValue?.first?["who"]?["identifier"]?["value"]?.stringValue == "test-operator")
            #expect(first["entity"]?.arrayValue?.contains { $0["what"]?["reference"]?.stringValue == "Patient/p1/_history/1" } == true)
            #expect(first["entity"]?.arrayValue?.contains { $0["what"]?["reference"]?.stringValue == "Patient/p1" } == true)
            #expect(entries[0].patients == ["p1"])
            let anonymous = try JSONParser.parse(entries[3].bytes)
            #expect(anonymous["agent"]?.arrayValue?.first?["who"]?["display"]?.stringValue == "anonymous")
            // the search records its query
            let search = try JSONParser.parse(entries[10].bytes)
            #expect(search["entity"]?.arrayValue?.contains { $0["query"]?.stringValue == Data("gender=female".utf8).base64EncodedString() } == true)
        }
    }

    @Test func aWriteAndItsAuditEntryCommitTogether() async throws {
        let server = try TestServer()
        try await server.run { c in
            let r = try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient"}"#)
            let index = try #require(r.header("X-Audit-Index").flatMap { Int64($0) })
            // a failed write leaves neither data nor an in-transaction entry, only the request's own entry
            let bad = try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","gender":"x"}"#)
            let badIndex = try #require(bad.header("X-Audit-Index").flatMap { Int64($0) })
            #expect(badIndex == index + 1)
            let entries = try await server.services.store.read { try $0.auditEntries(start: index, end: index + 2) }
            #expect(entries.count == 2)
        }
    }

    @Test func patientLogAndAuditEventsAreReadOnly() async throws {
        let server = try TestServer()
        try await server.run { c in
            try await c.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana"}"#)
            try await c.send(.get, "/fhir/Patient/ana")
            let log = try await c.send(.get, "/fhir/AuditEvent?patient=Patient/ana")
            #expect(log.status == 200)
            let entries = log.json["entry"]?.arrayValue ?? []
            #expect(entries.count == 2)
            #expect(entries.first?["resource"]?["subtype"]?.arrayValue?.first?["code"]?.stringValue == "read")  // newest first
            let id = try #require(entries.first?["resource"]?["id"]?.stringValue)
            #expect(try await c.send(.get, "/fhir/AuditEvent/\(id)").json["resourceType"]?.stringValue == "AuditEvent")
            #expect(try await c.send(.put, "/fhir/AuditEvent/\(id)", json: #"{"resourceType":"AuditEvent","id":"\#(id)"}"#).status == 405)
            #expect(try await c.send(.delete, "/fhir/AuditEvent/\(id)").status == 405)
            // reading the log is itself logged
            let again = try await c.send(.get, "/fhir/AuditEvent?patient=ana")
            #expect((again.json["entry"]?.arrayValue ?? []).count == 3)
        }
    }

    @Test func proofsFromTheAPIVerify() async throws {
        let server = try TestServer()
        try await server.run { c in
            for i in 0..<20 { try await c.send(.put, "/fhir/Patient/p\(i)", json: #"{"resourceType":"Patient","id":"p\#(i)"}"#) }
            func b64(_ j: JSON?) throws -> [UInt8] {
                let text = try #require(j?.stringValue)
                return [UInt8](try #require(Data(base64Encoded: text)))
            }
            func size(_ r: Client.Reply) throws -> Int {
                let n = try #require(r.json["treeSize"], "\(r.status) \(r.text)")
                return try #require(Int(n.compactString))
            }
            let head1 = try await c.send(.get, "/audit/tree-head")
            #expect(head1.status == 200)
            let size1 = try size(head1)
            for i in 20..<27 { try await c.send(.put, "/fhir/Patient/p\(i)", json: #"{"resourceType":"Patient","id":"p\#(i)"}"#) }
            let head2 = try await c.send(.get, "/audit/tree-head")
            let size2 = try size(head2)
            #expect(size2 > size1)
            let root1 = try b64(head1.json["rootHash"])
            let root2 = try b64(head2.json["rootHash"])
            // signature over the documented bytes with the JWKS key
            let sig = try P256.Signing.ECDSASignature(rawRepresentation: try b64(head2.json["signature"]))
            let tsText = try #require(head2.json["timestamp"]?.stringValue)
            let ts = try #require(Timestamp(instant: tsText))
            #expect(server.services.key.privateKey.publicKey.isValidSignature(sig, for: Data(TreeHead.signedBytes(treeSize: Int64(size2), rootHash: root2, timestamp: ts))))
            // inclusion of entry 5 in the second head
            let entries = try await c.send(.get, "/audit/entries?start=5&end=6")
            let leaf = try b64(entries.json["entries"]?.arrayValue?.first?["leaf"])
            let inc = try await c.send(.get, "/audit/proof/inclusion?index=5&treeSize=\(size2)")
            let pathJSON = try #require(inc.json["auditPath"]?.arrayValue, "\(inc.status) \(inc.text)")
            let path = try pathJSON.map { try b64($0) }
            #expect(MerkleTree.verifyInclusion(leafHash: MerkleTree.leafHash(leaf), index: 5, treeSize: size2, proof: path, root: root2))
            let cons = try await c.send(.get, "/audit/proof/consistency?first=\(size1)&second=\(size2)")
            let proofJSON = try #require(cons.json["proof"]?.arrayValue, "\(cons.status) \(cons.text)")
            let proof = try proofJSON.map { try b64($0) }
            #expect(MerkleTree.verifyConsistency(first: size1, second: size2, firstRoot: root1, secondRoot: root2, proof: proof))
            #expect(try await c.send(.get, "/audit/proof/inclusion?index=999&treeSize=5").status == 400)
            #expect(try await c.send(.get, "/audit/proof/consistency?first=0&second=5").status == 400)
            #expect(try await c.send(.get, "/audit/entries?start=x&end=1").status == 400)
        }
    }
}

@Suite("Audit ledger verification catches tampering")
struct TamperTests {
    /// A ledger of `n` entries in a file database, with tree heads signed along the way.
    static func ledger(_ n: Int) async throws -> (dir: String, key: SigningKey) {
        let dir = NSTemporaryDirectory() + "enlace-ledger-" + UUID().uuidString
        let key = try SigningKey.loadOrCreate(in: dir)
        let store = try SQLiteStore(path: dir + "/enlace.sqlite")
        let ledger = AuditLedger(store: store, key: key, clock: SystemClock())
        for i in 0..<n {
            let event = #"{"resourceType":"AuditEvent","n":\#(i)}"#
            _ = try await ledger.record(PendingAudit(recorded: Timestamp(microseconds: Int64(i)), patients: ["p\(i % 7)"], bytes: Array(event.utf8)))
            if i % 97 == 0 || i == n - 1 { try await ledger.signTreeHead() }
        }
        return (dir, key)
    }

    static func verify(_ dir: String, _ key: SigningKey, witness: [TreeHead] = []) async throws -> LedgerVerifier.Report {
        try await LedgerVerifier(publicKey: key.privateKey.publicKey).verify(store: try SQLiteStore(path: dir + "/enlace.sqlite"), witness: witness)
    }

    static func tamper(_ dir: String, _ sql: String, _ args: StatementArguments = []) throws {
        let q = try DatabaseQueue(path: dir + "/enlace.sqlite")
        try q.write { try $0.execute(sql: sql, arguments: args) }
    }

    @Test func everyKindOfTamperingIsCaughtAndNamed() async throws {
        let (dir, key) = try await TamperTests.ledger(1000)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let clean = try await TamperTests.verify(dir, key)
        #expect(clean.ok, "\(clean.problems)")
        #expect(clean.entries == 1000)
        let original = try Data(contentsOf: URL(fileURLWithPath: dir + "/enlace.sqlite"))
        func reset() throws {
            try? FileManager.default.removeItem(atPath: dir + "/enlace.sqlite-wal")
            try? FileManager.default.removeItem(atPath: dir + "/enlace.sqlite-shm")
            try original.write(to: URL(fileURLWithPath: dir + "/enlace.sqlite"))
        }
        func expectCaught(_ what: String, naming fragment: String, _ change: () throws -> Void) async throws {
            try reset()
            try change()
            let report = try await TamperTests.verify(dir, key)
            #expect(!report.ok, "\(what) was not caught")
            #expect(report.problems.first?.contains(fragment) == true, "\(what): \(report.problems)")
        }
        // one byte of one entry, at several places
        for index in [0, 1, 500, 998, 999] {
            try await expectCaught("a changed byte in entry \(index)", naming: "entry \(index) ") {
                try TamperTests.tamper(dir, "UPDATE audit_entry SET bytes = CAST(replace(CAST(bytes AS TEXT), '\"n\"', '\"m\"') AS BLOB) WHERE idx = ?", [index])
            }
        }
        try await expectCaught("a deleted entry", naming: "entry 300 is missing") {
            try TamperTests.tamper(dir, "DELETE FROM audit_entry WHERE idx = 300")
        }
        try await expectCaught("two entries swapped", naming: "entry 400 ") {
            try TamperTests.tamper(dir, """
                UPDATE audit_entry SET bytes = CASE idx WHEN 400 THEN (SELECT bytes FROM audit_entry WHERE idx = 401)
                                                        ELSE (SELECT bytes FROM audit_entry WHERE idx = 400) END WHERE idx IN (400, 401)
                """)
        }
        try await expectCaught("an inserted entry", naming: "entry 700 ") {
            try TamperTests.tamper(dir, "UPDATE audit_entry SET idx = idx + 1000000 WHERE idx >= 700")
            try TamperTests.tamper(dir, "UPDATE audit_entry SET idx = idx - 1000000 + 1 WHERE idx >= 1000000")
            try TamperTests.tamper(dir, "INSERT INTO audit_entry (idx, recorded, patients, bytes, chain) SELECT 700, recorded, patients, bytes, chain FROM audit_entry WHERE idx = 10")
        }
        try await expectCaught("a truncated log", naming: "truncated") {
            try TamperTests.tamper(dir, "DELETE FROM audit_entry WHERE idx >= 900")
        }
    }

    @Test func aConsistentRewriteIsCaughtByTheWitness() async throws {
        let (dir, key) = try await TamperTests.ledger(300)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try SQLiteStore(path: dir + "/enlace.sqlite")
        let witness = try await store.read { try $0.treeHeads() }
        #expect(try await TamperTests.verify(dir, key, witness: witness).ok)
        // the operator rewrites entry 10 and recomputes the chain, the heads and their signatures
        try TamperTests.tamper(dir, "UPDATE audit_entry SET bytes = CAST('{\"resourceType\":\"AuditEvent\",\"n\":\"forged\"}' AS BLOB) WHERE idx = 10")
        let records = try await store.read { try $0.auditEntries(start: 0, end: 300) }
        var previous = [UInt8](repeating: 0, count: 32)
        for r in records {
            let link = AuditLedger.chain(previous, r.bytes)
            try TamperTests.tamper(dir, "UPDATE audit_entry SET chain = ? WHERE idx = ?", [Data(link), r.index])
            previous = link
        }
        try TamperTests.tamper(dir, "DELETE FROM audit_tree_head")
        let forged = AuditLedger(store: try SQLiteStore(path: dir + "/enlace.sqlite"), key: key, clock: SystemClock())
        try await forged.signTreeHead()
        #expect(try await TamperTests.verify(dir, key).ok)  // the database alone now looks consistent
        let report = try await TamperTests.verify(dir, key, witness: witness)
        #expect(!report.ok)
        #expect(report.problems.contains { $0.contains("witness tree head") }, "\(report.problems)")
    }
}

@Suite("Provenance and decisions")
struct DecisionTests {
    @Test func decisionsRecordWhoAnswersIncludingAlgorithms() async throws {
        let server = try TestServer()
        let a = server.services.authority
        let ana = try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: server.clock.now(), role: .patient,
                                    fhirUser: "Patient/ana", patient: "ana").token
        try await server.run { c in
            try await c.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana"}"#)
            try await c.send(.put, "/fhir/Practitioner/dra", json: #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#)
            try await c.send(.put, "/fhir/Device/riesgo-cv", json: #"{"resourceType":"Device","id":"riesgo-cv","deviceName":[{"name":"Calculadora de riesgo cardiovascular","type":"model-name"}],"version":[{"value":"2.3.1"}]}"#)
            let provenance = #"{"resourceType":"Provenance","agent":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/provenance-participant-type","code":"author"}]},"who":{"reference":"Device/riesgo-cv"}},{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/provenance-participant-type","code":"verifier"}]},"who":{"reference":"Practitioner/dra"}}],"reason":[{"text":"Riesgo cardiovascular alto"}]}"#
            let risk = try await c.send(.post, "/fhir/RiskAssessment", json: #"{"resourceType":"RiskAssessment","status":"final","subject":{"reference":"Patient/ana"},"prediction":[{"probabilityDecimal":0.31}]}"#,
                                        headers: ["X-Provenance": provenance])
            #expect(risk.status == 201)
            try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"peso"},"subject":{"reference":"Patient/ana"}}"#)
            #expect(try await c.send(.post, "/fhir/Condition", json: #"{"resourceType":"Condition","subject":{"reference":"Patient/ana"}}"#,
                                     headers: ["X-Provenance": "not json"]).status == 400)
            let d = try await c.send(.get, "/fhir/Patient/ana/$decisions", headers: ["Authorization": "Bearer \(ana)"], auth: false)
            #expect(d.status == 200)
            let entries = d.json["entry"]?.arrayValue ?? []
            let matches = entries.filter { $0["search"]?["mode"]?.stringValue == "match" }
            #expect(matches.count == 1)  // the RiskAssessment; the Observation is not a decision
            let agents = matches.first?["resource"]?["agent"]?.arrayValue ?? []
            #expect(agents.contains { $0["who"]?["reference"]?.stringValue == "Device/riesgo-cv" })
            #expect(agents.contains { $0["who"]?["reference"]?.stringValue == "Practitioner/dra" && $0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "verifier" })
            let included = Set(entries.filter { $0["search"]?["mode"]?.stringValue == "include" }.compactMap { $0["resource"]?["resourceType"]?.stringValue })
            #expect(included.isSuperset(of: ["RiskAssessment", "Device", "Practitioner"]))
        }
    }
}

@Suite("Audit ledger under concurrency")
struct LedgerConcurrencyTests {
    @Test func concurrentSyncsAndSignersAgree() async throws {
        let store = try SQLiteStore()
        let key = SigningKey(privateKey: P256.Signing.PrivateKey())
        let ledger = AuditLedger(store: store, key: key, clock: SystemClock())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for w in 0..<4 {
                group.addTask {
                    for i in 0..<50 {
                        _ = try await ledger.record(PendingAudit(recorded: Timestamp(microseconds: 0), patients: [], bytes: Array("{\"w\":\(w),\"i\":\(i)}".utf8)))
                    }
                }
            }
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<30 {
                        _ = try await ledger.sync()
                        _ = try await ledger.signTreeHead()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await ledger.size() == 200)
        let report = try await LedgerVerifier(publicKey: key.privateKey.publicKey).verify(store: store)
        #expect(report.ok, "\(report.problems)")
        #expect(report.entries == 200)
    }
}
