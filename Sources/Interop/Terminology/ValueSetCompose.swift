import FHIR
import Foundation

/// Value sets defined by a `ValueSet` resource (https://hl7.org/fhir/R4/valueset.html#compositions):
/// its `compose` — `include` and `exclude` rules, each a `system` (optionally a `version`) with an
/// enumerated `concept` list or `filter`s, and/or other value sets by `valueSet` — or, for a value
/// set stored without `compose`, its `expansion.contains`. Stored ValueSets and CodeSystems are
/// found by `StoredTerminology`; this is the pure evaluation. Choices (docs/interop.md#terminology):
/// several `valueSet`s in one rule are intersected (the rule's own comment and R5; the R4 element
/// text says union); an enumerated concept of a code system this server does not have is taken with
/// the display the rule gives (so a value set of LOINC codes still expands), while a filter or a
/// whole system needs the code system.
extension TerminologyService {
    /// One member of a value set.
    struct Member {
        var system: String
        var version: String?
        var code: String
        var display: String?
        var key: String { system + "|" + code }
    }

    /// The deepest `valueSet` nesting evaluated (a cycle is refused before that).
    static let maximumNesting = 8

    /// The stored ValueSet a url names, when it is not a code system's own (implicit) value set.
    func storedValueSet(_ url: String) -> JSON? {
        let bare = Self.bare(url)
        guard !bare.contains("?fhir_vs"), systems[bare] == nil else { return nil }
        return valueSets[bare]
    }

    public static func bare(_ url: String) -> String { url.split(separator: "|", maxSplits: 1).first.map(String.init) ?? url }

    /// The members of the value set named `url`: an implicit value set, a code system's URL, or a
    /// stored ValueSet.
    func members(ofValueSet url: String, visiting: [String]) throws -> [Member] {
        if let vs = storedValueSet(url) { return try members(of: vs, visiting: visiting + [Self.bare(url)]) }
        guard systems[Self.bare(url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url)] != nil else {
            throw Self.unknownValueSet(url)
        }
        let (s, root) = try valueSet(url)
        return s.order.compactMap { code in
            guard let c = s.concepts[code], root.map({ isDescendant(code, of: $0, in: s) }) ?? true else { return nil }
            return Member(system: s.url, version: s.version, code: c.code, display: c.display)
        }
    }

    /// The members of a ValueSet resource, in the order of its rules, each once.
    func members(of vs: JSON, visiting: [String] = []) throws -> [Member] {
        guard visiting.count <= Self.maximumNesting else {
            throw FHIRError(status: 422, code: "too-costly",
                            english: "the value set nests other value sets more than \(Self.maximumNesting) deep: \(visiting.joined(separator: " → "))",
                            spanish: "el conjunto de valores anida otros a más de \(Self.maximumNesting) niveles: \(visiting.joined(separator: " → "))")
        }
        guard let compose = vs["compose"] else {
            // a value set stored already expanded
            guard let contains = vs["expansion"]?["contains"]?.arrayValue else {
                throw FHIRError(status: 422, code: "processing",
                                english: "the value set '\(vs["url"]?.stringValue ?? "")' has neither a compose nor an expansion",
                                spanish: "el conjunto de valores '\(vs["url"]?.stringValue ?? "")' no tiene compose ni expansion")
            }
            var out: [Member] = []
            func walk(_ list: [JSON]) {
                for c in list {
                    if let system = c["system"]?.stringValue, let code = c["code"]?.stringValue, c["abstract"]?.boolValue != true {
                        out.append(Member(system: system, version: c["version"]?.stringValue, code: code, display: c["display"]?.stringValue))
                    }
                    walk(c["contains"]?.arrayValue ?? [])
                }
            }
            walk(contains)
            return Self.unique(out)
        }
        var included: [Member] = []
        for (i, rule) in (compose["include"]?.arrayValue ?? []).enumerated() {
            included += try members(ofRule: rule, at: "ValueSet.compose.include[\(i)]", visiting: visiting)
        }
        var excluded = Set<String>()
        for (i, rule) in (compose["exclude"]?.arrayValue ?? []).enumerated() {
            for m in try members(ofRule: rule, at: "ValueSet.compose.exclude[\(i)]", visiting: visiting) { excluded.insert(m.key) }
        }
        return Self.unique(included.filter { !excluded.contains($0.key) })
    }

