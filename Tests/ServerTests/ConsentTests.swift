import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
@_spi(Unguarded) import Storage
import Testing
@_spi(Unguarded) import Trust

/// Consent (docs/consent.md) end to end over HTTP: consent requests, revocation, break-the-glass, the right not
/// to know and opposition — all decided at the one decision point (`AccessPolicy.decide`).
@Suite("Consent end to end")
struct ConsentTests {
    static let taskCodes = PrivacyCodes.taskCodes

    static func token(_ server: TestServer, role: Principal.Role, fhirUser: String?, patient: String? = nil,
                      organization: String? = nil, scope: String) throws -> String {
        try server.services.authority.issueClaims(subject: "user:\(fhirUser ?? role.rawValue)", scope: scope, ttl: 24 * 3600, now: server.clock.now(),
                                                  role: role, fhirUser: fhirUser, patient: patient, organization: organization).token
    }

    static func total(_ r: Client.Reply) -> Int {
        if case let .number(n)? = r.json["total"] { return Int(n) ?? -1 }
        return -1
    }

    static func ids(_ r: Client.Reply, type: String) -> [String] {
        (r.json["entry"]?.arrayValue ?? []).compactMap { e in
            e["resource"]?["resourceType"]?.stringValue == type ? e["resource"]?["id"]?.stringValue : nil
        }
    }

    static let clinician = "user/*.cruds"
    static let patientScope = "patient/*.cruds"

