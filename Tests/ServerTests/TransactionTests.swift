import FHIR
import Foundation
import Testing

@Suite("Transactions and batches")
struct TransactionTests {
    /// 50 patients, each with an Observation that references it by urn:uuid: 100 entries.
    func bundle(type: String = "transaction", breakAt: Int? = nil) -> String {
        var entries: [String] = []
        for i in 0..<50 {
            let p = "urn:uuid:00000000-0000-4000-8000-\(String(format: "%012d", i))"
            entries.append(#"{"fullUrl":"\#(p)","resource":{"resourceType":"Patient","identifier":[{"system":"http://hospital.example.mx/expediente","value":"CURP\#(i)"}],"name":[{"family":"Paciente\#(i)"}]},"request":{"method":"POST","url":"Patient"}}"#)
            let status = i == breakAt ? "terminado" : "final"
            entries.append(#"{"fullUrl":"urn:uuid:10000000-0000-4000-8000-\#(String(format: "%012d", i))","resource":{"resourceType":"Observation","status":"\#(status)","code":{"text":"peso"},"subject":{"reference":"\#(p)"}},"request":{"method":"POST","url":"Observation"}}"#)
        }
        return #"{"resourceType":"Bundle","type":"\#(type)","entry":[\#(entries.joined(separator: ","))]}"#
    }

    @Test func hundredEntryTransactionCommitsAtomicallyWithReferencesResolved() async throws {
        try await TestServer().run { c in
            let r = try await c.send(.post, "/fhir", json: bundle())
            #expect(r.status == 200, "\(r.text.prefix(500))")
            #expect(r.json["type"]?.stringValue == "transaction-response")
            let entries = r.json["entry"]?.arrayValue ?? []
            #expect(entries.count == 100)
            #expect(entries.allSatisfy { $0["response"]?["status"]?.stringValue == "201 Created" })
            #expect(try await c.historyTotal() == 100)
            // the Observation of patient 7 points at the id patient 7 received
            let patientLocation = entries[14]["response"]?["location"]?.stringValue ?? ""
            let patientID = patientLocation.split(separator: "/")[1]
            let obsLocation = entries[15]["response"]?["location"]?.stringValue ?? ""
            let obs = try await c.send(.get, "/fhir/" + obsLocation.split(separator: "/").prefix(2).joined(separator: "/"))
            #expect(obs.json["subject"]?["reference"]?.stringValue == "Patient/\(patientID)")
            #expect(!obs.text.contains("urn:uuid"))
        }
    }

    /// `{fullUrl}/_history/1` becomes `Type/{id}/_history/1` (the new id, that version); a
    /// `_history` suffix that is not a number is left as written.
    @Test func aVersionedReferenceToAnEntryGetsItsNewIdAndKeepsItsVersion() async throws {
        try await TestServer().run { c in
            let p = "urn:uuid:aaaaaaaa-0000-4000-8000-00000000000a"
            let bundle = #"{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"\#(p)","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Provenance","target":[{"reference":"\#(p)/_history/1"},{"reference":"\#(p)/_history/x"}],"recorded":"2026-11-24T12:00:00Z","agent":[{"who":{"display":"prueba"}}]},"request":{"method":"POST","url":"Provenance"}}]}"#
            let r = try await c.send(.post, "/fhir", json: bundle)
            #expect(r.status == 200, "\(r.text)")
            let entries = r.json["entry"]?.arrayValue ?? []
            let patient = (entries.first?["response"]?["location"]?.stringValue ?? "").split(separator: "/").prefix(2).joined(separator: "/")
            let provenance = (entries.last?["response"]?["location"]?.stringValue ?? "").split(separator: "/").prefix(2).joined(separator: "/")
            let stored = try await c.send(.get, "/fhir/" + provenance)
            let targets = stored.json["target"]?.arrayValue?.compactMap { $0["reference"]?.stringValue } ?? []
            #expect(targets == ["\(patient)/_history/1", "\(p)/_history/x"], "\(stored.text)")
        }
    }

    @Test func oneInvalidEntryLeavesTheDatabaseExactlyAsItWas() async throws {
        try await TestServer().run { c in
            try await c.send(.put, "/fhir/Patient/keep", json: #"{"resourceType":"Patient","id":"keep"}"#)
            let r = try await c.send(.post, "/fhir", json: bundle(breakAt: 33))
            #expect(r.status == 422)
            #expect(r.json["resourceType"]?.stringValue == "OperationOutcome")
            #expect(r.locations.contains { $0.hasPrefix("Bundle.entry[67]") }, "\(r.locations)")
            #expect(try await c.historyTotal() == 1)
            // a failure found while running (a stale If-Match) also rolls everything back
            let stale = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},{"resource":{"resourceType":"Patient","id":"keep","active":false},"request":{"method":"PUT","url":"Patient/keep","ifMatch":"W/\"9\""}}]}"#
            let s = try await c.send(.post, "/fhir", json: stale)
            #expect(s.status == 412)
            #expect(s.text.contains("Bundle.entry[1]"))
            #expect(try await c.historyTotal() == 1)
        }
    }

