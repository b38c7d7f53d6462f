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
    let ledger: AuditLedger

    func register(on router: Router<EnlaceRequestContext>) {
        let audit = router.group("audit")
        audit.get("tree-head") { _, ctx -> Response in
            try AuditRoutes.requireAuditor(ctx)
            _ = try await ledger.signTreeHead()
            guard let head = try await ledger.latestTreeHead() else {
                return FHIRResponse.json(.ok, .object([("treeSize", .number("0")), ("rootHash", .string(Data(MerkleTree.emptyRoot).base64EncodedString()))]))
            }
            return AuditRoutes.json(TreeHeadJSON.encode(head))
        }
        audit.get("proof/inclusion") { req, ctx -> Response in
            try AuditRoutes.requireAuditor(ctx)
            let index = try AuditRoutes.int(req, "index")
            let size = try AuditRoutes.int(req, "treeSize")
            let proof = try await AuditRoutes.mapped { try await ledger.inclusionProof(index: index, treeSize: size) }
            return AuditRoutes.json(.object([
                ("leafIndex", .number(String(index))), ("treeSize", .number(String(size))),
                ("auditPath", .array(proof.map { .string(Data($0).base64EncodedString()) })),
            ]))
        }
        audit.get("proof/consistency") { req, ctx -> Response in
            try AuditRoutes.requireAuditor(ctx)
            let first = try AuditRoutes.int(req, "first")
            let second = try AuditRoutes.int(req, "second")
            let proof = try await AuditRoutes.mapped { try await ledger.consistencyProof(first: first, second: second) }
            return AuditRoutes.json(.object([("first", .number(String(first))), ("second", .number(String(second))),
                                             ("proof", .array(proof.map { .string(Data($0).base64EncodedString()) }))]))
        }
        audit.get("entries") { req, ctx -> Response in
            try AuditRoutes.requireAuditor(ctx)
            let start = try AuditRoutes.int(req, "start")
            let end = try AuditRoutes.int(req, "end")
            guard end > start, end - start <= 1000 else {
                throw FHIRError.badRequest("end must be greater than start and at most 1000 entries apart",
                                           "end debe ser mayor que start y a lo más 1000 entradas de distancia")
            }
            let records = try await ledger.entries(start: Int64(start), end: Int64(end))
            return AuditRoutes.json(.object([("entries", .array(records.map { r in
                .object([("index", .number(String(r.index))), ("leaf", .string(Data(r.bytes).base64EncodedString())),
                         ("auditEvent", (try? JSONParser.parse(r.bytes)) ?? .null)])
            }))]))
        }
    }

    static func requireAuditor(_ ctx: EnlaceRequestContext) throws {
        guard let p = ctx.principal else {
            throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
        }
        let byRole = p.effectiveRole == .auditor || p.effectiveRole == .platformOperator || p.effectiveRole == .privacyOfficer
        let byScope = p.scopes.allows(.read, on: "AuditEvent", context: .system)
        guard byRole && (byScope || p.role != nil) else {
            ctx.audit?.decidedBy("urn:enlace:rule:auditor-only")
            throw FHIRError(status: 403, code: "forbidden", english: "the audit ledger is readable by auditors and platform operators",
                            spanish: "la bitácora de auditoría solo la pueden leer auditores y operadores de la plataforma")
        }
        ctx.audit?.decidedBy("urn:enlace:rule:auditor")
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
