/// The FHIR R4 (4.0.1) definitions compiled into Enlace from the official StructureDefinitions,
/// SearchParameters, JSON Schema and Patient CompartmentDefinition
/// (`scripts/generate-definitions.py` → `Generated/CompiledDefinitions.swift`).
///
/// `Definitions.r4` is immutable data decoded once on first use; it is a constant, not state.
public final class Definitions: Sendable {
    /// All of R4, decoded from the compiled definitions on first use.
    public static let r4: Definitions = {
        do {
            let text = compiledDefinitionsJSON.replacingOccurrences(of: "\n", with: "")
            return try Definitions(compiled: JSONParser.parse(text, maxDepth: 64))
        } catch {
            fatalError("compiled FHIR definitions are corrupt: \(error)")  // a build defect, not input
        }
    }()

    public let fhirVersion: String
    /// Every type by name: resources, complex types and primitives.
    public let types: [String: TypeDefinition]
    /// The names of the 146 concrete resource types, sorted.
    public let resourceTypes: [String]
    private let resourceTypeSet: Set<String>
    /// All 1,375 search parameters of R4.
    public let searchParameters: [SearchParameterDefinition]
    /// For each resource type, the search parameters that apply to it by code (including those
    /// defined on Resource and DomainResource).
    public let searchParametersByType: [String: [String: SearchParameterDefinition]]
    /// For each resource type in the Patient compartment, the search parameter codes that place
    /// a resource of that type in a patient's compartment.
    public let patientCompartment: [String: [String]]

    public func isResourceType(_ name: String) -> Bool { resourceTypeSet.contains(name) }

    init(compiled doc: JSON) throws {
        fhirVersion = doc["fhirVersion"]?.stringValue ?? "4.0.1"
        var types: [String: TypeDefinition] = [:]
        for (name, t) in doc["types"]?.objectValue ?? [] {
            types[name] = TypeDefinition(name: name, json: t)
        }
        self.types = types
        resourceTypes = types.values.filter { $0.kind == .resource && !$0.isAbstract }.map(\.name).sorted()
        resourceTypeSet = Set(resourceTypes)
        searchParameters = (doc["searchParameters"]?.arrayValue ?? []).map(SearchParameterDefinition.init(json:))
        var byType: [String: [String: SearchParameterDefinition]] = [:]
        for p in searchParameters {
            for base in p.base {
                if base == "Resource" || base == "DomainResource" {
                    for t in resourceTypes where base == "Resource" || types[t]?.base == "DomainResource" {
                        byType[t, default: [:]][p.code] = byType[t]?[p.code] ?? p
                    }
                } else {
                    byType[base, default: [:]][p.code] = p
                }
            }
        }
        searchParametersByType = byType
        var comp: [String: [String]] = [:]
        for (k, v) in doc["patientCompartment"]?.objectValue ?? [] {
            comp[k] = (v.arrayValue ?? []).compactMap(\.stringValue)
        }
        patientCompartment = comp
    }
}

/// A type of R4: a resource, a complex data type or a primitive.
public struct TypeDefinition: Sendable {
    public enum Kind: String, Sendable { case resource, complexType = "complex-type", primitiveType = "primitive-type" }

    public let name: String
    public let kind: Kind
    public let isAbstract: Bool
    /// The type this one specializes or constrains (e.g. `DomainResource`).
    public let base: String?
    /// The snapshot elements in definition order (the root element excluded).
    public let elements: [ElementDefinition]
    /// Children of each element path, by their JSON name (`value[x]` kept as is).
    public let children: [String: [String: ElementDefinition]]
    /// Choice elements (`value[x]`) of each parent path, with their name prefix (`value`).
    public let choices: [String: [(prefix: String, element: ElementDefinition)]]
    /// Element by full path.
    public let elementsByPath: [String: ElementDefinition]

