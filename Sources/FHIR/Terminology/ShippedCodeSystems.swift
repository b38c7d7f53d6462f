/// The CodeSystem resources compiled into Enlace (docs/interop.md#terminology), parsed once and
/// shared by the search modifiers (`CodeHierarchies`) and the terminology operations
/// (Interop's `TerminologyService`), so the 1.4 MB CIE-10 is read a single time per process.
public enum ShippedCodeSystems {
    /// The systems with an is-a hierarchy: CIE-10.
    public static let hierarchical: [JSON] = parse([CIE10.json])

    /// Every shipped system: CIE-10, then the flat catalogues (`Catalogues`).
    public static let all: [JSON] = hierarchical + parse(Catalogues.all)

    static func parse(_ texts: [String]) -> [JSON] {
        texts.map { text in
            do { return try JSONParser.parse(text) } catch {
                // generated files checked by TerminologyTests; a broken one is a build defect
                preconditionFailure("a shipped CodeSystem does not parse: \(error)")
            }
        }
    }
}
