/// Evaluation of FHIRPath over `JSON` resources, with FHIR type awareness from `Definitions`.
///
/// Every node of a result knows its FHIR type: navigation looks each member up in the element
/// definitions of its parent (`Observation.value` finds `valueQuantity` and gives it type
/// `Quantity`; `Observation.component` gives `BackboneElement` nodes whose children are found
/// under `Observation.component`). Primitive extensions (`_x` members) are ignored.

/// An item of a FHIRPath result: a JSON value and its FHIR type.
public struct FHIRPathNode: Sendable {
    public let value: JSON
    /// The FHIR type name (`Reference`, `string`, `Period`, `BackboneElement`, a resource type…),
    /// or "" when unknown.
    public let type: String
    /// Where this node's children are defined: a type name and an element path within it
    /// (`("Observation", "Observation.component")` for a component, `("Quantity", "Quantity")`
    /// for a Quantity).
    let definitionType: String
    let definitionPath: String
    /// A node produced by `resolve()`: it has only a type, and no members.
    let isResolvedReference: Bool

    public init(value: JSON, type: String) {
        self.init(value: value, type: type, definitionType: type, definitionPath: type)
    }

    init(value: JSON, type: String, definitionType: String, definitionPath: String, isResolvedReference: Bool = false) {
        self.value = value
        self.type = type
        self.definitionType = definitionType
        self.definitionPath = definitionPath
        self.isResolvedReference = isResolvedReference
    }

    /// A resource as a node: its type is its `resourceType`.
    public init(resource: JSON) {
        self.init(value: resource, type: resource["resourceType"]?.stringValue ?? "")
    }
}

/// A parsed FHIRPath expression: parse once, evaluate many times.
///
/// Supported: path navigation with type awareness (choice elements, content references, contained
/// and Bundle resources), a leading type name, indexers `[n]`, `|`, `=` `!=` `~` `!~` `<` `>` `<=`
/// `>=`, `and` `or` `xor` `implies`, `in` `contains`, `is`/`as` (operators and functions),
/// `ofType`, `where`, `select`, `exists`, `all`, `empty`, `first`, `last`, `tail`, `skip`, `take`,
/// `single`, `count`, `distinct`, `not`, `hasValue`, `extension(url)`, `resolve`, `iif`, `trace`,
/// `children`, `descendants`, `memberOf`, literals (string, boolean, number, date/time, `{}`),
/// `%resource`/`%context`/`%rootResource`, `%ucum`, `%sct`, `%loinc`, `%vs-x`, `%ext-x`, `$this`.
///
/// Not supported (rejected at parse time): arithmetic, quantity literals, string/math/date
/// functions, `$index`/`$total`, and any other function. Differences from the specification:
/// - `resolve()` does not fetch anything: it yields a node that carries only the type of the
///   reference's target, read from `Reference.reference` (`Patient/123`, `…/Patient/123`,
///   `…/Patient/123/_history/1`, or `#id` of a contained resource) or else `Reference.type`; it is
///   meant for `where(resolve() is Patient)`. Navigating into it yields empty.
/// - `memberOf()` always yields `false` (no terminology service).
/// - `as`/`is` on a collection of several items filter it (like `ofType`) instead of failing;
///   evaluation never throws: anything that would be an error at run time yields empty.
/// - Type names match subtypes (`is Quantity` is true of an `Age`), and the System types
///   (`System.String`, `DateTime`, …) match the FHIR primitives they correspond to.
public struct FHIRPathExpression: Sendable {
    public let text: String
    let syntax: FHIRPathSyntax

    public init(_ text: String) throws {
        self.text = text
        syntax = try Parser.parse(text)
    }

    /// The result of the expression on a resource (the focus, `%resource` and `%context`).
    public func evaluate(_ resource: JSON, definitions: Definitions = .r4) -> [FHIRPathNode] {
        let root = FHIRPathNode(resource: resource)
        let evaluator = Evaluator(definitions: definitions, resource: root)
        return evaluator.evaluate(syntax, [root])
    }

