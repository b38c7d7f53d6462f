import FHIR
@_spi(Unguarded) import Storage
import Testing

@Suite("Patient compartment keys")
struct CompartmentTests {
    let resolver = CompartmentResolver()

    func patients(_ json: String, _ type: String, id: String = "x") throws -> [String] {
        resolver.patients(of: try JSONParser.parse(json), type: type, id: id)
    }

    @Test func compartmentMembership() throws {
        #expect(try patients(#"{"resourceType":"Patient"}"#, "Patient", id: "p1") == ["p1"])
        #expect(try patients(#"{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Patient/p2"},{"reference":"Practitioner/d"}]}"#, "Observation") == ["p1", "p2"])
        #expect(try patients(#"{"resourceType":"Observation","subject":{"reference":"Group/g"}}"#, "Observation") == [])
        #expect(try patients(#"{"resourceType":"Encounter","subject":{"reference":"https://other.mx/fhir/Patient/p9/_history/2"}}"#, "Encounter") == ["p9"])
        #expect(try patients(#"{"resourceType":"Practitioner","name":[{"family":"López"}]}"#, "Practitioner") == [])
        #expect(try patients(#"{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/a"},"recorder":{"reference":"Patient/b"}}"#, "AllergyIntolerance") == ["a", "b"])
        #expect(CompartmentResolver.patientID(fromReference: "Patient/") == nil)
        #expect(CompartmentResolver.patientID(fromReference: "#contained") == nil)
    }

    @Test func everyCompartmentTypeHasPaths() {
        // every type the R4 CompartmentDefinition lists resolves at least one path, so no type silently has none
        let defs = Definitions.r4
        for (type, params) in defs.patientCompartment where !params.isEmpty && type != "Patient" {
            let probe = JSON.object([("resourceType", .string(type))])
            _ = resolver.patients(of: probe, type: type, id: "x")
            let known = params.filter { defs.searchParametersByType[type]?[$0]?.expression != nil }
            #expect(!known.isEmpty, "\(type) has no compartment parameter with an expression")
        }
    }
}
