import FHIR
import Foundation
@testable import Financing
import Testing
import Trust

/// The settlement statement (CSV and PDF) read back from the stored settlement, and the
/// incentive formula (docs/financing.md, "Settlement statement", "Incentives").
@Suite("Settlement statement and incentives")
struct StatementTests {
    /// Q3 as in the settlement test (ISSSTE owes IMSS 1,962.00 = 1,652.00 of 01.001 + 310.00 of
    /// 03.001; IMSS owes ISSSTE 1,547.00; net 415.00 paid by ISSSTE). An accepted dispute of the
    /// 310.00 line makes Q4's statement a correction of −310.00 from ISSSTE's side … owed to IMSS.
    @Test func theStatementIsTheLedgersAndItsCSVIsRFC4180() async throws {
        let f = try await FinancingFixture()
        let service = FinancingService()
        let g = try await f.guarded()
        let x1 = try await service.submit(claim: FinancingFixture.claim("s-1", patient: "p2", provider: "imss-umf-20", coverage: "p2-issste", date: "2026-07-03",
                                                                        items: [("01.001", 2, nil), ("03.001", 1, nil)]), guarded: g, now: FinancingFixture.now)
        _ = try await service.submit(claim: FinancingFixture.claim("s-2", patient: "p3", provider: "issste-cmf-tlalpan", coverage: "p3-imss", date: "2026-09-20",
                                                                   items: [("02.001", 1, nil), ("03.002", 1, nil)]), guarded: g, now: FinancingFixture.now)
        let q3 = Period(year: 2026, quarter: 3)
        let settled = try await service.settle(q3, guarded: g, now: FinancingFixture.now)
        let recs = try await FinancingService.all("PaymentReconciliation", [], guarded: g)
        let statement = SettlementStatement(period: q3, reconciliations: recs)
        let ledger = try await service.ledger(guarded: g)
        #expect(statement.pairs.map(\.pair) == ledger.statement(for: q3))
        #expect(statement.pairs.map(\.pair) == settled.statement)
        let pair = try #require(statement.pairs.first)
        #expect(pair.net == Money(pesos: 415) && pair.pair.payer == "Organization/issste")
        #expect(pair.directions[0].services.map(\.code) == ["01.001", "03.001"] && pair.directions[0].corrections == .zero)
        // only the pairs an institution is part of
        #expect(SettlementStatement(period: q3, reconciliations: recs, institution: "Organization/imss-bienestar").pairs.isEmpty)
        #expect(SettlementStatement(period: q3.next, reconciliations: recs).pairs.isEmpty)

        let csv = statement.csv(names: ["Organization/imss": "IMSS", "Organization/issste": "ISSSTE, \"Trabajadores\""])
        #expect(csv.hasPrefix("\u{FEFF}periodo,conciliacion,concepto,acreedor,deudor,codigo,descripcion,importe_mxn\r\n"))
        #expect(csv.hasSuffix("\r\n") && !csv.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        // a name with a comma and quotes is quoted, quotes doubled
        #expect(csv.contains(",\"ISSSTE, \"\"Trabajadores\"\"\","))
        let rows = csv.dropFirst().split(separator: "\r\n").map(String.init)
        #expect(rows.count == 8, "\(rows)")  // header, 2 services + total, 2 services + total, net
        #expect(rows.contains { $0.hasSuffix(",total,IMSS,\"ISSSTE, \"\"Trabajadores\"\"\",,,1962.00") })
        #expect(rows.last?.hasSuffix(",neto,IMSS,\"ISSSTE, \"\"Trabajadores\"\"\",,,415.00") == true)

        // an accepted dispute: Q4 holds the correction; its statement shows it as such
        let line = "ClaimResponse/\(x1.claimResponse["id"]!.stringValue!)"
        let rec = try #require(settled.resources.first { $0["resourceType"]?.stringValue == "PaymentReconciliation" })
        let (task, _) = try await service.dispute(reconciliation: rec["id"]!.stringValue!, line: line, item: 2, reason: "no solicitado", amount: nil,
                                                  guarded: g, now: FinancingFixture.now)
        _ = try await service.resolve(dispute: task["id"]!.stringValue!, accept: true, note: nil, guarded: g, now: FinancingFixture.now)
        _ = try await service.settle(q3.next, guarded: g, now: FinancingFixture.now)
        let q4 = SettlementStatement(period: q3.next, reconciliations: try await FinancingService.all("PaymentReconciliation", [], guarded: g))
        #expect(q4.pairs.map(\.pair) == (try await service.ledger(guarded: g)).statement(for: q3.next))
        let imss = try #require(q4.pairs.first?.directions.first { $0.creditor == "Organization/imss" })
        #expect(imss.total == Money(pesos: -310) && imss.corrections == Money(pesos: -310) && imss.services.isEmpty)
        #expect(q4.csv().contains(",correccion,Organization/imss,Organization/issste,,Disputas aceptadas / accepted disputes,-310.00\r\n"))
        #expect(q4.pairs.first?.pair.payer == "Organization/imss" && q4.pairs.first?.net == Money(pesos: 310))
    }

