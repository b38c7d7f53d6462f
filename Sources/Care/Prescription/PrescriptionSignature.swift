import FHIR
import Foundation
import Storage
import Trust

/// The prescriber's digital signature (docs/prescribing.md, "The prescriber's signature"):
/// prepare → sign → check and store. The flow is `AuthorSignature`'s, shared with the
/// consultation (`ConsultationSignature`); this type adds what is particular to a prescription:
/// its seal purpose, the `id` left out, its Provenance, and the status that may change later.
///
/// 1. **Prepare.** `Prescribing.prepare` adds what the prescriber never sent (the code, the
///    dates, the controlled group), so the server first returns the prescription exactly as it
///    will be stored, its canonical bytes (`payload`) and a sealed `preparation` (HMAC by the
///    server: the prescription, who prepared it, until when — 30 minutes).
/// 2. **Sign.** The prescriber signs `payload` with their own key: a detached ES256 JWS
///    (RFC 7515 appendix F; `DetachedJWS`), `kid` the RFC 7638 thumbprint of a key registered on
///    their `Practitioner` (`Door.registerSigningKey`).
/// 3. **Check and store.** The server opens the preparation (its own seal, same prescriber, not
///    expired, code not used yet), verifies the JWS over the canonical bytes of that very
///    prescription, and stores the MedicationRequest and a `Provenance` whose `signature` is the
///    FHIR Signature (type 1.2.840.10065.1.12.1.1 author's signature, `when`, `who`, `sigFormat`
///    `application/jose`, `data` the JWS) in ONE transaction.
///
/// The payload is the canonical JSON (`CanonicalJSON`, method `…#static`: `text` and `meta` left
/// out) of the MedicationRequest with its `id` also left out, since the server assigns the id
/// when it stores it; the Provenance's `target` names the stored id and version.
public enum PrescriptionSignature {
    /// The shared signing flow (`AuthorSignature`) for a MedicationRequest, its own seal purpose.
    public static let shared = AuthorSignature(resourceType: "MedicationRequest", sealPurpose: "prescription-preparation/v1", alsoOmitted: ["id"],
                                               noun: ("prescription", "receta"), signer: ("prescriber", "prescriptor"))
    public static let method = AuthorSignature.method
    public static let alsoOmitted: Set<String> = shared.alsoOmitted
    public static let typeSystem = AuthorSignature.typeSystem
    public static let typeCode = AuthorSignature.typeCode
    /// `Provenance.policy` of a prescriber's signature (to find it among a prescription's Provenances).
    public static let policy = "urn:enlace:policy:prescriber-signature"
    /// How long a preparation may be signed and sent back.
    public static let preparationMinutes = AuthorSignature.preparationMinutes

    /// The bytes the prescriber signs: the canonical JSON of the prescription as stored.
    public static func payload(_ prescription: JSON) -> [UInt8] { shared.payload(prescription) }

    public typealias Preparation = AuthorSignature.Preparation
    public typealias Verdict = AuthorSignature.Verdict
    public typealias Signer = AuthorSignature.Signer

    public static func seal(_ key: SigningKey) -> ServerSeal { shared.seal(key) }

    /// Seals `prepared` (already checked by `Prescribing.prepare`) for the prescriber `who`.
    public static func preparation(_ prepared: JSON, who: String, seal: ServerSeal, now: Timestamp) -> Preparation {
        shared.preparation(prepared, who: who, seal: seal, now: now)
    }

    /// The prescription sealed in `sealed`, or a 422 when it was not sealed by this server, was
    /// prepared for someone else or has expired.
    public static func open(_ sealed: String, who: String, seal: ServerSeal, now: Timestamp) throws -> JSON {
        try shared.open(sealed, who: who, seal: seal, now: now)
    }

    /// The FHIR Signature (https://hl7.org/fhir/R4/datatypes.html#Signature) of `jws` by `who`.
    public static func signature(jws: String, who: String, when: Timestamp) -> JSON { AuthorSignature.signature(jws: jws, who: who, when: when) }

