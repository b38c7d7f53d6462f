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
            let withResource = try await op.send(.post, "/fhir/CodeSystem/$lookup", json: #"{"resourceType":"Parameters","parameter":[{"name":"codeSystem","resource":{"resourceType":"CodeSystem","status":"active","content":"complete"}}]}"#)
            #expect(withResource.status == 400 && withResource.issueCodes == ["not-supported"], "\(withResource.text)")
            #expect(try await op.send(.post, "/fhir/CodeSystem/$lookup", json: #"{"resourceType":"Patient"}"#).issueCodes == ["invalid"])
            #expect(try await op.send(.post, "/fhir/CodeSystem/$lookup", json: "{nope").status == 400)
        }
    }

    /// Stored CodeSystem and ValueSet resources are served like the shipped systems: by url, by
    /// instance, inline in a POST, and read through the caller's guard.
    @Test func storedCodeSystemsAndValueSets() async throws {
        let server = try TestServer()
        let patient = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/ana", patient: "ana", scope: "patient/Observation.rs")
        try await server.run { op in
            let cs = #"{"resourceType":"CodeSystem","id":"triage","url":"https://example.org/cs/triage","version":"2","name":"Triage","status":"active","content":"complete","concept":[{"code":"1","display":"Reanimación"},{"code":"2","display":"Emergencia","concept":[{"code":"2a","display":"Emergencia pediátrica"}]}]}"#
            #expect(try await op.send(.put, "/fhir/CodeSystem/triage", json: cs).status == 201)
            let vs = #"{"resourceType":"ValueSet","id":"urgencias","url":"https://example.org/vs/urgencias","status":"active","compose":{"include":[{"system":"https://example.org/cs/triage","filter":[{"property":"concept","op":"is-a","value":"2"}]},{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"I10"}]}],"exclude":[{"system":"https://example.org/cs/triage","concept":[{"code":"2"}]}]}}"#
            #expect(try await op.send(.put, "/fhir/ValueSet/urgencias", json: vs).status == 201)
            func codes(_ r: Client.Reply) -> [String] { (r.json["expansion"]?["contains"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue } }
            let byURL = try await op.send(.get, "/fhir/ValueSet/$expand?url=https%3A%2F%2Fexample.org%2Fvs%2Furgencias")
            #expect(byURL.status == 200 && codes(byURL) == ["2a", "I10"], "\(byURL.text)")
            #expect(Validator().validate(byURL.json).filter { $0.severity == .error }.isEmpty, "\(byURL.text)")
            #expect(byURL.text.contains("https://example.org/cs/triage|2"), "used-codesystem: \(byURL.text)")
            let byInstance = try await op.send(.get, "/fhir/ValueSet/urgencias/$expand?filter=pediatrica")
            #expect(byInstance.status == 200 && codes(byInstance) == ["2a"], "\(byInstance.text)")
            let inline = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":\#(vs)},{"name":"count","valueInteger":1}]}"#)
            #expect(inline.status == 200 && codes(inline) == ["2a"] && inline.json["expansion"]?["total"] == .number("2"), "\(inline.text)")
            let member = try await op.send(.get, "/fhir/ValueSet/$validate-code?url=https%3A%2F%2Fexample.org%2Fvs%2Furgencias&code=I10")
            #expect(member.text.contains("\"valueBoolean\":true"), "\(member.text)")
            let excluded = try await op.send(.get, "/fhir/ValueSet/urgencias/$validate-code?code=2&system=https%3A%2F%2Fexample.org%2Fcs%2Ftriage")
            #expect(excluded.status == 200 && excluded.text.contains("\"valueBoolean\":false"), "\(excluded.text)")
            // the stored CodeSystem: $lookup, $subsumes, $validate-code by url and by instance
            let lookup = try await op.send(.get, "/fhir/CodeSystem/$lookup?system=https%3A%2F%2Fexample.org%2Fcs%2Ftriage&code=2a")
            #expect(lookup.status == 200 && lookup.text.contains("Emergencia pediátrica"), "\(lookup.text)")
            #expect(try await op.send(.get, "/fhir/CodeSystem/$subsumes?system=https%3A%2F%2Fexample.org%2Fcs%2Ftriage&codeA=2&codeB=2a").text.contains("\"subsumes\""))
            #expect(try await op.send(.get, "/fhir/CodeSystem/triage/$validate-code?code=2a").text.contains("\"valueBoolean\":true"))
            #expect(try await op.send(.get, "/fhir/CodeSystem/triage/$validate-code?code=9").text.contains("\"valueBoolean\":false"))
            // two stored ValueSets with one url: the most recently updated answers (the older one by id, as an instance)
            server.clock.advance(seconds: 60)
            let newer = #"{"resourceType":"ValueSet","id":"urgencias-2","url":"https://example.org/vs/urgencias","status":"active","compose":{"include":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"J45.9"}]}]}}"#
            #expect(try await op.send(.put, "/fhir/ValueSet/urgencias-2", json: newer).status == 201)
            #expect(codes(try await op.send(.get, "/fhir/ValueSet/$expand?url=https%3A%2F%2Fexample.org%2Fvs%2Furgencias")) == ["J45.9"])
            #expect(codes(try await op.send(.get, "/fhir/ValueSet/urgencias/$expand")) == ["2a", "I10"])
            // errors: an unknown value set, a missing instance, an inline resource of another type or invalid, both instance and inline
            let unknown = try await op.send(.get, "/fhir/ValueSet/$expand?url=https%3A%2F%2Fexample.org%2Fvs%2Fnadie")
            #expect(unknown.status == 404 && unknown.text.contains("nadie"), "\(unknown.text)")
            #expect(try await op.send(.get, "/fhir/ValueSet/nadie/$expand").status == 404)
            let wrongType = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":{"resourceType":"Patient"}}]}"#)
            #expect(wrongType.status == 400 && wrongType.locations == ["Parameters.parameter[0].resource"], "\(wrongType.text)")
            let invalid = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":{"resourceType":"ValueSet","status":"bogus","compose":{"include":[{"system":"https://example.org/cs/triage"}]}}}]}"#)
            #expect(invalid.status == 422, "\(invalid.text)")
            let badFilter = try await op.send(.post, "/fhir/ValueSet/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":{"resourceType":"ValueSet","status":"active","compose":{"include":[{"system":"https://example.org/cs/triage","filter":[{"property":"concept","op":"regex","value":".*"}]}]}}}]}"#)
            #expect(badFilter.status == 422 && badFilter.issueCodes == ["not-supported"] && badFilter.locations == ["ValueSet.compose.include[0].filter[0].op"], "\(badFilter.text)")
            #expect(try await op.send(.post, "/fhir/ValueSet/urgencias/$expand", json: #"{"resourceType":"Parameters","parameter":[{"name":"valueSet","resource":\#(vs)}]}"#).status == 400)
            // through the guard: a patient's app without ValueSet scopes is not shown the stored ones
            let guarded = try await op.client.execute(uri: "/fhir/ValueSet/$expand?url=https%3A%2F%2Fexample.org%2Fvs%2Furgencias", method: .get,
                                                      headers: [.authorization: "Bearer \(patient)"]) { Int($0.status.code) }
            #expect(guarded == 403, "\(guarded)")
            let shipped = try await op.client.execute(uri: "/fhir/CodeSystem/$lookup?system=http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10&code=I10", method: .get,
                                                      headers: [.authorization: "Bearer \(patient)"]) { Int($0.status.code) }
            #expect(shipped == 200)
        }
    }

    /// `:in` / `:not-in` take a stored ValueSet's url (docs/search.md, *Terminology modifiers*).
    @Test func searchByAStoredValueSet() async throws {
        let server = try TestServer()
        try await server.run { op in
            #expect(try await op.send(.put, "/fhir/Patient/p1", json: #"{"resourceType":"Patient","id":"p1"}"#).status == 201)
            for (id, code) in [("c1", "E11.9"), ("c2", "I10"), ("c3", "J45.9"), ("c4", "E11.0")] {
                let c = #"{"resourceType":"Condition","id":"\#(id)","subject":{"reference":"Patient/p1"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"\#(code)"}]}}"#
                #expect(try await op.send(.put, "/fhir/Condition/\(id)", json: c).status == 201)
            }
            let vs = #"{"resourceType":"ValueSet","id":"cardiometabolico","url":"https://example.org/vs/cardiometabolico","status":"active","compose":{"include":[{"system":"http://hl7.org/fhir/sid/icd-10","filter":[{"property":"concept","op":"is-a","value":"E11"}]},{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"I10"}]}],"exclude":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"E11.0"}]}]}}"#
            #expect(try await op.send(.put, "/fhir/ValueSet/cardiometabolico", json: vs).status == 201)
            let empty = #"{"resourceType":"ValueSet","id":"vacio","url":"https://example.org/vs/vacio","status":"active","compose":{"include":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"I10"}]}],"exclude":[{"system":"http://hl7.org/fhir/sid/icd-10","concept":[{"code":"I10"}]}]}}"#
            #expect(try await op.send(.put, "/fhir/ValueSet/vacio", json: empty).status == 201)
            func ids(_ query: String) async throws -> [String] {
                let r = try await op.send(.get, "/fhir/Condition?" + query)
                #expect(r.status == 200, "\(query): \(r.text)")
                return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue }.sorted()
            }
            let url = "https%3A%2F%2Fexample.org%2Fvs%2Fcardiometabolico"
            #expect(try await ids("code:in=\(url)") == ["c1", "c2"])
            #expect(try await ids("code:not-in=\(url)") == ["c3", "c4"])
            #expect(try await ids("code:in=\(url),http%3A%2F%2Fhl7.org%2Ffhir%2Fsid%2Ficd-10%3Ffhir_vs%3Disa%2FJ45") == ["c1", "c2", "c3"])
            #expect(try await ids("code:in=https%3A%2F%2Fexample.org%2Fvs%2Fvacio") == [])
            #expect(try await ids("code:not-in=https%3A%2F%2Fexample.org%2Fvs%2Fvacio") == ["c1", "c2", "c3", "c4"])
            #expect(try await ids("subject=Patient/p1&code:in=\(url)&_summary=count").isEmpty)
            let unknown = try await op.send(.get, "/fhir/Condition?code:in=https%3A%2F%2Fexample.org%2Fvs%2Fnadie")
            #expect(unknown.status == 400 && unknown.issueCodes == ["not-supported"], "\(unknown.text)")
        }
    }
}
