import FHIR

/// Extracts the search index rows of a resource on write.
///
/// Today: the `identifier` token of every type that has that search parameter (what conditional
/// create needs). The search issue widens this to every R4 search parameter through FHIRPath.
public struct Indexer: Sendable {
    public init() {}

    public func entries(for resource: JSON, type: String) -> [IndexEntry] {
        var out: [IndexEntry] = []
        if case let .array(ids)? = resource["identifier"] {
            for ident in ids {
                guard let value = ident["value"]?.stringValue else { continue }
                out.append(IndexEntry(parameter: "identifier", kind: .token, system: ident["system"]?.stringValue ?? "", value: value))
            }
        } else if let ident = resource["identifier"], let value = ident["value"]?.stringValue {
            out.append(IndexEntry(parameter: "identifier", kind: .token, system: ident["system"]?.stringValue ?? "", value: value))
        }
        return Array(Set(out)).sorted { ($0.parameter, $0.system, $0.value) < ($1.parameter, $1.system, $1.value) }
    }
}
