import FHIR
import Foundation

/// Extracts the search index rows of a resource on write, for every R4 search parameter of its
/// type (https://hl7.org/fhir/R4/search.html), following the table on `IndexEntry`.
///
/// The FHIRPath expressions of the official SearchParameters are parsed once per process (the
/// plans are shared by every `Indexer`, which is a reference to them: cheap to copy and share).
/// Multi-resource expressions (`AllergyIntolerance.code | Condition.code | …`) are pruned to the
/// branches of the resource's type before parsing, so a write evaluates only what can match.
///
/// Not indexed: `special` parameters (`near`, `_text`, `_content`, `_query`…), parameters whose
/// expression our FHIRPath does not support (see `IndexPlans.unsupported`), and `_id` /
/// `_lastUpdated` (the stores keep those as columns).
public struct Indexer: Sendable {
    let plans: IndexPlans

    public init() {
        plans = IndexPlans.shared
    }

    public func entries(for resource: JSON, type: String) -> [IndexEntry] {
        guard let params = plans.byType[type] else { return [] }
        var ctx = IndexContext(resource: resource, isResourceType: plans.isResourceType)
        for p in params {
            let nodes = p.expression.evaluate(resource)
            if nodes.isEmpty { continue }
            if p.type == .composite {
                for node in nodes { ctx.composite(p, node) }
            } else {
                for node in nodes { ctx.map(node, code: p.code, type: p.type) }
            }
        }
        return IndexContext.finish(ctx.out)
    }
}

/// A search parameter ready to evaluate.
struct ParamPlan: Sendable {
    let code: String
    let type: SearchParameterDefinition.ParameterType
    let expression: FHIRPathExpression
    let components: [ComponentPlan]
}

struct ComponentPlan: Sendable {
    let code: String
    let type: SearchParameterDefinition.ParameterType
    let expression: FHIRPathExpression
}

/// The parsed index plans of every resource type, built once.
final class IndexPlans: Sendable {
    static let shared = IndexPlans(definitions: .r4)

    /// Per resource type, the parameters to index, sorted by code.
    let byType: [String: [ParamPlan]]
    /// "Type.code: reason" for parameters that have an expression we cannot evaluate.
    let unsupported: [String]
    let isResourceType: @Sendable (String) -> Bool

    init(definitions: Definitions) {
        let defs = definitions
        isResourceType = { defs.isResourceType($0) }
        var byURL: [String: SearchParameterDefinition] = [:]
        for p in definitions.searchParameters { byURL[p.url] = p }
        var byType: [String: [ParamPlan]] = [:]
        var unsupported: [String] = []
        var parsed: [String: FHIRPathExpression] = [:]  // by expression text, shared across types
        func parse(_ text: String) throws -> FHIRPathExpression {
            if let e = parsed[text] { return e }
            let e = try FHIRPathExpression(text)
            parsed[text] = e
            return e
        }
        for type in definitions.resourceTypes {
            var plans: [ParamPlan] = []
            let params = definitions.searchParametersByType[type] ?? [:]
            for code in params.keys.sorted() {
                let p = params[code]!
                if p.type == .special || code == "_id" || code == "_lastUpdated" { continue }
                // a union of two other parameters reads their rows (UnionParameters)
                if UnionParameters.isUnion(type: type, code: code) { continue }
                guard let full = p.expression, !full.isEmpty else { continue }
                let pruned = IndexPlans.prune(full, to: type, isResourceType: definitions.isResourceType)
                guard !pruned.isEmpty else { continue }
                let expression: FHIRPathExpression
                do {
                    expression = try parse(pruned)
                } catch {
                    do { expression = try parse(full) } catch {
                        unsupported.append("\(type).\(code): \(error)")
                        continue
                    }
                }
                var components: [ComponentPlan] = []
                if p.type == .composite {
                    var ok = !p.component.isEmpty
                    for c in p.component {
                        guard let def = byURL[c.definition], def.type != .special, def.type != .composite,
                              let e = try? parse(c.expression) else { ok = false; break }
                        components.append(ComponentPlan(code: def.code, type: def.type, expression: e))
                    }
                    guard ok else {
                        unsupported.append("\(type).\(code): composite component not supported")
                        continue
                    }
                }
                plans.append(ParamPlan(code: code, type: p.type, expression: expression, components: components))
            }
            byType[type] = plans
        }
        self.byType = byType
        self.unsupported = unsupported
    }

