import Foundation

/// Identifier systems of Mexican institutions that `$match` treats as deterministic, besides
/// the CURP (`FHIR/Mexico/CURP.swift`). No official FHIR URIs exist for them; these are the ones
/// Enlace writes (docs/interop.md#identifiers). Any other identifier with a system matches
/// deterministically on (system, value) as well.
public enum MexicanIdentifiers {
    /// IMSS Número de Seguridad Social: 11 digits, the last a Luhn check digit.
    public static let nss = "http://www.imss.gob.mx/nss"
    /// ISSSTE número de afiliación.
    public static let issste = "http://www.issste.gob.mx/numero-afiliacion"

    /// Is `value` an NSS with a correct check digit (Luhn over the first 10 digits)?
    public static func isValidNSS(_ value: String) -> Bool {
        let digits = value.compactMap(\.wholeNumberValue)
        guard digits.count == 11, value.count == 11 else { return false }
        var sum = 0
        for (i, d) in digits.prefix(10).enumerated() {
            let v = i % 2 == 1 ? d * 2 : d
            sum += v > 9 ? v - 9 : v
        }
        return (10 - sum % 10) % 10 == digits[10]
    }
}
