import FHIR
import Foundation
import Testing

@Suite("FHIR REST: create, read, update, delete, versions")
struct CRUDTests {
    let patient = #"{"resourceType":"Patient","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"GOMC800101HDFRRR00"}],"name":[{"family":"Pérez","given":["Ana"]}],"gender":"female","birthDate":"1980-01-01"}"#
    /// The same person recorded again as an inactive record (one active Patient per CURP, docs/interop.md).
    let inactivePatient = #"{"resourceType":"Patient","active":false,"identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"GOMC800101HDFRRR00"}],"name":[{"family":"Pérez","given":["Ana"]}],"gender":"female","birthDate":"1980-01-01"}"#

    @Test func createReadUpdateDeleteHistory() async throws {
        try await TestServer().run { c in
            let created = try await c.send(.post, "/fhir/Patient", json: patient)
            #expect(created.status == 201)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["meta"]?["versionId"]?.stringValue == "1")
            #expect(created.json["meta"]?["lastUpdated"]?.stringValue == "2026-11-24T12:00:00.000000Z")
            #expect(created.header("ETag") == "W/\"1\"")
            #expect(created.header("Location")?.hasSuffix("/fhir/Patient/\(id)/_history/1") == true)
            #expect(created.header("Last-Modified") == "Tue, 24 Nov 2026 12:00:00 GMT")

            let read = try await c.send(.get, "/fhir/Patient/\(id)")
            #expect(read.status == 200)
            #expect(read.json == created.json)
            #expect(read.json["name"]?.arrayValue?.first?["family"]?.stringValue == "Pérez")

            var updated = read.json.setting("gender", .string("other"))
            updated = updated.setting("meta", nil)
            let put = try await c.send(.put, "/fhir/Patient/\(id)", body: updated.serialized())
            #expect(put.status == 200)
            #expect(put.json["meta"]?["versionId"]?.stringValue == "2")
            #expect(put.header("ETag") == "W/\"2\"")

            let v1 = try await c.send(.get, "/fhir/Patient/\(id)/_history/1")
            #expect(v1.status == 200)
            #expect(v1.json["gender"]?.stringValue == "female")
            let v2 = try await c.send(.get, "/fhir/Patient/\(id)/_history/2")
            #expect(v2.json["gender"]?.stringValue == "other")
            #expect(try await c.send(.get, "/fhir/Patient/\(id)/_history/9").status == 404)
            #expect(try await c.send(.get, "/fhir/Patient/\(id)/_history/x").status == 404)

            let del = try await c.send(.delete, "/fhir/Patient/\(id)")
            #expect(del.status == 200)
            let gone = try await c.send(.get, "/fhir/Patient/\(id)")
            #expect(gone.status == 410)
            #expect(gone.issueCodes == ["deleted"])
            #expect(try await c.send(.delete, "/fhir/Patient/\(id)").status == 200)  // idempotent

            let history = try await c.send(.get, "/fhir/Patient/\(id)/_history")
            #expect(history.status == 200)
            #expect(history.json["type"]?.stringValue == "history")
            let entries = history.json["entry"]?.arrayValue ?? []
            #expect(entries.map { $0["request"]?["method"]?.stringValue } == ["DELETE", "PUT", "POST"])
            #expect(entries[0]["resource"] == nil)
            #expect(history.json["total"] == .number("3"))
        }
    }

