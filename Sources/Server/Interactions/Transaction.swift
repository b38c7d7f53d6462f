import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// transaction and batch: `POST /fhir` with a Bundle (https://hl7.org/fhir/R4/http.html#transaction).
    func bundle(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let guardRepo = try await guarded(context)
        let body = try await body(request)
        let response = try await guardRepo.process(bundle: body, options: .init(base: base, maxEntries: configuration.maxBundleEntries))
        return FHIRResponse.json(.ok, response)
    }
}
