import FHIR
import Testing

/// Over HTTP, what the compact index and the canonical fix changed (docs/search.md,
/// docs/performance.md): a canonical found by the URL it holds, with or without `|version`, and
/// Observation's `combo-code` answered from the `code` and `component-code` rows.
@Suite("Search over HTTP: canonicals and combo parameters")
struct CanonicalSearchHTTPTests {
    @Test func canonicalsAndComboCodesAnswerAsDefined() async throws {
        let server = try TestServer()
        try await server.run { op in
            for (id, q) in [("qr1", "http://x.mx/fhir/Questionnaire/phq9"), ("qr2", "http://x.mx/fhir/Questionnaire/phq9|2.0"), ("qr3", "http://x.mx/fhir/Questionnaire/gad7")] {
                let body = #"{"resourceType":"QuestionnaireResponse","id":"\#(id)","status":"completed","questionnaire":"\#(q)"}"#
                #expect(try await op.send(.put, "/fhir/QuestionnaireResponse/\(id)", json: body).status == 201)
            }
            func ids(_ path: String) async throws -> [String] {
                let r = try await op.send(.get, path)
                #expect(r.status == 200, "\(path): \(r.text.prefix(300))")
                return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue }.sorted()
            }
            #expect(try await ids("/fhir/QuestionnaireResponse?questionnaire=http://x.mx/fhir/Questionnaire/phq9") == ["qr1", "qr2"])
            #expect(try await ids("/fhir/QuestionnaireResponse?questionnaire=http://x.mx/fhir/Questionnaire/phq9%7C2.0") == ["qr2"])
            let panel = #"{"resourceType":"Observation","id":"bp","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":150,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}"#
            let top = #"{"resourceType":"Observation","id":"sys","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}"#
            #expect(try await op.send(.put, "/fhir/Observation/bp", json: panel).status == 201)
            #expect(try await op.send(.put, "/fhir/Observation/sys", json: top).status == 201)
            #expect(try await ids("/fhir/Observation?combo-code=http://loinc.org%7C8480-6") == ["bp", "sys"])
            #expect(try await ids("/fhir/Observation?combo-code-value-quantity=8480-6$gt140") == ["bp"])
            #expect(try await ids("/fhir/Observation?code=8480-6") == ["sys"])
            // a malformed composite is a precise 400, not an empty answer
            let bad = try await op.send(.get, "/fhir/Observation?combo-code-value-quantity=8480-6")
            #expect(bad.status == 400 && bad.json["resourceType"]?.stringValue == "OperationOutcome")
        }
    }
}
