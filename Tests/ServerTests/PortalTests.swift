import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import Server
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) import Trust

/// The demo loader and the portal over in-process HTTP: sign-in with CSRF, the session cookie,
/// pages read through the guarded repository, and a refusal for a patient without a relationship.
@Suite struct PortalTests {
    /// A server with the demo loaded (cheap password hashing), and the demo sign-ins.
    static func demo() async throws -> (EnlaceServices, [DemoData.SignIn], String) {
        let (server, signIns) = try await demoServer()
        return (server.services, signIns, server.directory)
    }

    /// The demo in a `TestServer` (cheap password hashing, staff TOTP off, as `serve --demo`).
    static func demoServer() async throws -> (TestServer, [DemoData.SignIn]) {
        let server = try TestServer { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        let signIns = try #require(try await DemoData(services: server.services).loadIfEmpty())
        return (server, signIns)
    }

    /// The demo in a fresh data directory, served by the in-process router, with a browser for
    /// its sign-ins; the directory is removed afterwards.
    static func withDemoPortal(_ body: @escaping @Sendable (EnlaceServices, PortalBrowser) async throws -> Void) async throws {
        let (server, signIns) = try await Self.demoServer()
        let passwords = Dictionary(uniqueKeysWithValues: signIns.map { ($0.username, $0.password) })
        let services = server.services
        try await server.run { c in
            try await body(services, PortalBrowser(client: c.client, passwords: passwords))
        }
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
        #expect(Set(signIns.map(\.username)) == ["ana", "lucia", "dr.hernandez", "dra.castillo", "dr.aguilar", "dra.morales", "dr.ramirez", "farmacia.roma", "privacidad", "vidaplena", "imss.pagos", "issste.pagos"])
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
        let app = buildApplication(services, logger: TestLogger.make())
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
        try await Self.withDemoPortal { services, browser in
            @Sendable func current(_ type: String, _ id: String) async throws -> JSON { try await Self.current(services, type, id) }
            let ana = try await browser.signIn("ana")
            let aguilar = try await browser.signIn("dr.aguilar")
            let castillo = try await browser.signIn("dra.castillo")

            // Before the answer: the endocrinologist cannot open Ana's record; the request is on her page.
            #expect(try await browser.get("/pacientes/demo-p001", cookie: aguilar).0 == .forbidden)
            let (s1, permisos) = try await browser.get("/permisos", cookie: ana)
            #expect(s1 == .ok)
            #expect(permisos.contains("id=\"request-\(DemoData.aguilarRequest)\"") && permisos.contains("Dr. Tomás Aguilar Núñez"))
            #expect(permisos.contains("Centro de Especialidades Coyoacán") && permisos.contains("Salud mental") && permisos.contains("180 días"))
            #expect(!permisos.contains("id=\"request-\(DemoData.castilloRequest)\""), "an answered request is not pending")
            let token = try PortalBrowser.csrf(permisos)
            let (_, english) = try await browser.get("/permisos", cookie: ana + "; lang=en")
            #expect(english.contains("Pending access requests") && english.contains("Mental health") && english.contains("180 days")
                    && english.contains(">Approve</button>") && english.contains(">Deny</button>"))

            // A forged form (wrong CSRF token) changes nothing.
            let forged = try await browser.post("/permisos/solicitudes/aprobar", cookie: ana, "csrf=forged&solicitud=\(DemoData.aguilarRequest)")
            #expect(forged.0 == .forbidden)
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "requested")
            #expect(try await browser.get("/pacientes/demo-p001", cookie: aguilar).0 == .forbidden)
            // Another person cannot answer Ana's request (the operation refuses; the guard hides the Task).
            let castilloPage = try await browser.get("/pacientes/demo-p001", cookie: castillo)
            #expect(castilloPage.0 == .ok)
            let other = try await browser.post("/permisos/solicitudes/aprobar", cookie: castillo, "csrf=\(try PortalBrowser.csrf(castilloPage.1))&solicitud=\(DemoData.aguilarRequest)")
            #expect(other.0 == .forbidden)
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "requested")

