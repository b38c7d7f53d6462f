import FHIR
import Foundation

/// The terminology service (docs/interop.md#terminology): code systems shipped in the
/// repository, loaded once, and the R4 operations over them — `CodeSystem/$lookup`,
/// `CodeSystem/$validate-code`, `ValueSet/$validate-code`, `ValueSet/$expand` (with an
/// accent-insensitive `filter`) and `CodeSystem/$subsumes`
/// (https://hl7.org/fhir/R4/terminology-service.html). Value sets are the implicit ones of each
/// code system (`<url>?fhir_vs` every code, `<url>?fhir_vs=isa/<code>` a code and its
/// descendants, https://hl7.org/fhir/R4/codesystem.html#implicit). Pure: no I/O, no patient data.
public struct TerminologyService: Sendable {
    /// One concept: its code, display, parent and children, and its display folded for search.
    public struct Concept: Sendable {
        public var code: String
        public var display: String
        public var parent: String?
        public var children: [String]
        /// `concept.property` other than the hierarchy (e.g. `renapo` of a state), as written.
        public var properties: [JSON]
        var words: [String]
    }

    /// A code system: its canonical URL, version, name and concepts in hierarchy order.
    public struct System: Sendable {
        public var url: String
        public var version: String
        public var name: String
        public var title: String
        public var resource: JSON
        public var concepts: [String: Concept]
        /// Codes in hierarchy order (depth first), for expansions.
        public var order: [String]
        /// Every (folded display word, position in `order`) pair, sorted by word: a filter word
        /// finds the concepts with a word starting with it by binary search, not by a scan.
        var wordIndex: [(word: [UInt8], position: Int32)] = []
        /// Every (code, position) pair with the code in capitals, and again without its dot
        /// (`E119`), sorted: a filter that is a code prefix is found the same way.
        var codeIndex: [(word: [UInt8], position: Int32)] = []
    }

    public let systems: [String: System]
    /// ValueSet resources by canonical url (without version) — the stored ones a request names,
    /// found by `StoredTerminology` — for `$expand` and `$validate-code` of value sets defined by
    /// their `compose` (ValueSetCompose.swift).
    public let valueSets: [String: JSON]

    /// The code systems shipped with Enlace (`ShippedCodeSystems`): CIE-10 and the catalogues.
    public static let shipped: TerminologyService = {
        var systems: [String: System] = [:]
        for resource in ShippedCodeSystems.all {
            if let s = load(resource) { systems[s.url] = s }
        }
        return TerminologyService(systems: systems)
    }()

    public init(systems: [String: System], valueSets: [String: JSON] = [:]) {
        self.systems = systems
        self.valueSets = valueSets
    }

    /// Reads a CodeSystem resource with nested concepts (`concept.concept`).
    public static func load(_ resource: JSON) -> System? {
        guard resource["resourceType"]?.stringValue == "CodeSystem", let url = resource["url"]?.stringValue else { return nil }
        var concepts: [String: Concept] = [:]
        var order: [String] = []
        func walk(_ list: [JSON], parent: String?) {
            for c in list {
                guard let code = c["code"]?.stringValue else { continue }
                let display = c["display"]?.stringValue ?? code
                let kids = c["concept"]?.arrayValue ?? []
                concepts[code] = Concept(code: code, display: display, parent: parent,
                                         children: kids.compactMap { $0["code"]?.stringValue },
                                         properties: c["property"]?.arrayValue ?? [],
                                         words: TerminologyService.searchWords(display))
                order.append(code)
                walk(kids, parent: code)
            }
        }
        walk(resource["concept"]?.arrayValue ?? [], parent: nil)
        var summary = resource
        summary = summary.setting("concept", nil)
        var system = System(url: url, version: resource["version"]?.stringValue ?? "", name: resource["name"]?.stringValue ?? "",
                            title: resource["title"]?.stringValue ?? "", resource: summary, concepts: concepts, order: order)
        for (i, code) in order.enumerated() {
            for w in Set(concepts[code]?.words ?? []) { system.wordIndex.append((Array(w.utf8), Int32(i))) }
            let upper = code.uppercased()
            system.codeIndex.append((Array(upper.utf8), Int32(i)))
            if upper.contains(".") { system.codeIndex.append((Array(upper.replacingOccurrences(of: ".", with: "").utf8), Int32(i))) }
        }
        system.wordIndex.sort { $0.word.lexicographicallyPrecedes($1.word) }
        system.codeIndex.sort { $0.word.lexicographicallyPrecedes($1.word) }
        return system
    }

