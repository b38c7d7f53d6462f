import FHIR
import Foundation
import Storage
import Trust

/// The terminology one request needs: the shipped code systems, plus the stored `CodeSystem` and
/// `ValueSet` resources it names — the one asked for and, for a ValueSet, the code systems and
/// value sets its `compose` names, transitively — read through the caller's guard (a principal
/// without access to them gets the guard's answer, not a value set it may not read). A shipped
/// code system wins over a stored one of the same url. Read per request, not cached: at most
/// `maximumResources` resources per request.
public enum StoredTerminology {
    /// Finds the stored resource of a type with a canonical url (and version, when given).
    public typealias Fetch = @Sendable (_ type: String, _ url: String, _ version: String?) async throws -> JSON?

    public static let maximumResources = 32

    /// `codeSystem`: a code system url (`url|version` allowed) the operation names; `valueSet`: a
    /// value set url; `given`: resources the request carries (an inline `valueSet` parameter, or
    /// the instance of `ValueSet/{id}/$expand`).
    public static func service(codeSystem: String? = nil, valueSet: String? = nil, given: [JSON] = [],
                               fetch: Fetch) async throws -> TerminologyService {
        let shipped = TerminologyService.shipped
        var systems = shipped.systems
        var sets: [String: JSON] = [:]
        var tried = Set<String>()
        var pendingSystems: [(String, String?)] = []
        var pendingSets: [String] = []
        var fetched = 0

        func split(_ url: String) -> (String, String?) {
            let parts = url.split(separator: "|", maxSplits: 1).map(String.init)
            return (parts.first ?? url, parts.count > 1 ? parts[1] : nil)
        }
        func references(_ vs: JSON) {
            for rule in (vs["compose"]?["include"]?.arrayValue ?? []) + (vs["compose"]?["exclude"]?.arrayValue ?? []) {
                if let s = rule["system"]?.stringValue { pendingSystems.append((s, rule["version"]?.stringValue)) }
                pendingSets += (rule["valueSet"]?.arrayValue ?? []).compactMap(\.stringValue)
            }
        }
        func count() throws {
            fetched += 1
            guard fetched <= maximumResources else {
                throw FHIRError(status: 422, code: "too-costly",
                                english: "the value set needs more than \(maximumResources) stored code systems and value sets",
                                spanish: "el conjunto de valores necesita más de \(maximumResources) sistemas de códigos y conjuntos de valores guardados")
            }
        }
        for r in given {
            switch r["resourceType"]?.stringValue {
            case "CodeSystem": if let s = TerminologyService.load(r), systems[s.url] == nil { systems[s.url] = s }
            case "ValueSet": references(r)
            default: break
            }
        }
        if let codeSystem { pendingSystems.append(split(codeSystem)) }
        if let valueSet { pendingSets.append(valueSet) }
        while !pendingSystems.isEmpty || !pendingSets.isEmpty {
            if let (url, version) = pendingSystems.popLast() {
                guard systems[url] == nil, tried.insert("CodeSystem " + url).inserted else { continue }
                try count()
                if let r = try await fetch("CodeSystem", url, version), r["content"]?.stringValue != "not-present",
                   let s = TerminologyService.load(r) {
                    systems[url] = s
                }
                continue
            }
            let url = pendingSets.removeLast()
            let base = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
            if url.contains("?fhir_vs") { pendingSystems.append(split(base)); continue }
            let (bare, version) = split(url)
            guard systems[bare] == nil, sets[bare] == nil, tried.insert("ValueSet " + bare).inserted else { continue }
            try count()
            if let vs = try await fetch("ValueSet", bare, version) {
                sets[bare] = vs
                references(vs)
            } else {
                pendingSystems.append((bare, version)) // a code system's url names its whole value set
            }
        }
        return TerminologyService(systems: systems, valueSets: sets)
    }

    /// `Fetch` through a guard: `type?url=…[&version=…]&_sort=-_lastUpdated`, the most recently
    /// updated when several match.
    public static func fetch(through guarded: GuardedRepository) -> Fetch {
        { type, url, version in
            var parameters = [("url", url), ("_sort", "-_lastUpdated")]
            if let version, !version.isEmpty { parameters.append(("version", version)) }
            return try await guarded.searchAll(type, parameters, limit: 1).first?.json()
        }
    }
}

extension TerminologyService {
    /// The (system, code) members of the value set `url`, for the search modifiers `:in` and
    /// `:not-in` (`SearchParser.Options.valueSets`).
    public func searchMembers(ofValueSet url: String) throws -> [ValueSetMember] {
        try members(ofValueSet: url, visiting: []).map { ValueSetMember(system: $0.system, code: $0.code) }
    }
}
