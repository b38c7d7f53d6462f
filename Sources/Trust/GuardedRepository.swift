import FHIR
import Foundation
import Storage

/// The only way from a request to the data. For the request's principal it:
/// 1. decides what may be done *before* the repository runs anything, so a refusal never
///    depends on whether data exists;
/// 2. runs the repository, filtering what comes back;
/// 3. records what was touched in the request's `AuditContext`, and for writes appends the
///    audit entry and a Provenance in the same database transaction as the data.
///
/// Today's access rule (the foundation): `system/` scopes grant their permissions on the types
/// they name. `patient/` and `user/` scopes need the patient and user context of the access
/// issue and grant nothing until it lands, which is the safe reading.
public struct GuardedRepository: Sendable {
    public let principal: Principal
    let repository: Repository
    let audit: AuditContext?
    let builder: AuditEventBuilder?
    let clock: any Clock

    public init(principal: Principal, repository: Repository, audit: AuditContext? = nil, builder: AuditEventBuilder? = nil,
                clock: any Clock = SystemClock()) {
        self.principal = principal
        self.repository = repository
        self.audit = audit
        self.builder = builder
        self.clock = clock
    }

    /// Throws 403 unless a scope grants `permission` on `type`.
    func require(_ permission: ScopeSet.Permission, on type: String) throws {
        guard principal.scopes.allows(permission, on: type, context: .system) else {
            audit?.decidedBy("urn:enlace:rule:scope-denied")
            throw FHIRError(status: 403, code: "forbidden",
                            english: "the access token's scopes do not allow '\(permission.rawValue)' on \(type)",
                            spanish: "los permisos (scopes) del token no autorizan '\(permission.rawValue)' sobre \(type)")
        }
        audit?.decidedBy("urn:enlace:rule:system-scope")
    }

    /// AuditEvents are written by the server only (https://hl7.org/fhir/R4/auditevent.html).
    func refuseAuditWrites(_ type: String) throws {
        if type == "AuditEvent" {
            throw FHIRError(status: 405, issues: [Issue(code: "not-supported",
                english: "AuditEvents are written only by the server's audit ledger; they cannot be created, changed or deleted through the API",
                spanish: "Los AuditEvent solo los escribe el registro de auditoría del servidor; no se pueden crear, cambiar ni borrar por la API")],
                headers: ["Allow": "GET"])
        }
    }

    /// The repository of this request: writes append the audit entry (once) and a Provenance
    /// for each created or updated resource in their own transaction.
    func writing(recordAudit: Bool = true, status: @escaping @Sendable ([Repository.Written]) -> Int) -> Repository {
        var repo = repository
        let audit = self.audit, builder = self.builder, principal = self.principal, clock = self.clock, base = repository
        repo.afterWrite = { tx, written in
            let now = clock.now()
            for w in written {
                audit?.touched("\(w.resource.type)/\(w.resource.id)/_history/\(w.resource.version)", patients: w.resource.compartments)
                if !w.resource.deleted, w.resource.type != "Provenance" {
                    let provenance = ProvenanceBuilder.build(for: w, principal: principal, recorded: now, reason: nil)
                    _ = try base.storeGenerated(in: tx, "Provenance", provenance, now: now)
                }
            }
            if recordAudit, let audit, let builder, audit.recordedIndex == nil {
                let event = builder.build(audit, status: status(written), recorded: now)
                let index = try tx.appendAudit([PendingAudit(recorded: now, patients: audit.patients, bytes: event.serialized())],
                                               chain: AuditLedger.chain)
                audit.recordedIndex = index.first
            }
        }
        return repo
    }

    func saw(_ r: StoredResource) {
        audit?.touched("\(r.type)/\(r.id)/_history/\(r.version)", patients: r.compartments)
    }

    // MARK: - interactions

    public func read(_ type: String, _ id: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        let r = try await repository.read(type, id)
        saw(r)
        return r
    }

    public func vread(_ type: String, _ id: String, version: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        let r = try await repository.vread(type, id, version: version)
        saw(r)
        return r
    }

