import FHIR
import Foundation
import Testing
@testable import Server
@_spi(Unguarded) import Trust

/// The leak matrix (docs/access.md): two patients, a practitioner with a treating relationship to one
/// of them, the patient herself and a payer, over every read path. Nothing of the other patient
/// — no resource, total or count — comes back, and the status codes are the same whether or not
/// the hidden data exists.
/// Every case runs on SQLite and, when `ENLACE_TEST_DATABASE_URL` is set (scripts/test), on
/// PostgreSQL: the visibility SQL of both dialects is under test.
@Suite("Leak matrix: nobody sees a patient without a reason")
struct LeakMatrixTests {
    static let seed: [(String, String)] = [
        ("Organization/umf", #"{"resourceType":"Organization","id":"umf","name":"UMF 10"}"#),
        ("Organization/aseguradora", #"{"resourceType":"Organization","id":"aseguradora","name":"Aseguradora"}"#),
        ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Ruiz"}]}"#),
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","identifier":[{"system":"http://hospital.example.mx/expediente","value":"ANA1"}],"name":[{"family":"Pérez"}]}"#),
        ("Patient/luis", #"{"resourceType":"Patient","id":"luis","identifier":[{"system":"http://hospital.example.mx/expediente","value":"LUIS1"}],"name":[{"family":"Secreto"}]}"#),
        ("Encounter/enc-ana", #"{"resourceType":"Encounter","id":"enc-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}],"serviceProvider":{"reference":"Organization/umf"}}"#),
        ("Observation/obs-ana", #"{"resourceType":"Observation","id":"obs-ana","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-01-01T00:00:00Z"}"#),
        ("Observation/obs-luis", #"{"resourceType":"Observation","id":"obs-luis","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0"}]},"subject":{"reference":"Patient/luis"},"performer":[{"reference":"Practitioner/dra"}],"effectiveDateTime":"2026-01-01T00:00:00Z"}"#),
        ("Condition/cond-luis", #"{"resourceType":"Condition","id":"cond-luis","subject":{"reference":"Patient/luis"},"code":{"text":"Secreto"}}"#),
        ("Coverage/cov-ana", #"{"resourceType":"Coverage","id":"cov-ana","status":"active","beneficiary":{"reference":"Patient/ana"},"payor":[{"reference":"Organization/aseguradora"}]}"#),
        ("Coverage/cov-luis", #"{"resourceType":"Coverage","id":"cov-luis","status":"active","beneficiary":{"reference":"Patient/luis"},"payor":[{"reference":"Organization/umf"}]}"#),
    ]

    /// Every read path, with the hidden patient's data as the target where a path names one.
    static let paths: [String] = [
        "/fhir/Patient/luis", "/fhir/Patient/luis/_history/1", "/fhir/Patient/luis/_history",
        "/fhir/Observation/obs-luis", "/fhir/Observation/obs-luis/_history",
        "/fhir/Patient", "/fhir/Patient?name=secreto", "/fhir/Patient?identifier=LUIS1", "/fhir/Observation",
        "/fhir/Observation?code=2339-0", "/fhir/Observation?subject:Patient.name=secreto", "/fhir/Observation?patient=luis",
        "/fhir/Patient?_has:Observation:patient:code=2339-0", "/fhir/Observation?_include=Observation:subject",
        "/fhir/Practitioner?_revinclude=Observation:performer", "/fhir/Patient?_revinclude=Condition:subject",
        "/fhir/Observation?_include=Observation:subject&_include:iterate=Patient:organization",
        "/fhir/Patient/luis/Observation", "/fhir/Patient/luis/$everything", "/fhir/Observation/$lastn?patient=luis",
        "/fhir/Patient/_history", "/fhir/Observation/_history", "/fhir/_history", "/fhir/Condition?_summary=count",
        "/fhir/Observation?_summary=count", "/fhir/Observation?_elements=subject", "/fhir/Coverage", "/fhir/Claim",
        "/fhir?_type=Patient,Observation", "/fhir/Provenance", "/fhir/Observation?_count=1",
        // prevention (docs/prevention.md): the care gaps of the hidden patient, and the panel of everyone visible
        "/fhir/Patient/luis/$care-gaps", "/fhir/Patient/$care-gaps?subject=Patient/luis", "/fhir/Patient/$care-gaps",
    ]

    /// The response without what only echoes the request (self links, OperationOutcomes that
    /// repeat the URL asked for).
    static func stripEchoes(_ json: JSON) -> JSON {
        switch json {
        case .object(let members):
            if json["resourceType"]?.stringValue == "OperationOutcome" { return .null }
            return .object(members.filter { $0.0 != "link" && $0.0 != "outcome" }.map { ($0.0, stripEchoes($0.1)) })
        case .array(let items):
            return .array(items.map(stripEchoes))
        default:
            return json
        }
    }

    func mustNotLeak(_ r: Client.Reply, _ what: String, secrets: [String] = ["luis", "LUIS1", "Secreto", "secreto", "cond-luis", "obs-luis"],
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status != 500, "\(what)", sourceLocation: sourceLocation)
        let text = LeakMatrixTests.stripEchoes(r.json).compactString
        for secret in secrets {
            #expect(!text.contains(secret), "\(what) leaked '\(secret)': \(text.prefix(300))", sourceLocation: sourceLocation)
        }
    }

    /// Tokens of the matrix's practitioner (Dra. Ruiz, UMF), patient (Ana) and payer.
    static func tokens(_ server: TestServer) throws -> (practitioner: String, patient: String, payer: String) {
        let a = server.services.authority, now = server.clock.now()
        let practitioner = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner,
                                             fhirUser: "Practitioner/dra", organization: "Organization/umf").token
        let patient = try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: now, role: .patient,
                                        fhirUser: "Patient/ana", patient: "ana").token
        let payer = try a.issueClaims(subject: "user:pagador", scope: "user/*.rs", ttl: 3600, now: now, role: .payer,
                                      organization: "Organization/aseguradora").token
        return (practitioner, patient, payer)
    }

    @Test(arguments: ServerBackend.allCases)
    func practitionerPatientAndPayerSeeNothingOfTheOtherPatient(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, patient, payer) = try LeakMatrixTests.tokens(server)
        try await server.run { c in
            for (path, json) in LeakMatrixTests.seed {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201)
            }
            for (name, token) in [("practitioner", practitioner), ("patient", patient), ("payer", payer)] {
                let auth = ["Authorization": "Bearer \(token)"]
                for path in LeakMatrixTests.paths {
                    let r = try await c.send(.get, path, headers: auth, auth: false)
                    mustNotLeak(r, "\(name) GET \(path)")
                }
                // a hidden resource answers exactly like a missing one
                let hidden = try await c.send(.get, "/fhir/Observation/obs-luis", headers: auth, auth: false)
                let missing = try await c.send(.get, "/fhir/Observation/does-not-exist", headers: auth, auth: false)
                #expect(hidden.status == missing.status, "\(name)")
                let hiddenPatient = try await c.send(.get, "/fhir/Patient/luis/$everything", headers: auth, auth: false)
                let missingPatient = try await c.send(.get, "/fhir/Patient/nobody/$everything", headers: auth, auth: false)
                #expect(hiddenPatient.status == missingPatient.status, "\(name)")
                let hiddenGaps = try await c.send(.get, "/fhir/Patient/luis/$care-gaps", headers: auth, auth: false)
                let missingGaps = try await c.send(.get, "/fhir/Patient/nobody/$care-gaps", headers: auth, auth: false)
                #expect(hiddenGaps.status == missingGaps.status, "\(name) $care-gaps")
                // writes: conditional create and update must not reveal or touch the hidden patient
                let cond = try await c.send(.post, "/fhir/Patient", json: #"{"resourceType":"Patient"}"#,
                                            headers: auth.merging(["If-None-Exist": "identifier=LUIS1"]) { $1 })
                mustNotLeak(cond, "\(name) conditional create")
                #expect(cond.status != 200, "\(name): a conditional create matched a hidden patient")
                let put = try await c.send(.put, "/fhir/Observation/obs-luis", json: #"{"resourceType":"Observation","id":"obs-luis","status":"cancelled","code":{"text":"x"}}"#, headers: auth)
                #expect([403, 404].contains(put.status), "\(name) update of a hidden resource: \(put.status)")
                let del = try await c.send(.delete, "/fhir/Condition/cond-luis", headers: auth)
                #expect([403, 404].contains(del.status), "\(name) delete of a hidden resource: \(del.status)")
                // bundles: every entry goes through the same decision
                let batch = #"{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Observation/obs-luis"}},{"request":{"method":"GET","url":"Observation?patient=luis"}}]}"#
                mustNotLeak(try await c.send(.post, "/fhir", json: batch, headers: auth), "\(name) batch")
            }
            // what each may see
            let auth = { (t: String) in ["Authorization": "Bearer \(t)"] }
            #expect(try await c.send(.get, "/fhir/Observation/obs-ana", headers: auth(practitioner), auth: false).status == 200)
            #expect(try await c.send(.get, "/fhir/Observation?_summary=count", headers: auth(practitioner), auth: false).json["total"] == .number("1"))
            #expect(try await c.send(.get, "/fhir/Observation/obs-ana", headers: auth(patient), auth: false).status == 200)
            #expect(try await c.send(.get, "/fhir/Patient?_summary=count", headers: auth(patient), auth: false).json["total"] == .number("1"))
            #expect(try await c.send(.get, "/fhir/Coverage/cov-ana", headers: auth(payer), auth: false).status == 200)
            #expect(try await c.send(.get, "/fhir/Coverage?_summary=count", headers: auth(payer), auth: false).json["total"] == .number("1"))
            // a payer never reads results: a type-level refusal, the same whether or not data exists
            #expect(try await c.send(.get, "/fhir/Observation/obs-ana", headers: auth(payer), auth: false).status == 403)
            #expect(try await c.send(.get, "/fhir/Observation/nothing", headers: auth(payer), auth: false).status == 403)
            // the practitioner can write into the treated patient's record, not the other's
            let w1 = try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"peso"},"subject":{"reference":"Patient/ana"}}"#, headers: auth(practitioner))
            #expect(w1.status == 201)
            let w2 = try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"peso"},"subject":{"reference":"Patient/luis"}}"#, headers: auth(practitioner))
            #expect(w2.status == 403)
            // the patient can add a home measurement to her own record only
            let w3 = try await c.send(.post, "/fhir/Observation", json: #"{"resourceType":"Observation","status":"final","code":{"text":"glucosa casera"},"subject":{"reference":"Patient/ana"}}"#, headers: auth(patient))
            #expect(w3.status == 403)  // patient/*.rs grants no create
        }
    }
}

/// The finance rule (docs/access.md, "Finance"): the payer (Aseguradora) reads and updates the
/// settlement dispute Tasks it is requester or owner of, and nothing else of Task — not a
/// clinical Task of its own beneficiary Ana, not another payer's dispute, not a Task that only
/// looks like a dispute in Ana's record — nor the ClaimResponse of a patient it has no reason to see.
@Suite("Leak matrix: a payer's settlement disputes")
struct LeakMatrixFinanceTests {
    static func dispute(_ id: String, requester: String, owner: String, patient: String? = nil) -> String {
        let subject = patient.map { #","for":{"reference":"Patient/\#($0)"}"# } ?? ""
        return #"{"resourceType":"Task","id":"\#(id)","status":"requested","intent":"proposal","businessStatus":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/dispute-status","code":"open"}]},"code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/financing-task","code":"dispute"}]},"requester":{"reference":"\#(requester)"},"owner":{"reference":"\#(owner)"}\#(subject)}"#
    }

    static let seed: [(String, String)] = LeakMatrixTests.seed + [
        ("Organization/otra", #"{"resourceType":"Organization","id":"otra","name":"Otra aseguradora"}"#),
        ("Task/clin-ana", #"{"resourceType":"Task","id":"clin-ana","status":"requested","intent":"order","code":{"text":"Toma de muestra"},"for":{"reference":"Patient/ana"}}"#),
        ("Task/disp-own", dispute("disp-own", requester: "Organization/aseguradora", owner: "Organization/umf")),
        ("Task/disp-owed", dispute("disp-owed", requester: "Organization/umf", owner: "Organization/aseguradora")),
        ("Task/disp-other", dispute("disp-other", requester: "Organization/otra", owner: "Organization/umf")),
        ("Task/disp-in-ana", dispute("disp-in-ana", requester: "Organization/otra", owner: "Organization/umf", patient: "ana")),
        ("ClaimResponse/cr-luis", #"{"resourceType":"ClaimResponse","id":"cr-luis","status":"active","type":{"text":"x"},"use":"claim","patient":{"reference":"Patient/luis"},"created":"2026-08-01","insurer":{"reference":"Organization/otra"},"requestor":{"reference":"Organization/otra"},"outcome":"complete"}"#),
    ]
    static let secrets = ["clin-ana", "disp-other", "disp-in-ana", "cr-luis", "Toma de muestra", "luis"]

    @Test(arguments: ServerBackend.allCases)
    func aPayerReadsAndResolvesItsOwnDisputesAndNothingElseOfTask(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let a = server.services.authority, now = server.clock.now()
        // the portal's scopes for the role, and an API client's broader ones
        let portal = try a.issueClaims(subject: "user:pagador", scope: "user/*.rs user/Task.cu", ttl: 3600, now: now, role: .payer,
                                       organization: "Organization/aseguradora").token
        let api = try a.issueClaims(subject: "user:pagador", scope: "user/*.cruds", ttl: 3600, now: now, role: .payer,
                                    organization: "Organization/aseguradora").token
        let matrix = LeakMatrixTests()
        try await server.run { c in
            for (path, json) in LeakMatrixFinanceTests.seed {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)")
            }
            let p = ["Authorization": "Bearer \(portal)"], w = ["Authorization": "Bearer \(api)"]
            for path in LeakMatrixTests.paths + ["/fhir/Task", "/fhir/Task?code=https://enlace.mx/fhir/CodeSystem/financing-task|dispute",
                                                  "/fhir/Task?owner=Organization/umf", "/fhir/Task/_history", "/fhir/Patient/ana/Task",
                                                  "/fhir/Task?_summary=count", "/fhir/ClaimResponse", "/fhir/ClaimResponse?patient=luis",
                                                  "/fhir/Task/disp-other/_history", "/fhir/Task?patient=ana", "/fhir/Task?_include=Task:owner"] {
                matrix.mustNotLeak(try await c.send(.get, path, headers: p, auth: false), "payer GET \(path)", secrets: LeakMatrixFinanceTests.secrets)
            }
            let listed = try await c.send(.get, "/fhir/Task", headers: p, auth: false)
            #expect(listed.status == 200)
            let ids = Set((listed.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue })
            #expect(ids == ["disp-own", "disp-owed"])
            #expect(try await c.send(.get, "/fhir/Task?_summary=count", headers: p, auth: false).json["total"] == .number("2"))
            #expect(try await c.send(.get, "/fhir/Task/disp-owed", headers: p, auth: false).status == 200)
            #expect(try await c.send(.get, "/fhir/Task/disp-owed/_history", headers: p, auth: false).status == 200)
            let missing = try await c.send(.get, "/fhir/Task/nobody", headers: p, auth: false).status
            for hidden in ["clin-ana", "disp-other", "disp-in-ana"] {
                #expect(try await c.send(.get, "/fhir/Task/\(hidden)", headers: p, auth: false).status == missing, "\(hidden)")
            }
            // updates: its own dispute, yes; moving it out of its own, another's, a clinical Task, a delete: no
            let resolved = LeakMatrixFinanceTests.dispute("disp-owed", requester: "Organization/umf", owner: "Organization/aseguradora")
                .replacingOccurrences(of: #""status":"requested""#, with: #""status":"rejected""#)
            #expect(try await c.send(.put, "/fhir/Task/disp-owed", json: resolved, headers: p).status == 200)
            let moved = LeakMatrixFinanceTests.dispute("disp-own", requester: "Organization/otra", owner: "Organization/umf")
            #expect(try await c.send(.put, "/fhir/Task/disp-own", json: moved, headers: p).status == 403)
            let other = LeakMatrixFinanceTests.dispute("disp-other", requester: "Organization/aseguradora", owner: "Organization/umf")
            #expect([403, 404].contains(try await c.send(.put, "/fhir/Task/disp-other", json: other, headers: p).status))
            let clinical = #"{"resourceType":"Task","id":"clin-ana","status":"cancelled","intent":"order","for":{"reference":"Patient/ana"}}"#
            #expect([403, 404].contains(try await c.send(.put, "/fhir/Task/clin-ana", json: clinical, headers: w).status))
            #expect(try await c.send(.delete, "/fhir/Task/disp-own", headers: w).status == 403)
            // creates: the portal's scopes (it opens disputes) and an API client's alike open a
            // dispute of the payer's own only
            let mine = #"{"resourceType":"Task","status":"requested","intent":"proposal","code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/financing-task","code":"dispute"}]},"requester":{"reference":"Organization/aseguradora"},"owner":{"reference":"Organization/umf"}}"#
            let theirs = mine.replacingOccurrences(of: "Organization/aseguradora", with: "Organization/otra")
            let forAna = #"{"resourceType":"Task","status":"requested","intent":"order","code":{"text":"x"},"for":{"reference":"Patient/ana"}}"#
            for token in [p, w] {
                #expect(try await c.send(.post, "/fhir/Task", json: mine, headers: token).status == 201)
                #expect(try await c.send(.post, "/fhir/Task", json: theirs, headers: token).status == 403)
                #expect(try await c.send(.post, "/fhir/Task", json: forAna, headers: token).status == 403)
            }
            // the operator still sees every Task: nothing was lost or changed by the refusals
            #expect(try await c.send(.get, "/fhir/Task?_summary=count").json["total"] == .number("7"))
            #expect(try await c.send(.get, "/fhir/Task/disp-own").json["requester"]?["reference"]?.stringValue == "Organization/aseguradora")
        }
    }
}

/// The same read paths with consents in play (docs/consent.md): Luis grants the practitioner only his
/// Observations of 2027 (there are none), and Ana chooses not to be told about her glucose
/// results. The practitioner then sees Luis's Patient resource and nothing else of his; Ana
/// sees nothing of the withheld result — on every path, including counts and history.
@Suite("Leak matrix with consents in play")
struct LeakMatrixWithConsentTests {
    static let luisGrant = #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/luis"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTIN"}]},"provision":{"type":"permit","actor":[{"role":{"text":"x"},"reference":{"reference":"Practitioner/dra"}}],"class":[{"code":"Observation"}],"dataPeriod":{"start":"2027-01-01","end":"2027-12-31"}}}"#
    static let anaNotToKnow = #"{"resourceType":"Consent","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/ana"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"text":"x"},"reference":{"reference":"Patient/ana"}}],"code":[{"coding":[{"system":"http://loinc.org","code":"2339-0"}]}]}}"#

    @Test(arguments: ServerBackend.allCases)
    func scopedGrantsAndNamedWithholdingLeakNothing(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (practitioner, patient, _) = try LeakMatrixTests.tokens(server)
        let matrix = LeakMatrixTests()
        try await server.run { c in
            for (path, json) in LeakMatrixTests.seed {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201)
            }
            #expect(try await c.send(.post, "/fhir/Consent", json: LeakMatrixWithConsentTests.luisGrant).status == 201)
            #expect(try await c.send(.post, "/fhir/Consent", json: LeakMatrixWithConsentTests.anaNotToKnow).status == 201)
            let dra = ["Authorization": "Bearer \(practitioner)"]
            let ana = ["Authorization": "Bearer \(patient)"]
            for path in LeakMatrixTests.paths {
                matrix.mustNotLeak(try await c.send(.get, path, headers: dra, auth: false), "practitioner GET \(path)", secrets: ["cond-luis", "obs-luis"])
                // Ana's own Consent names the code she chose not to know: leave Consents out
                let r = try await c.send(.get, path, headers: ana, auth: false)
                let entries = (r.json["entry"]?.arrayValue ?? []).filter { $0["resource"]?["resourceType"]?.stringValue != "Consent" }
                matrix.mustNotLeak(Client.Reply(status: r.status, headers: r.headers, bytes: JSON.object([("entry", .array(entries)), ("total", r.json["total"] ?? .null)]).serialized()),
                                   "patient GET \(path)", secrets: ["obs-ana", "2339-0"])
            }
            // the grant did open Luis's Patient resource, and only it
            // A 503 is the store failing fast under load (PostgreSQL's circuit breaker, seen on a
            // loaded 2-core machine), not an access decision: retried after its Retry-After, as
            // a client would. Each reply is in the message.
            func reply(_ path: String, _ headers: [String: String]) async throws -> (Client.Reply, Comment) {
                var r = try await c.send(.get, path, headers: headers, auth: false)
                for _ in 0..<10 where r.status == 503 {
                    let seconds = UInt64(r.header("Retry-After").flatMap(Int.init) ?? 1)
                    try await Task.sleep(nanoseconds: min(seconds, 5) * 1_000_000_000)
                    r = try await c.send(.get, path, headers: headers, auth: false)
                }
                return (r, "\(r.status): \(String(decoding: r.bytes.prefix(600), as: UTF8.self).replacingOccurrences(of: "\n", with: " "))")
            }
            var (r, why) = try await reply("/fhir/Patient/luis", dra)
            #expect(r.status == 200, why)
            (r, why) = try await reply("/fhir/Observation/obs-luis", dra)
            #expect(r.status == 404, why)
            (r, why) = try await reply("/fhir/Observation?_summary=count", dra)
            #expect(r.json["total"] == .number("1"), why)  // obs-ana
            (r, why) = try await reply("/fhir/Observation/obs-ana", ana)
            #expect(r.status == 404, why)
            (r, why) = try await reply("/fhir/Observation?_summary=count", ana)
            #expect(r.json["total"] == .number("0"), why)
        }
    }
}

@Suite("The patient's access log")
struct PatientAccessLogTests {
    @Test(arguments: ServerBackend.allCases)
    func aPatientSeesThePractitionerWhoReadTheirRecordAndNothingAboutOthers(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let a = server.services.authority, now = server.clock.now()
        let practitioner = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner,
                                             fhirUser: "Practitioner/dra", organization: "Organization/umf").token
        let ana = try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: now, role: .patient,
                                    fhirUser: "Patient/ana", patient: "ana").token
        try await server.run { c in
            for (path, json) in LeakMatrixTests.seed { try await c.send(.put, "/fhir/" + path, json: json) }
            #expect(try await c.send(.get, "/fhir/Patient/ana", headers: ["Authorization": "Bearer \(practitioner)"], auth: false).status == 200)
            let log = try await c.send(.get, "/fhir/AuditEvent", headers: ["Authorization": "Bearer \(ana)"], auth: false)
            #expect(log.status == 200)
            let events = (log.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
            let newest = try #require(events.first)
            #expect(newest["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(newest["agent"]?.arrayValue?.first?["location"]?["reference"]?.stringValue == "Organization/umf")
            #expect(newest["agent"]?.arrayValue?.first?["policy"]?.arrayValue?.contains(.string("urn:enlace:rule:treating-relationship")) == true)
            #expect(!LeakMatrixTests.stripEchoes(log.json).compactString.contains("luis"))
            // asking for someone else's log is refused
            #expect(try await c.send(.get, "/fhir/AuditEvent?patient=luis", headers: ["Authorization": "Bearer \(ana)"], auth: false).status == 403)
            // a practitioner cannot read the ledger
            #expect(try await c.send(.get, "/fhir/AuditEvent", headers: ["Authorization": "Bearer \(practitioner)"], auth: false).status == 403)
            #expect(try await c.send(.get, "/audit/tree-head", headers: ["Authorization": "Bearer \(practitioner)"], auth: false).status == 403)
        }
    }
    /// One audit entry may concern several patients (here an outbox consumer's batch that read
    /// Ana's and Luis's records): Ana's log shows the entry but never names Luis.
    @Test(arguments: ServerBackend.allCases)
    func anEntryThatConcernsSeveralPatientsNamesNoOtherInAPatientsLog(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let a = server.services.authority, now = server.clock.now()
        let ana = try a.issueClaims(subject: "user:ana", scope: "patient/*.rs", ttl: 3600, now: now, role: .patient,
                                    fhirUser: "Patient/ana", patient: "ana").token
        try await server.run { c in
            for (path, json) in LeakMatrixTests.seed { try await c.send(.put, "/fhir/" + path, json: json) }
            for consumer in server.services.eventConsumers() { try await server.services.door.catchUp(consumer) }
            // as stored (the operator's view of the ledger), a consumer's entry names both patients
            let all = try await c.send(.get, "/fhir/AuditEvent?_count=1000")
            #expect(all.status == 200)
            let stored = (all.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter {
                $0["outcomeDesc"]?.stringValue?.contains("urn:enlace:consumer:") == true
            }
            #expect(stored.contains { $0.compactString.contains("Patient/luis") && $0.compactString.contains("Patient/ana") },
                    "the test needs an entry that concerns both patients")
            let log = try await c.send(.get, "/fhir/AuditEvent?_count=1000", headers: ["Authorization": "Bearer \(ana)"], auth: false)
            #expect(log.status == 200)
            let consumerEntries = (log.json["entry"]?.arrayValue ?? []).filter {
                $0["resource"]?["outcomeDesc"]?.stringValue?.contains("urn:enlace:consumer:") == true
            }
            #expect(!consumerEntries.isEmpty, "the consumer's entry is in Ana's log")
            #expect(!LeakMatrixTests.stripEchoes(log.json).compactString.contains("luis"))
        }
    }
}
