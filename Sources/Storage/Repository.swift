import FHIR
import Foundation

/// The FHIR RESTful semantics over a `ResourceStore`: ids, versions, `meta`, validation,
/// compartments, optimistic locking and conditional create
/// (https://hl7.org/fhir/R4/http.html). Knows nothing about who asks: access decisions wrap it
/// (`Trust.GuardedRepository`), and nothing reaches it from HTTP except through that guard.
public struct Repository: Sendable {
    public let store: any ResourceStore
    public let clock: any Clock
    public let ids: any IDGenerator
    public let validate: @Sendable (JSON) -> [Issue]
    let compartments: CompartmentResolver
    let indexer: Indexer

    public init(store: any ResourceStore, clock: any Clock = SystemClock(), ids: any IDGenerator = UUIDGenerator(),
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
        /// For a conditional create that matched: nothing was written (HTTP 200).
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
        let condition = try ifNoneExist.map { try ConditionalQuery(type: type, query: $0) }
        let id = ids.next()
        let now = clock.now()
        let prepared = prepare(resource, type: type, id: id, version: 1, now: now)
        return try await store.write { tx in
            if let condition {
                let matches = try condition.matches(type, in: tx)
                if matches.count > 1 {
                    throw FHIRError(status: 412, code: "duplicate",
                                    english: "If-None-Exist matched \(matches.count) or more resources; the criteria must be more selective",
                                    spanish: "If-None-Exist coincidió con \(matches.count) o más recursos; los criterios deben ser más selectivos")
                }
                if let existing = matches.first, let current = try tx.current(type, existing) {
                    return WriteResult(resource: current, created: false, matchedExisting: true)
                }
            }
            try tx.put(prepared.stored, index: prepared.index)
            return WriteResult(resource: prepared.stored, created: true)
        }
    }

    /// update (https://hl7.org/fhir/R4/http.html#update): update-as-create with a client id,
    /// `If-Match` optimistic locking (412 when the version is not the current one).
    public func update(_ type: String, _ id: String, _ resource: JSON, ifMatch: Int? = nil) async throws -> WriteResult {
        try Repository.checkType(type)
        guard Repository.isValidID(id) else {
            throw FHIRError(status: 400, code: "value", english: "'\(id)' is not a valid FHIR id ([A-Za-z0-9-.]{1,64})",
                            spanish: "'\(id)' no es un id FHIR válido ([A-Za-z0-9-.]{1,64})")
        }
        try checkBody(resource, type: type, id: id)
        let now = clock.now()
        return try await store.write { tx in
            let current = try tx.current(type, id)
            if let ifMatch, ifMatch != current?.version ?? 0 {
                throw FHIRError(status: 412, code: "conflict",
                                english: "If-Match version \(ifMatch) is not the current version of \(type)/\(id) (\(current.map { String($0.version) } ?? "none"))",
                                spanish: "La versión \(ifMatch) de If-Match no es la versión actual de \(type)/\(id) (\(current.map { String($0.version) } ?? "ninguna"))")
            }
            let version = (current?.version ?? 0) + 1
            let prepared = self.prepare(resource, type: type, id: id, version: version, now: now)
            try tx.put(prepared.stored, index: prepared.index)
            return WriteResult(resource: prepared.stored, created: current == nil || current!.deleted)
        }
    }

