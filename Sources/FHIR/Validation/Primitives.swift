/// Checks of the FHIR R4 primitive types in their JSON form
/// (https://hl7.org/fhir/R4/datatypes.html#primitive, https://hl7.org/fhir/R4/json.html#primitive).
///
/// Every check is a hand-written scanner equivalent to the regex of the R4 specification (plus real
/// calendar checks for dates), working on UTF-8 bytes without allocating: it runs on every write.
public enum Primitive {
    /// The largest string FHIR R4 allows (https://hl7.org/fhir/R4/datatypes.html#string): 1 MB.
    public static let maxStringBytes = 1024 * 1024

    /// The JSON kind a primitive is written as.
    enum Kind { case boolean, number, string }

    /// true if `value` is a valid JSON representation of FHIR primitive type `type` (e.g. "date", "positiveInt").
    public static func isValid(_ value: JSON, type: String) -> Bool {
        guard let kind = kind(of: type) else { return false }
        switch (kind, value) {
        case (.boolean, .bool): return true
        case let (.number, .number(n)): return isValidNumber(n, type: type)
        case let (.string, .string(s)): return isValidString(s, type: type)
        default: return false
        }
    }

    /// The JSON kind of primitive type `type`, or nil when `type` is not an R4 primitive.
    static func kind(of type: String) -> Kind? {
        switch type {
        case "boolean": return .boolean
        case "integer", "positiveInt", "unsignedInt", "decimal": return .number
        case "string", "markdown", "code", "id", "uri", "url", "canonical", "oid", "uuid",
             "date", "dateTime", "instant", "time", "base64Binary", "xhtml":
            return .string
        default: return nil
        }
    }

    /// Checks the text of a JSON number against a numeric primitive type.
    static func isValidNumber(_ n: String, type: String) -> Bool {
        var n = n
        return n.withUTF8 { b -> Bool in
            switch type {
            case "decimal": return isJSONNumber(b)
            case "integer": return integer(b, allowMinus: true, minimum: Int64(Int32.min))
            case "positiveInt": return integer(b, allowMinus: false, minimum: 1)
            case "unsignedInt": return integer(b, allowMinus: false, minimum: 0)
            default: return false
            }
        }
    }

    /// Checks a JSON string against a string-based primitive type (false for an empty string,
    /// which FHIR JSON never allows).
    static func isValidString(_ s: String, type: String) -> Bool {
        var s = s
        return s.withUTF8 { b -> Bool in
            guard !b.isEmpty else { return false }
            switch type {
            case "string", "markdown":
                guard b.count <= maxStringBytes else { return false }
                // R4: [ \r\n\t\S]+ — every character but vertical tab and form feed; and not NUL,
                // which R4's text forbids too (no code point below 32 but tab, CR, LF) and which
                // PostgreSQL text cannot store (it failed the write with a 503)
                for c in b where c == 0x0B || c == 0x0C || c == 0x00 { return false }
                return true
            case "code": return code(b)
            case "id": return id(b)
            case "uri", "url", "canonical":
                // R4: \S* — no whitespace (nor NUL, see above).
                for c in b where isSpace(c) || c == 0x00 { return false }
                return true
            case "oid": return oid(b)
            case "uuid": return uuid(b)
            case "date":
                var sc = Scanner(b)
                return sc.date() > 0 && sc.atEnd
            case "dateTime": return dateTime(b, instant: false)
            case "instant": return dateTime(b, instant: true)
            case "time":
                var sc = Scanner(b)
                return sc.time() && sc.atEnd
            case "base64Binary": return base64(b)
            case "xhtml": return xhtml(b)
            default: return false
            }
        }
    }

    // MARK: - Scanners

