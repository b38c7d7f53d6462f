/// Who is asking: the authenticated subject of a request and what it may do.
public struct Principal: Sendable, Equatable {
    /// The token's `sub` (e.g. `operator`, `user:ana`, `client:app`).
    public var subject: String
    public var scopes: ScopeSet
    /// The token's `jti`, so the audit log can tie a request to the token that made it.
    public var tokenID: String

    public init(subject: String, scopes: ScopeSet, tokenID: String) {
        self.subject = subject
        self.scopes = scopes
        self.tokenID = tokenID
    }
}
