import FHIR
import Foundation

/// Turns the parameters of a search request into a `SearchQuery`
/// (https://hl7.org/fhir/R4/search.html), or a 400 OperationOutcome that names the parameter
/// and what is wrong with it. Parameter names, modifiers and sort keys are checked against the
/// R4 definitions; nothing from the request becomes SQL text.
public struct SearchParser: Sendable {
    public struct Options: Sendable {
        public var defaultCount = 50
        public var maxCount = 1000
        /// `Prefer: handling=strict`: unknown or unsupported parameters are an error.
        public var strict = false
        public var maxParameters = 100
        public var maxValueLength = 4096
        public var defaultTotal: TotalMode = .accurate
        /// Value sets the caller expanded beforehand for `:in` / `:not-in` (stored ValueSets,
        /// read through the caller's guard): url (without version) → its (system, code) members.
        public var valueSets: [String: [ValueSetMember]] = [:]
        public init() {}
    }

    /// The result controls that the server applies after the query (they do not change which
    /// resources match).
    public struct Controls: Sendable, Equatable {
        public var summary: String?
        public var elements: [String]?
        /// The parameters that were used, in order, for the `self` link.
        public var used: [(String, String)] = []
        public static func == (a: Controls, b: Controls) -> Bool {
            a.summary == b.summary && a.elements == b.elements && a.used.map { $0.0 + "=" + $0.1 } == b.used.map { $0.0 + "=" + $0.1 }
        }
    }

    let definitions: Definitions
    public var options: Options
    /// The code hierarchies behind `:below`, `:above` and `:in` (SearchParser+Terminology.swift).
    let hierarchies: CodeHierarchies

    public init(definitions: Definitions = .r4, options: Options = Options(), hierarchies: CodeHierarchies = .shipped) {
        self.definitions = definitions
        self.options = options
        self.hierarchies = hierarchies
    }

    static func bad(_ en: String, _ es: String) -> FHIRError {
        FHIRError(status: 400, code: "invalid", english: en, spanish: es)
    }

    static let resultParameters: Set<String> = ["_count", "_sort", "_include", "_revinclude", "_total", "_summary", "_elements",
                                                "_cursor", "_format", "_pretty", "_type", "_contained", "_containedType"]

    /// Parses `parameters` (name, value) for a search over `types`.
    public func parse(types: [String], parameters: [(String, String)], compartment: String? = nil) throws -> (SearchQuery, Controls) {
        guard parameters.count <= options.maxParameters else {
            throw Self.bad("too many search parameters (\(parameters.count)); at most \(options.maxParameters)",
                           "demasiados parámetros de búsqueda (\(parameters.count)); como máximo \(options.maxParameters)")
        }
        var query = SearchQuery(types: types, count: options.defaultCount)
        query.total = options.defaultTotal
        query.compartment = compartment
        var controls = Controls()
        for (name, value) in parameters {
            // U+0000 is in no FHIR string, and PostgreSQL text cannot hold it: 400, not a database error
            guard !value.unicodeScalars.contains("\u{0}"), !name.unicodeScalars.contains("\u{0}") else {
                throw Self.bad("the search parameter '\(name.replacingOccurrences(of: "\u{0}", with: ""))' contains a NUL character",
                               "el parámetro de búsqueda '\(name.replacingOccurrences(of: "\u{0}", with: ""))' contiene un carácter NUL")
            }
            guard value.utf8.count <= options.maxValueLength else {
                throw Self.bad("the value of '\(name)' is longer than \(options.maxValueLength) bytes",
                               "el valor de '\(name)' supera \(options.maxValueLength) bytes")
            }
            switch name {
            case "_count":
                guard let n = Int(value), n >= 0 else {
                    throw Self.bad("_count must be a non-negative integer, not '\(value)'", "_count debe ser un entero no negativo, no '\(value)'")
                }
                query.count = min(n, options.maxCount)
                controls.used.append((name, String(query.count)))
            case "_total":
                guard let t = TotalMode(rawValue: value) else {
                    throw Self.bad("_total must be none, estimate or accurate, not '\(value)'", "_total debe ser none, estimate o accurate, no '\(value)'")
                }
                query.total = t
                controls.used.append((name, value))
            case "_summary":
                guard ["true", "false", "count", "text", "data"].contains(value) else {
                    throw Self.bad("_summary must be true, false, count, text or data, not '\(value)'", "_summary debe ser true, false, count, text o data, no '\(value)'")
                }
                if value == "count" { query.countOnly = true; query.total = .accurate }
                controls.summary = value == "false" ? nil : value
                controls.used.append((name, value))
            case "_elements":
                controls.elements = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                controls.used.append((name, value))
            case "_sort":
                query.sort = try parseSort(value, types: types)
                controls.used.append((name, value))
            case "_include", "_include:iterate", "_include:recurse", "_revinclude", "_revinclude:iterate", "_revinclude:recurse":
                let spec = try parseInclude(value, iterate: name.hasSuffix("iterate") || name.hasSuffix("recurse"), reverse: name.hasPrefix("_rev"))
                if name.hasPrefix("_rev") { query.revIncludes.append(spec) } else { query.includes.append(spec) }
                controls.used.append((name, value))
            case "_cursor":
                query.cursor = try SearchCursorCodec.decode(value)
            case "_format", "_pretty", "_type":
                continue
            case "_contained", "_containedType":
                if options.strict {
                    throw FHIRError(status: 400, code: "not-supported", english: "\(name) is not supported", spanish: "\(name) no se admite")
                }
            default:
                do {
                    if let filter = try parseFilter(name: name, value: value, types: types) {
                        query.filters.append(filter)
                        controls.used.append((name, value))
                    }
                } catch let e as UnknownParameter {
                    if options.strict {
                        throw FHIRError(status: 400, code: "not-supported", english: e.english, spanish: e.spanish)
                    }
                }
            }
        }
        return (query, controls)
    }

