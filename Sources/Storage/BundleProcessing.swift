import FHIR
import Foundation

/// What a bundle entry asks to do, for the access decision made before it runs.
public enum Interaction: String, Sendable {
    case read, vread, search, create, update, delete
}

/// Transaction and batch bundles (https://hl7.org/fhir/R4/http.html#transaction).
///
/// A `transaction` runs every entry in one database transaction, in the order the spec
/// prescribes (DELETE, POST, PUT/PATCH, GET), with `urn:uuid:` full URLs replaced by the ids they
/// get in every reference of the bundle; any failing entry fails it all and nothing is kept. A
/// `batch` runs each entry on its own: an entry that is invalid (its request or its resource)
/// or fails gets its own error `response` with an OperationOutcome, and the others run.
extension Repository {
    public struct BundleOptions: Sendable {
        public var base: String
        public var maxEntries: Int
        /// Warnings for entries by index (lenient mode's repairs), added to each entry's
        /// `response.outcome` (https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.response.outcome).
        public var entryWarnings: [Int: [Issue]] = [:]
        /// A transaction's `PUT Type/id` whose resource is the current version's (the same stored
        /// bytes but for `meta.versionId` and `meta.lastUpdated`) is not written again: no new
        /// version, no event, no Provenance; its response is `200 OK` with the current version and
        /// an informational outcome (`Repository.unchangedIssue`). Imports set it, so that running
        /// one again does not wake alert rules and subscriptions with old readings.
        public var skipUnchanged = false
        public init(base: String, maxEntries: Int = 1000) {
            self.base = base
            self.maxEntries = maxEntries
        }
    }

    struct EntryRequest {
        var index: Int
        var method: String
        var type: String
        var id: String?
        var version: String?
        var query: String?
        var resource: JSON?
        var fullUrl: String?
        var ifMatch: Int?
        var ifNoneExist: String?

        var interaction: Interaction {
            switch method {
            case "POST": return .create
            case "PUT", "PATCH": return .update
            case "DELETE": return .delete
            default: return version != nil ? .vread : (id != nil ? .read : .search)
            }
        }
    }

    /// Processes a `transaction` or `batch` Bundle. `authorize` is asked for every entry before
    /// anything runs (and throws to refuse). Returns the `transaction-response` /
    /// `batch-response` Bundle.
    public func process(bundle: JSON, options: BundleOptions, authorize: @escaping @Sendable (Interaction, String) throws -> Void) async throws -> JSON {
        guard bundle["resourceType"]?.stringValue == "Bundle" else {
            throw FHIRError.badRequest("POST to the base takes a Bundle of type transaction or batch", "POST a la base recibe un Bundle de tipo transaction o batch")
        }
        let type = bundle["type"]?.stringValue
        guard type == "transaction" || type == "batch" else {
            throw FHIRError.badRequest("Bundle.type must be transaction or batch, not '\(type ?? "missing")'",
                                       "Bundle.type debe ser transaction o batch, no '\(type ?? "ausente")'")
        }
        let entries = bundle["entry"]?.arrayValue ?? []
        guard entries.count <= options.maxEntries else {
            throw FHIRError(status: 413, code: "too-costly",
                            english: "the bundle has \(entries.count) entries; at most \(options.maxEntries) are accepted",
                            spanish: "el bundle tiene \(entries.count) entradas; se aceptan como máximo \(options.maxEntries)")
        }
        var requests: [EntryRequest] = []
        var parseErrors: [Int: FHIRError] = [:]
        if type == "transaction" {
            // A transaction is all or nothing: the bundle must be valid FHIR, every entry's
            // resource included, before anything runs.
            let issues = validate(bundle).filter { $0.severity == .error || $0.severity == .fatal }
            if !issues.isEmpty { throw FHIRError(status: 422, issues: issues) }
        } else {
            // Batch entries are independent (https://hl7.org/fhir/R4/http.html#transaction): the
            // Bundle's own elements must be valid, but an entry that is not gets its own error
            // response and the others run. Each entry's resource is validated by its own
            // interaction, as a single create or update would be.
            parseErrors = try batchEnvelopeErrors(bundle, entries: entries)
        }
        for (i, entry) in entries.enumerated() where parseErrors[i] == nil {
            do {
                requests.append(try parseEntry(entry, index: i, base: options.base))
            } catch let e as FHIRError {
                if type == "transaction" { throw located(e, i) }
                parseErrors[i] = e
            }
        }
        if type == "transaction" {
            for r in requests { do { try authorize(r.interaction, r.type) } catch let e as FHIRError { throw located(e, r.index) } }
            return try await transaction(requests, options: options)
        }
        return await batch(entries.count, requests, parseErrors: parseErrors, options: options, authorize: authorize)
    }