    /// The result of the expression on a node of a resource (for the component expressions of
    /// composite search parameters, which are relative to the node the parameter's expression
    /// found); `%resource` is `resource`.
    public func evaluate(_ node: FHIRPathNode, resource: JSON, definitions: Definitions = .r4) -> [FHIRPathNode] {
        let evaluator = Evaluator(definitions: definitions, resource: FHIRPathNode(resource: resource))
        return evaluator.evaluate(syntax, [node])
    }
}

struct Evaluator {
    let definitions: Definitions
    let resource: FHIRPathNode

    func evaluate(_ e: FHIRPathSyntax, _ focus: [FHIRPathNode]) -> [FHIRPathNode] {
        switch e {
        case .this:
            return focus
        case let .literal(nodes):
            return nodes
        case .resource:
            return [resource]
        case let .rootName(name):
            var out: [FHIRPathNode] = []
            if name.isTypeName {
                // A type name as first step: the focus if it is of that type, else nothing
                // (element names never start with a capital letter).
                return focus.filter { isOfType($0.type, name.name) }
            }
            for node in focus { children(of: node, named: name, into: &out) }
            return out
        case let .member(receiver, name):
            var out: [FHIRPathNode] = []
            for node in evaluate(receiver, focus) { children(of: node, named: name, into: &out) }
            return out
        case let .index(receiver, indexExpr):
            let items = evaluate(receiver, focus)
            guard let i = integer(evaluate(indexExpr, focus)), i >= 0, i < items.count else { return [] }
            return [items[i]]
        case let .typeOperator(receiver, spec, isAs):
            let items = evaluate(receiver, focus)
            if isAs { return items.filter { matches($0, spec) } }
            guard items.count == 1 else { return [] }
            return [boolean(matches(items[0], spec))]
        case let .typeCall(receiver, f, spec):
            let items = evaluate(receiver, focus)
            switch f {
            case .is:
                guard items.count == 1 else { return [] }
                return [boolean(matches(items[0], spec))]
            default:  // as, ofType
                return items.filter { matches($0, spec) }
            }
        case let .negate(operand):
            return evaluate(operand, focus).compactMap { node in
                guard case let .number(n) = node.value else { return nil }
                let v: String = n.hasPrefix("-") ? String(n.dropFirst()) : "-" + n
                return FHIRPathNode(value: .number(v), type: node.type)
            }
        case let .binary(op, l, r):
            return binary(op, l, r, focus)
        case let .call(receiver, f, args):
            return call(f, evaluate(receiver, focus), args, focus)
        }
    }

    // MARK: Navigation

    /// Appends the children of `node` named `name` (array members flattened).
    func children(of node: FHIRPathNode, named member: MemberName, into out: inout [FHIRPathNode]) {
        guard case let .object(members) = node.value, !node.isResolvedReference else { return }
        let name = member.name
        let owner = definitions.types[node.definitionType]
        var defs = owner?.children[node.definitionPath]
        if defs == nil, let owner, let root = owner.elements.first?.parentPath {
            // Constraint profiles (SimpleQuantity, MoneyQuantity) keep their base type's paths.
            defs = owner.children[root]
        }
        if let owner, let element = defs?[name] {
            for (key, value) in members where key == name {
                append(value, owner: owner, element: element, type: element.types.count == 1 ? element.types[0] : "", into: &out)
                return
            }
            return
        }
        if let owner, let element = defs?[member.choiceKey] {
            // A choice: the member is `name` followed by the capitalised type name.
            let n = name.utf8.count
            for (key, value) in members where key.utf8.count > n && key.hasPrefix(name) {
                let suffix = key.utf8.dropFirst(n)
                guard let c = suffix.first, c >= 0x41, c <= 0x5A else { continue }
                if let type = element.types.first(where: { Evaluator.isCapitalised($0, suffix) }) {
                    append(value, owner: owner, element: element, type: type, into: &out)
                }
            }
            return
        }
        // Not defined (or unknown parent type): the member as is, with its type when it is the
        // concrete name of a choice element (`valueQuantity`), else "".
        for (key, value) in members where key == name {
            var type = ""
            if let defs {
                for (choiceKey, element) in defs where choiceKey.hasSuffix("[x]") {
                    let prefix = choiceKey.utf8.dropLast(3)
                    guard name.utf8.starts(with: prefix) else { continue }
                    let suffix = name.utf8.dropFirst(prefix.count)
                    if let t = element.types.first(where: { Evaluator.isCapitalised($0, suffix) }) { type = t }
                }
            }
            appendUntyped(value, type: type, into: &out)
            return
        }
    }