            // Approve, narrowed: 30 days instead of 180, and without the mental-health category.
            let approved = try await browser.post("/permisos/solicitudes/aprobar", cookie: ana,
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
            let (s2, after) = try await browser.get("/permisos?aprobada=1", cookie: ana)
            #expect(s2 == .ok && after.contains("Solicitud aprobada") && !after.contains("id=\"request-"))
            #expect(after.contains("Dr. Tomás Aguilar Núñez"), "the new permission is listed with the grantee's name")
            let (s3, record) = try await browser.get("/pacientes/demo-p001", cookie: aguilar)
            #expect(s3 == .ok && record.contains("Diabetes mellitus tipo 2"))
            // Answering twice changes nothing.
            let again = try await browser.post("/permisos/solicitudes/rechazar", cookie: ana, "csrf=\(token)&solicitud=\(DemoData.aguilarRequest)")
            #expect(again.1 == "/permisos?respondida=1")
            #expect(try await current("Task", DemoData.aguilarRequest)["status"]?.stringValue == "completed")

            // Deny a new request: the Task is rejected and nothing is granted.
            let ask: JSON = try JSONParser.parse(#"""
                {"resourceType":"Task","status":"requested","intent":"proposal",
                 "code":{"coding":[{"system":"https://enlace.mx/fhir/CodeSystem/privacy-task","code":"consent-request"}]},
                 "for":{"reference":"Patient/demo-p002"},"requester":{"reference":"Practitioner/dra-castillo"},
                 "input":[{"type":{"text":"purpose"},"valueCode":"TREAT"},{"type":{"text":"class"},"valueCode":"Observation"},
                          {"type":{"text":"dataPeriod"},"valuePeriod":{"start":"2026-01-01","end":"2026-06-30"}}]}
                """#)
            let asked = try await services.repository.create("Task", ask).resource
            let lucia = try await browser.signIn("lucia")
            let (_, luciaPage) = try await browser.get("/permisos", cookie: lucia)
            #expect(luciaPage.contains("id=\"request-\(asked.id)\"") && luciaPage.contains("Dra. Mariana Castillo Vega"))
            // a request for part of the record says which part, in words
            #expect(luciaPage.contains("Solo: Resultados") && luciaPage.contains("Solo datos fechados del"))
            let denied = try await browser.post("/permisos/solicitudes/rechazar", cookie: lucia, "csrf=\(try PortalBrowser.csrf(luciaPage))&solicitud=\(asked.id)")
            #expect(denied.1 == "/permisos?rechazada=1")
            #expect(try await current("Task", asked.id)["status"]?.stringValue == "rejected")
            #expect(try await browser.get("/pacientes/demo-p002", cookie: castillo).0 == .forbidden)

            // Revoking the cardiologist's Consent (her only way in) ends her access from the next request.
            let castilloConsent = try #require(try await current("Task", DemoData.castilloRequest)["output"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue)
            let revoked = try await browser.post("/permisos/revocar", cookie: ana, "csrf=\(token)&consent=\(castilloConsent.dropFirst("Consent/".count))")
            #expect(revoked.1 == "/permisos?revocado=1")
            let (s4, refusal) = try await browser.get("/pacientes/demo-p001", cookie: castillo)
            #expect(s4 == .forbidden && refusal.contains("Acceso no permitido") && !refusal.contains("Diabetes"))
        }
    }

    /// *Revisiones*: the privacy officer sees the demo's break-the-glass (made through the real
    /// operation), closes it as justified through `PrivacyOperations.review`; a wrong CSRF token
    /// changes nothing, and nobody else may open the page.
    @Test func privacyOfficerReviewsBreakTheGlass() async throws {
        try await Self.withDemoPortal { services, browser in
            let tasks = try await Self.privacyTasks(services, patient: "demo-p001", code: PrivacyCodes.breakTheGlassReview)
            let task = try #require(tasks.first)
            let taskID = try #require(task["id"]?.stringValue)
            #expect(task["status"]?.stringValue == "requested")
            let officer = try await browser.signIn("privacidad")
            let doctor = try await browser.signIn("dr.hernandez")
            #expect(try await browser.get("/revisiones", cookie: doctor).0 == .forbidden)
            let (status, page) = try await browser.get("/revisiones", cookie: officer)
            #expect(status == .ok)
            #expect(page.contains("id=\"revision-\(taskID)\"") && page.contains("Por revisar"))
            let csrf = try PortalBrowser.csrf(page)
            // a wrong token changes nothing
            #expect(try await browser.post("/revisiones/\(taskID)", cookie: officer, "csrf=wrong&resultado=justificado").0 == .forbidden)
            let unchanged = try await Self.current(services, "Task", taskID)
            #expect(unchanged["status"]?.stringValue == "requested")
            // a made-up outcome, or a Task that does not exist: a clear refusal, nothing changes
            #expect(try await browser.post("/revisiones/\(taskID)", cookie: officer, "csrf=\(csrf)&resultado=otra").0 == .badRequest)
            let missing = try await browser.post("/revisiones/no-existe", cookie: officer, "csrf=\(csrf)&resultado=justificado")
            // (the portal answers a missing record with its one refusal page, as for hidden ones)
            #expect(missing.0 == .forbidden && missing.2.contains("Acceso no permitido"), "\(missing.0)")
            #expect(try await Self.current(services, "Task", taskID)["status"]?.stringValue == "requested")
            // justified, with a note
            let done = try await browser.post("/revisiones/\(taskID)", cookie: officer, "csrf=\(csrf)&resultado=justificado&nota=Urgencia+documentada+en+el+expediente")
            #expect(done.1 == "/revisiones?revisada=1", "\(done.0)")
            let reviewed = try await Self.current(services, "Task", taskID)
            #expect(reviewed["status"]?.stringValue == "completed")
            #expect(reviewed["note"]?.arrayValue?.last?["text"]?.stringValue == "Urgencia documentada en el expediente")
            let (_, after) = try await browser.get("/revisiones?revisada=1", cookie: officer)
            #expect(after.contains("Revisión guardada") && after.contains("Justificado") && after.contains("No hay accesos de emergencia por revisar"))
        }
    }

    /// The current version of a resource, read straight from the store.
    static func current(_ services: EnlaceServices, _ type: String, _ id: String) async throws -> JSON {
        try #require(try await services.store.read { try $0.current(type, id) }).json()
    }

    /// Consent-request and break-the-glass Tasks of one patient, read straight from the store.
    static func privacyTasks(_ services: EnlaceServices, patient: String, code: String) async throws -> [JSON] {
        try await services.store.read { tx in
            let (q, _) = try SearchParser().parse(types: ["Task"], parameters: [("code", "\(PrivacyCodes.taskCodes)|\(code)"),
                                                                                ("patient", "Patient/\(patient)"), ("_count", "100")])
            return try tx.search(q).matches.filter { !$0.deleted }.map { try $0.json() }
        }
    }

    /// *Solicitar acceso*: a clinician asks a patient for access by CURP. The CURP is resolved on
    /// the server; a known and an unknown CURP answer the same page; only a known one creates the
    /// consent-request Task (as `POST /fhir/Task` would, through the clinician's guard); a bad CURP
    /// is a form error; a wrong CSRF token changes nothing.
    @Test func clinicianRequestsAccessByCURP() async throws {
        try await Self.withDemoPortal { services, browser in
            let lucia = try #require(try await services.store.read { try $0.current("Patient", "demo-p002") }).json()
            let luciaCURP = try #require(lucia["identifier"]?.arrayValue?.first?["value"]?.stringValue)
            let unknownCURP = CURP.make(given: "Zacarías", paternal: "Quiñones", maternal: "Xochitl", birth: (1961, 11, 3), female: false, state: "YN", homonym: 7)
            #expect(CURP.normalized(unknownCURP) == unknownCURP)
            #expect(CURP.normalized(" " + luciaCURP.lowercased() + " ") == luciaCURP, "typed in lower case with spaces is fine")
            func requests() async throws -> [JSON] { try await Self.privacyTasks(services, patient: "demo-p002", code: PrivacyCodes.consentRequest) }
            let morales = try await browser.signIn("dra.morales")

            // Refused on Lucía's page, with the way to ask; the patients list links to the form too.
            let (s0, refusal) = try await browser.get("/pacientes/demo-p002", cookie: morales)
            #expect(s0 == .forbidden && refusal.contains("Acceso no permitido") && !refusal.contains("Lucía"))
            #expect(refusal.contains("href=\"/solicitar-acceso\"") && refusal.contains("action=\"/pacientes/demo-p002/emergencia\""))
            #expect(try await browser.get("/pacientes", cookie: morales).1.contains("href=\"/solicitar-acceso\""))
            let (s1, form) = try await browser.get("/solicitar-acceso", cookie: morales)
            #expect(s1 == .ok && form.contains("CURP del paciente") && form.contains("Atención médica") && form.contains("Salud mental")
                    && form.contains("30 días") && form.contains("<textarea"))
            let (_, english) = try await browser.get("/solicitar-acceso", cookie: morales + "; lang=en")
            #expect(english.contains("Patient&#39;s CURP") || english.contains("Patient's CURP"))
            #expect(english.contains("Mental health") && english.contains("Send request"))
            let token = try PortalBrowser.csrf(form)
            let before = try await requests().count

            // A wrong CSRF token changes nothing.
            let forged = try await browser.post("/solicitar-acceso", cookie: morales, "csrf=forged&curp=\(luciaCURP)&proposito=TREAT&dias=30&motivo=Valoraci%C3%B3n")
            #expect(forged.0 == .forbidden)
            #expect(try await requests().count == before)

            // A malformed CURP (or one with a wrong check digit) is a clear form error; nothing is written.
            let bad = try await browser.post("/solicitar-acceso", cookie: morales, "csrf=\(token)&curp=ABC123&proposito=TREAT&dias=30&motivo=Valoraci%C3%B3n")
            #expect(bad.0 == .unprocessableContent && bad.2.contains("Esa CURP no es válida") && bad.2.contains("aria-invalid=\"true\""))
            #expect(bad.2.contains("value=\"ABC123\""), "what was typed is kept")
            let wrongDigit = String(luciaCURP.dropLast()) + (luciaCURP.hasSuffix("0") ? "1" : "0")
            let bad2 = try await browser.post("/solicitar-acceso", cookie: morales, "csrf=\(token)&curp=\(wrongDigit)&proposito=TREAT&dias=30&motivo=Valoraci%C3%B3n")
            #expect(bad2.0 == .unprocessableContent && bad2.2.contains("Esa CURP no es válida"))
            let noReason = try await browser.post("/solicitar-acceso", cookie: morales, "csrf=\(token)&curp=\(luciaCURP)&proposito=TREAT&dias=30&motivo=")
            #expect(noReason.0 == .unprocessableContent && noReason.2.contains("Escriba el motivo"))
            #expect(try await requests().count == before)

            // A known CURP: exactly one consent-request Task for Lucía, as the API writes it.
            let reason = "Valoraci%C3%B3n+de+su+embarazo%2C+enviada+por+su+ginec%C3%B3loga"
            let known = try await browser.post("/solicitar-acceso", cookie: morales,
                                       "csrf=\(token)&curp=\(luciaCURP.lowercased())&proposito=TREAT&categoria-SEX=1&dias=90&motivo=\(reason)")
            #expect(known.0 == .seeOther && known.1 == "/solicitar-acceso?enviada=1")
            let after = try await requests()
            #expect(after.count == before + 1)
            let task = try #require(after.first { $0["requester"]?["reference"]?.stringValue == "Practitioner/dra-morales" })
            #expect(task["status"]?.stringValue == "requested" && task["intent"]?.stringValue == "proposal")
            #expect(task["for"]?["reference"]?.stringValue == "Patient/demo-p002")
            #expect(task["reasonCode"]?["text"]?.stringValue == "Valoración de su embarazo, enviada por su ginecóloga")
            let asked = try PrivacyOperations.Request(task: task)
            #expect(asked.purposes == ["TREAT"] && asked.categories == ["SEX"] && asked.durationSeconds == 90 * 86_400)
            let (_, knownPage) = try await browser.get(try #require(known.1), cookie: morales)
            #expect(knownPage.contains("Si la CURP corresponde a un paciente registrado, recibirá su solicitud"))
            // asking again while the first waits adds nothing, and answers the same
            let again = try await browser.post("/solicitar-acceso", cookie: morales,
                                       "csrf=\(token)&curp=\(luciaCURP)&proposito=TREAT&dias=30&motivo=\(reason)")
            #expect(again.0 == known.0 && again.1 == known.1)
            #expect(try await requests().count == before + 1)

            // An unknown (but well-formed) CURP: the same answer, and nothing is written anywhere.
            let tasksBefore = try await services.store.read { tx in
                try tx.search(SearchParser().parse(types: ["Task"], parameters: [("_count", "500")]).0).matches.count
            }
            let unknown = try await browser.post("/solicitar-acceso", cookie: morales, "csrf=\(token)&curp=\(unknownCURP)&proposito=TREAT&dias=30&motivo=\(reason)")
            #expect(unknown.0 == known.0 && unknown.1 == known.1 && unknown.2 == known.2)
            let (_, unknownPage) = try await browser.get(try #require(unknown.1), cookie: morales)
            #expect(unknownPage == knownPage, "a known and an unknown CURP answer exactly the same page")
            let tasksAfter = try await services.store.read { tx in
                try tx.search(SearchParser().parse(types: ["Task"], parameters: [("_count", "500")]).0).matches.count
            }
            #expect(tasksAfter == tasksBefore)

            // Lucía sees the request on Mis permisos; once she approves it, the clinician opens her record.
            let luciaSession = try await browser.signIn("lucia")
            let (_, permisos) = try await browser.get("/permisos", cookie: luciaSession)
            let taskID = try #require(task["id"]?.stringValue)
            #expect(permisos.contains("id=\"request-\(taskID)\"") && permisos.contains("Dra. Elena Morales Rivas")
                    && permisos.contains("Salud sexual y reproductiva") && permisos.contains("90 días") && permisos.contains("enviada por su ginecóloga"))
            let approved = try await browser.post("/permisos/solicitudes/aprobar", cookie: luciaSession, "csrf=\(try PortalBrowser.csrf(permisos))&solicitud=\(taskID)")
            #expect(approved.1 == "/permisos?aprobada=1")
            let (s2, record) = try await browser.get("/pacientes/demo-p002", cookie: morales)
            #expect(s2 == .ok && record.contains("Lucía Fernanda Ramírez Soto"))
            // The request is in Lucía's access log, with who asked and the CURP lookup named.
            let (_, log) = try await browser.get("/accesos", cookie: luciaSession)
            #expect(log.contains("Dra. Elena Morales Rivas") && log.contains("Solicitud de acceso por CURP"))
        }
    }

    /// *Acceso de emergencia*: from the refusal page, a reason (≥ 10 characters) and a
    /// confirmation; then `PrivacyOperations.breakTheGlass` writes the btg-review Task and the
    /// patient's Communication, the clinician opens the record, and the patient sees the notice.
    @Test func clinicianBreaksTheGlassFromThePortal() async throws {
        try await Self.withDemoPortal { services, browser in
            func reviews() async throws -> [JSON] { try await Self.privacyTasks(services, patient: "demo-p002", code: PrivacyCodes.breakTheGlassReview) }
            let morales = try await browser.signIn("dra.morales")
            let (s0, refusal) = try await browser.get("/pacientes/demo-p002", cookie: morales)
            #expect(s0 == .forbidden && refusal.contains("Acceso de emergencia (romper el cristal)"))
            #expect(refusal.contains("4 horas") && refusal.contains("oficina de privacidad") && refusal.contains("recibe un aviso"))
            let token = try PortalBrowser.csrf(refusal)
            #expect(try await reviews().isEmpty)

            // No reason, or a short one: nothing changes, and the page says why.
            let none = try await browser.post("/pacientes/demo-p002/emergencia", cookie: morales, "csrf=\(token)&motivo=")
            #expect(none.0 == .unprocessableContent && none.2.contains("al menos 10 caracteres") && none.2.contains("No se abrió el expediente"))
            let short = try await browser.post("/pacientes/demo-p002/emergencia", cookie: morales, "csrf=\(token)&motivo=urgente&confirmar=1")
            #expect(short.0 == .unprocessableContent && short.2.contains("al menos 10 caracteres"))
            #expect(try await reviews().isEmpty)
            #expect(try await browser.get("/pacientes/demo-p002", cookie: morales).0 == .forbidden)

            // A reason first asks for confirmation; a wrong CSRF token changes nothing.
            let reason = "Paciente+inconsciente+en+urgencias%2C+sangrado+activo"
            let confirm = try await browser.post("/pacientes/demo-p002/emergencia", cookie: morales, "csrf=\(token)&motivo=\(reason)")
            #expect(confirm.0 == .ok && confirm.2.contains("Confirme el acceso de emergencia") && confirm.2.contains("name=\"confirmar\" value=\"1\""))
            #expect(confirm.2.contains("Paciente inconsciente en urgencias, sangrado activo"))
            let forged = try await browser.post("/pacientes/demo-p002/emergencia", cookie: morales, "csrf=forged&motivo=\(reason)&confirmar=1")
            #expect(forged.0 == .forbidden)
            #expect(try await reviews().isEmpty)
            #expect(try await browser.get("/pacientes/demo-p002", cookie: morales).0 == .forbidden)

            // Confirmed: the btg-review Task, the Communication, and the record opens.
            let done = try await browser.post("/pacientes/demo-p002/emergencia", cookie: morales, "csrf=\(token)&motivo=\(reason)&confirmar=1")
            #expect(done.0 == .seeOther && done.1 == "/pacientes/demo-p002?emergencia=1")
            let tasks = try await reviews()
            #expect(tasks.count == 1)
            let task = try #require(tasks.first)
            #expect(task["requester"]?["reference"]?.stringValue == "Practitioner/dra-morales" && task["status"]?.stringValue == "requested")
            #expect(task["reasonCode"]?["text"]?.stringValue == "Paciente inconsciente en urgencias, sangrado activo")
            let (s1, record) = try await browser.get(try #require(done.1), cookie: morales)
            #expect(s1 == .ok && record.contains("Lucía Fernanda Ramírez Soto") && record.contains("Acceso de emergencia activo hasta"))

            // Lucía sees the notification at the top of ¿Quién vio mis datos?, with who, when and why.
            let lucia = try await browser.signIn("lucia")
            let (s2, log) = try await browser.get("/accesos", cookie: lucia)
            #expect(s2 == .ok && log.contains("class=\"card btg-notices\"") && log.contains("Accesos de emergencia a su expediente"))
            #expect(log.contains("Dra. Elena Morales Rivas") && log.contains("Paciente inconsciente en urgencias, sangrado activo"))
            #expect(log.contains("pendiente de revisión por la oficina de privacidad") && log.contains("href=\"#entrada-"))
            let notices = try #require(log.range(of: "btg-notices")), lead = try #require(log.range(of: "Cada vez que alguien consulta"))
            #expect(notices.lowerBound < lead.lowerBound, "the notice comes first")
            let (_, english) = try await browser.get("/accesos", cookie: lucia + "; lang=en")
            #expect(english.contains("Emergency access to your record") && english.contains("waiting for review by the privacy office"))
        }
    }
}

/// A portal user over the in-process router, as a browser would be: the sign-in form with its
/// CSRF cookie, the session cookie, GETs and form POSTs.
struct PortalBrowser {
    let client: any TestClientProtocol
    let passwords: [String: String]

    func get(_ path: String, cookie: String) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: path, method: .get, headers: [.cookie: cookie]) { ($0.status, String(buffer: $0.body)) }
    }

    /// The status, the `Location` of a redirect, and the body.
    func post(_ path: String, cookie: String, _ form: String) async throws -> (HTTPResponse.Status, String?, String) {
        var h: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        h[.cookie] = cookie
        return try await client.execute(uri: path, method: .post, headers: h, body: ByteBuffer(string: form)) {
            ($0.status, $0.headers[.location], String(buffer: $0.body))
        }
    }

    /// Signs in and returns the session cookie (`enlace_portal=…`).
    func signIn(_ user: String) async throws -> String {
        let r0 = try await client.execute(uri: "/entrar", method: .get) { $0 }
        let csrfCookie = try #require(r0.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal_csrf=") })
        let value = String(csrfCookie.dropFirst("enlace_portal_csrf=".count).prefix { $0 != ";" })
        var h: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        h[.cookie] = "enlace_portal_csrf=\(value)"
        let r = try await client.execute(uri: "/entrar", method: .post, headers: h,
                                         body: ByteBuffer(string: "csrf=\(value)&next=%2F&username=\(user)&password=\(passwords[user] ?? "")")) { $0 }
        let session = try #require(r.headers[values: .setCookie].first { $0.hasPrefix("enlace_portal=") })
        return String(session.prefix { $0 != ";" })
    }

    /// The CSRF token of the first form on a page.
    static func csrf(_ page: String) throws -> String {
        let marker = "name=\"csrf\" value=\""
        let start = try #require(page.range(of: marker)).upperBound
        return String(page[start...].prefix { $0 != "\"" })
    }
}