    /// Validates a batch Bundle without its entries' resources. Issues inside `Bundle.entry[i]`
    /// (its `request`, `fullUrl`, …) become entry `i`'s error; any other issue is the Bundle's
    /// own and refuses it whole (422).
    func batchEnvelopeErrors(_ bundle: JSON, entries: [JSON]) throws -> [Int: FHIRError] {
        guard case .object(let members) = bundle else { return [:] }
        let shell: JSON = .object(members.map { key, value in
            guard key == "entry", case .array(let items) = value else { return (key, value) }
            return (key, .array(items.map { item in
                guard case .object(let fields) = item else { return item }
                return .object(fields.filter { $0.0 != "resource" })
            }))
        })
        var own: [Issue] = []
        var byEntry: [Int: [Issue]] = [:]
        for issue in validate(shell) where issue.severity == .error || issue.severity == .fatal {
            if let i = issue.expression.lazy.compactMap(Repository.entryIndex).first, i < entries.count {
                byEntry[i, default: []].append(issue)
            } else {
                own.append(issue)
            }
        }
        if !own.isEmpty { throw FHIRError(status: 422, issues: own) }
        return byEntry.mapValues { FHIRError(status: 400, issues: $0) }
    }

    /// `3` for a location `Bundle.entry[3]…`.
    public static func entryIndex(_ location: String) -> Int? {
        let prefix = "Bundle.entry["
        guard location.hasPrefix(prefix), let close = location.firstIndex(of: "]") else { return nil }
        return Int(location[location.index(location.startIndex, offsetBy: prefix.count)..<close])
    }

    func located(_ e: FHIRError, _ index: Int) -> FHIRError {
        var e = e
        e.issues = e.issues.map { issue in
            var issue = issue
            issue.english = "Bundle.entry[\(index)]: " + issue.english
            issue.spanish = "Bundle.entry[\(index)]: " + issue.spanish
            issue.expression = issue.expression.isEmpty ? ["Bundle.entry[\(index)]"] : issue.expression.map { "Bundle.entry[\(index)].resource.\($0.split(separator: ".", maxSplits: 1).last ?? "")" }
            return issue
        }
        return e
    }

    func parseEntry(_ entry: JSON, index: Int, base: String) throws -> EntryRequest {
        guard let request = entry["request"], let method = request["method"]?.stringValue, var url = request["url"]?.stringValue else {
            throw FHIRError.badRequest("each entry needs request.method and request.url", "cada entrada necesita request.method y request.url")
        }
        guard ["GET", "POST", "PUT", "DELETE", "HEAD"].contains(method) else {
            throw FHIRError(status: 405, code: "not-supported", english: "\(method) is not supported in a bundle", spanish: "\(method) no se admite en un bundle")
        }
        if url.hasPrefix(base + "/") { url = String(url.dropFirst(base.count + 1)) }
        if url.hasPrefix("/") { url.removeFirst() }
        var query: String?
        if let q = url.firstIndex(of: "?") {
            query = String(url[url.index(after: q)...])
            url = String(url[..<q])
        }
        let parts = url.split(separator: "/").map(String.init)
        guard let type = parts.first else { throw FHIRError.badRequest("request.url is empty", "request.url está vacío") }
        try Repository.checkType(type)
        var r = EntryRequest(index: index, method: method == "HEAD" ? "GET" : method, type: type, query: query,
                             resource: entry["resource"], fullUrl: entry["fullUrl"]?.stringValue)
        if parts.count >= 2 { r.id = parts[1] }
        if parts.count == 4, parts[2] == "_history" { r.version = parts[3] }
        if parts.count > 4 || parts.count == 3 {
            throw FHIRError.badRequest("request.url '\(url)' is not a resource URL", "request.url '\(url)' no es una URL de recurso")
        }
        if let m = request["ifMatch"]?.stringValue {
            let digits = m.replacingOccurrences(of: "W/", with: "").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            guard let v = Int(digits) else { throw FHIRError.badRequest("ifMatch '\(m)' is not a version ETag", "ifMatch '\(m)' no es un ETag de versión") }
            r.ifMatch = v
        }
        r.ifNoneExist = request["ifNoneExist"]?.stringValue
        switch r.method {
        case "POST":
            guard r.resource != nil, r.id == nil else { throw FHIRError.badRequest("a POST entry needs a resource and a type URL", "una entrada POST necesita un recurso y una URL de tipo") }
        case "PUT":
            guard r.resource != nil, r.id != nil || r.query != nil else { throw FHIRError.badRequest("a PUT entry needs a resource and Type/id or Type?criteria", "una entrada PUT necesita un recurso y Tipo/id o Tipo?criterios") }
        case "DELETE":
            guard r.id != nil || r.query != nil else { throw FHIRError.badRequest("a DELETE entry needs Type/id or Type?criteria", "una entrada DELETE necesita Tipo/id o Tipo?criterios") }
        default: break
        }
        if let resource = r.resource {
            guard resource["resourceType"]?.stringValue == type else {
                throw FHIRError.badRequest("the entry's resourceType does not match its request.url type \(type)",
                                           "el resourceType de la entrada no coincide con el tipo \(type) de request.url")
            }
        }
        return r
    }