    /// Keeps the top-level `|` branches of `expression` that can apply to `type`: a branch that
    /// starts with another concrete resource type's name yields nothing on `type`.
    static func prune(_ expression: String, to type: String, isResourceType: (String) -> Bool) -> String {
        var branches: [String] = []
        var current = ""
        var depth = 0
        var quote: Character? = nil
        var escaped = false
        for ch in expression {
            if let q = quote {
                current.append(ch)
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == q { quote = nil }
                continue
            }
            switch ch {
            case "'", "`": quote = ch
            case "(", "[", "{": depth += 1
            case ")", "]", "}": depth -= 1
            case "|" where depth == 0:
                branches.append(current)
                current = ""
                continue
            default: break
            }
            current.append(ch)
        }
        branches.append(current)
        if branches.count == 1 { return expression }
        let kept = branches.filter { branch in
            let lead = branch.drop { $0 == "(" || $0.isWhitespace }.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            let name = String(lead)
            return name == type || !isResourceType(name)
        }
        return kept.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: " | ")
    }
}

/// The state of one `entries(for:type:)` call.
struct IndexContext {
    let resource: JSON
    let isResourceType: @Sendable (String) -> Bool
    var out: [IndexEntry] = []
    /// Normalized non-ASCII strings (ASCII is normalized inline, which is cheap).
    var normalized: [String: String] = [:]

    init(resource: JSON, isResourceType: @escaping @Sendable (String) -> Bool) {
        self.resource = resource
        self.isResourceType = isResourceType
    }

    // MARK: Composite

    mutating func composite(_ p: ParamPlan, _ node: FHIRPathNode) {
        // Evaluate every component first, the last (usually the selective value[x]) first, so a
        // parameter that does not apply (code-value-concept on a valueQuantity) stops early.
        var nodes = [[FHIRPathNode]](repeating: [], count: p.components.count)
        for i in p.components.indices.reversed() {
            nodes[i] = p.components[i].expression.evaluate(node, resource: resource)
            if nodes[i].isEmpty { return }
        }
        var lists: [[IndexEntry]] = []
        lists.reserveCapacity(p.components.count)
        let saved = out
        for (c, cNodes) in zip(p.components, nodes) {
            out = []
            for n in cNodes { map(n, code: c.code, type: c.type) }
            // Only the component's own rows (not `:identifier` / `:of-type` extras), once each.
            var mine: [IndexEntry] = []
            for e in out where e.parameter == c.code && !mine.contains(e) { mine.append(e) }
            guard !mine.isEmpty else { out = saved; return }
            lists.append(mine)
        }
        var combos: [[IndexEntry]] = [[]]
        for list in lists {
            var next: [[IndexEntry]] = []
            next.reserveCapacity(combos.count * list.count)
            for prefix in combos {
                for e in list { next.append(prefix + [e]) }
            }
            combos = next
            if combos.count > 256 { combos.removeLast(combos.count - 256) }
        }
        out = saved
        for combo in combos {
            out.append(IndexEntry(parameter: p.code, kind: .composite, components: combo))
        }
    }

    // MARK: Dispatch

    mutating func map(_ node: FHIRPathNode, code: String, type: SearchParameterDefinition.ParameterType) {
        let nodeType = IndexContext.effectiveType(node)
        switch type {
        case .string: string(node.value, nodeType, code)
        case .token: token(node.value, nodeType, code)
        case .reference: reference(node.value, nodeType, code)
        case .date: date(node.value, nodeType, code)
        case .number: number(node.value, code)
        case .quantity: quantity(node.value, nodeType, code)
        case .uri:
            if let s = node.value.stringValue, !s.isEmpty { out.append(IndexEntry(parameter: code, kind: .uri, value: s)) }
        case .composite, .special: break
        }
    }

