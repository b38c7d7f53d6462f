import FHIR
import Foundation

/// The preconditions of a versioned write (https://hl7.org/fhir/R4/http.html#concurrency).
public enum Preconditions {
    /// The version an `If-Match` header names: `W/"3"` (or `"3"`, `3`) → 3. Anything else, or a
    /// version below 1, is a 400 quoting the header.
    public static func version(ifMatch raw: String) throws -> Int {
        var v = raw.trimmingCharacters(in: .whitespaces)
        if v.hasPrefix("W/") { v = String(v.dropFirst(2)) }
        v = v.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard let n = Int(v), n > 0 else {
            throw FHIRError.badRequest("If-Match '\(raw)' is not a version ETag like W/\"3\"",
                                       "If-Match '\(raw)' no es un ETag de versión como W/\"3\"")
        }
        return n
    }
}