    static func unique(_ members: [Member]) -> [Member] {
        var seen = Set<String>()
        return members.filter { seen.insert($0.key).inserted }
    }

    /// The members one `include` or `exclude` rule selects: all the conditions of the rule hold.
    func members(ofRule rule: JSON, at path: String, visiting: [String]) throws -> [Member] {
        let concepts = rule["concept"]?.arrayValue ?? []
        let filters = rule["filter"]?.arrayValue ?? []
        let sets = (rule["valueSet"]?.arrayValue ?? []).compactMap(\.stringValue)
        var out: [Member]?
        if let url = rule["system"]?.stringValue {
            let version = rule["version"]?.stringValue
            if let s = systems[url] {
                if let version, !version.isEmpty, version != s.version {
                    throw FHIRError(status: 404, code: "not-found",
                                    english: "\(path): version '\(version)' of the code system '\(url)' is not known to this server (it has '\(s.version)')",
                                    spanish: "\(path): la versión '\(version)' del sistema de códigos '\(url)' no es conocida por este servidor (tiene '\(s.version)')",
                                    expression: [path + ".version"])
                }
                if !concepts.isEmpty {
                    out = try concepts.enumerated().map { j, c in
                        let code = c["code"]?.stringValue ?? ""
                        guard let hit = resolve(code, in: s) else {
                            throw FHIRError(status: 422, code: "code-invalid",
                                            english: "\(path).concept[\(j)]: the code '\(code)' is not in \(url)",
                                            spanish: "\(path).concept[\(j)]: el código '\(code)' no está en \(url)",
                                            expression: ["\(path).concept[\(j)]"])
                        }
                        return Member(system: s.url, version: s.version, code: hit.code, display: c["display"]?.stringValue ?? hit.display)
                    }
                } else {
                    let tests = try filters.enumerated().map { j, f in try filter(f, at: "\(path).filter[\(j)]", in: s) }
                    out = s.order.compactMap { code in
                        guard let c = s.concepts[code], tests.allSatisfy({ $0(c) }) else { return nil }
                        return Member(system: s.url, version: s.version, code: c.code, display: c.display)
                    }
                }
            } else if !concepts.isEmpty, filters.isEmpty {
                // a code system this server does not have: the enumerated codes as the rule writes them
                out = concepts.compactMap { c in
                    c["code"]?.stringValue.map { Member(system: url, version: version, code: $0, display: c["display"]?.stringValue) }
                }
            } else {
                throw FHIRError(status: 404, code: "not-found",
                                english: "\(path): the code system '\(url)' is not known to this server, so its \(filters.isEmpty ? "codes" : "filters") cannot be evaluated",
                                spanish: "\(path): el sistema de códigos '\(url)' no es conocido por este servidor; no se pueden evaluar sus \(filters.isEmpty ? "códigos" : "filtros")",
                                expression: [path + ".system"])
            }
        } else if sets.isEmpty {
            throw FHIRError(status: 422, code: "invalid", english: "\(path) has neither a system nor a valueSet (vsd-1)",
                            spanish: "\(path) no tiene system ni valueSet (vsd-1)", expression: [path])
        }
        for url in sets {
            if visiting.contains(Self.bare(url)) {
                throw FHIRError(status: 422, code: "processing",
                                english: "\(path): the value set '\(url)' includes itself (\((visiting + [url]).joined(separator: " → ")))",
                                spanish: "\(path): el conjunto de valores '\(url)' se incluye a sí mismo (\((visiting + [url]).joined(separator: " → ")))",
                                expression: [path + ".valueSet"])
            }
            let members = try members(ofValueSet: url, visiting: visiting)
            if let current = out {
                let keys = Set(members.map(\.key))
                out = current.filter { keys.contains($0.key) }
            } else {
                out = members
            }
        }
        return out ?? []
    }

