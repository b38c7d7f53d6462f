import FHIR
import Foundation
import Storage
import Trust

/// A practitioner's digital signature over clinical content they author — the prescription
/// (`PrescriptionSignature`, docs/prescribing.md#the-prescribers-signature) and the consultation
/// (`ConsultationSignature`, docs/care.md#the-consultation) — with ONE flow:
///
/// 1. **Prepare.** The server builds the content exactly as it will be stored and returns its
///    canonical bytes (`payload`) and a sealed `preparation` (HMAC by the server, `ServerSeal`,
///    one `sealPurpose` per kind of content: the content, who prepared it, until when — 30 minutes).
/// 2. **Sign.** The practitioner signs `payload` with their own key: a detached ES256 JWS
///    (RFC 7515 appendix F; `DetachedJWS`), `kid` the RFC 7638 thumbprint of a key registered
///    on their `Practitioner` (`Door.registerSigningKey`).
/// 3. **Check and store.** `open` the preparation (this server's seal for this purpose, same
///    practitioner, not expired), `check` the JWS over the canonical bytes of that very content
///    with one of their keys not revoked, and store the content with a `Provenance` whose
///    `signature` is `signature(jws:who:when:)`.
///
/// The payload is the canonical JSON (`CanonicalJSON`, method `…#static`: `text` and `meta` left
/// out) of the content, also leaving out `alsoOmitted` (the prescription's `id`, which the server
/// assigns when it stores it). Every refusal is a bilingual `FHIRError` (422, never a 500) whose
/// words name the kind of content (`noun`) and who signs it (`signer`).
public struct AuthorSignature: Sendable {
    public static let method = CanonicalJSON.Method.static
    public static let typeSystem = "urn:iso-astm:E1762-95:2013"
    public static let typeCode = "1.2.840.10065.1.12.1.1"
    /// How long a preparation may be signed and sent back.
    public static let preparationMinutes: Int64 = 30

    /// The `resourceType` of the content a preparation holds.
    public var resourceType: String
    public var sealPurpose: String
    public var alsoOmitted: Set<String>
    /// The content in messages, English and Spanish (feminine: "la receta", "la consulta").
    public var noun: (english: String, spanish: String)
    /// Who signs, in messages ("prescriber" / "prescriptor").
    public var signer: (english: String, spanish: String)

    public init(resourceType: String, sealPurpose: String, alsoOmitted: Set<String> = [], noun: (english: String, spanish: String),
                signer: (english: String, spanish: String)) {
        self.resourceType = resourceType
        self.sealPurpose = sealPurpose
        self.alsoOmitted = alsoOmitted
        self.noun = noun
        self.signer = signer
    }

    /// The bytes the practitioner signs: the canonical JSON of the content as stored.
    public func payload(_ content: JSON) -> [UInt8] {
        CanonicalJSON.bytes(content, method: AuthorSignature.method, alsoOmitting: alsoOmitted)
    }

    static func refuse(_ status: Int = 422, _ code: String = "invalid", _ english: String, _ spanish: String, _ expression: String? = nil) -> FHIRError {
        FHIRError(status: status, code: code, english: english, spanish: spanish, expression: expression.map { [$0] } ?? [])
    }

    /// Prepared content: what will be stored, the bytes to sign, the sealed statement to send back.
    public struct Preparation: Sendable {
        public var resource: JSON
        public var payload: [UInt8]
        public var sealed: String
        public var expires: Timestamp
    }

    public func seal(_ key: SigningKey) -> ServerSeal { ServerSeal(signingKey: key, purpose: sealPurpose) }

    /// Seals `prepared` (already checked) for the practitioner `who`; `extra` members go into
    /// the sealed statement too (e.g. a correction's reason), unsigned but unchangeable.
    public func preparation(_ prepared: JSON, who: String, seal: ServerSeal, now: Timestamp, extra: [(String, JSON)] = []) -> Preparation {
        let expires = Timestamp(microseconds: now.microseconds + AuthorSignature.preparationMinutes * 60_000_000)
        let statement = JSON.object([("sub", .string(who)), ("exp", .number("\(expires.microseconds)")), ("resource", prepared)] + extra)
        return Preparation(resource: prepared, payload: payload(prepared), sealed: seal.seal(statement.serialized()), expires: expires)
    }