    /// The Provenance of the signature: `target` the prescription (`reference`, a stored reference
    /// or the transaction's `urn:uuid:`) and its patient, `agent` the author, `signature` the JWS.
    /// With `code`, the prescription's target also carries its code as `identifier`, so the
    /// Provenance can be created conditionally (`target:identifier`, see `Prescribing.signedEntries`).
    public static func provenance(target reference: String, patient: String, jws: String, who: String, when: Timestamp, code: String? = nil) -> JSON {
        var prescription: [(String, JSON)] = [("reference", .string(reference))]
        if let code { prescription.append(("identifier", .object([("system", .string(PrescriptionCode.system)), ("value", .string(code))]))) }
        return .object([
            ("resourceType", .string("Provenance")),
            ("target", .array([.object(prescription), .object([("reference", .string(patient))])])),
            ("recorded", .string(when.description)),
            ("policy", .array([.string(policy)])),
            ("activity", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation")),
                                                             ("code", .string("CREATE"))])]))])),
            ("agent", .array([.object([
                ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                             ("code", .string("author"))])]))])),
                ("who", .object([("reference", .string(who))])),
            ])])),
            ("signature", .array([signature(jws: jws, who: who, when: when)])),
        ])
    }

    /// The compact JWS in a Signature's `data` (base64 of its bytes), or nil.
    public static func jws(of signature: JSON) -> String? { AuthorSignature.jws(of: signature) }

    /// Checks that `jws` is `who`'s signature over `prescription` with one of `keys` (the public
    /// JWKs on their Practitioner), not revoked at `signedAt`; a bilingual 422 naming what is wrong otherwise.
    public static func check(_ jws: String, prescription: JSON, keys: [JSON], revoked: [String: Door.SigningKeyRevocation] = [:],
                             signedAt: Timestamp? = nil) throws {
        try shared.check(jws, content: prescription, keys: keys, revoked: revoked, signedAt: signedAt)
    }

    /// What may change after signing without breaking the signature: the prescription's
    /// lifecycle (https://hl7.org/fhir/R4/medicationrequest.html#status), not what was prescribed.
    public static let changeableAfterSigning: Set<String> = ["status", "statusReason"]

    /// The words for a MedicationRequest `status` (https://hl7.org/fhir/R4/valueset-medicationrequest-status.html).
    public static func statusWords(_ status: String) -> (spanish: String, english: String) {
        switch status {
        case "active": return ("activa", "active")
        case "on-hold": return ("suspendida", "on hold")
        case "cancelled": return ("cancelada", "cancelled")
        case "completed": return ("concluida", "completed")
        case "entered-in-error": return ("registrada por error", "entered in error")
        case "stopped": return ("detenida", "stopped")
        case "draft": return ("borrador", "draft")
        default: return (status, status)
        }
    }

    /// The version named by a signature Provenance's target `MedicationRequest/{id}/_history/{v}`,
    /// nil for an unversioned target (Provenances stored before targets were versioned).
    static func signedVersion(_ provenance: JSON, id: String) -> String? {
        let prefix = "MedicationRequest/\(id)/_history/"
        for t in provenance["target"]?.arrayValue ?? [] {
            if let r = t["reference"]?.stringValue, r.hasPrefix(prefix) { return String(r.dropFirst(prefix.count)) }
        }
        return nil
    }

    /// Re-verifies the stored `prescription` (`MedicationRequest/{id}`, its current version):
    /// its prescriber's signature Provenance, the JWS over the canonical JSON of the version
    /// signed (the Provenance's versioned target, read through the guard; the current version
    /// for an unversioned target), with the key registered on the signer's Practitioner, the
    /// signer being the requester. Then the current version is compared with the one signed:
    /// the same → `verified`; only `status`/`statusReason` changed → `changedLater`; anything
    /// else → `failed`.
    public static func verdict(_ prescription: StoredResource, repository: GuardedRepository) async -> Verdict {
        guard let current = try? prescription.json() else { return .unsigned }
        let reference = "MedicationRequest/\(prescription.id)"
        guard let (query, _) = try? SearchParser().parse(types: ["Provenance"], parameters: [("target", reference), ("_count", "20"), ("_total", "none")]),
              let found = try? await repository.search(query).matches else {
            return .failed(english: "the signature could not be read", spanish: "no se pudo leer la firma")
        }
        let provenances = found.compactMap { try? $0.json() }.filter { ($0["policy"]?.arrayValue ?? []).contains(.string(policy)) }
        let signatures = provenances.flatMap { p in (p["signature"]?.arrayValue ?? []).map { (p, $0) } }
        guard !signatures.isEmpty else { return .unsigned }
        var failure = Verdict.failed(english: "the signature does not verify", spanish: "la firma no se verifica")
        for (provenance, s) in signatures {
            guard let who = s["who"]?["reference"]?.stringValue, jws(of: s) != nil else { continue }
            // the version signed: the one the target names, or the current one
            var signed = current
            if let version = signedVersion(provenance, id: prescription.id), version != "\(prescription.version)" {
                guard let old = try? await repository.vread("MedicationRequest", prescription.id, version: version), let json = try? old.json() else {
                    failure = .failed(english: "the signed version (\(version)) of the prescription could not be read",
                                      spanish: "no se pudo leer la versión firmada (\(version)) de la receta")
                    continue
                }
                signed = json
            }
            guard signed["requester"]?["reference"]?.stringValue == who else {
                failure = .failed(english: "signed by \(who), who is not the prescriber", spanish: "la firmó \(who), que no es quien receta")
                continue
            }
            let checked = await shared.reverify(s, content: signed, repository: repository)
            if case .failed = checked {
                failure = checked
                continue
            }
            let when = s["when"]?.stringValue ?? ""
            if payload(current) == payload(signed) { return .verified(who: who, when: when) }
            let others = alsoOmitted.union(changeableAfterSigning)
            guard CanonicalJSON.bytes(current, method: method, alsoOmitting: others) == CanonicalJSON.bytes(signed, method: method, alsoOmitting: others) else {
                failure = .failed(english: "the signature does not verify over the prescription as it is now: it was changed after it was signed, not only its status",
                                  spanish: "la firma no se verifica sobre la receta como está ahora: se cambió después de firmarse, no solo su estado")
                continue
            }
            let status = current["status"]?.stringValue ?? ""
            let words = statusWords(status)
            return .changedLater(who: who, when: when, status: status, english: "Signed; changed later (\(words.english))",
                                 spanish: "Firmada; cambió después (\(words.spanish))")
        }
        return failure
    }

    /// The keys registered on the practitioner `who` (`Practitioner/{id}`) and their revocations.
    public static func signer(_ who: String, repository: GuardedRepository) async throws -> Signer {
        try await AuthorSignature.signer(who, repository: repository)
    }
}
