import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// The outermost middleware: one audit entry for every request — authenticated or not, allowed
/// or refused, found or not, including failures. A write's entry is appended in the data's own
/// transaction (by the guarded repository); every other request's entry is appended here,
/// through the ledger's group commit, and the response waits until it is durable. If the
/// ledger cannot record it, the request fails (503) rather than go unaudited.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = EnlaceRequestContext
    let ledger: AuditLedger
    let builder: AuditEventBuilder
    let clock: any Clock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let audit = AuditContext(requestID: context.id, method: request.method.rawValue, path: request.uri.path,
                                 query: request.uri.query, remoteAddress: context.remoteAddress)
        var context = context
        context.audit = audit
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            // OutcomeMiddleware sits inside and turns errors into responses; this is a last resort.
            response = FHIRResponse.outcome(FHIRError(status: 500, code: "exception", english: "internal error", spanish: "error interno"))
        }
        if audit.recordedIndex == nil {
            let now = clock.now()
            let event = builder.build(audit, status: Int(response.status.code), recorded: now)
            do {
                audit.recordedIndex = try await ledger.record(PendingAudit(recorded: now, patients: audit.patients, bytes: event.serialized()))
            } catch StoreError.storageFull {
                context.logger.critical("audit ledger append failed: storage full")
                return FHIRResponse.outcome(FHIRError(status: 507, code: "transient",
                    english: "the server's storage is full: the request could not be audited, so it was not answered; try again later",
                    spanish: "el almacenamiento del servidor está lleno: la solicitud no pudo registrarse en la bitácora de auditoría, por lo que no se respondió; intente más tarde"))
            } catch StoreError.unavailable(_, let seconds) {
                context.logger.warning("audit ledger append refused: database unavailable", metadata: ["retryAfter": "\(seconds)"])
                return OutcomeMiddleware.databaseUnavailable(retryAfter: seconds)
            } catch {
                // a store's own message (PostgreSQL's SQLSTATE and primary message, never a bound
                // value), so the operator learns why; anything else by its type only
                let why = (error as? StoreError).map { "\($0)" } ?? "\(type(of: error))"
                context.logger.error("audit ledger append failed", metadata: ["error": "\(why)"])
                return FHIRResponse.outcome(FHIRError(status: 503, code: "transient",
                    english: "the request could not be audited, so it was not answered; try again",
                    spanish: "la solicitud no pudo registrarse en la bitácora de auditoría, por lo que no se respondió; intente de nuevo"))
            }
        }
        if let index = audit.recordedIndex { response.headers[.auditIndex] = String(index) }
        return response
    }
}

extension HTTPField.Name {
    /// The ledger index of this request's audit entry, so a client can ask for its inclusion proof.
    static let auditIndex = HTTPField.Name("X-Audit-Index")!
}
