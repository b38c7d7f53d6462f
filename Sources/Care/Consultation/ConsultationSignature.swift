import FHIR
import Foundation
import Storage
import Trust

/// The author's digital signature over a consultation (docs/care.md#the-consultation): the
/// shared flow of `AuthorSignature` (prepare → the browser signs → check and store), the same
/// as a prescription's, over the canonical JSON of **what the visit stores**.
///
/// **The content signed** is a `collection` Bundle with one entry per resource written, in the
/// order the Provenance names them (the Encounter, the Conditions, the Observations, the
/// Composition): `fullUrl` the resource's name — the `urn:uuid:` it is created under, or
/// `Composition/{id}` for a correction — and `resource` without `id`, `meta` and `text`, with
/// its references to the other resources of the visit written as their `urn:uuid:` (the server
/// assigns the ids when it stores them, after the author signed). The Provenance keeps each
/// `urn:uuid:` as its target's `identifier` (system `urn:ietf:rfc:3986`), and each target
/// names the version signed (`…/_history/1`; a correction's `Composition/{id}/_history/{n}`),
/// so the content can be rebuilt from the stored versions and verified again (`verdict`).
public enum ConsultationSignature {
    public static let shared = AuthorSignature(resourceType: "Bundle", sealPurpose: "consultation-preparation/v1", noun: ("consultation", "consulta"),
                                               signer: ("author", "autor"))
    /// `Provenance.policy` of the consultation's author Provenance.
    public static let policy = "https://enlace.mx/fhir/policy/consultation-note"
    /// The system of a target's `identifier` holding the `urn:uuid:` it was created under.
    public static let identifierSystem = "urn:ietf:rfc:3986"