    struct UnknownParameter: Error {
        var english: String
        var spanish: String
    }

    /// The definition of `code` valid for every one of `types`.
    func definition(_ code: String, types: [String]) -> SearchParameterDefinition? {
        var found: SearchParameterDefinition?
        for t in types {
            guard let p = definitions.searchParametersByType[t]?[code] else { return nil }
            if let f = found, f.type != p.type { return nil }
            found = found ?? p
        }
        return found
    }

    func unknown(_ code: String, _ types: [String]) -> UnknownParameter {
        let where_ = types.count == 1 ? types[0] : types.joined(separator: ", ")
        return UnknownParameter(english: "unknown search parameter '\(code)' for \(where_)",
                                spanish: "parámetro de búsqueda desconocido '\(code)' para \(where_)")
    }

    // MARK: - filters

    func parseFilter(name: String, value: String, types: [String]) throws -> SearchFilter? {
        if name.hasPrefix("_has:") { return try parseHas(name, value, types: types) }
        // chained: subject:Patient.name or subject.name
        if let dot = name.firstIndex(of: "."), !name.hasPrefix("_") || name.hasPrefix("_has") == false && name.contains(".") {
            let head = String(name[..<dot])
            let rest = String(name[name.index(after: dot)...])
            return try parseChain(head: head, rest: rest, value: value, types: types)
        }
        var code = name
        var modifier: String?
        if let colon = name.firstIndex(of: ":") {
            code = String(name[..<colon])
            modifier = String(name[name.index(after: colon)...])
        }
        switch code {
        case "_id":
            if modifier == "missing" { return nil }
            guard modifier == nil else { throw Self.bad("_id takes no modifier", "_id no admite modificadores") }
            return .ids(splitOr(value))
        case "_lastUpdated":
            return .anyOf(try splitOr(value).map { v in
                let (prefix, rest) = splitPrefix(v)
                guard let r = DateRange(rest) else { throw badDate(name, v) }
                return .lastUpdated(prefix, r)
            }).simplified
        case "_content", "_text":
            guard !value.isEmpty else { throw Self.bad("\(code) needs a value", "\(code) necesita un valor") }
            return .content(SearchText.normalize(value), narrativeOnly: code == "_text")
        case "_query", "_filter", "_profile_uri", "near":
            throw UnknownParameter(english: "the parameter '\(code)' is not supported", spanish: "el parámetro '\(code)' no se admite")
        default: break
        }
        if let parameter = metaParameter(code) {
            return try parseTyped(parameter, code: code, modifier: modifier, value: value, types: types)
        }
        guard let def = definition(code, types: types) else { throw unknown(code, types) }
        return try parseTyped(ParameterInfo(code: code, type: def.type, targets: def.target, definition: def), code: code, modifier: modifier, value: value, types: types)
    }

