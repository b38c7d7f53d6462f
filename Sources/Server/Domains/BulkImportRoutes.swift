import AsyncHTTPClient
import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Interop
import NIOCore
import Trust

/// The HTTP side of Bulk Data `$import` (docs/interop.md#bulk-import): the kick-off, the status
/// endpoint (poll, cancel) and the error files; the job itself is `BulkImport` (Interop).
extension FHIRAPI {
    func registerBulkImport(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.post("$import") { req, ctx in try await importKickOff(req, ctx) }
        fhir.get("$import-status/{job}") { req, ctx in try await importStatus(req, ctx) }
        fhir.delete("$import-status/{job}") { req, ctx in try await importCancel(req, ctx) }
        fhir.get("$import-file/{job}/{file}") { req, ctx in try await importFile(req, ctx) }
    }

    var importRoot: String { configuration.dataDirectory + "/bulk-import" }

    /// `POST [base]/$import` with a `Parameters` body and `Prefer: respond-async`: checks the
    /// body (`BulkImport.parse`), the caller (one whose guard may create under client ids — an
    /// operator or a backend service, an organization admin for the shared types it may write —
    /// with scopes granting `c` and `u` on every input type: resources are stored under their ids), the
    /// sources (every input URL on the operator's allow list, `--import-allow`; none allowed by
    /// default: 403 explaining how), one running import per caller (429 with `Retry-After`);
    /// then answers 202 with `Content-Location` and runs the job in the background.
    func importKickOff(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        context.audit?.interaction = "$import"
        guard (request.headers[.prefer] ?? "").lowercased().contains("respond-async") else {
            throw FHIRError.badRequest("a Bulk Data import needs the header 'Prefer: respond-async'",
                                       "una importación Bulk Data necesita el encabezado 'Prefer: respond-async'", code: "required")
        }
        let parsed = try BulkImport.parse(try await body(request))
        let guarded = try await guarded(context)
        guard guarded.decision.updateAsCreate else {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "$import stores resources under their own ids: only an operator or a backend service (SMART Backend Services, system/ scopes) — or an organization admin, for shared resources — may import",
                            spanish: "$import guarda los recursos con sus propios id: solo un operador o un servicio (SMART Backend Services, scopes system/) — o un administrador de la organización, para recursos compartidos — puede importar")
        }
        // the scopes the guard will ask for: system/ for operators and services, user/ for people
        let context: ScopeSet.Context = [.platformOperator, .service].contains(principal.effectiveRole) ? .system : .user
        for type in Set(parsed.inputs.map(\.type)).sorted() {
            if let writable = guarded.decision.writableTypes, !writable.contains(type) {
                throw FHIRError(status: 403, code: "forbidden", english: "the role \(principal.effectiveRole.rawValue) may not write \(type), so it may not import it",
                                spanish: "el rol \(principal.effectiveRole.rawValue) no puede escribir \(type), así que no puede importarlo")
            }
            guard principal.scopes.allows(.create, on: type, context: context), principal.scopes.allows(.update, on: type, context: context) else {
                let scope = context.rawValue
                throw FHIRError(status: 403, code: "forbidden",
                                english: "importing \(type) needs the scopes \(scope)/\(type).cu (or \(scope)/*.cu): the token's scopes do not grant them",
                                spanish: "importar \(type) requiere los scopes \(scope)/\(type).cu (o \(scope)/*.cu): los del token no los conceden")
            }
        }
        let allow = try BulkImport.AllowList(configuration.bulkImportAllow)
        guard !allow.isEmpty else {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "$import may fetch from no source on this server: its operator allows one with `enlace serve --import-allow HOST:PORT` (or a URL prefix; env ENLACE_IMPORT_ALLOW)",
                            spanish: "$import no puede descargar de ninguna fuente en este servidor: su operador permite una con `enlace serve --import-allow HOST:PUERTO` (o un prefijo de URL; variable ENLACE_IMPORT_ALLOW)")
        }
        for (i, input) in parsed.inputs.enumerated() where !allow.allows(input.url) {
            throw FHIRError(status: 403, issues: [Issue(.error, code: "forbidden",
                                                        english: "input \(i + 1): \(input.url) is not an allowed import source (allowed: \(allow.entries.joined(separator: ", "))); the operator adds one with --import-allow",
                                                        spanish: "input \(i + 1): \(input.url) no es una fuente de importación permitida (permitidas: \(allow.entries.joined(separator: ", "))); el operador agrega una con --import-allow")])
        }
        let now = clock.now()
        BulkExport.sweepExpired(root: importRoot, now: now, retention: exportRetention)
        if BulkImport.running(root: importRoot, subject: principal.subject) {
            throw FHIRError(status: 429, issues: [Issue(code: "throttled", english: "an import of yours is still running; wait for it to finish (or cancel it) before starting another",
                                                        spanish: "una importación suya sigue en curso; espere a que termine (o cancélela) antes de iniciar otra")],
                            headers: ["Retry-After": "5"])
        }
        let job = try BulkImport.prepare(root: importRoot, subject: principal.subject, request: parsed, requestURL: base + "/$import", now: now)
        let door = self.door, base = self.base
        let limits = BulkImport.Limits(maxFileBytes: configuration.bulkImportMaxFileBytes, fileTimeoutSeconds: configuration.bulkImportFileTimeoutSeconds)
        Task.detached {
            let fetcher = HTTPImportFetcher()
            await BulkImport.run(job, door: door, principal: principal, fetcher: fetcher, allow: allow, limits: limits, base: base)
            await fetcher.shutdown()
        }
        var headers = HTTPFields()
        headers[.contentLocation] = "\(base)/$import-status/\(job.id)"
        return FHIRResponse.json(.accepted, OperationOutcome.information("import started; poll the Content-Location", "importación iniciada; consulte Content-Location"),
                                 headers: headers)
    }

    /// `GET $import-status/{job}`: 202 with `X-Progress` and `Retry-After` while running (429 when
    /// polled sooner), 200 with the manifest and `Expires` when complete, 500 with an
    /// OperationOutcome when the job failed, 404 after it was cancelled or expired.
    func importStatus(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job")
        context.audit?.interaction = "$import"
        switch BulkImport.status(root: importRoot, id: job, subject: principal.subject, now: clock.now(), retention: exportRetention) {
        case .notFound:
            throw FHIRError(status: 404, code: "not-found", english: "no import job \(job) (or it was cancelled)", spanish: "no existe la importación \(job) (o se canceló)")
        case .expired:
            throw FHIRError(status: 404, code: "not-found", english: "the import \(job) finished long ago and its status was deleted",
                            spanish: "la importación \(job) terminó hace tiempo y su estado se borró")
        case .tooSoon(let wait):
            throw FHIRAPI.polledTooSoon(wait)
        case .inProgress(let done, let of):
            let (stored, failed) = BulkImport.progress(root: importRoot, id: job)
            return FHIRAPI.bulkInProgress("\(done)/\(of) archivos, \(stored) guardados, \(failed) errores / files, stored, errors")
        case .complete(let manifest, let expires):
            return FHIRAPI.bulkComplete(manifest, expires: expires)
        case .failed(let outcome):
            return FHIRResponse.json(.internalServerError, outcome)
        }
    }

    /// `DELETE $import-status/{job}`: cancels the job (it stops before its next line; what it
    /// stored stays stored) and deletes its status and error files (202).
    func importCancel(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job")
        context.audit?.interaction = "$import"
        guard BulkExport.cancel(root: importRoot, id: job, subject: principal.subject) else {
            throw FHIRError(status: 404, code: "not-found", english: "no import job \(job)", spanish: "no existe la importación \(job)")
        }
        return FHIRResponse.json(.accepted, OperationOutcome.information("import cancelled; what it stored before stays stored",
                                                                         "importación cancelada; lo que ya guardó sigue guardado"))
    }

    /// `GET $import-file/{job}/{file}`: an error file of the manifest, to the principal that
    /// started the job, until it expires.
    func importFile(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job"), name = try context.parameters.require("file")
        guard let path = BulkExport.file(root: importRoot, id: job, name: name, subject: principal.subject, now: clock.now(), retention: exportRetention),
              let data = FileManager.default.contents(atPath: path) else {
            throw FHIRError(status: 404, code: "not-found", english: "no such import file (or it expired)", spanish: "no existe ese archivo de importación (o expiró)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/fhir+ndjson"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Fetches `$import` files with AsyncHTTPClient: a GET, redirects followed by hand (at most
/// five, each to an allowed URL only: a source cannot send the server elsewhere), 200 only, at
/// most `maxBytes` (by `Content-Length` before reading, and by counting while reading), within
/// `timeoutSeconds` for the whole file.
final class HTTPImportFetcher: BulkImportFetcher {
    let client: HTTPClient

    init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    func shutdown() async { try? await client.shutdown() }

    static func failure(_ code: String, _ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 502, code: code, english: english, spanish: spanish)
    }

    static func transport(_ error: any Error, _ url: String) -> FHIRError {
        if let e = error as? HTTPClientError, e == .deadlineExceeded || e == .readTimeout || e == .connectTimeout {
            return failure("timeout", "fetching \(url) took too long", "la descarga de \(url) tardó demasiado")
        }
        return failure("exception", "could not fetch \(url): \(error)", "no se pudo descargar \(url): \(error)")
    }

    func fetch(_ url: String, allow: BulkImport.AllowList, maxBytes: Int64, timeoutSeconds: Double,
               chunk: ([UInt8]) async throws -> Void) async throws {
        let deadline = NIODeadline.now() + .milliseconds(Int64(timeoutSeconds * 1000))
        var current = url
        for _ in 0...5 {
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            request.headers.add(name: "Accept", value: "application/fhir+ndjson")
            let response: HTTPClientResponse
            do { response = try await client.execute(request, deadline: deadline) } catch { throw HTTPImportFetcher.transport(error, current) }
            let code = Int(response.status.code)
            if [301, 302, 303, 307, 308].contains(code) {
                guard let location = response.headers.first(name: "location"),
                      let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString else {
                    throw HTTPImportFetcher.failure("exception", "\(current) redirected without a Location", "\(current) redirigió sin Location")
                }
                guard allow.allows(next) else {
                    throw HTTPImportFetcher.failure("forbidden", "\(current) redirected to \(next), which is not an allowed import source (not followed)",
                                                    "\(current) redirigió a \(next), que no es una fuente de importación permitida (no se siguió)")
                }
                current = next
                continue
            }
            guard code == 200 else {
                throw HTTPImportFetcher.failure(code == 404 ? "not-found" : "exception", "the source answered HTTP \(code) for \(current)",
                                                "la fuente respondió HTTP \(code) para \(current)")
            }
            func tooLarge() -> FHIRError {
                HTTPImportFetcher.failure("too-costly", "\(current) is larger than the \(maxBytes) bytes allowed per file (--import-max-file-bytes)",
                                          "\(current) pesa más de los \(maxBytes) bytes permitidos por archivo (--import-max-file-bytes)")
            }
            if let length = response.headers.first(name: "content-length").flatMap({ Int64($0) }), length > maxBytes { throw tooLarge() }
            var total: Int64 = 0
            var iterator = response.body.makeAsyncIterator()
            while true {
                let next: ByteBuffer?
                do { next = try await iterator.next() } catch { throw HTTPImportFetcher.transport(error, current) }
                guard let buffer = next else { return }
                total += Int64(buffer.readableBytes)
                if total > maxBytes { throw tooLarge() }
                if NIODeadline.now() > deadline {
                    throw HTTPImportFetcher.failure("timeout", "importing \(current) took longer than the \(Int(timeoutSeconds)) s allowed per file (--import-file-timeout)",
                                                    "importar \(current) tardó más de los \(Int(timeoutSeconds)) s permitidos por archivo (--import-file-timeout)")
                }
                try await chunk(Array(buffer.readableBytesView))
            }
        }
        throw HTTPImportFetcher.failure("exception", "\(url) redirected more than five times", "\(url) redirigió más de cinco veces")
    }
}