    /// A `compose.include.filter` as a test of a concept of `s`
    /// (https://hl7.org/fhir/R4/valueset-filter-operator.html): on the hierarchy (`concept` or
    /// `code`: `=`, `is-a`, `descendent-of`, `is-not-a`, `generalizes`, `in`, `not-in`; `parent`
    /// and `child`: `=`, `in`), or on a concept property (`=`, `in`, `not-in`, `exists`). `regex`
    /// is not supported (a pattern from a stored resource run over every concept).
    func filter(_ f: JSON, at path: String, in s: System) throws -> @Sendable (Concept) -> Bool {
        guard let property = f["property"]?.stringValue, let op = f["op"]?.stringValue, let value = f["value"]?.stringValue else {
            throw FHIRError(status: 422, code: "invalid", english: "\(path) needs property, op and value",
                            spanish: "\(path) necesita property, op y value", expression: [path])
        }
        func unsupported() -> FHIRError {
            FHIRError(status: 422, code: "not-supported",
                      english: "\(path): the filter '\(property) \(op)' is not supported (on concept: =, is-a, descendent-of, is-not-a, generalizes, in, not-in; on a property: =, in, not-in, exists)",
                      spanish: "\(path): el filtro '\(property) \(op)' no está soportado (sobre concept: =, is-a, descendent-of, is-not-a, generalizes, in, not-in; sobre una propiedad: =, in, not-in, exists)",
                      expression: [path + ".op"])
        }
        let list = Set(value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        switch property {
        case "concept", "code":
            if op == "in" || op == "not-in" {
                let codes = Set(list.compactMap { resolve($0, in: s)?.code })
                let wanted = op == "in"
                return { (c: Concept) -> Bool in codes.contains(c.code) == wanted }
            }
            guard ["=", "is-a", "descendent-of", "is-not-a", "generalizes"].contains(op) else { throw unsupported() }
            guard let root = resolve(value, in: s)?.code else {
                throw FHIRError(status: 422, code: "code-invalid", english: "\(path): the code '\(value)' is not in \(s.url)",
                                spanish: "\(path): el código '\(value)' no está en \(s.url)", expression: [path + ".value"])
            }
            @Sendable func within(_ code: String, _ ancestor: String) -> Bool { isDescendant(code, of: ancestor, in: s) }
            switch op {
            case "=": return { $0.code == root }
            case "is-a": return { within($0.code, root) }
            case "descendent-of": return { $0.code != root && within($0.code, root) }
            case "is-not-a": return { !within($0.code, root) }
            case "generalizes": return { within(root, $0.code) }
            default: throw unsupported()
            }
        case "parent", "child":
            guard op == "=" || op == "in" else { throw unsupported() }
            let codes = Set(list.compactMap { resolve($0, in: s)?.code })
            if property == "parent" { return { (c: Concept) -> Bool in c.parent.map { codes.contains($0) } ?? false } }
            return { (c: Concept) -> Bool in !codes.isDisjoint(with: c.children) }
        default:
            @Sendable func values(_ c: Concept) -> [String] {
                c.properties.filter { $0["code"]?.stringValue == property }.compactMap { p in
                    guard let v = p.objectValue?.first(where: { $0.0.hasPrefix("value") })?.1 else { return nil }
                    switch v {
                    case .string(let t), .number(let t): return t
                    case .bool(let b): return b ? "true" : "false"
                    default: return v["code"]?.stringValue
                    }
                }
            }
            switch op {
            case "=": return { values($0).contains(value) }
            case "in": return { !list.isDisjoint(with: values($0)) }
            case "not-in": return { list.isDisjoint(with: values($0)) }
            case "exists":
                guard value == "true" || value == "false" else {
                    throw FHIRError(status: 422, code: "invalid", english: "\(path): 'exists' takes the value true or false",
                                    spanish: "\(path): 'exists' lleva el valor true o false", expression: [path + ".value"])
                }
                let wanted = value == "true"
                return { values($0).isEmpty != wanted }
            default: throw unsupported()
            }
        }
    }

    static func unknownValueSet(_ url: String) -> FHIRError {
        FHIRError(status: 404, code: "not-found",
                  english: "the value set '\(url)' is not known to this server (no stored ValueSet has that url, and it is no code system's)",
                  spanish: "el conjunto de valores '\(url)' no es conocido por este servidor (ningún ValueSet guardado tiene esa url, ni es de un sistema de códigos)")
    }

    // MARK: - the operations on a ValueSet resource

    /// `$expand` of a ValueSet resource: its members, with the same `filter` (code prefix, or
    /// every word starting a display word, accents and case folded), paging and `total` as the
    /// implicit value sets, and `used-codesystem` for each system in it.
    func expand(valueSet vs: JSON, url: String?, filter: String?, offset: Int, count: Int, now: Timestamp) throws -> JSON {
        let all = try members(of: vs, visiting: vs["url"]?.stringValue.map { [Self.bare($0)] } ?? [])
        let words = filter.map(TerminologyService.searchWords) ?? []
        let codeFilter = filter?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        let matched = words.isEmpty ? all : all.filter { m in
            let code = m.code.uppercased()
            if code.hasPrefix(codeFilter) || code.replacingOccurrences(of: ".", with: "").hasPrefix(codeFilter) { return true }
            let display = systems[m.system]?.concepts[m.code].flatMap { $0.display == m.display ? $0.words : nil }
                ?? TerminologyService.searchWords(m.display ?? "")
            return words.allSatisfy { w in display.contains { $0.hasPrefix(w) } }
        }
        var parameters: [JSON] = []
        if let filter { parameters.append(.object([("name", .string("filter")), ("valueString", .string(filter))])) }
        parameters.append(.object([("name", .string("count")), ("valueInteger", .number(String(count)))]))
        var used: [String] = []
        for m in all {
            let name = m.version.map { m.system + "|" + $0 } ?? m.system
            if !used.contains(name) { used.append(name) }
        }
        for u in used { parameters.append(.object([("name", .string("used-codesystem")), ("valueUri", .string(u))])) }
        var expansion: [(String, JSON)] = [
            ("identifier", .string("urn:uuid:" + UUID().uuidString.lowercased())),
            ("timestamp", .string(now.description)),
            ("total", .number(String(matched.count))),
            ("offset", .number(String(offset))),
            ("parameter", .array(parameters)),
        ]
        let page = matched.dropFirst(offset).prefix(count)
        if !page.isEmpty {
            expansion.append(("contains", .array(page.map { m in
                var c: [(String, JSON)] = [("system", .string(m.system))]
                if let v = m.version, !v.isEmpty { c.append(("version", .string(v))) }
                c.append(("code", .string(m.code)))
                if let d = m.display { c.append(("display", .string(d))) }
                return .object(c)
            })))
        }
        var out: [(String, JSON)] = [("resourceType", .string("ValueSet"))]
        for key in ["id", "url", "version", "name", "title"] { if let v = vs[key] { out.append((key, v)) } }
        if out.first(where: { $0.0 == "url" }) == nil, let url { out.append(("url", .string(url))) }
        out.append(("status", vs["status"] ?? .string("active")))
        out.append(("expansion", .object(expansion)))
        return .object(out)
    }

    /// `ValueSet/$validate-code` against a ValueSet resource: is (`system`,) `code` a member,
    /// and is `display` (when given) its display?
    func validateCode(valueSet vs: JSON, url: String, code: String, display: String?, system: String?) throws -> JSON {
        let all = try members(of: vs, visiting: [Self.bare(url)])
        let candidates = all.filter { m in
            (system == nil || m.system == system) && (m.code == code || systems[m.system].flatMap { resolve(code, in: $0)?.code } == m.code)
        }
        guard let hit = candidates.first else {
            let where_ = system.map { " (\($0))" } ?? ""
            return Parameters.resource([Parameters.bool("result", false),
                                        Parameters.string("message", "the code '\(code)'\(where_) is not in \(url) / el código '\(code)'\(where_) no está en \(url)")])
        }
        var p: [JSON] = [Parameters.bool("result", true)]
        if let d = hit.display {
            p.append(Parameters.string("display", d))
            if let display, SpanishName.fold(display) != SpanishName.fold(d) {
                p[0] = Parameters.bool("result", false)
                p.append(Parameters.string("message", "the display '\(display)' is not the display of \(hit.code), '\(d)' / la descripción '\(display)' no es la de \(hit.code), '\(d)'"))
            }
        }
        return Parameters.resource(p)
    }
}
