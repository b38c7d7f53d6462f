import Foundation

/// CURP, the Clave Única de Registro de Población (RENAPO): 18 characters that identify a person
/// in Mexico — four letters from the names, the date of birth (YYMMDD), sex (H, M, or X since
/// 2023's non-binary option), the state of birth (two letters, `NE` born abroad), three internal
/// consonants, a homonym character (a digit for births before 2000, a letter from 2000) and a
/// check digit. https://www.gob.mx/curp (Instructivo normativo para la asignación de la CURP).
///
/// Pure functions, no I/O: the validation Enlace applies on write and in the portal's CURP
/// lookup, the normalization a person's typing needs, and the generator the demo uses.
public enum CURP {
    /// The identifier systems under which a CURP is recorded (`Identifier.system`).
    public static let systems = ["http://www.renapo.gob.mx/curp", "https://www.gob.mx/curp", "urn:oid:2.16.840.1.113883.4.629"]

    /// The system Enlace writes.
    public static let system = "http://www.renapo.gob.mx/curp"

    /// The alphabet of the check digit: each character's value is its position.
    static let dictionary = Array("0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ")

    /// RENAPO's state codes (the 32 entities, and `NE` for people born abroad).
    public static let states: [String: String] = [
        "AS": "Aguascalientes", "BC": "Baja California", "BS": "Baja California Sur", "CC": "Campeche", "CL": "Coahuila",
        "CM": "Colima", "CS": "Chiapas", "CH": "Chihuahua", "DF": "Ciudad de México", "DG": "Durango", "GT": "Guanajuato",
        "GR": "Guerrero", "HG": "Hidalgo", "JC": "Jalisco", "MC": "Estado de México", "MN": "Michoacán", "MS": "Morelos",
        "NT": "Nayarit", "NL": "Nuevo León", "OC": "Oaxaca", "PL": "Puebla", "QT": "Querétaro", "QR": "Quintana Roo",
        "SP": "San Luis Potosí", "SL": "Sinaloa", "SR": "Sonora", "TC": "Tabasco", "TS": "Tamaulipas", "TL": "Tlaxcala",
        "VZ": "Veracruz", "YN": "Yucatán", "ZS": "Zacatecas", "NE": "Nacido en el extranjero",
    ]

    /// Why a CURP is not valid, in English and Spanish (for an OperationOutcome or a form).
    public enum Problem: Sendable, Equatable {
        case length(Int)
        case characters
        case shape
        case date
        case sex
        case state(String)
        case checkDigit(expected: Character)

        public var english: String {
            switch self {
            case .length(let n): return "a CURP has 18 characters, not \(n)"
            case .characters: return "a CURP has only letters A–Z and digits"
            case .shape: return "a CURP is 4 letters, 6 digits (date of birth), H/M/X, 2 letters (state), 3 consonants, a homonym character and a check digit"
            case .date: return "the date of birth in the CURP (characters 5–10, YYMMDD) is not a real date"
            case .sex: return "character 11 of a CURP is the sex: H, M or X"
            case .state(let s): return "'\(s)' (characters 12–13) is not a RENAPO state code"
            case .checkDigit(let d): return "the check digit (character 18) does not match; it should be \(d)"
            }
        }

        public var spanish: String {
            switch self {
            case .length(let n): return "una CURP tiene 18 caracteres, no \(n)"
            case .characters: return "una CURP solo tiene letras A–Z y dígitos"
            case .shape: return "una CURP son 4 letras, 6 dígitos (fecha de nacimiento), H/M/X, 2 letras (entidad), 3 consonantes, un carácter de homonimia y un dígito verificador"
            case .date: return "la fecha de nacimiento de la CURP (caracteres 5 a 10, AAMMDD) no es una fecha real"
            case .sex: return "el carácter 11 de una CURP es el sexo: H, M o X"
            case .state(let s): return "'\(s)' (caracteres 12 y 13) no es una clave de entidad de RENAPO"
            case .checkDigit(let d): return "el dígito verificador (carácter 18) no coincide; debería ser \(d)"
            }
        }
    }

    /// What a person typed, normalized: spaces and dashes removed, upper case.
    public static func normalize(_ input: String) -> String {
        input.uppercased().filter { !$0.isWhitespace && $0 != "-" }
    }

