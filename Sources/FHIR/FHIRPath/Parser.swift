/// Parser for the FHIRPath subset Enlace supports, producing an immutable syntax tree that the
/// evaluator walks without looking at text again.
///
/// Precedence (https://hl7.org/fhirpath/N1/#operator-precedence), tightest first:
/// `.` `[]` · unary `+ -` · `* / div mod` · `+ - &` · `is as` · `|` · `< > <= >=` · `= ~ != !~`
/// · `in contains` · `and` · `or xor` · `implies`.

/// A type specifier (`Quantity`, `FHIR.Quantity`, `System.String`).
struct TypeSpecifier: Sendable, Equatable {
    /// `FHIR`, `System` or nil when unqualified.
    let namespace: String?
    let name: String
}

/// A member name, with what navigation needs precomputed.
struct MemberName: Sendable, Equatable {
    let name: String
    /// `name[x]`: the key of a choice element in the definitions.
    let choiceKey: String
    /// Starts with a capital letter: a type name, not an element.
    let isTypeName: Bool

    init(_ name: String) {
        self.name = name
        choiceKey = name + "[x]"
        isTypeName = name.utf8.first.map { $0 >= 0x41 && $0 <= 0x5A } ?? false
    }
}

enum BinaryOperator: String, Sendable {
    case union = "|"
    case equal = "=", notEqual = "!=", equivalent = "~", notEquivalent = "!~"
    case less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">="
    case and, or, xor, implies
    case `in`, contains
}

/// The functions Enlace evaluates. Unknown function names are rejected at parse time.
enum FunctionName: String, Sendable, CaseIterable {
    case `where`, select, exists, all, empty, first, last, tail, skip, take, single, count, distinct
    case not, resolve, `extension`, hasValue, memberOf, ofType, `as`, `is`, trace, iif
    case children, descendants

    /// Allowed argument counts.
    var arity: ClosedRange<Int> {
        switch self {
        case .where, .select, .all, .skip, .take, .extension, .memberOf, .ofType, .as, .is: 1...1
        case .exists: 0...1
        case .trace: 1...2
        case .iif: 2...3
        default: 0...0
        }
    }
}

indirect enum FHIRPathSyntax: Sendable {
    /// `$this`, or the implicit focus of a leading identifier or function call.
    case this
    /// A literal, already a collection (empty for `{}`).
    case literal([FHIRPathNode])
    /// A leading identifier: a type name matching the focus, else a member of it.
    case rootName(MemberName)
    /// `receiver.name`.
    case member(FHIRPathSyntax, MemberName)
    /// `receiver.f(args)`, or `f(args)` on the focus.
    case call(FHIRPathSyntax, FunctionName, [FHIRPathSyntax])
    /// A type function (`as`, `is`, `ofType`) with its type resolved at parse time.
    case typeCall(FHIRPathSyntax, FunctionName, TypeSpecifier)
    /// `receiver[index]`.
    case index(FHIRPathSyntax, FHIRPathSyntax)
    case binary(BinaryOperator, FHIRPathSyntax, FHIRPathSyntax)
    /// `x is T` (isAs false) and `x as T` (isAs true).
    case typeOperator(FHIRPathSyntax, TypeSpecifier, isAs: Bool)
    case negate(FHIRPathSyntax)
    /// `%resource`, `%context`, `%rootResource`.
    case resource
}

struct Parser {
    private let tokens: [Token]
    private var position = 0
    /// Nesting of parentheses, arguments and unary operators, bounded to protect the stack.
    private var nesting = 0

    static func parse(_ text: String) throws(FHIRPathError) -> FHIRPathSyntax {
        var parser = Parser(tokens: try Lexer.tokenize(text))
        let e = try parser.expression(0)
        guard case .end = parser.current.kind else {
            throw FHIRPathError("unexpected \(parser.describe(parser.current))", offset: parser.current.offset)
        }
        guard depth(e, limit: maximumDepth) else {
            throw FHIRPathError("expression nested deeper than \(maximumDepth)", offset: 0)
        }
        return e
    }

    /// Evaluation recurses along the syntax tree: its depth is bounded so that no expression can
    /// exhaust the stack. The R4 search parameters need less than 40.
    static let maximumDepth = 128

