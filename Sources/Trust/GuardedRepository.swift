import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// What a principal may reach of the data, opened by the door (`Door.open`). For the principal it:
/// 1. decides what may be done *before* the repository runs anything (`AccessPolicy`), so a
///    refusal never depends on whether data exists: a resource the principal may not see
///    answers exactly like one that does not exist, and counts never include it;
/// 2. runs the repository with that decision applied inside the query, and filters includes;
/// 3. records what was touched in the request's `AuditContext`, and for writes appends the
///    audit entry and a Provenance in the same database transaction as the data.
public struct GuardedRepository: Sendable {
    public let principal: Principal
    public let decision: AccessDecision
    let repository: Repository
    public let audit: AuditContext?
    let builder: AuditEventBuilder?
    let clock: any Clock
    /// The request's `X-Provenance` Provenance, used for the Provenance of its writes.
    public var provenanceTemplate: JSON?
    /// The domains' rules on writes (set by `Door.open`), checked in each write's transaction.
    var writeRules: [any WriteRule] = []

    /// Only Trust makes a guarded repository: `Door.open` for a principal's decision, and the
    /// privacy operations for the narrow decisions of their own (break-the-glass, review).
    init(principal: Principal, decision: AccessDecision, repository: Repository, audit: AuditContext?,
         builder: AuditEventBuilder?, clock: any Clock) {
        self.principal = principal
        self.decision = decision
        self.repository = repository
        self.audit = audit
        self.builder = builder
        self.clock = clock
    }

    /// Do the token's scopes grant `permission` on `type`? `system/` scopes count for operators
    /// and services; `user/` scopes for people; `patient/` scopes when a patient is in context.
    func scopesAllow(_ permission: ScopeSet.Permission, on type: String) -> Bool {
        switch principal.effectiveRole {
        case .platformOperator, .service:
            return principal.scopes.allows(permission, on: type, context: .system)
        default:
            return principal.scopes.allows(permission, on: type, context: .user)
                || (principal.patient != nil && principal.scopes.allows(permission, on: type, context: .patient))
        }
    }

    /// Throws 403 unless the scopes and the role allow `permission` on `type`. Depends only on
    /// the principal, never on data.
    func require(_ permission: ScopeSet.Permission, on type: String) throws {
        guard scopesAllow(permission, on: type) else {
            audit?.decidedBy("urn:enlace:rule:scope-denied")
            throw FHIRError(status: 403, code: "forbidden",
                            english: "the access token's scopes do not allow '\(permission.rawValue)' on \(type)",
                            spanish: "los permisos (scopes) del token no autorizan '\(permission.rawValue)' sobre \(type)")
        }
        let reading = permission == .read || permission == .search
        let allowed = reading ? decision.readableTypes : decision.writableTypes
        if let allowed, type != "*", !allowed.contains(type), reading || !ruledTypes.contains(type) {
            audit?.decidedBy("urn:enlace:rule:role-denied")
            throw FHIRError(status: 403, code: "forbidden",
                            english: "the role \(principal.effectiveRole.rawValue) may not \(reading ? "read" : "write") \(type)",
                            spanish: "el rol \(principal.effectiveRole.rawValue) no puede \(reading ? "leer" : "escribir") \(type)")
        }
        if type == "*", (reading ? decision.readableTypes : decision.writableTypes) != nil || decision.visibility != nil {
            throw FHIRError(status: 403, code: "forbidden", english: "this role may not read across every type",
                            spanish: "este rol no puede leer todos los tipos a la vez")
        }
    }

    /// May this version be seen?
    func visible(_ r: StoredResource) -> Bool {
        decision.visibility?.allows(r) ?? true
    }

    /// May the principal see the resource a reference (`Type/id` or `Type/id/_history/n`) points
    /// to? Used to redact what audit entries name (a withheld result must not show up in the
    /// patient's own access log either).
    public func canSee(_ reference: String) async throws -> Bool {
        try await visibleReferences([reference]).contains(reference)
    }

