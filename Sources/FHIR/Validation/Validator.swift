/// Validates FHIR R4 resources in their JSON form against the compiled R4 definitions:
/// structure (known elements, type choices, arrays exactly for repeating elements), cardinality,
/// primitive formats, required code bindings, extension shape and primitive extensions
/// (https://hl7.org/fhir/R4/json.html, https://hl7.org/fhir/R4/validation.html).
///
/// It reports every problem it finds, each with a FHIRPath-style location such as
/// `Patient.name[0].given[1]`. It allocates nothing up front and walks each resource once.
public struct Validator: Sendable {
    public let definitions: Definitions

    public init(definitions: Definitions = .r4) {
        self.definitions = definitions
    }

    /// Validates a whole resource. Returns every problem found (empty means valid), each an
    /// Issue with severity .error, an IssueType code and a location like `Patient.name[0].given[1]`.
    public func validate(_ resource: JSON) -> [Issue] {
        var walk = Walk(defs: definitions)
        walk.resource(resource, loc: nil, depth: 0)
        return walk.issues + Validator.curpIssues(resource)
    }
}

/// One validation pass: the issues found so far.
private struct Walk {
    /// Deeper than this (only reachable through recursive elements such as nested extensions,
    /// `Questionnaire.item.item` or contained resources), validation stops with an issue.
    static let maxDepth = 100

    let defs: Definitions
    var issues: [Issue] = []

    init(defs: Definitions) { self.defs = defs }

    mutating func add(_ code: String, _ loc: String, _ english: String, _ spanish: String) {
        issues.append(Issue(.error, code: code, english: english, spanish: spanish, expression: [loc]))
    }

    // MARK: Resources

    /// A resource at `loc` (nil for the root), validated by its own `resourceType`.
    mutating func resource(_ json: JSON, loc: String?, depth: Int) {
        let here = loc ?? "Resource"
        guard case let .object(members) = json else {
            let f = Walk.found(json)
            add("structure", here, "\(here) must be a JSON object holding a resource, found \(f.en)",
                "\(here) debe ser un objeto JSON con un recurso; se encontró \(f.es)")
            return
        }
        guard let rtValue = json["resourceType"] else {
            add("required", here + ".resourceType",
                "\(here).resourceType is missing: every resource must name its type in 'resourceType'",
                "Falta \(here).resourceType: todo recurso debe indicar su tipo en 'resourceType'")
            return
        }
        guard case let .string(rt) = rtValue else {
            let f = Walk.found(rtValue)
            add("structure", here + ".resourceType",
                "\(here).resourceType must be a JSON string naming an R4 resource type, found \(f.en)",
                "\(here).resourceType debe ser una cadena JSON con un tipo de recurso de R4; se encontró \(f.es)")
            return
        }
        guard defs.isResourceType(rt), let type = defs.types[rt] else {
            add("not-supported", here + ".resourceType",
                "'\(Walk.clip(rt))' at \(here).resourceType is not a concrete FHIR R4 resource type",
                "'\(Walk.clip(rt))' en \(here).resourceType no es un tipo de recurso concreto de FHIR R4")
            return
        }
        object(members, type: type, defPath: rt, loc: loc ?? rt, isResource: true, depth: depth)
    }

    // MARK: Objects

