import FHIR
import Financing
import Foundation
import HTTPTypes
import Hummingbird
import Trust

extension Portal {
    /// The settlement statement of `?periodo=` (default: the latest settled period) that the
    /// session's guard lets it read (settlement PaymentReconciliations are shared data), only the
    /// pairs of the session's organization when it has one; and the periods there are.
    func settlementStatement(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws
        -> (statement: SettlementStatement?, periods: [Period], names: [String: String], asked: String?) {
        guard !s.isPatient else { throw FHIRError(status: 403, code: "forbidden", english: "not for patients", spanish: "no es para pacientes") }
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        let g = try await guarded(s, context)
        let recs = try await FinancingService.all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: g, limit: 5000)
        let org = s.principal.organization.map { $0.hasPrefix("Organization/") ? $0 : "Organization/" + $0 }
        var periods = Set<Period>()
        for r in recs {
            guard let v = r["identifier"]?.arrayValue?.first?["value"]?.stringValue, let p = v.split(separator: "~").first.flatMap({ Period(String($0)) }) else { continue }
            if let org, !v.contains("~" + org.replacingOccurrences(of: "/", with: ".")) { continue }
            periods.insert(p)
        }
        let sorted = periods.sorted(by: >)
        let asked = q["periodo"]
        let period: Period?
        if let asked, !asked.isEmpty {
            guard let p = Period(asked) else { return (nil, sorted, [:], asked) }
            period = p
        } else {
            period = sorted.first
        }
        guard let period else { return (nil, sorted, [:], asked) }
        let statement = SettlementStatement(period: period, reconciliations: recs, institution: org)
        var cache = NameCache()
        let names = await cache.names(statement.pairs.flatMap { [$0.pair.a, $0.pair.b] }, g)
        return (statement, sorted, names, asked)
    }

    /// `/liquidacion?periodo=2026-Q3`: the settlement statement page, with CSV and PDF downloads.
    func settlementPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        let (statement, periods, names, asked) = try await settlementStatement(s, request, context)
        func name(_ r: String) -> String { names[r] ?? r }
        let org = s.principal.organization.map { $0.hasPrefix("Organization/") ? $0 : "Organization/" + $0 }
        func mayDispute(_ debtor: String) -> Bool {
            s.principal.effectiveRole == .payer ? org == debtor : s.principal.effectiveRole == .platformOperator
        }
        var body = "<p>\(esc(t.settlementLead))</p>"
        body += "<form method=\"get\" action=\"/liquidacion\" class=\"card stack filters\"><label for=\"periodo\">\(esc(t.settlementPeriod))</label>"
        body += "<select id=\"periodo\" name=\"periodo\">"
        for p in periods { body += "<option value=\"\(p)\"\(p == statement?.period ? " selected" : "")>\(p)</option>" }
        body += "</select><p><button type=\"submit\">\(esc(t.claimsFilter))</button></p></form>"
        if let asked, !asked.isEmpty, Period(asked) == nil {
            body += "<p class=\"error\" role=\"alert\">\(esc(t.t("Periodo no válido: use AAAA-Tn, p. ej. 2026-Q3.", "Invalid period: use YYYY-Qn, e.g. 2026-Q3.")))</p>"
            return html(.badRequest, layout(s, request, title: t.navSettlement, body: body))
        }
        guard let statement, !statement.pairs.isEmpty else { return html(.ok, layout(s, request, title: t.navSettlement, body: body + "<p>\(esc(t.settlementNone))</p>")) }
        let p = statement.period
        body += "<p class=\"downloads\"><a class=\"button\" href=\"/liquidacion.csv?periodo=\(p)\" download>\(esc(t.settlementDownloadCSV))</a> "
        body += "<a class=\"button\" href=\"/liquidacion.pdf?periodo=\(p)\" download>\(esc(t.settlementDownloadPDF))</a></p>"
        for pair in statement.pairs {
            body += "<section class=\"card settlement-pair\" data-reconciliation=\"\(esc(pair.reconciliation))\"><h2>\(esc(name(pair.pair.a))) — \(esc(name(pair.pair.b))) · \(p)</h2>"
            for d in pair.directions {
                body += "<h3>\(esc(t.settlementOwes(name(d.debtor), name(d.creditor))))</h3><ul class=\"summary services\">"
                for line in d.services {
                    body += "<li data-code=\"\(esc(line.code))\">\(esc(line.display.isEmpty ? line.code : line.display)) <span class=\"code\">(\(esc(line.code)))</span>: \(esc(Self.pesos(line.amount)))</li>"
                }
                for i in d.incentives {
                    body += "<li class=\"incentive\" data-measure=\"\(esc(i.measure))\" data-amount=\"\(esc(i.amount.decimal))\">\(esc(t.settlementIncentive)) <span class=\"code\">(\(esc(i.measure)), \(i.numerator)/\(i.denominator))</span>: \(esc(Self.pesos(i.amount)))"
                    // the contract's payer disputes an incentive whole (docs/financing.md, "Disputing an incentive")
                    if mayDispute(d.debtor) { body += openDisputeForm(s, line: "Measure/\(i.measure)", period: p, incentive: true) }
                    body += "</li>"
                }
                if d.corrections != .zero { body += "<li class=\"corrections\">\(esc(t.settlementCorrections)): \(esc(Self.pesos(d.corrections)))</li>" }
                body += "<li class=\"total\" data-total=\"\(esc(d.total.decimal))\"><strong>\(esc(t.settlementTotal)): \(esc(Self.pesos(d.total))) MXN</strong></li></ul>"
            }
            if let payer = pair.pair.payer, let payee = pair.pair.payee {
                body += "<p class=\"net\" data-net=\"\(esc(pair.net.decimal))\"><strong>\(esc(t.settlementNet)):</strong> \(esc(t.settlementPays(name(payer), name(payee)))) \(esc(Self.pesos(pair.net))) MXN</p>"
            } else {
                body += "<p class=\"net\" data-net=\"0.00\"><strong>\(esc(t.settlementNet)):</strong> \(esc(t.settlementEven))</p>"
            }
            body += "</section>"
        }
        return html(.ok, layout(s, request, title: "\(t.navSettlement) \(p)", body: body))
    }

    /// `/liquidacion.csv?periodo=…` and `/liquidacion.pdf?periodo=…`: the same statement as a
    /// download (`Content-Disposition: attachment`).
    func settlementDownload(_ s: Session, _ request: Request, _ context: EnlaceRequestContext, pdf: Bool) async throws -> Response {
        let (statement, _, names, asked) = try await settlementStatement(s, request, context)
        guard let statement else {
            if let asked, !asked.isEmpty, Period(asked) == nil {
                throw FHIRError.badRequest("periodo must be YYYY-Qn (e.g. 2026-Q3)", "periodo debe ser AAAA-Tn (p. ej. 2026-Q3)", code: "value")
            }
            throw FHIRError.notFound("PaymentReconciliation", "settlement")
        }
        var h: HTTPFields = [:]
        h[.cacheControl] = "no-store"
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        let bytes: [UInt8]
        if pdf {
            h[.contentType] = "application/pdf"
            h[.contentDisposition] = "attachment; filename=\"liquidacion-\(statement.period).pdf\""
            bytes = SimplePDF.document(title: "Liquidación \(statement.period)", lines: statement.pdfLines(names: names, title: s.strings.settlementTitle))
        } else {
            h[.contentType] = "text/csv; charset=utf-8"
            h[.contentDisposition] = "attachment; filename=\"liquidacion-\(statement.period).csv\""
            bytes = Array(statement.csv(names: names).utf8)
        }
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
