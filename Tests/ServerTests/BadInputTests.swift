import FHIR
import Foundation
import Testing

@Suite("Bad input: precise 4xx OperationOutcomes, never a 500, nothing stored changes")
struct BadInputTests {
    @Test func everyBadRequestIsRefusedAndNothingChanges() async throws {
        try await TestServer().run { c in
            let seed = try await c.send(.put, "/fhir/Patient/p1", json: #"{"resourceType":"Patient","id":"p1","active":true}"#)
            #expect(seed.status == 201)
            let before = try await c.send(.get, "/fhir/Patient/p1")
            let total = try await c.historyTotal()

            func expectRefused(_ status: Int, _ method: HTTPRequestMethod, _ uri: String, _ body: [UInt8]?, headers: [String: String] = [:], code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let r = try await c.send(method.value, uri, body: body, headers: headers)
                #expect(r.status == status, "\(method.value.rawValue) \(uri): \(r.text.prefix(300))", sourceLocation: sourceLocation)
                #expect(r.json["resourceType"]?.stringValue == "OperationOutcome", sourceLocation: sourceLocation)
                if let code { #expect(r.issueCodes.contains(code), "\(r.issueCodes)", sourceLocation: sourceLocation) }
            }
            let b = { (s: String) in Array(s.utf8) }
            try await expectRefused(400, .post, "/fhir/Patient", b(#"{"resourceType":"Patient","#), code: "structure")
            try await expectRefused(400, .post, "/fhir/Patient", b(#"{"resourceType":"Patient","active":true,"active":false}"#), code: "structure")
            try await expectRefused(400, .post, "/fhir/Patient", [], code: "structure")
            try await expectRefused(400, .post, "/fhir/Patient", b("[1,2]"), code: "structure")
            try await expectRefused(400, .post, "/fhir/Patient", b(#"{"resourceType":"Observation","status":"final","code":{"text":"x"}}"#))
            try await expectRefused(400, .put, "/fhir/Patient/p1", b(#"{"resourceType":"Patient","id":"p2"}"#))
            try await expectRefused(400, .put, "/fhir/Patient/p1", b(#"{"resourceType":"Patient"}"#), code: "required")
            try await expectRefused(400, .put, "/fhir/Patient/a%20b", b(#"{"resourceType":"Patient","id":"a b"}"#))
            try await expectRefused(404, .post, "/fhir/Unicorn", b(#"{"resourceType":"Unicorn"}"#), code: "not-supported")
            try await expectRefused(404, .get, "/fhir/Unicorn/1", nil)
            try await expectRefused(404, .get, "/fhir/Patient/nope", nil, code: "not-found")
            try await expectRefused(404, .get, "/nowhere", nil)
            try await expectRefused(405, .patch, "/fhir/Patient/p1", b("{}"))
            try await expectRefused(405, .post, "/fhir/Patient/p1", b("{}"))
            try await expectRefused(415, .post, "/fhir/Patient", b("<Patient/>"), headers: ["Content-Type": "application/fhir+xml"], code: "not-supported")
            try await expectRefused(415, .post, "/fhir/Patient", b("x"), headers: ["Content-Type": "text/plain"])
            try await expectRefused(406, .get, "/fhir/Patient/p1", nil, headers: ["Accept": "application/fhir+xml"])
            try await expectRefused(406, .get, "/fhir/Patient/p1?_format=xml", nil)
            // invalid UTF-8 inside a string
            try await expectRefused(400, .post, "/fhir/Patient", b(#"{"resourceType":"Patient","name":[{"family":""#) + [0xC3, 0x28] + b(#""}]}"#), code: "structure")
            // 10,000-deep nesting
            let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
            try await expectRefused(400, .post, "/fhir/Patient", b(#"{"resourceType":"Patient","extension":"# + deep + "}"), code: "structure")
            // 20 MiB body
            let huge = b(#"{"resourceType":"Patient","name":[{"family":""#) + [UInt8](repeating: 0x61, count: 20 * 1024 * 1024) + b(#""}]}"#)
            try await expectRefused(413, .post, "/fhir/Patient", huge, code: "too-costly")

            #expect(try await c.historyTotal() == total)
            let after = try await c.send(.get, "/fhir/Patient/p1")
            #expect(after.bytes == before.bytes)
        }
    }

    @Test func methodNotAllowedSaysWhatIs() async throws {
        try await TestServer().run { c in
            let r = try await c.send(.delete, "/fhir/Patient")
            #expect(r.status == 405)
            #expect(r.header("Allow") == "GET, POST, PUT (conditional), DELETE (conditional)")
        }
    }
}

/// Lets the helper above take `.post` etc. without importing HTTPTypes in every test.
struct HTTPRequestMethod {
    let value: HTTPRequest.Method
    static let get = HTTPRequestMethod(value: .get)
    static let post = HTTPRequestMethod(value: .post)
    static let put = HTTPRequestMethod(value: .put)
    static let delete = HTTPRequestMethod(value: .delete)
    static let patch = HTTPRequestMethod(value: .patch)
}

import HTTPTypes

@Suite("Validation over HTTP: 422 naming every problem")
struct ValidationHTTPTests {
    @Test func invalidResourceListsEveryProblemWithItsLocation() async throws {
        try await TestServer().run { c in
            let bad = #"{"resourceType":"Observation","status":"finished","code":{"text":"glucosa"},"valueQuantity":{"value":"5.4"},"subject":{"reference":"Patient/p1"},"colour":"red","effectiveDateTime":"2026-13-01","component":[{"valueString":"x"}]}"#
            let r = try await c.send(.post, "/fhir/Observation", json: bad)
            #expect(r.status == 422)
            let locations = Set(r.locations)
            #expect(locations.contains("Observation.status"))          // code outside the required binding
            #expect(locations.contains("Observation.valueQuantity.value"))  // a string where a decimal belongs
            #expect(locations.contains("Observation.colour"))          // unknown element
            #expect(locations.contains("Observation.effectiveDateTime"))  // impossible month
            #expect(locations.contains("Observation.component[0].code"))  // missing required element
            #expect(r.issueCodes.contains("code-invalid"))
            #expect(r.issueCodes.contains("required"))
            #expect(r.issueCodes.count >= 5)
            #expect(try await c.historyTotal() == 0)
            // $validate reports the same problems with 200
            let v = try await c.send(.post, "/fhir/Observation/$validate", json: bad)
            #expect(v.status == 200)
            #expect(Set(v.locations) == locations)
            // instance-level $validate checks the id against the URL
            let inst = try await c.send(.post, "/fhir/Patient/p1/$validate", json: #"{"resourceType":"Patient","id":"p2"}"#)
            #expect(inst.locations.contains("Patient.id"))
        }
    }
}
