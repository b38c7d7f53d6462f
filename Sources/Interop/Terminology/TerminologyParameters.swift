import FHIR

/// The terminology operations invoked with POST (https://hl7.org/fhir/R4/operations.html#request):
/// a `Parameters` resource read into the same (name, value) pairs a GET query gives, so both
/// forms reach `TerminologyService` through one path. A `coding` (`$lookup`, `$validate-code`)
/// gives `system`, `code` and `display`; `codingA` / `codingB` (`$subsumes`) give `system`,
/// `codeA` and `codeB`; a `codeableConcept` (`$validate-code`) gives its first coding of a
/// shipped system, else its first. A resource parameter is read only where the operation takes
/// one (`resources`: the `valueSet` of `ValueSet/$expand` and `ValueSet/$validate-code`, read
/// by `resource(named:in:)`); any other is refused.
public enum TerminologyParameters {
    public static func pairs(_ body: JSON, known systems: Set<String> = Set(TerminologyService.shipped.systems.keys),
                             resources: Set<String> = []) throws -> [(String, String)] {
        guard body["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError.badRequest("the body of a terminology operation is a Parameters resource",
                                       "el cuerpo de una operación de terminología es un recurso Parameters", code: "invalid")
        }
        var out: [(String, String)] = []
        for (i, p) in (body["parameter"]?.arrayValue ?? []).enumerated() {
            let at = "Parameters.parameter[\(i)]"
            guard let name = p["name"]?.stringValue, !name.isEmpty else {
                throw refused(at, "a parameter needs a name", "un parámetro necesita un nombre")
            }
            if p["resource"] != nil {
                if resources.contains(name) { continue }
                throw FHIRError(status: 400, code: "not-supported",
                                english: "\(at) ('\(name)'): this operation takes no resource parameter '\(name)'; name the code system or value set by its url",
                                spanish: "\(at) ('\(name)'): esta operación no recibe un recurso '\(name)'; nombre el sistema de códigos o conjunto de valores por su url",
                                expression: [at])
            }
            if let coding = p["valueCoding"] {
                out += try codingPairs(coding, name: name, at: at)
                continue
            }
            if let concept = p["valueCodeableConcept"] {
                let codings = concept["coding"]?.arrayValue ?? []
                guard let coding = codings.first(where: { systems.contains($0["system"]?.stringValue ?? "") }) ?? codings.first else {
                    throw refused(at, "'\(name)' has no coding", "'\(name)' no tiene ningún coding")
                }
                out += try codingPairs(coding, name: "coding", at: at + ".valueCodeableConcept.coding")
                continue
            }
            guard let (key, value) = p.objectValue?.first(where: { $0.0.hasPrefix("value") }) else {
                throw refused(at, "'\(name)' has no value", "'\(name)' no tiene valor")
            }
            switch value {
            case .string(let text): out.append((name, text))
            case .number(let n): out.append((name, n))
            case .bool(let b): out.append((name, b ? "true" : "false"))
            default: throw refused(at + "." + key, "'\(name)': \(key) is not a value a terminology operation reads",
                                   "'\(name)': \(key) no es un valor que lea una operación de terminología")
            }
        }
        // codingA and codingB of one system name it twice: once is enough (two systems stay, and are refused as repeated)
        var seen = Set<String>()
        return out.filter { $0.0 != "system" || seen.insert($0.1).inserted }
    }

    /// The resources of the parameters named `name`, each of type `type` (else 400 `invalid`),
    /// at most one.
    public static func resource(named name: String, ofType type: String, in body: JSON) throws -> JSON? {
        var found: JSON?
        for (i, p) in (body["parameter"]?.arrayValue ?? []).enumerated() where p["name"]?.stringValue == name {
            guard let r = p["resource"] else { continue }
            let at = "Parameters.parameter[\(i)].resource"
            guard r["resourceType"]?.stringValue == type else {
                throw refused(at, "'\(name)' is a \(type) resource", "'\(name)' es un recurso \(type)")
            }
            guard found == nil else {
                throw FHIRError.badRequest("the parameter '\(name)' is repeated", "el parámetro '\(name)' está repetido")
            }
            found = r
        }
        return found
    }

    static func codingPairs(_ coding: JSON, name: String, at: String) throws -> [(String, String)] {
        guard let code = coding["code"]?.stringValue, !code.isEmpty else {
            throw refused(at, "the coding '\(name)' has no code", "el coding '\(name)' no tiene código")
        }
        var out: [(String, String)] = []
        if let system = coding["system"]?.stringValue { out.append(("system", system)) }
        switch name {
        case "codingA": out.append(("codeA", code))
        case "codingB": out.append(("codeB", code))
        default:
            out.append(("code", code))
            if let display = coding["display"]?.stringValue { out.append(("display", display)) }
        }
        return out
    }

    static func refused(_ at: String, _ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 400, code: "invalid", english: "\(at): \(english)", spanish: "\(at): \(spanish)", expression: [at])
    }
}
