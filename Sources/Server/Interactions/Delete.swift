import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// delete: `DELETE /fhir/[type]/[id]` (https://hl7.org/fhir/R4/http.html#delete). Logical:
    /// later reads answer 410 Gone; history keeps every version. Answers 200 with an
    /// OperationOutcome (or 204 with `Prefer: return=minimal`).
    func delete(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        let version = try ifMatch(request)
        let tombstone = try await guarded(context).delete(type, id, ifMatch: version)
        var headers: HTTPFields = [:]
        if let tombstone { headers[.eTag] = "W/\"\(tombstone.version)\"" }
        if FHIRResponse.preferredReturn(request) == "minimal" { return Response(status: .noContent, headers: headers) }
        let outcome = tombstone == nil
            ? OperationOutcome.information("\(type)/\(id) did not exist or was already deleted", "\(type)/\(id) no existía o ya estaba eliminado")
            : OperationOutcome.information("\(type)/\(id) deleted", "\(type)/\(id) eliminado")
        return FHIRResponse.json(.ok, outcome, headers: headers)
    }
}
