/// FHIR's canonical JSON, the bytes a digital signature covers
/// (https://hl7.org/fhir/R4/json.html#canonical):
///
/// - no whitespace other than what is inside property values (string values are written as
///   they are, escaped as `JSON.serialized()` escapes them: `"` `\` and the control characters
///   only, so non-ASCII text stays UTF-8);
/// - properties ordered alphabetically, at every level (by the UTF-8 bytes of the name, which
///   for FHIR's ASCII property names is alphabetical order; `resourceType` is sorted with the
///   rest); array order is meaningful in FHIR and is kept;
/// - numbers exactly as written (FHIR decimals keep their precision: `1.50` is not `1.5`);
/// - the method decides what is left out of the resource before signing:
///   `http://hl7.org/fhir/canonicalization/json` (nothing), `…#data` (`Resource.text`),
///   `…#static` (`Resource.text` and `Resource.meta`).
///
/// docs/prescribing.md ("The prescriber's signature") says which method a prescription uses.
public enum CanonicalJSON {
    public enum Method: String, Sendable, CaseIterable {
        case json = "http://hl7.org/fhir/canonicalization/json"
        case data = "http://hl7.org/fhir/canonicalization/json#data"
        case `static` = "http://hl7.org/fhir/canonicalization/json#static"

        /// The top-level properties this method removes before canonicalising.
        public var omitted: Set<String> {
            switch self {
            case .json: return []
            case .data: return ["text"]
            case .static: return ["text", "meta"]
            }
        }
    }

    /// The canonical bytes of `resource` under `method`, also leaving out the top-level
    /// properties in `alsoOmitting` (a profile of the method, documented by its user).
    public static func bytes(_ resource: JSON, method: Method = .json, alsoOmitting: Set<String> = []) -> [UInt8] {
        var value = resource
        let omit = method.omitted.union(alsoOmitting)
        if case .object(let members) = resource, !omit.isEmpty {
            value = .object(members.filter { !omit.contains($0.0) })
        }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(value, into: &out)
        return out
    }

    /// `bytes` as a string.
    public static func string(_ resource: JSON, method: Method = .json, alsoOmitting: Set<String> = []) -> String {
        String(decoding: bytes(resource, method: method, alsoOmitting: alsoOmitting), as: UTF8.self)
    }

    static func write(_ value: JSON, into out: inout [UInt8]) {
        switch value {
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let sorted = members.sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
            for (i, (k, v)) in sorted.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSON.writeString(k, into: &out)
                out.append(UInt8(ascii: ":"))
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        default:
            out.append(contentsOf: value.serialized())
        }
    }
}
