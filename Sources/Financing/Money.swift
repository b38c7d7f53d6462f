import FHIR

/// An exact amount of Mexican pesos, counted in centavos (never floating point).
///
/// FHIR `Money.value` is a decimal (https://hl7.org/fhir/R4/datatypes.html#Money); Enlace keeps
/// the exact text of JSON numbers, so `Money(decimal:)` reads it digit by digit. Amounts are
/// limited to ±10¹³ centavos (a hundred thousand million pesos) on input, so sums of millions of
/// lines stay far inside `Int64`. Only MXN is accepted (docs/financing.md).
public struct Money: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var centavos: Int64

    public static let zero = Money(centavos: 0)
    public static let currency = "MXN"
    /// The largest magnitude accepted on input, in centavos.
    public static let inputLimit: Int64 = 10_000_000_000_000

    public init(centavos: Int64) { self.centavos = centavos }
    public init(pesos: Int64) { centavos = pesos * 100 }

    /// Parses a decimal such as `850`, `850.5`, `-12.50` or `0.10` exactly. More than two
    /// decimals are accepted only when the extra digits are zeros (`1.500`); exponents, and
    /// amounts beyond `inputLimit`, are refused (nil).
    public init?(decimal text: String) {
        var s = Substring(text)
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        var fraction = parts.count == 2 ? parts[1] : ""
        if parts.count == 2 && fraction.isEmpty { return nil }
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        while fraction.count > 2 {
            guard fraction.last == "0" else { return nil }
            fraction = fraction.dropLast()
        }
        guard whole.count <= 12, let w = Int64(whole) else { return nil }
        let f: Int64 = fraction.isEmpty ? 0 : (Int64(fraction) ?? 0) * (fraction.count == 1 ? 10 : 1)
        let c = w * 100 + f
        guard c <= Money.inputLimit else { return nil }
        centavos = negative ? -c : c
    }

    /// `-12.50`, `850.00`: two decimals, no grouping.
    public var decimal: String {
        let m = centavos.magnitude
        let cents = m % 100
        return (centavos < 0 ? "-" : "") + String(m / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
    }

    public var description: String { "$" + decimal + " MXN" }

    /// FHIR Money: `{"value": 12.50, "currency": "MXN"}`.
    public var json: JSON { .object([("value", .number(decimal)), ("currency", .string(Money.currency))]) }

    /// Reads a FHIR Money. Throws a 422 `value` OperationOutcome naming `path` when the value is
    /// missing, not an exact decimal or not in MXN.
    public init(json: JSON?, path: String) throws {
        guard case .number(let n)? = json?["value"], let m = Money(decimal: n) else {
            throw FHIRError(status: 422, code: "value", english: "\(path).value must be an amount in pesos with at most two decimals",
                            spanish: "\(path).value debe ser un importe en pesos con a lo más dos decimales", expression: [path])
        }
        if let c = json?["currency"]?.stringValue, c != Money.currency {
            throw FHIRError(status: 422, code: "value", english: "\(path).currency must be MXN, not \(c)",
                            spanish: "\(path).currency debe ser MXN, no \(c)", expression: [path])
        }
        self = m
    }

    public static func + (a: Money, b: Money) -> Money { Money(centavos: a.centavos + b.centavos) }
    public static func - (a: Money, b: Money) -> Money { Money(centavos: a.centavos - b.centavos) }
    public static prefix func - (a: Money) -> Money { Money(centavos: -a.centavos) }
    public static func += (a: inout Money, b: Money) { a.centavos += b.centavos }
    public static func -= (a: inout Money, b: Money) { a.centavos -= b.centavos }
    public static func * (a: Money, n: Int) -> Money { Money(centavos: a.centavos * Int64(n)) }
    public static func < (a: Money, b: Money) -> Bool { a.centavos < b.centavos }

    /// `basisPoints` / 10,000 of this amount (1,000 bp = 10 %), rounded to the centavo, half away
    /// from zero (the rounding is a choice, docs/financing.md).
    public func share(basisPoints: Int) -> Money {
        let p = centavos * Int64(basisPoints)
        let q = p / 10_000, r = p % 10_000
        if r.magnitude * 2 >= 10_000 { return Money(centavos: q + (p < 0 ? -1 : 1)) }
        return Money(centavos: q)
    }

    public static func min(_ a: Money, _ b: Money) -> Money { a < b ? a : b }
    public static func max(_ a: Money, _ b: Money) -> Money { a < b ? b : a }
}

extension Sequence where Element == Money {
    public func sum() -> Money { reduce(.zero, +) }
}
