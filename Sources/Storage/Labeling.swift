import FHIR

/// A security label a rule puts on a resource as it is stored (`meta.security`), e.g.
/// `http://terminology.hl7.org/CodeSystem/v3-ActCode|HIV`.
public struct SecurityLabel: Sendable, Hashable {
    public var system: String
    public var code: String
    public var display: String?

    public init(system: String, code: String, display: String? = nil) {
        self.system = system
        self.code = code
        self.display = display
    }
}

/// Runs on every version the repository stores (`Repository.prepare`): adds security labels
/// (so `labels`, the `_security` index and every visibility rule see them) and, for records
/// the core compartment definition leaves shared, the patients they are about.
public protocol ResourceLabeler: Sendable {
    /// Labels to add to `meta.security` (ones already present are kept, duplicates dropped).
    func securityLabels(for resource: JSON, type: String) -> [SecurityLabel]
    /// Extra patient compartments (ids) the resource belongs to.
    func extraCompartments(for resource: JSON, type: String) -> [String]
}
