import FHIR
import Financing
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import NIOCore
import Storage
import Trust

/// The FHIR RESTful API at `/fhir` (https://hl7.org/fhir/R4/http.html). One file per
/// interaction (`Interactions/Read.swift`, …); every data access goes through the guarded
/// repository the door opens for the request's principal.
struct FHIRAPI: Sendable {
    let configuration: ServerConfiguration
    let door: Door
    let capabilityStatement: [UInt8]
    /// `GET /fhir/openapi.json`, generated from the CapabilityStatement (OpenAPI.swift).
    let openAPI: [UInt8]
    let searchParser: SearchParser
    /// The server's signing key (seals the prescriptions prepared for signing, docs/prescribing.md).
    let key: SigningKey
    /// The financing operations, with the application's gate (`EnlaceServices.financing`).
    let financing: FinancingService

    var clock: any Clock { door.clock }

    init(configuration: ServerConfiguration, door: Door, key: SigningKey, financing: FinancingService) {
        self.configuration = configuration
        self.financing = financing
        self.door = door
        self.key = key
        var options = SearchParser.Options()
        options.defaultCount = configuration.defaultPageSize
        options.maxCount = configuration.maxPageSize
        searchParser = SearchParser(options: options)
        let capability = CapabilityStatementBuilder(base: configuration.fhirBase, oauthBase: configuration.oauthBase, contributions: CapabilityContribution.all).build()
        capabilityStatement = capability.serialized()
        openAPI = OpenAPIBuilder(capability: capability, base: configuration.fhirBase, oauthBase: configuration.oauthBase).build().serialized()
    }

    var base: String { configuration.fhirBase }

    /// The guarded repository of the request's principal (authentication has run before).
    func guarded(_ context: EnlaceRequestContext) async throws -> GuardedRepository {
        guard let principal = context.principal else {
            throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
        }
        return try await door.open(principal, audit: context.audit, provenance: try provenanceHeader(context))
    }

    /// The R4 `X-Provenance` header (https://hl7.org/fhir/R4/provenance.html#header): a Provenance
    /// in JSON describing who is accountable for a write (people and algorithms as Devices).
    func provenanceHeader(_ context: EnlaceRequestContext) throws -> JSON? {
        guard let raw = context.provenanceHeader else { return nil }
        guard let json = try? JSONParser.parse(raw, maxDepth: 20), json["resourceType"]?.stringValue == "Provenance" else {
            throw FHIRError.badRequest("X-Provenance must hold a Provenance resource in JSON", "X-Provenance debe contener un recurso Provenance en JSON")
        }
        var probe = json.setting("target", .array([.object([("reference", .string("Patient/x"))])]))
        probe = probe.setting("recorded", .string("2026-01-01T00:00:00Z"))
        let issues = Validator().validate(probe).filter { $0.severity == .error }
        if !issues.isEmpty { throw FHIRError(status: 422, issues: issues.map { var i = $0; i.english = "X-Provenance: " + i.english; i.spanish = "X-Provenance: " + i.spanish; return i }) }
        return json
    }

