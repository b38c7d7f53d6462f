import FHIR
import Foundation
import Testing

/// The terminology operations over HTTP (docs/interop.md#terminology): routes, parameters and
/// OperationOutcomes; the logic itself is tested in Tests/InteropTests/TerminologyTests.swift.
@Suite("Terminology operations")
struct InteropTerminologyTests {
    @Test func operationsOverHTTP() async throws {
        let server = try TestServer()
        try await server.run { op in
            let icd = "http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10"
            let lookup = try await op.send(.get, "/fhir/CodeSystem/$lookup?system=\(icd)&code=E11.9")
            #expect(lookup.status == 200, "\(lookup.text)")
            #expect(lookup.json["resourceType"]?.stringValue == "Parameters")
            #expect(lookup.text.contains("Diabetes mellitus"))
            let expand = try await op.send(.get, "/fhir/ValueSet/$expand?url=\(icd)%3Ffhir_vs&filter=hipertensi%C3%B3n&count=5")
            #expect(expand.status == 200, "\(expand.text)")
            #expect(expand.text.contains("\"I10\""))
            #expect(Validator().validate(expand.json).filter { $0.severity == .error }.isEmpty)
            let plain = try await op.send(.get, "/fhir/ValueSet/$expand?url=\(icd)%3Ffhir_vs&filter=HIPERTENSION&count=5")
            #expect(plain.json["expansion"]?["contains"] == expand.json["expansion"]?["contains"])
            let sub = try await op.send(.get, "/fhir/CodeSystem/$subsumes?system=\(icd)&codeA=E11&codeB=E11.9")
            #expect(sub.text.contains("\"subsumes\""))
            let valid = try await op.send(.get, "/fhir/ValueSet/$validate-code?url=\(icd)%3Ffhir_vs%3Disa%2FE10-E14&code=I10")
            #expect(valid.status == 200 && valid.text.contains("\"valueBoolean\":false"))
            let csValid = try await op.send(.get, "/fhir/CodeSystem/$validate-code?url=\(icd)&code=I10")
            #expect(csValid.text.contains("\"valueBoolean\":true"))
            // errors: precise OperationOutcomes
            #expect(try await op.send(.get, "/fhir/CodeSystem/$lookup?system=\(icd)&code=NOPE").status == 404)
            #expect(try await op.send(.get, "/fhir/CodeSystem/$lookup?code=E11").issueCodes == ["required"])
            #expect(try await op.send(.get, "/fhir/ValueSet/$expand?url=\(icd)&count=-1").status == 400)
            #expect(try await op.send(.get, "/fhir/Patient/$expand?url=\(icd)").status == 404)
            #expect(try await op.send(.get, "/fhir/CodeSystem/$lookup?system=\(icd)&code=E11", auth: false).status == 401)
            // POST with a Parameters body (https://hl7.org/fhir/R4/operations.html#request)
            let raw = "http://hl7.org/fhir/sid/icd-10"
            let posted = try await op.send(.post, "/fhir/CodeSystem/$lookup", json: #"{"resourceType":"Parameters","parameter":[{"name":"coding","valueCoding":{"system":"\#(raw)","code":"E119"}}]}"#)
            #expect(posted.status == 200 && posted.text.contains("Diabetes mellitus"), "\(posted.text)")
            let postedValid = try await op.send(.post, "/fhir/ValueSet/$validate-code", json: #"{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"\#(raw)?fhir_vs=isa/E10-E14"},{"name":"codeableConcept","valueCodeableConcept":{"coding":[{"system":"\#(raw)","code":"I10"}]}}]}"#)
            #expect(postedValid.status == 200 && postedValid.text.contains("\"valueBoolean\":false"), "\(postedValid.text)")
            let postedExpand = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"\#(raw)?fhir_vs"},{"name":"filter","valueString":"COVID"},{"name":"count","valueInteger":5}]}"#)
            #expect(postedExpand.status == 200 && postedExpand.text.contains("\"U07.1\""), "\(postedExpand.text)")
            let postedSub = try await op.send(.post, "/fhir/CodeSystem/$subsumes", json: #"{"resourceType":"Parameters","parameter":[{"name":"codingA","valueCoding":{"system":"\#(raw)","code":"E11"}},{"name":"codingB","valueCoding":{"system":"\#(raw)","code":"E11.9"}}]}"#)
            #expect(postedSub.text.contains("\"subsumes\""), "\(postedSub.text)")
            let states = try await op.send(.post, "/fhir/CodeSystem/$lookup", json: #"{"resourceType":"Parameters","parameter":[{"name":"system","valueUri":"https://enlace.mx/fhir/CodeSystem/inegi-entidad-federativa"},{"name":"code","valueCode":"09"}]}"#)
            #expect(states.status == 200 && states.text.contains("Ciudad de México") && states.text.contains("\"DF\""), "\(states.text)")
            // a parameter both in the query and the body is repeated; a resource in the body is not served; not a Parameters
            #expect(try await op.send(.post, "/fhir/CodeSystem/$lookup?code=E11", json: #"{"resourceType":"Parameters","parameter":[{"name":"system","valueUri":"\#(raw)"},{"name":"code","valueCode":"E11"}]}"#).status == 400)
            let withResource = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":{"resourceType":"ValueSet","status":"active"}}]}"#)
            #expect(withResource.status == 400 && withResource.issueCodes == ["not-supported"], "\(withResource.text)")
            #expect(try await op.send(.post, "/fhir/CodeSystem/$lookup", json: #"{"resourceType":"Patient"}"#).issueCodes == ["invalid"])
            #expect(try await op.send(.post, "/fhir/CodeSystem/$lookup", json: "{nope").status == 400)
        }
    }
}