    /// The members of an object whose elements are the children of `defPath` in `type`.
    mutating func object(_ members: [(String, JSON)], type: TypeDefinition, defPath: String, loc: String,
                         isResource: Bool, depth: Int) {
        guard depth <= Walk.maxDepth else {
            add("too-costly", loc, "\(loc) is nested more than \(Walk.maxDepth) levels deep; validation stopped there",
                "\(loc) está anidado a más de \(Walk.maxDepth) niveles; la validación se detuvo ahí")
            return
        }
        let children = type.children[defPath] ?? [:]
        let choices = type.choices[defPath] ?? []
        var choiceUsed: [(prefix: String, name: String)] = []

        for (name, value) in members {
            // ExampleScenario.instance has a real element named resourceType
            if name == "resourceType", isResource || children["resourceType"] == nil {
                if !isResource {
                    add("structure", loc + ".resourceType",
                        "'resourceType' is not allowed in \(loc): it is a \(defPath) (a data type or element), not a resource",
                        "'resourceType' no está permitido en \(loc): es un \(defPath) (un tipo de dato o elemento), no un recurso")
                }
                continue
            }
            let isPrimitiveExtension = name.utf8.first == UInt8(ascii: "_")
            let base = isPrimitiveExtension ? String(name.dropFirst()) : name
            guard let (element, typeCode, prefix) = resolve(base, jsonName: name, children: children, choices: choices,
                                                           type: type, defPath: defPath, loc: loc) else { continue }
            if let prefix {
                if let other = choiceUsed.first(where: { $0.prefix == prefix }) {
                    if other.name != base {
                        add("structure", loc + "." + base,
                            "\(loc).\(base) conflicts with \(loc).\(other.name): only one type of \(prefix)[x] may be given",
                            "\(loc).\(base) choca con \(loc).\(other.name): solo se permite un tipo de \(prefix)[x]")
                    }
                } else {
                    choiceUsed.append((prefix, base))
                }
            }
            let eloc = loc + "." + base
            if isPrimitiveExtension {
                primitiveExtension(value, element: element, typeCode: typeCode, main: Walk.member(members, base),
                                   jsonLoc: loc + "." + name, loc: eloc, depth: depth)
            } else {
                let isPrimitive = Primitive.kind(of: typeCode) != nil
                elementValue(value, element: element, typeCode: typeCode, owner: type,
                             companion: isPrimitive ? Walk.member(members, "_" + base) : nil,
                             loc: eloc, depth: depth)
            }
        }

        // Minimum cardinality: elements that must be present.
        for (cname, child) in children where child.min >= 1 {
            // The value of a primitive is the JSON property without '_', not part of its '_' object.
            if type.kind == .primitiveType && cname == "value" { continue }
            let present: Bool
            var shown = cname
            if child.isChoice {
                let prefix = String(cname.dropLast(3))
                present = choiceUsed.contains { $0.prefix == prefix }
                shown = prefix + "[x]"
            } else {
                present = members.contains { $0.0 == cname || ($0.0.utf8.first == UInt8(ascii: "_") && $0.0.dropFirst() == cname) }
            }
            if !present {
                add("required", loc + "." + shown,
                    "Missing required element \(loc).\(shown) (\(child.path) has minimum cardinality \(child.min))",
                    "Falta el elemento obligatorio \(loc).\(shown) (\(child.path) tiene cardinalidad mínima \(child.min))")
            }
        }

        // ext-1: an extension has either a value or nested extensions, not both.
        if type.name == "Extension" && defPath == "Extension" {
            let hasValue = choiceUsed.contains { $0.prefix == "value" }
            let hasExtensions = members.contains { $0.0 == "extension" }
            if hasValue == hasExtensions {
                add("invariant", loc,
                    hasValue
                        ? "Extension \(loc) has both value[x] and nested 'extension'; it must have one or the other (ext-1)"
                        : "Extension \(loc) has neither value[x] nor nested 'extension'; it must have exactly one of them (ext-1)",
                    hasValue
                        ? "La extensión \(loc) tiene value[x] y también 'extension' anidadas; debe tener solo una de las dos (ext-1)"
                        : "La extensión \(loc) no tiene value[x] ni 'extension' anidadas; debe tener exactamente una de las dos (ext-1)")
            }
        }
    }

    /// The definition of member `base` (its JSON name without `_`), the type it is given as and, for a
    /// choice, its prefix. Reports unknown elements and returns nil for them.
    mutating func resolve(_ base: String, jsonName: String, children: [String: ElementDefinition],
                          choices: [(prefix: String, element: ElementDefinition)],
                          type: TypeDefinition, defPath: String, loc: String)
        -> (ElementDefinition, String, String?)? {
        if let element = children[base], !element.isChoice {
            var typeCode = element.types.first ?? "BackboneElement"
            // Element.id is a string in R4; only Resource.id is an id.
            if typeCode == "id", base == "id", type.kind != .resource { typeCode = "string" }
            return (element, typeCode, nil)
        }
        var matchedChoice: (prefix: String, element: ElementDefinition)?
        for choice in choices where base.hasPrefix(choice.prefix) {
            let suffix = base.utf8.dropFirst(choice.prefix.utf8.count)
            guard let first = suffix.first, first >= UInt8(ascii: "A"), first <= UInt8(ascii: "Z") else { continue }
            for t in choice.element.types where Walk.isChoiceSuffix(suffix, of: t) {
                return (choice.element, t, choice.prefix)
            }
            matchedChoice = choice
        }
        if let choice = matchedChoice {
            let allowed = choice.element.types.map { choice.prefix + Walk.upperFirst($0) }.joined(separator: ", ")
            add("structure", loc + "." + jsonName,
                "Unknown element \(loc).\(jsonName): '\(base)' is not a type allowed for \(choice.element.path) (allowed: \(allowed))",
                "Elemento desconocido \(loc).\(jsonName): '\(base)' no es un tipo permitido para \(choice.element.path) (permitidos: \(allowed))")
        } else {
            add("structure", loc + "." + jsonName,
                "Unknown element \(loc).\(jsonName): \(defPath) has no element '\(jsonName)' in FHIR R4",
                "Elemento desconocido \(loc).\(jsonName): \(defPath) no tiene un elemento '\(jsonName)' en FHIR R4")
        }
        return nil
    }