    /// The sealed statement of `sealed` (its `resource` the content), or a 422 when it was not
    /// sealed by this server for this purpose, was prepared for someone else or has expired.
    public func statement(_ sealed: String, who: String, seal: ServerSeal, now: Timestamp) throws -> JSON {
        guard let bytes = seal.open(sealed), let statement = try? JSONParser.parse(bytes), let resource = statement["resource"],
              resource["resourceType"]?.stringValue == resourceType else {
            throw AuthorSignature.refuse(422, "invalid", "the preparation was not issued by this server (or was changed); prepare the \(noun.english) again",
                                         "la preparación no la emitió este servidor (o fue alterada); prepare la \(noun.spanish) de nuevo",
                                         "Parameters.parameter[preparation]")
        }
        guard statement["sub"]?.stringValue == who else {
            throw AuthorSignature.refuse(422, "invalid", "the preparation was made for another \(signer.english)", "la preparación se hizo para otro \(signer.spanish)",
                                         "Parameters.parameter[preparation]")
        }
        guard case .number(let n)? = statement["exp"], let exp = Decimal(string: n), exp > Decimal(now.microseconds) else {
            throw AuthorSignature.refuse(422, "invalid", "the preparation expired (\(AuthorSignature.preparationMinutes) minutes); prepare the \(noun.english) again",
                                         "la preparación venció (\(AuthorSignature.preparationMinutes) minutos); prepare la \(noun.spanish) de nuevo",
                                         "Parameters.parameter[preparation]")
        }
        return statement
    }

    /// The content sealed in `sealed` (see `statement`).
    public func open(_ sealed: String, who: String, seal: ServerSeal, now: Timestamp) throws -> JSON {
        try statement(sealed, who: who, seal: seal, now: now)["resource"] ?? .null
    }

    /// The FHIR Signature (https://hl7.org/fhir/R4/datatypes.html#Signature) of `jws` by `who`:
    /// type author's signature, `when`, `who`, `sigFormat` `application/jose`, `data` the JWS.
    public static func signature(jws: String, who: String, when: Timestamp) -> JSON {
        .object([
            ("type", .array([.object([("system", .string(typeSystem)), ("code", .string(typeCode)), ("display", .string("Author's Signature"))])])),
            ("when", .string(when.description)),
            ("who", .object([("reference", .string(who))])),
            ("targetFormat", .string("application/fhir+json")),
            ("sigFormat", .string("application/jose")),
            ("data", .string(Data(jws.utf8).base64EncodedString())),
        ])
    }

    /// The compact JWS in a Signature's `data` (base64 of its bytes), or nil.
    public static func jws(of signature: JSON) -> String? {
        guard signature["sigFormat"]?.stringValue == "application/jose", let data = signature["data"]?.stringValue,
              let raw = Data(base64Encoded: data) else { return nil }
        return String(data: raw, encoding: .utf8)
    }

    /// Checks that `jws` is a signature over `content` with one of `keys` (the public JWKs on the
    /// signer's Practitioner), not revoked at `signedAt` (`revoked`: the revocations on the same
    /// Practitioner); a bilingual 422 naming what is wrong otherwise.
    public func check(_ jws: String, content: JSON, keys: [JSON], revoked: [String: Door.SigningKeyRevocation] = [:], signedAt: Timestamp? = nil) throws {
        let parsed = try DetachedJWS(compact: jws)
        guard !keys.isEmpty else {
            throw AuthorSignature.refuse(422, "business-rule", "the \(signer.english) has no registered signing key (POST Practitioner/$register-signing-key)",
                                         "el \(signer.spanish) no tiene una llave de firma registrada (POST Practitioner/$register-signing-key)")
        }
        guard let kid = parsed.keyID, let key = keys.first(where: { $0["kid"]?.stringValue == kid }) else {
            throw AuthorSignature.refuse(422, "invalid", "the JWS 'kid' is not one of the \(signer.english)'s registered keys",
                                         "el 'kid' del JWS no es una de las llaves registradas del \(signer.spanish)")
        }
        if let r = revoked[kid], (signedAt ?? r.revoked) >= r.revoked {
            throw AuthorSignature.refuse(422, "business-rule", "signed with a key revoked on \(r.revoked) (\(r.reason))",
                                         "firmada con una llave revocada el \(r.revoked) (\(r.reason))")
        }
        guard parsed.verifies(payload(content), jwk: key) else {
            throw AuthorSignature.refuse(422, "invalid",
                                         "the signature does not verify over the canonical JSON of this \(noun.english) (was it changed after it was prepared?)",
                                         "la firma no se verifica sobre el JSON canónico de esta \(noun.spanish) (¿se cambió después de prepararla?)")
        }
    }

