import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Care
import Trust

/// The wiring of the Care module (referrals (ServiceRequest + Task), appointments, e-prescription and dispense, the duplicate-study check, the CDS Hooks service): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    /// E-prescription (docs/prescribing.md): `MedicationRequest/$prescribe` (prescriber),
    /// `MedicationRequest/$find-by-code` (GET `?code=` or POST Parameters) and
    /// `MedicationRequest/$dispense` (pharmacy, by code only).
    func registerCare(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.post("{type}/$prescribe") { req, ctx in try await prescribe(req, ctx) }
        fhir.get("{type}/$find-by-code") { req, ctx in try await findPrescription(req, ctx, code: req.uri.queryParameters["code"].map(String.init)) }
        fhir.post("{type}/$find-by-code") { req, ctx in
            _ = try requireType(ctx, "MedicationRequest", operation: "$find-by-code")
            let parameters = try await body(req)
            return try await findPrescription(req, ctx, code: FHIRAPI.parameter(parameters, "code")?["valueString"]?.stringValue)
        }
        fhir.post("{type}/$dispense") { req, ctx in try await dispense(req, ctx) }
        fhir.post("{type}/$register-signing-key") { req, ctx in try await registerSigningKey(req, ctx) }
        fhir.post("{type}/$revoke-signing-key") { req, ctx in try await revokeSigningKey(req, ctx) }
        registerScheduling(on: fhir)
    }

    /// The parameter named `name` of a Parameters resource.
    static func parameter(_ parameters: JSON, _ name: String) -> JSON? {
        (parameters["parameter"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }
    }

    /// `$prescribe` with a MedicationRequest (unsigned, when no signature is required) or with
    /// Parameters: `mode=prepare` and `resource` → the prepared prescription, its canonical
    /// `payload` to sign and a sealed `preparation`; `preparation` and `signature` (a
    /// `valueSignature` whose `data` is the JWS, or the compact JWS as `valueString`) → checked
    /// and stored with its signature Provenance (docs/prescribing.md, "The prescriber's signature").
    func prescribe(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "MedicationRequest", operation: "$prescribe")
        let sent = try await body(request)
        let repository = try await guarded(ctx)
        let now = clock.now()
        guard sent["resourceType"]?.stringValue == "Parameters" else {
            let stored = try await Prescribing().prescribe(sent, repository: repository, now: now, requireSignature: configuration.requirePrescriberSignature)
            return FHIRResponse.written(stored, status: .created, request: request, base: base, location: true)
        }
        guard repository.principal.effectiveRole == .practitioner, let me = repository.principal.fhirUser, me.hasPrefix("Practitioner/") else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner signs prescriptions", spanish: "solo un profesional de la salud firma recetas")
        }
        let seal = PrescriptionSignature.seal(key)
        let mode = FHIRAPI.parameter(sent, "mode").flatMap { $0["valueCode"]?.stringValue ?? $0["valueString"]?.stringValue }
        if mode == "prepare" {
            guard let resource = FHIRAPI.parameter(sent, "resource")?["resource"] else {
                throw FHIRError(status: 400, code: "required", english: "mode=prepare takes the MedicationRequest as the parameter 'resource'",
                                spanish: "mode=prepare recibe el MedicationRequest en el parámetro 'resource'", expression: ["Parameters.parameter[resource]"])
            }
            let p = PrescriptionSignature.preparation(try Prescribing().prepare(resource, now: now), who: me, seal: seal, now: now)
            let out = JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([
                .object([("name", .string("resource")), ("resource", p.resource)]),
                .object([("name", .string("payload")), ("valueBase64Binary", .string(Data(p.payload).base64EncodedString()))]),
                .object([("name", .string("canonicalization")), ("valueUri", .string(PrescriptionSignature.method.rawValue))]),
                .object([("name", .string("preparation")), ("valueString", .string(p.sealed))]),
                .object([("name", .string("expires")), ("valueInstant", .string(p.expires.description))]),
            ]))])
            return FHIRResponse.json(.ok, out)
        }
        guard let preparation = FHIRAPI.parameter(sent, "preparation")?["valueString"]?.stringValue else {
            throw FHIRError(status: 400, code: "required", english: "$prescribe with Parameters takes mode=prepare, or 'preparation' and 'signature'",
                            spanish: "$prescribe con Parameters recibe mode=prepare, o 'preparation' y 'signature'", expression: ["Parameters.parameter[preparation]"])
        }
        let sig = FHIRAPI.parameter(sent, "signature")
        guard let jws = sig?["valueSignature"].flatMap(PrescriptionSignature.jws(of:)) ?? sig?["valueString"]?.stringValue else {
            throw FHIRError(status: 422, code: "required", english: "the parameter 'signature' (valueSignature with sigFormat application/jose and the JWS as data, or the compact JWS as valueString) is required",
                            spanish: "el parámetro 'signature' (valueSignature con sigFormat application/jose y el JWS en data, o el JWS compacto en valueString) es obligatorio",
                            expression: ["Parameters.parameter[signature]"])
        }
        let prepared = try PrescriptionSignature.open(preparation, who: me, seal: seal, now: now)
        let stored = try await Prescribing().prescribeSigned(prepared, jws: jws, repository: repository, base: base, now: now)
        return FHIRResponse.written(stored, status: .created, request: request, base: base, location: true)
    }

    /// `Practitioner/$register-signing-key` (Parameters `key`: the public JWK as valueString):
    /// registers a key for the signed-in practitioner (`Door.registerSigningKey`); Parameters `kid`.
    func registerSigningKey(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Practitioner", operation: "$register-signing-key")
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        let sent = try await body(request)
        guard let text = FHIRAPI.parameter(sent, "key")?["valueString"]?.stringValue, let jwk = try? JSONParser.parse(text, maxDepth: 5) else {
            throw FHIRError(status: 400, code: "required", english: "the parameter 'key' (the public JWK as JSON text in valueString) is required",
                            spanish: "el parámetro 'key' (el JWK público como texto JSON en valueString) es obligatorio", expression: ["Parameters.parameter[key]"])
        }
        let (kid, practitioner) = try await door.registerSigningKey(principal, jwk: jwk, audit: ctx.audit)
        return FHIRResponse.json(.ok, .object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("kid")), ("valueString", .string(kid))]),
            .object([("name", .string("practitioner")), ("valueReference", .object([("reference", .string("Practitioner/\(practitioner.id)"))]))]),
        ]))]))
    }

    /// `Practitioner/$revoke-signing-key` (Parameters `kid` and `reason`, valueString): revokes one
    /// of the signed-in practitioner's keys from now on (`Door.revokeSigningKey`); answers
    /// Parameters `kid`, `revoked` (valueInstant), `reason`.
    func revokeSigningKey(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "Practitioner", operation: "$revoke-signing-key")
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        let sent = try await body(request)
        func text(_ name: String) -> String? {
            let p = FHIRAPI.parameter(sent, name)
            return p?["valueString"]?.stringValue ?? p?["valueId"]?.stringValue ?? p?["valueCode"]?.stringValue
        }
        guard let kid = text("kid"), !kid.isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "the parameter 'kid' (the key's id, as $register-signing-key answered it) is required",
                            spanish: "el parámetro 'kid' (el id de la llave, como lo respondió $register-signing-key) es obligatorio", expression: ["Parameters.parameter[kid]"])
        }
        let r = try await door.revokeSigningKey(principal, kid: kid, reason: text("reason") ?? "", audit: ctx.audit)
        return FHIRResponse.json(.ok, .object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("kid")), ("valueString", .string(kid))]),
            .object([("name", .string("revoked")), ("valueInstant", .string(r.revoked.description))]),
            .object([("name", .string("reason")), ("valueString", .string(r.reason))]),
        ]))]))
    }

    func findPrescription(_ request: Request, _ ctx: EnlaceRequestContext, code: String?) async throws -> Response {
        _ = try requireType(ctx, "MedicationRequest", operation: "$find-by-code")
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        guard let code, !code.isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "the parameter 'code' (the prescription code) is required",
                            spanish: "el parámetro 'code' (el código de la receta) es obligatorio")
        }
        let found = try await Dispensing().find(code: code, door: door, principal: principal, audit: ctx.audit, now: clock.now())
        return FHIRResponse.json(.ok, found)
    }

    func dispense(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "MedicationRequest", operation: "$dispense")
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        let parameters = try await body(request)
        guard parameters["resourceType"]?.stringValue == "Parameters", let code = FHIRAPI.parameter(parameters, "code")?["valueString"]?.stringValue else {
            throw FHIRError(status: 400, code: "required", english: "$dispense takes Parameters with 'code' (valueString) and 'quantity' (valueQuantity or valueDecimal)",
                            spanish: "$dispense recibe Parameters con 'code' (valueString) y 'quantity' (valueQuantity o valueDecimal)")
        }
        let q = FHIRAPI.parameter(parameters, "quantity")
        guard let amount = Prescribing.number(q?["valueQuantity"]?["value"] ?? q?["valueDecimal"] ?? q?["valueInteger"]) else {
            throw FHIRError(status: 400, code: "required", english: "the parameter 'quantity' (a number) is required",
                            spanish: "el parámetro 'quantity' (un número) es obligatorio", expression: ["Parameters.parameter[quantity]"])
        }
        let (stored, state) = try await Dispensing().dispense(code: code, amount: amount, door: door, principal: principal, audit: ctx.audit, now: clock.now())
        let out = JSON.object([("resourceType", .string("Parameters")), ("parameter", .array([
            .object([("name", .string("dispense")), ("resource", try stored.json())]),
            .object([("name", .string("remaining")), ("valueQuantity", .object([("value", .number("\(state.remaining)"))] + (state.unit.map { [("unit", JSON.string($0))] } ?? [])))]),
        ]))])
        var headers = HTTPFields()
        headers[.location] = "\(base)/MedicationDispense/\(stored.id)/_history/\(stored.version)"
        return FHIRResponse.json(.created, out, headers: headers)
    }
}

