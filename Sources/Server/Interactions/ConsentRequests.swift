import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension FHIRAPI {
    /// Privacy operations (docs/consent.md), `POST /fhir/[type]/[id]/$op`:
    /// `Task/[id]/$approve`, `Task/[id]/$deny` (the patient answers a consent request),
    /// `Patient/[id]/$break-the-glass` (a practitioner in an emergency) and `Task/[id]/$review`
    /// (a privacy officer closes or revokes a break-the-glass access). The handler only parses;
    /// the records are written through the guard, and access follows from `AccessPolicy`.
    func privacyOperation(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        let operation = try context.parameters.require("ctype")
        let operations = PrivacyOperations(policy: door.policy.privacy)
        switch (type, operation) {
        case ("Task", "$approve"), ("Task", "$deny"):
            context.audit?.interaction = operation
            let guardRepo = try await guarded(context)
            let parameters = try await optionalBody(request)
            if operation == "$approve" {
                let consent = try await operations.approve(taskID: id, narrowing: .init(parameters: parameters), guarded: guardRepo, now: clock.now())
                return FHIRResponse.written(consent, status: .created, request: request, base: base, location: true)
            }
            let task = try await operations.deny(taskID: id, guarded: guardRepo, now: clock.now())
            return FHIRResponse.written(task, status: .ok, request: request, base: base, location: false)
        case ("Task", "$review"):
            context.audit?.interaction = operation
            guard let principal = context.principal else {
                throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
            }
            let parameters = try await optionalBody(request)
            func value(_ name: String) -> String? {
                (parameters?["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }.flatMap { $0["valueCode"]?.stringValue ?? $0["valueString"]?.stringValue }
            }
            let task = try await door.review(taskID: id, outcome: value("outcome"), note: value("note"), principal: principal, audit: context.audit)
            return FHIRResponse.written(task, status: .ok, request: request, base: base, location: false)
        case ("Patient", "$break-the-glass"):
            context.audit?.interaction = operation
            guard let principal = context.principal else {
                throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
            }
            let parameters = try await optionalBody(request)
            let reason = (parameters?["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == "reason" }?["valueString"]?.stringValue
                ?? request.headers[HTTPField.Name("X-Break-The-Glass-Reason")!] ?? ""
            let task = try await door.breakTheGlass(patient: id, reason: reason, principal: principal, audit: context.audit)
            return FHIRResponse.written(task, status: .created, request: request, base: base, location: true)
        default:
            throw FHIRError(status: 404, code: "not-supported", english: "unknown operation \(type)/[id]/\(operation)",
                            spanish: "operación desconocida \(type)/[id]/\(operation)")
        }
    }

    /// A searchset entry carrying the access decision's notices (`search.mode = outcome`).
    static func noticeEntry(_ notices: [String]) -> JSON {
        .object([
            ("resource", .object([
                ("resourceType", .string("OperationOutcome")),
                ("issue", .array(notices.map { .object([("severity", .string("warning")), ("code", .string("suppressed")),
                                                       ("diagnostics", .string($0))]) })),
            ])),
            ("search", .object([("mode", .string("outcome"))])),
        ])
    }
}
