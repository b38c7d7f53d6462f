/// The one repair lenient mode makes: FHIR JSON forbids empty arrays and objects
/// (https://hl7.org/fhir/R4/json.html: "objects and arrays SHALL never be empty"), yet exports
/// of real systems often carry them (`"extension": []`, `"meta": {}`). Strict validation refuses
/// them, which is the default and correct; an operator loading legacy data may ask for this
/// repair explicitly (`enlace import --lenient`, the `X-Enlace-Lenient: drop-empty` request
/// header — docs/search.md, "Lenient mode").
///
/// Only what holds no value is dropped: an empty array, an empty object, and an array or object
/// that holds nothing else once those are gone. Unknown elements, empty strings, `null` and
/// every other value are kept, so validation still refuses them. In a primitive's extension
/// array (`_given`), an empty object becomes `null` to keep the positions aligned with `given`.
public enum LenientRepair {
    /// The value of the `X-Enlace-Lenient` header that asks for this repair.
    public static let headerValue = "drop-empty"

    /// `json` without its empty arrays and objects, and one warning per element dropped (the
    /// outermost one: `Patient.name` for `"name": [{}]`), located like validation issues
    /// (`Patient.extension`, `Bundle.entry[2].resource.meta`); `root` is the location of `json`
    /// (its `resourceType` when nil).
    public static func dropEmpty(_ json: JSON, root: String? = nil) -> (JSON, [Issue]) {
        var warnings: [Issue] = []
        let here = root ?? json["resourceType"]?.stringValue ?? "Resource"
        let repaired = walk(json, at: here, warnings: &warnings) ?? json
        return (repaired, warnings)
    }

    /// The repaired value, or nil when nothing of value is left in it. Warnings are added for
    /// what is dropped inside a value that stays.
    static func walk(_ json: JSON, at loc: String, warnings: inout [Issue]) -> JSON? {
        switch json {
        case .object(let members):
            var kept: [(String, JSON)] = []
            for (name, value) in members {
                let child = loc + "." + name
                if name.utf8.first == UInt8(ascii: "_"), case .array(let items) = value {
                    // a primitive's extensions: positions matter, so an empty one becomes null
                    var inner: [Issue] = []
                    let aligned = items.enumerated().map { i, item -> JSON in
                        if item == .null { return .null }
                        if let r = walk(item, at: "\(child)[\(i)]", warnings: &inner) { return r }
                        warn(&inner, "\(child)[\(i)]", item)
                        return .null
                    }
                    if aligned.contains(where: { $0 != .null }) {
                        kept.append((name, .array(aligned)))
                        warnings += inner
                    } else {
                        warn(&warnings, child, value)
                    }
                    continue
                }
                var inner: [Issue] = []
                if let r = walk(value, at: child, warnings: &inner) {
                    kept.append((name, r))
                    warnings += inner
                } else {
                    warn(&warnings, child, value)
                }
            }
            return kept.isEmpty ? nil : .object(kept)
        case .array(let items):
            var kept: [JSON] = []
            for (i, item) in items.enumerated() {
                var inner: [Issue] = []
                if let r = walk(item, at: "\(loc)[\(i)]", warnings: &inner) {
                    kept.append(r)
                    warnings += inner
                } else {
                    warn(&warnings, "\(loc)[\(i)]", item)
                }
            }
            return kept.isEmpty ? nil : .array(kept)
        default:
            return json
        }
    }

    static func warn(_ warnings: inout [Issue], _ loc: String, _ value: JSON) {
        let empty = value.arrayValue?.isEmpty == true || value.objectValue?.isEmpty == true
        let what: (en: String, es: String)
        switch (value.arrayValue != nil, empty) {
        case (true, true): what = ("empty array", "el arreglo vacío")
        case (true, false): what = ("array holding only empty values", "el arreglo que solo contenía valores vacíos")
        case (false, true): what = ("empty object", "el objeto vacío")
        case (false, false): what = ("object holding only empty values", "el objeto que solo contenía valores vacíos")
        }
        warnings.append(Issue(.warning, code: "structure",
                              english: "lenient mode: dropped the \(what.en) \(loc) (FHIR JSON allows no empty arrays or objects)",
                              spanish: "modo tolerante: se quitó \(what.es) \(loc) (FHIR JSON no admite arreglos ni objetos vacíos)",
                              expression: [loc]))
    }
}