    /// The first problem of `curp` (already normalized), or nil when it is a valid CURP.
    public static func problem(_ curp: String) -> Problem? {
        let c = Array(curp)
        guard c.count == 18 else { return .length(c.count) }
        guard c.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) }) else { return .characters }
        func letters(_ r: Range<Int>) -> Bool { c[r].allSatisfy(\.isLetter) }
        func digits(_ r: Range<Int>) -> Bool { c[r].allSatisfy(\.isNumber) }
        guard letters(0..<4), digits(4..<10), letters(11..<16), c[16].isLetter || c[16].isNumber, c[17].isNumber else { return .shape }
        guard "HMX".contains(c[10]) else { return .sex }
        let state = String(c[11...12])
        guard states[state] != nil else { return .state(state) }
        guard birthDate(curp) != nil else { return .date }
        let expected = checkDigit(String(curp.prefix(17)))
        guard c[17] == expected else { return .checkDigit(expected: expected) }
        return nil
    }

    /// Is `curp` (already normalized) a valid CURP?
    public static func isValid(_ curp: String) -> Bool { problem(curp) == nil }

    /// The CURP a person typed, normalized, when it is valid; nil otherwise.
    public static func normalized(_ input: String) -> String? {
        let s = normalize(input)
        return isValid(s) ? s : nil
    }

    /// The date of birth encoded in a CURP (year from the homonym character: a digit for births
    /// before 2000, a letter from 2000), as (year, month, day); nil when it is not a real date.
    public static func birthDate(_ curp: String) -> (year: Int, month: Int, day: Int)? {
        let c = Array(curp)
        guard c.count >= 17, let yy = Int(String(c[4...5])), let mm = Int(String(c[6...7])), let dd = Int(String(c[8...9])) else { return nil }
        let year = (c[16].isNumber ? 1900 : 2000) + yy
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard (1...12).contains(mm), (1...31).contains(dd),
              let date = calendar.date(from: DateComponents(year: year, month: mm, day: dd)),
              calendar.component(.day, from: date) == dd, calendar.component(.month, from: date) == mm else { return nil }
        return (year, mm, dd)
    }

    /// The sex character: `H` (hombre), `M` (mujer) or `X`.
    public static func sex(_ curp: String) -> Character? {
        let c = Array(curp)
        return c.count == 18 ? c[10] : nil
    }

    /// The check digit of the first 17 characters.
    public static func checkDigit(_ first17: String) -> Character {
        var sum = 0
        for (i, ch) in first17.enumerated() { sum += (dictionary.firstIndex(of: ch) ?? 0) * (18 - i) }
        let d = (10 - sum % 10) % 10
        return Character(String(d))
    }

    /// Names as RENAPO writes them: upper case, no accents, Ñ as X.
    public static func plain(_ s: String) -> String {
        s.uppercased().replacingOccurrences(of: "Ñ", with: "X").folding(options: [.diacriticInsensitive], locale: Locale(identifier: "es_MX"))
            .filter { ($0.isLetter && $0.isASCII) || $0 == " " }
    }

    static func firstInternal(_ s: String, vowel: Bool) -> Character {
        let vowels = Set("AEIOU")
        for ch in s.dropFirst() where ch.isLetter && (vowels.contains(ch) == vowel) { return ch }
        return "X"
    }

    /// A CURP built by RENAPO's rules from names, birth date, sex and state (for synthetic data:
    /// the demo and the benchmark population). Skips the first given name when it is José or
    /// María and there is another.
    public static func make(given: String, paternal: String, maternal: String, birth: (Int, Int, Int), female: Bool, state: String, homonym: Int) -> String {
        let p = plain(paternal).split(separator: " ").last.map(String.init) ?? "X"
        let m = plain(maternal).split(separator: " ").last.map(String.init) ?? "X"
        var names = plain(given).split(separator: " ").map(String.init)
        if names.count > 1, ["JOSE", "MARIA", "MA", "J"].contains(names[0]) { names.removeFirst() }
        let n = names.first ?? "X"
        var s = String(p.first ?? "X") + String(firstInternal(p, vowel: true)) + String(m.first ?? "X") + String(n.first ?? "X")
        s += String(format: "%02d%02d%02d", birth.0 % 100, birth.1, birth.2)
        s += female ? "M" : "H"
        s += state
        s += String(firstInternal(p, vowel: false)) + String(firstInternal(m, vowel: false)) + String(firstInternal(n, vowel: false))
        s += birth.0 < 2000 ? String(homonym % 10) : String(Array("ABCDEFGHIJ")[homonym % 10])
        return s + String(checkDigit(s))
    }

    /// Does this FHIR Identifier carry a CURP (by its system, or by `type.text` "CURP")?
    public static func isCURPIdentifier(_ identifier: JSON) -> Bool {
        let system = identifier["system"]?.stringValue?.lowercased() ?? ""
        return systems.contains(system) || system.contains("curp") || identifier["type"]?["text"]?.stringValue?.uppercased() == "CURP"
    }
}
