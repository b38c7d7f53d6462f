import FHIR
import Foundation

/// The FHIR RESTful semantics over a `ResourceStore`: ids, versions, `meta`, validation,
/// compartments, optimistic locking and conditional create
/// (https://hl7.org/fhir/R4/http.html). Knows nothing about who asks: access decisions wrap it
/// (`Trust.GuardedRepository`), and nothing reaches it from HTTP except through that guard.
///
/// Creating one and reaching its store are `@_spi(Unguarded)`: only Trust's door (and tests)
/// hold a `Repository`; every other module gets a guarded one from the door.
public struct Repository: Sendable {
    @_spi(Unguarded) public let store: any ResourceStore
    public let clock: any Clock
    public let ids: any IDGenerator
    public let validate: @Sendable (JSON) -> [Issue]
    let compartments: CompartmentResolver
    let indexer: Indexer
    /// Runs inside every write transaction, after the data is written and before it commits:
    /// the guard uses it to append the audit entry and the Provenance in the same transaction.
    public var afterWrite: (@Sendable (any StoreTransaction, [Written]) throws -> Void)?
    /// What the asker may see: applied to conditional criteria and to GETs inside bundles, so a
    /// conditional interaction never reveals a resource the asker could not read.
    public var visibility: Visibility?
    /// Puts sensitivity labels on what is stored (docs/privacy-policy.md); nil: only the labels the client sent.
    public var labeler: (any ResourceLabeler)?
    /// Runs after every write transaction of this repository has committed (the door wakes the
    /// outbox consumers with it).
    public var committed: (@Sendable () -> Void)?