    /// Whether the tree is at most `limit` deep (recursion stops past the limit).
    private static func depth(_ e: FHIRPathSyntax, limit: Int) -> Bool {
        guard limit > 0 else { return false }
        switch e {
        case .this, .literal, .rootName, .resource: return true
        case let .member(r, _), let .typeCall(r, _, _), let .typeOperator(r, _, _), let .negate(r):
            return depth(r, limit: limit - 1)
        case let .call(r, _, args):
            return depth(r, limit: limit - 1) && args.allSatisfy { depth($0, limit: limit - 1) }
        case let .index(a, b), let .binary(_, a, b):
            return depth(a, limit: limit - 1) && depth(b, limit: limit - 1)
        }
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var current: Token { tokens[position] }
    private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case let .identifier(s), let .delimitedIdentifier(s): "identifier '\(s)'"
        case let .string(s): "string '\(s)'"
        case let .number(s): "number \(s)"
        case let .dateTime(s): "date/time @\(s)"
        case let .externalConstant(s): "%\(s)"
        case let .special(s): "$\(s)"
        case let .symbol(s): "'\(s)'"
        case .end: "end of expression"
        }
    }

    private func isSymbol(_ s: String) -> Bool {
        if case let .symbol(x) = current.kind { return x == s }
        return false
    }

    private func isKeyword(_ s: String) -> Bool {
        if case let .identifier(x) = current.kind { return x == s }
        return false
    }

    private mutating func expect(_ s: String) throws(FHIRPathError) {
        guard isSymbol(s) else {
            throw FHIRPathError("expected '\(s)' but found \(describe(current))", offset: current.offset)
        }
        advance()
    }

    // MARK: Binary operators by precedence level (0 loosest).

    private static let levels: [[String]] = [
        ["implies"],
        ["or", "xor"],
        ["and"],
        ["in", "contains"],
        ["=", "~", "!=", "!~"],
        ["<", ">", "<=", ">="],
        ["|"],
        ["is", "as"],
        ["+", "-", "&"],
        ["*", "/", "div", "mod"],
    ]

    /// The operator at the current token if it belongs to `level`.
    private func operatorAt(_ level: Int) -> String? {
        let ops = Parser.levels[level]
        switch current.kind {
        case let .symbol(s) where ops.contains(s): return s
        case let .identifier(s) where ops.contains(s): return s
        default: return nil
        }
    }

    /// A whole (sub)expression: the loosest level, with the nesting bounded.
    private mutating func nestedExpression() throws(FHIRPathError) -> FHIRPathSyntax {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Parser.maximumDepth else {
            throw FHIRPathError("expression nested deeper than \(Parser.maximumDepth)", offset: current.offset)
        }
        return try expression(0)
    }

    private mutating func expression(_ level: Int) throws(FHIRPathError) -> FHIRPathSyntax {
        if level == Parser.levels.count { return try unary() }
        var left = try expression(level + 1)
        while let op = operatorAt(level) {
            let offset = current.offset
            advance()
            if op == "is" || op == "as" {
                left = .typeOperator(left, try typeSpecifier(), isAs: op == "as")
                continue
            }
            let right = try expression(level + 1)
            guard let bop = BinaryOperator(rawValue: op) else {
                throw FHIRPathError("operator '\(op)' is not supported", offset: offset)
            }
            left = .binary(bop, left, right)
        }
        return left
    }

    private mutating func unary() throws(FHIRPathError) -> FHIRPathSyntax {
        if isSymbol("-") || isSymbol("+") {
            let minus = isSymbol("-")
            advance()
            nesting += 1
            defer { nesting -= 1 }
            guard nesting <= Parser.maximumDepth else {
                throw FHIRPathError("expression nested deeper than \(Parser.maximumDepth)", offset: current.offset)
            }
            let operand = try unary()
            return minus ? .negate(operand) : operand
        }
        return try invocationChain()
    }

    private mutating func typeSpecifier() throws(FHIRPathError) -> TypeSpecifier {
        let first = try identifierName()
        if isSymbol(".") {
            advance()
            return TypeSpecifier(namespace: first, name: try identifierName())
        }
        return TypeSpecifier(namespace: nil, name: first)
    }

    private mutating func identifierName() throws(FHIRPathError) -> String {
        switch current.kind {
        case let .identifier(s), let .delimitedIdentifier(s):
            advance()
            return s
        default:
            throw FHIRPathError("expected an identifier but found \(describe(current))", offset: current.offset)
        }
    }

    private mutating func invocationChain() throws(FHIRPathError) -> FHIRPathSyntax {
        var e = try term()
        while true {
            if isSymbol(".") {
                advance()
                let offset = current.offset
                let name = try identifierName()
                if isSymbol("(") {
                    e = try functionCall(e, name, offset: offset)
                } else {
                    e = .member(e, MemberName(name))
                }
            } else if isSymbol("[") {
                advance()
                let i = try nestedExpression()
                try expect("]")
                e = .index(e, i)
            } else {
                return e
            }
        }
    }

    private mutating func term() throws(FHIRPathError) -> FHIRPathSyntax {
        let t = current
        switch t.kind {
        case let .identifier(s):
            advance()
            if s == "true" || s == "false" { return .literal([FHIRPathNode(value: .bool(s == "true"), type: "boolean")]) }
            if isSymbol("(") { return try functionCall(.this, s, offset: t.offset) }
            return .rootName(MemberName(s))
        case let .delimitedIdentifier(s):
            advance()
            return .rootName(MemberName(s))
        case let .string(s):
            advance()
            return .literal([FHIRPathNode(value: .string(s), type: "string")])
        case let .number(n):
            advance()
            // A quantity literal (`4 'mg'`, `2 days`) is not supported.
            if case .string = current.kind {
                throw FHIRPathError("quantity literals are not supported", offset: t.offset)
            }
            return .literal([FHIRPathNode(value: .number(n), type: n.contains(".") ? "decimal" : "integer")])
        case let .dateTime(s):
            advance()
            let type = s.hasPrefix("T") ? "time" : (s.contains("T") ? "dateTime" : "date")
            return .literal([FHIRPathNode(value: .string(s.hasPrefix("T") ? String(s.dropFirst()) : s), type: type)])
        case let .externalConstant(name):
            advance()
            switch name {
            case "resource", "context", "rootResource": return .resource
            case "ucum": return .literal([FHIRPathNode(value: .string("http://unitsofmeasure.org"), type: "string")])
            case "sct": return .literal([FHIRPathNode(value: .string("http://snomed.info/sct"), type: "string")])
            case "loinc": return .literal([FHIRPathNode(value: .string("http://loinc.org"), type: "string")])
            default:
                if name.hasPrefix("vs-") {
                    let v = "http://hl7.org/fhir/ValueSet/" + name.dropFirst(3)
                    return .literal([FHIRPathNode(value: .string(v), type: "string")])
                }
                if name.hasPrefix("ext-") {
                    let v = "http://hl7.org/fhir/StructureDefinition/" + name.dropFirst(4)
                    return .literal([FHIRPathNode(value: .string(v), type: "string")])
                }
                throw FHIRPathError("unknown environment variable %\(name)", offset: t.offset)
            }
        case let .special(name):
            advance()
            guard name == "this" else {
                throw FHIRPathError("$\(name) is not supported", offset: t.offset)
            }
            return .this
        case .symbol("("):
            advance()
            let e = try nestedExpression()
            try expect(")")
            return e
        case .symbol("{"):
            advance()
            try expect("}")
            return .literal([])
        default:
            throw FHIRPathError("unexpected \(describe(t))", offset: t.offset)
        }
    }

    private mutating func functionCall(_ receiver: FHIRPathSyntax, _ name: String, offset: Int) throws(FHIRPathError) -> FHIRPathSyntax {
        guard let f = FunctionName(rawValue: name) else {
            throw FHIRPathError("unknown or unsupported function '\(name)'", offset: offset)
        }
        try expect("(")
        var args: [FHIRPathSyntax] = []
        if !isSymbol(")") {
            args.append(try nestedExpression())
            while isSymbol(",") {
                advance()
                args.append(try nestedExpression())
            }
        }
        try expect(")")
        guard f.arity.contains(args.count) else {
            throw FHIRPathError("\(name)() takes \(f.arity.lowerBound == f.arity.upperBound ? "\(f.arity.lowerBound)" : "\(f.arity.lowerBound) to \(f.arity.upperBound)") argument(s), got \(args.count)", offset: offset)
        }
        switch f {
        case .as, .is, .ofType:
            guard let spec = Parser.typeSpecifier(from: args[0]) else {
                throw FHIRPathError("\(name)() needs a type name", offset: offset)
            }
            return .typeCall(receiver, f, spec)
        default:
            return .call(receiver, f, args)
        }
    }

    /// `Quantity` or `FHIR.Quantity` parsed as an expression, read back as a type.
    private static func typeSpecifier(from e: FHIRPathSyntax) -> TypeSpecifier? {
        switch e {
        case let .rootName(n): TypeSpecifier(namespace: nil, name: n.name)
        case let .member(.rootName(ns), n): TypeSpecifier(namespace: ns.name, name: n.name)
        default: nil
        }
    }
}
