import FHIR
import Foundation

/// Finds the Patient compartments a resource belongs to
/// (https://hl7.org/fhir/R4/compartmentdefinition-patient.html): for each search parameter the
/// CompartmentDefinition names for the resource's type, the references its expression reaches
/// that point to a Patient. A Patient is in its own compartment.
///
/// Expressions are the official ones; this walker follows their dotted paths (with
/// `.where(resolve() is T)`, `as T` and unions), which is all the compartment parameters use.
public struct CompartmentResolver: Sendable {
    private let paths: [String: [[String]]]

    public init(definitions: Definitions = .r4) {
        var paths: [String: [[String]]] = [:]
        for (type, codes) in definitions.patientCompartment {
            let params = definitions.searchParametersByType[type] ?? [:]
            var list: [[String]] = []
            for code in codes {
                guard let expr = params[code]?.expression else { continue }
                for part in expr.split(separator: "|") {
                    var p = part.trimmingCharacters(in: .whitespaces)
                    if p.hasPrefix("(") && p.hasSuffix(")") { p = String(p.dropFirst().dropLast()) }
                    if let r = p.range(of: ".where(") { p = String(p[..<r.lowerBound]) }
                    if let r = p.range(of: " as ") { p = String(p[..<r.lowerBound]) }
                    let segs = p.split(separator: ".").map(String.init)
                    guard segs.first == type, segs.count > 1 else { continue }
                    list.append(Array(segs.dropFirst()))
                }
            }
            paths[type] = list
        }
        self.paths = paths
    }

    /// Patient ids (sorted, unique) whose compartment holds `resource` of `type` with `id`.
    public func patients(of resource: JSON, type: String, id: String) -> [String] {
        var found = Set<String>()
        if type == "Patient" { found.insert(id) }
        for path in paths[type] ?? [] {
            collect(resource, path[...], into: &found)
        }
        return found.sorted()
    }

    private func collect(_ node: JSON, _ path: ArraySlice<String>, into found: inout Set<String>) {
        if case let .array(items) = node {
            for item in items { collect(item, path, into: &found) }
            return
        }
        guard let name = path.first else {
            if let ref = node["reference"]?.stringValue, let id = CompartmentResolver.patientID(fromReference: ref) {
                found.insert(id)
            }
            return
        }
        guard case let .object(members) = node else { return }
        for (key, value) in members where key == name || (key.hasPrefix(name) && key.count > name.count && key.dropFirst(name.count).first?.isUppercase == true) {
            collect(value, path.dropFirst(), into: &found)
        }
    }

    /// `Patient/123`, `Patient/123/_history/2` or `https://host/fhir/Patient/123` → `123`.
    public static func patientID(fromReference ref: String) -> String? {
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        guard let i = parts.lastIndex(where: { $0 == "Patient" }), i + 1 < parts.count else { return nil }
        if i + 3 < parts.count, parts[i + 2] != "_history" { return nil }
        let id = parts[i + 1]
        return id.isEmpty ? nil : String(id)
    }
}