    /// Whether `suffix` is `type` with its first letter upper-cased (`Quantity`, `DateTime`).
    static func isCapitalised(_ type: String, _ suffix: Substring.UTF8View) -> Bool {
        var a = type.utf8.makeIterator()
        var b = suffix.makeIterator()
        var first = true
        while true {
            let x = a.next(), y = b.next()
            guard var x, let y else { return x == nil && y == nil }
            if first, x >= 0x61, x <= 0x7A { x -= 0x20 }
            first = false
            if x != y { return false }
        }
    }

    private func append(_ value: JSON, owner: TypeDefinition, element: ElementDefinition, type: String, into out: inout [FHIRPathNode]) {
        if case let .array(items) = value {
            for item in items { appendOne(item, owner: owner, element: element, type: type, into: &out) }
        } else {
            appendOne(value, owner: owner, element: element, type: type, into: &out)
        }
    }

    /// One value of `element`, defined in type `owner`.
    private func appendOne(_ value: JSON, owner: TypeDefinition, element: ElementDefinition, type: String, into out: inout [FHIRPathNode]) {
        if case .null = value { return }
        if let reference = element.contentReference {
            let path = reference.hasPrefix("#") ? String(reference.dropFirst()) : reference
            let target = owner.elementsByPath[path]
            let t = target?.types.first ?? "BackboneElement"
            out.append(FHIRPathNode(value: value, type: t, definitionType: owner.name, definitionPath: path))
            return
        }
        if type == "Resource" || type == "DomainResource" {
            // Bundle.entry.resource, contained, Parameters.parameter.resource: the actual type.
            out.append(FHIRPathNode(resource: value))
            return
        }
        if owner.children[element.path] != nil {
            // A backbone element (or an `Element` in a data type such as Timing.repeat).
            out.append(FHIRPathNode(value: value, type: type, definitionType: owner.name, definitionPath: element.path))
            return
        }
        out.append(FHIRPathNode(value: value, type: type))
    }

    private func appendUntyped(_ value: JSON, type: String, into out: inout [FHIRPathNode]) {
        if case let .array(items) = value {
            for item in items where item != .null { out.append(FHIRPathNode(value: item, type: type)) }
        } else if value != .null {
            out.append(FHIRPathNode(value: value, type: type))
        }
    }

    // MARK: Types

    /// Whether a FHIR type is `name` or a specialisation of it (`Age` is a `Quantity`, `Patient`
    /// a `DomainResource`, `code` a `string`).
    func isOfType(_ type: String, _ name: String) -> Bool {
        var t = type
        var steps = 0
        while !t.isEmpty, steps < 16 {
            if t == name { return true }
            guard let base = definitions.types[t]?.base else { return false }
            t = base
            steps += 1
        }
        return false
    }

    /// The FHIR primitive types that a System type (https://hl7.org/fhirpath/N1/#types) covers.
    private static let systemTypes: [String: [String]] = [
        "Boolean": ["boolean"],
        "String": ["string", "uri"],
        "Integer": ["integer"],
        "Decimal": ["decimal"],
        "Date": ["date"],
        "DateTime": ["dateTime", "instant"],
        "Time": ["time"],
        "Quantity": ["Quantity"],
    ]

    func matches(_ node: FHIRPathNode, _ spec: TypeSpecifier) -> Bool {
        switch spec.namespace {
        case "System"?:
            return (Evaluator.systemTypes[spec.name] ?? []).contains { isOfType(node.type, $0) }
        case "FHIR"?:
            return isOfType(node.type, spec.name)
        case nil:
            if isOfType(node.type, spec.name) { return true }
            if definitions.types[spec.name] != nil { return false }
            return (Evaluator.systemTypes[spec.name] ?? []).contains { isOfType(node.type, $0) }
        default:
            return false
        }
    }