    static func isChoiceSuffix(_ suffix: Substring.UTF8View, of type: String) -> Bool {
        var a = suffix.makeIterator()
        var b = type.utf8.makeIterator()
        guard let x = a.next(), let y = b.next(), x == Walk.upper(y) else { return false }
        while true {
            let x = a.next(), y = b.next()
            if x != y { return false }
            if x == nil { return true }
        }
    }

    @inline(__always) static func upper(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") ? c - 32 : c
    }

    static func upperFirst(_ s: String) -> String {
        guard let f = s.first else { return s }
        return f.uppercased() + s.dropFirst()
    }

    static func member(_ members: [(String, JSON)], _ name: String) -> JSON? {
        for (k, v) in members where k == name { return v }
        return nil
    }

    // MARK: Elements

    /// The JSON value of one element: an array when the element repeats, a single value otherwise.
    /// `companion` is the `_name` member of a primitive element, whose non-null items allow nulls here.
    mutating func elementValue(_ value: JSON, element: ElementDefinition, typeCode: String, owner: TypeDefinition,
                               companion: JSON?, loc: String, depth: Int) {
        if element.max == 0 {
            add("structure", loc, "\(loc) is not allowed: \(element.path) has maximum cardinality 0",
                "\(loc) no está permitido: \(element.path) tiene cardinalidad máxima 0")
            return
        }
        if element.isRepeating {
            guard case let .array(items) = value else {
                let f = Walk.found(value)
                add("structure", loc,
                    "\(loc) must be a JSON array because \(element.path) repeats (maximum cardinality \(Walk.maxText(element))), found \(f.en)",
                    "\(loc) debe ser un arreglo JSON porque \(element.path) se repite (cardinalidad máxima \(Walk.maxText(element))); se encontró \(f.es)")
                return
            }
            guard !items.isEmpty else {
                add("structure", loc, "\(loc) is an empty array; FHIR JSON leaves out elements that have no value",
                    "\(loc) es un arreglo vacío; en FHIR JSON se omiten los elementos sin valor")
                return
            }
            if let max = element.max, items.count > max {
                add("structure", loc, "\(loc) has \(items.count) items but \(element.path) allows at most \(max)",
                    "\(loc) tiene \(items.count) elementos pero \(element.path) permite como máximo \(max)")
            }
            if items.count < element.min {
                add("required", loc, "\(loc) has \(items.count) items but \(element.path) requires at least \(element.min)",
                    "\(loc) tiene \(items.count) elementos pero \(element.path) requiere al menos \(element.min)")
            }
            let companionItems = companion?.arrayValue
            for (i, item) in items.enumerated() {
                let iloc = loc + "[\(i)]"
                if case .null = item {
                    if let companionItems, i < companionItems.count, companionItems[i] != .null { continue }
                    nullIssue(iloc, arrayItem: true)
                    continue
                }
                single(item, element: element, typeCode: typeCode, owner: owner, loc: iloc, depth: depth)
            }
        } else {
            if case .array = value {
                add("structure", loc,
                    "\(loc) must be a single value, not a JSON array: \(element.path) does not repeat (maximum cardinality 1)",
                    "\(loc) debe ser un valor único, no un arreglo JSON: \(element.path) no se repite (cardinalidad máxima 1)")
                return
            }
            if case .null = value {
                nullIssue(loc, arrayItem: false)
                return
            }
            single(value, element: element, typeCode: typeCode, owner: owner, loc: loc, depth: depth)
        }
    }

    mutating func nullIssue(_ loc: String, arrayItem: Bool) {
        if arrayItem {
            add("structure", loc,
                "\(loc) is null; null is only allowed in an array of primitives when the matching item of the '_' array carries an id or extensions",
                "\(loc) es null; null solo se permite en un arreglo de primitivos cuando el elemento correspondiente del arreglo '_' lleva id o extensiones")
        } else {
            add("structure", loc, "\(loc) is null; FHIR JSON leaves out elements that have no value",
                "\(loc) es null; en FHIR JSON se omiten los elementos sin valor")
        }
    }

    static func maxText(_ element: ElementDefinition) -> String {
        element.max.map(String.init) ?? "*"
    }