    /// The node's FHIR type, or a guess from the JSON shape when the evaluator does not know it.
    static func effectiveType(_ node: FHIRPathNode) -> String {
        if !node.type.isEmpty && node.type != "Element" && node.type != "BackboneElement" { return node.type }
        switch node.value {
        case .string: return "string"
        case .bool: return "boolean"
        case .number: return "decimal"
        case .object:
            let v = node.value
            if v["coding"] != nil { return "CodeableConcept" }
            if v["reference"] != nil { return "Reference" }
            if v["start"] != nil || v["end"] != nil { return "Period" }
            if v["value"] != nil, v["unit"] != nil || v["code"] != nil { return "Quantity" }
            if v["code"] != nil { return "Coding" }
            if v["value"] != nil { return "Identifier" }
            return node.type
        default: return node.type
        }
    }

    // MARK: string

    mutating func string(_ v: JSON, _ type: String, _ code: String) {
        switch type {
        case "HumanName":
            addString(v["family"], code)
            for k in ["given", "prefix", "suffix"] { addStrings(v[k], code) }
            addString(v["text"], code)
        case "Address":
            addStrings(v["line"], code)
            for k in ["city", "district", "state", "postalCode", "country", "text"] { addString(v[k], code) }
        default:
            addString(v, code)
        }
    }

    mutating func addStrings(_ v: JSON?, _ code: String) {
        if case let .array(items)? = v { for i in items { addString(i, code) } } else { addString(v, code) }
    }

    mutating func addString(_ v: JSON?, _ code: String) {
        guard let s = v?.stringValue else { return }
        let n = normalize(s)
        guard !n.isEmpty else { return }
        out.append(IndexEntry(parameter: code, kind: .string, value: n, text: s))
    }

    /// `SearchText.normalize`, with an inline path for ASCII and a memo for the rest.
    mutating func normalize(_ s: String) -> String {
        if let fast = IndexContext.normalizeASCII(s) { return fast }
        if let n = normalized[s] { return n }
        let n = SearchText.normalize(s)
        normalized[s] = n
        return n
    }

