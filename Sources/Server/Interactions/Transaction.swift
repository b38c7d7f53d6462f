import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// transaction and batch: `POST /fhir` with a Bundle (https://hl7.org/fhir/R4/http.html#transaction).
    func bundle(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let guardRepo = try await guarded(context)
        let (body, repairs) = try await repairedBody(request)
        // lenient-mode repairs inside an entry are listed in that entry's response.outcome; all
        // (the Bundle's own elements too, which have no outcome in R4) are counted in X-Enlace-Repairs
        var options = Repository.BundleOptions(base: base, maxEntries: configuration.maxBundleEntries)
        for issue in repairs {
            if let i = issue.expression.lazy.compactMap(Repository.entryIndex).first { options.entryWarnings[i, default: []].append(issue) }
        }
        let response = try await reporting(repairs) { try await guardRepo.process(bundle: body, options: options) }
        var headers: HTTPFields = [:]
        if !repairs.isEmpty { headers[.enlaceRepairs] = String(repairs.count) }
        return FHIRResponse.json(.ok, response, headers: headers)
    }
}