    func register(on router: Router<EnlaceRequestContext>) {
        let fhir = router.group("fhir")
        fhir.get("metadata") { _, _ in FHIRResponse.bytes(.ok, capabilityStatement) }
        fhir.get("openapi.json") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: openAPI))) }
        registerDomains(on: fhir)
        fhir.get("_history") { req, ctx in try await historySystem(req, ctx) }
        fhir.get("") { req, ctx in try await searchSystem(req, ctx) }
        fhir.post("") { req, ctx in try await bundle(req, ctx) }
        fhir.put("{type}") { req, ctx in try await conditionalUpdate(req, ctx) }
        fhir.delete("{type}") { req, ctx in try await conditionalDelete(req, ctx) }
        fhir.post("_search") { req, ctx in try await searchSystem(req, ctx) }
        fhir.post("{type}/_search") { req, ctx in try await searchType(req, ctx) }
        fhir.get("{type}/{id}/{ctype}") { req, ctx in try await searchCompartment(req, ctx) }
        fhir.post("{type}/{id}/{ctype}") { req, ctx in try await privacyOperation(req, ctx) }
        fhir.get("{type}/{id}/$everything") { req, ctx in try await everything(req, ctx) }
        fhir.get("{type}/{id}/$decisions") { req, ctx in try await decisions(req, ctx) }
        fhir.get("{type}/$lastn") { req, ctx in try await lastN(req, ctx) }
        fhir.post("{type}/$validate") { req, ctx in try await validate(req, ctx, id: nil) }
        fhir.get("{type}/_history") { req, ctx in try await historyType(req, ctx) }
        fhir.post("{type}") { req, ctx in try await create(req, ctx) }
        fhir.get("{type}/{id}") { req, ctx in try await read(req, ctx) }
        fhir.put("{type}/{id}") { req, ctx in try await update(req, ctx) }
        fhir.delete("{type}/{id}") { req, ctx in try await delete(req, ctx) }
        fhir.post("{type}/{id}/$validate") { req, ctx in try await validate(req, ctx, id: ctx.parameters.require("id")) }
        fhir.get("{type}/{id}/_history") { req, ctx in try await historyInstance(req, ctx) }
        fhir.get("{type}/{id}/_history/{vid}") { req, ctx in try await vread(req, ctx) }
        // Known paths with methods they do not serve answer 405 with Allow.
        let notAllowed: [(String, [HTTPRequest.Method], String)] = [
            ("metadata", [.post, .put, .delete, .patch], "GET"),
            ("{type}", [.patch], "GET, POST, PUT (conditional), DELETE (conditional)"),
            ("{type}/{id}", [.post, .patch], "GET, PUT, DELETE"),
            ("{type}/_history", [.post, .put, .delete, .patch], "GET"),
            ("{type}/{id}/_history", [.post, .put, .delete, .patch], "GET"),
            ("{type}/{id}/_history/{vid}", [.post, .put, .delete, .patch], "GET"),
        ]
        for (path, methods, allow) in notAllowed {
            for m in methods {
                fhir.on(RouterPath(path), method: m) { _, _ -> Response in
                    throw FHIRError(status: 405, issues: [Issue(code: "not-supported",
                        english: "\(m.rawValue) is not allowed on this path; allowed: \(allow)",
                        spanish: "\(m.rawValue) no se permite en esta ruta; se permite: \(allow)")], headers: ["Allow": allow])
                }
            }
        }
        fhir.get("{type}") { req, ctx in try await searchType(req, ctx) }
    }

    // MARK: - shared request helpers

    /// The request body, repaired by lenient mode when the request asks for it with
    /// `X-Enlace-Lenient: drop-empty` (`LenientRepair`: empty arrays and objects dropped, nothing
    /// else), and a warning for each repair. Any other value of the header is a 400.
    func repairedBody(_ request: Request) async throws -> (JSON, [Issue]) {
        let json = try await body(request)
        guard let asked = request.headers[.enlaceLenient] else { return (json, []) }
        guard asked.trimmingCharacters(in: .whitespaces).lowercased() == LenientRepair.headerValue else {
            throw FHIRError(status: 400, code: "not-supported",
                            english: "X-Enlace-Lenient: '\(asked)' is not a known repair; the only one is '\(LenientRepair.headerValue)' (drop empty arrays and objects)",
                            spanish: "X-Enlace-Lenient: '\(asked)' no es una reparación conocida; la única es '\(LenientRepair.headerValue)' (quitar arreglos y objetos vacíos)")
        }
        return LenientRepair.dropEmpty(json)
    }

    /// Runs `work`; an error it throws also carries the lenient-mode `repairs` made to the body.
    func reporting<T>(_ repairs: [Issue], _ work: () async throws -> T) async throws -> T {
        do { return try await work() } catch var e as FHIRError where !repairs.isEmpty {
            e.issues += repairs
            throw e
        }
    }

    /// Reads and parses the request body as a FHIR JSON resource: 415 for other media types
    /// (XML is not served), 413 above the size limit, 400 for broken JSON or an empty body.
    func body(_ request: Request) async throws -> JSON {
        guard let json = try await optionalBody(request) else {
            throw FHIRError.badRequest("the request body is empty; a FHIR resource in JSON is expected",
                                       "el cuerpo de la solicitud está vacío; se espera un recurso FHIR en JSON", code: "structure")
        }
        return json
    }

    /// The body as `body(_:)` reads it, or nil when there is none (an operation whose
    /// parameters may all come in the query). A body that is there is checked the same way:
    /// 415, 413, or 400 for broken JSON, never ignored.
    func optionalBody(_ request: Request) async throws -> JSON? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw tooLarge()
        } catch is NIOTooManyBytesError {
            throw tooLarge()
        }
        let bytes = buffer.readableBytesView
        if bytes.isEmpty { return nil }
        if let ct = request.headers[.contentType]?.lowercased() { try ContentNegotiation.checkBodyMediaType(ct) }
        do {
            return try JSONParser.parse(bytes, maxDepth: configuration.maxJSONDepth)
        } catch {
            throw FHIRError(status: 400, code: "structure",
                            english: "the body is not valid JSON: \(error.description)",
                            spanish: "el cuerpo no es JSON válido: \(error.message) (línea \(error.line), columna \(error.column))")
        }
    }

    /// An operation's parameters (https://hl7.org/fhir/R4/operations.html#request): the query's
    /// as strings, then those of a POSTed `Parameters` body, each with its `value[x]` as JSON
    /// (a `resource` parameter as the resource). A body that is not a `Parameters` resource, or
    /// a parameter without a name, is a 400 naming it; a broken body is the 400 of `body(_:)`.
    func operationParameters(_ request: Request, operation: String) async throws -> [(name: String, value: JSON)] {
        var out = try FHIRAPI.parseQuery(request.uri.query ?? "").map { (name: $0.0, value: JSON.string($0.1)) }
        guard request.method == .post, let payload = try await optionalBody(request) else { return out }
        guard payload["resourceType"]?.stringValue == "Parameters" else {
            let given = payload["resourceType"]?.stringValue ?? "JSON without resourceType"
            throw FHIRError.badRequest("the body of \(operation) is a Parameters resource, not \(given)",
                                       "el cuerpo de \(operation) es un recurso Parameters, no \(given)", code: "invalid")
        }
        for (i, p) in (payload["parameter"]?.arrayValue ?? []).enumerated() {
            let at = "Parameters.parameter[\(i)]"
            guard let name = p["name"]?.stringValue, !name.isEmpty, case .object(let members) = p else {
                throw FHIRError(status: 400, code: "required", english: "\(at): a parameter needs a name", spanish: "\(at): un parámetro necesita un nombre",
                                expression: [at])
            }
            if let value = members.first(where: { $0.0.hasPrefix("value") })?.1 ?? p["resource"] { out.append((name: name, value: value)) }
        }
        return out
    }

    func tooLarge() -> FHIRError {
        FHIRError(status: 413, code: "too-costly",
                  english: "the request body is larger than the limit of \(configuration.maxBodyBytes) bytes",
                  spanish: "el cuerpo de la solicitud supera el límite de \(configuration.maxBodyBytes) bytes")
    }

    /// `If-Match: W/"3"` → 3. A malformed value is a 400.
    func ifMatch(_ request: Request) throws -> Int? {
        guard let raw = request.headers[.ifMatch] else { return nil }
        return try Preconditions.version(ifMatch: raw)
    }
}