    @Test func transactionOrderConditionalsAndGets() async throws {
        try await TestServer().run { c in
            try await c.send(.put, "/fhir/Patient/old", json: #"{"resourceType":"Patient","id":"old"}"#)
            try await c.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana","identifier":[{"system":"s","value":"ana"}]}"#)
            let b = #"""
            {"resourceType":"Bundle","type":"transaction","entry":[
              {"request":{"method":"GET","url":"Patient/ana"}},
              {"fullUrl":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","identifier":[{"system":"s","value":"ana"}]},"request":{"method":"POST","url":"Patient","ifNoneExist":"identifier=s|ana"}},
              {"resource":{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"}},"request":{"method":"PUT","url":"Observation?identifier=s|obs1"}},
              {"request":{"method":"DELETE","url":"Patient/old"}}
            ]}
            """#
            let r = try await c.send(.post, "/fhir", json: b)
            #expect(r.status == 200, "\(r.text.prefix(400))")
            let e = r.json["entry"]?.arrayValue ?? []
            // GET runs last, after the writes
            #expect(e[0]["response"]?["status"]?.stringValue == "200 OK")
            #expect(e[0]["resource"]?["id"]?.stringValue == "ana")
            #expect(e[1]["response"]?["status"]?.stringValue == "200 OK")  // conditional create matched
            #expect(e[2]["response"]?["status"]?.stringValue == "201 Created")
            #expect(e[3]["response"]?["status"]?.stringValue == "204 No Content")
            #expect(try await c.send(.get, "/fhir/Patient/old").status == 410)
            // reading what the same transaction deletes fails it all
            let clash = #"{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/ana"}},{"request":{"method":"DELETE","url":"Patient/ana"}}]}"#
            #expect(try await c.send(.post, "/fhir", json: clash).status == 409)
            #expect(try await c.send(.get, "/fhir/Patient/ana").status == 200)
        }
    }

    @Test func batchRunsEntriesIndependently() async throws {
        try await TestServer().run { c in
            let b = #"""
            {"resourceType":"Bundle","type":"batch","entry":[
              {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
              {"request":{"method":"GET","url":"Patient/nope"}},
              {"resource":{"resourceType":"Patient","id":"p9"},"request":{"method":"PUT","url":"Patient/p9"}},
              {"request":{"method":"GET","url":"Patient?_id=p9"}}
            ]}
            """#
            let r = try await c.send(.post, "/fhir", json: b)
            #expect(r.status == 200)
            let e = r.json["entry"]?.arrayValue ?? []
            #expect(e.map { $0["response"]?["status"]?.stringValue } == ["201 Created", "404", "201 Created", "200 OK"])
            #expect(e[1]["response"]?["outcome"]?["resourceType"]?.stringValue == "OperationOutcome")
            #expect(try await c.historyTotal() == 2)
        }
    }

    /// https://hl7.org/fhir/R4/http.html#transaction: batch entries are independent; an invalid
    /// entry gets its own error response and the others are stored. Only a transaction is all
    /// or nothing (oneInvalidEntryLeavesTheDatabaseExactlyAsItWas).
    @Test(arguments: ServerBackend.allCases)
    func batchWithAnInvalidEntryStoresTheOthers(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            let r = try await c.send(.post, "/fhir", json: bundle(type: "batch", breakAt: 33))
            #expect(r.status == 200, "\(r.text.prefix(500))")
            #expect(r.json["type"]?.stringValue == "batch-response")
            let entries = r.json["entry"]?.arrayValue ?? []
            #expect(entries.count == 100)
            let bad = entries.count > 67 ? entries[67]["response"] : nil
            #expect(bad?["status"]?.stringValue == "422")
            let outcome = bad?["outcome"]
            #expect(outcome?["resourceType"]?.stringValue == "OperationOutcome")
            let issues = outcome?["issue"]?.arrayValue ?? []
            #expect(issues.contains { ($0["expression"]?.arrayValue ?? []).contains { $0.stringValue == "Observation.status" } }, "\(issues)")
            #expect(issues.allSatisfy { $0["details"]?["text"]?.stringValue?.isEmpty == false })
            #expect(entries.enumerated().filter { $0.offset != 67 }.allSatisfy { $0.element["response"]?["status"]?.stringValue == "201 Created" })
            #expect(try await c.historyTotal() == 99)

            // an entry whose own elements are invalid (unknown member, a method that is not an
            // HTTP verb) fails alone, with the location of the problem
            let envelope = #"""
            {"resourceType":"Bundle","type":"batch","entry":[
              {"resource":{"resourceType":"Patient","active":true},"request":{"method":"POST","url":"Patient"}},
              {"resource":{"resourceType":"Patient"},"request":{"method":"FETCH","url":"Patient"}},
              {"bogus":1,"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
              {"resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}}
            ]}
            """#
            let e = try await c.send(.post, "/fhir", json: envelope)
            #expect(e.status == 200, "\(e.text.prefix(500))")
            let responses = e.json["entry"]?.arrayValue ?? []
            #expect(responses.map { $0["response"]?["status"]?.stringValue } == ["201 Created", "400", "400", "201 Created"])
            let where1 = (responses.count > 1 ? responses[1]["response"]?["outcome"]?["issue"]?.arrayValue ?? [] : []).flatMap { $0["expression"]?.arrayValue ?? [] }
            #expect(where1.contains { $0.stringValue == "Bundle.entry[1].request.method" }, "\(where1)")
            #expect(try await c.historyTotal() == 101)

            // the Bundle's own elements invalid: refused whole, nothing stored
            let broken = #"{"resourceType":"Bundle","type":"batch","total":"many","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]}"#
            let w = try await c.send(.post, "/fhir", json: broken)
            #expect(w.status == 422)
            #expect(w.locations.contains("Bundle.total"), "\(w.locations)")
            #expect(try await c.historyTotal() == 101)
        }
    }

    @Test func bundleLimitsAndShape() async throws {
        try await TestServer().run { c in
            #expect(try await c.send(.post, "/fhir", json: #"{"resourceType":"Patient"}"#).status == 400)
            #expect(try await c.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"collection"}"#).status == 400)
            let many = (0..<1001).map { _ in #"{"request":{"method":"GET","url":"Patient/x"}}"# }.joined(separator: ",")
            let r = try await c.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"batch","entry":[\#(many)]}"#)
            #expect(r.status == 413)
            #expect(r.issueCodes == ["too-costly"])
        }
    }

    @Test func conditionalUpdateAndDelete() async throws {
        try await TestServer().run { c in
            let body = #"{"resourceType":"Patient","identifier":[{"system":"http://hospital.example.mx/expediente","value":"X1"}],"active":true}"#
            let created = try await c.send(.put, "/fhir/Patient?identifier=http://hospital.example.mx/expediente|X1", json: body)
            #expect(created.status == 201)
            let updated = try await c.send(.put, "/fhir/Patient?identifier=http://hospital.example.mx/expediente|X1", json: body)
            #expect(updated.status == 200)
            #expect(updated.json["id"] == created.json["id"])
            #expect(updated.json["meta"]?["versionId"]?.stringValue == "2")
            #expect(try await c.send(.put, "/fhir/Patient", json: body).status == 405)
            let del = try await c.send(.delete, "/fhir/Patient?identifier=X1")
            #expect(del.status == 200)
            #expect(try await c.send(.get, "/fhir/Patient/\(created.json["id"]!.stringValue!)").status == 410)
        }
    }
}