extension Portal {
    func registerCarePages(on router: Router<EnlaceRequestContext>) {
        // the CDS Hooks service lives at the server's root (`/cds-services`), beside the portal,
        // and authenticates with the bearer-token middleware like the FHIR API (docs/care.md)
        CDSHooksRoutes(door: services.door, configuration: services.configuration, authority: services.authority).register(on: router)
        router.get("mis-recetas") { req, ctx in try await page(req, ctx) { try await prescriptionsPage($0, $1, $2) } }
        router.get("mis-referencias") { req, ctx in try await page(req, ctx) { try await referralsPage($0, $1, $2) } }
        router.post("mis-referencias/cancelar") { req, ctx in try await page(req, ctx) { try await cancelReferral($0, $1, $2) } }
        router.get("referencias-recibidas") { req, ctx in try await page(req, ctx) { try await inboxPage($0, $1, $2) } }
        router.post("referencias-recibidas/mover") { req, ctx in try await page(req, ctx) { try await moveReferral($0, $1, $2) } }
        router.get("farmacia") { req, ctx in try await page(req, ctx) { try await counterPage($0, $1, $2) } }
        router.post("farmacia") { req, ctx in try await page(req, ctx) { try await counterAction($0, $1, $2, dispense: false) } }
        router.post("farmacia/surtir") { req, ctx in try await page(req, ctx) { try await counterAction($0, $1, $2, dispense: true) } }
        router.get("mis-citas") { req, ctx in try await page(req, ctx) { try await appointmentsPage($0, $1, $2) } }
        router.post("mis-citas/reservar") { req, ctx in try await page(req, ctx) { try await bookSlot($0, $1, $2) } }
        router.post("mis-citas/cancelar") { req, ctx in try await page(req, ctx) { try await cancelAppointment($0, $1, $2) } }
        router.get("agenda") { req, ctx in
            try await page(req, ctx) { s, r, c in
                let started = (OAuthEndpoints.parseForm(r.uri.query ?? "") ?? [:])["iniciada"] == "1"
                return try await agendaPage(s, r, c, notice: started ? s.strings.visitStarted : nil)
            }
        }
        router.post("agenda/iniciar") { req, ctx in try await page(req, ctx) { try await startVisit($0, $1, $2) } }
        // the clinician's Recetar and Referir (docs/prescribing.md#recetar, docs/care.md#portal)
        router.get("pacientes/{id}/recetar") { req, ctx in
            try await page(req, ctx) { s, r, c in try await prescribePage(s, r, c, patientID: try c.parameters.require("id")) }
        }
        router.post("pacientes/{id}/recetar") { req, ctx in
            try await page(req, ctx) { s, r, c in try await prescribe(s, r, c, patientID: try c.parameters.require("id")) }
        }
        // the prescriber's signature made in the browser (docs/prescribing.md, "The prescriber's signature")
        router.get("static/recetar.js") { _, _ in Portal.asset(Portal.prescribeScript, type: "text/javascript; charset=utf-8") }
        router.get("static/firma.js") { _, _ in Portal.asset(Portal.prescribeScript, type: "text/javascript; charset=utf-8") }
        router.post("firma/llave") { req, ctx in try await page(req, ctx) { try await registerBrowserKey($0, $1, $2) } }
        router.get("firma/llaves") { req, ctx in try await page(req, ctx) { try await signingKeysPage($0, $1, $2) } }
        router.post("firma/llaves/revocar") { req, ctx in try await page(req, ctx) { try await revokeBrowserKey($0, $1, $2) } }
        router.get("pacientes/{id}/referir") { req, ctx in
            try await page(req, ctx) { s, r, c in try await referPage(s, r, c, patientID: try c.parameters.require("id")) }
        }
        router.post("pacientes/{id}/referir") { req, ctx in
            try await page(req, ctx) { s, r, c in try await refer(s, r, c, patientID: try c.parameters.require("id")) }
        }
        // the consultation (docs/care.md#the-consultation)
        router.get("static/consulta.js") { _, _ in Portal.asset(Portal.consultationScript, type: "text/javascript; charset=utf-8") }
        router.get("consulta/cie10") { req, ctx in try await page(req, ctx) { s, r, _ in try cie10Suggestions(s, r) } }
        router.get("pacientes/{id}/consulta") { req, ctx in
            try await page(req, ctx) { s, r, c in try await consultationPage(s, r, c, patientID: try c.parameters.require("id")) }
        }
        router.post("pacientes/{id}/consulta") { req, ctx in
            try await page(req, ctx) { s, r, c in try await recordConsultation(s, r, c, patientID: try c.parameters.require("id")) }
        }
        router.get("pacientes/{id}/consulta/{nota}/corregir") { req, ctx in
            try await page(req, ctx) { s, r, c in
                try await correctionPage(s, r, c, patientID: try c.parameters.require("id"), compositionID: try c.parameters.require("nota"))
            }
        }
        router.post("pacientes/{id}/consulta/{nota}/corregir") { req, ctx in
            try await page(req, ctx) { s, r, c in
                try await correctNote(s, r, c, patientID: try c.parameters.require("id"), compositionID: try c.parameters.require("nota"))
            }
        }
    }
    func careNavigation(_ s: Session) -> [(String, String)] {
        if s.isPatient { return [("/mis-recetas", s.strings.navPrescriptions), ("/mis-referencias", s.strings.navReferrals), ("/mis-citas", s.strings.navAppointments)] }
        if s.principal.effectiveRole == .pharmacy { return [("/farmacia", s.strings.navCounter)] }
        if s.principal.effectiveRole == .practitioner { return [("/referencias-recibidas", s.strings.navInbox), ("/agenda", s.strings.navAgenda)] }
        return []
    }
    static var carePrefixes: [String] { ["/mis-recetas", "/mis-referencias", "/farmacia", "/referencias-recibidas", "/mis-citas", "/agenda", "/consulta", "/firma"] }
}

