import Foundation
import FHIR
import HTTPTypes
import HTTPFront
import Hummingbird
import Storage

/// Content negotiation for the FHIR API (https://hl7.org/fhir/R4/http.html#mime-type):
/// Enlace serves FHIR JSON only. `_format=xml` or an `Accept` that excludes JSON answers 406,
/// saying so (the rules: `ContentNegotiation`, in HTTPFront).
struct FormatMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Bulk Data output files are NDJSON (https://hl7.org/fhir/uv/bulkdata/export.html#file-request)
        let bulkFile = ["/fhir/$export-file/", "/fhir/%24export-file/", "/fhir/$import-file/", "/fhir/%24import-file/"].contains { request.uri.path.hasPrefix($0) }
        if request.uri.path.hasPrefix("/fhir"), !bulkFile {
            try ContentNegotiation.checkResponseFormat(format: request.uri.queryParameters["_format"].map(String.init),
                                                       accept: request.headers[.accept])
        }
        var context = context
        context.provenanceHeader = request.headers[HTTPField.Name("X-Provenance")!]
        return try await next(request, context)
    }
}
