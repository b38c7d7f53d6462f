import FHIR
import Foundation
import Trust

/// An EHR calling Enlace's CDS Hooks service as a **CDS client**, the way CDS Hooks 2.0 says
/// ("Trusting CDS Clients", https://cds-hooks.hl7.org/2.0/#trusting-cds-clients): every call
/// carries `Authorization: Bearer <JWT>` that the client signs with its private key — `iss` and
/// `sub` its client id, `aud` the CDS service endpoint called, `exp` at most 5 minutes ahead,
/// `iat`, a single-use `jti` — verified against the JWK Set registered for that client (the
/// same registry and checks as SMART Backend Services' `private_key_jwt`, ES384 or RS384).
///
/// The JWT says which *system* calls; the cards are computed over what the *user* may see, so a
/// hook call must also carry `fhirAuthorization.access_token`: an Enlace access token the EHR
/// obtained for its user (SMART), issued to the same client. Feedback calls carry only the JWT:
/// feedback about a card is accepted from the client the card was issued to and recorded as the
/// decision of the user it was computed for. docs/care.md, "Authentication".
struct CDSClientAuthentication: Sendable {
    let door: Door
    let authority: TokenAuthority
    let configuration: ServerConfiguration

    /// The service endpoint a JWT for `service` must name in `aud` (feedback: its own URL, or
    /// the service's, which some clients send).
    func audiences(service: String, feedback: Bool) -> [String] {
        let url = configuration.oauthBase + "/cds-services/" + service
        return feedback ? [url + "/feedback", url] : [url]
    }

    /// The registered client that signed `jwt` for one of `audiences`; its `jti` is used up.
    func client(_ jwt: String, audiences: [String]) async throws -> OAuthClient {
        // the client id is the unverified sub (or iss); the signature check below binds it
        let parts = jwt.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let bytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(bytes, maxDepth: 4),
              let id = payload["sub"]?.stringValue ?? payload["iss"]?.stringValue
        else {
            throw Self.unauthorized("the bearer token is neither an Enlace access token nor a well-formed CDS client JWT",
                                    "el token no es un token de acceso de Enlace ni un JWT de cliente CDS bien formado")
        }
        guard let client = try await door.identity.client(id), !client.disabled else {
            throw Self.unauthorized("unknown CDS client '\(id)': register it with its JWK Set (`enlace clients add --client-id ID --jwks-file FILE`)",
                                    "cliente CDS desconocido '\(id)': regístrelo con su JWK Set (`enlace clients add --client-id ID --jwks-file FILE`)")
        }
        let now = door.clock.now().microseconds / 1_000_000
        var failure: ClientAssertion.Failure?
        for audience in audiences {
            do {
                let verified = try await ClientAssertion.verify(jwt, client: client, audience: audience, audienceName: "the CDS service endpoint",
                                                                what: "CDS client JWT", now: now)
                guard try await door.identity.useAssertionID(clientID: client.clientID, jti: verified.tokenID, expires: verified.expires) else {
                    throw Self.unauthorized("the CDS client JWT's jti was already used (one JWT per call)",
                                            "el jti del JWT del cliente CDS ya se usó (un JWT por llamada)")
                }
                return client
            } catch let e as ClientAssertion.Failure {
                if failure == nil || audience == audiences.first { failure = e }
            }
        }
        let reason = failure?.description ?? "the CDS client JWT does not verify"
        throw Self.unauthorized(reason, "el JWT del cliente CDS no es válido: \(reason)")
    }

    /// The user a hook call is made for: the Enlace access token in `fhirAuthorization`, which
    /// must have been issued to `client`; `fhirServer`, if given, must be this server.
    func user(_ body: JSON, client: OAuthClient) async throws -> Principal {
        guard let token = body["fhirAuthorization"]?["access_token"]?.stringValue, !token.isEmpty else {
            throw Self.unauthorized(
                "a CDS client's call must carry fhirAuthorization.access_token: an Enlace access token for the user, since the cards are computed over what the user may see",
                "la llamada de un cliente CDS debe llevar fhirAuthorization.access_token: un token de acceso de Enlace del usuario, pues las tarjetas se calculan sobre lo que el usuario puede ver")
        }
        let base = configuration.fhirBase
        if let server = body["fhirServer"]?.stringValue, server.trimmingCharacters(in: CharacterSet(charactersIn: "/")) != base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) {
            throw FHIRError(status: 400, code: "invalid", english: "fhirServer must be this server's FHIR base \(base): the service reads Enlace's record",
                            spanish: "fhirServer debe ser la base FHIR de este servidor, \(base): el servicio lee el expediente de Enlace", expression: ["fhirServer"])
        }
        let claims: AccessTokenClaims
        do {
            claims = try await authority.verify(token, now: door.clock.now())
        } catch {
            throw Self.unauthorized("fhirAuthorization.access_token: \(error.description)", "fhirAuthorization.access_token: \(error.spanish)")
        }
        guard try await door.identity.isActive(tokenID: claims.tokenID, subject: claims.subject) else {
            throw Self.unauthorized("fhirAuthorization.access_token: \(TokenError.revoked.description)",
                                    "fhirAuthorization.access_token: \(TokenError.revoked.spanish)")
        }
        guard claims.clientID == client.clientID else {
            throw Self.unauthorized("fhirAuthorization.access_token was issued to another client than the one that signed the call",
                                    "fhirAuthorization.access_token se emitió a otro cliente que el que firmó la llamada")
        }
        return Principal(claims: claims)
    }

    static func unauthorized(_ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 401, issues: [Issue(code: "login", english: english, spanish: spanish)],
                  headers: ["WWW-Authenticate": "Bearer realm=\"enlace\", error=\"invalid_token\""])
    }
}