extension EnlaceServices {
    /// The referral Task state machine, enforced on every Task write that carries the referral code; the
    /// appointment rules; and a consultation note changed only as a correction with its reason (`NoteRevisionRule`).
    static func careWriteRules() -> [any WriteRule] { [ReferralWorkflow(), AppointmentRules(), NoteRevisionRule(), SignedVisitOnce()] }
    func careConsumers() -> [any EventConsumer] { [] }
    func careServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var care: CapabilityContribution {
        CapabilityContribution(operations: CapabilityContribution.scheduling.merging(["MedicationRequest": [
            ("prescribe", "https://enlace.mx/fhir/OperationDefinition/MedicationRequest-prescribe"),
            ("find-by-code", "https://enlace.mx/fhir/OperationDefinition/MedicationRequest-find-by-code"),
            ("dispense", "https://enlace.mx/fhir/OperationDefinition/MedicationRequest-dispense"),
        ], "Practitioner": [("register-signing-key", "https://enlace.mx/fhir/OperationDefinition/Practitioner-register-signing-key"),
                            ("revoke-signing-key", "https://enlace.mx/fhir/OperationDefinition/Practitioner-revoke-signing-key")]]) { a, _ in a })
    }
}

/// `GET /cds-services` (discovery), `POST /cds-services/{id}` (a hook call) and
/// `POST /cds-services/{id}/feedback` (CDS Hooks 2.0, https://cds-hooks.hl7.org/2.0/). A call
/// is answered with cards computed through the guarded repository of the user's principal —
/// the bearer token's, or, when an EHR calls as a CDS client with its own signed JWT, the one of
/// the Enlace token in `fhirAuthorization` (`CDSClientAuthentication`); feedback is written as
/// Provenance through the same door.
struct CDSHooksRoutes: Sendable {
    let door: Door
    let configuration: ServerConfiguration
    let service: CDSHooksService
    let clients: CDSClientAuthentication

