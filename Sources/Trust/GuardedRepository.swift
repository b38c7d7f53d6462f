import FHIR
import Storage

/// The only way from a request to the data: decides what `principal` may do *before* the
/// repository runs anything, so a refusal never depends on whether data exists.
///
/// Today's rule (the foundation): `system/` scopes grant their permissions on the types they
/// name. `patient/` and `user/` scopes need the patient and user context of the access issue
/// and grant nothing yet, which is the safe reading. Consent and the audit ledger plug in here.
public struct GuardedRepository: Sendable {
    public let principal: Principal
    let repository: Repository

    public init(principal: Principal, repository: Repository) {
        self.principal = principal
        self.repository = repository
    }

    /// Throws 403 unless a scope grants `permission` on `type` (or on every type for system-wide calls).
    func require(_ permission: ScopeSet.Permission, on type: String) throws {
        guard principal.scopes.allows(permission, on: type, context: .system) else {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "the access token's scopes do not allow '\(permission.rawValue)' on \(type)",
                            spanish: "los permisos (scopes) del token no autorizan '\(permission.rawValue)' sobre \(type)")
        }
    }

    public func read(_ type: String, _ id: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        return try await repository.read(type, id)
    }

    public func vread(_ type: String, _ id: String, version: String) async throws -> StoredResource {
        try Repository.checkType(type)
        try require(.read, on: type)
        return try await repository.vread(type, id, version: version)
    }

    public func create(_ type: String, _ resource: JSON, ifNoneExist: String?) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try require(.create, on: type)
        if ifNoneExist != nil { try require(.search, on: type) }
        return try await repository.create(type, resource, ifNoneExist: ifNoneExist)
    }

    public func update(_ type: String, _ id: String, _ resource: JSON, ifMatch: Int?) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try require(.update, on: type)
        return try await repository.update(type, id, resource, ifMatch: ifMatch)
    }

    @discardableResult
    public func delete(_ type: String, _ id: String, ifMatch: Int?) async throws -> StoredResource? {
        try Repository.checkType(type)
        try require(.delete, on: type)
        return try await repository.delete(type, id, ifMatch: ifMatch)
    }

    public func history(_ query: HistoryQuery) async throws -> (entries: [HistoryEntry], total: Int) {
        switch query.scope {
        case .system: try require(.search, on: "*")
        case .type(let t): try Repository.checkType(t); try require(.search, on: t)
        case .instance(let t, _): try Repository.checkType(t); try require(.read, on: t)
        }
        return try await repository.history(query)
    }

    /// search: needs `s` on every type searched; included resources of types the scopes do not
    /// let the principal read are left out.
    public func search(_ query: SearchQuery) async throws -> SearchResult {
        for t in query.types { try Repository.checkType(t) }
        for t in query.types { try require(.search, on: t) }
        var result = try await repository.search(query)
        result.included = result.included.filter { principal.scopes.allows(.read, on: $0.type, context: .system) }
        return result
    }

    /// Conditional update: needs `u` (and `s`, since the criteria search).
    public func conditionalUpdate(_ type: String, criteria: String, _ resource: JSON) async throws -> Repository.WriteResult {
        try Repository.checkType(type)
        try require(.update, on: type)
        try require(.search, on: type)
        return try await repository.conditionalUpdate(type, criteria: criteria, resource)
    }

    /// Conditional delete: needs `d` and `s`.
    public func conditionalDelete(_ type: String, criteria: String) async throws -> [StoredResource] {
        try Repository.checkType(type)
        try require(.delete, on: type)
        try require(.search, on: type)
        return try await repository.conditionalDelete(type, criteria: criteria)
    }

    /// Transaction and batch bundles: every entry is authorized before anything runs.
    public func process(bundle: JSON, options: Repository.BundleOptions) async throws -> JSON {
        let principal = self.principal
        return try await repository.process(bundle: bundle, options: options) { interaction, type in
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