    /// Runs `body` in one write transaction of the store, then reports the commit.
    func commit<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        let result = try await store.write(body)
        committed?()
        return result
    }

    /// A version this request wrote, and whether it created the resource. `unchanged`: a `PUT`
    /// that `BundleOptions.skipUnchanged` did not write — `resource` is the current version,
    /// passed on only so that the guard checks the principal could have written it.
    public struct Written: Sendable {
        public var resource: StoredResource
        public var created: Bool
        public var unchanged: Bool
        public init(resource: StoredResource, created: Bool, unchanged: Bool = false) {
            self.resource = resource
            self.created = created
            self.unchanged = unchanged
        }
    }

    @_spi(Unguarded) public init(store: any ResourceStore, clock: any Clock = SystemClock(), ids: any IDGenerator = UUIDGenerator(),
                                 validate: @escaping @Sendable (JSON) -> [Issue]) {
        self.store = store
        self.clock = clock
        self.ids = ids
        self.validate = validate
        compartments = CompartmentResolver()
        indexer = Indexer()
    }

    /// The result of a write: the version now stored and whether a new resource was created.
    public struct WriteResult: Sendable {
        public var resource: StoredResource
        public var created: Bool
        /// For a conditional create that matched, or a `PUT` that `skipUnchanged` found equal to
        /// the current version: nothing was written (HTTP 200).
        public var matchedExisting: Bool = false
    }

    // MARK: - read

    /// read (https://hl7.org/fhir/R4/http.html#read). Throws 404 if never stored, 410 if deleted.
    public func read(_ type: String, _ id: String) async throws -> StoredResource {
        try Repository.checkType(type)
        guard Repository.isValidID(id) else { throw FHIRError.notFound(type, id) }
        let current = try await store.read { try $0.current(type, id) }
        guard let current else { throw FHIRError.notFound(type, id) }
        if current.deleted { throw FHIRError.gone(type, id) }
        return current
    }

    /// vread (https://hl7.org/fhir/R4/http.html#vread). 404 for an unknown version; 410 for the
    /// version that records a delete.
    public func vread(_ type: String, _ id: String, version: String) async throws -> StoredResource {
        try Repository.checkType(type)
        guard Repository.isValidID(id), let v = Int(version), v > 0 else {
            throw FHIRError(status: 404, code: "not-found", english: "\(type)/\(id) has no version '\(version)'",
                            spanish: "\(type)/\(id) no tiene la versión '\(version)'")
        }
        let stored = try await store.read { try $0.version(type, id, v) }
        guard let stored else {
            throw FHIRError(status: 404, code: "not-found", english: "\(type)/\(id) has no version \(v)",
                            spanish: "\(type)/\(id) no tiene la versión \(v)")
        }
        if stored.deleted { throw FHIRError.gone(type, id) }
        return stored
    }

    // MARK: - create / update / delete

    /// create (https://hl7.org/fhir/R4/http.html#create), with `If-None-Exist`
    /// (https://hl7.org/fhir/R4/http.html#ccreate): 0 matches creates, 1 match returns it, more
    /// than one answers 412.
    public func create(_ type: String, _ resource: JSON, ifNoneExist: String? = nil) async throws -> WriteResult {
        try Repository.checkType(type)
        try checkBody(resource, type: type, id: nil)
        let condition = try ifNoneExist.map { try conditionQuery(type, $0) }
        let id = ids.next()
        let now = clock.now()
        return try await commit { tx in
            let result = try self.create(in: tx, type, resource, id: id, condition: condition, now: now)
            try self.afterWrite?(tx, result.matchedExisting ? [] : [Written(resource: result.resource, created: true)])
            return result
        }
    }

    /// Parses conditional criteria (`identifier=…&…`) as a search on `type`.
    public func conditionQuery(_ type: String, _ criteria: String) throws -> SearchQuery {
        var q = criteria
        if let r = q.range(of: "?") { q = String(q[r.upperBound...]) }
        let pairs: [(String, String)] = q.split(separator: "&").map { p in
            let kv = p.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(kv[1])) : ""
            return (name, value)
        }
        var options = SearchParser.Options()
        options.strict = true
        var (query, _) = try SearchParser(options: options).parse(types: [type], parameters: pairs)
        query.visibility = visibility
        guard !query.filters.isEmpty else {
            throw FHIRError.badRequest("conditional criteria are empty: a conditional interaction needs search parameters, e.g. identifier=system|value",
                                       "los criterios condicionales están vacíos: una interacción condicional necesita parámetros de búsqueda, p. ej. identifier=sistema|valor")
        }
        return query
    }

    /// The create step inside a transaction (used by create and by transaction bundles).
    func create(in tx: any StoreTransaction, _ type: String, _ resource: JSON, id: String, condition: SearchQuery?, now: Timestamp) throws -> WriteResult {
        if let condition {
            let matches = try tx.matchingKeys(condition, limit: 2)
            if matches.count > 1 {
                throw FHIRError(status: 412, code: "duplicate",
                                english: "the conditional create matched \(matches.count) or more resources; the criteria must be more selective",
                                spanish: "la creación condicional coincidió con \(matches.count) o más recursos; los criterios deben ser más selectivos")
            }
            if let existing = matches.first, let current = try tx.current(type, existing.id) {
                return WriteResult(resource: current, created: false, matchedExisting: true)
            }
        }
        let prepared = prepare(resource, type: type, id: id, version: 1, now: now)
        try tx.put(prepared.stored, index: prepared.index)
        return WriteResult(resource: prepared.stored, created: true)
    }

    /// update (https://hl7.org/fhir/R4/http.html#update): update-as-create with a client id,
    /// `If-Match` optimistic locking (412 when the version is not the current one).
    public func update(_ type: String, _ id: String, _ resource: JSON, ifMatch: Int? = nil) async throws -> WriteResult {
        try Repository.checkType(type)
        try checkID(id)
        try checkBody(resource, type: type, id: id)
        let now = clock.now()
        return try await commit { tx in
            let result = try self.update(in: tx, type, id, resource, ifMatch: ifMatch, now: now)
            try self.afterWrite?(tx, [Written(resource: result.resource, created: result.created)])
            return result
        }
    }

    /// Conditional update (https://hl7.org/fhir/R4/http.html#cond-update): no match creates
    /// (with the body's id or a new one), one match updates it, several answer 412.
    public func conditionalUpdate(_ type: String, criteria: String, _ resource: JSON) async throws -> WriteResult {
        try Repository.checkType(type)
        let condition = try conditionQuery(type, criteria)
        try checkBody(resource, type: type, id: resource["id"]?.stringValue)
        let now = clock.now()
        let newID = ids.next()
        return try await commit { tx in
            let result = try self.conditionalUpdate(in: tx, type, condition, resource, newID: newID, now: now)
            try self.afterWrite?(tx, [Written(resource: result.resource, created: result.created)])
            return result
        }
    }

    func conditionalUpdate(in tx: any StoreTransaction, _ type: String, _ condition: SearchQuery, _ resource: JSON, newID: String, now: Timestamp) throws -> WriteResult {
        let matches = try tx.matchingKeys(condition, limit: 2)
        if matches.count > 1 {
            throw FHIRError(status: 412, code: "multiple-matches",
                            english: "the conditional update matched more than one \(type); the criteria must be more selective",
                            spanish: "la actualización condicional coincidió con más de un \(type); los criterios deben ser más selectivos")
        }
        let bodyID = resource["id"]?.stringValue
        if let match = matches.first {
            if let bodyID, bodyID != match.id {
                throw FHIRError(status: 400, code: "invalid",
                                english: "the body's id '\(bodyID)' differs from the matching \(type)/\(match.id)",
                                spanish: "el id '\(bodyID)' del cuerpo difiere del \(type)/\(match.id) que coincide")
            }
            return try update(in: tx, type, match.id, resource, ifMatch: nil, now: now)
        }
        return try update(in: tx, type, bodyID ?? newID, resource, ifMatch: nil, now: now)
    }

    func update(in tx: any StoreTransaction, _ type: String, _ id: String, _ resource: JSON, ifMatch: Int?, now: Timestamp,
                ready: Prepared? = nil, skipUnchanged: Bool = false) throws -> WriteResult {
        let current = try tx.current(type, id)
        if let ifMatch, ifMatch != current?.version ?? 0 {
            throw FHIRError(status: 412, code: "conflict",
                            english: "If-Match version \(ifMatch) is not the current version of \(type)/\(id) (\(current.map { String($0.version) } ?? "none"))",
                            spanish: "La versión \(ifMatch) de If-Match no es la versión actual de \(type)/\(id) (\(current.map { String($0.version) } ?? "ninguna"))")
        }
        if skipUnchanged, let current, !current.deleted,
           prepare(resource, type: type, id: id, version: current.version, now: current.lastUpdated).stored.body == current.body {
            return WriteResult(resource: current, created: false, matchedExisting: true)
        }
        let version = (current?.version ?? 0) + 1
        // prepared outside the writer as version 1: right for a new resource only
        let prepared = version == 1 && ready != nil ? ready! : prepare(resource, type: type, id: id, version: version, now: now)
        try tx.put(prepared.stored, index: prepared.index)
        return WriteResult(resource: prepared.stored, created: current == nil || current!.deleted)
    }

    /// delete (https://hl7.org/fhir/R4/http.html#delete): logical; records a version with
    /// `deleted`. Deleting what is already deleted or never existed succeeds (idempotent).
    /// Returns the delete version, or nil when there was nothing to delete.
    @discardableResult
    public func delete(_ type: String, _ id: String, ifMatch: Int? = nil) async throws -> StoredResource? {
        try Repository.checkType(type)
        guard Repository.isValidID(id) else { return nil }
        let now = clock.now()
        return try await commit { tx in
            let tombstone = try self.delete(in: tx, type, id, ifMatch: ifMatch, now: now)
            try self.afterWrite?(tx, tombstone.map { [Written(resource: $0, created: false)] } ?? [])
            return tombstone
        }
    }

    /// Conditional delete (https://hl7.org/fhir/R4/http.html#cdelete): deletes every match, up
    /// to `limit` (more answers 412). Returns the delete versions.
    public func conditionalDelete(_ type: String, criteria: String, limit: Int = 100) async throws -> [StoredResource] {
        try Repository.checkType(type)
        let condition = try conditionQuery(type, criteria)
        let now = clock.now()
        return try await commit { tx in
            let deleted = try self.conditionalDelete(in: tx, type, condition, limit: limit, now: now)
            try self.afterWrite?(tx, deleted.map { Written(resource: $0, created: false) })
            return deleted
        }
    }

    func conditionalDelete(in tx: any StoreTransaction, _ type: String, _ condition: SearchQuery, limit: Int, now: Timestamp) throws -> [StoredResource] {
        let matches = try tx.matchingKeys(condition, limit: limit + 1)
        if matches.count > limit {
            throw FHIRError(status: 412, code: "multiple-matches",
                            english: "the conditional delete matched more than \(limit) resources; narrow the criteria",
                            spanish: "el borrado condicional coincidió con más de \(limit) recursos; acote los criterios")
        }
        return try matches.compactMap { try delete(in: tx, type, $0.id, ifMatch: nil, now: now) }
    }

    func delete(in tx: any StoreTransaction, _ type: String, _ id: String, ifMatch: Int?, now: Timestamp) throws -> StoredResource? {
        guard let current = try tx.current(type, id) else { return nil }
        if let ifMatch, ifMatch != current.version {
            throw FHIRError(status: 412, code: "conflict",
                            english: "If-Match version \(ifMatch) is not the current version of \(type)/\(id) (\(current.version))",
                            spanish: "La versión \(ifMatch) de If-Match no es la versión actual de \(type)/\(id) (\(current.version))")
        }
        if current.deleted { return nil }
        let tombstone = StoredResource(type: type, id: id, version: current.version + 1, lastUpdated: now,
                                       deleted: true, body: [], compartments: current.compartments, labels: current.labels)
        try tx.put(tombstone, index: [])
        return tombstone
    }

    /// Stores a resource the server itself generates (a Provenance, a Communication) as version
    /// 1 with a new id, inside the caller's transaction. No validation: the server builds it.
    public func storeGenerated(in tx: any StoreTransaction, _ type: String, _ resource: JSON, now: Timestamp,
                               compartments: [String]? = nil) throws -> StoredResource {
        var prepared = prepare(resource, type: type, id: ids.next(), version: 1, now: now)
        if let compartments { prepared.stored.compartments = compartments }
        try tx.put(prepared.stored, index: prepared.index)
        return prepared.stored
    }

    func checkID(_ id: String) throws {
        guard Repository.isValidID(id) else {
            throw FHIRError(status: 400, code: "value", english: "'\(id)' is not a valid FHIR id ([A-Za-z0-9-.]{1,64})",
                            spanish: "'\(id)' no es un id FHIR válido ([A-Za-z0-9-.]{1,64})")
        }
    }

    // MARK: - history

    /// history (https://hl7.org/fhir/R4/http.html#history): newest first, keyset-paged.
    public func history(_ query: HistoryQuery) async throws -> (entries: [HistoryEntry], total: Int) {
        switch query.scope {
        case .system: break
        case .type(let t): try Repository.checkType(t)
        case .instance(let t, let id):
            try Repository.checkType(t)
            let exists = try await store.read { try $0.current(t, id) } != nil
            if !exists { throw FHIRError.notFound(t, id) }
        }
        return try await store.read { reader in
            (try reader.history(query), try reader.historyCount(query.scope, since: query.since, visibility: query.visibility))
        }
    }

    // MARK: - search

    /// search (https://hl7.org/fhir/R4/search.html): one page, its includes and the total.
    public func search(_ query: SearchQuery) async throws -> SearchResult {
        for t in query.types { try Repository.checkType(t) }
        return try await store.read { try $0.search(query) }
    }

    // MARK: - validation

    /// `$validate` (https://hl7.org/fhir/R4/resource-operation-validate.html): the issues of
    /// `resource`, and for `type` whether it matches.
    public func validationIssues(_ resource: JSON, type: String, id: String? = nil) -> [Issue] {
        var issues = validate(resource)
        if let rt = resource["resourceType"]?.stringValue, rt != type {
            issues.append(Issue(code: "invalid", english: "resourceType '\(rt)' does not match the URL type '\(type)'",
                                spanish: "resourceType '\(rt)' no coincide con el tipo de la URL '\(type)'", expression: ["\(rt).resourceType"]))
        }
        if let id, let bodyID = resource["id"]?.stringValue, bodyID != id {
            issues.append(Issue(code: "invalid", english: "id '\(bodyID)' in the body differs from the id '\(id)' in the URL",
                                spanish: "el id '\(bodyID)' del cuerpo difiere del id '\(id)' de la URL", expression: ["\(type).id"]))
        }
        return issues
    }

    /// Checks that the body is a valid `type` resource for this URL. With `validated`, the
    /// content was already validated (a transaction Bundle validates every entry at once) and
    /// only the fit to the URL is checked.
    func checkBody(_ resource: JSON, type: String, id: String?, validated: Bool = false) throws {
        if validated {
            if resource["resourceType"]?.stringValue != type {
                throw FHIRError.badRequest("resourceType does not match the URL type \(type)", "resourceType no coincide con el tipo \(type) de la URL")
            }
            if let id, let bodyID = resource["id"]?.stringValue, bodyID != id {
                throw FHIRError(status: 400, code: "invalid", english: "id '\(bodyID)' in the body differs from the id '\(id)' in the URL",
                                spanish: "el id '\(bodyID)' del cuerpo difiere del id '\(id)' de la URL", expression: ["\(type).id"])
            }
            return
        }
        guard case .object = resource else {
            throw FHIRError(status: 400, code: "structure", english: "the body must be a JSON object (a FHIR resource)",
                            spanish: "el cuerpo debe ser un objeto JSON (un recurso FHIR)")
        }
        // A client id on create is ignored, as https://hl7.org/fhir/R4/http.html#create says.
        let issues = validationIssues(resource, type: type, id: id).filter { $0.severity == .error || $0.severity == .fatal }
        guard !issues.isEmpty else { return }
        // A body that does not belong at this URL is a bad request; a resource that breaks its
        // definition is unprocessable.
        let mismatch = resource["resourceType"]?.stringValue != type || (id != nil && resource["id"] != nil && resource["id"]?.stringValue != id)
        throw FHIRError(status: mismatch ? 400 : 422, issues: issues)
    }

    // MARK: - helpers

    struct Prepared: Sendable {
        var stored: StoredResource
        var index: [IndexEntry]
    }

    /// Sets `id`, `meta.versionId` and `meta.lastUpdated` (keeping the client's other meta).
    func prepare(_ resource: JSON, type: String, id: String, version: Int, now: Timestamp) -> Prepared {
        var meta: JSON = resource["meta"] ?? .object([])
        if let labeler {
            var security = meta["security"]?.arrayValue ?? []
            var present = Set(security.compactMap { c -> String? in c["code"]?.stringValue.map { "\(c["system"]?.stringValue ?? "")|\($0)" } })
            for l in labeler.securityLabels(for: resource, type: type) where !present.contains("\(l.system)|\(l.code)") {
                present.insert("\(l.system)|\(l.code)")
                var coding: [(String, JSON)] = [("system", .string(l.system)), ("code", .string(l.code))]
                if let d = l.display { coding.append(("display", .string(d))) }
                security.append(.object(coding))
            }
            if !security.isEmpty { meta = meta.setting("security", .array(security)) }
        }
        meta = meta.setting("versionId", .string(String(version)))
        meta = meta.setting("lastUpdated", .string(now.description))
        var members: [(String, JSON)] = [("resourceType", .string(type)), ("id", .string(id)), ("meta", meta)]
        for (k, v) in resource.objectValue ?? [] where k != "resourceType" && k != "id" && k != "meta" {
            members.append((k, v))
        }
        let body = JSON.object(members)
        let labels = (meta["security"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue }
        var patients = compartments.patients(of: body, type: type, id: id)
        if let extra = labeler?.extraCompartments(for: body, type: type), !extra.isEmpty {
            patients = Array(Set(patients).union(extra)).sorted()
        }
        let stored = StoredResource(type: type, id: id, version: version, lastUpdated: now, deleted: false,
                                    body: body.serialized(), compartments: patients, labels: labels).keeping(body)
        return Prepared(stored: stored, index: indexer.entries(for: body, type: type))
    }

    public static func checkType(_ type: String) throws {
        guard Definitions.r4.isResourceType(type) else { throw FHIRError.unknownType(type) }
    }

    /// https://hl7.org/fhir/R4/datatypes.html#id
    public static func isValidID(_ id: String) -> Bool {
        guard !id.isEmpty, id.utf8.count <= 64 else { return false }
        return id.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 46 }
    }
}

