import FHIR
import Foundation
import HTTPFront
import HTTPTypes
import Hummingbird
import Storage
import Trust

extension FHIRAPI {
    /// search at type level: `GET /fhir/[type]?…` and `POST /fhir/[type]/_search`
    /// (https://hl7.org/fhir/R4/http.html#search).
    func searchType(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        try Repository.checkType(type)
        if type == "AuditEvent", request.method == .get { return try await auditEventSearch(request, context) }
        return try await search(request, context, types: [type], compartment: nil, path: type)
    }

    /// compartment search: `GET /fhir/Patient/[id]/[type]` (https://hl7.org/fhir/R4/compartmentdefinition.html).
    func searchCompartment(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let compartment = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        let type = try context.parameters.require("ctype")
        guard compartment == "Patient" else {
            throw FHIRError(status: 400, code: "not-supported", english: "only the Patient compartment can be searched",
                            spanish: "solo se puede buscar en el compartimento de Patient")
        }
        try Repository.checkType(type)
        guard Definitions.r4.patientCompartment[type] != nil || type == "Patient" else {
            throw FHIRError(status: 400, code: "invalid", english: "\(type) is not in the Patient compartment",
                            spanish: "\(type) no pertenece al compartimento de Patient")
        }
        return try await search(request, context, types: [type], compartment: id, path: "Patient/\(id)/\(type)")
    }

    /// search across types: `GET /fhir?_type=Patient,Observation&…`.
    func searchSystem(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let params = try await searchParameters(request)
        var types = Definitions.r4.resourceTypes
        if let t = params.first(where: { $0.0 == "_type" })?.1 {
            types = t.split(separator: ",").map(String.init)
            for x in types { try Repository.checkType(x) }
        }
        return try await search(request, context, types: types, compartment: nil, path: "", parameters: params)
    }

    func search(_ request: Request, _ context: EnlaceRequestContext, types: [String], compartment: String?, path: String,
                parameters given: [(String, String)]? = nil, includeTypes: Set<String>? = nil) async throws -> Response {
        let guardRepo = try await guarded(context)
        var parameters: [(String, String)]
        if let given { parameters = given } else { parameters = try await searchParameters(request) }
        parameters = try await resolveLists(parameters, types: types, guardRepo: guardRepo)
        var parser = searchParser
        parser.options.strict = FHIRAPI.preferStrict(request)
        parser.options.valueSets = try await storedValueSets(parameters, guardRepo: guardRepo)
        var (query, controls) = try parser.parse(types: types, parameters: parameters, compartment: compartment)
        query.includeTypes = includeTypes
        let result = try await guardRepo.search(query)
        let selfQuery = controls.used.map { "\(FHIRAPI.encode($0.0))=\(FHIRAPI.encode($0.1))" }
        let root = path.isEmpty ? base : "\(base)/\(path)"
        func link(_ relation: String, _ cursor: String?) -> JSON {
            var q = selfQuery
            if types.count > 1 || path.isEmpty, let t = parameters.first(where: { $0.0 == "_type" }) { q.insert("_type=\(FHIRAPI.encode(t.1))", at: 0) }
            if let cursor { q.append("_cursor=\(cursor)") }
            return .object([("relation", .string(relation)), ("url", .string(q.isEmpty ? root : root + "?" + q.joined(separator: "&")))])
        }
        var links: [JSON] = [link("self", query.cursor.map(SearchCursorCodec.encode))]
        if let last = result.matches.last, result.hasMore {
            links.append(link("next", SearchCursorCodec.encode(SearchCursor(keys: result.sortValues.last ?? [], type: last.type, id: last.id, direction: .next))))
        }
        if let first = result.matches.first, result.hasPrevious {
            links.append(link("previous", SearchCursorCodec.encode(SearchCursor(keys: result.sortValues.first ?? [], type: first.type, id: first.id, direction: .previous))))
        }
        var entries: [JSON] = []
        for r in result.matches { entries.append(try searchEntry(r, mode: "match", controls: controls)) }
        for r in result.included { entries.append(try searchEntry(r, mode: "include", controls: controls)) }
        // markers the access decision asks the asker to see (e.g. a right-not-to-know preference)
        if !guardRepo.decision.notices.isEmpty { entries.append(FHIRAPI.noticeEntry(guardRepo.decision.notices)) }
        var bundle: [(String, JSON)] = [("resourceType", .string("Bundle")), ("type", .string("searchset"))]
        if let total = result.total { bundle.append(("total", .number(String(total)))) }
        bundle.append(("link", .array(links)))
        if !entries.isEmpty { bundle.append(("entry", .array(entries))) }
        return FHIRResponse.json(.ok, .object(bundle), pretty: request.uri.queryParameters["_pretty"] == "true")
    }

