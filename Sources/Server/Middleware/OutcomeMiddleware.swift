import Foundation
import FHIR
import HTTPTypes
import Hummingbird
import Logging
import Storage

/// The outermost middleware: every error becomes a FHIR OperationOutcome with a precise status
/// (never an HTML page or an empty 500), every response gets the security headers, and each
/// request is logged as one structured line without resource content.
struct OutcomeMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let e as FHIRError {
            response = FHIRResponse.outcome(e)
        } catch let e as HTTPError {
            response = FHIRResponse.outcome(OutcomeMiddleware.translate(e, request))
        } catch StoreError.versionConflict(let type, let id, let version) {
            response = FHIRResponse.outcome(FHIRError(status: 409, code: "conflict",
                english: "\(type)/\(id) version \(version) was written by another request at the same time; read it again and retry",
                spanish: "\(type)/\(id) versión \(version) fue escrita por otra solicitud al mismo tiempo; léala de nuevo y reintente"))
        } catch StoreError.storageFull(let message) {
            context.logger.critical("storage full: writes refused until space is freed", metadata: ["error": "\(message)"])
            response = FHIRResponse.outcome(FHIRError(status: 507, code: "transient",
                english: "the server's storage is full: nothing was changed; try again later (the operator has been alerted in the log)",
                spanish: "el almacenamiento del servidor está lleno: no se modificó nada; intente más tarde (el operador quedó avisado en la bitácora)"))
        } catch StoreError.unavailable(let message, let seconds) {
            context.logger.warning("database unavailable: failing fast", metadata: ["error": "\(message)", "retryAfter": "\(seconds)"])
            response = OutcomeMiddleware.databaseUnavailable(retryAfter: seconds)
        } catch let e as StoreError {
            context.logger.error("storage error", metadata: ["error": "\(e)"])
            response = FHIRResponse.outcome(FHIRError(status: 503, code: "transient",
                english: "the database could not complete the request; try again",
                spanish: "la base de datos no pudo completar la solicitud; intente de nuevo"))
        } catch is CancellationError {
            // the client went away (or the server is stopping) before the answer: nobody reads it
            context.logger.info("request cancelled before it was answered")
            response = FHIRResponse.outcome(FHIRError(status: 503, code: "transient",
                english: "the request was cancelled before it was answered (the client left or the server is stopping); if it was a write, read the resource again to see whether it was stored",
                spanish: "la solicitud se canceló antes de responderse (el cliente se fue o el servidor se está deteniendo); si era una escritura, lea el recurso de nuevo para saber si quedó guardado"))
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(type(of: error))"])
            response = FHIRResponse.outcome(FHIRError(status: 500, code: "exception",
                english: "internal error; it has been logged", spanish: "error interno; quedó registrado"))
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        let elapsed = ContinuousClock.now - start
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "ms": "\(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)",
        ])
        return response
    }

    /// 503 with `Retry-After` while the store's circuit breaker is open (docs/reliability.md).
    static func databaseUnavailable(retryAfter seconds: Int) -> Response {
        var response = FHIRResponse.outcome(FHIRError(status: 503, code: "transient",
            english: "the database is not answering: nothing was read or changed; try again in \(seconds) s",
            spanish: "la base de datos no responde: no se leyó ni se modificó nada; intente de nuevo en \(seconds) s"))
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    static func translate(_ e: HTTPError, _ request: Request) -> FHIRError {
        switch e.status.code {
        case 404:
            return FHIRError(status: 404, code: "not-found", english: "no endpoint at \(request.method.rawValue) \(request.uri.path)",
                             spanish: "no hay un punto de acceso en \(request.method.rawValue) \(request.uri.path)")
        case 405:
            return FHIRError(status: 405, code: "not-supported", english: "method \(request.method.rawValue) is not allowed here",
                             spanish: "el método \(request.method.rawValue) no se permite aquí")
        case 413:
            return FHIRError(status: 413, code: "too-costly", english: "the request body is too large", spanish: "el cuerpo de la solicitud es demasiado grande")
        default:
            return FHIRError(status: Int(e.status.code), code: e.status.code >= 500 ? "exception" : "invalid",
                             english: e.body ?? e.status.reasonPhrase, spanish: e.body ?? e.status.reasonPhrase)
        }
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
}