    init(door: Door, configuration: ServerConfiguration, authority: TokenAuthority) {
        self.door = door
        self.configuration = configuration
        // the cards issued are kept through the door, so feedback survives a restart and reaches any node
        service = CDSHooksService(accessRequestURL: configuration.oauthBase + "/solicitar-acceso",
                                  issued: IssuedCards(durable: door.state(of: IssuedCards.consumerName)))
        clients = CDSClientAuthentication(door: door, authority: authority, configuration: configuration)
    }

    func register(on router: Router<EnlaceRequestContext>) {
        router.get("cds-services") { _, _ in FHIRResponse.json(.ok, CDSCatalogue.discovery) }
        router.post("cds-services/{id}") { req, ctx in try await call(req, ctx) }
        router.post("cds-services/{id}/feedback") { req, ctx in try await feedback(req, ctx) }
    }

    func known(_ ctx: EnlaceRequestContext) throws -> CDSCatalogue.Service {
        let id = try ctx.parameters.require("id")
        guard let s = CDSCatalogue.service(id) else {
            throw FHIRError(status: 404, code: "not-found", english: "no CDS service '\(id)'; GET /cds-services lists them",
                            spanish: "no hay servicio CDS '\(id)'; GET /cds-services los lista")
        }
        return s
    }

    /// The signed CDS client JWT of this call, or a 401 (a call without any bearer token was
    /// already refused by the authentication middleware).
    func clientJWT(_ ctx: EnlaceRequestContext) throws -> String {
        guard let jwt = ctx.cdsClientJWT else {
            throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
        }
        return jwt
    }