    // MARK: Booleans, equality

    func boolean(_ b: Bool) -> FHIRPathNode { FHIRPathNode(value: .bool(b), type: "boolean") }

    /// A collection as a boolean: empty is nil (unknown), a single boolean is itself, any other
    /// single item is true, and several items are an error (nil here).
    func truth(_ items: [FHIRPathNode]) -> Bool? {
        guard items.count == 1 else { return nil }
        if case let .bool(b) = items[0].value { return b }
        return true
    }

    func integer(_ items: [FHIRPathNode]) -> Int? {
        guard items.count == 1, case let .number(n) = items[0].value else { return nil }
        return Int(n)
    }

    static func equal(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.number(x), .number(y)):
            if x == y { return true }
            guard let dx = Double(x), let dy = Double(y) else { return false }
            return dx == dy
        default:
            return a == b
        }
    }

    static func equivalent(_ a: JSON, _ b: JSON) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)):
            return normalise(x) == normalise(y)
        case let (.array(x), .array(y)):
            return x.count == y.count && zip(x, y).allSatisfy { equivalent($0, $1) }
        case let (.object(x), .object(y)):
            // Member order does not matter for equivalence.
            guard x.count == y.count else { return false }
            return x.allSatisfy { k, v in y.contains { $0.0 == k && equivalent($0.1, v) } }
        default:
            return equal(a, b)
        }
    }

    private static func normalise(_ s: String) -> String {
        s.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// Collection equality: nil (empty result) when either side is empty.
    private func equality(_ l: [FHIRPathNode], _ r: [FHIRPathNode], _ eq: (JSON, JSON) -> Bool, emptyIsEqual: Bool) -> Bool? {
        if l.isEmpty || r.isEmpty { return emptyIsEqual ? (l.isEmpty && r.isEmpty) : nil }
        guard l.count == r.count else { return false }
        for (a, b) in zip(l, r) where !eq(a.value, b.value) { return false }
        return true
    }

    private func compare(_ l: [FHIRPathNode], _ r: [FHIRPathNode]) -> Int? {
        guard l.count == 1, r.count == 1 else { return nil }
        switch (l[0].value, r[0].value) {
        case let (.number(a), .number(b)):
            guard let x = Double(a), let y = Double(b) else { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        case let (.string(a), .string(b)):
            return a < b ? -1 : (a > b ? 1 : 0)
        default:
            return nil
        }
    }

    /// `|`: the items of both sides without duplicates, in order. Hashing keeps it linear.
    func union(_ l: [FHIRPathNode], _ r: [FHIRPathNode]) -> [FHIRPathNode] {
        var out: [FHIRPathNode] = []
        out.reserveCapacity(l.count + r.count)
        if l.count + r.count <= 8 {
            for node in l + r where !out.contains(where: { Evaluator.equal($0.value, node.value) }) { out.append(node) }
            return out
        }
        var seen: [Int: [Int]] = [:]
        for node in l + r {
            let h = Evaluator.hash(node.value)
            if let candidates = seen[h], candidates.contains(where: { Evaluator.equal(out[$0].value, node.value) }) {
                continue
            }
            seen[h, default: []].append(out.count)
            out.append(node)
        }
        return out
    }

    /// A shallow hash consistent with `equal` (numbers hash by their Double value).
    static func hash(_ v: JSON) -> Int {
        var h = Hasher()
        switch v {
        case .null: h.combine(0)
        case let .bool(b): h.combine(1); h.combine(b)
        case let .number(n): h.combine(2); h.combine(Double(n) ?? 0)
        case let .string(s): h.combine(3); h.combine(s)
        case let .array(a): h.combine(4); h.combine(a.count)
        case let .object(o):
            h.combine(5)
            h.combine(o.count)
            for (k, m) in o.prefix(4) {
                h.combine(k)
                switch m {
                case let .string(s): h.combine(s)
                case let .bool(b): h.combine(b)
                default: break
                }
            }
        }
        return h.finalize()
    }

    private func binary(_ op: BinaryOperator, _ lhs: FHIRPathSyntax, _ rhs: FHIRPathSyntax, _ focus: [FHIRPathNode]) -> [FHIRPathNode] {
        func result(_ b: Bool?) -> [FHIRPathNode] { b.map { [boolean($0)] } ?? [] }
        switch op {
        case .and:
            let l = truth(evaluate(lhs, focus))
            if l == false { return [boolean(false)] }
            let r = truth(evaluate(rhs, focus))
            if r == false { return [boolean(false)] }
            return (l == true && r == true) ? [boolean(true)] : []
        case .or:
            let l = truth(evaluate(lhs, focus))
            if l == true { return [boolean(true)] }
            let r = truth(evaluate(rhs, focus))
            if r == true { return [boolean(true)] }
            return (l == false && r == false) ? [boolean(false)] : []
        case .xor:
            guard let l = truth(evaluate(lhs, focus)), let r = truth(evaluate(rhs, focus)) else { return [] }
            return [boolean(l != r)]
        case .implies:
            let l = truth(evaluate(lhs, focus))
            if l == false { return [boolean(true)] }
            let r = truth(evaluate(rhs, focus))
            if r == true { return [boolean(true)] }
            return (l == true && r == false) ? [boolean(false)] : []
        default:
            break
        }
        let l = evaluate(lhs, focus)
        let r = evaluate(rhs, focus)
        switch op {
        case .union: return union(l, r)
        case .equal: return result(equality(l, r, Evaluator.equal, emptyIsEqual: false))
        case .notEqual: return result(equality(l, r, Evaluator.equal, emptyIsEqual: false).map { !$0 })
        case .equivalent: return result(equality(l, r, Evaluator.equivalent, emptyIsEqual: true))
        case .notEquivalent: return result(equality(l, r, Evaluator.equivalent, emptyIsEqual: true).map { !$0 })
        case .less: return result(compare(l, r).map { $0 < 0 })
        case .greater: return result(compare(l, r).map { $0 > 0 })
        case .lessOrEqual: return result(compare(l, r).map { $0 <= 0 })
        case .greaterOrEqual: return result(compare(l, r).map { $0 >= 0 })
        case .in:
            if l.isEmpty { return [] }
            guard l.count == 1 else { return [] }
            return [boolean(r.contains { Evaluator.equal($0.value, l[0].value) })]
        case .contains:
            if r.isEmpty { return [] }
            guard r.count == 1 else { return [] }
            return [boolean(l.contains { Evaluator.equal($0.value, r[0].value) })]
        case .and, .or, .xor, .implies:
            return []  // handled above
        }
    }

    // MARK: Functions

    private func call(_ f: FunctionName, _ input: [FHIRPathNode], _ args: [FHIRPathSyntax], _ focus: [FHIRPathNode]) -> [FHIRPathNode] {
        switch f {
        case .where:
            return input.filter { truth(evaluate(args[0], [$0])) == true }
        case .select:
            return input.flatMap { evaluate(args[0], [$0]) }
        case .exists:
            if args.isEmpty { return [boolean(!input.isEmpty)] }
            return [boolean(input.contains { truth(evaluate(args[0], [$0])) == true })]
        case .all:
            return [boolean(input.allSatisfy { truth(evaluate(args[0], [$0])) == true })]
        case .empty:
            return [boolean(input.isEmpty)]
        case .first:
            return input.first.map { [$0] } ?? []
        case .last:
            return input.last.map { [$0] } ?? []
        case .tail:
            return Array(input.dropFirst())
        case .skip:
            guard let n = integer(evaluate(args[0], focus)) else { return [] }
            return Array(input.dropFirst(max(n, 0)))
        case .take:
            guard let n = integer(evaluate(args[0], focus)) else { return [] }
            return Array(input.prefix(max(n, 0)))
        case .single:
            return input.count == 1 ? input : []
        case .count:
            return [FHIRPathNode(value: .number(String(input.count)), type: "integer")]
        case .distinct:
            return union(input, [])
        case .not:
            guard let b = truth(input) else { return [] }
            return [boolean(!b)]
        case .hasValue:
            guard input.count == 1 else { return [boolean(false)] }
            let node = input[0]
            guard definitions.types[node.type]?.kind == .primitiveType else { return [boolean(false)] }
            switch node.value {
            case .string, .number, .bool: return [boolean(true)]
            default: return [boolean(false)]
            }
        case .extension:
            let urls = evaluate(args[0], focus)
            guard urls.count == 1, case let .string(url) = urls[0].value else { return [] }
            var out: [FHIRPathNode] = []
            var extensions: [FHIRPathNode] = []
            for node in input {
                extensions.removeAll(keepingCapacity: true)
                children(of: node, named: MemberName("extension"), into: &extensions)
                for e in extensions where e.value["url"] == .string(url) { out.append(e) }
            }
            return out
        case .resolve:
            return input.compactMap(resolve)
        case .memberOf:
            // No terminology service: membership cannot be established.
            return input.isEmpty ? [] : [boolean(false)]
        case .trace:
            return input
        case .iif:
            if truth(evaluate(args[0], input)) == true { return evaluate(args[1], input) }
            return args.count > 2 ? evaluate(args[2], input) : []
        case .children:
            return input.flatMap(allChildren)
        case .descendants:
            var out: [FHIRPathNode] = []
            var queue = input.flatMap(allChildren)
            var i = 0
            while i < queue.count {
                out.append(queue[i])
                queue.append(contentsOf: allChildren(queue[i]))
                i += 1
            }
            return out
        case .as, .is, .ofType:
            return []  // parsed as typeCall
        }
    }

    /// All child nodes of an object, typed by the definitions.
    private func allChildren(_ node: FHIRPathNode) -> [FHIRPathNode] {
        guard case let .object(members) = node.value, !node.isResolvedReference else { return [] }
        var out: [FHIRPathNode] = []
        var done = Set<String>()
        let defs = definitions.types[node.definitionType]?.children[node.definitionPath]
        for (key, _) in members where !key.hasPrefix("_") && key != "resourceType" {
            // Choice members are found under their element name.
            var name = key
            if defs?[key] == nil, let defs {
                for (choiceKey, _) in defs where choiceKey.hasSuffix("[x]") {
                    let prefix = String(choiceKey.dropLast(3))
                    if key.hasPrefix(prefix), key.count > prefix.count { name = prefix; break }
                }
            }
            if done.insert(name).inserted { children(of: node, named: MemberName(name), into: &out) }
        }
        return out
    }

    /// The target of a reference as a type-only node (see `FHIRPathExpression`).
    private func resolve(_ node: FHIRPathNode) -> FHIRPathNode? {
        var type: String?
        switch node.value {
        case let .string(s):
            type = referenceType(s)
        case .object:
            if let s = node.value["reference"]?.stringValue { type = referenceType(s) }
            if type == nil, let t = node.value["type"]?.stringValue {
                let name = t.split(separator: "/").last.map(String.init) ?? t
                if definitions.isResourceType(name) { type = name }
            }
        default:
            break
        }
        guard let type else { return nil }
        return FHIRPathNode(value: node.value, type: type, definitionType: type, definitionPath: type, isResolvedReference: true)
    }

    /// The resource type in a reference: `Patient/1`, `http://x/fhir/Patient/1`,
    /// `Patient/1/_history/2`, or `#id` of a resource contained in `%resource`.
    func referenceType(_ reference: String) -> String? {
        if reference.hasPrefix("#") {
            let id = reference.dropFirst()
            for c in resource.value["contained"]?.arrayValue ?? [] where c["id"]?.stringValue.map({ $0[...] == id }) == true {
                return c["resourceType"]?.stringValue
            }
            return nil
        }
        var s = Substring(reference)
        if let q = s.firstIndex(where: { $0 == "?" || $0 == "#" }) { s = s[..<q] }
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        var i = parts.count - 2
        if parts.count >= 4, parts[parts.count - 2] == "_history" { i = parts.count - 4 }
        guard i >= 0, !parts[i + 1].isEmpty else { return nil }
        let name = String(parts[i])
        return definitions.isResourceType(name) ? name : nil
    }
}