    /// delete (https://hl7.org/fhir/R4/http.html#delete): logical; records a version with
    /// `deleted`. Deleting what is already deleted or never existed succeeds (idempotent).
    /// Returns the delete version, or nil when there was nothing to delete.
    @discardableResult
    public func delete(_ type: String, _ id: String, ifMatch: Int? = nil) async throws -> StoredResource? {
        try Repository.checkType(type)
        guard Repository.isValidID(id) else { return nil }
        let now = clock.now()
        return try await store.write { tx in
            guard let current = try tx.current(type, id) else { return nil }
            if let ifMatch, ifMatch != current.version {
                throw FHIRError(status: 412, code: "conflict",
                                english: "If-Match version \(ifMatch) is not the current version of \(type)/\(id) (\(current.version))",
                                spanish: "La versión \(ifMatch) de If-Match no es la versión actual de \(type)/\(id) (\(current.version))")
            }
            if current.deleted { return nil }
            let tombstone = StoredResource(type: type, id: id, version: current.version + 1, lastUpdated: now,
                                           deleted: true, body: [], compartments: current.compartments)
            try tx.put(tombstone, index: [])
            return tombstone
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
            (try reader.history(query), try reader.historyCount(query.scope, since: query.since))
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

    func checkBody(_ resource: JSON, type: String, id: String?) throws {
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
        meta = meta.setting("versionId", .string(String(version)))
        meta = meta.setting("lastUpdated", .string(now.description))
        var members: [(String, JSON)] = [("resourceType", .string(type)), ("id", .string(id)), ("meta", meta)]
        for (k, v) in resource.objectValue ?? [] where k != "resourceType" && k != "id" && k != "meta" {
            members.append((k, v))
        }
        let body = JSON.object(members)
        let stored = StoredResource(type: type, id: id, version: version, lastUpdated: now, deleted: false,
                                    body: body.serialized(), compartments: compartments.patients(of: body, type: type, id: id))
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

/// The search a conditional interaction carries (`If-None-Exist: identifier=sys|123`).
/// Supports `identifier` and `_id` until the search issue brings every parameter.
struct ConditionalQuery: Sendable {
    var tokens: [TokenMatch] = []
    var ids: Set<String>?

    init(type: String, query: String) throws {
        var q = query
        if let r = q.range(of: "?") { q = String(q[r.upperBound...]) }
        let pairs = q.split(separator: "&").map { $0.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) } }
        guard !pairs.isEmpty else {
            throw FHIRError.badRequest("If-None-Exist needs search criteria, e.g. identifier=system|value",
                                       "If-None-Exist necesita criterios de búsqueda, p. ej. identifier=sistema|valor")
        }
        for pair in pairs {
            guard pair.count == 2, !pair[1].isEmpty else {
                throw FHIRError.badRequest("If-None-Exist criterion '\(pair.joined(separator: "="))' has no value",
                                           "El criterio '\(pair.joined(separator: "="))' de If-None-Exist no tiene valor")
            }
            switch pair[0] {
            case "identifier":
                let v = pair[1]
                if let bar = v.firstIndex(of: "|") {
                    let sys = String(v[..<bar]), code = String(v[v.index(after: bar)...])
                    tokens.append(TokenMatch(parameter: "identifier", system: sys, code: code.isEmpty ? nil : code))
                } else {
                    tokens.append(TokenMatch(parameter: "identifier", system: nil, code: v))
                }
            case "_id":
                ids = Set(pair[1].split(separator: ",").map(String.init))
            default:
                throw FHIRError(status: 400, code: "not-supported",
                                english: "If-None-Exist on '\(pair[0])' is not supported yet; use identifier or _id",
                                spanish: "If-None-Exist con '\(pair[0])' aún no se admite; use identifier o _id")
            }
        }
        if tokens.isEmpty, ids == nil {
            throw FHIRError.badRequest("If-None-Exist needs search criteria", "If-None-Exist necesita criterios de búsqueda")
        }
    }

    /// Ids of current resources matching every criterion (at most a few: callers only need 0, 1 or "more").
    func matches(_ type: String, in reader: any StoreReader) throws -> [String] {
        if tokens.isEmpty {
            return try (ids ?? []).sorted().filter { id in
                guard let r = try reader.current(type, id) else { return false }
                return !r.deleted
            }
        }
        let found = try reader.find(type, tokens: tokens, limit: ids == nil ? 2 : 10_000)
        return ids.map { ids in found.filter { ids.contains($0) } } ?? found
    }
}
