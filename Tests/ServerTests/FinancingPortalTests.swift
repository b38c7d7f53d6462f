import FHIR
import Financing
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import Server
import Testing
import Trust

/// The payer and institution pages of Financing (docs/financing.md, "Portal"): the claims
/// worklist and a claim's detail, the settlement statement with its CSV and PDF, the quality
/// dashboard, *Mi cobertura*, and the disputes page — each read through the signed-in person's
/// guard.
@Suite struct FinancingPortalTests {
    static func operatorGuard(_ services: EnlaceServices) async throws -> GuardedRepository {
        try await services.door.open(Principal(subject: "test-operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t"), audit: nil)
    }

    static func count(_ page: String) -> Int? {
        guard let r = page.range(of: "data-count=\"") else { return nil }
        return Int(page[r.upperBound...].prefix { $0 != "\"" })
    }

    static func attribute(_ name: String, _ page: String) -> [String] {
        var out: [String] = []
        var rest = page[...]
        while let r = rest.range(of: "\(name)=\"") {
            let value = rest[r.upperBound...].prefix { $0 != "\"" }
            out.append(String(value))
            rest = rest[r.upperBound...]
        }
        return out
    }

    /// RFC 4180 fields (quoted fields may hold commas and doubled quotes).
    static func parseCSV(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if quoted {
                if c == "\"" {
                    if chars.first == "\"" { field.append("\""); chars = chars.dropFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true }
            else if c == "," { row.append(field); field = "" }
            else if c == "\r\n" || c == "\n" { row.append(field); rows.append(row); row = []; field = "" }
            else { field.append(c) }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    /// On the demo: Seguros Vida Plena's worklist has Ana's emergency claim (partly approved, the
    /// genetic panel denied with its reason); its detail names the rules with versions; IMSS as
    /// payer sees its own claims only; filters work; a patient may not see the worklist.
    @Test func thePayersWorklistAndAClaimsDetail() async throws {
        try await PortalTests.withDemoPortal { services, browser in
            let vp = try await browser.signIn("vidaplena")
            let (s1, list) = try await browser.get("/reclamaciones", cookie: vp)
            #expect(s1 == .ok && list.contains("Reclamaciones"), "\(list)")
            #expect(Self.count(list) == 1 && Self.attribute("data-status", list) == ["partial"], "\(list)")
            let id = try #require(Self.attribute("data-claim", list).first)
            #expect(Self.count(try await browser.get("/reclamaciones?estado=denied", cookie: vp).1) == 0)
            #expect(Self.count(try await browser.get("/reclamaciones?estado=partial", cookie: vp).1) == 1)
            #expect(Self.count(try await browser.get("/reclamaciones?paciente=demo-p002", cookie: vp).1) == 0)
            #expect(Self.count(try await browser.get("/reclamaciones?paciente=demo-p001", cookie: vp).1) == 1)
            let (_, badPeriod) = try await browser.get("/reclamaciones?periodo=2026-Q9", cookie: vp)
            #expect(badPeriod.contains("Periodo no válido"))
            let (s2, detail) = try await browser.get("/reclamaciones/\(id)", cookie: vp)
            #expect(s2 == .ok)
            #expect(detail.contains("Servicio no cubierto por el plan"))
            #expect(detail.contains("$907.20"))
            // a payer may not read Provenance: the rules recorded in the decision
            #expect(detail.contains("data-source=\"claim-response\""))
            #expect(detail.contains("InsurancePlan/vida-plena-gmm-basico|"))
            #expect(detail.contains("tariff/tabulador-intercambio|2026.1"))
            #expect(Self.attribute("data-status", detail).contains("denied"))
            let (_, english) = try await browser.get("/reclamaciones/\(id)", cookie: vp + "; lang=en")
            #expect(english.contains("Service not covered by the plan") && english.contains("Provenance of the decision"))

            // IMSS as payer: exactly the claims adjudicated for IMSS, not the insurer's
            let imss = try await browser.signIn("imss.pagos")
            let (_, imssList) = try await browser.get("/reclamaciones", cookie: imss)
            let expected = try await FinancingService.all("ClaimResponse", [("insurer", "Organization/imss")], guarded: Self.operatorGuard(services)).count
            #expect(expected > 0 && Self.count(imssList) == expected, "\(expected)")
            #expect(!imssList.contains(id))
            #expect(try await browser.get("/reclamaciones/\(id)", cookie: imss).0 == .forbidden)
            let ana = try await browser.signIn("ana")
            #expect(try await browser.get("/reclamaciones", cookie: ana).0 == .forbidden)
        }
    }

    /// On the demo: IMSS's settlement statement of last quarter with ISSSTE; the CSV (UTF-8 BOM,
    /// RFC 4180, attachment) has per direction services + corrections = total, totals and net equal
    /// to the ledger's statement; the PDF is a PDF; a bad period is a precise error.
    @Test func theSettlementStatementAndItsDownloads() async throws {
        try await PortalTests.withDemoPortal { services, browser in
            let imss = try await browser.signIn("imss.pagos")
            let (s1, page) = try await browser.get("/liquidacion", cookie: imss)
            #expect(s1 == .ok && page.contains("liquidacion.csv?periodo=") && page.contains("data-net=\""), "\(page)")
            // IMSS pays its unit's incentive: it may dispute it from the statement; ISSSTE, not its payer, may not
            let incentive = try #require(page.components(separatedBy: "<li class=\"incentive\"").dropFirst().first?.components(separatedBy: "</li>").first)
            #expect(incentive.contains("action=\"/disputas/abrir\"") && incentive.contains("name=\"linea\" value=\"Measure/"), "\(incentive)")
            let (_, theirs) = try await browser.get("/liquidacion", cookie: try await browser.signIn("issste.pagos"))
            #expect(!theirs.contains("value=\"Measure/"), "ISSSTE does not pay IMSS's incentives")
            let selected = Self.attribute("value", page.components(separatedBy: "<select id=\"periodo\"").last ?? "").first ?? ""
            let period = try #require(Period(selected))
            let ledger = try await FinancingService().ledger(guarded: Self.operatorGuard(services)).statement(for: period)
                .filter { $0.a == "Organization/imss" || $0.b == "Organization/imss" }
            #expect(!ledger.isEmpty)

            let r = try await browser.client.execute(uri: "/liquidacion.csv?periodo=\(period)", method: .get, headers: [.cookie: imss]) { $0 }
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(r.headers[.contentDisposition] == "attachment; filename=\"liquidacion-\(period).csv\"")
            let bytes = Array(r.body.readableBytesView)
            #expect(bytes.prefix(3) == [0xEF, 0xBB, 0xBF])
            let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            let rows = Self.parseCSV(text)
            #expect(rows.first == SettlementStatement.csvColumns)
            #expect(rows.dropFirst().allSatisfy { $0.count == SettlementStatement.csvColumns.count && $0[0] == "\(period)" })
            var sums: [String: Money] = [:], totals: [String: Money] = [:], nets: [Money] = []
            for row in rows.dropFirst() {
                let money = try #require(Money(decimal: row[7]))
                switch row[2] {
                case "servicio", "incentivo", "correccion": sums[row[3] + ">" + row[4], default: .zero] += money
                case "total": totals[row[3] + ">" + row[4]] = money
                case "neto": nets.append(money)
                default: Issue.record("unknown row kind \(row[2])")
                }
            }
            #expect(totals.count == 2 * ledger.count && nets.count == ledger.count)
            for (key, total) in totals { #expect((sums[key] ?? .zero) == total, "\(key)") }
            // the ledger's figures (names are the organizations' aliases)
            let owed = ledger.flatMap { [$0.owedToA, $0.owedToB] }.sorted()
            #expect(totals.values.sorted() == owed)
            #expect(nets.sorted() == ledger.map { Money(centavos: abs($0.net.centavos)) }.sorted())

            let pdf = try await browser.client.execute(uri: "/liquidacion.pdf?periodo=\(period)", method: .get, headers: [.cookie: imss]) { $0 }
            #expect(pdf.status == .ok && pdf.headers[.contentType] == "application/pdf")
            #expect(pdf.headers[.contentDisposition] == "attachment; filename=\"liquidacion-\(period).pdf\"")
            #expect(String(decoding: Array(pdf.body.readableBytesView).prefix(8), as: UTF8.self) == "%PDF-1.4")

            #expect(try await browser.get("/liquidacion?periodo=2026-Q9", cookie: imss).0 == .badRequest)
            let bad = try await browser.client.execute(uri: "/liquidacion.csv?periodo=nada", method: .get, headers: [.cookie: imss]) { $0 }
            let outcome = try JSONParser.parse(String(buffer: bad.body))
            #expect(bad.status == .badRequest && outcome["resourceType"]?.stringValue == "OperationOutcome")
            #expect(outcome["issue"]?.arrayValue?.first?["details"]?["text"]?.stringValue?.contains("AAAA-Tn") == true)
            // an institution not in the settlement sees none; a patient may not ask
            let vp = try await browser.signIn("vidaplena")
            #expect(try await browser.get("/liquidacion", cookie: vp).1.contains("No hay liquidación"))
            let ana = try await browser.signIn("ana")
            #expect(try await browser.get("/liquidacion.csv", cookie: ana).0 == .forbidden)
        }
    }

    /// On the demo: the quality dashboard of Dr. Hernández (his unit's patients) charts the six
    /// measures over four quarters; its HbA1c figures are `$evaluate-measure`'s on his own guard
    /// and the incentive is the contract's formula on them; a payer sees its beneficiaries
    /// counted, small populations masked. *Mi cobertura* shows Ana her IMSS coverage and her private plan with what it covers.
    @Test func theQualityDashboardAndMyCoverage() async throws {
        try await PortalTests.withDemoPortal { services, browser in
            let doctor = try await browser.signIn("dr.hernandez")
            let (s1, page) = try await browser.get("/calidad", cookie: doctor)
            #expect(s1 == .ok && page.components(separatedBy: "<svg class=\"chart\"").count == 7, "\(page.prefix(2000))")
            let section = try #require(page.components(separatedBy: "data-measure=\"diabetes-hba1c-control\"").dropFirst().first?.components(separatedBy: "</section>").first)
            let periods = Self.attribute("data-period", section), numerators = Self.attribute("data-numerator", section)
            let denominators = Self.attribute("data-denominator", section)
            #expect(periods.count == 4)
            let last = try #require(Period(periods.last ?? ""))
            let hernandez = Principal(subject: "user:dr.hernandez", scopes: ScopeSet("user/*.cruds"), tokenID: "t", role: .practitioner,
                                      fhirUser: "Practitioner/dr-hernandez", organization: "Organization/imss-umf-20")
            let report = try await MeasureEvaluator().report(.init(measureID: "diabetes-hba1c-control", periodStart: last.start, periodEnd: last.end, reportType: .summary),
                                                             guarded: services.door.open(hernandez, audit: nil), now: services.clock.now())
            func count(_ code: String) -> String? {
                let p = (report["group"]?.arrayValue?.first?["population"]?.arrayValue ?? []).first { $0["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == code }
                if case .number(let n)? = p?["count"] { return n }
                return nil
            }
            #expect(numerators.last == count("numerator") && denominators.last == count("denominator"))
            #expect((Int(denominators.last ?? "") ?? 0) > 0, "the doctor's diabetic patients are counted")
            let term = try #require(IncentiveContract.imssCalidad2026.term("diabetes-hba1c-control"))
            let earned = IncentiveContract.earned(term, numerator: Int(numerators.last ?? "") ?? -1, denominator: Int(denominators.last ?? "") ?? -1)
            #expect(Self.attribute("data-earned", section) == [earned.decimal])
            // a payer: its beneficiaries counted, never read (Door.payerSummary). The last quarter's
            // HbA1c figures on its page are the operator's list of diabetics cut to the payer's
            // beneficiaries (computed here from the Coverages), or masked when fewer than 5
            let platform = Principal(subject: "operator", scopes: ScopeSet("system/*.cruds"), tokenID: "t")
            let everyone = try await services.door.open(platform, audit: nil)
            let listed = try await MeasureEvaluator().report(.init(measureID: "diabetes-hba1c-control", periodStart: last.start, periodEnd: last.end, reportType: .subjectList),
                                                             guarded: everyone, now: services.clock.now())
            func members(_ list: String) -> Set<String> {
                let l = (listed["contained"]?.arrayValue ?? []).first { $0["id"]?.stringValue == list }
                return Set((l?["entry"]?.arrayValue ?? []).compactMap { $0["item"]?["reference"]?.stringValue })
            }
            for (user, organization) in [("vidaplena", "Organization/seguros-vida-plena"), ("imss.pagos", "Organization/imss")] {
                let insured = Set(try await everyone.searchAll("Coverage", [("payor", organization), ("status", "active")]).compactMap {
                    try $0.json()["beneficiary"]?["reference"]?.stringValue
                })
                let (_, page) = try await browser.get("/calidad", cookie: try await browser.signIn(user))
                #expect(page.contains("payer-note") && page.contains("cuentan sin mostrárselos"), "\(user)")
                let hba1c = try #require(page.components(separatedBy: "data-measure=\"diabetes-hba1c-control\"").dropFirst().first?.components(separatedBy: "</section>").first)
                let lastQuarter = try #require(hba1c.components(separatedBy: "data-period=\"\(last)\"").dropFirst().first?.components(separatedBy: "</li>").first)
                let denominator = members("denominator").intersection(insured).count, numerator = members("numerator").intersection(insured).count
                #expect(denominator > 0, "the demo has diabetic beneficiaries of \(user)")
                if denominator < 5 || (numerator > 0 && numerator < 5) {
                    #expect(lastQuarter.contains("data-masked=\"true\"") && lastQuarter.contains("menos de 5 personas"), "\(user): \(lastQuarter)")
                } else {
                    #expect(lastQuarter.contains("data-numerator=\"\(numerator)\" data-denominator=\"\(denominator)\""), "\(user): \(lastQuarter) vs \(numerator)/\(denominator)")
                }
            }

            let ana = try await browser.signIn("ana")
            let (s2, coverage) = try await browser.get("/cobertura", cookie: ana)
            #expect(s2 == .ok)
            #expect(coverage.contains("Mi cobertura"))
            #expect(coverage.contains("32987654321"))
            #expect(coverage.contains("$1,500.00"))
            #expect(coverage.contains("10 %"))
            #expect(coverage.contains("Panel genético de riesgo cardiovascular"))
            #expect(Self.attribute("data-coverage", coverage).count == 2)
            let (_, english) = try await browser.get("/cobertura", cookie: ana + "; lang=en")
            #expect(english.contains("My coverage") && english.contains("Annual deductible"))
            #expect(try await browser.get("/cobertura", cookie: doctor).0 == .forbidden)
        }
    }

    /// Disputes (the finance rule, docs/access.md): the paying institution's office sees its
    /// dispute without a form, the institution owed resolves it on `/disputas` (CSRF-checked; a
    /// second resolution is a conflict), another payer sees none, and an operator's read-only
    /// portal session is told it may not read them.
    static let financePasswords = ["imss.pagos": "contraseña-larga-1", "finanzas.imss": "contraseña-larga-2", "issste.pagos": "contraseña-larga-3",
                                   "otra.pagos": "contraseña-larga-4"]

    /// IMSS's and ISSSTE's finance offices, an operator at IMSS, and a payer of neither.
    static func addFinanceUsers(_ server: TestServer) async throws {
        let identity = server.services.identity
        _ = try await identity.addUser(username: "imss.pagos", role: .payer, password: financePasswords["imss.pagos"]!, organization: "Organization/imss")
        _ = try await identity.addUser(username: "finanzas.imss", role: .platformOperator, password: financePasswords["finanzas.imss"]!, organization: "Organization/imss")
        _ = try await identity.addUser(username: "issste.pagos", role: .payer, password: financePasswords["issste.pagos"]!, organization: "Organization/issste")
        _ = try await identity.addUser(username: "otra.pagos", role: .payer, password: financePasswords["otra.pagos"]!, organization: "Organization/otra")
    }

    /// Claim d-1 (an ISSSTE beneficiary at the IMSS unit, two items) and d-2 (an IMSS
    /// beneficiary at the ISSSTE clinic), 2026-Q3 settled: the settlement's id and d-1's
    /// ClaimResponse id.
    static func settleTwoClaims(_ c: Client) async throws -> (rec: String, line: String) {
        try await FinancingHTTPTests.setUp(c)
        #expect(try await c.send(.post, "/fhir/Claim/$submit", json: FinancingHTTPTests.claim("d-1", patient: "a", provider: "imss-umf-20", date: "2026-07-10",
                                                                                             items: [("01.001", 1), ("03.001", 1)])).status == 201)
        #expect(try await c.send(.post, "/fhir/Claim/$submit", json: FinancingHTTPTests.claim("d-2", patient: "b", provider: "issste-cmf", date: "2026-08-10",
                                                                                             items: [("02.001", 1)])).status == 201)
        let settled = try await c.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-Q3")
        let rec = try #require(settled.json["entry"]?.arrayValue?.compactMap { $0["resource"] }.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        let responses = try await c.send(.get, "/fhir/ClaimResponse?identifier=https://enlace.mx/test/claims|d-1")
        return (try #require(rec["id"]?.stringValue), try #require(responses.json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue))
    }

    /// A dispute opened in the portal, from the claim's page (`POST /disputas/abrir`): the paying
    /// institution (ISSSTE) disputes item 1 of d-1; a missing reason or a bad amount is refused
    /// on the page, nothing stored; a second submission is the same Task; another payer is
    /// refused; the institution owed sees it, open, with its resolve form.
    @Test func aPayerOpensADisputeFromTheClaimsPage() async throws {
        let server = try TestServer { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        try await Self.addFinanceUsers(server)
        try await server.run { c in
            let (_, line) = try await Self.settleTwoClaims(c)
            let claim = try #require(try await c.send(.get, "/fhir/Claim?identifier=https://enlace.mx/test/claims|d-1").json["entry"]?.arrayValue?.first?["resource"]?["id"]?.stringValue)
            let browser = PortalBrowser(client: c.client, passwords: Self.financePasswords)
            let issste = try await browser.signIn("issste.pagos")
            let (s0, page) = try await browser.get("/reclamaciones/\(claim)", cookie: issste)
            #expect(s0 == .ok && page.contains("action=\"/disputas/abrir\"") && page.contains("value=\"ClaimResponse/\(line)\"") && page.contains("value=\"2026-Q3\""), "\(page)")
            let csrf = try PortalBrowser.csrf(page)
            func disputes() async throws -> [JSON] {
                (try await c.send(.get, "/fhir/Task?code=\(Disputes.taskSystem)|dispute").json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }
            }
            let form = "csrf=\(csrf)&linea=ClaimResponse%2F\(line)&periodo=2026-Q3&servicio=1"
            let (s1, _, noReason) = try await browser.post("/disputas/abrir", cookie: issste, form + "&motivo=+")
            #expect(s1 == .unprocessableContent && noReason.contains("Escriba el motivo de la disputa"), "\(noReason.prefix(300))")
            let (s2, _, badAmount) = try await browser.post("/disputas/abrir", cookie: issste, form + "&motivo=No+se+realiz%C3%B3&importe=12.345")
            #expect(s2 == .unprocessableContent && badAmount.contains("hasta dos decimales"))
            #expect(try await disputes().isEmpty, "nothing stored by a refused form")
            let (s3, l3, opening) = try await browser.post("/disputas/abrir", cookie: issste, form + "&motivo=No+se+realiz%C3%B3")
            #expect(s3 == .seeOther && l3 == "/disputas?abierta=1", "\(s3) \(opening.components(separatedBy: "role=\"alert\">").dropFirst().first?.prefix(300) ?? "")")
            let (s4, l4, _) = try await browser.post("/disputas/abrir", cookie: issste, form + "&motivo=Otra+vez")
            #expect(s4 == .seeOther && l4 == "/disputas?abierta=1")
            let opened = try await disputes()
            #expect(opened.count == 1, "a second submission is the same dispute: \(opened.count)")
            let task = try #require(opened.first)
            #expect(task["requester"]?["reference"]?.stringValue == "Organization/issste" && task["owner"]?["reference"]?.stringValue == "Organization/imss")
            #expect(task["reasonCode"]?["text"]?.stringValue == "No se realizó")
            #expect((task["input"]?.arrayValue ?? []).contains { $0["valuePositiveInt"] == .number("1") })
            // another payer: refused with the reason, nothing stored
            let otra = try await browser.signIn("otra.pagos")
            let (_, otherPage) = try await browser.get("/disputas", cookie: otra)
            let (s5, _, refused) = try await browser.post("/disputas/abrir", cookie: otra,
                                                          "csrf=\(try PortalBrowser.csrf(otherPage))&linea=ClaimResponse%2F\(line)&periodo=2026-Q3&motivo=Mia")
            #expect(s5 == .forbidden || s5 == .notFound || s5 == .unprocessableContent, "\(s5) \(refused.prefix(300))")
            #expect(try await disputes().count == 1)
            // the institution owed sees it, open, with the form to resolve it
            let imss = try await browser.signIn("imss.pagos")
            let (_, owed) = try await browser.get("/disputas", cookie: imss)
            #expect(owed.contains("data-dispute=\"\(task["id"]?.stringValue ?? "")\"") && owed.contains("/disputas/resolver") && owed.contains("No se realizó"))
        }
    }

    @Test func theDisputesPageResolvesADispute() async throws {
        let server = try TestServer { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        try await Self.addFinanceUsers(server)
        try await server.run { c in
            let (rec, line) = try await Self.settleTwoClaims(c)
            let dispute = try await c.send(.post, "/fhir/PaymentReconciliation/\(rec)/$dispute", json: #"""
                {"resourceType":"Parameters","parameter":[{"name":"line","valueReference":{"reference":"ClaimResponse/\#(line)"}},
                {"name":"item","valuePositiveInt":2},{"name":"reason","valueString":"Estudio no solicitado"}]}
                """#)
            #expect(dispute.status == 201, "\(dispute.text)")
            let taskID = try #require(dispute.json["id"]?.stringValue)
            #expect(dispute.json["requester"]?["reference"]?.stringValue == "Organization/issste")
            #expect(dispute.json["owner"]?["reference"]?.stringValue == "Organization/imss")

            let browser = PortalBrowser(client: c.client, passwords: Self.financePasswords)
            // the paying institution sees its dispute, open, with no form (it is not owed)
            let issste = try await browser.signIn("issste.pagos")
            let (si, mine) = try await browser.get("/disputas", cookie: issste)
            #expect(si == .ok && mine.contains("data-dispute=\"\(taskID)\"") && mine.contains("data-status=\"open\""), "\(mine)")
            #expect(!mine.contains("/disputas/resolver") && mine.contains("Estudio no solicitado"))
            // nor may it resolve it by posting the form
            let (sr, _, _) = try await browser.post("/disputas/resolver", cookie: issste, "csrf=\(try PortalBrowser.csrf(mine))&disputa=\(taskID)&resultado=accepted")
            #expect(sr == .forbidden)
            // another payer sees none of it
            let otra = try await browser.signIn("otra.pagos")
            let (so, none) = try await browser.get("/disputas", cookie: otra)
            #expect(so == .ok && !none.contains(taskID) && !none.contains("disputes-hidden"), "\(none)")
            // an operator's portal session has read-only scopes: told so, and refused
            let officer = try await browser.signIn("finanzas.imss")
            let (s1, page) = try await browser.get("/disputas", cookie: officer)
            #expect(s1 == .ok && page.contains("disputes-hidden"), "\(page)")
            let (s2, _, body) = try await browser.post("/disputas/resolver", cookie: officer, "csrf=\(try PortalBrowser.csrf(page))&disputa=\(taskID)&resultado=accepted&nota=Procede")
            #expect(s2 == .forbidden && body.contains("role=\"alert\""), "\(s2) \(body)")
            #expect(try await c.send(.get, "/fhir/Task/\(taskID)").json["status"]?.stringValue == "requested")

            // the institution owed resolves it on the page
            let imss = try await browser.signIn("imss.pagos")
            let (s3, owed) = try await browser.get("/disputas", cookie: imss)
            #expect(s3 == .ok && owed.contains("/disputas/resolver") && owed.contains("data-dispute=\"\(taskID)\""), "\(owed)")
            let csrf = try PortalBrowser.csrf(owed)
            let (forged, _, _) = try await browser.post("/disputas/resolver", cookie: imss, "csrf=x&disputa=\(taskID)&resultado=accepted")
            #expect(forged == .forbidden)
            let (s4, _, _) = try await browser.post("/disputas/resolver", cookie: imss, "csrf=\(csrf)&disputa=\(taskID)&resultado=quizas")
            #expect(s4 == .badRequest)
            let (s5, location, _) = try await browser.post("/disputas/resolver", cookie: imss, "csrf=\(csrf)&disputa=\(taskID)&resultado=accepted&nota=Procede")
            #expect(s5 == .seeOther && location == "/disputas?resuelta=1", "\(s5)")
            let task = try await c.send(.get, "/fhir/Task/\(taskID)").json
            #expect(task["status"]?.stringValue == "completed" && task["output"]?.arrayValue?.first?["valueString"]?.stringValue == "2026-Q4", "\(task)")
            #expect(task["note"]?.arrayValue?.first?["text"]?.stringValue == "Procede")
            let (s6, done) = try await browser.get("/disputas?resuelta=1", cookie: imss)
            #expect(s6 == .ok && done.contains("data-status=\"accepted\"") && !done.contains("/disputas/resolver") && done.contains("2026-Q4"))
            // a second resolution is a conflict, shown on the page, and changes nothing
            let (s7, _, again) = try await browser.post("/disputas/resolver", cookie: imss, "csrf=\(csrf)&disputa=\(taskID)&resultado=rejected")
            #expect(s7 == .conflict && again.contains("role=\"alert\""))
            #expect(try await c.send(.get, "/fhir/Task/\(taskID)").json["status"]?.stringValue == "completed")
            // the next settlement nets the correction: Q4 holds it
            let q4 = try await c.send(.post, "/fhir/PaymentReconciliation/$settle?period=2026-Q4")
            #expect(q4.status == 201, "\(q4.text)")
        }
    }
}
