import FHIR
import Foundation
import HTTPTypes
import Server
import Testing

/// Financing over HTTP on both backends (docs/financing.md): `Claim/$submit` is idempotent also
/// under concurrent retries, `$settle` nets two institutions exactly, bad input is an
/// OperationOutcome, and *Mis gastos* shows Ana her EOBs with the denied item.
@Suite("Financing over HTTP")
struct FinancingHTTPTests {
    static let tariff = "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio"

    static func setUp(_ c: Client) async throws {
        var resources: [String] = []
        for (id, partOf) in [("imss", nil), ("issste", nil), ("imss-umf-20", "imss"), ("issste-cmf", "issste")] as [(String, String?)] {
            resources.append(#"{"resourceType":"Organization","id":"\#(id)","active":true,"name":"\#(id)"\#(partOf.map { #","partOf":{"reference":"Organization/\#($0)"}"# } ?? "")}"#)
        }
        resources.append(#"{"resourceType":"InsurancePlan","id":"imss-regimen-obligatorio","status":"active","ownedBy":{"reference":"Organization/imss"},"coverage":[{"type":{"text":"todo"},"benefit":[{"type":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/benefit-scope","code":"all"}]}}]}]}"#)
        resources.append(#"{"resourceType":"InsurancePlan","id":"issste","status":"active","ownedBy":{"reference":"Organization/issste"},"coverage":[{"type":{"text":"todo"},"benefit":[{"type":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/benefit-scope","code":"all"}]}}]}]}"#)
        for (p, payer, plan) in [("a", "issste", "issste"), ("b", "imss", "imss-regimen-obligatorio")] {
            resources.append(#"{"resourceType":"Patient","id":"\#(p)","active":true}"#)
            resources.append(#"{"resourceType":"Coverage","id":"cov-\#(p)","status":"active","beneficiary":{"reference":"Patient/\#(p)"},"payor":[{"reference":"Organization/\#(payer)"}],"class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"\#(plan)"}]}"#)
        }
        for r in resources {
            let json = try JSONParser.parse(r)
            let reply = try await c.send(.put, "/fhir/\(json["resourceType"]!.stringValue!)/\(json["id"]!.stringValue!)", json: r)
            #expect(reply.status == 201 || reply.status == 200, "\(reply.text)")
        }
    }

    static func claim(_ id: String, patient: String, provider: String, date: String, items: [(String, Int)]) -> String {
        let lines = items.enumerated().map { i, it in
            #"{"sequence":\#(i + 1),"productOrService":{"coding":[{"system":"\#(tariff)","code":"\#(it.0)"}]},"servicedDate":"\#(date)","quantity":{"value":\#(it.1)}}"#
        }.joined(separator: ",")
        return #"{"resourceType":"Claim","identifier":[{"system":"https://enlace.mx/test/claims","value":"\#(id)"}],"status":"active","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"institutional"}]},"use":"claim","patient":{"reference":"Patient/\#(patient)"},"created":"\#(date)","provider":{"reference":"Organization/\#(provider)"},"priority":{"coding":[{"code":"normal"}]},"insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/cov-\#(patient)"}}],"item":[\#(lines)]}"#
    }

    static func total(_ c: Client, _ type: String) async throws -> Int {
        if case .number(let n)? = try await c.send(.get, "/fhir/\(type)?_summary=count").json["total"] { return Int(n) ?? -1 }
        return -1
    }

    @Test(arguments: ServerBackend.allCases)
    func concurrentSubmissionsOfOneClaimMakeOne(backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            let body = Self.claim("same-1", patient: "a", provider: "imss-umf-20", date: "2026-08-14", items: [("01.001", 2)])
            let replies = try await Self.concurrently(Array(repeating: { try await c.send(.post, "/fhir/Claim/$submit", json: body) }, count: 6))
            #expect(replies.allSatisfy { $0.status == 200 || $0.status == 201 }, "\(replies.map(\.text))")
            #expect(Set(replies.compactMap { $0.json["id"]?.stringValue }).count == 1)
            #expect(replies.filter { $0.status == 201 }.count <= 1)
            #expect(replies.first?.json["total"]?.arrayValue?.first { $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "benefit" }?["amount"]?["value"] == .number("1652.00"))
            #expect(try await Self.total(c, "Claim") == 1)
            #expect(try await Self.total(c, "ClaimResponse") == 1)
            #expect(try await Self.total(c, "ExplanationOfBenefit") == 1)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func settlementNetsTwoInstitutionsExactly(backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            // IMSS saw ISSSTE's beneficiary: 826.00 + 310.00 + 118.00 = 1,254.00
            // ISSSTE saw IMSS's: 1,485.00 × 1 = 1,485.00. Net: IMSS pays ISSSTE 231.00.
            #expect(try await c.send(.post, "/fhir/Claim/$submit", json: Self.claim("n-1", patient: "a", provider: "imss-umf-20", date: "2026-07-10",
                                                                               items: [("01.001", 1), ("03.001", 1), ("03.003", 1)])).status == 201)
            #expect(try await c.send(.post, "/fhir/Claim/$submit", json: Self.claim("n-2", patient: "b", provider: "issste-cmf", date: "2026-08-10",
                                                                               items: [("02.001", 1)])).status == 201)
            let r = try await c.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-Q3")
            #expect(r.status == 201, "\(r.text)")
            let rec = try #require((r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
            #expect(rec["paymentAmount"]?["value"] == .number("231.00"))
            #expect(rec["paymentIssuer"]?["reference"]?.stringValue == "Organization/imss")
            #expect(rec["detail"]?.arrayValue?.map { $0["amount"]?["value"] } == [.number("1254.00"), .number("1485.00")])
            let again = try await c.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-Q3")
            #expect(again.status == 200)
            #expect(try await Self.total(c, "PaymentReconciliation") == 1)
            #expect(try await Self.total(c, "PaymentNotice") == 1)
        }
    }

    @Test func badInputIsAPreciseOperationOutcome() async throws {
        let (server, cleanup) = try await ServerBackend.sqlite.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            let wrongType = try await c.send(.post, "/fhir/Patient/$submit", json: #"{"resourceType":"Patient"}"#)
            #expect(wrongType.status == 404 && wrongType.issueCodes == ["not-supported"])
            var claim = try JSONParser.parse(Self.claim("bad", patient: "a", provider: "imss-umf-20", date: "2026-08-14", items: [("01.001", 1)]))
            claim = claim.setting("identifier", nil)
            let noID = try await c.send(.post, "/fhir/Claim/$submit", body: claim.serialized())
            #expect(noID.status == 422 && noID.locations == ["Claim.identifier"])
            #expect(noID.text.contains("obligatorio"))
            let noPeriod = try await c.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-13")
            #expect(noPeriod.status == 400 && noPeriod.issueCodes == ["required"])
            let noDates = try await c.send(.get, "/fhir/Measure/diabetes-hba1c-control/$evaluate-measure")
            #expect(noDates.status == 400)
            let unknown = try await c.send(.get, "/fhir/Measure/nope/$evaluate-measure?periodStart=2026-01-01&periodEnd=2026-12-31")
            #expect(unknown.status == 404)
            let ok = try await c.send(.get, "/fhir/Measure/diabetes-hba1c-control/$evaluate-measure?periodStart=2026-01-01&periodEnd=2026-12-31")
            #expect(ok.status == 200 && ok.json["resourceType"]?.stringValue == "MeasureReport", "\(ok.text)")
            #expect(try await Self.total(c, "Claim") == 0)
        }
    }

    /// The operations that take their parameters from the query or a Parameters body never
    /// ignore a body that is there: broken JSON, another resource, a nameless parameter or XML is
    /// a 400/415 OperationOutcome that changes nothing (until 2026-12 a broken body was silently
    /// dropped and the query alone decided, so a `$settle` with a mistyped body still settled).
    @Test func aBrokenOperationBodyIsRefusedNotIgnored() async throws {
        let (server, cleanup) = try await ServerBackend.sqlite.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            let operations = ["/fhir/PaymentReconciliation/$settle?period=2026-Q3", "/fhir/Measure/diabetes-hba1c-control/$evaluate-measure?periodStart=2026-01-01&periodEnd=2026-12-31",
                              "/fhir/PaymentReconciliation/x/$dispute?line=ClaimResponse/y&reason=r", "/fhir/Task/x/$resolve?outcome=accepted"]
            for path in operations {
                let broken = try await c.send(.post, path, body: Array(#"{"resourceType":"Parameters","parameter":[{"name":"period","#.utf8),
                                              headers: ["Content-Type": "application/fhir+json"])
                #expect(broken.status == 400 && broken.issueCodes == ["structure"], "\(path): \(broken.status) \(broken.text)")
                #expect(broken.text.contains("JSON válido"), "\(path): \(broken.text)")
                let other = try await c.send(.post, path, json: #"{"resourceType":"Patient"}"#)
                #expect(other.status == 400 && other.issueCodes == ["invalid"] && other.text.contains("Parameters"), "\(path): \(other.status) \(other.text)")
                let nameless = try await c.send(.post, path, json: #"{"resourceType":"Parameters","parameter":[{"valueString":"2026-Q3"}]}"#)
                #expect(nameless.status == 400 && nameless.locations == ["Parameters.parameter[0]"], "\(path): \(nameless.status) \(nameless.text)")
                let xml = try await c.send(.post, path, body: Array("<Parameters/>".utf8), headers: ["Content-Type": "application/fhir+xml"])
                #expect(xml.status == 415, "\(path): \(xml.status) \(xml.text)")
            }
            #expect(try await Self.total(c, "PaymentReconciliation") == 0)
            // the body is read when it is right: the period of a Parameters body settles
            let settled = try await c.send(.post, "/fhir/PaymentReconciliation/$settle",
                                           json: #"{"resourceType":"Parameters","parameter":[{"name":"period","valueString":"2026-Q3"}]}"#)
            #expect(settled.status == 201 || settled.status == 200, "\(settled.text)")
            let wrongPeriod = try await c.send(.post, "/fhir/PaymentReconciliation/$settle",
                                               json: #"{"resourceType":"Parameters","parameter":[{"name":"period","valueString":"2026-13"}]}"#)
            #expect(wrongPeriod.status == 400 && wrongPeriod.issueCodes == ["required"])
        }
    }

    /// `Claim/{id}/$correct` over HTTP: bad input is a precise bilingual OperationOutcome and
    /// changes nothing; a good correction answers 200 with the new ClaimResponse (three entries).
    @Test func aClaimIsCorrectedOverHTTP() async throws {
        let (server, cleanup) = try await ServerBackend.sqlite.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            let first = try await c.send(.post, "/fhir/Claim/$submit", json: Self.claim("fix-1", patient: "a", provider: "imss-umf-20", date: "2026-08-14", items: [("01.001", 2)]))
            #expect(first.status == 201)
            let claims = try await c.send(.get, "/fhir/Claim?identifier=https://enlace.mx/test/claims|fix-1")
            let id = try #require(claims.json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue)
            let corrected = Self.claim("fix-1", patient: "a", provider: "imss-umf-20", date: "2026-08-14", items: [("01.001", 1)])
            func params(_ resource: String?, _ reason: String?) -> String {
                var p: [String] = []
                if let resource { p.append(#"{"name":"resource","resource":\#(resource)}"#) }
                if let reason { p.append(#"{"name":"reason","valueString":"\#(reason)"}"#) }
                return #"{"resourceType":"Parameters","parameter":[\#(p.joined(separator: ","))]}"#
            }
            let noReason = try await c.send(.post, "/fhir/Claim/\(id)/$correct", json: params(corrected, nil))
            #expect(noReason.status == 400 && noReason.issueCodes == ["required"] && noReason.text.contains("por qué se corrige") && noReason.text.contains("why the claim is corrected"))
            let noClaim = try await c.send(.post, "/fhir/Claim/\(id)/$correct", json: params(nil, "x"))
            #expect(noClaim.status == 400 && noClaim.issueCodes == ["required"])
            let notParameters = try await c.send(.post, "/fhir/Claim/\(id)/$correct", json: corrected)
            #expect(notParameters.status == 400)
            let wrongType = try await c.send(.post, "/fhir/Patient/a/$correct", json: params(corrected, "x"))
            #expect(wrongType.status == 404 && wrongType.issueCodes == ["not-supported"])
            let unknown = try await c.send(.post, "/fhir/Claim/nope/$correct", json: params(corrected, "x"))
            #expect(unknown.status == 404)
            let ok = try await c.send(.post, "/fhir/Claim/\(id)/$correct", json: params(corrected, "Una consulta de más"))
            #expect(ok.status == 200 && ok.json["resourceType"]?.stringValue == "ClaimResponse", "\(ok.text)")
            let kinds = (ok.json["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue == "https://enlace.mx/fhir/StructureDefinition/journal-entry" }.count
            #expect(kinds == 3)
            #expect(try await Self.total(c, "Claim") == 1)
            #expect(try await Self.total(c, "ClaimResponse") == 1)
            let history = try await c.send(.get, "/fhir/Claim/\(id)/_history")
            #expect(history.json["total"] == .number("2"))
        }
    }

    /// *Mis gastos* on the demo: Ana sees her emergency visit claimed to her insurer with the
    /// denied genetic panel and what she owes (by hand: 2,508.00 recognised, 1,500.00 deductible,
    /// 10 % of the remaining 1,008.00 = 100.80; she owes 1,600.80, the insurer pays 907.20).
    @Test func anaSeesHerExpenses() async throws {
        try await PortalTests.withDemoPortal { _, browser in
            let ana = try await browser.signIn("ana")
            let (status, page) = try await browser.get("/gastos", cookie: ana)
            #expect(status == .ok)
            #expect(page.contains("Mis gastos"))
            #expect(page.contains("Servicio no cubierto por el plan"))
            #expect(page.contains("$907.20") && page.contains("$1,600.80"))
            let (_, english) = try await browser.get("/gastos", cookie: ana + "; lang=en")
            #expect(english.contains("My expenses") && english.contains("Service not covered by the plan"))
            let doctor = try await browser.signIn("dr.hernandez")
            #expect(try await browser.get("/gastos", cookie: doctor).0 == .forbidden)
        }
    }

    /// Patient c with a private plan (deductible 1,500.00, 10 % coinsurance) of Aseguradora, and
    /// a Hospital (no institution): the deductible races.
    static func setUpPrivatePlan(_ c: Client) async throws {
        let plan = #"{"resourceType":"InsurancePlan","id":"gmm","status":"active","ownedBy":{"reference":"Organization/aseguradora"},"coverage":[{"type":{"text":"todo"},"benefit":[{"type":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/benefit-scope","code":"all"}]}}]}],"plan":[{"generalCost":[{"type":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/cost-type","code":"deductible"}]},"cost":{"value":1500.00,"currency":"MXN"}}],"specificCost":[{"category":{"text":"todo"},"benefit":[{"type":{"text":"costo"},"cost":[{"type":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/cost-type","code":"coinsurance"}]},"value":{"value":10,"unit":"%"}}]}]}]}]}"#
        for r in [#"{"resourceType":"Organization","id":"aseguradora","active":true,"name":"Aseguradora"}"#,
                  #"{"resourceType":"Organization","id":"hospital","active":true,"name":"Hospital"}"#, plan,
                  #"{"resourceType":"Patient","id":"c","active":true}"#,
                  #"{"resourceType":"Coverage","id":"cov-c","status":"active","beneficiary":{"reference":"Patient/c"},"payor":[{"reference":"Organization/aseguradora"}],"class":[{"type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/coverage-class","code":"plan"}]},"value":"gmm"}]}"#] {
            let json = try JSONParser.parse(r)
            #expect(try await c.send(.put, "/fhir/\(json["resourceType"]!.stringValue!)/\(json["id"]!.stringValue!)", json: r).status < 300)
        }
    }

    /// Claim `ded-<i>` of patient c: an emergency visit of 1,170.00 at the Hospital in August 2026.
    static func deductibleClaim(_ i: Int) -> String {
        claim("ded-\(i)", patient: "c", provider: "hospital", date: "2026-08-1\(i % 10)", items: [("01.002", 1)])
    }

    /// The replies of `calls` run at once.
    static func concurrently(_ calls: [@Sendable () async throws -> Client.Reply]) async throws -> [Client.Reply] {
        try await withThrowingTaskGroup(of: Client.Reply.self) { g in
            for call in calls { g.addTask { try await call() } }
            var out: [Client.Reply] = []
            for try await r in g { out.append(r) }
            return out
        }
    }

    static func amount(_ totals: JSON?, _ category: String) -> Decimal {
        guard case .number(let n)? = (totals?.arrayValue ?? []).first(where: { $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == category })?["amount"]?["value"]
        else { return 0 }
        return Decimal(string: n) ?? 0
    }

    /// The period a ClaimResponse's journal entry counts in.
    static func entryPeriod(_ r: JSON) -> String? {
        let entry = (r["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == "https://enlace.mx/fhir/StructureDefinition/journal-entry" }
        return (entry?["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == "period" }?["valueString"]?.stringValue
    }

    /// The deductible race, fixed: six different claims of one patient at once under a private
    /// plan (deductible 1,500.00, 10 % coinsurance), each an emergency visit of 1,170.00. By hand,
    /// whatever the order: deductible 1,170.00 + 330.00 = 1,500.00 exactly; coinsurance 84.00 +
    /// 4 × 117.00 = 552.00; the insurer pays 7,020.00 − 1,500.00 − 552.00 = 4,968.00.
    @Test(arguments: ServerBackend.allCases)
    func concurrentClaimsOfOnePatientUseTheDeductibleOnce(backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            try await Self.setUpPrivatePlan(c)
            let replies = try await Self.concurrently((0..<6).map { i in
                let body = Self.deductibleClaim(i)
                return { try await c.send(.post, "/fhir/Claim/$submit", json: body) }
            })
            #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.text))")
            let deductible = replies.map { Self.amount($0.json["total"], "deductible") }.reduce(0, +)
            let benefit = replies.map { Self.amount($0.json["total"], "benefit") }.reduce(0, +)
            #expect(deductible == Decimal(string: "1500.00")!)
            #expect(benefit == Decimal(string: "4968.00")!)
        }
    }

    /// The settle race, fixed: claims of one quarter submitted while the quarter is settled. Each
    /// lands in exactly one period — Q3 if it was written before the settlement (and then it is in
    /// the settlement's total), Q4 otherwise — so the settlement equals its Q3 claims, to the centavo.
    @Test(arguments: ServerBackend.allCases)
    func claimsDuringASettlementLandInOnePeriod(backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make()
        defer { cleanup() }
        try await server.run { c in
            try await Self.setUp(c)
            try await Self.claimsDuringASettlement(claimsOn: c, settleOn: c)
        }
    }

    /// Claim s-0 (July), then six claims of late September through `claimsOn` while `settleOn`
    /// settles 2026-Q3: every claim and the settlement succeed, each claim lands in Q3 or Q4, and
    /// the settlement pays exactly its Q3 claims.
    static func claimsDuringASettlement(claimsOn: Client, settleOn: Client) async throws {
        #expect(try await settleOn.send(.post, "/fhir/Claim/$submit", json: claim("s-0", patient: "a", provider: "imss-umf-20", date: "2026-07-01",
                                                                          items: [("01.001", 1)])).status == 201)
        let claims: [@Sendable () async throws -> Client.Reply] = (1...6).map { i in
            let body = claim("s-\(i)", patient: "a", provider: "imss-umf-20", date: "2026-09-2\(i)", items: [("03.00\(1 + i % 4)", 1)])
            return { try await claimsOn.send(.post, "/fhir/Claim/$submit", json: body) }
        }
        let replies = try await concurrently(claims + [{ try await settleOn.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-Q3") }])
        #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.text))")
        let s = try #require(replies.first { $0.json["resourceType"]?.stringValue == "Bundle" })
        let rec = try #require(s.json["entry"]?.arrayValue?.compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        guard case .number(let paid)? = rec["paymentAmount"]?["value"] else { Issue.record("no paymentAmount"); return }
        let responses = try await claimsOn.send(.get, "/fhir/ClaimResponse?_count=100").json["entry"]?.arrayValue?.compactMap { $0["resource"] } ?? []
        #expect(responses.count == 7)
        let q3 = responses.filter { entryPeriod($0) == "2026-Q3" }
        #expect(q3.count + responses.filter { entryPeriod($0) == "2026-Q4" }.count == 7)
        #expect(Decimal(string: paid)! == q3.map { amount($0["total"], "benefit") }.reduce(0, +))
    }
}
