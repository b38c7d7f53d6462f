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
        }
    }
}
