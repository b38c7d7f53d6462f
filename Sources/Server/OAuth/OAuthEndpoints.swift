import FHIR
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import Trust

/// SMART App Launch 2.x and Backend Services (https://hl7.org/fhir/smart-app-launch/):
/// discovery, the authorization endpoint with its sign-in and approval pages, the token
/// endpoint, introspection (RFC 7662) and revocation (RFC 7009). One file per endpoint.
struct OAuthEndpoints: Sendable {
    let services: EnlaceServices
    let identity: IdentityService

    init(services: EnlaceServices) {
        self.services = services
        identity = services.identity
    }

    var configuration: ServerConfiguration { services.configuration }
    var authority: TokenAuthority { services.authority }
    var nowSeconds: Int64 { services.clock.now().microseconds / 1_000_000 }
    /// Lifetimes, seconds.
    static let accessTokenTTL: Int64 = 3600
    static let refreshTokenTTL: Int64 = 90 * 86_400
    static let codeTTL: Int64 = 60
    static let sessionTTL: Int64 = 600

    func register(on router: Router<EnlaceRequestContext>) {
        router.get("fhir/.well-known/smart-configuration") { _, _ in smartConfiguration() }
        router.get("oauth/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: HTML.stylesheet)))
        }
        router.get("oauth/authorize") { req, _ in try await authorize(req) }
        router.post("oauth/authorize/login") { req, _ in try await login(req) }
        router.post("oauth/authorize/approve") { req, _ in try await approve(req) }
        router.post("oauth/token") { req, _ in try await token(req) }
        router.post("oauth/introspect") { req, _ in try await introspect(req) }
        router.post("oauth/revoke") { req, _ in try await revoke(req) }
    }

    // MARK: - shared helpers

    /// An RFC 6749 §5.2 error: JSON `error` and `error_description`, never cached.
    static func error(_ status: HTTPResponse.Status, _ code: String, _ description: String, headers extra: HTTPFields = [:]) -> Response {
        json(status, .object([("error", .string(code)), ("error_description", .string(description))]), headers: extra)
    }

    static func json(_ status: HTTPResponse.Status, _ body: JSON, headers extra: HTTPFields = [:]) -> Response {
        var h: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        h[HTTPField.Name("Pragma")!] = "no-cache"
        for f in extra { h[f.name] = f.value }
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }

    /// Decodes `application/x-www-form-urlencoded`. Nil if a parameter repeats (RFC 6749 §3.1)
    /// or the encoding is broken (`FormEncoding.uniqueFields`).
    static func parseForm(_ text: String) -> [String: String]? {
        FormEncoding.uniqueFields(text)
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// The form body of a POST; nil if it is not a form or too large.
    static func readForm(_ request: Request) async throws -> [String: String]? {
        guard let type = request.headers[.contentType]?.lowercased(), FormEncoding.isForm(type) else { return nil }
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        return parseForm(String(buffer: buffer))
    }

    static func cookie(_ request: Request, _ name: String) -> String? {
        Credentials.cookie(name, in: request.headers[values: .cookie])
    }

    /// Client authentication at the token, introspection and revocation endpoints: a
    /// `private_key_jwt` assertion (required for clients with a JWKS), or `client_id` alone for
    /// public clients. Returns the client or an `invalid_client` response.
    func authenticateClient(_ form: [String: String]) async throws -> Result<OAuthClient, ResponseError> {
        if let type = form["client_assertion_type"] {
            guard type == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", let assertion = form["client_assertion"] else {
                return .failure(ResponseError(Self.error(.badRequest, "invalid_client", "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer, with client_assertion")))
            }
            // The client id is the unverified iss; the signature check below binds it.
            let parts = assertion.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 3, let bytes = Base64URL.decode(parts[1]), let payload = try? JSONParser.parse(bytes, maxDepth: 4),
                  let iss = payload["iss"]?.stringValue else {
                return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "the client assertion is not a well-formed JWT")))
            }
            if let id = form["client_id"], id != iss {
                return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "client_id does not match the client assertion's iss")))
            }
            guard let client = try await identity.client(iss), !client.disabled else {
                return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "unknown client")))
            }
            let verified: ClientAssertion.Verified
            do {
                verified = try await ClientAssertion.verify(assertion, client: client, tokenURL: configuration.tokenURL, now: nowSeconds)
            } catch {
                return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", error.description)))
            }
            guard try await identity.useAssertionID(clientID: client.clientID, jti: verified.tokenID, expires: verified.expires) else {
                return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "the client assertion's jti was already used")))
            }
            return .success(client)
        }
        if form["client_secret"] != nil {
            return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "client secrets are not supported; use PKCE (public clients) or private_key_jwt")))
        }
        guard let id = form["client_id"], let client = try await identity.client(id), !client.disabled else {
            return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "unknown or missing client_id")))
        }
        guard client.isPublic else {
            return .failure(ResponseError(Self.error(.unauthorized, "invalid_client", "this client is confidential: authenticate with a private_key_jwt client_assertion")))
        }
        return .success(client)
    }

    /// A verified, unrevoked bearer token from the Authorization header, or nil.
    func bearerClaims(_ request: Request) async throws -> AccessTokenClaims? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              let claims = try? await authority.verify(String(parts[1]).trimmingCharacters(in: .whitespaces), now: services.clock.now()) else { return nil }
        guard try await identity.isActive(tokenID: claims.tokenID, subject: claims.subject) else { return nil }
        return claims
    }
}

/// A ready response carried as an error value.
struct ResponseError: Error, @unchecked Sendable {
    let response: Response
    init(_ response: Response) { self.response = response }
}
