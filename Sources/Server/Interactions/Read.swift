import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// read: `GET /fhir/[type]/[id]` (https://hl7.org/fhir/R4/http.html#read).
    func read(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        if type == "AuditEvent" { return try await auditEventRead(context, id: id) }
        let stored = try await guarded(context).read(type, id)
        return FHIRResponse.bytes(.ok, stored.body, headers: FHIRResponse.versionHeaders(stored))
    }

    /// vread: `GET /fhir/[type]/[id]/_history/[vid]` (https://hl7.org/fhir/R4/http.html#vread).
    func vread(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        let vid = try context.parameters.require("vid")
        let stored = try await guarded(context).vread(type, id, version: vid)
        return FHIRResponse.bytes(.ok, stored.body, headers: FHIRResponse.versionHeaders(stored))
    }
}
