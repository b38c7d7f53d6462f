import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// update: `PUT /fhir/[type]/[id]`, update-as-create with the client's id, `If-Match`
    /// optimistic locking (https://hl7.org/fhir/R4/http.html#update). 200, or 201 when created.
    func update(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        let guardRepo = try await guarded(context)
        try Repository.checkType(type)
        let version = try ifMatch(request)
        let (resource, repairs) = try await repairedBody(request)
        if resource["id"] == nil {
            throw FHIRError(status: 400, code: "required",
                            english: "an update must carry the resource id in the body ('\(id)')",
                            spanish: "una actualización debe llevar el id del recurso en el cuerpo ('\(id)')",
                            expression: ["\(type).id"])
        }
        let result = try await reporting(repairs) { try await guardRepo.update(type, id, resource, ifMatch: version) }
        return FHIRResponse.written(result.resource, status: result.created ? .created : .ok, request: request, base: base,
                                    location: result.created, repairs: repairs)
    }
}
