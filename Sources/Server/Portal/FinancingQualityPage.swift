import FHIR
import Financing
import Foundation
import Hummingbird
import Trust

extension Portal {
    static let qualityMeasures = ["diabetes-hba1c-control", "hypertension-control", "childhood-immunization-24m", "continuity-of-care",
                                  "follow-up-after-discharge-7d", "patient-experience"]

    /// One measure's result in one quarter.
    struct QualityPoint: Sendable {
        var period: Period
        var numerator: Int
        var denominator: Int
        /// A population too small to show (a payer's summary: `Door.payerSummary`): no rate.
        var masked = false
        var rate: Int? { masked ? nil : IncentiveContract.rate(numerator: numerator, denominator: denominator) }
    }

    /// `/calidad[?organizacion=Organization/x]`: each measure over the last four quarters as an
    /// SVG line chart (`$evaluate-measure`, summary, on what the session's guard lets it read —
    /// for a payer, its beneficiaries counted through the door with small populations masked:
    /// counts only), with the contract's target and the incentive earned in the last quarter.
    func qualityPage(_ s: Session, _ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let t = s.strings
        guard !s.isPatient else { throw FHIRError(status: 403, code: "forbidden", english: "not for patients", spanish: "no es para pacientes") }
        try FinancingKnowledge.check()
        let q = OAuthEndpoints.parseForm(request.uri.query ?? "") ?? [:]
        var organization = q["organizacion"]?.trimmingCharacters(in: .whitespaces) ?? ""
        if !organization.isEmpty, !organization.hasPrefix("Organization/") { organization = "Organization/" + organization }
        let g = try await guarded(s, context)
        let now = services.clock.now()
        var last = Period(date: String(now.description.prefix(10))) ?? Period(year: 2026, quarter: 1)
        var quarters: [Period] = []
        for _ in 0..<4 {
            quarters.insert(last, at: 0)
            last = last.quarter == 1 ? Period(year: last.year - 1, quarter: 4) : Period(year: last.year, quarter: last.quarter - 1)
        }
        let contract = IncentiveContract.imssCalidad2026
        var body = "<p>\(esc(t.qualityLead))</p>"
        body += "<form method=\"get\" action=\"/calidad\" class=\"card stack filters\"><label for=\"organizacion\">\(esc(t.qualityOrganization))</label>"
        body += "<input id=\"organizacion\" name=\"organizacion\" value=\"\(esc(organization))\" placeholder=\"Organization/imss-umf-20\"><p><button type=\"submit\">\(esc(t.claimsFilter))</button></p></form>"
        if s.principal.effectiveRole == .payer { body += "<p class=\"hint payer-note\">\(esc(t.qualityPayerNote(services.door.policy.privacy.smallCellMinimum)))</p>" }
        body += "<p class=\"summary contract\"><strong>\(esc(t.qualityContract)):</strong> \(esc(contract.title)) <code>\(esc(contract.canonical))</code></p>"
        for measure in Self.qualityMeasures {
            var points: [QualityPoint] = []
            for p in quarters {
                let report: JSON
                do {
                    report = try await MeasureEvaluator().report(
                        .init(measureID: measure, periodStart: p.start, periodEnd: p.end, reportType: .summary, organization: organization.isEmpty ? nil : organization),
                        guarded: g, door: services.door, now: now)
                } catch let e as FHIRError where e.status == 403 {
                    report = .object([])  // the role may not read what the measure counts: nobody is counted
                }
                func count(_ code: String) -> Int? {
                    let pop = (report["group"]?.arrayValue?.first?["population"]?.arrayValue ?? []).first {
                        ($0["code"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == code }
                    }
                    if pop?["_count"] != nil, pop?["count"] == nil { return nil }  // masked
                    return Int(numberText(pop?["count"]) ?? "0") ?? 0
                }
                let numerator = count("numerator"), denominator = count("denominator")
                points.append(QualityPoint(period: p, numerator: numerator ?? 0, denominator: denominator ?? 0, masked: numerator == nil || denominator == nil))
            }
            let title = ((try? await g.read("Measure", measure).json())?["title"]?.stringValue) ?? measure
            let term = contract.term(measure)
            body += "<section class=\"card measure\" data-measure=\"\(esc(measure))\"><h2>\(esc(title))</h2>"
            body += Self.qualityChart(measure: measure, title: title, points: points, target: term?.targetBasisPoints, strings: t)
            body += "<ul class=\"summary quarters\">"
            for p in points {
                let value = p.masked ? t.qualityMasked(services.door.policy.privacy.smallCellMinimum) : p.rate.map { "\(Self.percent($0)) (\(p.numerator)/\(p.denominator))" } ?? t.qualityNoData
                let figures = p.masked ? "data-masked=\"true\"" : "data-numerator=\"\(p.numerator)\" data-denominator=\"\(p.denominator)\""
                body += "<li data-period=\"\(p.period)\" \(figures)>\(p.period): \(esc(value))</li>"
            }
            body += "</ul>"
            if let term, let latest = points.last, !latest.masked {
                let earned = IncentiveContract.earned(term, numerator: latest.numerator, denominator: latest.denominator)
                body += "<dl class=\"facts incentive\"><div><dt>\(esc(t.qualityTarget))</dt><dd>\(esc(Self.percent(term.targetBasisPoints)))</dd></div>"
                body += "<div><dt>\(esc(t.qualityBaseline))</dt><dd>\(esc(Self.percent(term.baselineBasisPoints)))</dd></div>"
                body += "<div><dt>\(esc(t.qualityBonus))</dt><dd>\(esc(Self.pesos(term.bonusPerPoint))) MXN</dd></div>"
                body += "<div><dt>\(esc(t.qualityEarned))</dt><dd class=\"earned\" data-earned=\"\(esc(earned.decimal))\">"
                body += earned == .zero ? esc(t.qualityNotMet) : "\(esc(Self.pesos(earned))) MXN"
                body += "</dd></div></dl>"
            } else {
                body += "<p class=\"hint\">\(esc(t.qualityNoContract))</p>"
            }
            body += "</section>"
        }
        return html(.ok, layout(s, request, title: t.navQuality, body: body))
    }

    /// A measure's quarterly rates as an SVG line chart in the house style of `MonitoringChart`
    /// (360 units wide, scaled to the card, presentation attributes only, `role="img"` with a
    /// title and description); the target as a dashed green line; quarters without patients
    /// leave a gap.
    static func qualityChart(measure: String, title: String, points: [QualityPoint], target: Int?, strings t: PortalStrings) -> String {
        let esc = HTML.escape
        let width = 360.0, height = 180.0, left = 36.0, right = 10.0, top = 10.0, bottom = 26.0
        let plotW = width - left - right, plotH = height - top - bottom
        func f(_ d: Double) -> String { String(format: "%.1f", d) }
        func x(_ i: Int) -> Double { points.count < 2 ? left + plotW / 2 : left + Double(i) / Double(points.count - 1) * plotW }
        func y(_ bp: Int) -> Double { top + (1 - Double(bp) / 10_000) * plotH }
        let id = "calidad-\(measure)"
        let values = points.map { "\($0.period) \($0.rate.map { percent($0) } ?? t.qualityNoData)" }.joined(separator: "; ")
        var out = "<svg class=\"chart\" id=\"\(id)\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-labelledby=\"\(id)-t \(id)-d\">"
        out += "<title id=\"\(id)-t\">\(esc(title))</title><desc id=\"\(id)-d\">\(esc(t.qualityChartDescription(title, values)))</desc>"
        out += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"#fafbfc\" stroke=\"#c9d1d9\"/>"
        for bp in [0, 5_000, 10_000] {
            out += "<text x=\"\(f(left - 4))\" y=\"\(f(y(bp) + 3))\" font-size=\"10\" text-anchor=\"end\" fill=\"#3a4450\">\(bp / 100) %</text>"
        }
        if let target {
            out += "<line class=\"meta\" x1=\"\(f(left))\" x2=\"\(f(left + plotW))\" y1=\"\(f(y(target)))\" y2=\"\(f(y(target)))\" stroke=\"#2e7d32\" stroke-dasharray=\"4 3\" stroke-width=\"1\"><title>\(esc(t.qualityTarget)) \(esc(percent(target)))</title></line>"
        }
        for (i, p) in points.enumerated() {
            out += "<text x=\"\(f(x(i)))\" y=\"\(f(height - 8))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#3a4450\">\(p.period)</text>"
        }
        // the line, broken where a quarter has no patients
        var segment: [String] = []
        func flush() {
            if segment.count > 1 { out += "<polyline points=\"\(segment.joined(separator: " "))\" fill=\"none\" stroke=\"#1f4e79\" stroke-width=\"1.5\" stroke-linejoin=\"round\"/>" }
            segment = []
        }
        for (i, p) in points.enumerated() {
            guard let r = p.rate else { flush(); continue }
            segment.append("\(f(x(i))),\(f(y(r)))")
        }
        flush()
        for (i, p) in points.enumerated() {
            guard let r = p.rate else { continue }
            let met = target.map { r >= $0 } ?? false
            out += "<circle class=\"\(met ? "meta-alcanzada" : "punto")\" cx=\"\(f(x(i)))\" cy=\"\(f(y(r)))\" r=\"\(met ? "4" : "3")\" fill=\"\(met ? "#2e7d32" : "#1f4e79")\">"
            out += "<title>\(p.period): \(esc(percent(r))) (\(p.numerator)/\(p.denominator))</title></circle>"
        }
        return out + "</svg>"
    }
}
