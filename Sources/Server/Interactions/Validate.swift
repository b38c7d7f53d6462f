import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// `$validate` at type and instance level
    /// (https://hl7.org/fhir/R4/resource-operation-validate.html). The body is the resource, or
    /// a Parameters with a `resource` parameter. Always 200 with an OperationOutcome listing
    /// every problem (or one informational issue when there are none); 400 only when the body
    /// is not JSON at all.
    func validate(_ request: Request, _ context: EnlaceRequestContext, id: String?) async throws -> Response {
        let type = try context.parameters.require("type")
        let guardRepo = try await guarded(context)
        try Repository.checkType(type)
        var resource = try await body(request)
        if resource["resourceType"]?.stringValue == "Parameters", type != "Parameters",
           let params = resource["parameter"]?.arrayValue,
           let inner = params.first(where: { $0["name"]?.stringValue == "resource" })?["resource"] {
            resource = inner
        }
        let issues = try guardRepo.validate(resource, type: type, id: id)
        if issues.isEmpty {
            return FHIRResponse.json(.ok, OperationOutcome.information("the resource is valid", "el recurso es válido"))
        }
        return FHIRResponse.json(.ok, OperationOutcome.make(issues))
    }
}
