import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage
import Care

extension FHIRAPI {
    /// create: `POST /fhir/[type]` with optional `If-None-Exist`
    /// (https://hl7.org/fhir/R4/http.html#create, #ccreate). 201 with Location, or 200 when a
    /// conditional create found its match.
    func create(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let guardRepo = try await guarded(context)
        try Repository.checkType(type)
        let (resource, repairs) = try await repairedBody(request)
        if type == "Appointment", request.headers[.ifNoneExist] == nil, Booking.takesSlots(resource) {
            return try await createAppointment(resource, request, context)  // the slot is made busy in the same transaction (docs/care.md)
        }
        let result = try await reporting(repairs) { try await guardRepo.create(type, resource, ifNoneExist: request.headers[.ifNoneExist]) }
        return FHIRResponse.written(result.resource, status: result.matchedExisting ? .ok : .created, request: request, base: base, location: true,
                                    repairs: repairs)
    }
}