    /// `canSee` of many references at once, read in one store transaction (a page of the access
    /// log names hundreds): the references among them the principal may see, by the same rules.
    public func visibleReferences(_ references: Set<String>) async throws -> Set<String> {
        let candidates: [(String, [String])] = references.compactMap { ref in
            let parts = ref.split(separator: "/").map(String.init)
            guard parts.count >= 2, Definitions.r4.isResourceType(parts[0]) else { return nil }
            if let readable = decision.readableTypes, !readable.contains(parts[0]) { return nil }
            return (ref, parts)
        }
        if decision.visibility == nil && decision.readableTypes == nil { return Set(candidates.map(\.0)) }
        let found: [(String, Bool, StoredResource?, StoredResource?)] = try await repository.store.read { r in
            try candidates.map { ref, parts in
                let versioned = parts.count == 4 && parts[2] == "_history" ? Int(parts[3]) : nil
                let version = try versioned.flatMap { try r.version(parts[0], parts[1], $0) }
                let current = Repository.isValidID(parts[1]) ? try r.current(parts[0], parts[1]) : nil
                return (ref, versioned != nil, version, current)
            }
        }
        return Set(found.compactMap { ref, versioned, version, current in
            guard let current, visible(current) else { return nil }
            if versioned { guard let version, visible(version) else { return nil } }
            return ref
        })
    }

    /// The current version if it exists and may be seen; a hidden resource is "not found".
    func visibleCurrent(_ type: String, _ id: String) async throws -> StoredResource? {
        guard Repository.isValidID(id) else { return nil }
        let current = try await repository.store.read { try $0.current(type, id) }
        guard let current, visible(current) else { return nil }
        return current
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
    func writing(recordAudit: Bool = true, alsoInTransaction: (@Sendable (any StoreTransaction) throws -> Void)? = nil,
                 status: @escaping @Sendable ([Repository.Written]) -> Int) -> Repository {
        var repo = repository
        repo.visibility = decision.visibility
        let audit = self.audit, builder = self.builder, principal = self.principal, clock = self.clock, base = repository
        let decision = self.decision
        let template = self.provenanceTemplate
        let rules = self.writeRules
        let ruled = self.ruledTypes
        repo.afterWrite = { tx, written in
            let now = clock.now()
            for w in written {
                // not written again (an import of what is already stored): only the check that
                // the principal could have written it, so the answer reveals nothing it may not see
                if w.unchanged { try GuardedRepository.checkWrite(w, decision: decision, tx: tx); continue }
                if !ruled.contains(w.resource.type) { try GuardedRepository.checkWrite(w, decision: decision, tx: tx) }
                // the write's Provenance (with the request's X-Provenance: its reason) is stored
                // before the domains' rules run, so a rule may ask for it (e.g. a consultation
                // note is corrected only with a reason, docs/care.md)
                if !w.resource.deleted, w.resource.type != "Provenance" {
                    var provenance = ProvenanceBuilder.build(for: w, principal: principal, recorded: now, reason: nil, template: template)
                    // the Provenance of a labelled resource carries its labels: it must not betray it
                    if !w.resource.labels.isEmpty, let security = (try? w.resource.json())?["meta"]?["security"] {
                        provenance = provenance.setting("meta", (provenance["meta"] ?? .object([])).setting("security", security))
                    }
                    _ = try base.storeGenerated(in: tx, "Provenance", provenance, now: now, compartments: w.resource.compartments)
                }
                for rule in rules where rule.types.contains(w.resource.type) {
                    let previous = w.resource.version > 1 ? try tx.version(w.resource.type, w.resource.id, w.resource.version - 1) : nil
                    let new = w.resource.deleted ? nil : try w.resource.json()
                    let old = previous.flatMap { $0.deleted ? nil : try? $0.json() }
                    try rule.check(new, previous: old, principal: principal, context: WriteRuleContext(tx: tx))
                    for c in try rule.keep(new, previous: old, id: w.resource.id, principal: principal, decision: decision,
                                           recorded: { try tx.record($0, $1) }) {
                        try tx.putRecord(c.kind, c.key, c.value)
                    }
                }
                audit?.touched("\(w.resource.type)/\(w.resource.id)/_history/\(w.resource.version)", patients: w.resource.compartments)
            }
            try alsoInTransaction?(tx)
            if recordAudit, let audit, let builder, try !GuardedRepository.auditCommitted(audit, in: tx) {
                let bytes = builder.build(audit, status: status(written), recorded: now).serialized()
                let index = try tx.appendAudit([PendingAudit(recorded: now, patients: audit.patients, bytes: bytes)],
                                               chain: AuditLedger.chain)
                audit.recordedIndex = index.first
                audit.recordedBytes = bytes
            }
        }
        return repo
    }

    /// Whether the request's entry is already in the ledger as `tx` sees it: appended by an
    /// earlier committed transaction of the same request (a batch commits in groups), or by the
    /// audit middleware. An entry appended by an attempt the database rolled back (and is now
    /// retrying) is not there — its index is empty or holds another request's entry — so the
    /// retry appends it again instead of committing a write without its entry.
    static func auditCommitted(_ audit: AuditContext, in tx: any StoreTransaction) throws -> Bool {
        guard let index = audit.recordedIndex else { return false }
        guard let bytes = audit.recordedBytes else { return true }
        return try tx.auditEntries(start: index, end: index + 1).first?.bytes == bytes
    }

    /// A write must stay inside what the role may write: the compartments of the new version
    /// (and of the version it replaces) must belong to `writePatients`; shared data needs
    /// `writeShared`. Runs inside the transaction, so a refusal leaves nothing behind.
    static func checkWrite(_ w: Repository.Written, decision: AccessDecision, tx: any StoreTransaction) throws {
        if w.resource.type == "Task", !w.resource.deleted, let body = try? w.resource.json() {
            let code = (body["code"]?["coding"]?.arrayValue ?? []).first { $0["system"]?.stringValue == PrivacyCodes.taskCodes }?["code"]?.stringValue
            if let code, decision.forbiddenTaskCodes.contains(code) {
                throw FHIRError(status: 403, code: "forbidden",
                                english: "Task '\(code)' records are written by Enlace's privacy operations or by clinicians only",
                                spanish: "los registros Task '\(code)' solo los escriben las operaciones de privacidad de Enlace o el personal clínico")
            }
            if code == PrivacyCodes.consentRequest, w.created, let requester = body["requester"]?["reference"]?.stringValue,
               decision.consentRequesters.contains(requester) {
                return  // asking a patient for consent needs no relationship
            }
        }
        if let rule = decision.writableByRule[w.resource.type] {
            try checkWriteByRule(w, rule: rule, tx: tx)
            return
        }
        guard let patients = decision.writePatients else { return }
        var compartments = w.resource.compartments
        if w.resource.version > 1, let previous = try tx.version(w.resource.type, w.resource.id, w.resource.version - 1) {
            compartments += previous.compartments
        }
        let isShared = AccessPolicy.sharedTypes.contains(w.resource.type)
        let ok: Bool
        if isShared {
            ok = decision.writeShared
        } else {
            ok = !compartments.isEmpty && compartments.allSatisfy { patients.contains($0) }
        }
        if !ok {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "this write would touch data of a patient you have no relationship with (\(w.resource.type))",
                            spanish: "esta escritura tocaría datos de un paciente con el que no tiene relación (\(w.resource.type))")
        }
    }