    public func create(_ type: String, _ resource: JSON, ifNoneExist: String?) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.create, on: type)
        if ifNoneExist != nil { try require(.search, on: type) }
        let result = try await writing(status: { $0.isEmpty ? 200 : 201 }).create(type, resource, ifNoneExist: ifNoneExist)
        if result.matchedExisting { saw(result.resource) }
        return result
    }

    public func update(_ type: String, _ id: String, _ resource: JSON, ifMatch: Int?) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.update, on: type)
        return try await writing(status: { $0.first?.created == true ? 201 : 200 }).update(type, id, resource, ifMatch: ifMatch)
    }

    @discardableResult
    public func delete(_ type: String, _ id: String, ifMatch: Int?) async throws -> StoredResource? {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.delete, on: type)
        audit?.touched("\(type)/\(id)", patients: [])
        return try await writing(status: { _ in 200 }).delete(type, id, ifMatch: ifMatch)
    }

    /// Conditional update: needs `u` (and `s`, since the criteria search).
    public func conditionalUpdate(_ type: String, criteria: String, _ resource: JSON) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.update, on: type)
        try require(.search, on: type)
        return try await writing(status: { $0.first?.created == true ? 201 : 200 }).conditionalUpdate(type, criteria: criteria, resource)
    }

    /// Conditional delete: needs `d` and `s`.
    public func conditionalDelete(_ type: String, criteria: String) async throws -> [StoredResource] {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.delete, on: type)
        try require(.search, on: type)
        return try await writing(status: { _ in 200 }).conditionalDelete(type, criteria: criteria)
    }

    public func history(_ query: HistoryQuery) async throws -> (entries: [HistoryEntry], total: Int) {
        switch query.scope {
        case .system: try require(.search, on: "*")
        case .type(let t): try Repository.checkType(t); try require(.search, on: t)
        case .instance(let t, _): try Repository.checkType(t); try require(.read, on: t)
        }
        let result = try await repository.history(query)
        for e in result.entries { saw(e.resource) }
        return result
    }

    /// search: needs `s` on every type searched; included resources of types the scopes do not
    /// let the principal read are left out.
    public func search(_ query: SearchQuery) async throws -> SearchResult {
        for t in query.types { try Repository.checkType(t) }
        for t in query.types { try require(.search, on: t) }
        if let p = query.compartment { audit?.concerns(p) }
        var result = try await repository.search(query)
        result.included = result.included.filter { principal.scopes.allows(.read, on: $0.type, context: .system) }
        for r in result.matches { saw(r) }
        for r in result.included { saw(r) }
        return result
    }

    /// Transaction and batch bundles: every entry is authorized before anything runs. A
    /// transaction's audit entry commits with it; a batch's is recorded when it ends.
    public func process(bundle: JSON, options: Repository.BundleOptions) async throws -> JSON {
        let principal = self.principal
        let isBatch = bundle["type"]?.stringValue == "batch"
        audit?.interaction = isBatch ? "batch" : "transaction"
        let repo = writing(recordAudit: !isBatch, status: { _ in 200 })
        return try await repo.process(bundle: bundle, options: options) { interaction, type in
            if type == "AuditEvent", [.create, .update, .delete].contains(interaction) {
                throw FHIRError(status: 405, code: "not-supported", english: "AuditEvents cannot be written through the API",
                                spanish: "Los AuditEvent no se pueden escribir por la API")
            }
            let needed: [ScopeSet.Permission]
            switch interaction {
            case .read, .vread: needed = [.read]
            case .search: needed = [.search]
            case .create: needed = [.create]
            case .update: needed = [.update]
            case .delete: needed = [.delete]
            }
            for p in needed where !principal.scopes.allows(p, on: type, context: .system) {
                throw FHIRError(status: 403, code: "forbidden",
                                english: "the access token's scopes do not allow '\(p.rawValue)' on \(type)",
                                spanish: "los permisos (scopes) del token no autorizan '\(p.rawValue)' sobre \(type)")
            }
        }
    }

    /// `$validate` stores nothing, but still needs a right to the type (it reveals nothing stored).
    public func validate(_ resource: JSON, type: String, id: String?) throws -> [Issue] {
        try Repository.checkType(type)
        guard principal.scopes.allows(.create, on: type, context: .system) || principal.scopes.allows(.update, on: type, context: .system)
                || principal.scopes.allows(.read, on: type, context: .system) else {
            try require(.create, on: type)
            return []
        }
        return repository.validationIssues(resource, type: type, id: id)
    }
}
