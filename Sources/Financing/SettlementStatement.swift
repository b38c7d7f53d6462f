import FHIR
import Foundation

/// The settlement statement of a period, read back from the stored settlement
/// PaymentReconciliations (one per pair of institutions; docs/financing.md, "Settlement
/// statement"): per pair and direction the services by tariff code, the corrections (accepted
/// disputes of earlier periods), what each owes the other and the net. Its totals are the
/// settlement journal entries' (the reconciliation's `detail.amount` is the ledger's
/// `statement(for:)`), so the statement is reproducible from the ledger.
public struct SettlementStatement: Sendable, Equatable {
    public struct ServiceLine: Sendable, Equatable {
        public var code: String
        public var display: String
        public var amount: Money
    }
    public struct Direction: Sendable, Equatable {
        /// `Organization/x` owed …
        public var creditor: String
        /// … by `Organization/y`
        public var debtor: String
        public var services: [ServiceLine]
        /// Quality incentives the debtor's contract pays the creditor for the period.
        public var incentives: [IncentiveLine] = []
        /// What the ledger says the debtor owes the creditor for the period.
        public var total: Money
        /// total − the services − the incentives: corrections of accepted disputes (and reversals)
        /// booked in this period.
        public var corrections: Money { total - services.reduce(.zero) { $0 + $1.amount } - incentives.reduce(.zero) { $0 + $1.amount } }
    }
    public struct Pair: Sendable, Equatable {
        /// `PaymentReconciliation/x`
        public var reconciliation: String
        public var pair: PairSettlement
        public var directions: [Direction]
        public var net: Money { Money(centavos: abs(pair.net.centavos)) }
    }

    public var period: Period
    public var pairs: [Pair]

    /// The statement of `period` from `reconciliations` (settlement PaymentReconciliations; others
    /// and other periods are left out), optionally only the pairs `institution` is part of.
    public init(period: Period, reconciliations: [JSON], institution: String? = nil) {
        self.period = period
        var pairs: [Pair] = []
        for rec in reconciliations {
            guard let identifier = rec["identifier"]?.arrayValue?.first, identifier["system"]?.stringValue == SettlementIDs.system,
                  let value = identifier["value"]?.stringValue, value.hasPrefix("\(period)~") else { continue }
            let details = rec["detail"]?.arrayValue ?? []
            let directions: [Direction] = details.compactMap { d in
                guard let creditor = d["submitter"]?["reference"]?.stringValue else { return nil }
                let amount = (try? Money(json: d["amount"], path: "")) ?? .zero
                let services: [ServiceLine] = (d["extension"]?.arrayValue ?? []).compactMap { e in
                    guard e["url"]?.stringValue == "https://enlace.mx/fhir/StructureDefinition/service-total" else { return nil }
                    let parts = e["extension"]?.arrayValue ?? []
                    let coding = parts.first { $0["url"]?.stringValue == "code" }?["valueCoding"]
                    let money = (try? Money(json: parts.first { $0["url"]?.stringValue == "amount" }?["valueMoney"], path: "")) ?? .zero
                    return ServiceLine(code: coding?["code"]?.stringValue ?? "?", display: coding?["display"]?.stringValue ?? "", amount: money)
                }
                return Direction(creditor: creditor, debtor: "", services: services, total: amount)
            }
            guard directions.count == 2 else { continue }
            var both = directions
            both[0].debtor = both[1].creditor
            both[1].debtor = both[0].creditor
            for i in 0..<2 {
                both[i].incentives = (details[i]["extension"]?.arrayValue ?? []).compactMap { IncentiveLine(json: $0, payer: both[i].debtor, payee: both[i].creditor) }
            }
            let pair = PairSettlement(a: both[0].creditor, b: both[1].creditor, owedToA: both[0].total, owedToB: both[1].total)
            if let institution, pair.a != institution, pair.b != institution { continue }
            pairs.append(Pair(reconciliation: "PaymentReconciliation/\(rec["id"]?.stringValue ?? "")", pair: pair, directions: both))
        }
        self.pairs = pairs.sorted { ($0.pair.a, $0.pair.b) < ($1.pair.a, $1.pair.b) }
    }

    /// The columns of the CSV, in order (documented in docs/financing.md).
    public static let csvColumns = ["periodo", "conciliacion", "concepto", "acreedor", "deudor", "codigo", "descripcion", "importe_mxn"]

