/// Search parameters that are, by their FHIRPath, exactly the union of two others of the same
/// type, and so have no index rows of their own: a query on one reads the rows of its parts
/// (`s.param IN (…)`). R4's Observation `combo-*` parameters are such unions — `combo-code` is
/// `Observation.code | Observation.component.code`, the expressions of `code` and
/// `component-code` — and storing them doubled a third of an Observation's index rows
/// (docs/performance.md, "Index rows that say nothing new").
/// `CompactIndexTests.everyUnionFindsWhatItsPartsFind` fails if the definitions stop being unions.
public enum UnionParameters {
    /// The resource type every union here belongs to.
    public static let base = "Observation"

    /// Each union parameter's code → the codes whose index rows it reads.
    public static let parts: [String: [String]] = [
        "combo-code": ["code", "component-code"],
        "combo-code-value-concept": ["code-value-concept", "component-code-value-concept"],
        "combo-code-value-quantity": ["code-value-quantity", "component-code-value-quantity"],
        "combo-data-absent-reason": ["data-absent-reason", "component-data-absent-reason"],
        "combo-value-concept": ["value-concept", "component-value-concept"],
        "combo-value-quantity": ["value-quantity", "component-value-quantity"],
    ]

    /// The codes whose index rows answer `code` (itself when it is not a union).
    public static func stored(_ code: String) -> [String] {
        parts[code] ?? [code]
    }

    /// Whether `type`'s parameter `code` is a union, not indexed itself.
    public static func isUnion(type: String, code: String) -> Bool {
        type == base && parts[code] != nil
    }
}