    /// What `SearchText.normalize` gives for an ASCII string, or nil if `s` is not ASCII.
    static func normalizeASCII(_ s: String) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var lastSpace = true
        for b in s.utf8 {
            if b >= 0x80 { return nil }
            if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                if !lastSpace { bytes.append(0x20) }
                lastSpace = true
            } else {
                bytes.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
                lastSpace = false
            }
        }
        if bytes.last == 0x20 { bytes.removeLast() }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func normalizeOptional(_ v: JSON?) -> String {
        guard let s = v?.stringValue else { return "" }
        return normalize(s)
    }

    // MARK: token

    mutating func token(_ v: JSON, _ type: String, _ code: String) {
        switch type {
        case "Coding":
            coding(v, text: nil, code)
        case "CodeableConcept":
            let text = v["text"]?.stringValue.map { normalize($0) } ?? ""
            let codings = v["coding"]?.arrayValue ?? []
            var any = false
            for c in codings { any = coding(c, text: text.isEmpty ? nil : text, code) || any }
            if !any, !text.isEmpty {
                out.append(IndexEntry(parameter: code, kind: .token, text: text))
            }
        case "Identifier":
            identifier(v, code: code, ofType: true)
        case "ContactPoint":
            if let s = v["value"]?.stringValue, !s.isEmpty {
                out.append(IndexEntry(parameter: code, kind: .token, value: s))
            }
        case "Reference", "Quantity", "Period", "Range", "Ratio", "Attachment", "HumanName", "Address":
            break
        default:
            switch v {
            case let .string(s) where !s.isEmpty:
                out.append(IndexEntry(parameter: code, kind: .token, value: s))
            case let .bool(b):
                out.append(IndexEntry(parameter: code, kind: .token, value: b ? "true" : "false"))
            case let .number(n):
                out.append(IndexEntry(parameter: code, kind: .token, value: n))
            default:
                break
            }
        }
    }

    /// A Coding row; `text` (the CodeableConcept's, normalized) wins over the display.
    @discardableResult
    mutating func coding(_ c: JSON, text: String?, _ code: String) -> Bool {
        let system = c["system"]?.stringValue ?? ""
        let value = c["code"]?.stringValue ?? ""
        let t = text ?? normalizeOptional(c["display"])
        guard !system.isEmpty || !value.isEmpty || !t.isEmpty else { return false }
        out.append(IndexEntry(parameter: code, kind: .token, system: system, value: value, text: t))
        return true
    }

    /// An Identifier row, and with `ofType` one `<code>:of-type` row per coded type.
    mutating func identifier(_ v: JSON, code: String, ofType: Bool) {
        guard let value = v["value"]?.stringValue, !value.isEmpty else { return }
        let system = v["system"]?.stringValue ?? ""
        out.append(IndexEntry(parameter: code, kind: .token, system: system, value: value, text: normalizeOptional(v["type"]?["text"])))
        guard ofType else { return }
        for c in v["type"]?["coding"]?.arrayValue ?? [] {
            guard let typeCode = c["code"]?.stringValue, !typeCode.isEmpty else { continue }
            out.append(IndexEntry(parameter: code + ":of-type", kind: .token, system: c["system"]?.stringValue ?? "",
                                  value: typeCode + "|" + value))
        }
    }

    // MARK: reference

    /// A reference row keeps what was written in `text` only when it says more than `system` and
    /// `value` (an absolute URL, a `_history` version, a canonical's `|version`); `Type/id` and a
    /// bare URL or `urn:` leave it empty — they were half the reference table's bytes
    /// (docs/performance.md). `SearchSQL`'s `referenceURL` reads both forms.
    mutating func reference(_ v: JSON, _ type: String, _ code: String) {
        if case let .string(s) = v {
            // canonical / uri
            guard !s.isEmpty else { return }
            let bare = s.firstIndex(of: "|").map { String(s[..<$0]) } ?? s
            let target = parseReference(bare)?.type ?? ""
            out.append(IndexEntry(parameter: code, kind: .reference, system: target, value: bare, text: s == bare ? "" : s))
            return
        }
        guard case .object = v else { return }
        if let t = v["resourceType"]?.stringValue {
            // a resource itself (`Bundle.entry[0].resource` for Bundle's `composition`/`message`)
            if let id = v["id"]?.stringValue, !id.isEmpty {
                out.append(IndexEntry(parameter: code, kind: .reference, system: t, value: id))
            }
            return
        }
        if let s = v["reference"]?.stringValue, !s.isEmpty {
            if let (t, id) = parseReference(s) {
                out.append(IndexEntry(parameter: code, kind: .reference, system: t, value: id, text: s == t + "/" + id ? "" : s))
            } else {
                out.append(IndexEntry(parameter: code, kind: .reference, value: s))
            }
        }
        if let ident = v["identifier"] {
            identifier(ident, code: code + ":identifier", ofType: false)
        }
    }

    /// `Type/id`, `Type/id/_history/n`, or an absolute URL ending so → (Type, id).
    func parseReference(_ s: String) -> (type: String, id: String)? {
        var parts = s.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count >= 4, parts[parts.count - 2] == "_history" { parts.removeLast(2) }
        guard parts.count >= 2 else { return nil }
        if parts.count > 2 {
            guard let colon = s.firstIndex(of: ":"), s[colon...].hasPrefix("://") else { return nil }
        }
        let type = String(parts[parts.count - 2]), id = parts[parts.count - 1]
        guard !id.isEmpty, id.utf8.count <= 64, isResourceType(type),
              id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E })
        else { return nil }
        return (type, String(id))
    }

    // MARK: date

    static let minDate = -8.64e15
    static let maxDate = 8.64e15

    mutating func date(_ v: JSON, _ type: String, _ code: String) {
        switch type {
        case "Period":
            var low = IndexContext.minDate, high = IndexContext.maxDate
            let start = v["start"]?.stringValue, end = v["end"]?.stringValue
            guard start != nil || end != nil else { return }
            if let start {
                guard let r = DateRange(start) else { return }
                low = Double(r.low)
            }
            if let end {
                guard let r = DateRange(end) else { return }
                high = Double(r.high)
            }
            guard low <= high else { return }
            out.append(IndexEntry(parameter: code, kind: .date, low: low, high: high))
        case "Timing":
            for e in v["event"]?.arrayValue ?? [] { addDate(e, code) }
        default:
            addDate(v, code)
        }
    }

    mutating func addDate(_ v: JSON, _ code: String) {
        guard let s = v.stringValue, let r = DateRange(s) else { return }
        out.append(IndexEntry(parameter: code, kind: .date, low: Double(r.low), high: Double(r.high)))
    }

    // MARK: number and quantity

    /// A number's value and the range it denotes at its precision (half a unit of its last digit).
    static func numberRange(_ v: JSON?) -> (text: String, low: Double, high: Double)? {
        let text: String
        switch v {
        case let .number(n)?: text = n
        case let .string(s)? where !s.isEmpty && s.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 == 0x65 || $0 == 0x45 }):
            text = s
        default: return nil
        }
        guard let value = Double(text), value.isFinite else { return nil }
        var decimals = 0
        var exponent = 0
        var mantissa = Substring(text)
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...].replacingOccurrences(of: "+", with: "")) ?? 0
            mantissa = text[..<e]
        }
        if let dot = mantissa.firstIndex(of: ".") { decimals = mantissa.distance(from: dot, to: mantissa.endIndex) - 1 }
        let half = 0.5 * pow(10.0, Double(exponent - decimals))
        return (text, value - half, value + half)
    }

    mutating func number(_ v: JSON, _ code: String) {
        guard let (text, low, high) = IndexContext.numberRange(v) else { return }
        out.append(IndexEntry(parameter: code, kind: .number, value: text, low: low, high: high))
    }

    mutating func quantity(_ v: JSON, _ type: String, _ code: String) {
        switch type {
        case "Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity":
            guard let (_, low, high) = IndexContext.numberRange(v["value"]) else { return }
            let unit = v["unit"]?.stringValue ?? ""
            let value = v["code"]?.stringValue ?? unit
            out.append(IndexEntry(parameter: code, kind: .quantity, system: v["system"]?.stringValue ?? "", value: value,
                                  text: unit, low: low, high: high))
        case "Money":
            guard let (_, low, high) = IndexContext.numberRange(v["value"]) else { return }
            let currency = v["currency"]?.stringValue ?? ""
            out.append(IndexEntry(parameter: code, kind: .quantity, system: currency.isEmpty ? "" : "urn:iso:std:iso:4217",
                                  value: currency, low: low, high: high))
        case "Range":
            let lo = v["low"], hi = v["high"]
            let low = IndexContext.numberRange(lo?["value"]).flatMap { Double($0.text) }
            let high = IndexContext.numberRange(hi?["value"]).flatMap { Double($0.text) }
            guard low != nil || high != nil else { return }
            let q = (lo?["value"] != nil ? lo : hi) ?? .null
            let unit = q["unit"]?.stringValue ?? ""
            out.append(IndexEntry(parameter: code, kind: .quantity, system: q["system"]?.stringValue ?? "",
                                  value: q["code"]?.stringValue ?? unit, text: unit,
                                  low: low ?? -Double.greatestFiniteMagnitude, high: high ?? Double.greatestFiniteMagnitude))
        default:
            if let (_, low, high) = IndexContext.numberRange(v) {
                out.append(IndexEntry(parameter: code, kind: .quantity, low: low, high: high))
            }
        }
    }

    // MARK: Result

    /// Deduplicated, in a deterministic order.
    static func finish(_ entries: [IndexEntry]) -> [IndexEntry] {
        var seen = Set<IndexEntry>()
        seen.reserveCapacity(entries.count)
        var unique: [IndexEntry] = []
        unique.reserveCapacity(entries.count)
        for e in entries where seen.insert(e).inserted { unique.append(e) }
        unique.sort(by: less)
        return unique
    }

    static func less(_ a: IndexEntry, _ b: IndexEntry) -> Bool {
        if a.parameter != b.parameter { return a.parameter < b.parameter }
        if a.kind != b.kind { return a.kind.rawValue < b.kind.rawValue }
        if a.system != b.system { return a.system < b.system }
        if a.value != b.value { return a.value < b.value }
        if a.text != b.text { return a.text < b.text }
        if a.low != b.low { return (a.low ?? -.infinity) < (b.low ?? -.infinity) }
        if a.high != b.high { return (a.high ?? -.infinity) < (b.high ?? -.infinity) }
        for (x, y) in zip(a.components, b.components) where x != y { return less(x, y) }
        return a.components.count < b.components.count
    }
}
