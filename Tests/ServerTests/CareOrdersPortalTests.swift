import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
@testable import Server
@_spi(Unguarded) import Storage
import Trust

/// The clinician's *Recetar* and *Referir* pages through the real app (docs/prescribing.md#recetar,
/// docs/care.md#portal), on both backends; a consultation note that cannot be PUT without a
/// reason (`NoteRevisionRule`); and `order-sign` over HTTP with an over-dose draft.
@Suite struct CareOrdersPortalTests {
    static func form(_ fields: [(String, String)]) -> String { CareConsultationTests.form(fields) }

    static let seed: [(String, String)] = [
        ("Patient/ana", #"{"resourceType":"Patient","id":"ana","name":[{"family":"López","given":["Ana"]}]}"#),
        ("Practitioner/dra", #"{"resourceType":"Practitioner","id":"dra","name":[{"family":"Hernández","given":["Rosa"]}]}"#),
        ("Organization/umf", #"{"resourceType":"Organization","id":"umf","active":true,"name":"UMF 20"}"#),
        ("Organization/hsf", #"{"resourceType":"Organization","id":"hsf","active":true,"name":"Hospital Santa Fe"}"#),
        ("Encounter/e-ana", #"{"resourceType":"Encounter","id":"e-ana","status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},"subject":{"reference":"Patient/ana"},"participant":[{"individual":{"reference":"Practitioner/dra"}}]}"#),
        ("MedicationRequest/warfarina", #"{"resourceType":"MedicationRequest","id":"warfarina","status":"active","intent":"order","medicationCodeableConcept":{"text":"Warfarina 5 mg tabletas"},"subject":{"reference":"Patient/ana"}}"#),
        ("Observation/hba1c", #"{"resourceType":"Observation","id":"hba1c","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"HbA1c"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-20","valueQuantity":{"value":8.1,"unit":"%"}}"#),
        ("Observation/glucosa", #"{"resourceType":"Observation","id":"glucosa","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2345-7","display":"Glucosa"}]},"subject":{"reference":"Patient/ana"},"effectiveDateTime":"2026-11-21","valueQuantity":{"value":182,"unit":"mg/dL"}}"#),
    ]

    static func users(_ server: TestServer) async throws {
        let identity = server.services.identity
        _ = try await identity.addUser(username: "dra", role: .practitioner, password: "contraseña-larga-1", fhirUser: "Practitioner/dra", organization: "Organization/umf")
        _ = try await identity.addUser(username: "drb", role: .practitioner, password: "contraseña-larga-2", fhirUser: "Practitioner/drb", organization: "Organization/hsf")
        _ = try await identity.addUser(username: "drz", role: .practitioner, password: "contraseña-larga-3", fhirUser: "Practitioner/drz", organization: "Organization/otra")
    }

    static let passwords = ["dra": "contraseña-larga-1", "drb": "contraseña-larga-2", "drz": "contraseña-larga-3"]

    static func entries(_ c: Client, _ query: String) async throws -> [JSON] {
        let r = try await c.send(.get, "/fhir/" + query)
        #expect(r.status == 200, "\(r.text)")
        return (r.json["entry"]?.arrayValue ?? []).compactMap { $0["resource"] }.filter { $0["resourceType"]?.stringValue != "OperationOutcome" }
    }

    /// The advice key of the card whose fieldset offers `reason`.
    static func key(_ page: String, offering reason: String) throws -> String {
        let marker = "\" value=\"\(reason)\""
        let end = try #require(page.range(of: marker)).lowerBound
        let start = try #require(page[..<end].range(of: "name=\"decision-", options: .backwards)).upperBound
        return String(page[start..<end])
    }

    static let overdose: [(String, String)] = [
        ("medicamento", "metformin"), ("presentacion", "850 mg tabletas"), ("dosis", "1000"), ("frecuencia", "QID"), ("cantidad", "120"),
        ("unidad", "tabletas"), ("resurtidos", "1"), ("dias", "30"), ("indicaciones", "Con alimentos"),
    ]

    @Test(arguments: ServerBackend.allCases)
    func aClinicianPrescribesWithTheOrderSignCardsInline(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        defer { cleanup() }
        try await Self.users(server)
        try await server.run { c in
            for (path, json) in Self.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let browser = PortalBrowser(client: c.client, passwords: Self.passwords)
            let dra = try await browser.signIn("dra")
            let (s0, record) = try await browser.get("/pacientes/ana", cookie: dra)
            #expect(s0 == .ok && record.contains("href=\"/pacientes/ana/recetar\"") && record.contains("href=\"/pacientes/ana/referir\""))
            let (s1, page) = try await browser.get("/pacientes/ana/recetar", cookie: dra)
            #expect(s1 == .ok && page.contains("id=\"recetar\"") && page.contains("<option value=\"metformin\">Metformina</option>"), "\(page)")
            let csrf = try PortalBrowser.csrf(page)
            let before = try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count

            // bad input: the form again, each error beside its field, nothing stored
            let (s2, _, refused) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form([
                ("csrf", csrf), ("paso", "firmar"), ("medicamento", "metformin"), ("dosis", "mucho"), ("frecuencia", "Q2H"), ("cantidad", "0"), ("resurtidos", "20"),
            ]))
            #expect(s2 == .unprocessableContent, "\(refused)")
            #expect(refused.contains("No se guardó nada") && refused.contains("la dosis &#39;mucho&#39; no es un número de miligramos") || refused.contains("la dosis 'mucho' no es un número de miligramos"), "\(refused)")
            #expect(refused.contains("no es una frecuencia de la lista") && refused.contains("la cantidad a surtir debe ser un número entero de 1 a 10000"))
            #expect(refused.contains("los resurtidos deben ser un número entero de 0 a 12"))
            #expect(refused.contains("id=\"dosis\" name=\"dosis\" maxlength=\"12\" autocomplete=\"off\" required value=\"mucho\" aria-describedby"))
            #expect(try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count == before)

            // review: the dose card inline, with its override reasons; nothing stored
            let (s3, _, review) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form([("csrf", csrf), ("paso", "revisar")] + Self.overdose))
            #expect(s3 == .ok, "\(review)")
            #expect(review.contains("Dosis diaria mayor a la máxima: Metformina 850 mg tabletas, 4,000 mg/día (máximo 2,550 mg/día)"), "\(review)")
            #expect(review.contains("value=\"intended-dose\"") && review.contains("id=\"desistir\""))
            let key = try Self.key(review, offering: "intended-dose")
            #expect(try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count == before)

            // signing over a warning without a reason is refused, nothing stored
            let (s4, _, undecided) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form([("csrf", csrf), ("paso", "firmar")] + Self.overdose))
            #expect(s4 == .unprocessableContent && undecided.contains("No se firmó nada") && undecided.contains("href=\"#alerta-\(key)\""), "\(undecided)")
            #expect(try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count == before)

            // signed with the reason: the prescription and the override, one transaction
            let (s5, location, _) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form(
                [("csrf", csrf), ("paso", "firmar")] + Self.overdose + [("decision-\(key)", "intended-dose"), ("comentario-\(key)", "Indicado por endocrinología")]))
            #expect(s5 == .seeOther && location?.hasPrefix("/pacientes/ana/recetar?emitida=") == true, "\(String(describing: location))")
            let id = String((location ?? "").split(separator: "=").last ?? "")
            let rx = try #require(try await Self.entries(c, "MedicationRequest?_id=\(id)").first)
            #expect(rx["status"]?.stringValue == "active" && rx["requester"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(rx["medicationCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "6809")
            #expect(rx["dosageInstruction"]?.arrayValue?.first?["timing"]?["code"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "QID")
            #expect(rx["dispenseRequest"]?["numberOfRepeatsAllowed"] == .number("1"))
            let code = try #require((rx["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == "https://enlace.mx/fhir/sid/receta" }?["value"]?.stringValue)
            let feedback = try await Self.entries(c, "Provenance?target=MedicationRequest/\(id)").filter { $0["policy"] != nil }
            let override = try #require(feedback.first { $0["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "overridden" }, "\(feedback)")
            #expect(override["reason"]?.arrayValue?.first?["coding"]?.arrayValue?.first?["code"]?.stringValue == "intended-dose")
            #expect(override["reason"]?.arrayValue?.first?["text"]?.stringValue == "Indicado por endocrinología")
            #expect(override["agent"]?.arrayValue?.first?["who"]?["reference"]?.stringValue == "Practitioner/dra")
            #expect(override["entity"]?.arrayValue?.first?["what"]?["display"]?.stringValue?.contains("Dosis diaria mayor") == true)
            let (s6, issued) = try await browser.get(location ?? "", cookie: dra)
            #expect(s6 == .ok && issued.contains("id=\"receta-emitida\"") && issued.contains(code))
            #expect(issued.contains("<svg class=\"qr\"") && issued.contains("aria-label=\"Código QR de la receta \(code)\""))

            // an interaction with the active warfarin: the clinician follows the advice; no prescription, the decision recorded
            let ibuprofen = [("medicamento", "ibuprofen"), ("dosis", "400"), ("frecuencia", "TID"), ("cantidad", "30"), ("unidad", "tabletas")]
            let (s7, _, interaction) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form([("csrf", csrf), ("paso", "revisar")] + ibuprofen))
            #expect(s7 == .ok && interaction.contains("Riesgo de sangrado"), "\(interaction)")
            let count = try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count
            let (s8, declined, _) = try await browser.post("/pacientes/ana/recetar", cookie: dra, Self.form([("csrf", csrf), ("paso", "desistir")] + ibuprofen))
            #expect(s8 == .seeOther && declined == "/pacientes/ana/recetar?desistida=1")
            #expect(try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count == count)
            let accepted = try await Self.entries(c, "Provenance?patient=Patient/ana&_count=200").filter {
                $0["activity"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "accepted"
            }
            #expect(accepted.contains { $0["entity"]?.arrayValue?.first?["what"]?["display"]?.stringValue?.contains("ibuprofeno") == true
                || $0["entity"]?.arrayValue?.first?["what"]?["display"]?.stringValue?.contains("Ibuprofen") == true }, "\(accepted)")

            // a clinician who does not treat Ana is refused by the guard
            let drz = try await browser.signIn("drz")
            let (s9, _) = try await browser.get("/pacientes/ana/recetar", cookie: drz)
            #expect(s9 == .forbidden)
            let (s10, _, _) = try await browser.post("/pacientes/ana/recetar", cookie: drz, Self.form([("csrf", csrf), ("paso", "firmar")] + ibuprofen))
            #expect(s10 == .forbidden)
            #expect(try await Self.entries(c, "MedicationRequest?patient=Patient/ana").count == count)
        }
    }

    @Test(arguments: ServerBackend.allCases)
    func aClinicianRefersAPatientAndTheReceiverSeesItArrive(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { config in
            config.passwordIterations = 1000
            config.requireTOTPForStaff = false
        }
        defer { cleanup() }
        try await Self.users(server)
        let a = server.services.authority, now = server.clock.now()
        let drbToken = try a.issueClaims(subject: "user:drb", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/drb",
                                         organization: "Organization/hsf").token
        try await server.run { c in
            for (path, json) in Self.seed { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201, "\(path)") }
            let browser = PortalBrowser(client: c.client, passwords: Self.passwords)
            let dra = try await browser.signIn("dra")
            let (s1, page) = try await browser.get("/pacientes/ana/referir", cookie: dra)
            #expect(s1 == .ok && page.contains("<option value=\"Organization/hsf\">Hospital Santa Fe</option>"), "\(page)")
            #expect(!page.contains("value=\"Organization/umf\""), "not to one's own institution")
            #expect(page.contains("value=\"Observation/hba1c\"") && page.contains("value=\"Observation/glucosa\""))
            let csrf = try PortalBrowser.csrf(page)

            // refused: no destination, no reason, a document that is not Ana's; nothing stored
            let (s2, _, refused) = try await browser.post("/pacientes/ana/referir", cookie: dra, Self.form([
                ("csrf", csrf), ("destino", ""), ("servicio", "Endocrinología"), ("motivo", " "), ("vigencia", "90"), ("documento", "Observation/hba1c"),
            ]))
            #expect(s2 == .unprocessableContent, "\(refused)")
            #expect(refused.contains("elija a dónde referir al paciente") && refused.contains("el motivo de la referencia es obligatorio"), "\(refused)")
            let (s3, _, refused2) = try await browser.post("/pacientes/ana/referir", cookie: dra, Self.form([
                ("csrf", csrf), ("destino", "Organization/hsf"), ("servicio", "Endocrinología"), ("motivo", "DM2 descontrolada"), ("vigencia", "45"),
                ("documento", "Observation/nada"),
            ]))
            #expect(s3 == .unprocessableContent && refused2.contains("la vigencia del acceso debe ser de 30, 90, 180 días"), "\(refused2)")
            let (s3b, _, refused3) = try await browser.post("/pacientes/ana/referir", cookie: dra, Self.form([
                ("csrf", csrf), ("destino", "Organization/hsf"), ("servicio", "Endocrinología"), ("motivo", "DM2 descontrolada"), ("vigencia", "90"),
                ("documento", "Observation/nada"),
            ]))
            #expect(s3b == .unprocessableContent && refused3.contains("Observation/nada no es un documento de este paciente que usted pueda ver"), "\(refused3)")
            #expect(try await Self.entries(c, "Task?patient=Patient/ana").isEmpty)
            #expect(try await Self.entries(c, "ServiceRequest?patient=Patient/ana").isEmpty)

            // sent: the ServiceRequest and its Task, with the document
            let (s4, location, _) = try await browser.post("/pacientes/ana/referir", cookie: dra, Self.form([
                ("csrf", csrf), ("destino", "Organization/hsf"), ("servicio", "Valoración por endocrinología"), ("motivo", "DM2 con HbA1c de 8.1 %"),
                ("prioridad", "urgent"), ("vigencia", "90"), ("documento", "Observation/hba1c"),
            ]))
            #expect(s4 == .seeOther && location?.hasPrefix("/pacientes/ana/referir?enviada=") == true, "\(String(describing: location))")
            let task = try #require(try await Self.entries(c, "Task?patient=Patient/ana").first)
            #expect(task["status"]?.stringValue == "requested" && task["owner"]?["reference"]?.stringValue == "Organization/hsf")
            #expect(task["requester"]?["reference"]?.stringValue == "Practitioner/dra" && task["priority"]?.stringValue == "urgent")
            #expect(task["input"]?.arrayValue?.first?["valueReference"]?["reference"]?.stringValue == "Observation/hba1c")
            #expect(task["restriction"]?["period"]?["end"]?.stringValue?.count == 10)
            let sr = try #require(try await Self.entries(c, "ServiceRequest?patient=Patient/ana").first)
            #expect(task["focus"]?["reference"]?.stringValue == "ServiceRequest/\(sr["id"]?.stringValue ?? "")")
            #expect(sr["supportingInfo"]?.arrayValue?.first?["reference"]?.stringValue == "Observation/hba1c")
            #expect(sr["reasonCode"]?.arrayValue?.first?["text"]?.stringValue == "DM2 con HbA1c de 8.1 %")
            let (s5, sent) = try await browser.get(location ?? "", cookie: dra)
            #expect(s5 == .ok && sent.contains("id=\"referencia-enviada\"") && sent.contains("Hospital Santa Fe") && sent.contains("Enviada, en espera"), "\(sent)")

            // the receiver sees it arrive, with the attached result and nothing else of the record
            let drb = try await browser.signIn("drb")
            let (s6, inbox) = try await browser.get("/referencias-recibidas", cookie: drb)
            #expect(s6 == .ok && inbox.contains("López") && inbox.contains("DM2 con HbA1c de 8.1 %") && inbox.contains("id=\"recibida-\(task["id"]?.stringValue ?? "")\""), "\(inbox)")
            let attached = try await c.send(.get, "/fhir/Observation/hba1c", headers: ["Authorization": "Bearer \(drbToken)"], auth: false)
            #expect(attached.status == 200)
            let other = try await c.send(.get, "/fhir/Observation/glucosa", headers: ["Authorization": "Bearer \(drbToken)"], auth: false)
            #expect(other.status == 404 || other.status == 403)

            // a clinician who does not treat Ana cannot refer her
            let drz = try await browser.signIn("drz")
            let (s7, _) = try await browser.get("/pacientes/ana/referir", cookie: drz)
            #expect(s7 == .forbidden)
        }
    }

    static let note = #"{"resourceType":"Composition","id":"nota","status":"final","type":{"coding":[{"system":"http://loinc.org","code":"34108-1","display":"Outpatient Note"}]},"subject":{"reference":"Patient/ana"},"date":"2026-11-30T10:00:00Z","author":[{"reference":"Practitioner/dra"}],"title":"Nota de consulta","section":[{"title":"Nota","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">TEXT</div>"}}]}"#

    static func provenance(reason: String?, revises: String?) -> String {
        var members = [#""resourceType":"Provenance""#, #""agent":[{"who":{"reference":"Practitioner/dra"}}]"#]
        if let reason { members.append(#""reason":[{"text":"\#(reason)"}]"#) }
        if let revises { members.append(#""entity":[{"role":"revision","what":{"reference":"\#(revises)"}}]"#) }
        return "{" + members.joined(separator: ",") + "}"
    }

    @Test(arguments: ServerBackend.allCases)
    func aConsultationNoteIsNotPutWithoutAReasonAndANewVersion(_ backend: ServerBackend) async throws {
        let (server, cleanup) = try await backend.make { _ in }
        defer { cleanup() }
        try await server.run { c in
            for (path, json) in Self.seed.prefix(2) { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201) }
            let v1 = Self.note.replacingOccurrences(of: "TEXT", with: "Primera versión")
            #expect(try await c.send(.put, "/fhir/Composition/nota", json: v1).status == 201)
            let v2 = Self.note.replacingOccurrences(of: "TEXT", with: "Corregida").replacingOccurrences(of: "\"final\"", with: "\"amended\"")

            // no reason: 422, bilingual, nothing written
            let bare = try await c.send(.put, "/fhir/Composition/nota", json: v2)
            #expect(bare.status == 422, "\(bare.text)")
            #expect(bare.text.contains("una nota de consulta solo se cambia como corrección con su motivo") && bare.text.contains("is changed only as a correction with its reason"))
            // a reason but not which version it revises: 422
            let unnamed = try await c.send(.put, "/fhir/Composition/nota", json: v2, headers: ["X-Provenance": Self.provenance(reason: "Error de dedo", revises: nil)])
            #expect(unnamed.status == 422 && unnamed.text.contains("Composition/nota/_history/1"), "\(unnamed.text)")
            // an empty reason is no reason
            let empty = try await c.send(.put, "/fhir/Composition/nota", json: v2,
                                         headers: ["X-Provenance": Self.provenance(reason: " ", revises: "Composition/nota/_history/1")])
            #expect(empty.status == 422)
            #expect(try await c.send(.get, "/fhir/Composition/nota").json["meta"]?["versionId"]?.stringValue == "1")

            // with the reason and the version it revises: a new version, its Provenance carries the reason
            let ok = try await c.send(.put, "/fhir/Composition/nota", json: v2,
                                      headers: ["X-Provenance": Self.provenance(reason: "Error de dedo en la dosis", revises: "Composition/nota/_history/1")])
            #expect(ok.status == 200 && ok.json["meta"]?["versionId"]?.stringValue == "2", "\(ok.text)")
            let prov = try await Self.entries(c, "Provenance?target=Composition/nota")
            #expect(prov.contains { p in
                p["reason"]?.arrayValue?.first?["text"]?.stringValue == "Error de dedo en la dosis"
                    && p["target"]?.arrayValue?.first?["reference"]?.stringValue == "Composition/nota/_history/2"
            })
            // revising a version that is no longer the current one: 409
            let v3 = Self.note.replacingOccurrences(of: "TEXT", with: "Otra")
            let stale = try await c.send(.put, "/fhir/Composition/nota", json: v3,
                                         headers: ["X-Provenance": Self.provenance(reason: "Otro cambio", revises: "Composition/nota/_history/1")])
            #expect(stale.status == 409 && stale.text.contains("la nota cambió desde que se leyó"), "\(stale.text)")
            // in a transaction, the Provenance may come as an entry of its own
            let bundle = #"{"resourceType":"Bundle","type":"transaction","entry":[{"resource":\#(v3),"request":{"method":"PUT","url":"Composition/nota"}},{"resource":{"resourceType":"Provenance","target":[{"reference":"Composition/nota/_history/3"}],"recorded":"2026-12-01T10:00:00Z","reason":[{"text":"Ampliación"}],"agent":[{"who":{"reference":"Practitioner/dra"}}],"entity":[{"role":"revision","what":{"reference":"Composition/nota/_history/2"}}]},"request":{"method":"POST","url":"Provenance"}}]}"#
            let tx = try await c.send(.post, "/fhir", json: bundle)
            #expect(tx.status == 200, "\(tx.text)")
            #expect(try await c.send(.get, "/fhir/Composition/nota").json["meta"]?["versionId"]?.stringValue == "3")
            // a Composition that is not a consultation note is not this rule's business
            let other = Self.note.replacingOccurrences(of: "34108-1", with: "60591-5").replacingOccurrences(of: "\"nota\"", with: "\"resumen\"")
            #expect(try await c.send(.put, "/fhir/Composition/resumen", json: other).status == 201)
            #expect(try await c.send(.put, "/fhir/Composition/resumen", json: other.replacingOccurrences(of: "TEXT", with: "Otro")).status == 200)
        }
    }

    @Test func orderSignOverHTTPWarnsOfAnOverdoseInBothLanguages() async throws {
        let server = try TestServer()
        let a = server.services.authority, now = server.clock.now()
        let dra = try a.issueClaims(subject: "user:dra", scope: "user/*.cruds", ttl: 3600, now: now, role: .practitioner, fhirUser: "Practitioner/dra",
                                    organization: "Organization/umf").token
        try await server.run { c in
            for (path, json) in Self.seed.prefix(5) { #expect(try await c.send(.put, "/fhir/" + path, json: json).status == 201) }
            func call(_ draft: String, language: String) async throws -> Client.Reply {
                let body = #"{"hook":"order-sign","hookInstance":"d1f4c7e2-0000-4000-8000-000000000001","context":{"patientId":"ana","userId":"Practitioner/dra","draftOrders":{"resourceType":"Bundle","type":"collection","entry":[{"resource":\#(draft)}]}}}"#
                return try await c.send(.post, "/cds-services/enlace-order-sign", body: Array(body.utf8),
                                        headers: ["Authorization": "Bearer \(dra)", "Content-Type": "application/json", "Accept-Language": language], auth: false)
            }
            let over = #"{"resourceType":"MedicationRequest","id":"borrador","status":"draft","intent":"order","medicationCodeableConcept":{"text":"Losartán 50 mg tabletas"},"subject":{"reference":"Patient/ana"},"dosageInstruction":[{"timing":{"repeat":{"frequency":3,"period":1,"periodUnit":"d"}},"doseAndRate":[{"doseQuantity":{"value":2,"unit":"tabletas"}}]}]}"#
            let es = try await call(over.replacingOccurrences(of: "Losartán", with: "Losartan"), language: "es-MX")
            #expect(es.status == 200, "\(es.text)")
            let card = try #require(es.json["cards"]?.arrayValue?.first { $0["source"]?["topic"]?["code"]?.stringValue == "dose-range" }, "\(es.text)")
            #expect(card["indicator"]?.stringValue == "warning")
            #expect(card["summary"]?.stringValue == "Dosis diaria mayor a la máxima: Losartan 50 mg tabletas, 300 mg/día (máximo 100 mg/día)")
            #expect(card["overrideReasons"]?.arrayValue?.map { $0["code"]?.stringValue ?? "" } == ["intended-dose", "specialist-indication"])
            #expect(card["detail"]?.stringValue?.contains("Cozaar") == true)
            let en = try await call(over.replacingOccurrences(of: "Losartán", with: "Losartan"), language: "en")
            #expect(en.json["cards"]?.arrayValue?.contains { $0["summary"]?.stringValue == "Daily dose above the maximum: Losartan 50 mg tablets, 300 mg/day (maximum 100 mg/day)" || $0["summary"]?.stringValue == "Daily dose above the maximum: Losartan 50 mg tabletas, 300 mg/day (maximum 100 mg/day)" } == true, "\(en.text)")
            // the same medicine within its range: no dose card
            let fine = try await call(over.replacingOccurrences(of: "Losartán", with: "Losartan").replacingOccurrences(of: "\"frequency\":3", with: "\"frequency\":1"), language: "es")
            #expect(fine.status == 200 && fine.json["cards"]?.arrayValue?.contains { $0["source"]?["topic"]?["code"]?.stringValue == "dose-range" } == false, "\(fine.text)")
        }
    }
}
