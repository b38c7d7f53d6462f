import FHIR
import Foundation

/// `application/x-www-form-urlencoded` text as the server reads it: a URL's query string, the
/// body of `POST [type]/_search` and the OAuth forms
/// (https://hl7.org/fhir/R4/search.html#Introduction, RFC 6749 §3.1). Pure functions of the
/// request's bytes, fuzzed by `fuzz/Sources/FuzzHTTP`.
public enum FormEncoding {
    /// Splits `a=1&b=2` into ordered, percent-decoded pairs (`+` is a space, as in forms); a
    /// parameter may repeat. Throws a 400 naming the part whose percent-encoding is broken.
    public static func pairs(_ raw: String) throws -> [(String, String)] {
        guard !raw.isEmpty else { return [] }
        return try raw.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw FHIRError.badRequest("malformed percent-encoding in '\(s.prefix(60))'", "codificación por ciento mal formada en '\(s.prefix(60))'")
                }
                return d
            }
            return (try decode(kv[0]), kv.count > 1 ? try decode(kv[1]) : "")
        }
    }

    /// The fields of a form whose parameters may not repeat (RFC 6749 §3.1): nil if one repeats
    /// or the percent-encoding is broken.
    public static func uniqueFields(_ text: String) -> [String: String]? {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                  let v = (kv.count > 1 ? String(kv[1]) : "").replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { return nil }
            if out[k] != nil { return nil }
            out[k] = v
        }
        return out
    }

    /// Whether a `Content-Type` (lowercased) announces a form.
    public static func isForm(_ contentType: String) -> Bool {
        contentType.hasPrefix("application/x-www-form-urlencoded")
    }
}
