import Crypto
import Foundation
import JWTKit

// bench/jwt: the first verification of N distinct access tokens (the verified-token cache of
// TokenAuthority makes every later one free), by the hand-written verifier Enlace had and by
// jwt-kit as Trust uses it now (AccessTokenPayload.swift is a link to the production file).
// Also the floor: the bare P-256 signature check both make. Usage:
//   swift run -c release --package-path bench/jwt [N]        (default N = 20000)

let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
let key = P256.Signing.PrivateKey()
let kid = "bench-key"
let audience = "http://127.0.0.1:8080/fhir"
let now = Int64(Date().timeIntervalSince1970)

// tokens as Enlace issues them: header, the usual claims and a patient's context
let tokens: [String] = (0..<n).map { i in
    let header = #"{"alg":"ES256","typ":"JWT","kid":"\#(kid)"}"#
    let payload = #"{"iss":"\#(audience)","sub":"user:ana\#(i)","aud":"\#(audience)","iat":\#(now),"exp":\#(now + 3600),"jti":"\#(UUID().uuidString.lowercased())","scope":"openid fhirUser launch/patient patient/*.rs","role":"patient","fhirUser":"Patient/p\#(i)","patient":"p\#(i)","client_id":"app"}"#
    let input = HandWritten.encode(Array(header.utf8)) + "." + HandWritten.encode(Array(payload.utf8))
    return input + "." + HandWritten.encode(Array(try! key.signature(for: Data(input.utf8)).rawRepresentation))
}

func measure(_ name: String, _ body: () async throws -> Int) async rethrows -> Double {
    let start = ContinuousClock.now
    let ok = try await body()
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    precondition(ok == n, "\(name): \(ok) of \(n) verified")
    let micros = seconds / Double(n) * 1e6
    print(String(format: "%-34@ %8.1f µs/token  %9.0f tokens/s", name as NSString, micros, Double(n) / seconds))
    return micros
}

let publicKey = key.publicKey
// the floor: only the P-256 signature check (SHA-256 and ECDSA), on inputs decoded beforehand
let decoded: [(Data, P256.Signing.ECDSASignature)] = tokens.map { t in
    let parts = t.split(separator: ".")
    return (Data((parts[0] + "." + parts[1]).utf8), try! P256.Signing.ECDSASignature(rawRepresentation: HandWritten.decode(parts[2])!))
}
let floor = await measure("floor: P-256 signature check only") {
    decoded.reduce(0) { $0 + (publicKey.isValidSignature($1.1, for: $1.0) ? 1 : 0) }
}
let hand = await measure("hand-written (before)") {
    tokens.reduce(0) { $0 + (HandWritten.verify($1, key: publicKey, audience: audience, nowSeconds: now) != nil ? 1 : 0) }
}
let keys = await AccessTokenJWT.keys(try ES256PublicKey(backing: publicKey), kid: kid)
let kit = try await measure("jwt-kit (now)") {
    var ok = 0
    for t in tokens {
        let p = try await AccessTokenJWT.verify(t, with: keys)
        try p.exp.verifyNotExpired(currentDate: Date())
        try p.aud?.verifyIntendedAudience(includes: audience)
        ok += 1
    }
    return ok
}
// two verifiers at once, as two request threads would (the key collection is an actor)
let kitParallel = try await measure("jwt-kit, 2 concurrent tasks") {
    try await withThrowingTaskGroup(of: Int.self) { group in
        for half in [tokens[..<(n / 2)], tokens[(n / 2)...]] {
            group.addTask { for t in half { _ = try await AccessTokenJWT.verify(t, with: keys) }; return half.count }
        }
        var total = 0
        for try await count in group { total += count }
        return total
    }
}
print(String(format: "ratios to the floor: hand-written %.2f, jwt-kit %.2f, jwt-kit 2 tasks %.2f (per token, wall time)",
             hand / floor, kit / floor, kitParallel / floor))