    /// One (non-null) value of an element of type `typeCode`.
    mutating func single(_ value: JSON, element: ElementDefinition, typeCode: String, owner: TypeDefinition,
                         loc: String, depth: Int) {
        switch typeCode {
        case "Resource":
            resource(value, loc: loc, depth: depth + 1)
        case "BackboneElement", "Element":
            var owner = owner
            var path = element.path
            if let ref = element.contentReference {
                path = ref.utf8.first == UInt8(ascii: "#") ? String(ref.dropFirst()) : ref
                let typeName = path.split(separator: ".", maxSplits: 1).first.map(String.init) ?? owner.name
                if let t = defs.types[typeName] { owner = t }
            }
            guard let members = objectMembers(value, loc: loc, typeName: element.path) else { return }
            object(members, type: owner, defPath: path, loc: loc, isResource: false, depth: depth + 1)
        default:
            if Primitive.kind(of: typeCode) != nil {
                primitive(value, element: element, typeCode: typeCode, loc: loc)
            } else if let type = defs.types[typeCode] {
                guard let members = objectMembers(value, loc: loc, typeName: typeCode) else { return }
                // Constraints such as SimpleQuantity keep their base type's paths (`Quantity.value`).
                let root = type.elements.first?.parentPath ?? typeCode
                object(members, type: type, defPath: root, loc: loc, isResource: false, depth: depth + 1)
            }
            // A type the definitions do not know cannot occur in R4; nothing to check against.
        }
    }

    /// The members of a non-empty object, or nil after reporting why `value` is not one.
    mutating func objectMembers(_ value: JSON, loc: String, typeName: String) -> [(String, JSON)]? {
        guard case let .object(members) = value else {
            let f = Walk.found(value)
            add("structure", loc, "\(loc) must be a JSON object (\(typeName)), found \(f.en)",
                "\(loc) debe ser un objeto JSON (\(typeName)); se encontró \(f.es)")
            return nil
        }
        guard !members.isEmpty else {
            add("structure", loc, "\(loc) is an empty object; FHIR JSON leaves out elements that have no value",
                "\(loc) es un objeto vacío; en FHIR JSON se omiten los elementos sin valor")
            return nil
        }
        return members
    }

    /// The value of a primitive element, and its required binding.
    mutating func primitive(_ value: JSON, element: ElementDefinition, typeCode: String, loc: String) {
        guard let kind = Primitive.kind(of: typeCode) else { return }
        let valid: Bool
        switch (kind, value) {
        case (.boolean, .bool):
            return
        case let (.number, .number(n)):
            valid = Primitive.isValidNumber(n, type: typeCode)
        case let (.string, .string(s)):
            if s.isEmpty {
                add("value", loc, "\(loc) is an empty string; FHIR JSON leaves out elements that have no value",
                    "\(loc) es una cadena vacía; en FHIR JSON se omiten los elementos sin valor")
                return
            }
            valid = Primitive.isValidString(s, type: typeCode)
            if valid, typeCode == "code", let codes = element.requiredCodes, !codes.contains(s) {
                let sorted = codes.sorted()
                let list = sorted.count <= 10 ? sorted.joined(separator: ", ") : nil
                let vs = element.requiredValueSet ?? "its required value set"
                add("code-invalid", loc,
                    "'\(Walk.clip(s))' at \(loc) is not a code of \(vs)" + (list.map { "; allowed: \($0)" } ?? ""),
                    "'\(Walk.clip(s))' en \(loc) no es un código de \(element.requiredValueSet ?? "su conjunto de valores obligatorio")"
                        + (list.map { "; permitidos: \($0)" } ?? ""))
            }
        default:
            let f = Walk.found(value)
            let expected: (en: String, es: String)
            switch kind {
            case .boolean: expected = ("a JSON boolean (true or false)", "un booleano JSON (true o false)")
            case .number: expected = ("a JSON number", "un número JSON")
            case .string: expected = ("a JSON string", "una cadena JSON")
            }
            add("structure", loc, "\(loc) must be \(expected.en) for FHIR type \(typeCode), found \(f.en)",
                "\(loc) debe ser \(expected.es) para el tipo FHIR \(typeCode); se encontró \(f.es)")
            return
        }
        if !valid {
            let f = Walk.found(value)
            let e = Primitive.expectation(typeCode)
            add("value", loc, "\(loc) is not a valid \(typeCode): found \(f.en), expected \(e.en)",
                "\(loc) no es un \(typeCode) válido: se encontró \(f.es); se esperaba \(e.es)")
        }
    }

    // MARK: Primitive extensions

