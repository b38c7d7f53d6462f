import FHIR
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// history: instance, type and system (https://hl7.org/fhir/R4/http.html#history): a
    /// Bundle of type `history`, newest first, with `_count`, `_since` and keyset paging
    /// (`next` links carry a cursor, so pages stay correct while new versions arrive).
    func historyInstance(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        return try await history(request, context, scope: .instance(type, id), path: "\(type)/\(id)/_history")
    }

    func historyType(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        return try await history(request, context, scope: .type(type), path: "\(type)/_history")
    }

    func historySystem(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        try await history(request, context, scope: .system, path: "_history")
    }

    private func history(_ request: Request, _ context: EnlaceRequestContext, scope: HistoryScope, path: String) async throws -> Response {
        let guardRepo = try await guarded(context)
        let params = request.uri.queryParameters
        var count = configuration.defaultPageSize
        if let c = params["_count"] {
            guard let n = Int(String(c)), n >= 0 else {
                throw FHIRError.badRequest("_count must be a non-negative integer, not '\(c)'", "_count debe ser un entero no negativo, no '\(c)'")
            }
            count = min(n, configuration.maxPageSize)
        }
        var since: Timestamp?
        if let s = params["_since"] {
            guard let t = Timestamp(instant: String(s)) else {
                throw FHIRError.badRequest("_since must be an instant with time zone, e.g. 2026-01-01T00:00:00Z, not '\(s)'",
                                           "_since debe ser un instante con zona horaria, p. ej. 2026-01-01T00:00:00Z, no '\(s)'")
            }
            since = t
        }
        var before: Int64?
        if let c = params["_cursor"] {
            guard let n = Int64(String(c)), n > 0 else {
                throw FHIRError.badRequest("_cursor '\(c)' is not a cursor this server issued", "_cursor '\(c)' no es un cursor emitido por este servidor")
            }
            before = n
        }
        let (entries, total) = try await guardRepo.history(HistoryQuery(scope: scope, since: since, beforeSequence: before, count: count + 1))
        let page = Array(entries.prefix(count))
        var query = "_count=\(count)"
        if let s = params["_since"] { query += "&_since=\(String(s).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        var links: [JSON] = [link("self", "\(base)/\(path)?\(query)" + (before.map { "&_cursor=\($0)" } ?? ""))]
        if entries.count > count, let last = page.last {
            links.append(link("next", "\(base)/\(path)?\(query)&_cursor=\(last.sequence)"))
        }
        let bundle = JSON.object([
            ("resourceType", .string("Bundle")),
            ("type", .string("history")),
            ("total", .number(String(total))),
            ("link", .array(links)),
            ("entry", .array(try page.map(historyEntry))),
        ])
        return FHIRResponse.json(.ok, bundle.setting("entry", page.isEmpty ? nil : bundle["entry"]))
    }

    private func link(_ relation: String, _ url: String) -> JSON {
        .object([("relation", .string(relation)), ("url", .string(url))])
    }

    private func historyEntry(_ e: HistoryEntry) throws -> JSON {
        let r = e.resource
        let method: String
        let url: String
        if r.deleted { method = "DELETE"; url = "\(r.type)/\(r.id)" } else if r.version == 1 { method = "POST"; url = r.type } else { method = "PUT"; url = "\(r.type)/\(r.id)" }
        var members: [(String, JSON)] = [("fullUrl", .string("\(base)/\(r.type)/\(r.id)"))]
        if !r.deleted { members.append(("resource", try r.json())) }
        members.append(("request", .object([("method", .string(method)), ("url", .string(url))])))
        members.append(("response", .object([
            ("status", .string(r.deleted ? "204" : (r.version == 1 ? "201" : "200"))),
            ("etag", .string("W/\"\(r.version)\"")),
            ("lastModified", .string(r.lastUpdated.description)),
        ])))
        return .object(members)
    }
}

import Foundation