    /// A write of a type written by rule: the new version and the one it replaces must satisfy it.
    static func checkWriteByRule(_ w: Repository.Written, rule: DataRule, tx: any StoreTransaction) throws {
        func satisfies(_ r: StoredResource) -> Bool {
            guard !r.deleted, let json = try? r.json() else { return false }
            return rule.matches(type: r.type, id: r.id, labels: r.labels, entries: Indexer().entries(for: json, type: r.type))
        }
        var ok = satisfies(w.resource)
        if ok, w.resource.version > 1, let previous = try tx.version(w.resource.type, w.resource.id, w.resource.version - 1), !previous.deleted {
            ok = satisfies(previous)
        }
        if !ok {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "this role may write only its own records of this kind (\(w.resource.type)): the write falls outside them",
                            spanish: "este rol solo puede escribir sus propios registros de este tipo (\(w.resource.type)): la escritura queda fuera de ellos")
        }
    }

    func saw(_ r: StoredResource) {
        audit?.touched("\(r.type)/\(r.id)/_history/\(r.version)", patients: r.compartments)
    }

    /// Types whose writers a domain's rule decides (`WriteRule.decidesWhoWrites`).
    var ruledTypes: Set<String> { Set(writeRules.filter(\.decidesWhoWrites).flatMap(\.types)) }

    // MARK: - interactions

    public func read(_ type: String, _ id: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        guard let r = try await visibleCurrent(type, id) else { throw FHIRError.notFound(type, id) }
        if r.deleted { throw FHIRError.gone(type, id) }
        saw(r)
        return present(r)
    }

    /// The resource as the principal may see it (a payer's minimal Encounter).
    func present(_ r: StoredResource) -> StoredResource {
        decision.visibility?.present(r) ?? r
    }

    public func vread(_ type: String, _ id: String, version: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        guard try await visibleCurrent(type, id) != nil else { throw FHIRError.notFound(type, id) }
        let r = try await repository.vread(type, id, version: version)
        guard visible(r) else { throw FHIRError.notFound(type, id) }
        saw(r)
        return present(r)
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
        if !decision.updateAsCreate, try await visibleCurrent(type, id) == nil { throw FHIRError.notFound(type, id) }
        return try await writing(status: { $0.first?.created == true ? 201 : 200 }).update(type, id, resource, ifMatch: ifMatch)
    }

    @discardableResult
    public func delete(_ type: String, _ id: String, ifMatch: Int?) async throws -> StoredResource? {
        try Repository.checkType(type)
        try refuseAuditWrites(type)
        try require(.delete, on: type)
        audit?.touched("\(type)/\(id)", patients: [])
        if !decision.updateAsCreate, try await visibleCurrent(type, id) == nil { throw FHIRError.notFound(type, id) }
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
        var query = query
        switch query.scope {
        case .system: try require(.search, on: "*")
        case .type(let t): try Repository.checkType(t); try require(.search, on: t)
        case .instance(let t, let id):
            try Repository.checkType(t)
            try require(.read, on: t)
            guard try await visibleCurrent(t, id) != nil else { throw FHIRError.notFound(t, id) }
        }
        query.visibility = decision.visibility
        var result = try await repository.history(query)
        if let v = decision.visibility, !v.dataRules.isEmpty {
            // the SQL judged each version by the current version's index; a Consent naming codes
            // or dates is also checked against each version's own content
            result.entries = result.entries.filter { $0.resource.deleted || visible($0.resource) }
        }
        for e in result.entries { saw(e.resource) }
        if let v = decision.visibility, !v.minimal.isEmpty {
            result.entries = result.entries.map { e in
                var e = e
                e.resource = v.present(e.resource)
                return e
            }
        }
        return result
    }

    /// search: needs `s` on every type searched; included resources of types the scopes do not
    /// let the principal read are left out.
    public func search(_ query: SearchQuery) async throws -> SearchResult {
        for t in query.types { try Repository.checkType(t) }
        for t in query.types { try require(.search, on: t) }
        if let p = query.compartment { audit?.concerns(p) }
        var query = query
        query.visibility = decision.visibility
        var result = try await repository.search(query)
        let readable = decision.readableTypes
        result.included = result.included.filter {
            scopesAllow(.read, on: $0.type) && (readable?.contains($0.type) ?? true) && visible($0)
        }
        for r in result.matches { saw(r) }
        for r in result.included { saw(r) }
        if let v = decision.visibility, !v.minimal.isEmpty {
            result.matches = result.matches.map(v.present)
            result.included = result.included.map(v.present)
        }
        return result
    }

    /// Transaction and batch bundles: every entry is authorized before anything runs. A
    /// transaction's audit entry commits with it; a batch's is recorded when it ends.
    public func process(bundle: JSON, options: Repository.BundleOptions) async throws -> JSON {
        try await process(bundle: bundle, options: options, alsoInTransaction: nil)
    }

    /// A transaction Bundle whose database transaction also runs `alsoInTransaction` (an outbox
    /// consumer advances its cursor and keeps its state with the writes it decided).
    func process(bundle: JSON, options: Repository.BundleOptions, alsoInTransaction: (@Sendable (any StoreTransaction) throws -> Void)?) async throws -> JSON {
        let isBatch = bundle["type"]?.stringValue == "batch"
        audit?.interaction = isBatch ? "batch" : "transaction"
        let repo = writing(recordAudit: !isBatch, alsoInTransaction: alsoInTransaction, status: { _ in 200 })
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
            for p in needed { try self.require(p, on: type) }
        }
    }

    /// `$validate` stores nothing, but still needs a right to the type (it reveals nothing stored).
    public func validate(_ resource: JSON, type: String, id: String?) throws -> [Issue] {
        try Repository.checkType(type)
        guard scopesAllow(.create, on: type) || scopesAllow(.update, on: type) || scopesAllow(.read, on: type) else {
            try require(.create, on: type)
            return []
        }
        return repository.validationIssues(resource, type: type, id: id)
    }
}
