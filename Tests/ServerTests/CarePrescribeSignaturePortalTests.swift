import Crypto
import FHIR
import Foundation
import HTTPTypes
import Testing
@testable import Server
import Trust

/// *Recetar* with the prescriber's signature (docs/prescribing.md, "The prescriber's signature"),
/// doing what `/static/recetar.js` does in the browser: register the public key, prepare, sign
/// the payload (here with a Swift key instead of WebCrypto), send `firma` and `preparacion`.
@Suite struct CarePrescribeSignaturePortalTests {
    typealias P = CareOrdersPortalTests

    static let plain: [(String, String)] = [
        ("medicamento", "metformin"), ("presentacion", "850 mg tabletas"), ("dosis", "850"), ("frecuencia", "BID"), ("cantidad", "60"),
        ("unidad", "tabletas"), ("resurtidos", "0"), ("dias", "30"), ("indicaciones", "Con alimentos"),
    ]

    @Test(arguments: ServerBackend.allCases)
    func recetarSignsInTheBrowserAndThePageShowsItVerified(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        defer { cleanup() }
        try await P.users(server)
        let key = P256.Signing.PrivateKey()
        try await server.run { c in
            for (path, json) in P.seed where path != "MedicationRequest/warfarina" {
                #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)")
            }
            let browser = PortalBrowser(client: c.client, passwords: P.passwords)
            let dra = try await browser.signIn("dra")
            let (s0, page) = try await browser.get("/pacientes/ana/recetar", cookie: dra)
            #expect(s0 == .ok && page.contains("<script src=\"/static/recetar.js\" defer></script>") && page.contains("data-prescriber=\"Practitioner/dra\""))
            #expect(page.contains("name=\"firma\"") && page.contains("name=\"preparacion\""))
            let csrf = try PortalBrowser.csrf(page)
            let (sj, script) = try await browser.get("/static/recetar.js", cookie: dra)
            #expect(sj == .ok && script.contains("generateKey") && script.contains("false, [\"sign\", \"verify\"]"))

            // the browser registers its public key
            var jwk = SigningJWK.jwk(key.publicKey)
            let kid = jwk["kid"]?.stringValue ?? ""
            jwk = .object((jwk.objectValue ?? []).filter { ["crv", "kty", "x", "y"].contains($0.0) })
            let (s1, _, registered) = try await browser.post("/firma/llave", cookie: dra, P.form([("csrf", csrf), ("jwk", jwk.compactString)]))
            #expect(s1 == .ok && registered.contains(kid), "\(registered)")
            let (sx, _, _) = try await browser.post("/firma/llave", cookie: dra, P.form([("csrf", "otro"), ("jwk", jwk.compactString)]))
            #expect(sx == .forbidden)
            let before = try await P.entries(c, "MedicationRequest?patient=Patient/ana").count

            // unsigned, now that she has a key: refused, nothing stored
            let (s2, _, unsigned) = try await browser.post("/pacientes/ana/recetar", cookie: dra, P.form([("csrf", csrf), ("paso", "firmar")] + Self.plain))
            #expect(s2 == .unprocessableContent && unsigned.contains("llevan firma digital"), "\(unsigned)")
            #expect(try await P.entries(c, "MedicationRequest?patient=Patient/ana").count == before)

            // prepare, sign, send
            let (s3, _, prepared) = try await browser.post("/pacientes/ana/recetar", cookie: dra, P.form([("csrf", csrf), ("paso", "preparar")] + Self.plain))
            #expect(s3 == .ok, "\(prepared)")
            let json = try JSONParser.parse(prepared)
            let payload = try #require(json["payload"]?.stringValue.flatMap { Base64URL.decode(Substring($0)) })
            let preparation = try #require(json["preparacion"]?.stringValue)
            let wrong = try DetachedJWS.sign(payload + [0x20], key: key, keyID: kid)
            let (s4, _, refused) = try await browser.post("/pacientes/ana/recetar", cookie: dra, P.form(
                [("csrf", csrf), ("paso", "firmar"), ("firma", wrong), ("preparacion", preparation)] + Self.plain))
            #expect(s4 == .unprocessableContent && refused.contains("no se verifica"), "\(refused)")
            #expect(try await P.entries(c, "MedicationRequest?patient=Patient/ana").count == before)

            let jws = try DetachedJWS.sign(payload, key: key, keyID: kid)
            let (s5, location, _) = try await browser.post("/pacientes/ana/recetar", cookie: dra, P.form(
                [("csrf", csrf), ("paso", "firmar"), ("firma", jws), ("preparacion", preparation)] + Self.plain))
            #expect(s5 == .seeOther && location?.hasPrefix("/pacientes/ana/recetar?emitida=") == true, "\(String(describing: location))")
            let id = String((location ?? "").split(separator: "=").last ?? "")
            let rx = try #require(try await P.entries(c, "MedicationRequest?_id=\(id)").first)
            #expect(CanonicalJSON.bytes(rx, method: .static, alsoOmitting: ["id"]) == payload)
            let (s6, issued) = try await browser.get(location ?? "", cookie: dra)
            #expect(s6 == .ok && issued.contains("Firma verificada"), "\(issued)")
            // the same signed form again stores nothing more
            let (s7, _, again) = try await browser.post("/pacientes/ana/recetar", cookie: dra, P.form(
                [("csrf", csrf), ("paso", "firmar"), ("firma", jws), ("preparacion", preparation)] + Self.plain))
            #expect(s7 == .unprocessableContent && again.contains("ya se firmó"), "\(again)")
            // cancelled later (a PUT of its status): the page says it is signed and changed since, not that it fails
            let cancelled = rx.setting("status", .string("cancelled"))
            #expect(try await c.send(.put, "/fhir/MedicationRequest/\(id)", json: cancelled.compactString).status == 200)
            let (s8, later) = try await browser.get(location ?? "", cookie: dra)
            #expect(s8 == .ok && later.contains("Firmada; cambió después (cancelada)") && !later.contains("NO se verifica"), "\(later)")

            // the three states are styled, each with a sign of its own besides its colour (✓, –, ✗)
            let (sc, css) = try await browser.get("/static/portal.css", cookie: dra)
            #expect(sc == .ok)
            for (state, sign) in [("sig-ok", "\\2713"), ("sig-none", "\\2013"), ("sig-bad", "\\2717")] {
                #expect(css.contains(".\(state) {") && css.contains(".\(state)::before { content: \"\(sign)"), "\(state)")
            }

            // Mis llaves de firma: the key is active; revoking it needs the form's token and a
            // reason; then the page says revoked, the browser's key is refused at registration
            // (so recetar.js makes a new one) and what it signed still reads verified
            #expect(issued.contains("href=\"/firma/llaves\""))
            let (sk, keys) = try await browser.get("/firma/llaves", cookie: dra)
            #expect(sk == .ok && keys.contains("id=\"llave-\(kid)\"") && keys.contains("Activa") && keys.contains("Revocar esta llave"), "\(keys)")
            let (sf, _, _) = try await browser.post("/firma/llaves/revocar", cookie: dra, P.form([("csrf", "otro"), ("kid", kid), ("motivo", "perdí el teléfono")]))
            #expect(sf == .forbidden)
            let (sn, _, noReason) = try await browser.post("/firma/llaves/revocar", cookie: dra, P.form([("csrf", csrf), ("kid", kid), ("motivo", " ")]))
            #expect(sn == .unprocessableContent && noReason.contains("motivo"), "\(noReason)")
            let (su, _, unknown) = try await browser.post("/firma/llaves/revocar", cookie: dra, P.form([("csrf", csrf), ("kid", "otra"), ("motivo", "x")]))
            #expect(su == .notFound && unknown.contains("llave-error"), "\(unknown)")
            server.clock.advance(seconds: 60)  // revoked a minute after it signed
            let (sr, _, revoked) = try await browser.post("/firma/llaves/revocar", cookie: dra, P.form([("csrf", csrf), ("kid", kid), ("motivo", "perdí el teléfono")]))
            #expect(sr == .ok && revoked.contains("Llave revocada") && revoked.contains("Revocada") && revoked.contains("perdí el teléfono")
                    && !revoked.contains("Revocar esta llave"), "\(revoked)")
            let (sa, _, refusedAgain) = try await browser.post("/firma/llave", cookie: dra, P.form([("csrf", csrf), ("jwk", jwk.compactString)]))
            #expect(sa == .unprocessableContent, "\(refusedAgain)")
            #expect(script.contains("e.message !== \"422\""), "recetar.js replaces a revoked key")
            let (s9, still) = try await browser.get(location ?? "", cookie: dra)
            #expect(s9 == .ok && still.contains("Firmada; cambió después (cancelada)"), "\(still)")
            // another practitioner sees only their own keys, and cannot revoke hers
            let drb = try await browser.signIn("drb")
            let (sb, theirs) = try await browser.get("/firma/llaves", cookie: drb)
            #expect(sb == .ok && theirs.contains("id=\"sin-llaves\"") && !theirs.contains(kid), "\(theirs)")
            let drbCSRF = try PortalBrowser.csrf(theirs)
            let (sx2, _, _) = try await browser.post("/firma/llaves/revocar", cookie: drb, P.form([("csrf", drbCSRF), ("kid", kid), ("motivo", "x")]))
            #expect(sx2 == .notFound)
        }
    }
}
