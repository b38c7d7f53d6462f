/// Tokenizer for FHIRPath (https://hl7.org/fhirpath/N1/#grammar).
///
/// Works on the UTF-8 bytes of the expression; identifiers and literals are decoded once, at
/// parse time, so evaluation never looks at expression text again.

/// An error in the text of a FHIRPath expression (lexing or parsing), with the offset (in UTF-8
/// bytes) where it was found.
public struct FHIRPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }
    public var description: String { "FHIRPath: \(message) at offset \(offset)" }
}

struct Token: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// A plain identifier; keywords (`and`, `is`, `true`, …) are identifiers too and are
        /// recognised by the parser according to their position.
        case identifier(String)
        /// A backtick-delimited identifier: never a keyword.
        case delimitedIdentifier(String)
        case string(String)
        case number(String)
        /// `@2020-01-01`, `@T12:00` (kept as text).
        case dateTime(String)
        /// `%name`, ``%`name` ``, `%'name'`.
        case externalConstant(String)
        /// `$this`, `$index`, `$total`.
        case special(String)
        /// Punctuation and symbolic operators: `.` `(` `)` `[` `]` `{` `}` `,` `|` `=` `!=` `~`
        /// `!~` `<` `>` `<=` `>=` `+` `-` `*` `/` `&`.
        case symbol(String)
        case end
    }
    let kind: Kind
    let offset: Int
}

struct Lexer {
    private let bytes: [UInt8]
    private var index = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    static func tokenize(_ text: String) throws(FHIRPathError) -> [Token] {
        var lexer = Lexer(text)
        var tokens: [Token] = []
        while true {
            let t = try lexer.next()
            tokens.append(t)
            if t.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        let i = index + ahead
        return i < bytes.count ? bytes[i] : nil
    }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F
    }
    private static func isIdentPart(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private mutating func skipTrivia() throws(FHIRPathError) {
        while let c = peek() {
            switch c {
            case 0x20, 0x09, 0x0A, 0x0D:
                index += 1
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                while let d = peek(), d != 0x0A { index += 1 }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = index
                index += 2
                while true {
                    guard let d = peek() else { throw FHIRPathError("unterminated comment", offset: start) }
                    if d == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") { index += 2; break }
                    index += 1
                }
            default:
                return
            }
        }
    }

    mutating func next() throws(FHIRPathError) -> Token {
        try skipTrivia()
        let start = index
        guard let c = peek() else { return Token(kind: .end, offset: start) }
        func tok(_ k: Token.Kind) -> Token { Token(kind: k, offset: start) }

        if Lexer.isIdentStart(c) {
            while let d = peek(), Lexer.isIdentPart(d) { index += 1 }
            return tok(.identifier(text(start, index)))
        }
        if Lexer.isDigit(c) {
            while let d = peek(), Lexer.isDigit(d) { index += 1 }
            if peek() == UInt8(ascii: "."), let d = peek(1), Lexer.isDigit(d) {
                index += 1
                while let d = peek(), Lexer.isDigit(d) { index += 1 }
            }
            return tok(.number(text(start, index)))
        }
        switch c {
        case UInt8(ascii: "`"):
            return tok(.delimitedIdentifier(try quoted(UInt8(ascii: "`"))))
        case UInt8(ascii: "'"):
            return tok(.string(try quoted(UInt8(ascii: "'"))))
        case UInt8(ascii: "%"):
            index += 1
            guard let d = peek() else { throw FHIRPathError("expected a name after %", offset: start) }
            if d == UInt8(ascii: "`") { return tok(.externalConstant(try quoted(d))) }
            if d == UInt8(ascii: "'") { return tok(.externalConstant(try quoted(d))) }
            guard Lexer.isIdentStart(d) else { throw FHIRPathError("expected a name after %", offset: start) }
            let s = index
            // Names like %vs-name and %ext-name contain dashes.
            while let e = peek(), Lexer.isIdentPart(e) || e == UInt8(ascii: "-") { index += 1 }
            return tok(.externalConstant(text(s, index)))
        case UInt8(ascii: "$"):
            index += 1
            let s = index
            while let e = peek(), Lexer.isIdentPart(e) { index += 1 }
            let name = text(s, index)
            guard ["this", "index", "total"].contains(name) else {
                throw FHIRPathError("unknown special variable $\(name)", offset: start)
            }
            return tok(.special(name))
        case UInt8(ascii: "@"):
            index += 1
            while let e = peek(),
                  Lexer.isIdentPart(e) || e == UInt8(ascii: "-") || e == UInt8(ascii: ":")
                  || e == UInt8(ascii: "+") || e == UInt8(ascii: ".") { index += 1 }
            let s = text(start + 1, index)
            guard !s.isEmpty else { throw FHIRPathError("empty date/time literal", offset: start) }
            return tok(.dateTime(s))
        case UInt8(ascii: "!"):
            if peek(1) == UInt8(ascii: "=") { index += 2; return tok(.symbol("!=")) }
            if peek(1) == UInt8(ascii: "~") { index += 2; return tok(.symbol("!~")) }
            throw FHIRPathError("unexpected character '!'", offset: start)
        case UInt8(ascii: "<"), UInt8(ascii: ">"):
            if peek(1) == UInt8(ascii: "=") { index += 2; return tok(.symbol(c == UInt8(ascii: "<") ? "<=" : ">=")) }
            index += 1
            return tok(.symbol(String(UnicodeScalar(c))))
        case UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"),
             UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "|"), UInt8(ascii: "="),
             UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "/"),
             UInt8(ascii: "&"):
            index += 1
            return tok(.symbol(String(UnicodeScalar(c))))
        default:
            throw FHIRPathError("unexpected character '\(String(UnicodeScalar(c)))'", offset: start)
        }
    }

    private func text(_ from: Int, _ to: Int) -> String {
        String(decoding: bytes[from..<to], as: UTF8.self)
    }

    /// A quoted string or delimited identifier with FHIRPath escapes; `index` is at the opening quote.
    private mutating func quoted(_ quote: UInt8) throws(FHIRPathError) -> String {
        let start = index
        index += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek() else { throw FHIRPathError("unterminated literal", offset: start) }
            index += 1
            if c == quote { break }
            if c != UInt8(ascii: "\\") { out.append(c); continue }
            guard let e = peek() else { throw FHIRPathError("unterminated escape", offset: index) }
            index += 1
            switch e {
            case UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "`"), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                out.append(e)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard index + 4 <= bytes.count,
                      let v = UInt32(text(index, index + 4), radix: 16),
                      let scalar = UnicodeScalar(v) else {
                    throw FHIRPathError("invalid \\u escape", offset: index - 2)
                }
                index += 4
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default:
                throw FHIRPathError("invalid escape '\\\(String(UnicodeScalar(e)))'", offset: index - 2)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
