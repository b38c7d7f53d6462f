import Foundation

/// How string search values are compared (https://hl7.org/fhir/R4/search.html#string): case-
/// and accent-insensitive, so *Pérez* matches *perez* and *PEREZ*. Index and query use this same
/// function, on both backends.
public enum SearchText {
    /// Lowercased, diacritics removed, whitespace runs collapsed to one space, trimmed.
    public static func normalize(_ s: String) -> String {
        let folded = s.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        var out = ""
        out.reserveCapacity(folded.utf8.count)
        var lastSpace = true
        for ch in folded.unicodeScalars {
            if CharacterSet.whitespacesAndNewlines.contains(ch) {
                if !lastSpace { out.append(" ") }
                lastSpace = true
            } else {
                out.unicodeScalars.append(ch)
                lastSpace = false
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }
}
