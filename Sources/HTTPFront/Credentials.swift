import Foundation

/// What a request says about its caller, read from its headers: the bearer token
/// (RFC 6750 §2.1), a cookie, the purpose of use it asserts. Checking them is Trust's work.
public enum Credentials {
    /// The token of `Authorization: Bearer <token>` (the scheme in any case, the token trimmed of
    /// spaces); nil for another scheme or no token.
    public static func bearerToken(_ authorization: String) -> String? {
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }

    /// The value of the cookie `name` in the `Cookie` headers, trimmed; nil if none sets it.
    public static func cookie(_ name: String, in headers: [String]) -> String? {
        for header in headers {
            for part in header.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces) == name { return kv[1].trimmingCharacters(in: .whitespaces) }
            }
        }
        return nil
    }

    /// The purpose of use of `X-Purpose-Of-Use` (a v3 PurposeOfUse code: up to 20 ASCII capitals
    /// and digits); nil when it is not one, so the request asserts none.
    public static func purposeOfUse(_ header: String) -> String? {
        let purpose = header.trimmingCharacters(in: .whitespaces)
        guard !purpose.isEmpty, purpose.count <= 20, purpose.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else { return nil }
        return purpose
    }
}
