import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// A prescriber's signing keys (docs/prescribing.md, "The prescriber's signature"): the public
/// half of each key a practitioner signs prescriptions with, kept on their own `Practitioner`
/// as an extension `https://enlace.mx/fhir/StructureDefinition/practitioner-signing-key` whose
/// `valueString` is the public JWK (RFC 7517, EC P-256, `kid` its RFC 7638 thumbprint).
///
/// A practitioner's ordinary guard writes no shared data (Practitioner is shared), so the
/// registration is a named door operation (rule `urn:enlace:rule:own-signing-key`): it opens a
/// guard that may write exactly the signed-in practitioner's own `Practitioner` — never another's —
/// and only adds a key; keys are never removed, so what was signed keeps verifying.
extension Door {
    public static let signingKeyExtension = "https://enlace.mx/fhir/StructureDefinition/practitioner-signing-key"

    /// The public JWKs registered on a Practitioner resource.
    public static func signingKeys(of practitioner: JSON) -> [JSON] {
        (practitioner["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue == signingKeyExtension }
            .compactMap { $0["valueString"]?.stringValue.flatMap { try? JSONParser.parse($0, maxDepth: 5) } }
    }

    /// Registers the public `jwk` for the signed-in practitioner (their `fhirUser`
    /// `Practitioner/{id}`) and returns its `kid`. A key already registered is not added again.
    /// When no Practitioner resource exists yet, one is created holding only the key. 403 for any
    /// other role; 422 when the JWK is not an EC P-256 public key.
    public func registerSigningKey(_ principal: Principal, jwk: JSON, audit: AuditContext?) async throws -> (kid: String, practitioner: StoredResource) {
        guard principal.effectiveRole == .practitioner, let me = principal.fhirUser, me.hasPrefix("Practitioner/") else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner registers a key to sign prescriptions",
                            spanish: "solo un profesional de la salud registra una llave para firmar recetas")
        }
        let id = String(me.dropFirst("Practitioner/".count))
        guard Repository.isValidID(id) else { throw FHIRError.notFound("Practitioner", id) }
        let kid = try SigningJWK.thumbprint(jwk)
        let key = SigningJWK.jwk(try SigningJWK.publicKey(jwk))
        let rule = "urn:enlace:rule:own-signing-key"
        audit?.decidedBy(rule)
        let shared = AccessPolicy.sharedTypes
        var decision = AccessDecision(visibility: Visibility(patients: [], sharedTypes: shared), readableTypes: ["Practitioner"],
                                      writableTypes: ["Practitioner"], writePatients: [], writeShared: true, updateAsCreate: true, rule: rule)
        decision.basis = [rule, me]
        var guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        guarded.writeRules = writeRules
        for _ in 0..<5 {
            let current = try? await guarded.read("Practitioner", id)
            var resource = try current?.json() ?? .object([("resourceType", .string("Practitioner")), ("id", .string(id))])
            if Door.signingKeys(of: resource).contains(where: { $0["kid"]?.stringValue == kid }), let current { return (kid, current) }
            let entry = JSON.object([("url", .string(Door.signingKeyExtension)), ("valueString", .string(key.compactString))])
            resource = resource.setting("extension", .array((resource["extension"]?.arrayValue ?? []) + [entry]))
            do {
                let written = try await guarded.update("Practitioner", id, resource, ifMatch: current.map(\.version))
                return (kid, written.resource)
            } catch let e as FHIRError where e.status == 412 || e.status == 409 {
                continue  // registered at the same time from another tab: read again
            }
        }
        throw FHIRError(status: 409, code: "conflict", english: "the practitioner record is changing; try again", spanish: "el registro del profesional está cambiando; intente de nuevo")
    }
}