    struct ParameterInfo {
        var code: String
        var type: SearchParameterDefinition.ParameterType
        var targets: [String]
        var definition: SearchParameterDefinition?
    }

    /// `_tag`, `_security`, `_profile`, `_source`: indexed from `meta` on every type.
    func metaParameter(_ code: String) -> ParameterInfo? {
        switch code {
        case "_tag", "_security": return ParameterInfo(code: code, type: .token, targets: [], definition: nil)
        case "_profile": return ParameterInfo(code: code, type: .reference, targets: ["StructureDefinition"], definition: nil)
        case "_source": return ParameterInfo(code: code, type: .uri, targets: [], definition: nil)
        default: return nil
        }
    }

    func kind(_ t: SearchParameterDefinition.ParameterType) -> IndexEntry.Kind? {
        switch t {
        case .token: return .token
        case .string: return .string
        case .reference: return .reference
        case .date: return .date
        case .number: return .number
        case .quantity: return .quantity
        case .uri: return .uri
        case .composite: return .composite
        case .special: return nil
        }
    }

    func parseTyped(_ p: ParameterInfo, code: String, modifier: String?, value: String, types: [String]) throws -> SearchFilter {
        if modifier == "missing" {
            guard value == "true" || value == "false" else {
                throw Self.bad("\(code):missing must be true or false, not '\(value)'", "\(code):missing debe ser true o false, no '\(value)'")
            }
            guard let k = kind(p.type) else { throw UnknownParameter(english: "\(code) cannot be searched", spanish: "\(code) no se puede buscar") }
            return .missing(parameter: code, kind: k, missing: value == "true")
        }
        guard !value.isEmpty else {
            throw Self.bad("the search parameter '\(code)' has an empty value", "el parámetro de búsqueda '\(code)' tiene un valor vacío")
        }
        let values = splitOr(value)
        func each(_ make: (String) throws -> SearchFilter) throws -> SearchFilter {
            SearchFilter.anyOf(try values.map(make)).simplified
        }
        switch p.type {
        case .string:
            let match: SearchFilter.StringMatch
            switch modifier {
            case nil: match = .startsWith
            case "exact": match = .exact
            case "contains": match = .contains
            default: throw badModifier(code, modifier!)
            }
            return try each { .string(parameter: code, value: match == .exact ? unescape($0) : SearchText.normalize(unescape($0)), match: match) }
        case .token:
            switch modifier {
            case nil, "not":
                let f = try each { v in
                    let (system, codeValue) = splitToken(v)
                    return .token(parameter: code, system: system, code: codeValue)
                }
                return modifier == "not" ? .not(f) : f
            case "text":
                return try each { .tokenText(parameter: code, text: SearchText.normalize(unescape($0))) }
            case "of-type":
                return try each { v in
                    let parts = splitUnescaped(v, "|")
                    guard parts.count == 3 else {
                        throw Self.bad("\(code):of-type needs system|code|value, not '\(v)'", "\(code):of-type necesita sistema|código|valor, no '\(v)'")
                    }
                    return .token(parameter: "\(code):of-type", system: parts[0], code: "\(parts[1])|\(parts[2])")
                }
            case "below", "above":
                return try each { try hierarchyFilter(code, modifier!, unescape($0)) }
            case "in", "not-in":
                let f = try each { try valueSetFilter(code, modifier!, unescape($0)) }
                return modifier == "not-in" ? .not(f) : f
            default: throw badModifier(code, modifier!)
            }
        case .reference:
            if modifier == "identifier" {
                return try each { v in
                    let (system, codeValue) = splitToken(v)
                    return .token(parameter: "\(code):identifier", system: system, code: codeValue)
                }
            }
            var typeModifier: String?
            if let m = modifier {
                guard definitions.isResourceType(m) else { throw badModifier(code, m) }
                typeModifier = m
            }
            return try each { v in try referenceFilter(code, v, typeModifier: typeModifier, targets: p.targets) }
        case .date:
            guard modifier == nil else { throw badModifier(code, modifier!) }
            return try each { v in
                let (prefix, rest) = splitPrefix(v)
                guard let r = DateRange(rest) else { throw badDate(code, v) }
                return .date(parameter: code, prefix: prefix, range: r)
            }
        case .number:
            guard modifier == nil else { throw badModifier(code, modifier!) }
            return try each { v in
                let (prefix, rest) = splitPrefix(v)
                guard let n = NumberRange(rest) else { throw badNumber(code, v) }
                return .number(parameter: code, prefix: prefix, value: n.value, low: n.low, high: n.high)
            }
        case .quantity:
            guard modifier == nil else { throw badModifier(code, modifier!) }
            return try each { v in try quantityFilter(code, v) }
        case .uri:
            let match: SearchFilter.URIMatch
            switch modifier {
            case nil: match = .exact
            case "below": match = .below
            case "above": match = .above
            default: throw badModifier(code, modifier!)
            }
            return try each { .uri(parameter: code, value: unescape($0), match: match) }
        case .composite:
            guard modifier == nil, let def = p.definition else { throw badModifier(code, modifier ?? "") }
            return try each { v in
                let parts = splitUnescaped(v, "$")
                guard parts.count == def.component.count else {
                    throw Self.bad("\(code) needs \(def.component.count) values joined by '$', not '\(v)'",
                                   "\(code) necesita \(def.component.count) valores unidos por '$', no '\(v)'")
                }
                var comps: [SearchFilter] = []
                for (component, part) in zip(def.component, parts) {
                    guard let cdef = definitions.searchParameters.first(where: { $0.url == component.definition }) else {
                        throw UnknownParameter(english: "\(code) has an unknown component", spanish: "\(code) tiene un componente desconocido")
                    }
                    let info = ParameterInfo(code: cdef.code, type: cdef.type, targets: cdef.target, definition: cdef)
                    comps.append(try parseTyped(info, code: cdef.code, modifier: nil, value: escapeCommas(part), types: types))
                }
                return .composite(parameter: code, components: comps)
            }
        case .special:
            throw UnknownParameter(english: "the special parameter '\(code)' is not supported", spanish: "el parámetro especial '\(code)' no se admite")
        }
    }