    /// The statement as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break
    /// quoted, quotes doubled), UTF-8 with a byte-order mark so spreadsheet programs read the
    /// accents. One row per service total (`servicio`), quality incentive (`incentivo`: codigo =
    /// the measure), correction (`correccion`), direction
    /// total (`total`) and pair net (`neto`: creditor = who is paid, debtor = who pays; both empty
    /// when the pair is even). `names` turns references into names.
    public func csv(names: [String: String] = [:]) -> String {
        func field(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        func name(_ r: String) -> String { names[r] ?? r }
        var rows: [[String]] = [Self.csvColumns]
        for p in pairs {
            let rec = p.reconciliation
            for d in p.directions {
                for s in d.services { rows.append(["\(period)", rec, "servicio", name(d.creditor), name(d.debtor), s.code, s.display, s.amount.decimal]) }
                for i in d.incentives {
                    rows.append(["\(period)", rec, "incentivo", name(d.creditor), name(d.debtor), i.measure,
                                 "Incentivo de calidad / quality incentive \(i.numerator)/\(i.denominator) (\(i.contract))", i.amount.decimal])
                }
                if d.corrections != .zero {
                    rows.append(["\(period)", rec, "correccion", name(d.creditor), name(d.debtor), "", "Disputas aceptadas / accepted disputes", d.corrections.decimal])
                }
                rows.append(["\(period)", rec, "total", name(d.creditor), name(d.debtor), "", "", d.total.decimal])
            }
            rows.append(["\(period)", rec, "neto", p.pair.payee.map(name) ?? "", p.pair.payer.map(name) ?? "", "", "", p.net.decimal])
        }
        return "\u{FEFF}" + rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }
}

/// A minimal PDF 1.4 writer: text lines in the standard Helvetica font (WinAnsiEncoding, so
/// Spanish accents print), A4 pages of up to 60 lines, no images, no dependency. Characters
/// outside WinAnsi print as `?`.
public enum SimplePDF {
    public static func document(title: String, lines: [String]) -> [UInt8] {
        let perPage = 60
        let chunks = stride(from: 0, to: max(lines.count, 1), by: perPage).map { Array(lines[$0..<min($0 + perPage, lines.count)]) }
        var objects: [[UInt8]] = []
        // 1 catalog, 2 pages, 3 font, 4 info, then per page: page, contents
        let pageIDs = chunks.indices.map { 5 + 2 * $0 }
        objects.append(Array("<< /Type /Catalog /Pages 2 0 R >>".utf8))
        objects.append(Array("<< /Type /Pages /Kids [\(pageIDs.map { "\($0) 0 R" }.joined(separator: " "))] /Count \(chunks.count) >>".utf8))
        objects.append(Array("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".utf8))
        objects.append(Array("<< /Title (".utf8) + literal(title) + Array(") /Producer (Enlace) >>".utf8))
        for (n, chunk) in chunks.enumerated() {
            var content: [UInt8] = Array("BT /F1 10 Tf 14 TL 50 800 Td\n".utf8)
            for (i, line) in chunk.enumerated() {
                if i == 0, n == 0 { content += Array("/F1 13 Tf (".utf8) + literal(line) + Array(") Tj /F1 10 Tf T*\n".utf8); continue }
                content += Array("(".utf8) + literal(line) + Array(") Tj T*\n".utf8)
            }
            content += Array("ET\n".utf8)
            objects.append(Array("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents \(pageIDs[n] + 1) 0 R >>".utf8))
            objects.append(Array("<< /Length \(content.count) >>\nstream\n".utf8) + content + Array("endstream".utf8))
        }
        var out: [UInt8] = Array("%PDF-1.4\n".utf8) + [0x25, 0xE2, 0xE3, 0xCF, 0xD3, 0x0A]
        var offsets: [Int] = []
        for (i, o) in objects.enumerated() {
            offsets.append(out.count)
            out += Array("\(i + 1) 0 obj\n".utf8) + o + Array("\nendobj\n".utf8)
        }
        let xref = out.count
        out += Array("xref\n0 \(objects.count + 1)\n0000000000 65535 f \n".utf8)
        for o in offsets { out += Array(String(format: "%010d 00000 n \n", o).utf8) }
        out += Array("trailer\n<< /Size \(objects.count + 1) /Root 1 0 R /Info 4 0 R >>\nstartxref\n\(xref)\n%%EOF\n".utf8)
        return out
    }

    /// A PDF literal string's bytes (WinAnsi; `\`, `(` and `)` escaped).
    static func literal(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        for scalar in s.unicodeScalars {
            let v = scalar.value
            let byte: UInt8
            switch v {
            case 0x20..<0x7F: byte = UInt8(v)
            case 0xA0...0xFF: byte = UInt8(v)
            case 0x2014: byte = 0x97  // em dash
            case 0x2013: byte = 0x96
            case 0x2022, 0x00B7: byte = 0xB7
            default: byte = UInt8(ascii: "?")
            }
            if byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "(") || byte == UInt8(ascii: ")") { out.append(UInt8(ascii: "\\")) }
            out.append(byte)
        }
        return out
    }
}

extension SettlementStatement {
    /// The statement as the lines of its PDF (the same figures as the CSV).
    public func pdfLines(names: [String: String] = [:], title: String) -> [String] {
        func name(_ r: String) -> String { names[r] ?? r }
        var lines = [title, "Periodo / period \(period) (\(period.start) – \(period.end)), MXN", ""]
        if pairs.isEmpty { lines.append("Sin liquidación en este periodo / no settlement in this period") }
        for p in pairs {
            lines.append("\(name(p.pair.a)) — \(name(p.pair.b)) (\(p.reconciliation))")
            for d in p.directions {
                lines.append("  \(name(d.debtor)) debe a / owes \(name(d.creditor)):")
                for s in d.services { lines.append("    \(s.code) \(s.display): \(s.amount.decimal)") }
                for i in d.incentives { lines.append("    Incentivo / incentive \(i.measure) (\(i.numerator)/\(i.denominator)): \(i.amount.decimal)") }
                if d.corrections != .zero { lines.append("    Correcciones / corrections: \(d.corrections.decimal)") }
                lines.append("    Total: \(d.total.decimal)")
            }
            if let payer = p.pair.payer, let payee = p.pair.payee {
                lines.append("  Neto / net: \(name(payer)) paga a / pays \(name(payee)) \(p.net.decimal)")
            } else {
                lines.append("  Neto / net: 0.00")
            }
            lines.append("")
        }
        return lines
    }
}