    func searchEntry(_ r: StoredResource, mode: String, controls: SearchParser.Controls) throws -> JSON {
        let resource = Subsetting.apply(try r.json(), summary: controls.summary, elements: controls.elements)
        return .object([
            ("fullUrl", .string("\(base)/\(r.type)/\(r.id)")),
            ("resource", resource),
            ("search", .object([("mode", .string(mode))])),
        ])
    }

    /// `_list=ID` (https://hl7.org/fhir/R4/search.html#list): the List is read with the caller's
    /// rights and becomes an `_id` filter of the items it holds of the searched types.
    func resolveLists(_ parameters: [(String, String)], types: [String], guardRepo: GuardedRepository) async throws -> [(String, String)] {
        guard parameters.contains(where: { $0.0 == "_list" }) else { return parameters }
        var out: [(String, String)] = []
        for (k, v) in parameters {
            guard k == "_list" else { out.append((k, v)); continue }
            let list = try await guardRepo.read("List", v).json()
            let ids = (list["entry"]?.arrayValue ?? []).compactMap { $0["item"]?["reference"]?.stringValue }.compactMap { ref -> String? in
                let parts = ref.split(separator: "/")
                guard parts.count >= 2, types.contains(String(parts[parts.count - 2])) else { return nil }
                return String(parts[parts.count - 1])
            }
            out.append(("_id", ids.isEmpty ? "-" : ids.joined(separator: ",")))
        }
        return out
    }

    /// The search parameters of a request: the query string, plus a form body on POST `_search`.
    func searchParameters(_ request: Request) async throws -> [(String, String)] {
        let raw = request.uri.query ?? ""
        guard raw.utf8.count <= configuration.maxQueryBytes else {
            throw FHIRError.badRequest("the query string is longer than \(configuration.maxQueryBytes) bytes",
                                       "la cadena de consulta supera \(configuration.maxQueryBytes) bytes")
        }
        var params = try FHIRAPI.parseQuery(raw)
        if request.method == .post {
            let ct = request.headers[.contentType]?.lowercased() ?? ""
            guard FormEncoding.isForm(ct) else {
                throw FHIRError(status: 415, code: "not-supported",
                                english: "POST _search takes application/x-www-form-urlencoded parameters",
                                spanish: "POST _search recibe parámetros application/x-www-form-urlencoded")
            }
            var request = request
            let body = try await request.collectBody(upTo: configuration.maxQueryBytes)
            params += try FHIRAPI.parseQuery(String(buffer: body))
        }
        return params
    }

    /// Splits `a=1&b=2` into ordered, percent-decoded pairs (`FormEncoding.pairs`).
    static func parseQuery(_ raw: String) throws -> [(String, String)] {
        try FormEncoding.pairs(raw)
    }

    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#?")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    /// `Prefer: handling=strict` (https://hl7.org/fhir/R4/search.html#errors).
    static func preferStrict(_ request: Request) -> Bool {
        guard let prefer = request.headers[.prefer] else { return false }
        return Preferences.strictHandling(prefer)
    }
}