    func escapeCommas(_ s: String) -> String { s.replacingOccurrences(of: ",", with: "\\,") }

    func referenceFilter(_ code: String, _ raw: String, typeModifier: String?, targets: [String]) throws -> SearchFilter {
        let v = unescape(raw)
        let parts = v.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if v.contains("://") || v.hasPrefix("urn:") {
            // absolute: …/Type/id[/_history/n] → by type and id; anything else by the URL written
            var p = parts
            if p.count >= 2, p[p.count - 2] == "_history" { p.removeLast(2) }
            if p.count >= 2, definitions.isResourceType(p[p.count - 2]), !v.hasPrefix("urn:") {
                // a Reference is indexed by type and id; a canonical (`questionnaire`,
                // `instantiates-canonical`) by the URL it holds, which looks the same
                return .anyOf([.reference(parameter: code, type: p[p.count - 2], id: p[p.count - 1]), .referenceURL(parameter: code, url: v)])
            }
            return .referenceURL(parameter: code, url: v)
        }
        if parts.count == 2 {
            guard definitions.isResourceType(parts[0]) else {
                throw Self.bad("'\(v)' in \(code) is not a Type/id reference", "'\(v)' en \(code) no es una referencia Tipo/id")
            }
            if let t = typeModifier, t != parts[0] {
                throw Self.bad("\(code):\(t) conflicts with the type in '\(v)'", "\(code):\(t) contradice el tipo en '\(v)'")
            }
            return .reference(parameter: code, type: parts[0], id: parts[1])
        }
        guard parts.count == 1, !v.isEmpty else {
            throw Self.bad("'\(v)' in \(code) is not a reference (Type/id, id or an absolute URL)",
                           "'\(v)' en \(code) no es una referencia (Tipo/id, id o una URL absoluta)")
        }
        return .reference(parameter: code, type: typeModifier ?? (targets.count == 1 ? targets[0] : nil), id: v)
    }

