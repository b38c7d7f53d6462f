import Foundation

/// The `Prefer` header (RFC 7240) as FHIR uses it: `return=` on writes
/// (https://hl7.org/fhir/R4/http.html#ops) and `handling=strict` on searches
/// (https://hl7.org/fhir/R4/search.html#errors).
public enum Preferences {
    /// The `return` preference (`minimal`, `representation`, `OperationOutcome`), unquoted, or nil.
    public static func returnPreference(_ prefer: String) -> String? {
        for part in prefer.split(separator: ";").flatMap({ $0.split(separator: ",") }) {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == "return" { return String(kv[1]).trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
        }
        return nil
    }

    /// Whether the client asks for `handling=strict` (unknown search parameters are a 400).
    public static func strictHandling(_ prefer: String) -> Bool {
        prefer.replacingOccurrences(of: " ", with: "").contains("handling=strict")
    }
}
