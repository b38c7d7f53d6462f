import Foundation

/// The is-a hierarchy of one code system (`CodeSystem.concept.concept`,
/// `hierarchyMeaning = is-a`): which codes lie below or above a code. It is what the search
/// modifiers `:below`, `:above` and `:in` (https://hl7.org/fhir/R4/search.html#token) and a
/// Consent's `provision.code` need to reach a code's descendants — a grant or a denial for CIE-10
/// `E11` covers `E11.9`. Pure data, no I/O; the operations over code systems (`$lookup`,
/// `$expand`, …) are Interop's `TerminologyService`, built on the same CodeSystem resources.
public struct CodeHierarchy: Sendable {
    public let system: String
    let parent: [String: String]
    let children: [String: [String]]

    /// Reads a CodeSystem resource with nested concepts; nil when it is not one.
    public init?(codeSystem: JSON) {
        guard codeSystem["resourceType"]?.stringValue == "CodeSystem", let url = codeSystem["url"]?.stringValue else { return nil }
        var parent: [String: String] = [:]
        var children: [String: [String]] = [:]
        func walk(_ list: [JSON], under: String?) {
            for c in list {
                guard let code = c["code"]?.stringValue else { continue }
                children[code] = children[code] ?? []
                if let under {
                    parent[code] = under
                    children[under, default: []].append(code)
                }
                walk(c["concept"]?.arrayValue ?? [], under: code)
            }
        }
        walk(codeSystem["concept"]?.arrayValue ?? [], under: nil)
        self.system = url
        self.parent = parent
        self.children = children
    }

    /// Is `code` in this code system?
    public func contains(_ code: String) -> Bool { children[code] != nil }

    /// The system's own spelling of a code: as written, in capitals, or with the dot a CIE-10
    /// subcategory takes (`e119` → `E11.9`); nil when the system does not have it.
    public func resolve(_ code: String) -> String? {
        let c = code.trimmingCharacters(in: .whitespaces)
        if contains(c) { return c }
        let upper = c.uppercased()
        if contains(upper) { return upper }
        if !upper.contains("."), !upper.contains("-"), upper.count > 3 {
            let dotted = String(upper.prefix(3)) + "." + String(upper.dropFirst(3))
            if contains(dotted) { return dotted }
        }
        return nil
    }

    /// `code` and every code below it (depth first), or nil when `code` is not in the system.
    public func descendants(of code: String) -> [String]? {
        guard contains(code) else { return nil }
        var out: [String] = []
        var stack = [code]
        while let c = stack.popLast() {
            out.append(c)
            stack += (children[c] ?? []).reversed()
        }
        return out
    }

    /// `code` and every code above it (nearest first), or nil when `code` is not in the system.
    public func ancestors(of code: String) -> [String]? {
        guard contains(code) else { return nil }
        var out = [code]
        var at = code
        while let p = parent[at], !out.contains(p) {
            out.append(p)
            at = p
        }
        return out
    }
}

/// The code hierarchies Enlace ships (CIE-10, `CIE10`; the flat catalogues have none), by system URL.
public struct CodeHierarchies: Sendable {
    public let systems: [String: CodeHierarchy]

    public init(_ hierarchies: [CodeHierarchy]) {
        systems = Dictionary(hierarchies.map { ($0.system, $0) }, uniquingKeysWith: { a, _ in a })
    }

    public static let shipped: CodeHierarchies = {
        CodeHierarchies(ShippedCodeSystems.hierarchical.compactMap(CodeHierarchy.init(codeSystem:)))
    }()

    public subscript(system: String) -> CodeHierarchy? { systems[system] }

    /// A code and its descendants in `system` (nil system: in every shipped system that has the
    /// code), as (system, code) pairs; just the code itself when no hierarchy knows it.
    public func withDescendants(system: String?, code: String) -> [(system: String?, code: String)] {
        if let system {
            guard let below = systems[system]?.descendants(of: code) else { return [(system, code)] }
            return below.map { (system, $0) }
        }
        var out: [(system: String?, code: String)] = [(nil, code)]
        for h in systems.values.sorted(by: { $0.system < $1.system }) {
            for c in h.descendants(of: code)?.dropFirst() ?? [] { out.append((h.system, c)) }
        }
        return out
    }
}
