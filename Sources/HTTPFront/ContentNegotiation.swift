import FHIR
import Foundation

/// Content negotiation (https://hl7.org/fhir/R4/http.html#mime-type): Enlace reads and serves
/// FHIR JSON only. `_format=xml` or an `Accept` that excludes JSON is a 406; a body in XML or
/// another media type is a 415, saying so.
public enum ContentNegotiation {
    /// Checks what the client asks to receive: the `_format` parameter and the `Accept` header
    /// (either may be absent). Throws a 406 naming what was asked for.
    public static func checkResponseFormat(format: String?, accept: String?) throws {
        if let format = format?.lowercased(), !formatIsJSON(format) { throw notAcceptable(format) }
        if let accept = accept?.lowercased(), !acceptsJSON(accept) { throw notAcceptable(accept) }
    }

    /// Whether a lowercased `_format` value names JSON (`json`, `application/json`,
    /// `application/fhir+json`, with or without parameters).
    public static func formatIsJSON(_ format: String) -> Bool {
        ["json", "application/json", "application/fhir+json"].contains(format.split(separator: ";").first.map(String.init) ?? "")
    }

    /// Whether a lowercased `Accept` header admits FHIR JSON: one of its media ranges covers it
    /// and is not weighted `q=0`.
    public static func acceptsJSON(_ accept: String) -> Bool {
        for part in accept.split(separator: ",") {
            let media = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let q = part.split(separator: ";").dropFirst().first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("q=") }
            if let q, Double(q.trimmingCharacters(in: .whitespaces).dropFirst(2)) == 0 { continue }
            if ["*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir"].contains(media) { return true }
        }
        return false
    }

    /// The 406 for a format Enlace does not serve.
    public static func notAcceptable(_ what: String) -> FHIRError {
        if what.contains("xml") {
            return FHIRError(status: 406, code: "not-supported",
                             english: "XML is not served: Enlace speaks FHIR JSON only (application/fhir+json)",
                             spanish: "XML no se sirve: Enlace solo habla FHIR JSON (application/fhir+json)")
        }
        return FHIRError(status: 406, code: "not-supported",
                         english: "cannot answer in '\(what)'; Enlace serves application/fhir+json",
                         spanish: "no se puede responder en '\(what)'; Enlace sirve application/fhir+json")
    }

    /// Checks the lowercased `Content-Type` of a resource body: `application/fhir+json` or
    /// `application/json`, parameters aside. Throws a 415, another one for XML.
    public static func checkBodyMediaType(_ contentType: String) throws {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        if media.contains("xml") {
            throw FHIRError(status: 415, code: "not-supported",
                            english: "XML is not served: Enlace speaks FHIR JSON only (application/fhir+json)",
                            spanish: "XML no se admite: Enlace solo habla FHIR JSON (application/fhir+json)")
        }
        guard media == "application/fhir+json" || media == "application/json" else {
            throw FHIRError(status: 415, code: "not-supported",
                            english: "unsupported Content-Type '\(media)'; send application/fhir+json",
                            spanish: "Content-Type '\(media)' no admitido; envíe application/fhir+json")
        }
    }
}
