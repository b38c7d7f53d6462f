import FHIR
import Hummingbird

extension OAuthEndpoints {
    /// `GET /fhir/.well-known/smart-configuration`: SMART discovery, relative to the FHIR base
    /// (https://hl7.org/fhir/smart-app-launch/conformance.html). Public.
    func smartConfiguration() -> Response {
        let c = configuration
        func strings(_ a: [String]) -> JSON { .array(a.map { .string($0) }) }
        return Self.json(.ok, .object([
            ("jwks_uri", .string(c.oauthBase + "/.well-known/jwks.json")),
            ("authorization_endpoint", .string(c.oauthBase + "/oauth/authorize")),
            ("token_endpoint", .string(c.tokenURL)),
            ("introspection_endpoint", .string(c.oauthBase + "/oauth/introspect")),
            ("revocation_endpoint", .string(c.oauthBase + "/oauth/revoke")),
            ("grant_types_supported", strings(["authorization_code", "refresh_token", "client_credentials"])),
            ("response_types_supported", strings(["code"])),
            ("token_endpoint_auth_methods_supported", strings(["private_key_jwt", "none"])),
            ("token_endpoint_auth_signing_alg_values_supported", strings(["ES384", "RS384"])),
            ("code_challenge_methods_supported", strings(["S256"])),
            ("scopes_supported", strings(["openid", "fhirUser", "launch/patient", "offline_access", "online_access",
                                          "patient/*.rs", "user/*.cruds", "system/*.rs", "patient/*.read", "user/*.*"])),
            ("capabilities", strings(["launch-standalone", "client-public", "client-confidential-asymmetric", "context-standalone-patient",
                                      "permission-offline", "permission-online", "permission-patient", "permission-user", "permission-v1", "permission-v2"])),
        ]))
    }
}
