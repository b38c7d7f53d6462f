import FHIR
import Foundation
import HTTPTypes
import Hummingbird

/// Slows brute force against the credential endpoints — the portal's sign-in (`POST /entrar`),
/// the SMART sign-in (`POST /oauth/authorize/login`) and the token endpoint (`POST /oauth/token`)
/// — per client address (docs/reliability.md, "Brute force").
///
/// Each address has a bucket of `burst` failures that refills at one every `refillSeconds`; an
/// answer of 400, 401, 403 or 429 from those endpoints takes one, a success takes none (so a
/// busy clinic behind one address is not slowed by its own sign-ins). With the bucket empty the
/// endpoint answers 429 with `Retry-After` before checking anything, so guesses stop costing a
/// password hash. This complements the per-username lockout of `IdentityService` (which a spray
/// of one password over many usernames does not trigger).
///
/// The address is the peer's; when the peer is a loopback address or a Unix socket (a reverse
/// proxy on the same host, deploy/nginx) `X-Real-IP`, or else the last address of
/// `X-Forwarded-For`, is used instead — so a proxy on another host must not be trusted with that header, and its
/// clients share its address here (docs/reliability.md).
struct ThrottleMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext
    let buckets: FailureBuckets
    /// The server's clock (tests move it by hand).
    let clock: any Clock

    static let paths: Set<String> = ["/entrar", "/oauth/authorize/login", "/oauth/token"]

    init(clock: any Clock, burst: Int = 20, refillSeconds: Double = 3) {
        self.clock = clock
        buckets = FailureBuckets(burst: Double(burst), refillSeconds: refillSeconds)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, ThrottleMiddleware.paths.contains(request.uri.path) else {
            return try await next(request, context)
        }
        let client = ThrottleMiddleware.clientAddress(request, peer: context.remoteAddress)
        let now = Double(clock.now().microseconds) / 1_000_000
        if let wait = buckets.refusal(client, now: now) {
            context.logger.warning("credential endpoint throttled", metadata: ["path": "\(request.uri.path)"])
            return ThrottleMiddleware.refusal(path: request.uri.path, wait: wait)
        }
        let response: Response
        do {
            response = try await next(request, context)
        } catch let e as FHIRError {
            if e.status < 500 { buckets.fail(client, now: now) }
            throw e
        }
        if [400, 401, 403, 429].contains(Int(response.status.code)) { buckets.fail(client, now: now) }
        return response
    }

    /// 429 with `Retry-After`: an OAuth error for the token endpoint, a page for the sign-in forms.
    static func refusal(path: String, wait: Int) -> Response {
        let english = "too many failed attempts from this address; wait \(wait) s and try again"
        let spanish = "demasiados intentos fallidos desde esta dirección; espere \(wait) s e intente de nuevo"
        var response: Response
        if path == "/oauth/token" {
            response = OAuthEndpoints.error(.tooManyRequests, "slow_down", english)
        } else {
            let body = "<p class=\"error\" role=\"alert\" lang=\"es\">\(HTML.escape(spanish))</p>\n<p lang=\"en\">\(HTML.escape(english))</p>"
            response = HTML.response(.tooManyRequests, HTML.page(title: "Demasiados intentos / Too many attempts", language: .es, body: body))
        }
        response.headers[.retryAfter] = String(wait)
        return response
    }

    static func clientAddress(_ request: Request, peer: String?) -> String {
        // no peer address: a Unix socket (or the in-process test client), local like a loopback proxy
        let peer = peer ?? "local"
        guard peer == "local" || peer.hasPrefix("127.") || peer == "::1" || peer.hasPrefix("::ffff:127.") else { return peer }
        // X-Real-IP is set by the proxy (deploy/nginx: $remote_addr); of X-Forwarded-For only the
        // last address is the proxy's own observation — earlier ones are whatever the client sent
        if let real = request.headers[HTTPField.Name("X-Real-IP")!]?.trimmingCharacters(in: .whitespaces), !real.isEmpty, real.count <= 64 {
            return real
        }
        if let forwarded = request.headers[HTTPField.Name("X-Forwarded-For")!]?.split(separator: ",").last {
            let a = forwarded.trimmingCharacters(in: .whitespaces)
            if !a.isEmpty, a.count <= 64 { return a }
        }
        return peer
    }
}

/// Token buckets of failures per client, bounded in memory (the oldest-touched half is dropped
/// when `capacity` clients are tracked).
final class FailureBuckets: @unchecked Sendable {
    private struct Bucket { var tokens: Double; var updated: Double }
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]
    let burst: Double
    let refillSeconds: Double
    let capacity = 10_000

    init(burst: Double, refillSeconds: Double) {
        self.burst = burst
        self.refillSeconds = refillSeconds
    }

    private func refilled(_ key: String, now: Double) -> Bucket {
        guard var b = buckets[key] else { return Bucket(tokens: burst, updated: now) }
        b.tokens = min(burst, b.tokens + max(0, now - b.updated) / refillSeconds)
        b.updated = now
        return b
    }

    /// Seconds to wait when `key` has no failure left, else nil.
    func refusal(_ key: String, now: Double) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        let b = refilled(key, now: now)
        buckets[key] = b
        return b.tokens >= 1 ? nil : Int(((1 - b.tokens) * refillSeconds).rounded(.up))
    }

    func fail(_ key: String, now: Double) {
        lock.lock()
        defer { lock.unlock() }
        var b = refilled(key, now: now)
        b.tokens = max(0, b.tokens - 1)
        if buckets.count >= capacity, buckets[key] == nil {
            let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(capacity / 2)
            buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
        buckets[key] = b
    }
}