    typealias Bytes = UnsafeBufferPointer<UInt8>

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) static func isSpace(_ c: UInt8) -> Bool {
        c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0B || c == 0x0C
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    static func isJSONNumber(_ b: Bytes) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, isDigit(b[i]) else { return false }
        if b[i] == UInt8(ascii: "0") { i += 1 } else { while i < b.count, isDigit(b[i]) { i += 1 } }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        if i < b.count, b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
            i += 1
            if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            let start = i
            while i < b.count, isDigit(b[i]) { i += 1 }
            guard i > start else { return false }
        }
        return i == b.count
    }

    /// -?(0|[1-9][0-9]*) within [minimum, Int32.max].
    static func integer(_ b: Bytes, allowMinus: Bool, minimum: Int64) -> Bool {
        var i = 0
        var negative = false
        if i < b.count, b[i] == UInt8(ascii: "-") {
            guard allowMinus else { return false }
            negative = true
            i += 1
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "0") && b.count > i + 1 { return false }  // no leading zeros
        var value: Int64 = 0
        while i < b.count {
            guard isDigit(b[i]) else { return false }
            value = value * 10 + Int64(b[i] - 0x30)
            if value > 1 << 32 { return false }  // far out of range; stop before overflow
            i += 1
        }
        if negative { value = -value }
        return value >= minimum && value <= Int64(Int32.max)
    }

    /// [^\s]+(\s[^\s]+)*
    static func code(_ b: Bytes) -> Bool {
        guard !isSpace(b[0]), !isSpace(b[b.count - 1]) else { return false }
        var previousSpace = false
        for c in b {
            let space = isSpace(c)
            if space && previousSpace { return false }
            previousSpace = space
        }
        return true
    }

    /// [A-Za-z0-9\-\.]{1,64}
    static func id(_ b: Bytes) -> Bool {
        guard b.count <= 64 else { return false }
        for c in b {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."):
                continue
            default: return false
            }
        }
        return true
    }

    static func hasPrefix(_ b: Bytes, _ prefix: StaticString) -> Bool {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard b.count >= p.count else { return false }
        for i in 0..<p.count where b[i] != p[i] { return false }
        return true
    }

    /// urn:oid:[0-2](\.(0|[1-9][0-9]*))+
    static func oid(_ b: Bytes) -> Bool {
        guard hasPrefix(b, "urn:oid:") else { return false }
        var i = 8
        guard i < b.count, b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "2") else { return false }
        i += 1
        var arcs = 0
        while i < b.count {
            guard b[i] == UInt8(ascii: "."), i + 1 < b.count, isDigit(b[i + 1]) else { return false }
            i += 1
            if b[i] == UInt8(ascii: "0") {
                i += 1
            } else {
                while i < b.count, isDigit(b[i]) { i += 1 }
            }
            arcs += 1
        }
        return arcs > 0
    }

    /// urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}
    static func uuid(_ b: Bytes) -> Bool {
        guard b.count == 45, hasPrefix(b, "urn:uuid:") else { return false }
        for i in 9..<45 {
            let c = b[i]
            if i == 17 || i == 22 || i == 27 || i == 32 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) else { return false }
            }
        }
        return true
    }

    /// date, then for dateTime optionally `Thh:mm:ss(.s+)` and a required zone; instant requires all.
    static func dateTime(_ b: Bytes, instant: Bool) -> Bool {
        var sc = Scanner(b)
        let precision = sc.date()
        guard precision > 0 else { return false }
        if sc.atEnd { return !instant }
        guard precision == 3, sc.eat(UInt8(ascii: "T")), sc.time() else { return false }
        return sc.zone() && sc.atEnd
    }

    /// Base64 (RFC 4648) with optional whitespace between groups, as R4 allows.
    static func base64(_ b: Bytes) -> Bool {
        var count = 0
        var padding = 0
        for c in b {
            if isSpace(c) { continue }
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                guard padding == 0 else { return false }  // data after '='
            case UInt8(ascii: "="):
                padding += 1
                guard padding <= 2 else { return false }
            default:
                return false
            }
            count += 1
        }
        return count > 0 && count % 4 == 0
    }

    /// An XHTML fragment whose root is a `div` (https://hl7.org/fhir/R4/narrative.html#xhtml).
    static func xhtml(_ b: Bytes) -> Bool {
        var start = 0, end = b.count
        while start < end, isSpace(b[start]) { start += 1 }
        while end > start, isSpace(b[end - 1]) { end -= 1 }
        let t = UnsafeBufferPointer(rebasing: b[start..<end])
        guard t.count >= 6, hasPrefix(t, "<div") else { return false }
        let next = t[4]
        guard next == UInt8(ascii: ">") || next == UInt8(ascii: "/") || isSpace(next) else { return false }
        if t[t.count - 2] == UInt8(ascii: "/") && t[t.count - 1] == UInt8(ascii: ">") { return true }  // <div/>
        guard t.count >= 11 else { return false }
        let close = UnsafeBufferPointer(rebasing: t[(t.count - 6)...])
        return hasPrefix(close, "</div>")
    }

    /// A cursor over the bytes of a date or time.
    struct Scanner {
        let b: Bytes
        var i = 0
        init(_ b: Bytes) { self.b = b }

        var atEnd: Bool { i == b.count }

        mutating func eat(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }

        /// Exactly `n` digits as a number, or nil.
        mutating func digits(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0..<n {
                let c = b[i + k]
                guard Primitive.isDigit(c) else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            i += n
            return v
        }

        /// YYYY(-MM(-DD)?)? with year 0001–9999, a real month and a real day of that month.
        /// Returns the precision (1 year, 2 month, 3 day) or 0 when invalid.
        mutating func date() -> Int {
            guard let year = digits(4), year >= 1 else { return 0 }
            guard eat(UInt8(ascii: "-")) else { return 1 }
            guard let month = digits(2), (1...12).contains(month) else { return 0 }
            guard eat(UInt8(ascii: "-")) else { return 2 }
            guard let day = digits(2), day >= 1, day <= Scanner.daysIn(month, of: year) else { return 0 }
            return 3
        }

        static func daysIn(_ month: Int, of year: Int) -> Int {
            switch month {
            case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }

        /// ([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?
        mutating func time() -> Bool {
            guard let h = digits(2), h <= 23, eat(UInt8(ascii: ":")),
                  let m = digits(2), m <= 59, eat(UInt8(ascii: ":")),
                  let s = digits(2), s <= 60 else { return false }
            if eat(UInt8(ascii: ".")) {
                let start = i
                while i < b.count, Primitive.isDigit(b[i]) { i += 1 }
                guard i > start else { return false }
            }
            return true
        }

        /// Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)
        mutating func zone() -> Bool {
            if eat(UInt8(ascii: "Z")) { return true }
            guard eat(UInt8(ascii: "+")) || eat(UInt8(ascii: "-")) else { return false }
            guard let h = digits(2), eat(UInt8(ascii: ":")), let m = digits(2) else { return false }
            return (h <= 13 && m <= 59) || (h == 14 && m == 0)
        }
    }

    // MARK: - Descriptions for messages

    /// What a valid value of `type` looks like, in English and Spanish.
    static func expectation(_ type: String) -> (en: String, es: String) {
        switch type {
        case "boolean": return ("a JSON boolean (true or false)", "un booleano JSON (true o false)")
        case "integer":
            return ("an integer from -2147483648 to 2147483647 written as a JSON number without fraction or exponent",
                    "un entero de -2147483648 a 2147483647 escrito como número JSON sin fracción ni exponente")
        case "positiveInt":
            return ("a positive integer (1 to 2147483647) written as a JSON number without fraction or exponent",
                    "un entero positivo (1 a 2147483647) escrito como número JSON sin fracción ni exponente")
        case "unsignedInt":
            return ("a non-negative integer (0 to 2147483647) written as a JSON number without fraction or exponent",
                    "un entero no negativo (0 a 2147483647) escrito como número JSON sin fracción ni exponente")
        case "decimal": return ("a decimal written as a JSON number", "un decimal escrito como número JSON")
        case "string", "markdown":
            return ("a non-empty JSON string of at most 1 MB without vertical tab, form feed or NUL",
                    "una cadena JSON no vacía de máximo 1 MB sin tabulador vertical, salto de página ni NUL")
        case "code":
            return ("a non-empty code without leading or trailing whitespace and with single spaces between words",
                    "un código no vacío sin espacios al inicio o al final y con un solo espacio entre palabras")
        case "id":
            return ("1 to 64 characters from A-Z, a-z, 0-9, '-' and '.'",
                    "de 1 a 64 caracteres entre A-Z, a-z, 0-9, '-' y '.'")
        case "uri", "url", "canonical":
            return ("a non-empty \(type) without whitespace", "un \(type) no vacío y sin espacios en blanco")
        case "oid": return ("an OID such as urn:oid:1.2.3.4", "un OID como urn:oid:1.2.3.4")
        case "uuid":
            return ("a UUID such as urn:uuid:c757873d-ec9a-4326-a141-556f43239520 (lowercase hexadecimal)",
                    "un UUID como urn:uuid:c757873d-ec9a-4326-a141-556f43239520 (hexadecimal en minúsculas)")
        case "date":
            return ("a date YYYY, YYYY-MM or YYYY-MM-DD with a real month and day",
                    "una fecha AAAA, AAAA-MM o AAAA-MM-DD con mes y día válidos")
        case "dateTime":
            return ("a dateTime YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss) with a time zone (Z or ±hh:mm) when a time is given",
                    "una fecha y hora AAAA, AAAA-MM, AAAA-MM-DD o AAAA-MM-DDThh:mm:ss(.sss) con zona horaria (Z o ±hh:mm) si lleva hora")
        case "instant":
            return ("an instant YYYY-MM-DDThh:mm:ss(.sss) with seconds and a time zone (Z or ±hh:mm)",
                    "un instante AAAA-MM-DDThh:mm:ss(.sss) con segundos y zona horaria (Z o ±hh:mm)")
        case "time":
            return ("a time hh:mm:ss(.sss) from 00:00:00 to 23:59:60, without time zone",
                    "una hora hh:mm:ss(.sss) de 00:00:00 a 23:59:60, sin zona horaria")
        case "base64Binary":
            return ("base64 data (A-Z, a-z, 0-9, '+', '/', padded with '=' to a multiple of 4 characters)",
                    "datos en base64 (A-Z, a-z, 0-9, '+', '/', completados con '=' a un múltiplo de 4 caracteres)")
        case "xhtml":
            return ("an XHTML fragment whose root element is a <div>", "un fragmento XHTML cuyo elemento raíz es un <div>")
        default: return ("a valid \(type)", "un \(type) válido")
        }
    }
}