    func quantityFilter(_ code: String, _ v: String) throws -> SearchFilter {
        let parts = splitUnescaped(v, "|")
        let (prefix, number) = splitPrefix(parts[0])
        guard let n = NumberRange(number), parts.count == 1 || parts.count == 3 else { throw badNumber(code, v) }
        let system = parts.count == 3 && !parts[1].isEmpty ? parts[1] : nil
        let unit = parts.count == 3 && !parts[2].isEmpty ? parts[2] : nil
        return .quantity(parameter: code, prefix: prefix, value: n.value, low: n.low, high: n.high, system: system, code: unit)
    }

    func parseChain(head: String, rest: String, value: String, types: [String]) throws -> SearchFilter {
        var code = head
        var typeModifier: String?
        if let colon = head.firstIndex(of: ":") {
            code = String(head[..<colon])
            typeModifier = String(head[head.index(after: colon)...])
        }
        guard let def = definition(code, types: types), def.type == .reference else {
            throw Self.bad("'\(head)' cannot be chained: it is not a reference parameter of \(types.joined(separator: ", "))",
                           "'\(head)' no se puede encadenar: no es un parámetro de referencia de \(types.joined(separator: ", "))")
        }
        var targets = def.target
        if let t = typeModifier {
            guard targets.contains(t) else {
                throw Self.bad("\(code) cannot refer to \(t)", "\(code) no puede referirse a \(t)")
            }
            targets = [t]
        }
        // the next step must exist on the target types that have it
        let nextName = rest.split(separator: ".").first.map(String.init) ?? rest
        let nextCode = nextName.split(separator: ":").first.map(String.init) ?? nextName
        targets = targets.filter { definitions.searchParametersByType[$0]?[nextCode] != nil || ["_id", "_lastUpdated"].contains(nextCode) }
        guard !targets.isEmpty else {
            throw Self.bad("the chain '\(head).\(rest)' is broken: no target of \(code) has the parameter '\(nextCode)'",
                           "la cadena '\(head).\(rest)' está rota: ningún destino de \(code) tiene el parámetro '\(nextCode)'")
        }
        var filters: [SearchFilter] = []
        var chainTargets: [String] = []
        for t in targets {
            do {
                if let f = try parseFilter(name: rest, value: value, types: [t]) {
                    filters.append(f)
                    chainTargets.append(t)
                }
            } catch is UnknownParameter {
                continue
            }
        }
        guard !filters.isEmpty else {
            throw Self.bad("the chain '\(head).\(rest)' cannot be resolved", "la cadena '\(head).\(rest)' no se puede resolver")
        }
        if filters.count == 1 { return .chain(parameter: code, targetTypes: chainTargets, filter: filters[0]) }
        return .anyOf(zip(chainTargets, filters).map { .chain(parameter: code, targetTypes: [$0], filter: $1) })
    }

    func parseHas(_ name: String, _ value: String, types: [String]) throws -> SearchFilter {
        // _has:Observation:patient:code=1234 (and nested _has:…:_has:…)
        let parts = name.split(separator: ":", maxSplits: 3).map(String.init)
        guard parts.count == 4, definitions.isResourceType(parts[1]) else {
            throw Self.bad("'\(name)' is not a valid _has (use _has:Type:reference:parameter=value)",
                           "'\(name)' no es un _has válido (use _has:Tipo:referencia:parámetro=valor)")
        }
        let type = parts[1], ref = parts[2], rest = parts[3]
        guard let def = definitions.searchParametersByType[type]?[ref], def.type == .reference else {
            throw Self.bad("'\(ref)' is not a reference parameter of \(type)", "'\(ref)' no es un parámetro de referencia de \(type)")
        }
        guard def.target.contains(where: { types.contains($0) }) else {
            throw Self.bad("\(type).\(ref) cannot refer to \(types.joined(separator: ", "))", "\(type).\(ref) no puede referirse a \(types.joined(separator: ", "))")
        }
        guard let inner = try parseFilter(name: rest, value: value, types: [type]) else {
            throw Self.bad("'\(name)' has nothing to match", "'\(name)' no tiene nada que comparar")
        }
        return .has(type: type, parameter: ref, filter: inner)
    }