    @Test func updateAsCreateWithClientID() async throws {
        try await TestServer().run { c in
            let r = try await c.send(.put, "/fhir/Observation/glucosa-1", json: #"{"resourceType":"Observation","id":"glucosa-1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5.40,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}"#)
            #expect(r.status == 201)
            #expect(r.header("Location")?.hasSuffix("/fhir/Observation/glucosa-1/_history/1") == true)
            let read = try await c.send(.get, "/fhir/Observation/glucosa-1")
            // decimals keep their precision
            #expect(read.json["valueQuantity"]?["value"] == .number("5.40"))
            #expect(read.text.contains("\"value\":5.40"))
        }
    }

    @Test func ifMatchOptimisticLocking() async throws {
        try await TestServer().run { c in
            let id = try #require(try await c.send(.post, "/fhir/Patient", json: patient).json["id"]?.stringValue)
            let body = #"{"resourceType":"Patient","id":"\#(id)","active":true}"#
            #expect(try await c.send(.put, "/fhir/Patient/\(id)", json: body, headers: ["If-Match": "W/\"1\""]).status == 200)
            let stale = try await c.send(.put, "/fhir/Patient/\(id)", json: body, headers: ["If-Match": "W/\"1\""])
            #expect(stale.status == 412)
            #expect(stale.issueCodes == ["conflict"])
            #expect(try await c.send(.put, "/fhir/Patient/\(id)", json: body, headers: ["If-Match": "nonsense"]).status == 400)
            #expect(try await c.send(.delete, "/fhir/Patient/\(id)", headers: ["If-Match": "W/\"1\""]).status == 412)
            #expect(try await c.send(.get, "/fhir/Patient/\(id)").json["meta"]?["versionId"]?.stringValue == "2")
        }
    }

    @Test func conditionalCreateByIdentifier() async throws {
        try await TestServer().run { c in
            let cond = ["If-None-Exist": "identifier=http://www.renapo.gob.mx/curp|GOMC800101HDFRRR00"]
            let first = try await c.send(.post, "/fhir/Patient", json: patient, headers: cond)
            #expect(first.status == 201)
            let second = try await c.send(.post, "/fhir/Patient", json: patient, headers: cond)
            #expect(second.status == 200)
            #expect(second.json["id"] == first.json["id"])
            #expect(try await c.historyTotal() == 1)
            // two matches → 412 (the second, inactive: one active Patient per CURP)
            #expect(try await c.send(.post, "/fhir/Patient", json: inactivePatient).status == 201)
            #expect(try await c.send(.post, "/fhir/Patient", json: patient, headers: cond).status == 412)
            // system-less criterion and unsupported criterion
            #expect(try await c.send(.post, "/fhir/Patient", json: patient, headers: ["If-None-Exist": "identifier=GOMC800101HDFRRR00"]).status == 412)
            #expect(try await c.send(.post, "/fhir/Patient", json: patient, headers: ["If-None-Exist": "nombre=perez"]).status == 400)
            #expect(try await c.historyTotal() == 2)
        }
    }

    @Test func preferReturn() async throws {
        try await TestServer().run { c in
            let minimal = try await c.send(.post, "/fhir/Patient", json: patient, headers: ["Prefer": "return=minimal"])
            #expect(minimal.status == 201)
            #expect(minimal.bytes.isEmpty)
            #expect(minimal.header("Location") != nil)
            let oo = try await c.send(.post, "/fhir/Patient", json: inactivePatient, headers: ["Prefer": "return=OperationOutcome"])
            #expect(oo.json["resourceType"]?.stringValue == "OperationOutcome")
            #expect(oo.issueCodes == ["informational"])
            let rep = try await c.send(.post, "/fhir/Patient", json: inactivePatient, headers: ["Prefer": "return=representation"])
            #expect(rep.json["resourceType"]?.stringValue == "Patient")
        }
    }

    @Test func historyPagingStaysCorrectWhileDataChanges() async throws {
        try await TestServer().run { c in
            for i in 0..<5 {
                try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","id":"ignored","birthDate":"200\#(i)"}"#)
            }
            var seen: [String] = []
            var url: String? = "/fhir/Patient/_history?_count=2"
            var pages = 0
            while let u = url {
                let page = try await c.send(.get, u)
                #expect(page.status == 200)
                #expect(page.json["total"] != nil)
                seen += (page.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["birthDate"]?.stringValue }
                if pages == 0 {  // a write between pages must not shift the next page
                    try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","birthDate":"1999"}"#)
                }
                let next = page.json["link"]?.arrayValue?.first { $0["relation"]?.stringValue == "next" }?["url"]?.stringValue
                url = next.map { String($0[$0.range(of: "/fhir/")!.lowerBound...]) }
                pages += 1
            }
            #expect(seen == ["2004", "2003", "2002", "2001", "2000"])
            #expect(pages == 3)
            #expect(try await c.send(.get, "/fhir/Patient/_history?_since=2026-11-24T11:00:00Z").json["total"] == .number("6"))
            #expect(try await c.send(.get, "/fhir/Patient/_history?_since=2026-11-24T13:00:00Z").json["total"] == .number("0"))
            // every write got its Provenance
            #expect(try await c.provenanceTotal() == 6)
            #expect(try await c.send(.get, "/fhir/_history?_since=yesterday").status == 400)
            #expect(try await c.send(.get, "/fhir/_history?_count=-1").status == 400)
        }
    }

    @Test func capabilityStatementIsPublicAndComplete() async throws {
        try await TestServer().run { c in
            let r = try await c.send(.get, "/fhir/metadata", auth: false)
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("application/fhir+json") == true)
            let resources = r.json["rest"]?.arrayValue?.first?["resource"]?.arrayValue ?? []
            #expect(resources.count == 146)
            let params = resources.reduce(0) { $0 + ($1["searchParam"]?.arrayValue?.count ?? 0) }
            #expect(params > 1375)  // Resource/DomainResource parameters repeat on every type
            let patient = resources.first { $0["type"]?.stringValue == "Patient" }
            #expect(patient?["searchParam"]?.arrayValue?.contains { $0["name"]?.stringValue == "birthdate" } == true)
            #expect(r.json["fhirVersion"]?.stringValue == "4.0.1")
        }
    }
}
