import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// The transparency endpoints beside the FHIR base (https://www.rfc-editor.org/rfc/rfc9162):
/// `/audit/tree-head`, `/audit/proof/inclusion`, `/audit/proof/consistency`, `/audit/entries`.
/// Readable by auditors and platform operators.
struct AuditRoutes: Sendable {
    let door: Door
    var ledger: AuditLedger { door.ledger }

    func register(on router: Router<EnlaceRequestContext>) {
        let audit = router.group("audit")
        audit.get("tree-head") { _, ctx -> Response in
            _ = try requireAuditor(ctx)
            _ = try await ledger.signTreeHead()
            guard let head = try await ledger.latestTreeHead() else {
                return FHIRResponse.json(.ok, .object([("treeSize", .number("0")), ("rootHash", .string(Data(MerkleTree.emptyRoot).base64EncodedString()))]))
            }
            return AuditRoutes.json(TreeHeadJSON.encode(head))
        }
        audit.get("proof/inclusion") { req, ctx -> Response in
            _ = try requireAuditor(ctx)
            let index = try AuditRoutes.int(req, "index")
            let size = try AuditRoutes.int(req, "treeSize")
            let proof = try await AuditRoutes.mapped { try await ledger.inclusionProof(index: index, treeSize: size) }
            return AuditRoutes.json(.object([
                ("leafIndex", .number(String(index))), ("treeSize", .number(String(size))),
                ("auditPath", .array(proof.map { .string(Data($0).base64EncodedString()) })),
            ]))
        }
        audit.get("proof/consistency") { req, ctx -> Response in
            _ = try requireAuditor(ctx)
            let first = try AuditRoutes.int(req, "first")
            let second = try AuditRoutes.int(req, "second")
            let proof = try await AuditRoutes.mapped { try await ledger.consistencyProof(first: first, second: second) }
            return AuditRoutes.json(.object([("first", .number(String(first))), ("second", .number(String(second))),
                                             ("proof", .array(proof.map { .string(Data($0).base64EncodedString()) }))]))
        }
        // RFC 9162 §5.6 (like RFC 6962 §4.6): `start` and `end` are both inclusive — `end` is the
        // index of the last entry wanted; a log may return fewer entries than asked (here at most
        // 1000, and none past the end of the log).
        audit.get("entries") { req, ctx -> Response in
            let log = try requireAuditor(ctx)
            let start = try AuditRoutes.int(req, "start")
            let end = try AuditRoutes.int(req, "end")
            guard end >= start else {
                throw FHIRError.badRequest("end must not be less than start (both are inclusive entry indexes, RFC 9162 §5.6)",
                                           "end no debe ser menor que start (ambos son índices inclusivos, RFC 9162 §5.6)")
            }
            let size = try await log.size()
            guard Int64(start) < size else {
                throw FHIRError.badRequest("start \(start) is beyond the log, which has \(size) entries", "start \(start) está más allá de la bitácora, que tiene \(size) entradas")
            }
            let last = min(Int64(end), Int64(start) + 999, size - 1)
            let records = try await log.range(start: Int64(start), end: last + 1)
            return AuditRoutes.json(.object([("entries", .array(records.map { r in
                .object([("index", .number(String(r.index))), ("leaf", .string(Data(r.bytes).base64EncodedString())),
                         ("auditEvent", (try? JSONParser.parse(r.bytes)) ?? .null)])
            }))]))
        }
    }

    /// The whole log, for auditors, privacy officers and platform operators (the rule is the
    /// access policy's, `AccessPolicy.auditVisibility`).
    func requireAuditor(_ ctx: EnlaceRequestContext) throws -> AuditLog {
        guard let p = ctx.principal else {
            throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
        }
        return try door.auditLog(for: p, audit: ctx.audit, everything: true)
    }

    static func int(_ req: Request, _ name: String) throws -> Int {
        guard let raw = req.uri.queryParameters[Substring(name)], let v = Int(String(raw)), v >= 0 else {
            throw FHIRError.badRequest("the query parameter '\(name)' must be a non-negative integer",
                                       "el parámetro '\(name)' debe ser un entero no negativo")
        }
        return v
    }

    static func mapped<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let e as MerkleTreeError {
            throw FHIRError.badRequest("\(e)", "parámetros fuera del árbol: \(e)")
        }
    }

    static func json(_ body: JSON) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: body.serialized())))
    }
}