    /// Every entry in one store transaction.
    func transaction(_ requests: [EntryRequest], options: BundleOptions) async throws -> JSON {
        let order = ["DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3]
        let sorted = requests.sorted { (order[$0.method] ?? 9, $0.index) < (order[$1.method] ?? 9, $1.index) }
        let now = clock.now()
        // ids for creates decided up front, so references can be rewritten before anything is written
        var newIDs: [Int: String] = [:]
        for r in requests where r.method == "POST" || (r.method == "PUT" && r.id == nil) { newIDs[r.index] = ids.next() }
        var prepared: [Int: SearchQuery] = [:]
        for r in requests {
            do {
                if let q = r.query, r.method != "GET" { prepared[r.index] = try conditionQuery(r.type, q) }
                if r.method == "POST", let c = r.ifNoneExist { prepared[r.index] = try conditionQuery(r.type, c) }
                if r.method == "PUT", let id = r.id { try checkID(id) }
            } catch let e as FHIRError { throw located(e, r.index) }
        }
        // the same resource may be touched only once (https://hl7.org/fhir/R4/http.html#trules)
        var touched: [String: Int] = [:]
        for r in requests {
            guard let id = r.id else { continue }
            let key = "\(r.type)/\(id)"
            if let other = touched[key] {
                throw FHIRError(status: 409, code: "conflict",
                                english: "Bundle.entry[\(other)] and Bundle.entry[\(r.index)] both touch \(key); a transaction may touch each resource once",
                                spanish: "Bundle.entry[\(other)] y Bundle.entry[\(r.index)] tocan ambos \(key); una transacción puede tocar cada recurso una sola vez",
                                expression: ["Bundle.entry[\(r.index)]"])
            }
            touched[key] = r.index
        }
        let conditions = prepared
        let ids = newIDs
        let ready = await prepareOutsideWriter(requests, conditions: conditions, ids: ids, now: now)
        let responses: [Int: JSON] = try await commit { tx in
            var out: [Int: JSON] = [:]
            var written: [Written] = []
            // conditional creates that match an existing resource map to it
            var matched: [Int: String] = [:]
            for r in sorted where r.method == "POST" {
                guard let condition = conditions[r.index] else { continue }
                let matches = try tx.matchingKeys(condition, limit: 2)
                if matches.count > 1 {
                    throw self.located(FHIRError(status: 412, code: "duplicate", english: "the conditional create matched several resources",
                                                 spanish: "la creación condicional coincidió con varios recursos"), r.index)
                }
                if let m = matches.first { matched[r.index] = m.id }
            }
            let mapping = Repository.fullUrlMapping(sorted, ids: ids, matched: matched)
            for r in sorted {
                do {
                    let resource = r.resource.map { Repository.rewriteReferences($0, mapping) }
                    switch r.method {
                    case "DELETE":
                        if let condition = conditions[r.index] {
                            let deleted = try self.conditionalDelete(in: tx, r.type, condition, limit: 100, now: now)
                            written += deleted.map { Written(resource: $0, created: false) }
                            out[r.index] = Repository.responseEntry(status: deleted.isEmpty ? "204 No Content" : "200 OK")
                        } else {
                            let t = try self.delete(in: tx, r.type, r.id!, ifMatch: r.ifMatch, now: now)
                            if let t { written.append(Written(resource: t, created: false)) }
                            out[r.index] = Repository.responseEntry(status: "204 No Content", etag: t.map { "W/\"\($0.version)\"" })
                        }
                    case "POST":
                        try self.checkBody(resource!, type: r.type, id: nil, validated: true)
                        let result: WriteResult
                        if let p = ready[r.index], conditions[r.index] == nil {
                            try tx.put(p.stored, index: p.index)
                            result = WriteResult(resource: p.stored, created: true)
                        } else {
                            result = try self.create(in: tx, r.type, resource!, id: ids[r.index]!, condition: conditions[r.index], now: now)
                        }
                        if !result.matchedExisting { written.append(Written(resource: result.resource, created: true)) }
                        out[r.index] = Repository.written(result, created: !result.matchedExisting, base: options.base)
                    case "PUT":
                        try self.checkBody(resource!, type: r.type, id: r.id, validated: true)
                        let result: WriteResult
                        if let condition = conditions[r.index] {
                            result = try self.conditionalUpdate(in: tx, r.type, condition, resource!, newID: ids[r.index] ?? self.ids.next(), now: now)
                        } else {
                            result = try self.update(in: tx, r.type, r.id!, resource!, ifMatch: r.ifMatch, now: now, ready: ready[r.index],
                                                     skipUnchanged: options.skipUnchanged)
                        }
                        if result.matchedExisting {
                            written.append(Written(resource: result.resource, created: false, unchanged: true))
                            out[r.index] = Repository.warned(Repository.written(result, created: false, base: options.base), [Repository.unchangedIssue])
                            continue
                        }
                        written.append(Written(resource: result.resource, created: result.created))
                        out[r.index] = Repository.written(result, created: result.created, base: options.base)
                    default:
                        out[r.index] = try self.get(in: tx, r, base: options.base)
                    }
                } catch let e as FHIRError {
                    throw self.located(e, r.index)
                }
            }
            try self.afterWrite?(tx, written)
            return out
        }
        return .object([
            ("resourceType", .string("Bundle")),
            ("type", .string("transaction-response")),
            ("entry", .array(requests.map { Repository.warned(responses[$0.index] ?? .object([]), options.entryWarnings[$0.index]) })),
        ])
    }

    /// Each entry on its own; failures become the entry's response. Entries are independent in
    /// outcome, not in commit: runs of consecutive writes share one store transaction (one
    /// commit, one fsync), each entry inside its own savepoint, so an entry that fails is undone
    /// alone and the others are kept. Every entry is checked (type, id, validation, criteria)
    /// before the writer is taken. If the shared transaction fails as a whole (a database error,
    /// a conflict), nothing of it was kept and its entries run again one by one, as they did
    /// before grouping. GETs run between the groups, in order, so they see the writes before them.
    func batch(_ count: Int, _ requests: [EntryRequest], parseErrors: [Int: FHIRError], options: BundleOptions,
               authorize: @escaping @Sendable (Interaction, String) throws -> Void) async -> JSON {
        var responses: [Int: JSON] = [:]
        for (i, e) in parseErrors { responses[i] = Repository.failed(e) }
        var group: [BatchWrite] = []
        func flush() async {
            guard !group.isEmpty else { return }
            let writes = group
            group = []
            if writes.count > 1, let grouped = await runGrouped(writes, base: options.base) {
                for (i, r) in grouped { responses[i] = r }
                return
            }
            for w in writes { responses[w.request.index] = await runAlone(w.request, base: options.base) }
        }
        for r in requests {
            do {
                try authorize(r.interaction, r.type)
            } catch let e as FHIRError {
                responses[r.index] = Repository.failed(e)
                continue
            } catch {
                responses[r.index] = Repository.failed(FHIRError(status: 500, code: "exception", english: "internal error", spanish: "error interno"))
                continue
            }
            if r.method == "GET" {
                await flush()
                responses[r.index] = await runAlone(r, base: options.base)
                continue
            }
            do {
                group.append(try checkedWrite(r))
            } catch let e as FHIRError {
                responses[r.index] = Repository.failed(e)
            } catch {
                responses[r.index] = Repository.failed(FHIRError(status: 500, code: "exception", english: "internal error", spanish: "error interno"))
            }
        }
        await flush()
        return .object([
            ("resourceType", .string("Bundle")),
            ("type", .string("batch-response")),
            ("entry", .array((0..<count).map { Repository.warned(responses[$0] ?? .object([]), options.entryWarnings[$0]) })),
        ])
    }

    /// A batch write entry checked outside the writer: what `create`/`update`/`delete` check
    /// before they commit, with its criteria parsed and its new id chosen.
    struct BatchWrite: @unchecked Sendable {
        var request: EntryRequest
        var condition: SearchQuery?
        var newID: String
        /// DELETE of an id that cannot exist: nothing to do (as `delete` answers).
        var nothing = false
    }

    func checkedWrite(_ r: EntryRequest) throws -> BatchWrite {
        try Repository.checkType(r.type)
        var w = BatchWrite(request: r, condition: nil, newID: ids.next())
        switch r.method {
        case "DELETE":
            if let q = r.query { w.condition = try conditionQuery(r.type, q) } else if !Repository.isValidID(r.id!) { w.nothing = true }
        case "POST":
            try checkBody(r.resource!, type: r.type, id: nil)
            w.condition = try r.ifNoneExist.map { try conditionQuery(r.type, $0) }
        default:  // PUT
            if let q = r.query {
                w.condition = try conditionQuery(r.type, q)
                try checkBody(r.resource!, type: r.type, id: r.resource!["id"]?.stringValue)
            } else {
                try checkID(r.id!)
                try checkBody(r.resource!, type: r.type, id: r.id)
            }
        }
        return w
    }

    /// One checked write inside `tx`, with its `afterWrite`; returns its response entry.
    func runWrite(in tx: any StoreTransaction, _ w: BatchWrite, now: Timestamp, base: String) throws -> JSON {
        let r = w.request
        switch r.method {
        case "DELETE":
            if w.nothing { return Repository.responseEntry(status: "204 No Content") }
            if let condition = w.condition {
                let deleted = try conditionalDelete(in: tx, r.type, condition, limit: 100, now: now)
                try afterWrite?(tx, deleted.map { Written(resource: $0, created: false) })
                return Repository.responseEntry(status: deleted.isEmpty ? "204 No Content" : "200 OK")
            }
            let t = try delete(in: tx, r.type, r.id!, ifMatch: r.ifMatch, now: now)
            try afterWrite?(tx, t.map { [Written(resource: $0, created: false)] } ?? [])
            return Repository.responseEntry(status: "204 No Content", etag: t.map { "W/\"\($0.version)\"" })
        case "POST":
            let result = try create(in: tx, r.type, r.resource!, id: w.newID, condition: w.condition, now: now)
            try afterWrite?(tx, result.matchedExisting ? [] : [Written(resource: result.resource, created: true)])
            return Repository.written(result, created: !result.matchedExisting, base: base)
        default:
            let result = w.condition != nil ? try conditionalUpdate(in: tx, r.type, w.condition!, r.resource!, newID: w.newID, now: now)
                                            : try update(in: tx, r.type, r.id!, r.resource!, ifMatch: r.ifMatch, now: now)
            try afterWrite?(tx, [Written(resource: result.resource, created: result.created)])
            return Repository.written(result, created: result.created, base: base)
        }
    }

    /// The writes in one store transaction, each in a savepoint. Nil when the transaction
    /// failed as a whole (nothing of it was kept).
    func runGrouped(_ writes: [BatchWrite], base: String) async -> [Int: JSON]? {
        let now = clock.now()
        do {
            return try await commit { tx in
                var out: [Int: JSON] = [:]
                for w in writes {
                    do {
                        out[w.request.index] = try tx.savepoint { try self.runWrite(in: tx, w, now: now, base: base) }
                    } catch let e as FHIRError {
                        out[w.request.index] = Repository.failed(e)
                    }
                }
                return out
            }
        } catch {
            return nil
        }
    }

    /// One entry in its own transaction (a GET in a read), as a single request would run.
    func runAlone(_ r: EntryRequest, base: String) async -> JSON {
        do {
            switch r.method {
            case "DELETE":
                if let q = r.query {
                    let deleted = try await conditionalDelete(r.type, criteria: q)
                    return Repository.responseEntry(status: deleted.isEmpty ? "204 No Content" : "200 OK")
                }
                let t = try await delete(r.type, r.id!, ifMatch: r.ifMatch)
                return Repository.responseEntry(status: "204 No Content", etag: t.map { "W/\"\($0.version)\"" })
            case "POST":
                let result = try await create(r.type, r.resource!, ifNoneExist: r.ifNoneExist)
                return Repository.written(result, created: !result.matchedExisting, base: base)
            case "PUT":
                let result = r.query != nil ? try await conditionalUpdate(r.type, criteria: r.query!, r.resource!)
                                            : try await update(r.type, r.id!, r.resource!, ifMatch: r.ifMatch)
                return Repository.written(result, created: result.created, base: base)
            default:
                return try await store.read { tx in try self.get(in: tx, r, base: base) }
            }
        } catch let e as FHIRError {
            return Repository.failed(e)
        } catch {
            return Repository.failed(FHIRError(status: 500, code: "exception", english: "internal error", spanish: "error interno"))
        }
    }

    /// `fullUrl` → `Type/id` for a transaction's creates (their new id, or the existing resource
    /// a conditional create matched) and its updates.
    static func fullUrlMapping(_ requests: [EntryRequest], ids: [Int: String], matched: [Int: String]) -> [String: String] {
        var mapping: [String: String] = [:]
        for r in requests where r.method == "POST" {
            if let full = r.fullUrl, let id = matched[r.index] ?? ids[r.index] { mapping[full] = "\(r.type)/\(id)" }
        }
        for r in requests where r.method == "PUT" {
            if let full = r.fullUrl, let id = r.id { mapping[full] = "\(r.type)/\(id)" }
        }
        return mapping
    }

    /// The work of a write that needs no database — labels, compartments, the serialized body,
    /// the index rows (FHIRPath over every search parameter) — done before the writer is taken,
    /// on every core, for the creates and updates of a transaction whose references are all
    /// known up front (no conditional create may map a `fullUrl` to an existing resource). The
    /// versions are prepared as version 1; an update of an existing resource prepares again
    /// inside (`update(in:…ready:)`). Inside the writer only the rows are written.
    func prepareOutsideWriter(_ requests: [EntryRequest], conditions: [Int: SearchQuery], ids: [Int: String], now: Timestamp) async -> [Int: Prepared] {
        guard !requests.contains(where: { $0.method == "POST" && conditions[$0.index] != nil }) else { return [:] }
        let mapping = Repository.fullUrlMapping(requests, ids: ids, matched: [:])
        let jobs: [(Int, String, String, JSON)] = requests.compactMap { r in
            guard conditions[r.index] == nil, let resource = r.resource, resource["resourceType"]?.stringValue == r.type else { return nil }
            if r.method == "POST", let id = ids[r.index] { return (r.index, r.type, id, Repository.rewriteReferences(resource, mapping)) }
            if r.method == "PUT", let id = r.id, r.ifMatch == nil || r.ifMatch == 0 { return (r.index, r.type, id, Repository.rewriteReferences(resource, mapping)) }
            return nil
        }
        guard jobs.count > 1 else { return [:] }
        let lanes = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        let size = (jobs.count + lanes - 1) / lanes
        let repository = self
        return await withTaskGroup(of: [(Int, Prepared)].self) { group in
            for start in stride(from: 0, to: jobs.count, by: size) {
                let chunk = Array(jobs[start..<min(start + size, jobs.count)])
                group.addTask {
                    chunk.map { ($0.0, repository.prepare($0.3, type: $0.1, id: $0.2, version: 1, now: now)) }
                }
            }
            var out: [Int: Prepared] = [:]
            for await part in group { for (i, p) in part { out[i] = p } }
            return out
        }
    }

    func get(in tx: any StoreReader, _ r: EntryRequest, base: String) throws -> JSON {
        if let id = r.id {
            var stored: StoredResource?
            if let v = r.version { stored = Int(v).flatMap { try? tx.version(r.type, id, $0) } } else { stored = try tx.current(r.type, id) }
            if let s = stored, let v = visibility, !v.allows(s) { stored = nil }
            guard var stored else { throw FHIRError.notFound(r.type, id) }
            if stored.deleted { throw FHIRError.gone(r.type, id) }
            if let v = visibility { stored = v.present(stored) }
            return .object([("resource", try stored.json()),
                            ("response", .object([("status", .string("200 OK")), ("etag", .string("W/\"\(stored.version)\"")),
                                                  ("lastModified", .string(stored.lastUpdated.description))]))])
        }
        let pairs = (r.query ?? "").split(separator: "&").map { p -> (String, String) in
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map { String($0).removingPercentEncoding ?? String($0) }
            return (kv[0], kv.count > 1 ? kv[1] : "")
        }
        var (query, _) = try SearchParser().parse(types: [r.type], parameters: pairs)
        query.visibility = visibility
        let result = try tx.search(query)
        var bundle: [(String, JSON)] = [("resourceType", .string("Bundle")), ("type", .string("searchset"))]
        if let t = result.total { bundle.append(("total", .number(String(t)))) }
        let shown = result.matches.map { visibility?.present($0) ?? $0 }
        let entries: [JSON] = try shown.map { .object([("fullUrl", .string("\(base)/\($0.type)/\($0.id)")), ("resource", try $0.json()),
                                                                 ("search", .object([("mode", .string("match"))]))]) }
        if !entries.isEmpty { bundle.append(("entry", .array(entries))) }
        return .object([("resource", .object(bundle)), ("response", .object([("status", .string("200 OK"))]))])
    }

    static func responseEntry(status: String, location: String? = nil, etag: String? = nil, lastModified: Timestamp? = nil) -> JSON {
        var response: [(String, JSON)] = [("status", .string(status))]
        if let location { response.append(("location", .string(location))) }
        if let etag { response.append(("etag", .string(etag))) }
        if let lastModified { response.append(("lastModified", .string(lastModified.description))) }
        return .object([("response", .object(response))])
    }

    static func written(_ result: WriteResult, created: Bool, base: String) -> JSON {
        let r = result.resource
        return responseEntry(status: created ? "201 Created" : "200 OK", location: "\(r.type)/\(r.id)/_history/\(r.version)",
                             etag: "W/\"\(r.version)\"", lastModified: r.lastUpdated)
    }

    /// The informational issue on the response of a `PUT` that `skipUnchanged` did not write.
    public static let unchangedIssue = Issue(.information, code: "informational",
                                             english: "unchanged: the resource is the current version; no new version was written",
                                             spanish: "sin cambios: el recurso es la versión actual; no se escribió una versión nueva")

    /// Whether a transaction-response entry is one `skipUnchanged` did not write.
    public static func isUnchanged(_ entry: JSON) -> Bool {
        entry["response"]?["outcome"]?["issue"]?.arrayValue?.contains { $0["diagnostics"]?.stringValue == unchangedIssue.english } ?? false
    }

    /// A response entry with `warnings` added to its `response.outcome` (made when it has none).
    static func warned(_ entry: JSON, _ warnings: [Issue]?) -> JSON {
        guard let warnings, !warnings.isEmpty, let response = entry["response"] else { return entry }
        let outcome = response["outcome"]
        let issues = (outcome?["issue"]?.arrayValue ?? []) + warnings.map(\.json)
        return entry.setting("response", response.setting("outcome", OperationOutcome.make([]).setting("issue", .array(issues))))
    }

    static func failed(_ e: FHIRError) -> JSON {
        .object([("response", .object([("status", .string("\(e.status)")), ("outcome", e.operationOutcome)]))])
    }

    /// Replaces every `reference` equal to a key of `mapping` (urn:uuid: full URLs) by its value;
    /// a key followed by `/_history/{version}` becomes `Type/id/_history/{version}`, so a
    /// resource of the transaction can name the version of another it creates (the prescriber's
    /// signature Provenance names `MedicationRequest/{id}/_history/1`, docs/prescribing.md).
    public static func rewriteReferences(_ json: JSON, _ mapping: [String: String]) -> JSON {
        guard !mapping.isEmpty else { return json }
        switch json {
        case .object(let members):
            return .object(members.map { k, v in
                if k == "reference", let s = v.stringValue, let to = mapping[s] { return (k, .string(to)) }
                if k == "reference", let s = v.stringValue, let cut = s.firstRange(of: "/_history/"), let to = mapping[String(s[..<cut.lowerBound])],
                   !s[cut.upperBound...].isEmpty, s[cut.upperBound...].allSatisfy({ $0.isASCII && $0.isNumber }) {
                    return (k, .string(to + "/_history/" + s[cut.upperBound...]))
                }
                return (k, rewriteReferences(v, mapping))
            })
        case .array(let items):
            return .array(items.map { rewriteReferences($0, mapping) })
        default:
            return json
        }
    }
}
