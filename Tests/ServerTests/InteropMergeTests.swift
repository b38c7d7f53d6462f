import FHIR
import Foundation
import Testing
@testable import Trust

/// One person across institutions (docs/interop.md#curp-unique-per-active-patient,
/// #patientmerge-and-patientunmerge, #patientduplicates): one active Patient per CURP — also
/// under concurrent creates on a SQLite file and PostgreSQL —, `$merge` that repoints the
/// source's compartment and keeps every version, `$unmerge` that restores both compartments
/// exactly, the duplicates worklist, and what each clinician sees before, during and after.
@Suite("Patient merge")
struct InteropMergeTests {
    static let curp = CURP.make(given: "María Guadalupe", paternal: "Hernández", maternal: "López", birth: (1985, 7, 21), female: true, state: "DF", homonym: 0)

    static func patient(_ id: String, curp: String? = nil, nss: String? = nil, active: Bool? = nil, given: String = "María Guadalupe") -> String {
        var ids: [String] = []
        if let curp { ids.append(#"{"system":"http://www.renapo.gob.mx/curp","value":"\#(curp)"}"#) }
        if let nss { ids.append(#"{"system":"http://www.imss.gob.mx/nss","value":"\#(nss)"}"#) }
        let identifier = ids.isEmpty ? "" : #""identifier":[\#(ids.joined(separator: ","))],"#
        let act = active.map { #""active":\#($0),"# } ?? ""
        let givens = given.split(separator: " ").map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"resourceType":"Patient","id":"\#(id)",\#(act)\#(identifier)"name":[{"family":"Hernández López","given":[\#(givens)]}],"gender":"female","birthDate":"1985-07-21"}"#
    }

    static func reference(_ name: String, _ id: String) -> String {
        #"{"name":"\#(name)","valueReference":{"reference":"Patient/\#(id)"}}"#
    }

    static func mergeBody(_ source: String, _ target: String, extra: String = "") -> String {
        #"{"resourceType":"Parameters","parameter":[\#(reference("source-patient", source)),\#(reference("target-patient", target))\#(extra)]}"#
    }

    // MARK: CURP unique per active Patient

    @Test(arguments: ServerBackend.allCases)
    func oneActivePatientPerCURP(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            #expect(try await op.send(.put, "/fhir/Patient/a", json: InteropMergeTests.patient("a", curp: InteropMergeTests.curp)).status == 201)
            // a second active Patient with the CURP: 409 naming the identifier, not the other record
            let second = try await op.send(.post, "/fhir/Patient", json: InteropMergeTests.patient("x", curp: InteropMergeTests.curp))
            #expect(second.status == 409 && second.issueCodes == ["duplicate"], "\(second.text)")
            #expect(second.locations == ["Patient.identifier[0].value"])
            #expect(second.text.contains(InteropMergeTests.curp) && second.text.contains("Patient/$merge") && second.text.contains("ya tiene la CURP"))
            #expect(!second.text.contains("Patient/a") && !second.text.contains("Hernández"))
            // also by PUT, and by a transaction
            #expect(try await op.send(.put, "/fhir/Patient/b", json: InteropMergeTests.patient("b", curp: InteropMergeTests.curp)).status == 409)
            let tx = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":\#(InteropMergeTests.patient("c", curp: InteropMergeTests.curp)),"request":{"method":"PUT","url":"Patient/c"}}]}"#
            #expect(try await op.send(.post, "/fhir", json: tx).status == 409)
            // an inactive one may carry it; activating it is refused
            #expect(try await op.send(.put, "/fhir/Patient/b", json: InteropMergeTests.patient("b", curp: InteropMergeTests.curp, active: false)).status == 201)
            #expect(try await op.send(.put, "/fhir/Patient/b", json: InteropMergeTests.patient("b", curp: InteropMergeTests.curp, active: true)).status == 409)
            // a transaction that deactivates one and activates the other is judged on its result
            let swap = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":\#(InteropMergeTests.patient("a", curp: InteropMergeTests.curp, active: false)),"request":{"method":"PUT","url":"Patient/a"}},{"resource":\#(InteropMergeTests.patient("b", curp: InteropMergeTests.curp, active: true)),"request":{"method":"PUT","url":"Patient/b"}}]}"#
            let swapped = try await op.send(.post, "/fhir", json: swap)
            #expect(swapped.status == 200, "\(swapped.text)")
            // updating the active one keeps working; search by CURP is exact
            #expect(try await op.send(.put, "/fhir/Patient/b", json: InteropMergeTests.patient("b", curp: InteropMergeTests.curp, given: "Guadalupe")).status == 200)
            let found = try await op.send(.get, "/fhir/Patient?identifier=http://www.renapo.gob.mx/curp|\(InteropMergeTests.curp)")
            #expect(Set((found.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue }) == ["a", "b"])
            let other = String(InteropMergeTests.curp.prefix(16)) + "1" + String(CURP.checkDigit(String(InteropMergeTests.curp.prefix(16)) + "1"))
            let none = try await op.send(.get, "/fhir/Patient?identifier=http://www.renapo.gob.mx/curp|\(other)")
            #expect((none.json["entry"]?.arrayValue ?? []).isEmpty)
        }
    }

    /// Eight concurrent creates of one new CURP: exactly one succeeds (SQLite file: one writer;
    /// PostgreSQL: writers queued on the schema's lock, the later ones see the winner).
    @Test(arguments: ServerBackend.allCases)
    func concurrentCreatesOfOneCURPMakeOne(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask { try await op.send(.put, "/fhir/Patient/r\(i)", json: InteropMergeTests.patient("r\(i)", curp: InteropMergeTests.curp)).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.filter { $0 == 409 }.count == 7, "\(statuses)")
            let found = try await op.send(.get, "/fhir/Patient?identifier=\(InteropMergeTests.curp)")
            #expect((found.json["entry"]?.arrayValue ?? []).count == 1, "\(found.text)")
        }
    }

    // MARK: merge and unmerge

    static func seedPair(_ op: Client) async throws {
        let seed: [(String, String)] = [
            ("Patient/tgt", patient("tgt", curp: curp)),
            ("Patient/src", patient("src", nss: "12345678903", given: "Ma. Guadalupe")),
            ("Observation/o-src", #"{"resourceType":"Observation","id":"o-src","status":"final","code":{"text":"glucosa"},"subject":{"reference":"Patient/src"},"performer":[{"reference":"Patient/src"}]}"#),
            ("Condition/c-src", #"{"resourceType":"Condition","id":"c-src","subject":{"reference":"Patient/src"},"code":{"text":"diabetes"}}"#),
            ("Observation/o-tgt", #"{"resourceType":"Observation","id":"o-tgt","status":"final","code":{"text":"peso"},"subject":{"reference":"Patient/tgt"}}"#),
            ("CareTeam/ct-src", #"{"resourceType":"CareTeam","id":"ct-src","status":"active","subject":{"reference":"Patient/src"},"participant":[{"member":{"reference":"Practitioner/dr-src"}}]}"#),
            ("CareTeam/ct-tgt", #"{"resourceType":"CareTeam","id":"ct-tgt","status":"active","subject":{"reference":"Patient/tgt"},"participant":[{"member":{"reference":"Practitioner/dr-tgt"}}]}"#),
            ("Consent/k-src", #"{"resourceType":"Consent","id":"k-src","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/src"},"provision":{"type":"permit","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PRCP"}]},"reference":{"reference":"Practitioner/dr-consentido"}}]}}"#),
        ]
        for (path, json) in seed { #expect(try await op.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
    }

    /// Every resource of a compartment except the records of what happened (Provenance,
    /// AuditEvent): reference → content without versionId/lastUpdated.
    static func compartment(_ op: Client, _ id: String) async throws -> [String: JSON] {
        let r = try await op.send(.get, "/fhir/Patient/\(id)/$everything?_count=500")
        #expect(r.status == 200, "\(r.text)")
        var out: [String: JSON] = [:]
        for e in r.json["entry"]?.arrayValue ?? [] {
            guard let res = e["resource"], let type = res["resourceType"]?.stringValue, let rid = res["id"]?.stringValue,
                  !["Provenance", "AuditEvent"].contains(type) else { continue }
            out["\(type)/\(rid)"] = InteropMergeTests.content(res)
        }
        return out
    }

    static func content(_ json: JSON) -> JSON {
        guard let meta = json["meta"] else { return json }
        let m = meta.setting("versionId", nil).setting("lastUpdated", nil)
        return json.setting("meta", (m.objectValue ?? []).isEmpty ? nil : m)
    }

    static func ids(_ r: Client.Reply) -> Set<String> {
        Set((r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue })
    }

    static func outcome(_ r: Client.Reply) -> [String] {
        let out = (r.json["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "outcome" }?["resource"]
        return (out?["issue"]?.arrayValue ?? []).compactMap { $0["diagnostics"]?.stringValue }
    }

    @Test(arguments: ServerBackend.allCases)
    func mergeThenUnmergeRoundTripsExactly(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        func token(_ role: Principal.Role, _ user: String) throws -> String {
            try server.services.authority.issueClaims(subject: "user:\(user)", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                      role: role, fhirUser: user, patient: nil, organization: nil).token
        }
        let drSrc = try token(.practitioner, "Practitioner/dr-src"), drTgt = try token(.practitioner, "Practitioner/dr-tgt")
        let stranger = try token(.practitioner, "Practitioner/dr-sin-relacion")
        try await server.run { op in
            try await InteropMergeTests.seedPair(op)
            let before = (try await InteropMergeTests.compartment(op, "src"), try await InteropMergeTests.compartment(op, "tgt"))
            #expect(before.0.keys.sorted() == ["CareTeam/ct-src", "Condition/c-src", "Consent/k-src", "Observation/o-src", "Patient/src"])
            #expect(before.1.keys.sorted() == ["CareTeam/ct-tgt", "Observation/o-tgt", "Patient/tgt"])
            let versionsBefore = try await op.historyTotal()
            let src = Client(client: op.client, token: drSrc), tgt = Client(client: op.client, token: drTgt), nobody = Client(client: op.client, token: stranger)
            #expect(try await src.send(.get, "/fhir/Observation/o-tgt").status == 404)
            #expect(try await tgt.send(.get, "/fhir/Observation/o-src").status == 404)

            // only an operator merges
            let refused = try await tgt.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt"))
            #expect(refused.status == 403, "\(refused.text)")
            // bad input
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "src")).status == 422)
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src"))]}"#).status == 400)
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "nadie")).status == 404)
            #expect(try await op.send(.post, "/fhir/Observation/$merge", json: InteropMergeTests.mergeBody("src", "tgt")).status == 404)

            // preview: what would change, nothing written
            let preview = try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt", extra: #",{"name":"preview","valueBoolean":true}"#))
            #expect(preview.status == 200, "\(preview.text)")
            let said = InteropMergeTests.outcome(preview)
            #expect(said.contains { $0.contains("Observation/o-src: 2 references") } && said.contains { $0.contains("Consent/k-src") }, "\(said)")
            #expect(try await op.historyTotal() == versionsBefore)

            // the merge, by the target's CURP as identifier
            let body = #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src")),{"name":"target-patient-identifier","valueIdentifier":{"system":"http://www.renapo.gob.mx/curp","value":"\#(InteropMergeTests.curp)"}}]}"#
            let merged = try await op.send(.post, "/fhir/Patient/$merge", json: body)
            #expect(merged.status == 200, "\(merged.text)")
            #expect(Validator().validate(merged.json).filter { $0.severity == .error }.isEmpty, "\(merged.text)")
            let o = try await op.send(.get, "/fhir/Observation/o-src")
            #expect(o.json["subject"]?["reference"]?.stringValue == "Patient/tgt" && o.json["performer"]?.arrayValue?.first?["reference"]?.stringValue == "Patient/tgt")
            #expect(try await op.send(.get, "/fhir/Observation/o-src/_history/1").json["subject"]?["reference"]?.stringValue == "Patient/src")
            let s = try await op.send(.get, "/fhir/Patient/src")
            #expect(s.json["active"]?.boolValue == false && s.json["link"]?.arrayValue?.first?["type"]?.stringValue == "replaced-by")
            let t = try await op.send(.get, "/fhir/Patient/tgt")
            #expect(t.json["link"]?.arrayValue?.first?["type"]?.stringValue == "replaces")
            #expect((t.json["identifier"]?.arrayValue ?? []).contains { $0["value"]?.stringValue == "12345678903" && $0["use"]?.stringValue == "old" })
            #expect(try await op.send(.get, "/fhir/Consent/k-src").json["patient"]?["reference"]?.stringValue == "Patient/tgt")
            let afterMerge = try await InteropMergeTests.compartment(op, "tgt")
            #expect(Set(afterMerge.keys) == ["CareTeam/ct-src", "CareTeam/ct-tgt", "Condition/c-src", "Consent/k-src", "Observation/o-src", "Observation/o-tgt", "Patient/src", "Patient/tgt"])
            // (Patient/src is in the target's compartment through its link replaced-by) — the merge's Provenance: who, the pre-merge versions, the $match evidence — and the patient's record shows it
            let provenance = try await op.send(.get, "/fhir/Provenance?patient=Patient/tgt&_count=200")
            let record = (provenance.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.first {
                $0["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "merge" && $0["entity"] != nil
            }
            #expect(record?["entity"]?.arrayValue?.count == 6, "\(provenance.text)")
            #expect(record?["agent"]?.arrayValue?.first?["who"]?["identifier"]?["value"]?.stringValue == "test-operator")
            let evidence = record?["extension"]?.arrayValue?.first?["extension"]?.arrayValue ?? []
            #expect(evidence.contains { $0["url"]?.stringValue == "grade" && $0["valueCode"]?.stringValue == "probable" }, "\(evidence)")
            // merging again is refused
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt")).status == 422)

            // after the merge: each clinician of the one person sees the one record; a stranger nothing
            #expect(try await tgt.send(.get, "/fhir/Observation/o-src").status == 200)
            #expect(try await src.send(.get, "/fhir/Observation/o-tgt").status == 200)
            for path in ["Observation/o-src", "Observation/o-tgt", "Condition/c-src", "Patient/tgt", "Patient/src", "Consent/k-src"] {
                #expect(try await nobody.send(.get, "/fhir/" + path).status == 404, "\(path)")
            }
            #expect(InteropMergeTests.ids(try await nobody.send(.get, "/fhir/Observation?_count=50")).isEmpty)

            // unmerge: only an operator; then both compartments exactly as before
            #expect(try await tgt.send(.post, "/fhir/Patient/$unmerge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src"))]}"#).status == 403)
            let unmerged = try await op.send(.post, "/fhir/Patient/$unmerge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src")),\#(InteropMergeTests.reference("target-patient", "tgt"))]}"#)
            #expect(unmerged.status == 200, "\(unmerged.text)")
            let after = (try await InteropMergeTests.compartment(op, "src"), try await InteropMergeTests.compartment(op, "tgt"))
            #expect(after.0 == before.0)
            #expect(after.1 == before.1)
            for key in before.0.keys.sorted() where after.0[key] != before.0[key] { Issue.record("\(key) differs: \(after.0[key].map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "missing")") }
            // every version kept: original, merged, restored
            let history = try await op.send(.get, "/fhir/Observation/o-src/_history")
            #expect((history.json["entry"]?.arrayValue ?? []).count == 3)
            #expect(try await op.send(.get, "/fhir/Patient/src/_history/3").json["active"] == nil)
            // access is back as before: each clinician sees only their own
            #expect(try await src.send(.get, "/fhir/Observation/o-tgt").status == 404)
            #expect(try await tgt.send(.get, "/fhir/Observation/o-src").status == 404)
            #expect(try await src.send(.get, "/fhir/Observation/o-src").status == 200)
            // the unmerge has its Provenance; a second one is refused
            let p2 = try await op.send(.get, "/fhir/Provenance?patient=Patient/src&_count=200")
            #expect((p2.json["entry"]?.arrayValue ?? []).contains { $0["resource"]?["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "unmerge" })
            #expect(try await op.send(.post, "/fhir/Patient/$unmerge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src"))]}"#).status == 422)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func unmergeRefusesWhatChangedSinceTheMerge(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { op in
            try await InteropMergeTests.seedPair(op)
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt")).status == 200)
            let o = try await op.send(.get, "/fhir/Observation/o-src")
            #expect(try await op.send(.put, "/fhir/Observation/o-src", body: o.json.setting("status", .string("amended")).serialized()).status == 200)
            let refused = try await op.send(.post, "/fhir/Patient/$unmerge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src"))]}"#)
            #expect(refused.status == 409 && refused.text.contains("Observation/o-src"), "\(refused.text)")
            #expect(try await op.send(.get, "/fhir/Patient/src").json["active"]?.boolValue == false)
        }
    }

    /// The source's right not to know (a deny Consent with the patient as actor) follows the
    /// survivor: after the merge the survivor's own genetic result is withheld from the patient's
    /// tokens; after the unmerge it shows again. The target's clinician's view of it is unchanged.
    @Test(arguments: ServerBackend.allCases)
    func rightNotToKnowFollowsTheSurvivor(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let me = try server.services.authority.issueClaims(subject: "user:gpe", scope: "patient/*.cruds", ttl: 3600, now: server.clock.now(),
                                                           role: .patient, fhirUser: "Patient/tgt", patient: "tgt", organization: nil).token
        let dr = try server.services.authority.issueClaims(subject: "user:drt", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                           role: .practitioner, fhirUser: "Practitioner/dr-tgt", patient: nil, organization: nil).token
        try await server.run { op in
            try await InteropMergeTests.seedPair(op)
            let ntk = #"{"resourceType":"Consent","id":"ntk-src","status":"active","scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},"category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],"patient":{"reference":"Patient/src"},"policyRule":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"OPTOUT"}]},"provision":{"type":"deny","actor":[{"role":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"IRCP"}]},"reference":{"reference":"Patient/src"}}],"securityLabel":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"GDIS"}]}}"#
            #expect(try await op.send(.put, "/fhir/Consent/ntk-src", json: ntk).status == 201)
            let genetic = #"{"resourceType":"Observation","id":"gen-tgt","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"51969-4","display":"Genetic analysis report"}]},"subject":{"reference":"Patient/tgt"},"valueString":"Variante patogénica"}"#
            #expect(try await op.send(.put, "/fhir/Observation/gen-tgt", json: genetic).status == 201)
            let patient = Client(client: op.client, token: me), doctor = Client(client: op.client, token: dr)
            #expect(try await patient.send(.get, "/fhir/Observation/gen-tgt").status == 200)
            // (the clinician's view of a genetic result follows its own rule, express consent; the merge does not change it)
            let doctorBefore = try await doctor.send(.get, "/fhir/Observation/gen-tgt").status

            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt")).status == 200)
            #expect(try await op.send(.get, "/fhir/Consent/ntk-src").json["provision"]?["actor"]?.arrayValue?.first?["reference"]?["reference"]?.stringValue == "Patient/tgt")
            #expect(try await patient.send(.get, "/fhir/Observation/gen-tgt").status == 404)
            let mine = try await patient.send(.get, "/fhir/Observation?_count=50")
            #expect(InteropMergeTests.ids(mine) == ["o-src", "o-tgt"], "\(mine.text)")
            #expect(try await doctor.send(.get, "/fhir/Observation/gen-tgt").status == doctorBefore)
            #expect(try await doctor.send(.get, "/fhir/Observation/o-src").status == 200)

            #expect(try await op.send(.post, "/fhir/Patient/$unmerge", json: #"{"resourceType":"Parameters","parameter":[\#(InteropMergeTests.reference("source-patient", "src"))]}"#).status == 200)
            #expect(try await patient.send(.get, "/fhir/Observation/gen-tgt").status == 200)
            #expect(InteropMergeTests.ids(try await patient.send(.get, "/fhir/Observation?_count=50")) == ["gen-tgt", "o-tgt"])
        }
    }

    // MARK: the duplicates worklist

    @Test(arguments: ServerBackend.allCases)
    func duplicatesWorklistOnlyAmongVisibleRecords(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let dr = try server.services.authority.issueClaims(subject: "user:dr", scope: "user/*.cruds", ttl: 3600, now: server.clock.now(),
                                                           role: .practitioner, fhirUser: "Practitioner/dr-src", patient: nil, organization: nil).token
        try await server.run { op in
            try await InteropMergeTests.seedPair(op)
            #expect(try await op.send(.put, "/fhir/Patient/otro", json: #"{"resourceType":"Patient","id":"otro","name":[{"family":"Sánchez Ortiz","given":["Roberto"]}],"gender":"male","birthDate":"1950-01-30"}"#).status == 201)
            let r = try await op.send(.get, "/fhir/Patient/$duplicates")
            #expect(r.status == 200, "\(r.text)")
            #expect(Validator().validate(r.json).filter { $0.severity == .error }.isEmpty, "\(r.text)")
            let pairs = (r.json["parameter"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == "pair" }
            #expect(pairs.count == 1, "\(r.text)")
            let parts = pairs.first?["part"]?.arrayValue ?? []
            #expect(parts.compactMap { $0["valueReference"]?["reference"]?.stringValue } == ["Patient/src", "Patient/tgt"])
            #expect(parts.contains { $0["name"]?.stringValue == "grade" && $0["valueCode"]?.stringValue == "probable" })
            #expect(try await op.send(.get, "/fhir/Patient/$duplicates?grade=certain").json["parameter"]?.arrayValue?.filter { $0["name"]?.stringValue == "pair" }.isEmpty == true)
            #expect(try await op.send(.get, "/fhir/Patient/$duplicates?grade=maybe").status == 400)
            // a practitioner who sees only one of the two gets no pair
            let mine = try await Client(client: op.client, token: dr).send(.get, "/fhir/Patient/$duplicates")
            #expect(mine.status == 200 && !(mine.json["parameter"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == "pair" }, "\(mine.text)")
            // once merged, the pair leaves the worklist
            #expect(try await op.send(.post, "/fhir/Patient/$merge", json: InteropMergeTests.mergeBody("src", "tgt")).status == 200)
            let after = try await op.send(.get, "/fhir/Patient/$duplicates")
            #expect(!(after.json["parameter"]?.arrayValue ?? []).contains { $0["name"]?.stringValue == "pair" }, "\(after.text)")
        }
    }
}
