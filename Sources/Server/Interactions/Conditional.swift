import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// Conditional update: `PUT /fhir/[type]?criteria` (https://hl7.org/fhir/R4/http.html#cond-update).
    func conditionalUpdate(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let guardRepo = try await guarded(context)
        try Repository.checkType(type)
        guard let criteria = request.uri.query, !criteria.isEmpty else {
            throw FHIRError(status: 405, issues: [Issue(code: "not-supported",
                english: "PUT on a type needs search criteria (conditional update), e.g. PUT /fhir/\(type)?identifier=system|value",
                spanish: "PUT sobre un tipo necesita criterios de búsqueda (actualización condicional), p. ej. PUT /fhir/\(type)?identifier=sistema|valor")],
                headers: ["Allow": "GET, POST, PUT (conditional), DELETE (conditional)"])
        }
        let (resource, repairs) = try await repairedBody(request)
        let result = try await reporting(repairs) { try await guardRepo.conditionalUpdate(type, criteria: criteria, resource) }
        return FHIRResponse.written(result.resource, status: result.created ? .created : .ok, request: request, base: base, location: result.created,
                                    repairs: repairs)
    }

    /// Conditional delete: `DELETE /fhir/[type]?criteria` (https://hl7.org/fhir/R4/http.html#cdelete).
    func conditionalDelete(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let guardRepo = try await guarded(context)
        try Repository.checkType(type)
        guard let criteria = request.uri.query, !criteria.isEmpty else {
            throw FHIRError(status: 405, issues: [Issue(code: "not-supported",
                english: "DELETE on a type needs search criteria (conditional delete)",
                spanish: "DELETE sobre un tipo necesita criterios de búsqueda (borrado condicional)")],
                headers: ["Allow": "GET, POST, PUT (conditional), DELETE (conditional)"])
        }
        let deleted = try await guardRepo.conditionalDelete(type, criteria: criteria)
        return FHIRResponse.json(.ok, OperationOutcome.information("\(deleted.count) \(type) deleted", "\(deleted.count) \(type) eliminados"))
    }
}
