import FHIR

/// What a backend provides so `_include` / `_revinclude` can be resolved once, here, for every
/// backend (https://hl7.org/fhir/R4/search.html#include).
public protocol IncludeSource {
    /// Targets (type, id) of the reference rows of `key` (for `parameter`, or all; to `targetType`, or any).
    func referenceTargets(from key: ResourceKey, parameter: String?, targetType: String?) throws -> [ResourceKey]
    /// Resources whose reference rows point at `key` (of `sourceType` / `parameter`, or any), at most `limit`.
    func referenceSources(to key: ResourceKey, sourceType: String?, parameter: String?, limit: Int) throws -> [ResourceKey]
    /// Current, non-deleted resources by key.
    func currentResources(_ keys: [ResourceKey]) throws -> [StoredResource]
}

public enum Includes {
    /// Limits, so a hostile `_include:iterate` cannot make a page unbounded.
    public static let maxRounds = 4
    public static let maxIncluded = 1000

    /// The resources `query`'s includes and revincludes bring for `matches` (`:iterate` follows
    /// newly included resources for up to `maxRounds` rounds), limited to `query.includeTypes`
    /// when set. Access filtering happens in the guard.
    public static func resolve(for matches: [StoredResource], query: SearchQuery, source: some IncludeSource) throws -> [StoredResource] {
        guard !(query.includes.isEmpty && query.revIncludes.isEmpty), !matches.isEmpty else { return [] }
        if let v = query.visibility, !v.minimal.isEmpty {
            // an include follows a search parameter of its source type: on a type the asker sees
            // only minimally (a payer's Encounter), only the parameters of that view may be followed,
            // or `Practitioner?_revinclude=Encounter:participant` would tell who took part
            for spec in query.includes + query.revIncludes {
                let types = spec.sourceType == "*" ? Array(v.minimal.keys) : [spec.sourceType]
                try v.checkMinimal(spec.parameter, content: false, types: types)
            }
        }
        var seen = Set(matches.map { ResourceKey(type: $0.type, id: $0.id) })
        var included: [StoredResource] = []
        var frontier = Array(seen)
        var round = 0
        while !frontier.isEmpty, round < maxRounds, included.count < maxIncluded {
            var found = Set<ResourceKey>()
            for spec in query.includes where round == 0 || spec.iterate {
                for key in frontier where spec.sourceType == "*" || spec.sourceType == key.type {
                    found.formUnion(try source.referenceTargets(from: key, parameter: spec.parameter == "*" ? nil : spec.parameter,
                                                                targetType: spec.targetType))
                }
            }
            for spec in query.revIncludes where round == 0 || spec.iterate {
                for key in frontier {
                    if let t = spec.targetType, t != key.type { continue }
                    found.formUnion(try source.referenceSources(to: key, sourceType: spec.sourceType == "*" ? nil : spec.sourceType,
                                                                parameter: spec.parameter == "*" ? nil : spec.parameter, limit: maxIncluded))
                }
            }
            var new = found.subtracting(seen).sorted()
            if let allowed = query.includeTypes { new = new.filter { allowed.contains($0.type) } }
            seen.formUnion(new)
            let loaded = try source.currentResources(Array(new.prefix(maxIncluded - included.count)))
            included += loaded
            frontier = loaded.map { ResourceKey(type: $0.type, id: $0.id) }
            round += 1
        }
        return included
    }
}