    @Test(arguments: ServerBackend.allCases)
    func requestApproveRevoke(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let dr = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/dr-lopez", organization: "Organization/clinica-norte", scope: ConsentTests.clinician)
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/ana", patient: "ana", scope: ConsentTests.patientScope)
        try await server.run { op in
            let doctor = Client(client: op.client, token: dr)
            let ana = Client(client: op.client, token: pt)
            #expect(try await op.send(.put, "/fhir/Patient/ana", json: #"{"resourceType":"Patient","id":"ana","name":[{"family":"Pérez","given":["Ana"]}]}"#).status == 201)
            #expect(try await op.send(.put, "/fhir/Observation/glu-ana", json: #"{"resourceType":"Observation","id":"glu-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/ana"},"valueQuantity":{"value":5.4,"unit":"mmol/L"}}"#).status == 201)

            // no treating relationship: hidden == not found, searches and counts are empty
            let missing = try await doctor.send(.get, "/fhir/Observation/does-not-exist")
            let hidden = try await doctor.send(.get, "/fhir/Observation/glu-ana")
            #expect(hidden.status == 404)
            #expect(missing.status == 404)
            #expect(hidden.issueCodes == missing.issueCodes)
            #expect(ConsentTests.total(try await doctor.send(.get, "/fhir/Observation?subject=Patient/ana")) == 0)
            #expect(ConsentTests.total(try await doctor.send(.get, "/fhir/Observation?_summary=count")) == 0)
            // a practitioner cannot grant themselves a Consent
            #expect(try await doctor.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"text":"x"}],"patient":{"reference":"Patient/ana"},"policyRule":{"text":"x"},"provision":{"type":"permit","actor":[{"role":{"text":"x"},"reference":{"reference":"Practitioner/dr-lopez"}}]}}"#).status == 403)

            // the practitioner asks, like a permission on a phone
            let ask = try await doctor.send(.post, "/fhir/Task", json: #"""
            {"resourceType":"Task","status":"requested","intent":"proposal",
             "code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"consent-request"}]},
             "for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dr-lopez"},
             "input":[{"type":{"text":"purpose"},"valueCode":"TREAT"},
                      {"type":{"text":"duration"},"valueDuration":{"value":30,"unit":"d","system":"http://unitsofmeasure.org","code":"d"}}]}
            """#)
            #expect(ask.status == 201)
            let taskID = try #require(ask.json["id"]?.stringValue)
            // the request alone grants nothing
            #expect(try await doctor.send(.get, "/fhir/Observation/glu-ana").status == 404)
            // the patient sees the request and approves it
            let requests = try await ana.send(.get, "/fhir/Task?code=\(ConsentTests.taskCodes)|consent-request")
            #expect(ConsentTests.ids(requests, type: "Task") == [taskID])
            let approved = try await ana.send(.post, "/fhir/Task/\(taskID)/$approve")
            #expect(approved.status == 201)
            let consentID = try #require(approved.json["id"]?.stringValue)
            #expect(approved.json["provision"]?["period"]?["end"]?.stringValue != nil)
            #expect(try await ana.send(.get, "/fhir/Task/\(taskID)").json["status"]?.stringValue == "completed")

            // the same read now succeeds, and the audit entry names the Consent that allowed it
            #expect(try await doctor.send(.get, "/fhir/Observation/glu-ana").status == 200)
            #expect(ConsentTests.total(try await doctor.send(.get, "/fhir/Observation?subject=Patient/ana")) == 1)
            let log = try await ana.send(.get, "/fhir/AuditEvent?patient=ana&_count=50")
            let reads = (log.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter {
                $0["outcomeDesc"]?.stringValue == "HTTP 200 GET /fhir/Observation/glu-ana"
            }
            #expect(reads.count == 1)
            let policies = (reads.first?["agent"]?.arrayValue ?? []).flatMap { ($0["policy"]?.arrayValue ?? []).compactMap(\.stringValue) }
            #expect(policies.contains("Consent/\(consentID)"))

            // revocation holds from the very next request
            var consent = try await ana.send(.get, "/fhir/Consent/\(consentID)").json
            consent = consent.setting("status", .string("inactive"))
            #expect(try await ana.send(.put, "/fhir/Consent/\(consentID)", body: consent.serialized()).status == 200)
            #expect(try await doctor.send(.get, "/fhir/Observation/glu-ana").status == 404)
            #expect(ConsentTests.total(try await doctor.send(.get, "/fhir/Observation?subject=Patient/ana")) == 0)

            // a denied request grants nothing
            let ask2 = try await doctor.send(.post, "/fhir/Task", json: #"{"resourceType":"Task","status":"requested","intent":"proposal","code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"consent-request"}]},"for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dr-lopez"}}"#)
            let task2 = try #require(ask2.json["id"]?.stringValue)
            #expect(try await ana.send(.post, "/fhir/Task/\(task2)/$deny").status == 200)
            #expect(try await ana.send(.post, "/fhir/Task/\(task2)/$approve").status == 409)
            #expect(try await doctor.send(.get, "/fhir/Observation/glu-ana").status == 404)
            // only the patient answers
            #expect(try await doctor.send(.post, "/fhir/Task/\(task2)/$approve").status == 403)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func breakTheGlass(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let dr = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/dr-urgencias", scope: ConsentTests.clinician)
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/luis", patient: "luis", scope: ConsentTests.patientScope)
        let officer = try ConsentTests.token(server, role: .privacyOfficer, fhirUser: "Practitioner/privacidad", scope: "user/*.rus")
        try await server.run { op in
            let doctor = Client(client: op.client, token: dr)
            let luis = Client(client: op.client, token: pt)
            let privacy = Client(client: op.client, token: officer)
            try await op.send(.put, "/fhir/Patient/luis", json: #"{"resourceType":"Patient","id":"luis"}"#)
            try await op.send(.put, "/fhir/Practitioner/dr-urgencias", json: #"{"resourceType":"Practitioner","id":"dr-urgencias","name":[{"prefix":["Dr."],"given":["Mario"],"family":"Ramírez Soto"}]}"#)
            try await op.send(.put, "/fhir/Condition/dx-luis", json: #"{"resourceType":"Condition","id":"dx-luis","subject":{"reference":"Patient/luis"},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"F32.1"}]}}"#)
            #expect(try await doctor.send(.get, "/fhir/Condition/dx-luis").status == 404)
            // asserting the emergency purpose alone opens nothing, and says how to break the glass
            let asserted = try await doctor.send(.get, "/fhir/Condition?subject=Patient/luis", headers: ["X-Purpose-Of-Use": "ETREAT"])
            #expect(ConsentTests.total(asserted) == 0)
            #expect(asserted.text.contains("$break-the-glass"))
            // a reason is required
            #expect(try await doctor.send(.post, "/fhir/Patient/luis/$break-the-glass").status == 400)
            let glass = try await doctor.send(.post, "/fhir/Patient/luis/$break-the-glass", json: #"{"resourceType":"Parameters","parameter":[{"name":"reason","valueString":"Paciente inconsciente en urgencias, se requiere historial"}]}"#)
            #expect(glass.status == 201)
            let taskID = try #require(glass.json["id"]?.stringValue)
            // access, including the sensitive (mental health) diagnosis
            #expect(try await doctor.send(.get, "/fhir/Condition/dx-luis").status == 200)
            // the same practitioner's ordinary work for another patient is not flagged, and that
            // patient's log names neither Luis's grant nor anything of his
            try await op.send(.put, "/fhir/Patient/otro", json: #"{"resourceType":"Patient","id":"otro"}"#)
            try await op.send(.put, "/fhir/CareTeam/equipo-otro", json: #"{"resourceType":"CareTeam","id":"equipo-otro","subject":{"reference":"Patient/otro"},"participant":[{"member":{"reference":"Practitioner/dr-urgencias"}}]}"#)
            #expect(try await doctor.send(.get, "/fhir/Patient/otro").status == 200)
            let otro = Client(client: op.client, token: try ConsentTests.token(server, role: .patient, fhirUser: "Patient/otro", patient: "otro", scope: ConsentTests.patientScope))
            let otroLog = try await otro.send(.get, "/fhir/AuditEvent?patient=otro&_count=50")
            #expect(otroLog.text.contains("dr-urgencias"))
            #expect(!otroLog.text.contains("ETREAT"))
            #expect(!otroLog.text.contains("Task/\(taskID)"))
            #expect(!otroLog.text.contains("luis"))
            // the patient is told, and their audit log shows the access flagged ETREAT
            let told = try await luis.send(.get, "/fhir/Communication?subject=Patient/luis")
            #expect(ConsentTests.total(told) == 1)
            #expect(told.text.contains("Task/\(taskID)"))
            #expect(told.text.contains("Dr. Mario Ramírez Soto, Practitioner/dr-urgencias"), "the patient is told who, by name")
            let log = try await luis.send(.get, "/fhir/AuditEvent?patient=luis&_count=50")
            #expect(log.text.contains("ETREAT"))
            #expect(log.text.contains("Task/\(taskID)"))
            // privacy officers have a review queue
            let queue = try await privacy.send(.get, "/fhir/Task?code=\(ConsentTests.taskCodes)|btg-review&status=requested")
            #expect(ConsentTests.ids(queue, type: "Task") == [taskID])
            // nobody forges a break-the-glass record through the ordinary API
            #expect(try await doctor.send(.post, "/fhir/Task", json: #"{"resourceType":"Task","status":"requested","intent":"order","code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"btg-review"}]},"for":{"reference":"Patient/luis"},"requester":{"reference":"Practitioner/dr-urgencias"},"executionPeriod":{"start":"2020-01-01T00:00:00Z","end":"2099-01-01T00:00:00Z"}}"#).status == 403)
            // it ends by itself
            server.clock.advance(seconds: 4 * 3600 + 1)
            #expect(try await doctor.send(.get, "/fhir/Condition/dx-luis").status == 404)
            // the officer closes the review; a second, unjustified access is revoked at once
            #expect(try await doctor.send(.post, "/fhir/Task/\(taskID)/$review").status == 403)
            let reviewed = try await privacy.send(.post, "/fhir/Task/\(taskID)/$review", json: #"{"resourceType":"Parameters","parameter":[{"name":"note","valueString":"Justificado: urgencia documentada"}]}"#)
            #expect(reviewed.status == 200)
            #expect(reviewed.json["status"]?.stringValue == "completed")
            let again = try await doctor.send(.post, "/fhir/Patient/luis/$break-the-glass", headers: ["X-Break-The-Glass-Reason": "Consulta de seguimiento sin urgencia real"])
            #expect(again.status == 201)
            let second = try #require(again.json["id"]?.stringValue)
            #expect(try await doctor.send(.get, "/fhir/Condition/dx-luis").status == 200)
            #expect(try await privacy.send(.post, "/fhir/Task/\(second)/$review", json: #"{"resourceType":"Parameters","parameter":[{"name":"outcome","valueCode":"revoke"}]}"#).status == 200)
            #expect(try await doctor.send(.get, "/fhir/Condition/dx-luis").status == 404)
            #expect(ConsentTests.ids(try await privacy.send(.get, "/fhir/Task?code=\(ConsentTests.taskCodes)|btg-review&status=requested"), type: "Task").isEmpty)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func rightNotToKnow(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let dr = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/dr-genetica", scope: ConsentTests.clinician)
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/marta", patient: "marta", scope: ConsentTests.patientScope)
        try await server.run { op in
            let doctor = Client(client: op.client, token: dr)
            let marta = Client(client: op.client, token: pt)
            try await op.send(.put, "/fhir/Patient/marta", json: #"{"resourceType":"Patient","id":"marta"}"#)
            try await op.send(.put, "/fhir/CareTeam/equipo-marta", json: #"{"resourceType":"CareTeam","id":"equipo-marta","subject":{"reference":"Patient/marta"},"participant":[{"member":{"reference":"Practitioner/dr-genetica"}}]}"#)
            // consent to genetic testing by her clinician (express consent for GDIS)
            try await marta.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/marta"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},"provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Practitioner/dr-genetica"}}],"purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"TREAT"}],"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"GDIS"}]}}"#)
            // …and her choice not to be told about genetic results
            let ntk = try await marta.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/marta"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/marta"}}],"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"GDIS"}]}}"#)
            #expect(ntk.status == 201)
            // the clinician records a genetic result (labelled GDIS on write) and an ordinary one
            let created = try await doctor.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"51969-4","display":"Genetic analysis report"}]},"subject":{"reference":"Patient/marta"},"valueString":"Variante patogénica"}"#)
            #expect(created.status == 201)
            let gid = try #require(created.json["id"]?.stringValue)
            #expect(created.json["meta"]?["security"]?.arrayValue?.contains { $0["code"]?.stringValue == "GDIS" } == true)
            #expect(try await doctor.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/marta"},"valueQuantity":{"value":5.1,"unit":"mmol/L"}}"#).status == 201)

            // the treating team sees it, with a clear marker of the preference
            let team = try await doctor.send(.get, "/fhir/Observation?subject=Patient/marta")
            #expect(ConsentTests.total(team) == 2)
            #expect(team.text.contains("chose not to be told"))

            // nothing the patient's token receives betrays it
            func neverShows(_ path: String, status: Int = 200) async throws {
                let r = try await marta.send(.get, path)
                #expect(r.status == status, "\(path)")
                if status == 404 {
                    // exactly like an id that never existed
                    let other = try await marta.send(.get, path.replacingOccurrences(of: gid, with: "never-existed"))
                    #expect(r.text.replacingOccurrences(of: gid, with: "never-existed") == other.text, "\(path) differs from a missing resource")
                    return
                }
                let text = String(decoding: r.json.setting("link", nil).serialized(), as: UTF8.self)
                #expect(!text.contains(gid), "\(path) leaks the withheld result")
                #expect(!text.contains("51969-4"), "\(path) leaks the withheld code")
            }
            try await neverShows("/fhir/Observation/\(gid)", status: 404)
            try await neverShows("/fhir/Observation/\(gid)/_history", status: 404)
            try await neverShows("/fhir/Observation/\(gid)/_history/1", status: 404)
            try await neverShows("/fhir/Observation?subject=Patient/marta")
            try await neverShows("/fhir/Observation?code=http://loinc.org|51969-4")
            try await neverShows("/fhir/Observation?_security=http://terminology.hl7.org/CodeSystem/v3-ActCode|GDIS")
            try await neverShows("/fhir/Patient/marta/$everything")
            try await neverShows("/fhir/Patient/marta/Observation")
            try await neverShows("/fhir/Patient?_id=marta&_revinclude=Observation:subject")
            try await neverShows("/fhir/Patient?_has:Observation:subject:code=http://loinc.org|51969-4")
            try await neverShows("/fhir/Observation/_history")
            try await neverShows("/fhir/_history", status: 403)
            try await neverShows("/fhir/Provenance")
            // her own access log shows the team's accesses, but not what the withheld result is
            try await neverShows("/fhir/AuditEvent")
            #expect(ConsentTests.total(try await marta.send(.get, "/fhir/Observation?subject=Patient/marta")) == 1)
            #expect(ConsentTests.total(try await marta.send(.get, "/fhir/Observation?_summary=count")) == 1)
            #expect(ConsentTests.total(try await marta.send(.get, "/fhir/Patient?_has:Observation:subject:code=http://loinc.org|51969-4")) == 0)
            #expect(ConsentTests.total(try await marta.send(.get, "/fhir/Observation/_history")) == 1)

            // the patient cannot record their own disclosure
            let disclosure = #"{"resourceType":"Task","status":"completed","intent":"order","code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"disclosure"}]},"for":{"reference":"Patient/marta"},"focus":{"reference":"Observation/\#(gid)"},"requester":{"reference":"Practitioner/dr-genetica"},"note":[{"text":"Resultado comunicado en consulta con asesoría genética"}]}"#
            #expect(try await marta.send(.post, "/fhir/Task", json: disclosure).status == 403)
            try await neverShows("/fhir/Observation/\(gid)", status: 404)
            // the clinician records the accompanied disclosure; from then on it appears
            #expect(try await doctor.send(.post, "/fhir/Task", json: disclosure).status == 201)
            #expect(try await marta.send(.get, "/fhir/Observation/\(gid)").status == 200)
            let after = try await marta.send(.get, "/fhir/Observation?subject=Patient/marta")
            #expect(ConsentTests.total(after) == 2)
            #expect(try await marta.send(.get, "/fhir/Patient/marta/$everything").text.contains(gid))
            #expect(try await marta.send(.get, "/fhir/Observation/_history").text.contains(gid))
        }
    }

    /// A request that names resource types and a date range is granted as exactly that part of
    /// the record; a named condition the patient chose not to know is withheld from her alone;
    /// a practitioner in a team within the patient's team treats her.
    @Test(arguments: ServerBackend.allCases)
    func scopedGrantNamedConditionAndNestedTeams(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let lopez = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/dr-lopez", scope: ConsentTests.clinician)
        let house = try ConsentTests.token(server, role: .practitioner, fhirUser: "Practitioner/dr-house", scope: ConsentTests.clinician)
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/ana", patient: "ana", scope: ConsentTests.patientScope)
        try await server.run { op in
            let specialist = Client(client: op.client, token: lopez)
            let neurologist = Client(client: op.client, token: house)
            let ana = Client(client: op.client, token: pt)
            for r in [
                #"{"resourceType":"Patient","id":"ana"}"#,
                #"{"resourceType":"Observation","id":"glu-2023","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2023-05-01"}"#,
                #"{"resourceType":"Observation","id":"glu-2025","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2025-02-10"}"#,
                #"{"resourceType":"Condition","id":"huntington","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10","display":"Enfermedad de Huntington"}]},"subject":{"reference":"Patient/ana"},"onsetDateTime":"2025-03-01"}"#,
                #"{"resourceType":"Condition","id":"dm2","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"E11"}]},"subject":{"reference":"Patient/ana"},"onsetDateTime":"2019-07-15"}"#,
                #"{"resourceType":"Encounter","id":"visit","status":"finished","class":{"code":"AMB"},"subject":{"reference":"Patient/ana"},"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]}]}"#,
                // dr-house is in the neurology team through his role; that team is in Ana's team
                #"{"resourceType":"PractitionerRole","id":"house-neuro","active":true,"practitioner":{"reference":"Practitioner/dr-house"}}"#,
                #"{"resourceType":"CareTeam","id":"neuro","participant":[{"member":{"reference":"PractitionerRole/house-neuro"}}]}"#,
                #"{"resourceType":"CareTeam","id":"equipo-ana","subject":{"reference":"Patient/ana"},"participant":[{"member":{"reference":"CareTeam/neuro"}}]}"#,
            ] { #expect(try await op.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"batch","entry":[{"resource":\#(r),"request":{"method":"PUT","url":"\#(ConsentTests.url(r))"}}]}"#).status == 200) }

            // 1. a request for Observations of 2025 only
            let ask = try await specialist.send(.post, "/fhir/Task", json: #"""
            {"resourceType":"Task","status":"requested","intent":"proposal",
             "code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"consent-request"}]},
             "for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dr-lopez"},
             "input":[{"type":{"text":"purpose"},"valueCode":"TREAT"},{"type":{"text":"class"},"valueCode":"Observation"},
                      {"type":{"text":"class"},"valueCode":"Condition"},
                      {"type":{"text":"dataPeriod"},"valuePeriod":{"start":"2025-01-01","end":"2025-12-31"}}]}
            """#)
            #expect(ask.status == 201)
            let taskID = try #require(ask.json["id"]?.stringValue)
            // a class that is not a resource type, or a data period that is not a date, is refused
            // when answering: a precise OperationOutcome, nothing granted, the request still open
            for (input, field) in [(#"{"type":{"text":"class"},"valueCode":"NoSuchType"}"#, "class"),
                                   (#"{"type":{"text":"dataPeriod"},"valuePeriod":{"start":"2025-13-45"}}"#, "dataPeriod")] {
                let bad = try await specialist.send(.post, "/fhir/Task", json: #"""
                {"resourceType":"Task","status":"requested","intent":"proposal",
                 "code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"consent-request"}]},
                 "for":{"reference":"Patient/ana"},"requester":{"reference":"Practitioner/dr-lopez"},"input":[\#(input)]}
                """#)
                if field == "dataPeriod" {
                    // an impossible date is already refused by validation when the request is made,
                    // naming where it is
                    #expect(bad.status == 422 && bad.locations.contains("Task.input[0].valuePeriod.start"), "\(bad.text.prefix(300))")
                    continue
                }
                let badID = try #require(bad.json["id"]?.stringValue, "\(field): \(bad.status) \(bad.text.prefix(300))")
                let refused = try await ana.send(.post, "/fhir/Task/\(badID)/$approve")
                #expect(refused.status == 400, "\(field)")
                #expect(refused.json["resourceType"]?.stringValue == "OperationOutcome" && refused.text.contains("'\(field)'"), "\(field)")
                #expect(try await ana.send(.get, "/fhir/Task/\(badID)").json["status"]?.stringValue == "requested")
            }
            #expect(ConsentTests.total(try await ana.send(.get, "/fhir/Consent?_summary=count")) == 0)
            // Ana narrows it to Observations
            let approved = try await ana.send(.post, "/fhir/Task/\(taskID)/$approve", json: #"{"resourceType":"Parameters","parameter":[{"name":"class","valueCode":"Observation"}]}"#)
            #expect(approved.status == 201)
            #expect(approved.json["provision"]?["class"]?.arrayValue?.compactMap { $0["code"]?.stringValue } == ["Observation"])
            #expect(approved.json["provision"]?["dataPeriod"]?["start"]?.stringValue == "2025-01-01")
            #expect(try await specialist.send(.get, "/fhir/Observation/glu-2025").status == 200)
            #expect(try await specialist.send(.get, "/fhir/Patient/ana").status == 200)
            let outside = try await specialist.send(.get, "/fhir/Observation/glu-2023")
            #expect(outside.status == 404)
            #expect(outside.issueCodes == (try await specialist.send(.get, "/fhir/Observation/never-was")).issueCodes)
            #expect(try await specialist.send(.get, "/fhir/Condition/dm2").status == 404)
            #expect(try await specialist.send(.get, "/fhir/Observation/glu-2023/_history").status == 404)
            #expect(ConsentTests.total(try await specialist.send(.get, "/fhir/Observation?subject=Patient/ana")) == 1)
            #expect(ConsentTests.total(try await specialist.send(.get, "/fhir/Condition?_summary=count")) == 0)
            let everything = try await specialist.send(.get, "/fhir/Patient/ana/$everything")
            #expect(Set(ConsentTests.ids(everything, type: "Observation")) == ["glu-2025"])
            #expect(ConsentTests.ids(everything, type: "Condition").isEmpty)
            #expect(ConsentTests.ids(everything, type: "Patient") == ["ana"])
            // the grant is to read ("access"); it does not let him write into her record
            #expect(try await specialist.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/ana"}}"#).status == 403)

            // 2. a team within her team treats her
            #expect(try await neurologist.send(.get, "/fhir/Condition/huntington").status == 200)
            // 3. Ana chooses not to be told about one named condition
            let ntk = try await ana.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/ana"}}],"code":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"G10"}]}]}}"#)
            #expect(ntk.status == 201)
            let team = try await neurologist.send(.get, "/fhir/Condition?subject=Patient/ana")
            #expect(ConsentTests.total(team) == 2)
            #expect(team.text.contains("chose not to be told about: G10"))
            for path in ["/fhir/Condition/huntington", "/fhir/Encounter/visit", "/fhir/Condition/huntington/_history"] {
                let r = try await ana.send(.get, path)
                #expect(r.status == 404, "\(path)")
            }
            for path in ["/fhir/Condition?subject=Patient/ana", "/fhir/Condition?code=G10", "/fhir/Encounter", "/fhir/Patient/ana/$everything",
                         "/fhir/Condition/_history", "/fhir/Patient?_id=ana&_revinclude=Condition:subject"] {
                let r = try await ana.send(.get, path)
                #expect(r.status == 200, "\(path)")
                // (her own Consent names what she chose not to know; nothing else may)
                let others = (r.json["entry"]?.arrayValue ?? []).filter { $0["resource"]?["resourceType"]?.stringValue != "Consent" }
                let text = String(decoding: JSON.array(others).serialized(), as: UTF8.self)
                #expect(!text.isEmpty)
                #expect(!text.contains("huntington") && !text.contains("G10") && !text.contains("Huntington"), "\(path) leaks the withheld condition: \(others.filter { String(decoding: $0.serialized(), as: UTF8.self).contains("untington") || String(decoding: $0.serialized(), as: UTF8.self).contains("G10") }.map { String(decoding: $0.serialized(), as: UTF8.self) })")
            }
            #expect(ConsentTests.total(try await ana.send(.get, "/fhir/Condition?_summary=count")) == 1)
            #expect(ConsentTests.total(try await ana.send(.get, "/fhir/Patient?_has:Condition:subject:code=G10")) == 0)
            // the neurologist records the accompanied disclosure of the diagnosis
            #expect(try await neurologist.send(.post, "/fhir/Task", json: #"{"resourceType":"Task","status":"completed","intent":"order","code":{"coding":[{"system":"\#(ConsentTests.taskCodes)","code":"disclosure"}]},"for":{"reference":"Patient/ana"},"focus":{"reference":"Condition/huntington"},"requester":{"reference":"Practitioner/dr-house"}}"#).status == 201)
            #expect(try await ana.send(.get, "/fhir/Condition/huntington").status == 200)
            #expect(ConsentTests.total(try await ana.send(.get, "/fhir/Condition?_summary=count")) == 2)
            // the encounter for it was not disclosed
            #expect(try await ana.send(.get, "/fhir/Encounter/visit").status == 404)
        }
    }

    static func url(_ resource: String) -> String {
        guard let j = try? JSONParser.parse(resource), let t = j["resourceType"]?.stringValue, let i = j["id"]?.stringValue else { return "" }
        return "\(t)/\(i)"
    }

    @Test(arguments: ServerBackend.allCases)
    func oppositionToSecondaryUse(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/rosa", patient: "rosa", scope: ConsentTests.patientScope)
        try await server.run { op in
            let rosa = Client(client: op.client, token: pt)
            for p in ["rosa", "jose", "eva"] { try await op.send(.put, "/fhir/Patient/\(p)", json: #"{"resourceType":"Patient","id":"\#(p)"}"#) }
            func study(_ p: String) -> String {
                #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/\#(p)"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},"provision":{"type":"permit","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HRESCH"}]}}"#
            }
            try await op.send(.post, "/fhir/Consent", json: study("rosa"))
            try await op.send(.post, "/fhir/Consent", json: study("jose"))
            // research sees only patients who consented
            let research = ["X-Purpose-Of-Use": "HRESCH"]
            #expect(ConsentTests.ids(try await op.send(.get, "/fhir/Patient", headers: research), type: "Patient").sorted() == ["jose", "rosa"])
            // Rosa opposes research and algorithm training (ARCO)
            #expect(try await rosa.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/rosa"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","purpose":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"HRESCH"},{"system":"http://terminology.hl7.org/CodeSystem/v3-ActReason","code":"MLTRAINING"}]}}"#).status == 201)
            #expect(ConsentTests.ids(try await op.send(.get, "/fhir/Patient", headers: research), type: "Patient") == ["jose"])
            #expect(ConsentTests.total(try await op.send(.get, "/fhir/Patient?_summary=count", headers: ["X-Purpose-Of-Use": "MLTRAINING"])) == 0)
            // a secondary purpose never widens a role: an auditor still sees no clinical data
            let auditor = Client(client: op.client, token: try ConsentTests.token(server, role: .auditor, fhirUser: nil, scope: "user/*.rs"))
            let asAuditor = try await auditor.send(.get, "/fhir/Patient/jose", headers: research)
            #expect(asAuditor.status == 403 || asAuditor.status == 404)
            // ordinary operation is unaffected
            #expect(ConsentTests.total(try await op.send(.get, "/fhir/Patient")) == 3)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func payerSeesOnlyWhatPaymentNeedsAndHonoursDenials(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let py = try ConsentTests.token(server, role: .payer, fhirUser: nil, organization: "Organization/aseguradora", scope: "user/*.rs")
        let pt = try ConsentTests.token(server, role: .patient, fhirUser: "Patient/eli", patient: "eli", scope: ConsentTests.patientScope)
        try await server.run { op in
            let payer = Client(client: op.client, token: py)
            let eli = Client(client: op.client, token: pt)
            try await op.send(.put, "/fhir/Patient/eli", json: #"{"resourceType":"Patient","id":"eli"}"#)
            try await op.send(.put, "/fhir/Coverage/poliza-eli", json: #"{"resourceType":"Coverage","id":"poliza-eli","status":"active","beneficiary":{"reference":"Patient/eli"},"payor":[{"reference":"Organization/aseguradora"}]}"#)
            try await op.send(.put, "/fhir/Observation/lab-eli", json: #"{"resourceType":"Observation","id":"lab-eli","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/eli"}}"#)
            // Y1: payment data of its beneficiary
            #expect(ConsentTests.total(try await payer.send(.get, "/fhir/Coverage?beneficiary=Patient/eli")) == 1)
            // Y2: never results or notes
            #expect(try await payer.send(.get, "/fhir/Observation/lab-eli").status == 403)
            // Y3: another purpose
            #expect(ConsentTests.total(try await payer.send(.get, "/fhir/Coverage?beneficiary=Patient/eli", headers: ["X-Purpose-Of-Use": "TREAT"])) == 0)
            // Y4: an Encounter in outline only, whatever path it is read by
            try await op.send(.put, "/fhir/Condition/vih-eli", json: #"{"resourceType":"Condition","id":"vih-eli","code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B20"}]},"subject":{"reference":"Patient/eli"}}"#)
            try await op.send(.put, "/fhir/Encounter/enc-eli", json: #"{"resourceType":"Encounter","id":"enc-eli","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/eli"},"participant":[{"individual":{"reference":"Practitioner/infecto"}}],"period":{"start":"2026-10-01T10:00:00Z","end":"2026-10-01T10:30:00Z"},"reasonCode":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10","code":"B20"}]}],"diagnosis":[{"condition":{"reference":"Condition/vih-eli"}}],"serviceProvider":{"reference":"Organization/clinica"}}"#)
            func outline(_ r: JSON?) {
                #expect(r?["period"] != nil && r?["class"] != nil && r?["serviceProvider"] != nil)
                #expect(r?["reasonCode"] == nil && r?["diagnosis"] == nil && r?["participant"] == nil)
                #expect(r?["meta"]?["security"] == nil)
                #expect(r?["meta"]?["tag"]?.arrayValue?.contains { $0["code"]?.stringValue == "SUBSETTED" } == true)
            }
            let enc = try await payer.send(.get, "/fhir/Encounter/enc-eli")
            #expect(enc.status == 200)
            outline(enc.json)
            #expect(!enc.text.contains("B20") && !enc.text.contains("HIV"))
            let encounters = try await payer.send(.get, "/fhir/Encounter?patient=Patient/eli")
            #expect(ConsentTests.total(encounters) == 1)
            outline(encounters.json["entry"]?.arrayValue?.first?["resource"])
            #expect(!encounters.text.contains("B20"))
            let batch = try await payer.send(.post, "/fhir", json: #"{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Encounter/enc-eli"}},{"request":{"method":"GET","url":"Encounter?subject=Patient/eli"}}]}"#)
            #expect(batch.status == 200)
            #expect(!batch.text.contains("B20"))
            #expect(batch.text.contains("SUBSETTED"))
            // searching by what the outline leaves out is refused — directly, through `_has` or `_content`
            for path in ["/fhir/Encounter?reason-code=B20", "/fhir/Patient?_has:Encounter:patient:reason-code=B20",
                         "/fhir/Encounter?diagnosis=Condition/vih-eli", "/fhir/Encounter?_content=B20", "/fhir/Claim?encounter.reason-code=B20"] {
                let r = try await payer.send(.get, path)
                #expect(r.status == 403, "\(path)")
                #expect(r.issueCodes == ["forbidden"], "\(path)")
            }
            // a type the payer may not read cannot be probed through another one
            #expect(ConsentTests.total(try await payer.send(.get, "/fhir/Patient?_has:Condition:subject:code=B20")) == 0)
            // …while the same query with a readable type works
            #expect(ConsentTests.total(try await payer.send(.get, "/fhir/Patient?_has:Coverage:beneficiary:status=active")) == 1)
            // the patient denies the payer: from the next request it sees nothing of theirs
            #expect(try await eli.send(.post, "/fhir/Consent", json: #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/eli"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Organization/aseguradora"}}]}}"#).status == 201)
            #expect(ConsentTests.total(try await payer.send(.get, "/fhir/Coverage?beneficiary=Patient/eli")) == 0)
            #expect(try await payer.send(.get, "/fhir/Coverage/poliza-eli").status == 404)
        }
    }
}