    init(name: String, json: JSON) {
        self.name = name
        kind = Kind(rawValue: json["kind"]?.stringValue ?? "") ?? .complexType
        isAbstract = json["abstract"]?.boolValue ?? false
        base = json["base"]?.stringValue
        elements = (json["elements"]?.arrayValue ?? []).map(ElementDefinition.init(json:))
        var children: [String: [String: ElementDefinition]] = [:]
        var choices: [String: [(prefix: String, element: ElementDefinition)]] = [:]
        var byPath: [String: ElementDefinition] = [:]
        for e in elements {
            byPath[e.path] = e
            children[e.parentPath, default: [:]][e.name] = e
            if e.isChoice { choices[e.parentPath, default: []].append((String(e.name.dropLast(3)), e)) }
        }
        self.children = children
        self.choices = choices
        elementsByPath = byPath
    }
}

/// One element of a StructureDefinition snapshot, reduced to what Enlace enforces.
public struct ElementDefinition: Sendable {
    public let path: String
    /// The last path segment (`given`, `value[x]`).
    public let name: String
    public let parentPath: String
    public let min: Int
    /// nil means unbounded (`*`).
    public let max: Int?
    /// Type codes (`string`, `HumanName`, `BackboneElement`, `Resource`, …).
    public let types: [String]
    /// Target resource types of a Reference or canonical.
    public let targets: [String]
    /// For elements defined by reference to another (`Questionnaire.item.item` → `Questionnaire.item`).
    public let contentReference: String?
    /// The required value set, when the binding strength is `required`.
    public let requiredValueSet: String?
    /// The codes of that value set, when it is a closed list in the official JSON Schema.
    public let requiredCodes: Set<String>?
    public let isSummary: Bool
    public let isModifier: Bool

    public var isChoice: Bool { name.hasSuffix("[x]") }
    public var isRepeating: Bool { max == nil || (max ?? 1) > 1 }

    init(json: JSON) {
        path = json["path"]?.stringValue ?? ""
        if let dot = path.lastIndex(of: ".") {
            name = String(path[path.index(after: dot)...])
            parentPath = String(path[..<dot])
        } else {
            name = path
            parentPath = ""
        }
        if case let .number(n)? = json["min"] { min = Int(n) ?? 0 } else { min = 0 }
        let m = json["max"]?.stringValue ?? "*"
        max = m == "*" ? nil : Int(m)
        types = (json["types"]?.arrayValue ?? []).compactMap(\.stringValue)
        targets = (json["targets"]?.arrayValue ?? []).compactMap(\.stringValue)
        contentReference = json["contentReference"]?.stringValue
        requiredValueSet = json["valueSet"]?.stringValue
        requiredCodes = json["codes"]?.arrayValue.map { Set($0.compactMap(\.stringValue)) }
        isSummary = json["summary"]?.boolValue ?? false
        isModifier = json["modifier"]?.boolValue ?? false
    }
}

/// An R4 SearchParameter (https://hl7.org/fhir/R4/searchparameter.html), reduced.
public struct SearchParameterDefinition: Sendable {
    public enum ParameterType: String, Sendable {
        case number, date, string, token, reference, composite, quantity, uri, special
    }
    public struct Component: Sendable {
        public let definition: String
        public let expression: String
    }

    public let url: String
    public let code: String
    public let base: [String]
    public let type: ParameterType
    public let expression: String?
    public let target: [String]
    public let comparator: [String]
    public let modifier: [String]
    public let component: [Component]

    init(json: JSON) {
        url = json["url"]?.stringValue ?? ""
        code = json["code"]?.stringValue ?? ""
        base = (json["base"]?.arrayValue ?? []).compactMap(\.stringValue)
        type = ParameterType(rawValue: json["type"]?.stringValue ?? "") ?? .special
        expression = json["expression"]?.stringValue
        target = (json["target"]?.arrayValue ?? []).compactMap(\.stringValue)
        comparator = (json["comparator"]?.arrayValue ?? []).compactMap(\.stringValue)
        modifier = (json["modifier"]?.arrayValue ?? []).compactMap(\.stringValue)
        component = (json["component"]?.arrayValue ?? []).map {
            Component(definition: $0["definition"]?.stringValue ?? "", expression: $0["expression"]?.stringValue ?? "")
        }
    }
}