    /// The positions (in `order`) of the index entries whose word starts with `prefix`.
    static func positions(startingWith prefix: [UInt8], in index: [(word: [UInt8], position: Int32)]) -> Set<Int32> {
        var low = 0, high = index.count
        while low < high {
            let mid = (low + high) / 2
            if index[mid].word.lexicographicallyPrecedes(prefix) { low = mid + 1 } else { high = mid }
        }
        var out = Set<Int32>()
        while low < index.count, index[low].word.starts(with: prefix) {
            out.insert(index[low].position)
            low += 1
        }
        return out
    }

    /// The words of a text for `$expand`'s filter: lower case, accents folded, letters and
    /// digits kept, anything else a separator.
    static func searchWords(_ text: String) -> [String] {
        let folded = text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "es_MX"))
        return folded.split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    // MARK: - errors

    static func unknownSystem(_ url: String) -> FHIRError {
        FHIRError(status: 404, code: "not-found", english: "the code system '\(url)' is not known to this server",
                  spanish: "el sistema de códigos '\(url)' no es conocido por este servidor")
    }

    static func missing(_ name: String, _ op: String) -> FHIRError {
        FHIRError.badRequest("\(op) needs the parameter '\(name)'", "\(op) necesita el parámetro '\(name)'", code: "required")
    }

    public func system(_ url: String?, op: String) throws -> System {
        guard let url, !url.isEmpty else { throw Self.missing("system", op) }
        let bare = url.split(separator: "|").first.map(String.init) ?? url
        guard let s = systems[bare] else { throw Self.unknownSystem(bare) }
        return s
    }

    /// A code as written, in capitals, or with the dot a CIE-10 code takes (E119 → E11.9).
    func resolve(_ code: String, in s: System) -> Concept? {
        let written = code.trimmingCharacters(in: .whitespaces)
        if let hit = s.concepts[written] { return hit }
        let c = written.uppercased()
        if let hit = s.concepts[c] { return hit }
        if !c.contains("."), !c.contains("-"), c.count > 3 { return s.concepts[String(c.prefix(3)) + "." + String(c.dropFirst(3))] }
        return nil
    }

    // MARK: - $lookup

    /// `CodeSystem/$lookup` (https://hl7.org/fhir/R4/codesystem-operation-lookup.html): name,
    /// version, display, the `parent` / `child` properties and the concept's own properties
    /// (a state's `renapo`). 404 for an unknown code.
    public func lookup(system url: String?, code: String?) throws -> JSON {
        let s = try system(url, op: "$lookup")
        guard let code, !code.isEmpty else { throw Self.missing("code", "$lookup") }
        guard let c = resolve(code, in: s) else {
            throw FHIRError(status: 404, code: "not-found", english: "the code '\(code)' is not in \(s.url) (\(s.title))",
                            spanish: "el código '\(code)' no está en \(s.url) (\(s.title))")
        }
        var p: [JSON] = [Parameters.string("name", s.name), Parameters.string("version", s.version), Parameters.string("display", c.display)]
        if let parent = c.parent { p.append(Parameters.property("parent", parent)) }
        for child in c.children { p.append(Parameters.property("child", child)) }
        for property in c.properties {
            guard let code = property["code"]?.stringValue,
                  let value = property.objectValue?.first(where: { $0.0.hasPrefix("value") }) else { continue }
            p.append(.object([("name", .string("property")), ("part", .array([
                .object([("name", .string("code")), ("valueCode", .string(code))]),
                .object([("name", .string("value")), (value.0, value.1)]),
            ]))]))
        }
        return Parameters.resource(p)
    }

    // MARK: - $validate-code

    /// `$validate-code` on a CodeSystem or an implicit ValueSet
    /// (https://hl7.org/fhir/R4/codesystem-operation-validate-code.html): `result`, the
    /// `display`, and a `message` when the code is not valid or the display given differs.
    public func validateCode(url: String?, valueSet resource: JSON? = nil, code: String?, display: String?, system: String?) throws -> JSON {
        guard let code, !code.isEmpty else { throw Self.missing("code", "$validate-code") }
        if let vs = resource ?? url.flatMap(storedValueSet) {
            return try validateCode(valueSet: vs, url: url ?? vs["url"]?.stringValue ?? "ValueSet", code: code, display: display, system: system)
        }
        guard let url, !url.isEmpty else { throw Self.missing("url", "$validate-code") }
        let (s, root) = try valueSet(url)
        if let system, system != s.url {
            return Parameters.resource([Parameters.bool("result", false),
                                        Parameters.string("message", "the code system '\(system)' is not the one of \(url) / el sistema '\(system)' no es el de \(url)")])
        }
        guard let c = resolve(code, in: s), root.map({ isDescendant(c.code, of: $0, in: s) }) ?? true else {
            return Parameters.resource([Parameters.bool("result", false),
                                        Parameters.string("message", "the code '\(code)' is not in \(url) / el código '\(code)' no está en \(url)")])
        }
        var p: [JSON] = [Parameters.bool("result", true), Parameters.string("display", c.display)]
        if let display, SpanishName.fold(display) != SpanishName.fold(c.display) {
            p[0] = Parameters.bool("result", false)
            p.append(Parameters.string("message", "the display '\(display)' is not the display of \(c.code), '\(c.display)' / la descripción '\(display)' no es la de \(c.code), '\(c.display)'"))
        }
        return Parameters.resource(p)
    }

    /// A ValueSet URL: a code system's URL, `<url>?fhir_vs` or `<url>?fhir_vs=isa/<code>`.
    func valueSet(_ url: String) throws -> (System, root: String?) {
        let parts = url.split(separator: "?", maxSplits: 1).map(String.init)
        if parts.count == 1, systems[Self.bare(url)] == nil { throw Self.unknownValueSet(url) }
        let s = try system(parts[0], op: "ValueSet")
        guard parts.count == 2 else { return (s, nil) }
        if parts[1] == "fhir_vs" { return (s, nil) }
        if parts[1].hasPrefix("fhir_vs=isa/") {
            let code = String(parts[1].dropFirst("fhir_vs=isa/".count))
            guard let c = resolve(code, in: s) else {
                throw FHIRError(status: 404, code: "not-found", english: "the code '\(code)' of the value set '\(url)' is not in \(s.url)",
                                spanish: "el código '\(code)' del conjunto de valores '\(url)' no está en \(s.url)")
            }
            return (s, c.code)
        }
        throw FHIRError(status: 400, code: "not-supported",
                        english: "only implicit value sets are served: <system>?fhir_vs or <system>?fhir_vs=isa/<code>",
                        spanish: "solo se sirven conjuntos de valores implícitos: <sistema>?fhir_vs o <sistema>?fhir_vs=isa/<código>")
    }

    func isDescendant(_ code: String, of root: String, in s: System) -> Bool {
        var at: String? = code
        while let c = at {
            if c == root { return true }
            at = s.concepts[c]?.parent
        }
        return false
    }

    // MARK: - $expand

    /// `ValueSet/$expand` (https://hl7.org/fhir/R4/valueset-operation-expand.html) of an implicit
    /// value set: every code (hierarchy order), or those whose code starts with `filter` or
    /// whose display has, for every word of `filter`, a word starting with it — accents and
    /// case ignored (*diabetes insulino* finds *Diabetes mellitus insulinodependiente*).
    /// `offset` and `count` page it; `total` counts all matches.
    public func expand(url: String?, valueSet resource: JSON? = nil, filter: String?, offset: Int, count: Int, now: Timestamp) throws -> JSON {
        if let vs = resource ?? url.flatMap(storedValueSet) {
            return try expand(valueSet: vs, url: url, filter: filter, offset: offset, count: count, now: now)
        }
        guard let url, !url.isEmpty else { throw Self.missing("url", "$expand") }
        let (s, root) = try valueSet(url)
        let words = filter.map(TerminologyService.searchWords) ?? []
        let codeFilter = filter?.trimmingCharacters(in: .whitespaces).uppercased() ?? ""
        // the positions the filter selects: a code prefix, or every word starting a display word
        var selected: [Int32]?
        if !words.isEmpty {
            var byText: Set<Int32>?
            for w in words {
                let hits = Self.positions(startingWith: Array(w.utf8), in: s.wordIndex)
                byText = byText.map { $0.intersection(hits) } ?? hits
                if byText?.isEmpty == true { break }
            }
            let byCode = codeFilter.isEmpty ? [] : Self.positions(startingWith: Array(codeFilter.utf8), in: s.codeIndex)
            selected = (byText ?? []).union(byCode).sorted()
        }
        var matched: [Concept] = []
        for position in selected ?? Array(0..<Int32(s.order.count)) {
            let code = s.order[Int(position)]
            guard let c = s.concepts[code] else { continue }
            if let root, !isDescendant(code, of: root, in: s) { continue }
            matched.append(c)
        }
        let page = matched.dropFirst(offset).prefix(count)
        var expansion: [(String, JSON)] = [
            ("identifier", .string("urn:uuid:" + UUID().uuidString.lowercased())),
            ("timestamp", .string(now.description)),
            ("total", .number(String(matched.count))),
            ("offset", .number(String(offset))),
        ]
        var parameters: [JSON] = []
        if let filter { parameters.append(.object([("name", .string("filter")), ("valueString", .string(filter))])) }
        parameters.append(.object([("name", .string("count")), ("valueInteger", .number(String(count)))]))
        expansion.append(("parameter", .array(parameters)))
        if !page.isEmpty {
            expansion.append(("contains", .array(page.map { c in
                .object([("system", .string(s.url)), ("version", .string(s.version)), ("code", .string(c.code)), ("display", .string(c.display))])
            })))
        }
        return .object([
            ("resourceType", .string("ValueSet")),
            ("url", .string(url)),
            ("status", .string("active")),
            ("expansion", .object(expansion)),
        ])
    }

    // MARK: - $subsumes

    /// `CodeSystem/$subsumes` (https://hl7.org/fhir/R4/codesystem-operation-subsumes.html):
    /// `equivalent`, `subsumes` (A is an ancestor of B), `subsumed-by` or `not-subsumed`.
    public func subsumes(system url: String?, codeA: String?, codeB: String?) throws -> JSON {
        let s = try system(url, op: "$subsumes")
        guard let a = codeA, !a.isEmpty else { throw Self.missing("codeA", "$subsumes") }
        guard let b = codeB, !b.isEmpty else { throw Self.missing("codeB", "$subsumes") }
        guard let ca = resolve(a, in: s) else { throw FHIRError(status: 404, code: "not-found", english: "codeA '\(a)' is not in \(s.url)", spanish: "codeA '\(a)' no está en \(s.url)") }
        guard let cb = resolve(b, in: s) else { throw FHIRError(status: 404, code: "not-found", english: "codeB '\(b)' is not in \(s.url)", spanish: "codeB '\(b)' no está en \(s.url)") }
        let outcome: String
        if ca.code == cb.code { outcome = "equivalent" }
        else if isDescendant(cb.code, of: ca.code, in: s) { outcome = "subsumes" }
        else if isDescendant(ca.code, of: cb.code, in: s) { outcome = "subsumed-by" }
        else { outcome = "not-subsumed" }
        return Parameters.resource([.object([("name", .string("outcome")), ("valueCode", .string(outcome))])])
    }

    /// The code system resource (without its concepts) for `CodeSystem` reads of the shipped systems.
    public func summary(_ url: String) -> JSON? { systems[url]?.resource }
}

/// Small builders of `Parameters` resources.
enum Parameters {
    static func resource(_ parameters: [JSON]) -> JSON {
        .object([("resourceType", .string("Parameters")), ("parameter", .array(parameters))])
    }
    static func string(_ name: String, _ value: String) -> JSON { .object([("name", .string(name)), ("valueString", .string(value))]) }
    static func bool(_ name: String, _ value: Bool) -> JSON { .object([("name", .string(name)), ("valueBoolean", .bool(value))]) }
    static func property(_ code: String, _ value: String) -> JSON {
        .object([("name", .string("property")), ("part", .array([
            .object([("name", .string("code")), ("valueCode", .string(code))]),
            .object([("name", .string("value")), ("valueCode", .string(value))]),
        ]))])
    }
}