    /// Checks `jws` by `who` over `content` at `now`, with the keys registered on `who`'s
    /// Practitioner read through `repository` (the step 3 check before storing).
    public func check(_ jws: String, content: JSON, who: String, repository: GuardedRepository, now: Timestamp) async throws {
        let signer = try await AuthorSignature.signer(who, repository: repository)
        try check(jws, content: content, keys: signer.keys, revoked: signer.revoked, signedAt: now)
    }

    /// What re-verifying stored content finds.
    public enum Verdict: Sendable, Equatable {
        case verified(who: String, when: String)
        /// The signed version verifies and the content is the same since, except what may change
        /// (a prescription's `status`): `status` the current one, `english`/`spanish` the words
        /// to show ("Firmada; cambió después (cancelada)").
        case changedLater(who: String, when: String, status: String, english: String, spanish: String)
        case unsigned
        case failed(english: String, spanish: String)
    }

    /// Re-verifies one stored FHIR Signature over `content` (the signed version as read back):
    /// the JWS in its `data`, with the keys on its `who`'s Practitioner (read through
    /// `repository`), not revoked at its `when`. `verified`, `unsigned` (no `data`) or `failed`
    /// with the reason.
    public func reverify(_ signature: JSON, content: JSON, repository: GuardedRepository) async -> Verdict {
        guard let who = signature["who"]?["reference"]?.stringValue, let jws = AuthorSignature.jws(of: signature) else { return .unsigned }
        let signer = (try? await AuthorSignature.signer(who, repository: repository)) ?? Signer(keys: [], revoked: [:])
        let signedAt = signature["when"]?.stringValue.flatMap(Timestamp.init(instant:))
        do {
            try check(jws, content: content, keys: signer.keys, revoked: signer.revoked, signedAt: signedAt ?? Timestamp(microseconds: .max))
        } catch let e as FHIRError {
            return .failed(english: e.issues.first?.english ?? "", spanish: e.issues.first?.spanish ?? "")
        } catch {
            return .failed(english: "the signature does not verify", spanish: "la firma no se verifica")
        }
        return .verified(who: who, when: signature["when"]?.stringValue ?? "")
    }

    /// A practitioner's signing keys (every key ever registered) and their revocations.
    public struct Signer: Sendable {
        public var keys: [JSON]
        public var revoked: [String: Door.SigningKeyRevocation]
    }

    /// The keys registered on the practitioner `who` (`Practitioner/{id}`) and their
    /// revocations, read through `repository`.
    public static func signer(_ who: String, repository: GuardedRepository) async throws -> Signer {
        guard who.hasPrefix("Practitioner/") else { return Signer(keys: [], revoked: [:]) }
        do {
            let practitioner = try await repository.read("Practitioner", String(who.dropFirst(13))).json()
            return Signer(keys: Door.signingKeys(of: practitioner), revoked: Door.signingKeyRevocations(of: practitioner))
        } catch let e as FHIRError where e.status == 404 || e.status == 410 {
            return Signer(keys: [], revoked: [:])
        }
    }

    /// Must `who` sign? Yes once they registered a signing key (revoked ones included: once a
    /// practitioner has registered a key, what they author needs a signature), and always when
    /// the operator requires it (`always`, `--require-prescriber-signature`).
    public static func required(of who: String, repository: GuardedRepository, always: Bool) async throws -> Bool {
        if always { return true }
        return !(try await signer(who, repository: repository).keys.isEmpty)
    }
}
