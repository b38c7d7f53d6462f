import Testing
@testable import FHIR

/// Parses a JSON resource written in a test.
private func resource(_ text: String) throws -> JSON { try JSONParser.parse(text) }

/// Evaluates `expression` on `json`.
private func eval(_ expression: String, _ json: JSON) throws -> [FHIRPathNode] {
    try FHIRPathExpression(expression).evaluate(json)
}

private func strings(_ nodes: [FHIRPathNode]) -> [String] { nodes.compactMap(\.value.stringValue) }
private func types(_ nodes: [FHIRPathNode]) -> [String] { nodes.map(\.type) }
private func bools(_ nodes: [FHIRPathNode]) -> [Bool] { nodes.compactMap(\.value.boolValue) }

private func searchParameter(_ id: String) -> SearchParameterDefinition {
    Definitions.r4.searchParameters.first { $0.url == "http://hl7.org/fhir/SearchParameter/" + id }!
}

/// The concrete resource types a search parameter applies to.
private func concreteBases(_ p: SearchParameterDefinition) -> [String] {
    let defs = Definitions.r4
    return p.base.flatMap { base -> [String] in
        if base == "Resource" { return defs.resourceTypes }
        if base == "DomainResource" { return defs.resourceTypes.filter { defs.types[$0]?.base == "DomainResource" } }
        return [base]
    }
}

@Suite struct FHIRPathTests {
    // MARK: Parsing

    @Test func everySearchParameterExpressionParses() {
        var count = 0
        var failures: [String] = []
        for p in Definitions.r4.searchParameters {
            var texts = p.component.map(\.expression)
            if let e = p.expression { texts.append(e) }
            for text in texts {
                count += 1
                do { _ = try FHIRPathExpression(text) } catch { failures.append("\(p.url): \(text) — \(error)") }
            }
        }
        for f in failures { print("FHIRPath parse failure: \(f)") }
        print("FHIRPath: parsed \(count) search parameter expressions, \(failures.count) failures")
        #expect(Definitions.r4.searchParameters.count == 1375)
        #expect(Definitions.r4.searchParameters.compactMap(\.expression).count == 1372)  // 3 have none
        #expect(count > 1372)
        #expect(failures.isEmpty)
    }

    @Test(arguments: [
        "", "Patient.", "Patient.name.", "Patient.(", "(Patient.name", "Patient.name[0",
        "Patient.name.frobnicate()", "where(", "'unterminated", "Patient.name = ", "Patient.name is",
        "Patient.name.where()", "Patient.name.first(1)", "Patient.name + 1", "%unknownVariable", "Patient # x",
        "Patient.name.as()", "4 'mg'", "`unterminated", "/* open comment", "$index",
    ])
    func parseErrorsThrow(_ text: String) {
        #expect(throws: FHIRPathError.self) { try FHIRPathExpression(text) }
    }

    @Test func deepExpressionsAreRejectedNotCrashing() throws {
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        #expect(throws: FHIRPathError.self) { try FHIRPathExpression(deep) }
        #expect(throws: FHIRPathError.self) { try FHIRPathExpression(String(repeating: "-", count: 5000) + "1") }
        let long = "Patient" + String(repeating: ".name", count: 5000)
        #expect(throws: FHIRPathError.self) { try FHIRPathExpression(long) }
        let unions = Array(repeating: "Patient.name", count: 5000).joined(separator: " | ")
        #expect(throws: FHIRPathError.self) { try FHIRPathExpression(unions) }
        // Reasonable nesting is fine.
        let p = try resource(#"{"resourceType":"Patient","active":true}"#)
        let ok = String(repeating: "(", count: 50) + "Patient.active" + String(repeating: ")", count: 50)
        #expect(bools(try eval(ok, p)) == [true])
    }

    @Test func parseErrorHasAMessage() {
        do {
            _ = try FHIRPathExpression("Patient.name.frobnicate()")
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("frobnicate"))
        }
    }