    // MARK: - _sort and _include

    func parseSort(_ value: String, types: [String]) throws -> [SortKey] {
        try value.split(separator: ",").map { raw in
            var name = raw.trimmingCharacters(in: .whitespaces)
            let descending = name.hasPrefix("-")
            if descending { name.removeFirst() }
            if name == "_id" || name == "_lastUpdated" { return SortKey(parameter: name, kind: nil, descending: descending) }
            guard let def = definition(name, types: types), let k = kind(def.type), [.string, .token, .date, .number, .quantity, .uri, .reference].contains(k) else {
                throw Self.bad("cannot sort by '\(name)' on \(types.joined(separator: ", "))", "no se puede ordenar por '\(name)' en \(types.joined(separator: ", "))")
            }
            return SortKey(parameter: name, kind: k, descending: descending)
        }
    }

    func parseInclude(_ value: String, iterate: Bool, reverse: Bool) throws -> IncludeSpec {
        let parts = value.split(separator: ":").map(String.init)
        if value == "*" { return IncludeSpec(sourceType: "*", parameter: "*", targetType: nil, iterate: iterate) }
        guard parts.count >= 2, parts.count <= 3, definitions.isResourceType(parts[0]) else {
            throw Self.bad("'\(value)' is not a valid include (Type:parameter[:TargetType])", "'\(value)' no es un include válido (Tipo:parámetro[:TipoDestino])")
        }
        if parts[1] != "*" {
            guard let def = definitions.searchParametersByType[parts[0]]?[parts[1]], def.type == .reference else {
                throw Self.bad("'\(parts[1])' is not a reference parameter of \(parts[0])", "'\(parts[1])' no es un parámetro de referencia de \(parts[0])")
            }
        }
        if parts.count == 3, !definitions.isResourceType(parts[2]) {
            throw Self.bad("'\(parts[2])' is not a resource type", "'\(parts[2])' no es un tipo de recurso")
        }
        return IncludeSpec(sourceType: parts[0], parameter: parts[1], targetType: parts.count == 3 ? parts[2] : nil, iterate: iterate)
    }

    // MARK: - value helpers

    func badModifier(_ code: String, _ m: String) -> FHIRError {
        Self.bad("the modifier ':\(m)' is not valid on '\(code)'", "el modificador ':\(m)' no es válido en '\(code)'")
    }

    func badDate(_ code: String, _ v: String) -> FHIRError {
        Self.bad("'\(v)' is not a valid date for '\(code)' (use [prefix]YYYY[-MM[-DD[Thh:mm[:ss][Z|±hh:mm]]]])",
                 "'\(v)' no es una fecha válida para '\(code)' (use [prefijo]AAAA[-MM[-DD[Thh:mm[:ss][Z|±hh:mm]]]])")
    }

    func badNumber(_ code: String, _ v: String) -> FHIRError {
        Self.bad("'\(v)' is not a valid number for '\(code)'", "'\(v)' no es un número válido para '\(code)'")
    }

    func splitPrefix(_ v: String) -> (Prefix, String) {
        if v.count > 2, let p = Prefix(rawValue: String(v.prefix(2))), let third = v.dropFirst(2).first, third.isNumber || third == "-" {
            return (p, String(v.dropFirst(2)))
        }
        return (.eq, v)
    }

    /// `system|code`, `|code`, `system|`, `code`.
    func splitToken(_ v: String) -> (String?, String?) {
        let parts = splitUnescaped(v, "|")
        if parts.count >= 2 {
            let code = parts[1...].joined(separator: "|")
            return (parts[0], code.isEmpty ? nil : code)
        }
        return (nil, parts[0])
    }

