import Testing
@testable import FHIR

private let validator = Validator()

private func parse(_ text: String) -> JSON {
    do { return try JSONParser.parse(text) } catch {
        Testing.Issue.record("test JSON does not parse: \(error)")
        return .null
    }
}

/// "code location" of each issue, in order.
private func summary(_ text: String) -> [String] {
    summary(validator.validate(parse(text)))
}

private func summary(_ issues: [FHIR.Issue]) -> [String] {
    issues.map { "\($0.code) \($0.expression.joined(separator: ","))" }
}

private let validPatient = #"""
{
  "resourceType": "Patient",
  "id": "example-1.a",
  "meta": {"versionId": "1", "lastUpdated": "2024-05-01T10:20:30.123Z", "profile": ["http://example.org/fhir/StructureDefinition/p"]},
  "text": {"status": "generated", "div": "<div xmlns=\"http://www.w3.org/1999/xhtml\">Ana María López</div>"},
  "contained": [{"resourceType": "Organization", "id": "org1", "name": "Clínica Norte", "active": true}],
  "extension": [
    {"url": "http://example.org/fhir/StructureDefinition/birthPlace", "valueAddress": {"city": "Monterrey", "country": "MX"}},
    {"url": "http://example.org/fhir/StructureDefinition/complex", "extension": [
      {"url": "part", "valueCode": "a b"},
      {"url": "when", "valueDateTime": "2024-02-29T23:59:60+14:00"}
    ]}
  ],
  "identifier": [{"use": "official", "system": "urn:oid:2.16.840.1.113883.4.1", "value": "123-45-6789"}],
  "active": true,
  "name": [
    {"use": "official", "family": "López", "given": ["Ana", "María"], "period": {"start": "2001"}},
    {"use": "nickname", "given": ["Anita", null], "_given": [null, {"extension": [{"url": "http://example.org/x", "valueBoolean": true}]}]}
  ],
  "telecom": [{"system": "phone", "value": "+52 81 1234 5678", "use": "mobile", "rank": 1}],
  "gender": "female",
  "birthDate": "1990-07-15",
  "_birthDate": {"id": "bd1", "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime", "valueDateTime": "1990-07-15T08:30:00-06:00"}]},
  "deceasedBoolean": false,
  "address": [{"line": ["Av. Constitución 100"], "city": "Monterrey", "state": "NL", "postalCode": "64000", "country": "MX"}],
  "maritalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "code": "M"}]},
  "multipleBirthInteger": 2,
  "photo": [{"contentType": "image/png", "data": "iVBORw0KGgo="}],
  "contact": [{"relationship": [{"text": "madre"}], "name": {"family": "Pérez"}, "gender": "female"}],
  "communication": [{"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es-MX"}]}, "preferred": true}],
  "managingOrganization": {"reference": "#org1"}
}
"""#

private let validObservation = #"""
{
  "resourceType": "Observation",
  "id": "hr",
  "status": "final",
  "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
  "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
  "subject": {"reference": "Patient/example"},
  "effectiveDateTime": "2024-05-01T10:20:30-06:00",
  "issued": "2024-05-01T10:25:00.5Z",
  "valueQuantity": {"value": 72.50, "unit": "beats/minute", "system": "http://unitsofmeasure.org", "code": "/min"},
  "referenceRange": [{"low": {"value": 60}, "high": {"value": 100}}],
  "component": [
    {"code": {"text": "a"}, "valueString": "x"},
    {"code": {"text": "b"}, "valueSampledData": {"origin": {"value": 0}, "period": 1.5, "dimensions": 1, "data": "1 2 E"}}
  ]
}
"""#

/// `validPatient` with member `key` replaced (or added, or removed with nil).
private func patient(_ key: String, _ value: String?) -> String {
    let base = parse(validPatient)
    return base.setting(key, value.map(parse)).compactString
}

@Suite struct ValidatorTests {
    // MARK: Valid resources

    @Test func validPatientPasses() {
        #expect(summary(validPatient) == [])
    }

    @Test func validObservationPasses() {
        #expect(summary(validObservation) == [])
    }

    @Test func validBundleAndParametersPass() {
        let bundle = #"{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"urn:uuid:c757873d-ec9a-4326-a141-556f43239520","resource":{"resourceType":"Patient","active":true}}]}"#
        #expect(summary(bundle) == [])
        let params = #"{"resourceType":"Parameters","parameter":[{"name":"a","valueInteger":-5},{"name":"b","resource":{"resourceType":"Basic","code":{"text":"x"}}},{"name":"c","part":[{"name":"d","valueUuid":"urn:uuid:c757873d-ec9a-4326-a141-556f43239520"}]}]}"#
        #expect(summary(params) == [])
    }

    // MARK: Root

    @Test func rootMustBeAResource() {
        #expect(summary("[]") == ["structure Resource"])
        #expect(summary(#""Patient""#) == ["structure Resource"])
        #expect(summary("{}") == ["required Resource.resourceType"])
        #expect(summary(#"{"resourceType": 1}"#) == ["structure Resource.resourceType"])
        #expect(summary(#"{"resourceType": "Patients"}"#) == ["not-supported Resource.resourceType"])
        #expect(summary(#"{"resourceType": "DomainResource"}"#) == ["not-supported Resource.resourceType"])
        #expect(summary(#"{"resourceType": "HumanName"}"#) == ["not-supported Resource.resourceType"])
    }

    // MARK: Unknown elements

    @Test func unknownElementsAreRejected() {
        #expect(summary(#"{"resourceType":"Patient","foo":1}"#) == ["structure Patient.foo"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"family":"x","middle":"y"}]}"#) == ["structure Patient.name[0].middle"])
        #expect(summary(#"{"resourceType":"Patient","contact":[{"gender":"male","nickname":"y"}]}"#) == ["structure Patient.contact[0].nickname"])
        #expect(summary(#"{"resourceType":"Patient","_foo":{"id":"a"}}"#) == ["structure Patient._foo"])
    }

    @Test func unknownChoiceSuffixesAreRejected() {
        let issues = validator.validate(parse(#"{"resourceType":"Patient","deceasedString":"yes"}"#))
        #expect(summary(issues) == ["structure Patient.deceasedString"])
        #expect(issues.first?.english.contains("deceasedBoolean, deceasedDateTime") == true)
        #expect(summary(#"{"resourceType":"Patient","deceased[x]":true}"#) == ["structure Patient.deceased[x]"])
        #expect(summary(#"{"resourceType":"Patient","deceased":true}"#) == ["structure Patient.deceased"])
        #expect(summary(#"{"resourceType":"Patient","deceaseddateTime":"2020"}"#) == ["structure Patient.deceaseddateTime"])
    }

    // MARK: Cardinality

    @Test func missingRequiredElements() {
        #expect(summary(#"{"resourceType":"Observation"}"#) == ["required Observation.status", "required Observation.code"]
            || summary(#"{"resourceType":"Observation"}"#) == ["required Observation.code", "required Observation.status"])
        #expect(summary(#"{"resourceType":"Patient","communication":[{"preferred":true}]}"#) == ["required Patient.communication[0].language"])
        #expect(summary(#"{"resourceType":"Patient","extension":[{"valueString":"x"}]}"#) == ["required Patient.extension[0].url"])
        #expect(summary(#"{"resourceType":"Patient","text":{"status":"generated"}}"#) == ["required Patient.text.div"])
    }

    @Test func missingRequiredChoice() {
        // MedicationRequest.medication[x] is 1..1.
        let issues = summary(#"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}}"#)
        #expect(issues == ["required MedicationRequest.medication[x]"])
        let ok = #"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"text":"x"}}"#
        #expect(summary(ok) == [])
    }

    @Test func primitiveExtensionAloneSatisfiesMinimum() {
        let text = #"{"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}}"#
        #expect(summary(text) == [])
    }

    @Test func repeatingElementsMustBeArrays() {
        #expect(summary(patient("name", #"{"family":"x"}"#)) == ["structure Patient.name"])
        #expect(summary(patient("gender", #"["male"]"#)) == ["structure Patient.gender"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"given":"Ana"}]}"#) == ["structure Patient.name[0].given"])
        #expect(summary(#"{"resourceType":"Patient","name":[[{"given":["Ana"]}]]}"#) == ["structure Patient.name[0]"])
    }

    @Test func maximumCardinalityZero() {
        // xhtml.extension is 0..0, reachable through a primitive extension of Narrative.div.
        let text = #"{"resourceType":"Patient","text":{"status":"generated","div":"<div>x</div>","_div":{"extension":[{"url":"u","valueString":"x"}]}}}"#
        #expect(summary(text) == ["structure Patient.text.div.extension"])
    }

    // MARK: Empty values and null

    @Test func emptyValuesAndNullAreRejected() {
        #expect(summary(patient("name", "[]")) == ["structure Patient.name"])
        #expect(summary(patient("name", "[{}]")) == ["structure Patient.name[0]"])
        #expect(summary(patient("maritalStatus", "{}")) == ["structure Patient.maritalStatus"])
        #expect(summary(patient("birthDate", #""""#)) == ["value Patient.birthDate"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"family":""}]}"#) == ["value Patient.name[0].family"])
        #expect(summary(#"{"resourceType":"Patient","active":null}"#) == ["structure Patient.active"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"given":["A",null]}]}"#) == ["structure Patient.name[0].given[1]"])
        #expect(summary(#"{"resourceType":"Patient","name":[null]}"#) == ["structure Patient.name[0]"])
    }

    // MARK: Primitives in resources

    @Test func primitiveFormatsInResources() {
        #expect(summary(patient("birthDate", #""1990-13-01""#)) == ["value Patient.birthDate"])
        #expect(summary(patient("birthDate", #""2023-02-29""#)) == ["value Patient.birthDate"])
        #expect(summary(patient("birthDate", #""1990-07-15T10:00:00Z""#)) == ["value Patient.birthDate"])
        #expect(summary(patient("id", #""a_b""#)) == ["value Patient.id"])
        #expect(summary(patient("active", #""true""#)) == ["structure Patient.active"])
        #expect(summary(patient("multipleBirthInteger", "1.0")) == ["value Patient.multipleBirthInteger"])
        #expect(summary(patient("multipleBirthInteger", "2147483648")) == ["value Patient.multipleBirthInteger"])
        #expect(summary(patient("multipleBirthInteger", #""2""#)) == ["structure Patient.multipleBirthInteger"])
        #expect(summary(patient("gender", "1")) == ["structure Patient.gender"])
        #expect(summary(patient("gender", #"" female""#)) == ["value Patient.gender"])
        #expect(summary(patient("photo", #"[{"data":"abc"}]"#)) == ["value Patient.photo[0].data"])
        #expect(summary(patient("text", #"{"status":"generated","div":"<p>x</p>"}"#)) == ["value Patient.text.div"])
        #expect(summary(patient("telecom", #"[{"rank":0}]"#)) == ["value Patient.telecom[0].rank"])
        #expect(summary(patient("identifier", #"[{"system":"http://a b"}]"#)) == ["value Patient.identifier[0].system"])
    }

    @Test func primitiveFormatsInObservation() {
        let obs = parse(validObservation)
        func with(_ key: String, _ value: String) -> [String] { summary(validator.validate(obs.setting(key, parse(value)))) }
        #expect(with("issued", #""2024-05-01T10:25:00""#) == ["value Observation.issued"])
        #expect(with("issued", #""2024-05-01T10:25Z""#) == ["value Observation.issued"])
        #expect(with("issued", #""2024-05-01""#) == ["value Observation.issued"])
        #expect(with("effectiveDateTime", #""2024-05-01T10:20:30""#) == ["value Observation.effectiveDateTime"])
        #expect(with("effectiveDateTime", #""2024-05-01T24:00:00Z""#) == ["value Observation.effectiveDateTime"])
        #expect(with("effectiveDateTime", #""2024-04-31""#) == ["value Observation.effectiveDateTime"])
        #expect(with("valueQuantity", #"{"value":"72"}"#) == ["structure Observation.valueQuantity.value"])
        #expect(with("valueQuantity", #"{"value":72,"unit":7}"#) == ["structure Observation.valueQuantity.unit"])
        #expect(with("valueQuantity", #"{"value":1e3}"#) == [])
    }

    // MARK: Complex types and recursion

    @Test func complexTypesRecurseWithInstanceLocations() {
        #expect(summary(#"{"resourceType":"Patient","name":[{"given":["Ana",7]}]}"#) == ["structure Patient.name[0].given[1]"])
        #expect(summary(#"{"resourceType":"Patient","name":["Ana"]}"#) == ["structure Patient.name[0]"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"period":{"start":"2020-02-30"}}]}"#) == ["value Patient.name[0].period.start"])
        #expect(summary(#"{"resourceType":"Patient","managingOrganization":{"identifier":{"value":"x","period":{"end":"x"}}}}"#)
            == ["value Patient.managingOrganization.identifier.period.end"])
        #expect(summary(#"{"resourceType":"Patient","maritalStatus":{"coding":[{"code":"a  b"}]}}"#) == ["value Patient.maritalStatus.coding[0].code"])
        #expect(summary(#"{"resourceType":"Patient","name":[{"id":"x_1 y","family":"a"}]}"#) == [])  // Element.id is a string
    }

    @Test func contentReferenceJumpsToReferencedDefinition() {
        let ok = #"{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"linkId":"1.1.1","type":"display"}]}]}]}"#
        #expect(summary(ok) == [])
        let bad = #"{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"group","item":[{"linkId":"1.1","type":"string","item":[{"text":"x","foo":1}]}]}]}"#
        #expect(Set(summary(bad)) == ["structure Questionnaire.item[0].item[0].item[0].foo",
                                      "required Questionnaire.item[0].item[0].item[0].linkId",
                                      "required Questionnaire.item[0].item[0].item[0].type"])
        let parts = #"{"resourceType":"Parameters","parameter":[{"name":"a","part":[{"name":"b","part":[{"valueBoolean":"x"}]}]}]}"#
        #expect(Set(summary(parts)) == ["required Parameters.parameter[0].part[0].part[0].name",
                                        "structure Parameters.parameter[0].part[0].part[0].valueBoolean"])
    }

    @Test func backboneInsideDataType() {
        // Timing.repeat is an Element whose children are defined under Timing.repeat.
        let ok = #"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationReference":{"reference":"Medication/1"},"dosageInstruction":[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d"}}}]}"#
        #expect(summary(ok) == [])
        let bad = #"{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"},"medicationReference":{"reference":"Medication/1"},"dosageInstruction":[{"timing":{"repeat":{"frequency":0,"periodUnit":"days"}}}]}"#
        #expect(summary(bad) == ["value MedicationRequest.dosageInstruction[0].timing.repeat.frequency",
                                 "code-invalid MedicationRequest.dosageInstruction[0].timing.repeat.periodUnit"])
    }

    @Test func constrainedAndNestedDataTypes() {
        let age = #"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":5,"unit":"a","system":"http://unitsofmeasure.org","code":"a"}}"#
        #expect(summary(age) == [])
        let badAge = #"{"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":5,"years":5}}"#
        #expect(summary(badAge) == ["structure Condition.onsetAge.years"])
        let sd = #"""
        {"resourceType":"StructureDefinition","url":"http://x/sd","name":"X","status":"draft","kind":"resource","abstract":false,"type":"Patient",
         "snapshot":{"element":[{"path":"Patient","slicing":{"discriminator":[{"type":"value","path":"x"}],"rules":"open"},"defaultValueString":"a","min":0}]}}
        """#
        #expect(summary(sd) == [])
        let badSd = #"""
        {"resourceType":"StructureDefinition","url":"http://x/sd","name":"X","status":"draft","kind":"resource","abstract":false,"type":"Patient",
         "snapshot":{"element":[{"path":"Patient","slicing":{"rules":"closedish"},"min":-1}]}}
        """#
        #expect(summary(badSd) == ["code-invalid StructureDefinition.snapshot.element[0].slicing.rules",
                                   "value StructureDefinition.snapshot.element[0].min"])
    }

    // MARK: Choices

    @Test func twoValuesOfOneChoiceAreRejected() {
        let obs = parse(validObservation).setting("valueString", .string("seventy"))
        #expect(summary(validator.validate(obs)) == ["structure Observation.valueString"])
        let twoSame = #"{"resourceType":"Patient","deceasedBoolean":true,"deceasedDateTime":"2020"}"#
        #expect(summary(twoSame) == ["structure Patient.deceasedDateTime"])
        // A value and its own primitive extension are one choice, not two.
        #expect(summary(#"{"resourceType":"Patient","deceasedBoolean":true,"_deceasedBoolean":{"id":"x"}}"#) == [])
    }

    @Test func choiceOfEveryPrimitiveKind() {
        func ext(_ member: String, _ value: String) -> String {
            #"{"resourceType":"Patient","extension":[{"url":"u","\#(member)":\#(value)}]}"#
        }
        #expect(summary(ext("valueBase64Binary", #""AAAA""#)) == [])
        #expect(summary(ext("valueInstant", #""2020-01-01T00:00:00Z""#)) == [])
        #expect(summary(ext("valueTime", #""23:59:59.999""#)) == [])
        #expect(summary(ext("valueOid", #""urn:oid:1.2.3""#)) == [])
        #expect(summary(ext("valueUnsignedInt", "0")) == [])
        #expect(summary(ext("valuePositiveInt", "0")) == ["value Patient.extension[0].valuePositiveInt"])
        #expect(summary(ext("valueUuid", #""urn:uuid:C757873D-EC9A-4326-A141-556F43239520""#)) == ["value Patient.extension[0].valueUuid"])
        #expect(summary(ext("valueTime", #""24:00:00""#)) == ["value Patient.extension[0].valueTime"])
        #expect(summary(ext("valueMeta", #"{"versionId":"1"}"#)) == [])
        #expect(summary(ext("valueHumanName", #"{"family":1}"#)) == ["structure Patient.extension[0].valueHumanName.family"])
    }

    // MARK: Resources inside resources

    @Test func nestedResourcesAreValidatedByTheirOwnType() {
        #expect(summary(patient("contained", #"[{"resourceType":"Organization","name":"x","foo":1}]"#)) == ["structure Patient.contained[0].foo"])
        #expect(summary(patient("contained", #"[{"name":"x"}]"#)) == ["required Patient.contained[0].resourceType"])
        #expect(summary(patient("contained", #"[{"resourceType":"Nope"}]"#)) == ["not-supported Patient.contained[0].resourceType"])
        #expect(summary(patient("contained", #"[{"resourceType":"Observation","status":"final"}]"#)) == ["required Patient.contained[0].code"])
        let bundle = #"{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","gender":"M"}}]}"#
        #expect(summary(bundle) == ["code-invalid Bundle.entry[0].resource.gender"])
        let params = #"{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","birthDate":"1-1-1"}}]}"#
        #expect(summary(params) == ["value Parameters.parameter[0].resource.birthDate"])
        #expect(summary(#"{"resourceType":"Bundle","type":"collection","entry":[{"resource":"Patient/1"}]}"#) == ["structure Bundle.entry[0].resource"])
    }

    @Test func resourceTypeInsideDataTypeIsRejected() {
        #expect(summary(#"{"resourceType":"Patient","name":[{"resourceType":"HumanName","family":"x"}]}"#) == ["structure Patient.name[0].resourceType"])
        #expect(summary(#"{"resourceType":"Patient","contact":[{"resourceType":"Patient","gender":"male"}]}"#) == ["structure Patient.contact[0].resourceType"])
    }

    // MARK: Required bindings

    @Test func requiredBindingsAreEnforced() {
        let issues = validator.validate(parse(patient("gender", #""mal""#)))
        #expect(summary(issues) == ["code-invalid Patient.gender"])
        #expect(issues.first?.english.contains("female, male, other, unknown") == true)
        #expect(issues.first?.spanish.contains("female, male, other, unknown") == true)
        #expect(issues.first?.english.contains("'mal'") == true)
        let obs = validator.validate(parse(validObservation).setting("status", .string("done")))
        #expect(summary(obs) == ["code-invalid Observation.status"])
        // Long lists (> 10 codes) are not spelled out.
        let q = validator.validate(parse(#"{"resourceType":"Questionnaire","status":"draft","item":[{"linkId":"1","type":"grupo"}]}"#))
        #expect(summary(q) == ["code-invalid Questionnaire.item[0].type"])
        #expect(q.first?.english.contains("display") == false)
        #expect(q.first?.english.contains("http://hl7.org/fhir/ValueSet/item-type") == true)
    }

    // MARK: Extensions

    @Test func extensionShape() {
        #expect(summary(#"{"resourceType":"Patient","extension":[{"url":"u","valueString":"x","extension":[{"url":"v","valueString":"y"}]}]}"#)
            == ["invariant Patient.extension[0]"])
        #expect(summary(#"{"resourceType":"Patient","extension":[{"url":"u"}]}"#) == ["invariant Patient.extension[0]"])
        #expect(summary(#"{"resourceType":"Patient","extension":[{"url":"u","extension":[{"url":"v"}]}]}"#) == ["invariant Patient.extension[0].extension[0]"])
        #expect(summary(#"{"resourceType":"Patient","modifierExtension":[{"valueBoolean":true}]}"#) == ["required Patient.modifierExtension[0].url"])
        #expect(summary(#"{"resourceType":"Patient","extension":[{"url":"u","valueFoo":1}]}"#)
            == ["structure Patient.extension[0].valueFoo", "invariant Patient.extension[0]"])
    }

    // MARK: Primitive extensions (_element)

    @Test func primitiveExtensionArraysMustAlign() {
        let ok = #"{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"id":"g2"},{"extension":[{"url":"u","valueCode":"x"}]}]}]}"#
        #expect(summary(ok) == [])
        #expect(summary(#"{"resourceType":"Patient","name":[{"_given":[{"id":"g1"}]}]}"#) == [])
        let misaligned = #"{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[{"id":"g1"}]}]}"#
        #expect(summary(misaligned) == ["structure Patient.name[0]._given"])
        let bothNull = #"{"resourceType":"Patient","name":[{"given":["A",null],"_given":[{"id":"x"},null]}]}"#
        #expect(summary(bothNull) == ["structure Patient.name[0].given[1]", "structure Patient.name[0]._given[1]"])
        let notArray = #"{"resourceType":"Patient","name":[{"given":["A"],"_given":{"id":"x"}}]}"#
        #expect(summary(notArray) == ["structure Patient.name[0]._given"])
    }

    @Test func primitiveExtensionContents() {
        #expect(summary(patient("_birthDate", #"{"value":"x"}"#)) == ["structure Patient.birthDate.value"])
        #expect(summary(patient("_birthDate", #"{}"#)) == ["structure Patient.birthDate"])
        #expect(summary(patient("_birthDate", #"[{"id":"a"}]"#)) == ["structure Patient._birthDate"])
        #expect(summary(patient("_birthDate", #"{"extension":[{"url":"u"}]}"#)) == ["invariant Patient.birthDate.extension[0]"])
        #expect(summary(patient("_birthDate", #"{"id":"a","resourceType":"Patient"}"#)) == ["structure Patient.birthDate.resourceType"])
        #expect(summary(#"{"resourceType":"Patient","_name":[{"id":"x"}]}"#) == ["structure Patient._name"])
        #expect(summary(#"{"resourceType":"Patient","birthDate":null,"_birthDate":{"id":"x"}}"#) == ["structure Patient.birthDate"])
    }

    // MARK: Everything at once

    @Test func reportsEveryProblem() {
        let text = #"""
        {"resourceType":"Patient","foo":true,"gender":"mujer","birthDate":"1990-02-30",
         "name":[{"given":"Ana"}],"extension":[{"valueString":"x"}]}
        """#
        let issues = validator.validate(parse(text))
        #expect(summary(issues) == [
            "structure Patient.foo",
            "code-invalid Patient.gender",
            "value Patient.birthDate",
            "structure Patient.name[0].given",
            "required Patient.extension[0].url",
        ])
        #expect(issues.count == 5)
        for issue in issues {
            #expect(issue.severity == .error)
            #expect(!issue.english.isEmpty && !issue.spanish.isEmpty && issue.english != issue.spanish)
            #expect(issue.english.contains(issue.expression[0]))
        }
    }

    @Test func messagesArePrecise() {
        let issue = validator.validate(parse(patient("birthDate", #""1990-13-01""#))).first
        #expect(issue?.english.contains("Patient.birthDate") == true)
        #expect(issue?.english.contains("1990-13-01") == true)
        #expect(issue?.english.contains("date") == true)
        #expect(issue?.spanish.contains("fecha") == true)
        let kind = validator.validate(parse(patient("active", #""true""#))).first
        #expect(kind?.english == "Patient.active must be a JSON boolean (true or false) for FHIR type boolean, found the string \"true\"")
        #expect(kind?.spanish.contains("se encontró la cadena \"true\"") == true)
    }

    // MARK: All resource types

    @Test func everyResourceTypeMinimal() {
        let defs = Definitions.r4
        #expect(defs.resourceTypes.count == 146)
        var withRequired = 0
        for type in defs.resourceTypes {
            let issues = validator.validate(.object([("resourceType", .string(type))]))
            let required = (defs.types[type]?.elements ?? [])
                .filter { $0.parentPath == type && $0.min >= 1 }
                .map { "required \(type).\($0.isChoice ? String($0.name.dropLast(3)) + "[x]" : $0.name)" }
            if !required.isEmpty { withRequired += 1 }
            #expect(Set(summary(issues)) == Set(required), "\(type)")
            #expect(issues.count == required.count, "\(type)")
        }
        #expect(withRequired > 50 && withRequired < 146)
    }

    // MARK: Robustness

    @Test func deeplyNestedExtensionsDoNotCrash() {
        var ext = JSON.object([("url", .string("u")), ("valueString", .string("x"))])
        for _ in 0..<1_000 {
            ext = .object([("url", .string("u")), ("extension", .array([ext]))])
        }
        let issues = validator.validate(.object([("resourceType", .string("Patient")), ("extension", .array([ext]))]))
        #expect(issues.count == 1)
        #expect(issues.first?.code == "too-costly")
    }

    @Test func mutationsNeverCrashAndKindChangesAreCaught() {
        var rng = SplitMix64(seed: 0xE41ACE)
        let bases = [parse(validPatient), parse(validObservation)]
        let replacements: [JSON] = [.null, .bool(true), .number("42"), .number("-1.5e3"), .string("x"), .string(""),
                                    .array([]), .array([.number("1")]), .object([]), .object([("zz", .string("y"))])]
        var caught = 0
        for round in 0..<500 {
            let base = bases[round % 2]
            var paths: [[PathStep]] = []
            collectPaths(base, [], into: &paths)
            let path = paths[Int(rng.next() % UInt64(paths.count))]
            let replacement = replacements[Int(rng.next() % UInt64(replacements.count))]
            let original = value(at: path, in: base)
            let mutated = replace(at: path, in: base, with: replacement)
            let issues = validator.validate(mutated)
            // The one valid kind change: a null placeholder in `given` paired with `_given` becoming a string.
            let fillsPlaceholder = original == .null && replacement == .string("x")
            if let original, kind(original) != kind(replacement), !fillsPlaceholder {
                #expect(!issues.isEmpty, "\(path) \(original.kindName) → \(replacement.kindName)")
                if !issues.isEmpty { caught += 1 }
            }
        }
        #expect(caught > 300)
    }

    @Test func randomGarbageNeverCrashes() {
        var rng = SplitMix64(seed: 42)
        let names = ["resourceType", "name", "given", "_given", "extension", "url", "valueString", "contained",
                     "id", "text", "div", "item", "entry", "resource", "value", "deceasedBoolean", "gender", "x"]
        let types = ["Patient", "Bundle", "Questionnaire", "Parameters", "Observation", "Nope"]
        func garbage(_ depth: Int) -> JSON {
            switch rng.next() % (depth > 4 ? 5 : 8) {
            case 0: return .null
            case 1: return .bool(rng.next() % 2 == 0)
            case 2: return .number(["0", "-1", "1.5", "1e999", "2147483648"][Int(rng.next() % 5)])
            case 3: return .string(["", "x", "2020-02-30", "urn:uuid:0", " a "][Int(rng.next() % 5)])
            case 4: return .string(types[Int(rng.next() % UInt64(types.count))])
            case 5: return .array((0..<Int(rng.next() % 4)).map { _ in garbage(depth + 1) })
            default:
                var members: [(String, JSON)] = []
                for _ in 0..<Int(rng.next() % 5) {
                    let name = names[Int(rng.next() % UInt64(names.count))]
                    if !members.contains(where: { $0.0 == name }) { members.append((name, garbage(depth + 1))) }
                }
                return .object(members)
            }
        }
        for i in 0..<500 {
            let body = garbage(0)
            let resource = body.setting("resourceType", .string(types[i % types.count]))
            _ = validator.validate(resource)
            _ = validator.validate(body)
        }
    }
}

// MARK: - Primitive unit checks

@Suite struct PrimitiveTests {
    @Test func primitives() throws {
        let cases: [(String, String, Bool)] = [
        ("id", #""a-B.9""#, true), ("id", #""a_b""#, false), ("id", "\"\(String(repeating: "a", count: 64))\"", true),
        ("id", "\"\(String(repeating: "a", count: 65))\"", false), ("id", #""""#, false),
        ("string", #""x""#, true), ("string", #"" x ""#, true), ("string", #""""#, false), ("string", #""\f""#, false),
        ("string", "1", false), ("markdown", ##""# *x*\n""##, true),
        ("code", #""a b""#, true), ("code", #""a  b""#, false), ("code", #"" a""#, false), ("code", #""a ""#, false),
        ("uri", #""http://x/y?z""#, true), ("uri", #""a b""#, false), ("url", #""http://x""#, true),
        ("canonical", #""http://x|1.0""#, true), ("canonical", #""x\ty""#, false),
        ("oid", #""urn:oid:1.2.840""#, true), ("oid", #""urn:oid:3.1""#, false), ("oid", #""urn:oid:1.02""#, false),
        ("oid", #""urn:oid:1""#, false), ("oid", #""urn:oid:1.""#, false),
        ("uuid", #""urn:uuid:c757873d-ec9a-4326-a141-556f43239520""#, true),
        ("uuid", #""c757873d-ec9a-4326-a141-556f43239520""#, false),
        ("uuid", #""urn:uuid:c757873d-ec9a-4326-a141-556f4323952""#, false),
        ("date", #""2024""#, true), ("date", #""2024-02""#, true), ("date", #""2024-02-29""#, true),
        ("date", #""2023-02-29""#, false), ("date", #""1900-02-29""#, false), ("date", #""2000-02-29""#, true),
        ("date", #""0000""#, false), ("date", #""2024-00""#, false), ("date", #""2024-1-01""#, false),
        ("date", #""2024-04-31""#, false), ("date", #""2024-12-31""#, true), ("date", #""24""#, false),
        ("dateTime", #""2024""#, true), ("dateTime", #""2024-05-01T10:20:30Z""#, true),
        ("dateTime", #""2024-05-01T10:20:30.123456+05:30""#, true), ("dateTime", #""2024-05-01T10:20:30""#, false),
        ("dateTime", #""2024-05-01T10:20Z""#, false), ("dateTime", #""2024-05T10:20:30Z""#, false),
        ("dateTime", #""2024-05-01T10:20:30+14:00""#, true), ("dateTime", #""2024-05-01T10:20:30+14:01""#, false),
        ("dateTime", #""2024-05-01T10:20:30+15:00""#, false), ("dateTime", #""2024-05-01T10:20:30.Z""#, false),
        ("dateTime", #""2024-05-01 10:20:30Z""#, false),
        ("instant", #""2024-05-01T10:20:30Z""#, true), ("instant", #""2024-05-01T10:20:30.5-06:00""#, true),
        ("instant", #""2024-05-01""#, false), ("instant", #""2024-05-01T10:20:30""#, false),
        ("time", #""10:20:30""#, true), ("time", #""23:59:60.5""#, true), ("time", #""10:20""#, false),
        ("time", #""10:20:30Z""#, false), ("time", #""25:00:00""#, false),
        ("decimal", "1.50", true), ("decimal", "-0.0e-5", true), ("decimal", #""1.5""#, false), ("decimal", "true", false),
        ("integer", "0", true), ("integer", "-2147483648", true), ("integer", "2147483647", true),
        ("integer", "2147483648", false), ("integer", "-2147483649", false), ("integer", "1.0", false),
        ("integer", "1e2", false), ("integer", "99999999999999999999999", false),
        ("positiveInt", "1", true), ("positiveInt", "0", false), ("positiveInt", "-1", false),
        ("unsignedInt", "0", true), ("unsignedInt", "-1", false), ("unsignedInt", "2147483647", true),
        ("unsignedInt", "2147483648", false),
        ("boolean", "true", true), ("boolean", "false", true), ("boolean", #""true""#, false), ("boolean", "1", false),
        ("base64Binary", #""AAAA""#, true), ("base64Binary", #""aGk=""#, true), ("base64Binary", #""aA==""#, true),
        ("base64Binary", #""aGk""#, false), ("base64Binary", #""a=Gk""#, false), ("base64Binary", #""a===""#, false),
        ("base64Binary", #""aGk= aGk=""#, false), ("base64Binary", #""AAAA BBBB""#, true), ("base64Binary", #""AA$A""#, false),
        ("xhtml", #""<div xmlns=\"http://www.w3.org/1999/xhtml\">x</div>""#, true), ("xhtml", #""<div/>""#, true),
        ("xhtml", #""<p>x</p>""#, false), ("xhtml", #""<divx>x</divx>""#, false), ("xhtml", #""plain""#, false),
        ("HumanName", #""x""#, false), ("nope", #""x""#, false),
        ]
        for (type, json, valid) in cases {
            let value = try JSONParser.parse(json)
            #expect(Primitive.isValid(value, type: type) == valid, "\(type) \(json)")
        }
    }

    @Test func stringSizeLimit() {
        let big = String(repeating: "a", count: Primitive.maxStringBytes)
        #expect(Primitive.isValid(.string(big), type: "string"))
        #expect(!Primitive.isValid(.string(big + "a"), type: "string"))
    }
}

// MARK: - Helpers for generative tests

private struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private enum PathStep: CustomStringConvertible {
    case key(String), index(Int)
    var description: String {
        switch self {
        case .key(let k): return "." + k
        case .index(let i): return "[\(i)]"
        }
    }
}

private func collectPaths(_ json: JSON, _ prefix: [PathStep], into paths: inout [[PathStep]]) {
    switch json {
    case .object(let members):
        for (k, v) in members {
            let p = prefix + [.key(k)]
            paths.append(p)
            collectPaths(v, p, into: &paths)
        }
    case .array(let items):
        for (i, v) in items.enumerated() {
            let p = prefix + [.index(i)]
            paths.append(p)
            collectPaths(v, p, into: &paths)
        }
    default: break
    }
}

private func value(at path: [PathStep], in json: JSON) -> JSON? {
    var current: JSON? = json
    for step in path {
        switch step {
        case .key(let k): current = current?[k]
        case .index(let i):
            guard let items = current?.arrayValue, i < items.count else { return nil }
            current = items[i]
        }
    }
    return current
}

private func replace(at path: [PathStep], in json: JSON, with new: JSON) -> JSON {
    guard let step = path.first else { return new }
    let rest = Array(path.dropFirst())
    switch (step, json) {
    case let (.key(k), .object):
        guard let child = json[k] else { return json }
        return json.setting(k, replace(at: rest, in: child, with: new))
    case let (.index(i), .array(items)) where i < items.count:
        var items = items
        items[i] = replace(at: rest, in: items[i], with: new)
        return .array(items)
    default:
        return json
    }
}

/// The JSON kind, where an empty array or object counts as a different kind (always invalid in FHIR).
private func kind(_ json: JSON) -> String {
    switch json {
    case .array(let a) where a.isEmpty: return "empty array"
    case .object(let o) where o.isEmpty: return "empty object"
    case .string(let s) where s.isEmpty: return "empty string"
    default: return json.kindName
    }
}