    @Test func lexicalDetails() throws {
        let p = try resource(#"{"resourceType":"Patient","name":[{"family":"O'Hara"}]}"#)
        #expect(bools(try eval(#"Patient.name.family = 'O\'Hara'"#, p)) == [true])
        #expect(strings(try eval("Patient.`name`.family // a comment", p)) == ["O'Hara"])
        #expect(strings(try eval("Patient /* c */ .name.family", p)) == ["O'Hara"])
        #expect(try eval("{}", p).isEmpty)
    }

    // MARK: Navigation and types

    @Test func patientNameFamily() throws {
        let p = try resource(#"""
        {"resourceType":"Patient","id":"1","name":[{"family":"Chalmers","given":["Peter","James"]},
         {"use":"maiden","family":"Windsor"}],"gender":"male"}
        """#)
        let r = try eval("Patient.name.family", p)
        #expect(strings(r) == ["Chalmers", "Windsor"])
        #expect(types(r) == ["string", "string"])
        #expect(strings(try eval("Patient.name.given", p)) == ["Peter", "James"])
        #expect(types(try eval("Patient.name", p)) == ["HumanName", "HumanName"])
        #expect(types(try eval("Patient.gender", p)) == ["code"])
        #expect(strings(try eval("name.where(use = 'maiden').family", p)) == ["Windsor"])
        // A resource type other than the focus' yields empty.
        let o = try resource(#"{"resourceType":"Observation","status":"final"}"#)
        #expect(try eval("Patient.name.family", o).isEmpty)
        #expect(strings(try eval("Observation.status", o)) == ["final"])
        // Supertypes as first step.
        #expect(strings(try eval("Resource.id", p)) == ["1"])
        #expect(strings(try eval("DomainResource.id", p)) == ["1"])
    }

    @Test func unknownPathsYieldEmpty() throws {
        let p = try resource(#"{"resourceType":"Patient","name":[{"family":"X"}]}"#)
        #expect(try eval("Patient.foo", p).isEmpty)
        #expect(try eval("Patient.name.foo", p).isEmpty)
        #expect(try eval("Patient.name.family.foo", p).isEmpty)
        #expect(try eval("Patient.birthDate", p).isEmpty)
        #expect(try eval("Patient.value", p).isEmpty)
        #expect(try eval("Observation.name", p).isEmpty)
        #expect(try eval("Foo.name", p).isEmpty)
        // A member the definitions do not know is still found, with an unknown type.
        let odd = try resource(#"{"resourceType":"Patient","foo":"bar"}"#)
        #expect(types(try eval("Patient.foo", odd)) == [""])
    }

    @Test func choiceTypesGiveTheirConcreteType() throws {
        let a = try resource(#"{"resourceType":"Observation","effectiveDateTime":"2020-01-01T10:00:00Z"}"#)
        let b = try resource(#"{"resourceType":"Observation","effectivePeriod":{"start":"2020-01-01"}}"#)
        let c = try resource(#"{"resourceType":"Observation","effectiveInstant":"2020-01-01T10:00:00Z"}"#)
        #expect(types(try eval("Observation.effective", a)) == ["dateTime"])
        #expect(strings(try eval("Observation.effective", a)) == ["2020-01-01T10:00:00Z"])
        #expect(types(try eval("Observation.effective", b)) == ["Period"])
        #expect(strings(try eval("Observation.effective.start", b)) == ["2020-01-01"])
        #expect(types(try eval("Observation.effective", c)) == ["instant"])
        #expect(try eval("Observation.effective", try resource(#"{"resourceType":"Observation"}"#)).isEmpty)
        // The concrete name works too.
        #expect(types(try eval("Observation.effectivePeriod", b)) == ["Period"])
        // Not a prefix match on other members: valueString is not `value` of a Patient.
        let e = try resource(#"{"resourceType":"Observation","effectiveTiming":{"event":["2020"]}}"#)
        #expect(types(try eval("Observation.effective", e)) == ["Timing"])
    }

    @Test func observationValueAsQuantity() throws {
        let q = try resource(#"""
        {"resourceType":"Observation","status":"final","code":{"text":"w"},
         "valueQuantity":{"value":72.5,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}
        """#)
        let cc = try resource(#"{"resourceType":"Observation","valueCodeableConcept":{"text":"positive"}}"#)
        for text in ["Observation.value as Quantity", "(Observation.value as Quantity)", "Observation.value.as(Quantity)",
                     "Observation.value.ofType(Quantity)", "Observation.value as FHIR.Quantity"] {
            let r = try eval(text, q)
            #expect(types(r) == ["Quantity"], "\(text)")
            #expect(r.first?.value["unit"] == .string("kg"))
            #expect(try eval(text, cc).isEmpty, "\(text)")
        }
        #expect(types(try eval("Observation.value", q)) == ["Quantity"])
        #expect(try eval("Observation.value.value", q).first?.value == .number("72.5"))
        #expect(types(try eval("Observation.value.value", q)) == ["decimal"])
        #expect(bools(try eval("Observation.value is Quantity", q)) == [true])
        #expect(bools(try eval("Observation.value.is(CodeableConcept)", q)) == [false])
        #expect(bools(try eval("Observation.value is CodeableConcept", cc)) == [true])
        let s = try resource(#"{"resourceType":"Observation","valueString":"high"}"#)
        #expect(strings(try eval("(Observation.value as string) | (Observation.value as CodeableConcept).text", s)) == ["high"])
        #expect(strings(try eval("(Observation.value as string) | (Observation.value as CodeableConcept).text", cc)) == ["positive"])
        #expect(bools(try eval("Observation.value is System.String", s)) == [true])
    }

    @Test func conditionOnsetAgeOrRange() throws {
        let expr = try FHIRPathExpression("Condition.onset.as(Age) | Condition.onset.as(Range)")
        let age = try resource(#"{"resourceType":"Condition","onsetAge":{"value":52,"unit":"a","system":"http://unitsofmeasure.org","code":"a"}}"#)
        let range = try resource(#"{"resourceType":"Condition","onsetRange":{"low":{"value":50},"high":{"value":60}}}"#)
        let date = try resource(#"{"resourceType":"Condition","onsetDateTime":"2020-01-01"}"#)
        #expect(types(expr.evaluate(age)) == ["Age"])
        #expect(expr.evaluate(age).first?.value["value"] == .number("52"))
        #expect(types(expr.evaluate(range)) == ["Range"])
        #expect(types(try eval("Condition.onset.as(Range).low", range)) == ["Quantity"])
        #expect(expr.evaluate(date).isEmpty)
        // An Age is a Quantity.
        #expect(types(try eval("Condition.onset.as(Quantity)", age)) == ["Age"])
        #expect(types(try eval("Condition.onset.as(dateTime) | Condition.onset.as(Period)", date)) == ["dateTime"])
    }

    @Test func patientDeceased() throws {
        let expr = try FHIRPathExpression("Patient.deceased.exists() and Patient.deceased != false")
        func run(_ member: String) throws -> [Bool] {
            bools(expr.evaluate(try resource(#"{"resourceType":"Patient"\#(member)}"#)))
        }
        #expect(try run(#","deceasedBoolean":true"#) == [true])
        #expect(try run(#","deceasedBoolean":false"#) == [false])
        #expect(try run(#","deceasedDateTime":"2020-01-01""#) == [true])
        #expect(try run("") == [false])
    }

    @Test func bundleFirstEntryResource() throws {
        let b = try resource(#"""
        {"resourceType":"Bundle","type":"document","entry":[
          {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Composition","id":"c","title":"T"}},
          {"fullUrl":"urn:uuid:2","resource":{"resourceType":"Patient","id":"p"}}]}
        """#)
        let r = try eval("Bundle.entry[0].resource", b)
        #expect(types(r) == ["Composition"])
        #expect(r.first?.value["id"] == .string("c"))
        #expect(types(try eval("Bundle.entry[1].resource", b)) == ["Patient"])
        #expect(try eval("Bundle.entry[2].resource", b).isEmpty)
        #expect(strings(try eval("Bundle.entry[0].resource.title", b)) == ["T"])
        #expect(types(try eval("Bundle.entry.resource.ofType(Patient)", b)) == ["Patient"])
        #expect(types(try eval("Bundle.entry", b)) == ["BackboneElement", "BackboneElement"])
        #expect(types(try eval("Bundle.entry.fullUrl", b)) == ["uri", "uri"])
        // `.as()` after an indexer.
        #expect(types(try eval("Bundle.entry[0].resource.as(Composition)", b)) == ["Composition"])
        #expect(try eval("Bundle.entry[0].resource.as(Patient)", b).isEmpty)
        #expect(types(try eval("Bundle.entry.resource[1].as(Patient)", b)) == ["Patient"])
    }

    @Test func backboneElements() throws {
        let o = try resource(#"""
        {"resourceType":"Observation","status":"final","code":{"text":"bp"},"component":[
          {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":120}},
          {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":80}}]}
        """#)
        let codes = try eval("Observation.component.code", o)
        #expect(types(codes) == ["CodeableConcept", "CodeableConcept"])
        #expect(strings(try eval("Observation.component.code.coding.code", o)) == ["8480-6", "8462-4"])
        #expect(types(try eval("Observation.component.code.coding", o)) == ["Coding", "Coding"])
        #expect(types(try eval("Observation.component.value", o)) == ["Quantity", "Quantity"])
        #expect(types(try eval("(Observation.component.value as Quantity)", o)) == ["Quantity", "Quantity"])
        #expect(try eval("Observation.component[1].value.value", o).first?.value == .number("80"))
        #expect(try eval("Observation.component.code.text", o).isEmpty)

        let a = try resource(#"""
        {"resourceType":"ActivityDefinition","status":"active","useContext":[
          {"code":{"system":"http://terminology.hl7.org/CodeSystem/usage-context-type","code":"focus"},
           "valueCodeableConcept":{"text":"x"}},
          {"code":{"code":"age"},"valueRange":{"low":{"value":18}}}]}
        """#)
        let uc = try eval("ActivityDefinition.useContext.code", a)
        #expect(types(uc) == ["Coding", "Coding"])
        #expect(uc.first?.value["code"] == .string("focus"))
        #expect(types(try eval("ActivityDefinition.useContext.value", a)) == ["CodeableConcept", "Range"])
        #expect(types(try eval("(ActivityDefinition.useContext.value as Quantity) | (ActivityDefinition.useContext.value as Range)", a)) == ["Range"])
    }

    @Test func questionnaireResponseItems() throws {
        let q = try resource(#"""
        {"resourceType":"QuestionnaireResponse","status":"completed","item":[
          {"linkId":"1","text":"Group","item":[
            {"linkId":"1.1","answer":[{"valueString":"yes"},{"valueInteger":3}]}]},
          {"linkId":"2","answer":[{"valueBoolean":true}]}]}
        """#)
        // hasValue() is about primitives: an item (a BackboneElement) has no value.
        #expect(try eval("QuestionnaireResponse.item.where(hasValue())", q).isEmpty)
        #expect(strings(try eval("QuestionnaireResponse.item.linkId.where(hasValue())", q)) == ["1", "2"])
        #expect(bools(try eval("QuestionnaireResponse.item.linkId.first().hasValue()", q)) == [true])
        #expect(types(try eval("QuestionnaireResponse.item", q)) == ["BackboneElement", "BackboneElement"])
        // item.item is a content reference to item.
        #expect(strings(try eval("QuestionnaireResponse.item.item.linkId", q)) == ["1.1"])
        #expect(types(try eval("QuestionnaireResponse.item.item.answer.value", q)) == ["string", "integer"])
        #expect(types(try eval("QuestionnaireResponse.item.answer.value", q)) == ["boolean"])
        #expect(strings(try eval("QuestionnaireResponse.item.descendants().ofType(string)", q)).sorted() == ["1", "1.1", "2", "Group", "yes"])
        #expect(types(try eval("QuestionnaireResponse.item.children().ofType(BackboneElement)", q)).count == 2)  // item.item, item.answer
    }

    @Test func extensionsByURL() throws {
        let p = try resource(#"""
        {"resourceType":"Patient","extension":[
          {"url":"http://example.org/x","valueString":"hello"},
          {"url":"http://example.org/y","valueCodeableConcept":{"text":"c"}},
          {"url":"http://example.org/nested","extension":[{"url":"inner","valueBoolean":true}]}],
         "name":[{"family":"F","extension":[{"url":"http://example.org/x","valueInteger":7}]}]}
        """#)
        let r = try eval("Patient.extension('http://example.org/x').value", p)
        #expect(strings(r) == ["hello"])
        #expect(types(r) == ["string"])
        #expect(types(try eval("Patient.extension('http://example.org/y').value", p)) == ["CodeableConcept"])
        #expect(try eval("Patient.extension('http://example.org/none').value", p).isEmpty)
        #expect(types(try eval("Patient.extension('http://example.org/x')", p)) == ["Extension"])
        #expect(bools(try eval("Patient.extension('http://example.org/nested').extension('inner').value", p)) == [true])
        #expect(types(try eval("Patient.name.extension('http://example.org/x').value", p)) == ["integer"])
        #expect(types(try eval("Patient.extension.where(url = 'http://example.org/x').value", p)) == ["string"])
    }

    @Test func evaluationOnANode() throws {
        // Constraint profiles keep the paths of their base type.
        let q = FHIRPathNode(value: try resource(#"{"value":3,"unit":"mg"}"#), type: "SimpleQuantity")
        let r = try FHIRPathExpression("unit").evaluate(q, resource: .object([]))
        #expect(strings(r) == ["mg"])
        #expect(types(r) == ["string"])
        #expect(try FHIRPathExpression("value").evaluate(q, resource: .object([])).first?.type == "decimal")
        let unknown = FHIRPathNode(value: try resource(#"{"a":[1,null,2]}"#), type: "")
        #expect(try FHIRPathExpression("a").evaluate(unknown, resource: .object([])).count == 2)
    }

    // MARK: resolve()

    @Test func resolveIsPatient() throws {
        let expr = try FHIRPathExpression("Observation.subject.where(resolve() is Patient)")
        func subject(_ reference: String) throws -> [FHIRPathNode] {
            expr.evaluate(try resource(#"{"resourceType":"Observation","subject":{"reference":"\#(reference)"}}"#))
        }
        let r = try subject("Patient/123")
        #expect(types(r) == ["Reference"])
        #expect(r.first?.value["reference"] == .string("Patient/123"))
        #expect(types(try subject("http://example.org/fhir/Patient/123")) == ["Reference"])
        #expect(types(try subject("Patient/123/_history/2")) == ["Reference"])
        #expect(try subject("Group/1").isEmpty)
        #expect(try subject("http://example.org/fhir/Group/1").isEmpty)
        #expect(try subject("Patient").isEmpty)
        #expect(try subject("urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0").isEmpty)
        #expect(try eval("Observation.subject.where(resolve() is Patient)", resource(#"{"resourceType":"Observation"}"#)).isEmpty)
        // Reference.type when there is no literal reference.
        let typed = try resource(#"{"resourceType":"Observation","subject":{"type":"Patient","identifier":{"value":"x"}}}"#)
        #expect(types(expr.evaluate(typed)) == ["Reference"])
        // A contained resource.
        let contained = try resource(#"""
        {"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p1"}],"subject":{"reference":"#p1"}}
        """#)
        #expect(types(expr.evaluate(contained)) == ["Reference"])
        #expect(types(try eval("Observation.subject.resolve()", contained)) == ["Patient"])
        #expect(try eval("Observation.subject.resolve().id", contained).isEmpty)
        #expect(types(try eval("Observation.contained", contained)) == ["Patient"])
    }

    @Test func encounterParticipantPractitioner() throws {
        let e = try resource(#"""
        {"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},"participant":[
          {"individual":{"reference":"Practitioner/a"}},
          {"individual":{"reference":"RelatedPerson/b"}},
          {"individual":{"reference":"https://ehr.example/fhir/Practitioner/c"}},
          {"type":[{"text":"no individual"}]}]}
        """#)
        let r = try eval("Encounter.participant.individual.where(resolve() is Practitioner)", e)
        #expect(r.compactMap { $0.value["reference"]?.stringValue } == ["Practitioner/a", "https://ehr.example/fhir/Practitioner/c"])
        #expect(types(r) == ["Reference", "Reference"])
    }

    // MARK: Operators and functions

    @Test func operatorsAndFunctions() throws {
        let p = try resource(#"""
        {"resourceType":"Patient","active":true,"telecom":[{"system":"phone","value":"1"},
         {"system":"email","value":"a@b"},{"system":"phone","value":"2"}],"multipleBirthInteger":2}
        """#)
        #expect(strings(try eval("Patient.telecom.where(system='phone').value", p)) == ["1", "2"])
        #expect(strings(try eval("Patient.telecom.where(system='phone').value.first()", p)) == ["1"])
        #expect(strings(try eval("Patient.telecom.where(system='phone').value.last()", p)) == ["2"])
        #expect(strings(try eval("Patient.telecom.value.tail()", p)) == ["a@b", "2"])
        #expect(strings(try eval("Patient.telecom.value.skip(1).take(1)", p)) == ["a@b"])
        #expect(try eval("Patient.telecom.count()", p).first?.value == .number("3"))
        #expect(strings(try eval("Patient.telecom.system.distinct()", p)) == ["phone", "email"])
        #expect(strings(try eval("Patient.telecom.system | Patient.telecom.system", p)) == ["phone", "email"])
        let many = Array(repeating: "Patient.telecom.value", count: 5).joined(separator: " | ")
        #expect(strings(try eval(many, p)) == ["1", "a@b", "2"])
        #expect(try eval(Array(repeating: "Patient.telecom", count: 4).joined(separator: " | "), p).count == 3)
        #expect(bools(try eval("Patient.active implies Patient.name.exists()", p)) == [false])
        #expect(strings(try eval("Patient.telecom.select(value)", p)) == ["1", "a@b", "2"])
        #expect(bools(try eval("Patient.telecom.exists()", p)) == [true])
        #expect(bools(try eval("Patient.telecom.exists(system = 'email')", p)) == [true])
        #expect(bools(try eval("Patient.telecom.all(value.exists())", p)) == [true])
        #expect(bools(try eval("Patient.name.exists()", p)) == [false])
        #expect(bools(try eval("Patient.name.empty()", p)) == [true])
        #expect(bools(try eval("Patient.active.not()", p)) == [false])
        #expect(bools(try eval("Patient.active = true", p)) == [true])
        #expect(bools(try eval("Patient.active != true", p)) == [false])
        #expect(try eval("Patient.name.family = 'x'", p).isEmpty)
        #expect(bools(try eval("Patient.active and Patient.name.exists()", p)) == [false])
        #expect(bools(try eval("Patient.active or Patient.name.exists()", p)) == [true])
        #expect(try eval("Patient.active and Patient.gender.exists().not().not() and {}", p).isEmpty == false)
        #expect(bools(try eval("Patient.active and {}", p)) == [])
        #expect(bools(try eval("false and {}", p)) == [false])
        #expect(bools(try eval("true or {}", p)) == [true])
        #expect(bools(try eval("true xor false", p)) == [true])
        #expect(bools(try eval("false implies {}", p)) == [true])
        #expect(bools(try eval("Patient.multipleBirth = 2", p)) == [true])
        #expect(bools(try eval("Patient.multipleBirth = 2.0", p)) == [true])
        #expect(bools(try eval("Patient.multipleBirth > 1", p)) == [true])
        #expect(bools(try eval("Patient.multipleBirth < -1", p)) == [false])
        #expect(bools(try eval("'phone' in Patient.telecom.system", p)) == [true])
        #expect(bools(try eval("Patient.telecom.system contains 'fax'", p)) == [false])
        #expect(bools(try eval("'PHONE ' ~ 'phone'", p)) == [true])
        #expect(bools(try eval("Patient.telecom.value.memberOf('http://example.org/vs')", p)) == [false])
        #expect(types(try eval("%resource.telecom", p)) == ["ContactPoint", "ContactPoint", "ContactPoint"])
        #expect(strings(try eval("Patient.telecom.where(%resource.active).value.single()", p)) == [])
        #expect(strings(try eval("Patient.telecom[1].value", p)) == ["a@b"])
        #expect(strings(try eval("Patient.telecom.where($this.system = 'email').value", p)) == ["a@b"])
        #expect(strings(try eval("iif(Patient.active, 'yes', 'no')", p)) == ["yes"])
        #expect(bools(try eval("Patient is Patient", p)) == [true])
        #expect(bools(try eval("Patient is DomainResource", p)) == [true])
    }

    // MARK: Real search parameters

    @Test func realSearchParameters() throws {
        // individual-phone
        let phone = try FHIRPathExpression(searchParameter("individual-phone").expression!)
        let practitioner = try resource(#"""
        {"resourceType":"Practitioner","telecom":[{"system":"phone","value":"555"},{"system":"fax","value":"556"}]}
        """#)
        let r = phone.evaluate(practitioner)
        #expect(r.compactMap { $0.value["value"]?.stringValue } == ["555"])
        #expect(types(r) == ["ContactPoint"])

        // clinical-code over a MedicationRequest with a medicationCodeableConcept.
        let code = try FHIRPathExpression(searchParameter("clinical-code").expression!)
        let mr = try resource(#"""
        {"resourceType":"MedicationRequest","status":"active","intent":"order",
         "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"1049502"}]},
         "subject":{"reference":"Patient/1"}}
        """#)
        #expect(types(code.evaluate(mr)) == ["CodeableConcept"])
        let mrRef = try resource(#"{"resourceType":"MedicationRequest","medicationReference":{"reference":"Medication/m"}}"#)
        #expect(code.evaluate(mrRef).isEmpty)

        // clinical-patient on a MedicationRequest about a Patient, then a Group.
        let patient = try FHIRPathExpression(searchParameter("clinical-patient").expression!)
        #expect(types(patient.evaluate(mr)) == ["Reference"])
        let mrGroup = try resource(#"{"resourceType":"MedicationRequest","subject":{"reference":"Group/g"}}"#)
        #expect(patient.evaluate(mrGroup).isEmpty)
        let allergy = try resource(#"{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p"}}"#)
        #expect(patient.evaluate(allergy).first?.value["reference"] == .string("Patient/p"))

        // clinical-date on an Observation (effective[x]) and an Encounter (period).
        let date = try FHIRPathExpression(searchParameter("clinical-date").expression!)
        #expect(types(date.evaluate(try resource(#"{"resourceType":"Observation","effectiveDateTime":"2021"}"#))) == ["dateTime"])
        #expect(types(date.evaluate(try resource(#"{"resourceType":"Encounter","period":{"start":"2021"}}"#))) == ["Period"])

        // Observation-combo-value-quantity: value and component values.
        let combo = try FHIRPathExpression(searchParameter("Observation-combo-value-quantity").expression!)
        let bp = try resource(#"""
        {"resourceType":"Observation","valueSampledData":{"origin":{"value":0},"period":1,"dimensions":1},
         "component":[{"code":{"text":"a"},"valueQuantity":{"value":120}},{"code":{"text":"b"},"valueString":"n/a"}]}
        """#)
        #expect(types(combo.evaluate(bp)) == ["SampledData", "Quantity"])

        // Patient-deceased and individual-family.
        let family = try FHIRPathExpression(searchParameter("individual-family").expression!)
        #expect(strings(family.evaluate(try resource(#"{"resourceType":"Practitioner","name":[{"family":"Who"}]}"#))) == ["Who"])

        // A composite parameter: the components are evaluated on the nodes the expression finds.
        let composite = searchParameter("Observation-code-value-quantity")
        let obs = try resource(#"""
        {"resourceType":"Observation","code":{"text":"weight"},"valueQuantity":{"value":70,"unit":"kg"}}
        """#)
        let roots = try FHIRPathExpression(composite.expression!).evaluate(obs)
        #expect(types(roots) == ["Observation"])
        let components = try composite.component.map { try FHIRPathExpression($0.expression) }
        #expect(components.map { types($0.evaluate(roots[0], resource: obs)) } == [["CodeableConcept"], ["Quantity"]])
        let componentParam = searchParameter("Observation-component-code-value-quantity")
        let compRoots = try FHIRPathExpression(componentParam.expression!).evaluate(bp)
        #expect(compRoots.count == 2)
        let valueComponent = try FHIRPathExpression(componentParam.component[1].expression)
        #expect(compRoots.map { types(valueComponent.evaluate($0, resource: bp)) } == [["Quantity"], []])

        // MolecularSequence composite components use %resource.
        let seq = searchParameter("MolecularSequence-chromosome-variant-coordinate")
        let ms = try resource(#"""
        {"resourceType":"MolecularSequence","coordinateSystem":0,"referenceSeq":{"chromosome":{"text":"1"}},
         "variant":[{"start":10,"end":20}]}
        """#)
        let variants = try FHIRPathExpression(seq.expression!).evaluate(ms)
        #expect(types(variants) == ["BackboneElement"])
        let comps = try seq.component.map { try FHIRPathExpression($0.expression) }
        #expect(comps.map { types($0.evaluate(variants[0], resource: ms)) } == [["CodeableConcept"], ["integer"], ["integer"]])
    }

    /// Every search parameter expression on a minimal resource of each of its base types: no
    /// crash, and resource type checks as first step hold.
    @Test func everySearchParameterOnAMinimalResource() throws {
        var evaluations = 0
        for p in Definitions.r4.searchParameters {
            guard let text = p.expression else { continue }
            let expr = try FHIRPathExpression(text)
            let components = try p.component.map { try FHIRPathExpression($0.expression) }
            for base in concreteBases(p) {
                let r: JSON = .object([("resourceType", .string(base)), ("id", .string("x"))])
                let nodes = expr.evaluate(r)
                for n in nodes { for c in components { _ = c.evaluate(n, resource: r) } }
                evaluations += 1
                if p.type != .composite && !text.contains(".id") && text != base {
                    // Nothing but resourceType and id: search values are empty (or false).
                    #expect(nodes.allSatisfy { $0.value == .bool(false) }, "\(p.url) on \(base)")
                }
            }
        }
        print("FHIRPath: evaluated search parameters \(evaluations) times on minimal resources")
        #expect(evaluations > 1400)
    }

    /// Every search parameter expression on a synthetic resource of its base type in which every
    /// element (choice: its first type) holds a value: evaluation finds something for nearly all.
    @Test func everySearchParameterOnAFilledResource() throws {
        var generator = ResourceGenerator(definitions: .r4)
        var total = 0
        var empty: [String] = []
        let start = ContinuousClock.now
        for p in Definitions.r4.searchParameters where p.type != .composite {
            guard let text = p.expression else { continue }
            let expr = try FHIRPathExpression(text)
            for base in p.base where base != "Resource" && base != "DomainResource" {
                let r = generator.resource(base)
                total += 1
                let nodes = expr.evaluate(r)
                if nodes.isEmpty { empty.append("\(p.code) on \(base): \(text)") }
                for n in nodes where n.type.isEmpty { Issue.record("untyped result of \(p.url) on \(base)") }
            }
        }
        print("FHIRPath: \(total) evaluations in \(ContinuousClock.now - start)")
        print("FHIRPath: \(total - empty.count) of \(total) search parameter evaluations on filled resources found values")
        for e in empty.prefix(10) { print("FHIRPath: empty (e.g. the first type of a choice was generated): \(e)") }
        #expect(Double(empty.count) < Double(total) * 0.1)
    }

    @Test func expressionsAreReusableAndSendable() async throws {
        let expr = try FHIRPathExpression("Patient.name.family")
        let p = try resource(#"{"resourceType":"Patient","name":[{"family":"A"}]}"#)
        let results = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { strings(expr.evaluate(p)) } }
            var all: [[String]] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(results == Array(repeating: ["A"], count: 8))
    }
}

/// Builds resources in which every element holds a plausible value (first type of a choice).
private struct ResourceGenerator {
    let definitions: Definitions

    mutating func resource(_ type: String) -> JSON {
        var members: [(String, JSON)] = [("resourceType", .string(type))]
        members += object(type: type, path: type, depth: 0)
        return .object(members)
    }

    private func object(type: String, path: String, depth: Int) -> [(String, JSON)] {
        guard let def = definitions.types[type] else { return [] }
        var members: [(String, JSON)] = []
        for e in def.elements where e.parentPath == path {
            if e.name == "extension" || e.name == "modifierExtension" || e.name == "contained" { continue }
            var name = e.name
            var t = e.types.first ?? "BackboneElement"
            if e.isChoice {
                t = e.types[0]
                name = String(e.name.dropLast(3)) + t.prefix(1).uppercased() + t.dropFirst()
            }
            let v: JSON
            if e.contentReference != nil {
                continue
            } else if def.children[e.path] != nil {
                guard depth < 3 else { continue }
                v = .object(object(type: type, path: e.path, depth: depth + 1))
            } else {
                guard let x = value(of: t, depth: depth + 1) else { continue }
                v = x
            }
            members.append((name, e.isRepeating ? .array([v]) : v))
        }
        return members
    }

    private func value(of type: String, depth: Int) -> JSON? {
        switch type {
        case "boolean": return .bool(true)
        case "integer", "positiveInt", "unsignedInt", "decimal": return .number("1")
        case "date": return .string("2020-01-01")
        case "dateTime", "instant": return .string("2020-01-01T00:00:00Z")
        case "time": return .string("10:00:00")
        case "Reference": return .object([("reference", .string("Patient/1"))])
        case "Resource", "DomainResource": return .object([("resourceType", .string("Basic"))])
        case "canonical": return .string("http://example.org/fhir/Patient/1")
        case "xhtml": return .string("<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>")
        case "Extension", "Narrative", "Element", "BackboneElement": return nil
        default:
            guard let def = definitions.types[type] else { return nil }
            if def.kind == .primitiveType { return .string("x") }
            guard depth < 5 else { return nil }
            return .object(object(type: type, path: type, depth: depth))
        }
    }
}
