import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import Server
import Storage
import StorageSQLite
import Testing
import Trust

/// The demo loader and the portal over in-process HTTP: sign-in with CSRF, the session cookie,
/// pages read through the guarded repository, and a refusal for a patient without a relationship.
@Suite struct PortalTests {
    /// A server with the demo loaded (cheap password hashing), and the demo sign-ins.
    static func demo() async throws -> (EnlaceServices, [DemoData.SignIn], String) {
        let directory = NSTemporaryDirectory() + "enlace-portal-" + UUID().uuidString
        var config = ServerConfiguration()
        config.dataDirectory = directory
        config.passwordIterations = 1000
        config.requireTOTPForStaff = false
        let key = try SigningKey.loadOrCreate(in: directory)
        let services = EnlaceServices(configuration: config, store: try SQLiteStore(path: config.databasePath), key: key, clock: ManualClock())
        let signIns = try #require(try await DemoData(services: services).loadIfEmpty())
        return (services, signIns, directory)
    }

    @Test func curpCheckDigit() {
        #expect(CURP.isValid("TOJA740227MDFRMN02"))
        #expect(!CURP.isValid("TOJA740227MDFRMN03"))
        let made = CURP.make(given: "José Luis", paternal: "Peña", maternal: "Núñez", birth: (2003, 5, 9), female: false, state: "JC", homonym: 0)
        #expect(made.count == 18 && made.hasPrefix("PENL030509HJC") && CURP.isValid(made))
    }

    @Test func demoLoadsOnceWithValidCURPs() async throws {
        let (services, signIns, directory) = try await Self.demo()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(Set(signIns.map(\.username)) == ["ana", "lucia", "dr.hernandez", "privacidad"])
        let patients = try await services.store.read { tx in
            let (q, _) = try SearchParser().parse(types: ["Patient"], parameters: [("_count", "100")])
            return try tx.search(q).matches
        }
        #expect(patients.count >= 50)
        for p in patients {
            let curp = try p.json()["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? ""
            #expect(CURP.isValid(curp), "invalid CURP \(curp)")
        }
        #expect(try await DemoData(services: services).loadIfEmpty() == nil, "a second start does not load the demo again")
    }

    @Test func signInAndPages() async throws {
        let (services, signIns, directory) = try await Self.demo()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "enlace-test")
        logger.logLevel = .critical
        let app = buildApplication(services, logger: logger)
        let passwords = Dictionary(uniqueKeysWithValues: signIns.map { ($0.username, $0.password) })
        @Sendable func password(_ user: String) -> String { passwords[user] ?? "" }
        try await app.test(.router) { client in
            func get(_ path: String, cookie: String? = nil) async throws -> (HTTPResponse.Status, HTTPFields, String) {
                var h: HTTPFields = [:]
                if let cookie { h[.cookie] = cookie }
                return try await client.execute(uri: path, method: .get, headers: h) { ($0.status, $0.headers, String(buffer: $0.body)) }
            }
            func signIn(_ user: String) async throws -> String {
                let (_, headers, page) = try await get("/entrar")
                let csrfCookie = try #require(headers[values: .setCookie].first { $0.hasPrefix("enlace_portal_csrf=") })
                let value = String(csrfCookie.dropFirst("enlace_portal_csrf=".count).prefix { $0 != ";" })
                #expect(page.contains("name=\"csrf\" value=\"\(value)\""))
                let body = "csrf=\(value)&next=%2F&username=\(user)&password=\(password(user))"
                var h: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                h[.cookie] = "enlace_portal_csrf=\(value)"
                let r = try await client.execute(uri: "/entrar", method: .post, headers: h, body: ByteBuffer(string: body)) { $0 }
                #expect(r.status == .seeOther)
                let session = try #require(r.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal=") })
                #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax"))
                return String(session.prefix { $0 != ";" })
            }
            // Not signed in: to the sign-in page; a form without its CSRF token is refused.
            let (status, headers, _) = try await get("/expediente")
            #expect(status == .seeOther && headers[.location]?.hasPrefix("/entrar") == true)
            let (_, signInHeaders, signInPage) = try await get("/entrar")
            #expect(signInPage.contains("<html lang=\"es-MX\">") && signInPage.contains("<main"))
            #expect(signInHeaders[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'self'") == true)
            let forged = try await client.execute(uri: "/entrar", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                                  body: ByteBuffer(string: "username=ana&password=\(password("ana"))")) { $0.status }
            #expect(forged == .forbidden)

            let ana = try await signIn("ana")
            let (s1, _, record) = try await get("/expediente", cookie: ana)
            #expect(s1 == .ok && record.contains("TOJA740227MDFRMN02") && record.contains("Diabetes mellitus tipo 2"))
            let (s2, _, english) = try await get("/expediente", cookie: ana + "; lang=en")
            #expect(s2 == .ok && english.contains("<html lang=\"en\">") && english.contains("My record"))
            let (s3, _, log) = try await get("/accesos", cookie: ana)
            #expect(s3 == .ok && log.contains("badge ok") && log.contains("class=\"entry btg"))

            let doctor = try await signIn("dr.hernandez")
            let (s4, _, patients) = try await get("/pacientes", cookie: doctor)
            #expect(s4 == .ok && patients.contains("/pacientes/demo-p001") && !patients.contains("/pacientes/demo-p002"))
            let (s5, _, refused) = try await get("/pacientes/demo-p002", cookie: doctor)
            #expect(s5 == .forbidden && !refused.contains("Lucía"))
            // A patient's pages are not a clinician's, and the bearer API still needs a token.
            let (s6, _, _) = try await get("/fhir/Patient/demo-p001", cookie: doctor)
            #expect(s6 == .unauthorized)
        }
    }
}