    static func refuse(_ status: Int, _ code: String, _ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: status, code: code, english: english, spanish: spanish)
    }

    /// The content signed for `entries` (name, resource).
    public static func content(_ entries: [(fullUrl: String, resource: JSON)]) -> JSON {
        .object([("resourceType", .string("Bundle")), ("type", .string("collection")), ("entry", .array(entries.map { e in
            .object([("fullUrl", .string(e.fullUrl)), ("resource", e.resource.setting("id", nil).setting("meta", nil).setting("text", nil))])
        }))])
    }

    /// The entries of a content (`content`).
    public static func entries(_ content: JSON) -> [(fullUrl: String, resource: JSON)] {
        (content["entry"]?.arrayValue ?? []).compactMap { e in
            guard let url = e["fullUrl"]?.stringValue, let r = e["resource"] else { return nil }
            return (url, r)
        }
    }

    // MARK: - a visit

    /// The preparation of a visit's `written` resources (`Consultation.written`) for `who`.
    public static func prepare(visit written: [(fullUrl: String, resource: JSON)], who: String, seal: ServerSeal, now: Timestamp) -> AuthorSignature.Preparation {
        shared.preparation(content(written), who: who, seal: seal, now: now)
    }

    /// Opens a visit's preparation, checks `who`'s signature `jws` over it and that it was not
    /// stored yet; the transaction that stores it (`Consultation.recording`, the Provenance's
    /// signature with the JWS as `data`). A 422 (the preparation, the signature, another
    /// patient, another author) or a 409 (already stored), each in Spanish and English.
    public static func signedVisit(_ sealed: String, jws: String, who: String, patient: String, organization: String?, repository: GuardedRepository,
                                   seal: ServerSeal, now: Timestamp) async throws -> JSON {
        let content = try shared.open(sealed, who: who, seal: seal, now: now)
        let written = entries(content)
        guard written.allSatisfy({ $0.fullUrl.hasPrefix("urn:uuid:") }),
              let note = written.last(where: { $0.resource["resourceType"]?.stringValue == "Composition" }) else {
            throw refuse(422, "invalid", "the preparation is not a consultation's", "la preparación no es de una consulta")
        }
        guard note.resource["subject"]?["reference"]?.stringValue == "Patient/\(patient)" else {
            throw refuse(422, "invalid", "the preparation is for another patient", "la preparación es de otro paciente")
        }
        guard (note.resource["author"]?.arrayValue ?? []).contains(where: { $0["reference"]?.stringValue == who }) else {
            throw refuse(422, "invalid", "the signer (\(who)) must be the note's author", "quien firma (\(who)) debe ser el autor de la nota")
        }
        try await shared.check(jws, content: content, who: who, repository: repository, now: now)
        let (query, _) = try SearchParser().parse(types: ["Provenance"], parameters: [("target:identifier", "\(identifierSystem)|\(note.fullUrl)"), ("_total", "none")])
        if try await !repository.search(query).matches.isEmpty {
            throw refuse(409, "duplicate", "this preparation was already signed and stored (the consultation is recorded)",
                         "esta preparación ya se firmó y guardó (la consulta está registrada)")
        }
        return Consultation.recording(written, patient: "Patient/\(patient)", author: who, organization: organization, now: now,
                                      signature: AuthorSignature.signature(jws: jws, who: who, when: now))
    }

    // MARK: - a correction

    /// The preparation of a correction (`Consultation.correction(of:…)`'s transaction): the
    /// amended Composition as content, its version and reason sealed with it.
    public static func prepare(correction bundle: JSON, who: String, seal: ServerSeal, now: Timestamp) throws -> AuthorSignature.Preparation {
        let entries = bundle["entry"]?.arrayValue ?? []
        guard let put = entries.first, let amended = put["resource"], let url = put["request"]?["url"]?.stringValue,
              let version = put["request"]?["ifMatch"]?.stringValue, let reason = entries.last?["resource"]?["reason"]?.arrayValue?.first?["text"] else {
            throw FHIRError(status: 500, code: "exception", english: "not a correction", spanish: "no es una corrección")
        }
        return shared.preparation(content([(url, amended)]), who: who, seal: seal, now: now, extra: [("ifMatch", .string(version)), ("reason", reason)])
    }

    /// Opens a correction's preparation for the note `compositionID` (version `current` now),
    /// checks `who`'s signature over it; the transaction that stores it (`Consultation.correction`).
    /// A 422 (the preparation, the signature, another note) or a 409 (the note changed or the
    /// preparation was already stored).
    public static func signedCorrection(_ sealed: String, jws: String, who: String, compositionID: String, current: Int, organization: String?,
                                        repository: GuardedRepository, seal: ServerSeal, now: Timestamp) async throws -> JSON {
        let statement = try shared.statement(sealed, who: who, seal: seal, now: now)
        let content = statement["resource"] ?? .null
        let written = entries(content)
        let match = statement["ifMatch"]?.stringValue?.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        guard written.count == 1, written[0].fullUrl == "Composition/\(compositionID)", let version = match.flatMap({ Int($0) }),
              let reason = statement["reason"]?.stringValue else {
            throw refuse(422, "invalid", "the preparation is for another note", "la preparación es de otra nota")
        }
        try await shared.check(jws, content: content, who: who, repository: repository, now: now)
        guard version == current else {
            throw refuse(409, "conflict", "the note is at version \(current), the preparation corrects version \(version): it was already stored or the note changed; prepare it again",
                         "la nota está en la versión \(current) y la preparación corrige la \(version): ya se guardó o la nota cambió; prepárela de nuevo")
        }
        return Consultation.correction(written[0].resource.setting("id", .string(compositionID)), id: compositionID, version: version, reason: reason, author: who,
                                       organization: organization, now: now, signature: AuthorSignature.signature(jws: jws, who: who, when: now))
    }

    // MARK: - verifying again

    /// Re-verifies the consultation note `note` (a `Composition` as stored, its current
    /// version) where it is shown: the author's Provenance of **this version** (its target
    /// `Composition/{id}/_history/{version}`) — the content rebuilt from the versions it names
    /// (read through `repository`, the reader's guard), the JWS with the key registered on the
    /// signer's Practitioner, the signer an author of the note, each resource signed still at
    /// the version signed — and, for a corrected note, the visit's first signature too (over
    /// the Encounter, Conditions and Observations, which a correction does not sign again; only
    /// the Composition may have changed since). `unsigned` for an attestation without `data`
    /// (a note of an author without a key, or recorded before), `failed` with the reason otherwise.
    public static func verdict(_ note: JSON, repository: GuardedRepository) async -> AuthorSignature.Verdict {
        guard let id = note["id"]?.stringValue, let version = note["meta"]?["versionId"]?.stringValue else { return .unsigned }
        guard let (query, _) = try? SearchParser().parse(types: ["Provenance"], parameters: [("target", "Composition/\(id)"), ("_count", "50"), ("_total", "none")]),
              let found = try? await repository.search(query).matches else {
            return .failed(english: "the signature could not be read", spanish: "no se pudo leer la firma")
        }
        let provenances = found.compactMap { try? $0.json() }.filter { ($0["policy"]?.arrayValue ?? []).contains(.string(policy)) }
        func names(_ p: JSON, _ reference: String) -> Bool { (p["target"]?.arrayValue ?? []).contains { $0["reference"]?.stringValue == reference } }
        func signed(_ p: JSON) -> Bool { p["signature"]?.arrayValue?.first.flatMap(AuthorSignature.jws(of:)) != nil }
        guard let this = provenances.first(where: { names($0, "Composition/\(id)/_history/\(version)") })
            ?? (version == "1" ? provenances.first(where: { names($0, "Composition/\(id)") }) : nil), signed(this) else { return .unsigned }
        let verdict = await verify(this, note: note, repository: repository)
        guard case .verified = verdict, version != "1",
              let first = provenances.first(where: { names($0, "Composition/\(id)/_history/1") }), signed(first) else { return verdict }
        let visit = await verify(first, note: note, repository: repository, mayHaveChanged: "Composition/\(id)")
        if case .failed = visit { return visit }
        return verdict
    }

    /// Verifies one signature Provenance of `note` (see `verdict`); `mayHaveChanged` a resource
    /// that may be at a later version than the one signed (a corrected note).
    static func verify(_ provenance: JSON, note: JSON, repository: GuardedRepository, mayHaveChanged: String? = nil) async -> AuthorSignature.Verdict {
        guard let signature = provenance["signature"]?.arrayValue?.first else { return .unsigned }
        let who = signature["who"]?["reference"]?.stringValue ?? ""
        guard (note["author"]?.arrayValue ?? []).contains(where: { $0["reference"]?.stringValue == who }) else {
            return .failed(english: "signed by \(who), who is not the note's author", spanish: "la firmó \(who), que no es autor de la nota")
        }
        var signed: [(fullUrl: String, resource: JSON)] = []
        var mapping: [String: String] = [:]
        var changed: [String] = []
        for t in provenance["target"]?.arrayValue ?? [] {
            guard let reference = t["reference"]?.stringValue, !reference.hasPrefix("Patient/") else { continue }
            let parts = reference.split(separator: "/").map(String.init)
            guard parts.count == 4, parts[2] == "_history" else {
                return .failed(english: "the signature does not name the version signed of \(reference)", spanish: "la firma no nombra la versión firmada de \(reference)")
            }
            guard let stored = try? await repository.vread(parts[0], parts[1], version: parts[3]), let json = try? stored.json() else {
                return .failed(english: "the signed version of \(reference) could not be read", spanish: "no se pudo leer la versión firmada de \(reference)")
            }
            let resource = "\(parts[0])/\(parts[1])"
            let name = t["identifier"]?["value"]?.stringValue ?? resource
            mapping[resource] = name
            signed.append((name, json))
            if resource != mayHaveChanged, let now = try? await repository.read(parts[0], parts[1]), "\(now.version)" != parts[3] { changed.append(resource) }
        }
        let rebuilt = content(signed.map { ($0.fullUrl, Repository.rewriteReferences($0.resource, mapping.filter { $0.key != $0.value })) })
        let checked = await shared.reverify(signature, content: rebuilt, repository: repository)
        guard case .verified = checked else { return checked }
        if !changed.isEmpty {
            return .failed(english: "changed after it was signed: \(changed.joined(separator: ", "))", spanish: "se cambió después de firmarse: \(changed.joined(separator: ", "))")
        }
        return checked
    }
}
