import FHIR
import Foundation

/// The token modifiers that need a code system's hierarchy
/// (https://hl7.org/fhir/R4/search.html#token): `:below` (the resource's code is the one asked
/// for or below it — `code:below=http://hl7.org/fhir/sid/icd-10|E11` finds E11 and E11.9),
/// `:above` (the code asked for or any code above it), `:in` and `:not-in` (the code is, or is
/// not, in a value set). Value sets are the implicit ones of the shipped code systems:
/// `<system>?fhir_vs` (every code of the system) and `<system>?fhir_vs=isa/<code>` (a code and
/// its descendants, https://hl7.org/fhir/R4/codesystem.html#implicit), and the stored ValueSets
/// the caller expanded beforehand (`Options.valueSets`). Each becomes the list of
/// (system, code) tokens it stands for, so the index, the access rules and both SQL dialects
/// treat it like any `code=a,b,c`. docs/search.md, "Terminology modifiers".
extension SearchParser {
    /// At most this many codes in one expansion (a chapter of the full CIE-10 has fewer).
    static let maxExpansion = 5000

    func hierarchyFilter(_ parameter: String, _ modifier: String, _ value: String) throws -> SearchFilter {
        let (system, written) = splitToken(value)
        guard let written, !written.isEmpty else {
            throw Self.bad("\(parameter):\(modifier) needs a code ([system]|[code]), not '\(value)'",
                           "\(parameter):\(modifier) necesita un código ([sistema]|[código]), no '\(value)'")
        }
        let candidates: [CodeHierarchy]
        if let system, !system.isEmpty {
            guard let h = hierarchies[system] else { throw unknownHierarchy(parameter, modifier, system) }
            candidates = [h]
        } else {
            candidates = hierarchies.systems.values.sorted { $0.system < $1.system }
        }
        var tokens: [SearchFilter] = []
        for h in candidates {
            guard let code = h.resolve(written) else { continue }
            let codes = (modifier == "below" ? h.descendants(of: code) : h.ancestors(of: code)) ?? [code]
            tokens += codes.map { .token(parameter: parameter, system: h.system, code: $0) }
        }
        guard !tokens.isEmpty else {
            let known = candidates.map(\.system).joined(separator: ", ")
            throw FHIRError(status: 400, code: "code-invalid",
                            english: "\(parameter):\(modifier): the code '\(written)' is not in \(known) (docs/interop.md#terminology)",
                            spanish: "\(parameter):\(modifier): el código '\(written)' no está en \(known) (docs/interop.md#terminology)")
        }
        return try bounded(parameter, modifier, tokens)
    }

    func valueSetFilter(_ parameter: String, _ modifier: String, _ url: String) throws -> SearchFilter {
        if let members = options.valueSets[url.split(separator: "|", maxSplits: 1).first.map(String.init) ?? url] {
            // an empty value set: a token no resource carries (`:in` finds nothing, `:not-in` everything)
            guard !members.isEmpty else { return .token(parameter: parameter, system: "urn:enlace:empty-value-set", code: "-") }
            return try bounded(parameter, modifier, members.map { .token(parameter: parameter, system: $0.system, code: $0.code) })
        }
        let parts = url.split(separator: "?", maxSplits: 1).map(String.init)
        guard parts.count == 2, let h = hierarchies[parts[0]] else {
            if parts.count == 2 { throw unknownHierarchy(parameter, modifier, parts[0]) }
            throw FHIRError(status: 400, code: "not-supported",
                            english: "\(parameter):\(modifier) takes a stored ValueSet's url or an implicit value set of a code system this server ships (<system>?fhir_vs or <system>?fhir_vs=isa/<code>), not '\(url)'",
                            spanish: "\(parameter):\(modifier) recibe la url de un ValueSet guardado o un conjunto de valores implícito de un sistema de códigos que este servidor incluye (<sistema>?fhir_vs o <sistema>?fhir_vs=isa/<código>), no '\(url)'")
        }
        if parts[1] == "fhir_vs" { return .token(parameter: parameter, system: h.system, code: nil) }
        let prefix = "fhir_vs=isa/"
        guard parts[1].hasPrefix(prefix) else {
            throw FHIRError(status: 400, code: "not-supported",
                            english: "\(parameter):\(modifier): '\(url)' is not an implicit value set (<system>?fhir_vs or <system>?fhir_vs=isa/<code>)",
                            spanish: "\(parameter):\(modifier): '\(url)' no es un conjunto de valores implícito (<sistema>?fhir_vs o <sistema>?fhir_vs=isa/<código>)")
        }
        return try hierarchyFilter(parameter, "below", h.system + "|" + String(parts[1].dropFirst(prefix.count)))
    }

    func bounded(_ parameter: String, _ modifier: String, _ tokens: [SearchFilter]) throws -> SearchFilter {
        guard tokens.count <= Self.maxExpansion else {
            throw FHIRError(status: 400, code: "too-costly",
                            english: "\(parameter):\(modifier) stands for \(tokens.count) codes; at most \(Self.maxExpansion) — ask for a narrower code",
                            spanish: "\(parameter):\(modifier) equivale a \(tokens.count) códigos; como máximo \(Self.maxExpansion): pida un código más específico")
        }
        return SearchFilter.anyOf(tokens).simplified
    }

    func unknownHierarchy(_ parameter: String, _ modifier: String, _ system: String) -> FHIRError {
        let known = hierarchies.systems.keys.sorted().joined(separator: ", ")
        return FHIRError(status: 400, code: "not-supported",
                         english: "\(parameter):\(modifier): this server has no hierarchy for the code system '\(system)' (it has: \(known))",
                         spanish: "\(parameter):\(modifier): este servidor no tiene la jerarquía del sistema de códigos '\(system)' (tiene: \(known))")
    }
}

/// One code of a value set expanded for `:in` / `:not-in`.
public struct ValueSetMember: Sendable, Equatable {
    public var system: String
    public var code: String
    public init(system: String, code: String) {
        self.system = system
        self.code = code
    }
}