    func open(_ principal: Principal, _ ctx: EnlaceRequestContext) async throws -> GuardedRepository {
        ctx.audit?.principal = principal
        return try await door.open(principal, audit: ctx.audit)
    }

    func body(_ request: Request) async throws -> JSON {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: min(configuration.maxBodyBytes, 4 * 1024 * 1024))
        } catch {
            throw FHIRError(status: 413, code: "too-costly", english: "the CDS Hooks request is larger than 4 MiB",
                            spanish: "la solicitud CDS Hooks supera 4 MiB")
        }
        do {
            return try JSONParser.parse(buffer.readableBytesView, maxDepth: configuration.maxJSONDepth)
        } catch {
            throw FHIRError(status: 400, code: "structure", english: "the body is not valid JSON: \(error.description)",
                            spanish: "el cuerpo no es JSON válido: \(error.message) (línea \(error.line), columna \(error.column))")
        }
    }

    func call(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        let s = try known(ctx)
        let json = try await body(request)
        var client: OAuthClient?
        let principal: Principal
        if let p = ctx.principal {
            principal = p
        } else {
            let signed = try await clients.client(try clientJWT(ctx), audiences: clients.audiences(service: s.id, feedback: false))
            principal = try await clients.user(json, client: signed)
            client = signed
        }
        let parsed = try CDSRequest(json: json, service: s)
        ctx.audit?.concerns(parsed.patientID)
        let repository = try await open(principal, ctx)
        let language = Language(acceptLanguage: request.headers[.acceptLanguage])
        let cards = try await service.evaluate(s, parsed, repository: repository, now: door.clock.now(), language: language, client: client?.clientID)
        return FHIRResponse.json(.ok, CDSHooksService.response(cards))
    }

    func feedback(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        let s = try known(ctx)
        let json = try await body(request)
        let principal: Principal
        if let p = ctx.principal {
            principal = p
        } else {
            // signed by a CDS client: the decision of the user the card was computed for
            let signed = try await clients.client(try clientJWT(ctx), audiences: clients.audiences(service: s.id, feedback: true))
            let first = try CDSFeedback(json: json).items[0].card
            guard let card = await service.issued.card(first, service: s.id, client: signed.clientID, now: door.clock.now()), let p = card.principal else {
                throw FHIRError(status: 404, code: "not-found",
                                english: "feedback[0]: no card \(first) was issued by \(s.id) to a call of the client \(signed.clientID) (cards are kept \(service.issued.lifetime / 86_400_000_000) days)",
                                spanish: "feedback[0]: \(s.id) no emitió la tarjeta \(first) en una llamada del cliente \(signed.clientID) (las tarjetas se guardan \(service.issued.lifetime / 86_400_000_000) días)",
                                expression: ["feedback[0].card"])
            }
            principal = p
        }
        let parsed = try CDSFeedback(json: json)
        let repository = try await open(principal, ctx)
        let refs = try await parsed.record(service: s.id, issued: service.issued, repository: repository, now: door.clock.now())
        return FHIRResponse.json(.ok, OperationOutcome.information("feedback stored as \(refs.joined(separator: ", "))",
                                                            "retroalimentación guardada como \(refs.joined(separator: ", "))"))
    }
}
