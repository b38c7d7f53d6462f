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
///
/// A key is revoked (a lost phone, a browser profile handed on) by adding a revocation beside it,
/// `…/practitioner-signing-key-revocation`, whose `valueString` is `{"kid", "revoked" (instant),
/// "reason"}` (`Door.revokeSigningKey`): from that instant the key signs nothing more, and what
/// it signed before keeps verifying (the signature's `when` is the server's clock at storage).
extension Door {
    public static let signingKeyExtension = "https://enlace.mx/fhir/StructureDefinition/practitioner-signing-key"
    public static let signingKeyRevocationExtension = "https://enlace.mx/fhir/StructureDefinition/practitioner-signing-key-revocation"

    /// When and why a signing key was revoked.
    public struct SigningKeyRevocation: Sendable, Equatable {
        public var revoked: Timestamp
        public var reason: String
    }

    /// The revocations on a Practitioner resource, by `kid` (the first one of a kid counts).
    public static func signingKeyRevocations(of practitioner: JSON) -> [String: SigningKeyRevocation] {
        var out: [String: SigningKeyRevocation] = [:]
        for e in practitioner["extension"]?.arrayValue ?? [] where e["url"]?.stringValue == signingKeyRevocationExtension {
            guard let text = e["valueString"]?.stringValue, let v = try? JSONParser.parse(text, maxDepth: 5),
                  let kid = v["kid"]?.stringValue, let at = v["revoked"]?.stringValue.flatMap(Timestamp.init(instant:)), out[kid] == nil else { continue }
            out[kid] = SigningKeyRevocation(revoked: at, reason: v["reason"]?.stringValue ?? "")
        }
        return out
    }

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
        guard principal.effectiveRole == .practitioner, principal.fhirUser?.hasPrefix("Practitioner/") == true else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner registers a key to sign prescriptions",
                            spanish: "solo un profesional de la salud registra una llave para firmar recetas")
        }
        let kid = try SigningJWK.thumbprint(jwk)
        let key = SigningJWK.jwk(try SigningJWK.publicKey(jwk))
        let (id, guarded) = try ownPractitioner(principal, audit: audit)
        for _ in 0..<5 {
            let current = try? await guarded.read("Practitioner", id)
            var resource = try current?.json() ?? .object([("resourceType", .string("Practitioner")), ("id", .string(id))])
            if let r = Door.signingKeyRevocations(of: resource)[kid] {
                throw FHIRError(status: 422, code: "business-rule",
                                english: "this key was revoked on \(r.revoked) and cannot be registered again: make a new one",
                                spanish: "esta llave se revocó el \(r.revoked) y no se puede registrar de nuevo: genere una nueva")
            }
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

    /// Revokes the signed-in practitioner's key `kid` from now on, with the `reason` they give
    /// (required: it is shown beside every signature of that key). Revoking a key already revoked
    /// returns the first revocation. 403 for any other role; 404 when `kid` is not one of their keys.
    public func revokeSigningKey(_ principal: Principal, kid: String, reason: String, audit: AuditContext?) async throws -> SigningKeyRevocation {
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !reason.isEmpty, reason.count <= 500 else {
            throw FHIRError(status: 422, code: "required", english: "a reason (1–500 characters) is required to revoke a key",
                            spanish: "se requiere un motivo (1–500 caracteres) para revocar una llave", expression: ["Parameters.parameter[reason]"])
        }
        let (id, guarded) = try ownPractitioner(principal, audit: audit)
        for _ in 0..<5 {
            guard let current = try? await guarded.read("Practitioner", id), var resource = try? current.json(),
                  Door.signingKeys(of: resource).contains(where: { $0["kid"]?.stringValue == kid }) else {
                throw FHIRError(status: 404, code: "not-found", english: "no signing key '\(kid)' is registered for you",
                                spanish: "no tiene registrada la llave de firma '\(kid)'", expression: ["Parameters.parameter[kid]"])
            }
            if let existing = Door.signingKeyRevocations(of: resource)[kid] { return existing }
            let now = clock.now()
            let value = JSON.object([("kid", .string(kid)), ("revoked", .string(now.description)), ("reason", .string(reason))])
            let entry = JSON.object([("url", .string(Door.signingKeyRevocationExtension)), ("valueString", .string(value.compactString))])
            resource = resource.setting("extension", .array((resource["extension"]?.arrayValue ?? []) + [entry]))
            do {
                _ = try await guarded.update("Practitioner", id, resource, ifMatch: current.version)
                return Door.signingKeyRevocations(of: resource)[kid]!
            } catch let e as FHIRError where e.status == 412 || e.status == 409 {
                continue
            }
        }
        throw FHIRError(status: 409, code: "conflict", english: "the practitioner record is changing; try again", spanish: "el registro del profesional está cambiando; intente de nuevo")
    }

    /// The guard of the rule `urn:enlace:rule:own-signing-key`: it reads and writes exactly the
    /// signed-in practitioner's own Practitioner. 403 for any other role.
    func ownPractitioner(_ principal: Principal, audit: AuditContext?) throws -> (id: String, guarded: GuardedRepository) {
        guard principal.effectiveRole == .practitioner, let me = principal.fhirUser, me.hasPrefix("Practitioner/") else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner registers or revokes a key to sign prescriptions",
                            spanish: "solo un profesional de la salud registra o revoca una llave para firmar recetas")
        }
        let id = String(me.dropFirst("Practitioner/".count))
        guard Repository.isValidID(id) else { throw FHIRError.notFound("Practitioner", id) }
        let rule = "urn:enlace:rule:own-signing-key"
        audit?.decidedBy(rule)
        let shared = AccessPolicy.sharedTypes
        var decision = AccessDecision(visibility: Visibility(patients: [], sharedTypes: shared), readableTypes: ["Practitioner"],
                                      writableTypes: ["Practitioner"], writePatients: [], writeShared: true, updateAsCreate: true, rule: rule)
        decision.basis = [rule, me]
        var guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        guarded.writeRules = writeRules
        return (id, guarded)
    }
}
