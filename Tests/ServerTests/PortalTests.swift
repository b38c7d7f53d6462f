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
        #expect(Set(signIns.map(\.username)) == ["ana", "lucia", "dr.hernandez", "dra.castillo", "dr.aguilar", "privacidad"])
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

    /// Ana's privacy story as the demo writes it: through the real privacy operations.
    @Test func demoPrivacyStory() async throws {
        let (services, _, directory) = try await Self.demo()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let read = { @Sendable (type: String, id: String) async throws -> JSON in
            try #require(try await services.store.read { try $0.current(type, id) }).json()
        }
        let approved = try await read("Task", DemoData.castilloRequest)
        #expect(approved["status"]?.stringValue == "completed")
        let consentRef = try #require(approved["output"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue)
        let consent = try await read("Consent", String(consentRef.dropFirst("Consent/".count)))
        #expect(consent["status"]?.stringValue == "active")
        #expect(consent["provision"]?["actor"]?.arrayValue?.first?["reference"]?["reference"]?.stringValue == "Practitioner/dra-castillo")
        #expect(try await read("Task", DemoData.aguilarRequest)["status"]?.stringValue == "requested")
        let btg = try await services.store.read { tx in
            let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.breakTheGlassReview)")])
            return try tx.search(q).matches
        }
        #expect(btg.count == 1)
        let communications = try await services.store.read { tx in
            let (q, _) = try SearchParser().parse(types: ["Communication"], parameters: [("subject", "Patient/demo-p001")])
            return try tx.search(q).matches
        }
        #expect(communications.count == 1, "break-the-glass told the patient")
    }

    /// *Mis permisos*: pending requests with approve (narrowed) and deny, through
    /// `PrivacyOperations`; a wrong CSRF token changes nothing; a revoked Consent ends the access.
    @Test func answerAccessRequestsFromThePortal() async throws {
        let (services, signIns, directory) = try await Self.demo()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "enlace-test")
        logger.logLevel = .critical
        let app = buildApplication(services, logger: logger)
        let passwords = Dictionary(uniqueKeysWithValues: signIns.map { ($0.username, $0.password) })
        @Sendable func password(_ user: String) -> String { passwords[user] ?? "" }
        @Sendable func current(_ type: String, _ id: String) async throws -> JSON {
            try #require(try await services.store.read { try $0.current(type, id) }).json()
        }
        try await app.test(.router) { client in
            func get(_ path: String, cookie: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: path, method: .get, headers: [.cookie: cookie]) { ($0.status, String(buffer: $0.body)) }
            }
            func post(_ path: String, cookie: String, _ form: String) async throws -> (HTTPResponse.Status, String?) {
                var h: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                h[.cookie] = cookie
                return try await client.execute(uri: path, method: .post, headers: h, body: ByteBuffer(string: form)) { ($0.status, $0.headers[.location]) }
            }
            func signIn(_ user: String) async throws -> String {
                let r0 = try await client.execute(uri: "/entrar", method: .get) { $0 }
                let csrfCookie = try #require(r0.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal_csrf=") })
                let value = String(csrfCookie.dropFirst("enlace_portal_csrf=".count).prefix { $0 != ";" })
                var h: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                h[.cookie] = "enlace_portal_csrf=\(value)"
                let r = try await client.execute(uri: "/entrar", method: .post, headers: h,
                                                 body: ByteBuffer(string: "csrf=\(value)&next=%2F&username=\(user)&password=\(password(user))")) { $0 }
                let session = try #require(r.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal=") })
                return String(session.prefix { $0 != ";" })
            }
            func csrf(_ page: String) throws -> String {
                let marker = "name=\"csrf\" value=\""
                let start = try #require(page.range(of: marker)).upperBound
                return String(page[start...].prefix { $0 != "\"" })
            }
            let ana = try await signIn("ana")
            let aguilar = try await signIn("dr.aguilar")
            let castillo = try await signIn("dra.castillo")

            // Before the answer: the endocrinologist cannot open Ana's record; the request is on her page.
            #expect(try await get("/pacientes/demo-p001", cookie: aguilar).0 == .forbidden)
            let (s1, permisos) = try await get("/permisos", cookie: ana)
            #expect(s1 == .ok)
            #expect(permisos.contains("id=\"request-\(DemoData.aguilarRequest)\"") && permisos.contains("Dr. Tomás Aguilar Núñez"))
            #expect(permisos.contains("Centro de Especialidades Coyoacán") && permisos.contains("Salud mental") && permisos.contains("180 días"))
            #expect(!permisos.contains("id=\"request-\(DemoData.castilloRequest)\""), "an answered request is not pending")
            let token = try csrf(permisos)
            let (_, english) = try await get("/permisos", cookie: ana + "; lang=en")
            #expect(english.contains("Pending access requests") && english.contains("Mental health") && english.contains("180 days")
                    && english.contains(">Approve</button>") && english.contains(">Deny</button>"))

            // A forged form (wrong CSRF token) changes nothing.
            let forged = try await post("/permisos/solicitudes/aprobar", cookie: ana, "csrf=forged&solicitud=\(DemoData.aguilarRequest)")
            #expect(forged.0 == .forbidden)
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "requested")
            #expect(try await get("/pacientes/demo-p001", cookie: aguilar).0 == .forbidden)
            // Another person cannot answer Ana's request (the operation refuses; the guard hides the Task).
            let castilloPage = try await get("/pacientes/demo-p001", cookie: castillo)
            #expect(castilloPage.0 == .ok)
            let other = try await post("/permisos/solicitudes/aprobar", cookie: castillo, "csrf=\(try csrf(castilloPage.1))&solicitud=\(DemoData.aguilarRequest)")
            #expect(other.0 == .forbidden)
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "requested")

            // Approve, narrowed: 30 days instead of 180, and without the mental-health category.
            let approved = try await post("/permisos/solicitudes/aprobar", cookie: ana,
                                          "csrf=\(token)&solicitud=\(DemoData.aguilarRequest)&dias=30&categorias=1")
            #expect(approved.0 == .seeOther && approved.1 == "/permisos?aprobada=1")
            let task = try await current("Task", DemoData.aguilarRequest)
            #expect(task["status"]?.stringValue == "completed")
            let consentRef = try #require(task["output"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue)
            let consent = try await current("Consent", String(consentRef.dropFirst("Consent/".count)))
            #expect(consent["status"]?.stringValue == "active")
            #expect(consent["provision"]?["actor"]?.arrayValue?.first?["reference"]?["reference"]?.stringValue == "Practitioner/dr-aguilar")
            #expect(consent["provision"]?["securityLabel"] == nil, "the unticked category is not granted")
            let end = try #require(consent["provision"]?["period"]?["end"]?.stringValue.flatMap { Timestamp(instant: $0) })
            let now = services.clock.now()
            #expect(end.microseconds <= now.microseconds + 30 * 86_400 * 1_000_000 && end.microseconds > now.microseconds + 29 * 86_400 * 1_000_000)
            let (s2, after) = try await get("/permisos?aprobada=1", cookie: ana)
            #expect(s2 == .ok && after.contains("Solicitud aprobada") && !after.contains("id=\"request-"))
            #expect(after.contains("Dr. Tomás Aguilar Núñez"), "the new permission is listed with the grantee's name")
            let (s3, record) = try await get("/pacientes/demo-p001", cookie: aguilar)
            #expect(s3 == .ok && record.contains("Diabetes mellitus tipo 2"))
            // Answering twice changes nothing.
            let again = try await post("/permisos/solicitudes/rechazar", cookie: ana, "csrf=\(token)&solicitud=\(DemoData.aguilarRequest)")
            #expect(again.1 == "/permisos?respondida=1")
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "completed")

            // Deny a new request: the Task is rejected and nothing is granted.
            let ask: JSON = try JSONParser.parse(#"""
                {"resourceType":"Task","status":"requested","intent":"proposal",
                 "code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/privacy-task","code":"consent-request"}]},
                 "for":{"reference":"Patient/demo-p002"},"requester":{"reference":"Practitioner/dra-castillo"},
                 "input":[{"type":{"text":"purpose"},"valueCode":"TREAT"}]}
                """#)
            let asked = try await services.repository.create("Task", ask).resource
            let lucia = try await signIn("lucia")
            let (_, luciaPage) = try await get("/permisos", cookie: lucia)
            #expect(luciaPage.contains("id=\"request-\(asked.id)\"") && luciaPage.contains("Dra. Mariana Castillo Vega"))
            let denied = try await post("/permisos/solicitudes/rechazar", cookie: lucia, "csrf=\(try csrf(luciaPage))&solicitud=\(asked.id)")
            #expect(denied.1 == "/permisos?rechazada=1")
            #expect(try await current("Task", asked.id)["status"]?.stringValue == "rejected")
            #expect(try await get("/pacientes/demo-p002", cookie: castillo).0 == .forbidden)

            // Revoking the cardiologist's Consent (her only way in) ends her access from the next request.
            let castilloConsent = try #require(try await current("Task", DemoData.castilloRequest)["output"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue)
            let revoked = try await post("/permisos/revocar", cookie: ana, "csrf=\(token)&consent=\(castilloConsent.dropFirst("Consent/".count))")
            #expect(revoked.1 == "/permisos?revocado=1")
            let (s4, refusal) = try await get("/pacientes/demo-p001", cookie: castillo)
            #expect(s4 == .forbidden && refusal.contains("Acceso no permitido") && !refusal.contains("Diabetes"))
        }
    }
}
