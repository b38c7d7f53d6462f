import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage

/// Content negotiation for the FHIR API (https://hl7.org/fhir/R4/http.html#mime-type):
/// Enlace serves FHIR JSON only. `_format=xml` or an `Accept` that excludes JSON answers 406,
/// saying so.
struct FormatMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Bulk Data output files are NDJSON (https://hl7.org/fhir/uv/bulkdata/export.html#file-request)
        let bulkFile = ["/fhir/$export-file/", "/fhir/%24export-file/", "/fhir/$import-file/", "/fhir/%24import-file/"].contains { request.uri.path.hasPrefix($0) }
        if request.uri.path.hasPrefix("/fhir"), !bulkFile {
            if let format = request.uri.queryParameters["_format"].map(String.init)?.lowercased() {
                let ok = ["json", "application/json", "application/fhir+json"].contains(format.split(separator: ";").first.map(String.init) ?? "")
                if !ok { throw FormatMiddleware.notAcceptable(format) }
            }
            if let accept = request.headers[.accept]?.lowercased(), !FormatMiddleware.acceptsJSON(accept) {
                throw FormatMiddleware.notAcceptable(accept)
            }
        }
        var context = context
        context.provenanceHeader = request.headers[HTTPField.Name("X-Provenance")!]
        return try await next(request, context)
    }

    static func acceptsJSON(_ accept: String) -> Bool {
        for part in accept.split(separator: ",") {
            let media = part.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            let q = part.split(separator: ";").dropFirst().first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("q=") }
            if let q, Double(q.trimmingCharacters(in: .whitespaces).dropFirst(2)) == 0 { continue }
            if ["*/*", "application/*", "application/json", "application/fhir+json", "application/json+fhir"].contains(media) { return true }
        }
        return false
    }

    static func notAcceptable(_ what: String) -> FHIRError {
        if what.contains("xml") {
            return FHIRError(status: 406, code: "not-supported",
                             english: "XML is not served: Enlace speaks FHIR JSON only (application/fhir+json)",
                             spanish: "XML no se sirve: Enlace solo habla FHIR JSON (application/fhir+json)")
        }
        return FHIRError(status: 406, code: "not-supported",
                         english: "cannot answer in '\(what)'; Enlace serves application/fhir+json",
                         spanish: "no se puede responder en '\(what)'; Enlace sirve application/fhir+json")
    }
}
