import FHIR
import Foundation
import Testing
@testable import Server
@_spi(Unguarded) import Trust

/// A Subscription is its owner's (docs/subscriptions.md "Who reads a Subscription", docs/access.md
/// "Subscriptions"): a second user — a practitioner, a patient — never reads, vreads, finds, counts
/// or sees in a history another user's Subscription (its endpoint and `channel.header`, which may
/// carry the receiver's secret, included); a hidden one answers like a missing one. The owner reads
/// their own; a platform operator reads all. On SQLite and, with `ENLACE_TEST_DATABASE_URL`,
/// PostgreSQL (the visibility SQL of both dialects).
@Suite("Leak matrix: Subscriptions are their owner's")
struct SubscriptionLeakTests {
    static func subscription(_ secret: String, filter: String?) -> String {
        let criteria = filter.map {
            #","_criteria":{"extension":[{"url":"http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria","valueString":"\#($0)"}]}"#
        } ?? ""
        return #"{"resourceType":"Subscription","status":"requested","reason":"Lecturas de \#(secret)","criteria":"https://enlace.mx/fhir/SubscriptionTopic/new-observation"\#(criteria),"channel":{"type":"rest-hook","endpoint":"https://\#(secret).example.org/hook","payload":"application/fhir+json","header":["Authorization: Bearer \#(secret)-clave"]}}"#
    }

    static func ids(_ r: Client.Reply) -> Set<String> {
        Set((r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"]?["id"]?.stringValue })
    }

    @Test(arguments: ServerBackend.allCases)
    func aSecondUsersSubscriptionNeverLeaks(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        let (dra, ana, _) = try LeakMatrixTests.tokens(server)
        let a = server.services.authority, now = server.clock.now()
        let otro = try a.issueClaims(subject: "user:otro", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner,
                                     fhirUser: "Practitioner/otro", organization: "Organization/umf").token
        let anaApp = try a.issueClaims(subject: "user:ana", scope: "patient/*.cruds", ttl: 3600, now: now, role: .patient,
                                       fhirUser: "Patient/ana", patient: "ana").token
        let matrix = LeakMatrixTests()
        try await server.run { c in
            for (path, json) in LeakMatrixTests.seed {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)")
            }
            let d = ["Authorization": "Bearer \(dra)"], o = ["Authorization": "Bearer \(otro)"]
            let p = ["Authorization": "Bearer \(ana)"], pw = ["Authorization": "Bearer \(anaApp)"]
            let draSub = try await c.send(.post, "/fhir/Subscription", json: SubscriptionLeakTests.subscription("dradraclave", filter: "Observation?patient=Patient/ana"), headers: d)
            #expect(draSub.status == 201, "\(draSub.json.compactString.prefix(300))")
            let draID = try #require(draSub.json["id"]?.stringValue)
            let otroSub = try await c.send(.post, "/fhir/Subscription", json: SubscriptionLeakTests.subscription("otrootroclave", filter: nil), headers: o)
            #expect(otroSub.status == 201, "\(otroSub.json.compactString.prefix(300))")
            let otroID = try #require(otroSub.json["id"]?.stringValue)
            let anaSub = try await c.send(.post, "/fhir/Subscription", json: SubscriptionLeakTests.subscription("anaanaclave", filter: "Observation?patient=Patient/ana"), headers: pw)
            #expect(anaSub.status == 201, "\(anaSub.json.compactString.prefix(300))")
            let anaID = try #require(anaSub.json["id"]?.stringValue)

            // the owner: its own, and only its own, on every read path
            for (who, auth, mine, others) in [("dra", d, draID, [otroID, anaID]), ("otro", o, otroID, [draID, anaID]),
                                              ("ana", p, anaID, [draID, otroID])] {
                let secrets = others.flatMap { [$0] } + ["dradraclave", "otrootroclave", "anaanaclave"].filter { !$0.hasPrefix(who) }
                #expect(try await c.send(.get, "/fhir/Subscription/\(mine)", headers: auth, auth: false).status == 200, "\(who) reads its own")
                #expect(SubscriptionLeakTests.ids(try await c.send(.get, "/fhir/Subscription", headers: auth, auth: false)) == [mine], "\(who) finds its own only")
                #expect(try await c.send(.get, "/fhir/Subscription?_summary=count", headers: auth, auth: false).json["total"] == .number("1"), "\(who)")
                let missing = try await c.send(.get, "/fhir/Subscription/nobody", headers: auth, auth: false).status
                let missingVersion = try await c.send(.get, "/fhir/Subscription/nobody/_history/1", headers: auth, auth: false).status
                let missingHistory = try await c.send(.get, "/fhir/Subscription/nobody/_history", headers: auth, auth: false).status
                for other in others {
                    for path in ["/fhir/Subscription/\(other)", "/fhir/Subscription/\(other)/_history/1", "/fhir/Subscription/\(other)/_history",
                                 "/fhir/Subscription?_id=\(other)", "/fhir/Subscription?status=requested,active,error", "/fhir/Subscription/_history",
                                 "/fhir/_history", "/fhir?_type=Subscription", "/fhir/Subscription?url=https://\(other).example.org/hook",
                                 "/fhir/Subscription?criteria=https://enlace.mx/fhir/SubscriptionTopic/new-observation", "/fhir/Subscription?_elements=channel",
                                 "/fhir/Subscription?_summary=count&_id=\(other)"] {
                        matrix.mustNotLeak(try await c.send(.get, path, headers: auth, auth: false), "\(who) GET \(path)", secrets: secrets)
                    }
                    #expect(try await c.send(.get, "/fhir/Subscription/\(other)", headers: auth, auth: false).status == missing, "\(who): hidden reads as missing")
                    #expect(try await c.send(.get, "/fhir/Subscription/\(other)/_history/1", headers: auth, auth: false).status == missingVersion, "\(who)")
                    #expect(try await c.send(.get, "/fhir/Subscription/\(other)/_history", headers: auth, auth: false).status == missingHistory, "\(who)")
                    #expect(try await c.send(.get, "/fhir/Subscription?_summary=count&_id=\(other)", headers: auth, auth: false).json["total"] == .number("0"))
                }
                #expect(missing == 404)
            }
            // a second user may not change or delete it either (and learns nothing more: 403 or 404)
            let taken = SubscriptionLeakTests.subscription("otrootroclave", filter: nil).replacingOccurrences(of: #""resourceType":"Subscription","#,
                                                                                                              with: #""resourceType":"Subscription","id":"\#(draID)","#)
            #expect([403, 404].contains(try await c.send(.put, "/fhir/Subscription/\(draID)", json: taken, headers: o).status))
            #expect([403, 404].contains(try await c.send(.delete, "/fhir/Subscription/\(draID)", headers: o).status))
            // the operator reads them all, unchanged
            #expect(SubscriptionLeakTests.ids(try await c.send(.get, "/fhir/Subscription")) == [draID, otroID, anaID])
            #expect(try await c.send(.get, "/fhir/Subscription/\(draID)").json["channel"]?["endpoint"]?.stringValue == "https://dradraclave.example.org/hook")
        }
    }
}