    /// The PDF is a well-formed PDF 1.4: each xref offset points at its object, `startxref`
    /// at the xref table, the text in WinAnsi (an accent is one byte), parentheses escaped.
    @Test func thePDFIsWellFormed() throws {
        let lines = (0..<70).map { "Línea \($0) (prueba) \\ fin" }
        let pdf = SimplePDF.document(title: "Liquidación", lines: lines)
        let text = String(decoding: pdf, as: UTF8.self)
        #expect(text.hasPrefix("%PDF-1.4\n") && text.hasSuffix("%%EOF\n"))
        #expect(text.contains("/Count 2"), "70 lines make two pages")
        func find(_ needle: String) -> Int? {
            let n = Array(needle.utf8)
            guard pdf.count >= n.count else { return nil }
            for i in 0...(pdf.count - n.count) where Array(pdf[i..<(i + n.count)]) == n { return i }
            return nil
        }
        let xref = try #require(find("xref\n0 "))
        let start = try #require(find("startxref\n"))
        let declared = Int(String(decoding: pdf[(start + 10)...].prefix { $0 != 0x0A }, as: UTF8.self))
        #expect(declared == xref)
        let table = String(decoding: pdf[xref...], as: UTF8.self).split(separator: "\n")
        let count = Int(table[1].split(separator: " ")[1]) ?? 0
        #expect(count == 4 + 2 * 2 + 1)
        for n in 1..<count {
            let offset = Int(table[2 + n].prefix(10)) ?? -1
            let head = Array("\(n) 0 obj".utf8)
            #expect(offset >= 0 && offset + head.count <= pdf.count && Array(pdf[offset..<(offset + head.count)]) == head, "object \(n)")
        }
        // "í" is WinAnsi 0xED; "(" escaped
        #expect(find("(L\u{ED}nea") == nil)
        #expect(pdf.contains(0xED) && find("\\(prueba\\) \\\\ fin") != nil)
        // each content stream's /Length is its byte count
        func find(_ needle: String, from: Int) -> Int? {
            let n = Array(needle.utf8)
            guard pdf.count >= n.count, from <= pdf.count - n.count else { return nil }
            for i in from...(pdf.count - n.count) where Array(pdf[i..<(i + n.count)]) == n { return i }
            return nil
        }
        var at = 0, streams = 0
        while let l = find("/Length ", from: at) {
            let length = Int(String(decoding: pdf[(l + 8)...].prefix { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self)) ?? -1
            let begin = try #require(find("stream\n", from: l)) + 7
            let finish = try #require(find("endstream", from: begin))
            #expect(finish - begin == length)
            streams += 1
            at = finish
        }
        #expect(streams == 2)
    }

    /// By hand: HbA1c target 50 %, baseline 40 %, 2,500.00 per point. 11 of 20 (55 %) earns
    /// 15 points = 37,500.00; 9 of 20 (45 %) is under the target: nothing; 0 of 0: nothing;
    /// 2 of 3 (66.66 %) earns 26 whole points = 65,000.00.
    @Test func incentivesArePaidPerWholePointAboveTheBaselineWhenTheTargetIsMet() throws {
        let term = try #require(IncentiveContract.imssCalidad2026.term("diabetes-hba1c-control"))
        #expect(IncentiveContract.earned(term, numerator: 11, denominator: 20) == Money(pesos: 37_500))
        #expect(IncentiveContract.earned(term, numerator: 9, denominator: 20) == .zero)
        #expect(IncentiveContract.earned(term, numerator: 10, denominator: 20) == Money(pesos: 25_000))
        #expect(IncentiveContract.earned(term, numerator: 0, denominator: 0) == .zero)
        #expect(IncentiveContract.earned(term, numerator: 2, denominator: 3) == Money(pesos: 65_000))
        #expect(IncentiveContract.rate(numerator: 2, denominator: 3) == 6_666)
        #expect(IncentiveContract.imssCalidad2026.canonical == "https://enlace.mx/fhir/incentive-contract/imss-calidad|2026.1")
    }
}
