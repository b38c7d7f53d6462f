import FHIR
import Foundation
import Testing
@testable import Trust

/// `Patient/$match` over HTTP (docs/interop.md#patientmatch): scored and graded results, the
/// operation's parameters and errors, and that a match never shows a record the caller may not
/// see — a practitioner learns only that an identifier names a record and how to ask for access.
@Suite("Patient/$match")
struct InteropMatchTests {
    static let curp = CURP.make(given: "María Guadalupe", paternal: "Hernández", maternal: "López", birth: (1985, 7, 21), female: true, state: "DF", homonym: 0)

    static func patient(_ id: String, given: String, family: String, born: String, gender: String, curp: String? = nil, nss: String? = nil) -> String {
        var ids: [String] = []
        if let curp { ids.append(#"{"system":"http://www.renapo.gob.mx/curp","value":"\#(curp)"}"#) }
        if let nss { ids.append(#"{"system":"http://www.imss.gob.mx/nss","value":"\#(nss)"}"#) }
        let identifier = ids.isEmpty ? "" : #""identifier":[\#(ids.joined(separator: ","))],"#
        let givens = given.split(separator: " ").map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"resourceType":"Patient","id":"\#(id)",\#(identifier)"name":[{"family":"\#(family)","given":[\#(givens)]}],"gender":"\#(gender)","birthDate":"\#(born)"}"#
    }

    static func parameters(_ patient: String, extra: String = "") -> String {
        #"{"resourceType":"Parameters","parameter":[{"name":"resource","resource":\#(patient)}\#(extra)]}"#
    }

    /// (id, grade, score) of the Patient entries; the OperationOutcome entries apart.
    static func matches(_ r: Client.Reply) -> [(id: String, grade: String, score: Double)] {
        (r.json["entry"]?.arrayValue ?? []).compactMap { e in
            guard e["resource"]?["resourceType"]?.stringValue == "Patient", let id = e["resource"]?["id"]?.stringValue else { return nil }
            let grade = e["search"]?["extension"]?.arrayValue?.first { $0["url"]?.stringValue == "http://hl7.org/fhir/StructureDefinition/match-grade" }?["valueCode"]?.stringValue ?? ""
            guard case let .number(s)? = e["search"]?["score"] else { return (id, grade, -1) }
            return (id, grade, Double(s) ?? -1)
        }
    }

    static func outcomes(_ r: Client.Reply) -> [String] {
        (r.json["entry"]?.arrayValue ?? []).filter { $0["search"]?["mode"]?.stringValue == "outcome" }
            .flatMap { ($0["resource"]?["issue"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue } }
    }

    static func seed(_ op: Client) async throws {
        for body in [
            patient("gpe", given: "María Guadalupe", family: "Hernández López", born: "1985-07-21", gender: "female", curp: curp, nss: "12345678903"),
            patient("gpe-twin", given: "Ana Lucía", family: "Hernández López", born: "1985-07-21", gender: "female"),
            patient("otro", given: "Roberto", family: "Sánchez Ortiz", born: "1950-01-30", gender: "male"),
        ] {
            let id = try #require(JSONParser.parse(body)["id"]?.stringValue)
            #expect(try await op.send(.put, "/fhir/Patient/\(id)", json: body).status == 201)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func gradesAndParameters(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropMatchTests.seed(op)
            // accents left out, surnames swapped: probable, the twin only possible, the stranger not at all
            let asked = InteropMatchTests.patient("x", given: "Maria Guadalupe", family: "Lopez Hernandez", born: "1985-07-21", gender: "female")
            let r = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(asked))
            #expect(r.status == 200, "\(r.text)")
            let found = InteropMatchTests.matches(r)
            #expect(found.map(\.id) == ["gpe", "gpe-twin"])
            #expect(found.map(\.grade) == ["probable", "possible"])
            #expect(found.first.map { $0.score > 0.9 && $0.score < 1 } == true)
            #expect(Validator().validate(r.json).filter { $0.severity == .error }.isEmpty)

            // the CURP (typed with spaces, lower case) is certain
            let byCURP = #"{"resourceType":"Patient","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"\#(InteropMatchTests.curp.lowercased().prefix(9)) \#(InteropMatchTests.curp.lowercased().dropFirst(9))"}]}"#
            let c = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(byCURP, extra: #",{"name":"onlyCertainMatches","valueBoolean":true}"#))
            #expect(InteropMatchTests.matches(c).map(\.id) == ["gpe"])
            #expect(InteropMatchTests.matches(c).map(\.grade) == ["certain"])
            // onlyCertainMatches leaves out what is only probable; count limits
            let onlyCertain = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(asked, extra: #",{"name":"onlyCertainMatches","valueBoolean":true}"#))
            #expect(InteropMatchTests.matches(onlyCertain).isEmpty)
            let one = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(asked, extra: #",{"name":"count","valueInteger":1}"#))
            #expect(InteropMatchTests.matches(one).map(\.id) == ["gpe"])

            // bad input: precise OperationOutcomes
            let wrongDigit = String(InteropMatchTests.curp.dropLast()) + (InteropMatchTests.curp.last == "0" ? "1" : "0")
            let badCURP = #"{"resourceType":"Patient","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"\#(wrongDigit)"}]}"#
            let bc = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(badCURP))
            #expect(bc.status == 422 && bc.issueCodes == ["value"], "\(bc.text)")
            #expect(bc.text.contains("dígito verificador") && bc.text.contains("check digit"))
            let noResource = try await op.send(.post, "/fhir/Patient/$match", json: #"{"resourceType":"Parameters","parameter":[{"name":"count","valueInteger":3}]}"#)
            #expect(noResource.status == 400 && noResource.issueCodes == ["required"])
            let tooLittle = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(#"{"resourceType":"Patient","gender":"female"}"#))
            #expect(tooLittle.status == 422)
            let badCount = try await op.send(.post, "/fhir/Patient/$match", json: InteropMatchTests.parameters(asked, extra: #",{"name":"count","valueInteger":0}"#))
            #expect(badCount.status == 400)
            #expect(try await op.send(.post, "/fhir/Observation/$match", json: InteropMatchTests.parameters(asked)).status == 404)
            // a Patient written with an invalid CURP is refused with the rule it breaks
            let badWrite = try await op.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"\#(wrongDigit)"}]}"#)
            #expect(badWrite.status == 422 && badWrite.locations == ["Patient.identifier[0].value"], "\(badWrite.text)")
            #expect(badWrite.text.contains("dígito verificador"))
            // the operation route does not shadow Patient/{id}
            #expect(try await op.send(.get, "/fhir/Patient/gpe").status == 200)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func onlyWhatTheCallerMaySee(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        func token(_ role: Principal.Role, _ user: String, patient: String? = nil, scope: String = "user/*.cruds") throws -> String {
            try server.services.authority.issueClaims(subject: "user:\(user)", scope: scope, ttl: 3600, now: server.clock.now(),
                                                      role: role, fhirUser: user, patient: patient, organization: nil).token
        }
        let stranger = try token(.practitioner, "Practitioner/dr-sin-relacion")
        let treating = try token(.practitioner, "Practitioner/dr-tratante")
        let otherPatient = try token(.patient, "Patient/otro", patient: "otro", scope: "patient/*.cruds")
        try await server.run { op in
            try await InteropMatchTests.seed(op)
            #expect(try await op.send(.post, "/fhir/CareTeam", json: #"{"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/gpe"},"participant":[{"member":{"reference":"Practitioner/dr-tratante"}}]}"#).status == 201)
            let byCURP = InteropMatchTests.parameters(#"{"resourceType":"Patient","identifier":[{"system":"http://www.renapo.gob.mx/curp","value":"\#(InteropMatchTests.curp)"}]}"#)
            let byNSS = InteropMatchTests.parameters(#"{"resourceType":"Patient","identifier":[{"system":"http://www.imss.gob.mx/nss","value":"12345678903"}]}"#)
            let byName = InteropMatchTests.parameters(InteropMatchTests.patient("x", given: "María Guadalupe", family: "Hernández López", born: "1985-07-21", gender: "female"))

            // the treating practitioner sees the record
            let t = Client(client: op.client, token: treating)
            let tr = try await t.send(.post, "/fhir/Patient/$match", json: byCURP)
            #expect(InteropMatchTests.matches(tr).map(\.id) == ["gpe"])
            #expect(InteropMatchTests.outcomes(tr).isEmpty)

            // a practitioner without a relationship: no record, only that one exists and how to ask
            let s = Client(client: op.client, token: stranger)
            for body in [byCURP, byNSS] {
                let r = try await s.send(.post, "/fhir/Patient/$match", json: body)
                #expect(r.status == 200)
                #expect(InteropMatchTests.matches(r).isEmpty)
                #expect(InteropMatchTests.outcomes(r) == ["suppressed"])
                #expect(r.text.contains("/solicitar-acceso"))
                #expect(!r.text.contains("Guadalupe") && !r.text.contains("gpe"), "\(r.text)")
            }
            // demographics alone reveal nothing, not even that a record exists
            let n = try await s.send(.post, "/fhir/Patient/$match", json: byName)
            #expect(n.status == 200 && n.json["entry"] == nil, "\(n.text)")
            // an identifier nobody has: the same empty answer as for demographics
            let nobody = InteropMatchTests.parameters(#"{"resourceType":"Patient","identifier":[{"system":"http://www.imss.gob.mx/nss","value":"99999999990"}]}"#)
            #expect(try await s.send(.post, "/fhir/Patient/$match", json: nobody).json["entry"] == nil)

            // a patient probing someone else's CURP learns nothing
            let p = Client(client: op.client, token: otherPatient)
            let pr = try await p.send(.post, "/fhir/Patient/$match", json: byCURP)
            #expect(pr.status == 200 && pr.json["entry"] == nil, "\(pr.text)")
        }
    }
}