    /// A `_name` member: the id and extensions of primitive element `name`
    /// (https://hl7.org/fhir/R4/json.html#primitive).
    mutating func primitiveExtension(_ value: JSON, element: ElementDefinition, typeCode: String, main: JSON?,
                                     jsonLoc: String, loc: String, depth: Int) {
        guard Primitive.kind(of: typeCode) != nil else {
            add("structure", jsonLoc,
                "\(jsonLoc) is not allowed: '_' properties only exist for primitive elements and \(element.path) is a \(typeCode)",
                "\(jsonLoc) no está permitido: las propiedades '_' solo existen para elementos primitivos y \(element.path) es un \(typeCode)")
            return
        }
        if element.max == 0 { return }  // reported for the value itself if present; nothing to extend
        if element.isRepeating {
            guard case let .array(items) = value else {
                let f = Walk.found(value)
                add("structure", jsonLoc,
                    "\(jsonLoc) must be a JSON array aligned with the items of \(loc) because \(element.path) repeats, found \(f.en)",
                    "\(jsonLoc) debe ser un arreglo JSON alineado con los elementos de \(loc) porque \(element.path) se repite; se encontró \(f.es)")
                return
            }
            guard !items.isEmpty else {
                add("structure", jsonLoc, "\(jsonLoc) is an empty array; FHIR JSON leaves out elements that have no value",
                    "\(jsonLoc) es un arreglo vacío; en FHIR JSON se omiten los elementos sin valor")
                return
            }
            let mainItems = main?.arrayValue
            if let mainItems, mainItems.count != items.count {
                add("structure", jsonLoc,
                    "\(jsonLoc) has \(items.count) items but \(loc) has \(mainItems.count); the two arrays must be aligned item by item (use null for gaps)",
                    "\(jsonLoc) tiene \(items.count) elementos pero \(loc) tiene \(mainItems.count); ambos arreglos deben estar alineados elemento por elemento (use null en los huecos)")
            }
            for (i, item) in items.enumerated() {
                let iloc = loc + "[\(i)]"
                if case .null = item {
                    if let mainItems, i < mainItems.count, mainItems[i] != .null { continue }
                    add("structure", jsonLoc + "[\(i)]",
                        "\(jsonLoc)[\(i)] is null but \(iloc) has no value either; at least one of them must be given",
                        "\(jsonLoc)[\(i)] es null pero \(iloc) tampoco tiene valor; al menos uno de los dos debe existir")
                    continue
                }
                primitiveElement(item, typeCode: typeCode, loc: iloc, depth: depth)
            }
        } else {
            if case .array = value {
                add("structure", jsonLoc,
                    "\(jsonLoc) must be a single JSON object, not an array: \(element.path) does not repeat",
                    "\(jsonLoc) debe ser un solo objeto JSON, no un arreglo: \(element.path) no se repite")
                return
            }
            primitiveElement(value, typeCode: typeCode, loc: loc, depth: depth)
        }
    }

    /// The object holding the id and extensions of one primitive value.
    /// Validated against the primitive type's own definition (so `xhtml` allows no extensions),
    /// without its `value`, which lives in the plain JSON property.
    mutating func primitiveElement(_ value: JSON, typeCode: String, loc: String, depth: Int) {
        guard var members = objectMembers(value, loc: loc, typeName: "id and extension of a \(typeCode)") else { return }
        if members.contains(where: { $0.0 == "value" }) {
            add("structure", loc + ".value",
                "Unknown element \(loc).value: the '_' object of a primitive holds only 'id' and 'extension'; the value itself goes in the property without '_'",
                "Elemento desconocido \(loc).value: el objeto '_' de un primitivo solo lleva 'id' y 'extension'; el valor va en la propiedad sin '_'")
            members.removeAll { $0.0 == "value" }
            if members.isEmpty { return }
        }
        guard let type = defs.types[typeCode] ?? defs.types["Element"] else { return }
        object(members, type: type, defPath: type.name, loc: loc, isResource: false, depth: depth + 1)
    }

    // MARK: Descriptions

    static func clip(_ s: String) -> String {
        s.count <= 80 ? s : String(s.prefix(80)) + "…"
    }

    /// What was found instead, for messages.
    static func found(_ value: JSON) -> (en: String, es: String) {
        switch value {
        case .null: return ("null", "null")
        case .bool(let b): return ("the boolean \(b)", "el booleano \(b)")
        case .number(let n): return ("the number \(clip(n))", "el número \(clip(n))")
        case .string(let s): return ("the string \"\(clip(s))\"", "la cadena \"\(clip(s))\"")
        case .array: return ("an array", "un arreglo")
        case .object: return ("an object", "un objeto")
        }
    }
}
