import Foundation

/// `_summary` and `_elements` (https://hl7.org/fhir/R4/search.html#summary): which top-level
/// elements of a resource are returned. A subsetted resource carries the `SUBSETTED` tag.
/// Used by search and read (Server) and by Bulk Data `_elements` (Interop).
public enum Subsetting {
    public static func apply(_ resource: JSON, summary: String?, elements: [String]?) -> JSON {
        guard case let .object(members) = resource, let type = resource["resourceType"]?.stringValue,
              let def = Definitions.r4.types[type] else { return resource }
        let children = def.children[type] ?? [:]
        func element(_ key: String) -> ElementDefinition? {
            let name = key.hasPrefix("_") ? String(key.dropFirst()) : key
            if let e = children[name] { return e }
            return def.choices[type]?.first { name.hasPrefix($0.prefix) }?.element
        }
        let keep: (String) -> Bool
        if let elements {
            let wanted = Set(elements)
            keep = { key in
                let name = key.hasPrefix("_") ? String(key.dropFirst()) : key
                return wanted.contains(name) || (element(key)?.min ?? 0) > 0 || wanted.contains(where: { name.hasPrefix($0) && element(key)?.isChoice == true })
            }
        } else {
            switch summary {
            case "true": keep = { element($0)?.isSummary == true || (element($0)?.min ?? 0) > 0 }
            case "text": keep = { $0 == "text" || (element($0)?.min ?? 0) > 0 }
            case "data": keep = { $0 != "text" }
            default: return resource
            }
        }
        var out: [(String, JSON)] = []
        var removed = false
        for (k, v) in members {
            if k == "resourceType" || k == "id" || k == "meta" || keep(k) { out.append((k, v)) } else { removed = true }
        }
        guard removed || summary == "text" else { return resource }
        var result = JSON.object(out)
        // mark it (https://hl7.org/fhir/R4/v3/ObservationValue: SUBSETTED)
        var meta = result["meta"] ?? .object([])
        var tags = meta["tag"]?.arrayValue ?? []
        tags.append(.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ObservationValue")), ("code", .string("SUBSETTED"))]))
        meta = meta.setting("tag", .array(tags))
        result = result.setting("meta", meta)
        return result
    }
}