    /// Splits on unescaped `,` (https://hl7.org/fhir/R4/search.html#escaping) — values stay escaped.
    func splitOr(_ v: String) -> [String] {
        var out: [String] = []
        var cur = ""
        var escaped = false
        for ch in v {
            if escaped { cur.append("\\"); cur.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "," { out.append(cur); cur = ""; continue }
            cur.append(ch)
        }
        if escaped { cur.append("\\") }
        out.append(cur)
        return out
    }

    /// Splits on an unescaped separator and unescapes the parts.
    func splitUnescaped(_ v: String, _ sep: Character) -> [String] {
        var out: [String] = []
        var cur = ""
        var escaped = false
        for ch in v {
            if escaped { cur.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == sep { out.append(cur); cur = ""; continue }
            cur.append(ch)
        }
        if escaped { cur.append("\\") }  // a trailing backslash escapes nothing: it is itself
        out.append(cur)
        return out
    }

    func unescape(_ v: String) -> String {
        var out = ""
        var escaped = false
        for ch in v {
            if escaped { out.append(ch); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            out.append(ch)
        }
        if escaped { out.append("\\") }  // a trailing backslash escapes nothing: it is itself (not an empty value that matches all)
        return out
    }
}

extension SearchFilter {
    /// `anyOf` with one element is that element; an `anyOf` inside an `anyOf` is spliced in.
    var simplified: SearchFilter {
        guard case let .anyOf(list) = self else { return self }
        let flat = list.flatMap { f -> [SearchFilter] in
            if case let .anyOf(inner) = f { return inner }
            return [f]
        }
        return flat.count == 1 ? flat[0] : .anyOf(flat)
    }
}

/// A number's value and the range its written precision implies
/// (https://hl7.org/fhir/R4/search.html#number): `100` is 99.5…100.5, `1.50` is 1.495…1.505.
public struct NumberRange: Sendable, Equatable {
    public var value: Double
    public var low: Double
    public var high: Double

    public init?(_ text: String) {
        guard !text.isEmpty, let v = Double(text), v.isFinite,
              text.allSatisfy({ $0.isNumber || $0 == "." || $0 == "-" || $0 == "+" || $0 == "e" || $0 == "E" }) else { return nil }
        value = v
        var exponent = 0
        var mantissa = Substring(text)
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            mantissa = text[..<e]
        }
        let decimals = mantissa.firstIndex(of: ".").map { mantissa.distance(from: $0, to: mantissa.endIndex) - 1 } ?? 0
        let half = 0.5 * pow(10, Double(exponent - decimals))
        low = v - half
        high = v + half
    }
}

/// Encodes the cursor of a page in the `_cursor` parameter of `next`/`previous` links.
public enum SearchCursorCodec {
    public static func encode(_ c: SearchCursor) -> String {
        let keys: [JSON] = c.keys.map {
            switch $0 {
            case .text(let s): return .string(s)
            case .number(let d): return .number(String(d))
            }
        }
        let json = JSON.array([.string(c.direction.rawValue), .string(c.type), .string(c.id), .array(keys)])
        return Data(json.serialized()).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ s: String) throws -> SearchCursor {
        var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b.count % 4 != 0 { b += "=" }
        guard let data = Data(base64Encoded: b), let json = try? JSONParser.parse(Array(data), maxDepth: 4),
              case let .array(a) = json, a.count == 4,
              let dir = a[0].stringValue.flatMap(SearchCursor.Direction.init(rawValue:)),
              let type = a[1].stringValue, let id = a[2].stringValue, case let .array(keys) = a[3] else {
            throw SearchParser.bad("_cursor '\(s.prefix(40))' is not a cursor this server issued", "_cursor '\(s.prefix(40))' no es un cursor emitido por este servidor")
        }
        let values: [SortValue] = try keys.map {
            switch $0 {
            case .string(let s): return .text(s)
            case .number(let n):
                guard let d = Double(n) else { throw SearchParser.bad("malformed _cursor", "_cursor mal formado") }
                return .number(d)
            default: throw SearchParser.bad("malformed _cursor", "_cursor mal formado")
            }
        }
        return SearchCursor(keys: values, type: type, id: id, direction: dir)
    }
}
