import FHIR
import Foundation

/// A person's name read by Spanish (Mexican) naming rules, for matching
/// (docs/interop.md#names): given names (one or more: *José Luis*, *María de los Ángeles*) and up
/// to two surnames, paternal then maternal (*Pérez García*), each folded — lower case, accents
/// and *ñ* folded (*Muñoz* = *munoz*), particles (*de*, *la*, *del*, *y*) set aside so that
/// *de la Cruz* and *Cruz* agree — and with a sound-alike key for the spellings Spanish
/// confuses (*b/v*, *s/z/c*, *ll/y*, *j/g/x*, silent *h*).
public struct SpanishName: Sendable, Equatable {
    /// Given names, folded, particles removed, abbreviations and nicknames expanded (*Ma.* → *maria*).
    public var given: [String]
    /// Surnames (paternal first, when known), folded, particles removed.
    public var surnames: [String]

    public init(given: [String], surnames: [String]) {
        self.given = given
        self.surnames = surnames
    }

    /// Words that join a name but do not distinguish it.
    static let particles: Set<String> = ["de", "del", "la", "las", "los", "y", "e", "da", "di", "van", "von", "mc"]

    /// Given names that so often come first in a compound name (*José Luis*, *María Elena*) that
    /// people drop them: they weigh less in the comparison.
    public static let commonFirst: Set<String> = ["jose", "maria", "juan", "ma"]

    /// Lower case, diacritics removed (*á* → *a*, *ñ* → *n*, *ü* → *u*), only letters and
    /// single spaces kept (dots, hyphens and apostrophes become spaces).
    public static func fold(_ s: String) -> String {
        let folded = s.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "es_MX"))
        var out = ""
        var space = true
        for ch in folded.unicodeScalars {
            if ch.properties.isAlphabetic, ch.isASCII {
                out.unicodeScalars.append(ch)
                space = false
            } else if !space {
                out.append(" ")
                space = true
            }
        }
        if out.hasSuffix(" ") { out.removeLast() }
        return out
    }

    /// Words of a folded text, particles removed.
    static func words(_ s: String) -> [String] {
        fold(s).split(separator: " ").map(String.init).filter { !particles.contains($0) }
    }

    /// A given-name word in its full form: abbreviations (*Ma.*, *Fco.*, *Gpe.*) and common
    /// nicknames (*Lupe*, *Pepe*, *Paco*, *Chucho*) → the name (`GivenNameVariants`).
    static func expandGiven(_ word: String) -> String {
        GivenNameVariants.table[word] ?? word
    }

    /// The sound-alike key of a folded word: the letters Mexican Spanish pronounces alike
    /// written one way (*v* → *b*, *z* and soft *c* → *s*, *ll* → *y*, soft *g* and *x* → *j*,
    /// *qu* and hard *c* → *k*, *h* dropped, double letters single).
    public static func soundKey(_ word: String) -> String {
        let w = Array(word)
        var out: [Character] = []
        var i = 0
        func next(_ k: Int) -> Character? { i + k < w.count ? w[i + k] : nil }
        while i < w.count {
            let c = w[i]
            switch c {
            case "v": out.append("b")
            case "z": out.append("s")
            case "c":
                if next(1) == "h" { out.append("C"); i += 1 }  // "ch", one sound
                else if let n = next(1), "ei".contains(n) { out.append("s") }
                else { out.append("k") }
            case "q":
                out.append("k")
                if next(1) == "u" { i += 1 }
            case "l":
                if next(1) == "l" { out.append("y"); i += 1 } else { out.append("l") }
            case "g":
                if let n = next(1), "ei".contains(n) { out.append("j") }
                else if next(1) == "u", let n = next(2), "ei".contains(n) { out.append("g"); i += 1 }
                else { out.append("g") }
            case "x": out.append(i == 0 || next(1).map { "aeiou".contains($0) } == true ? "j" : "x")
            case "h": break
            case "y": out.append(next(1) == nil ? "i" : "y")
            case "w": out.append("u")
            default: out.append(c)
            }
            i += 1
        }
        var collapsed: [Character] = []
        for c in out where collapsed.last != c { collapsed.append(c) }
        return String(collapsed)
    }

    /// The name of a Patient (or any resource with `name: [HumanName]`): the `official` name,
    /// else the first. Surnames from the `humanname-fathers-family` / `-mothers-family`
    /// extensions on `family` when present, else the words of `family` (with *y* / hyphens
    /// separating two surnames).
    public static func of(_ resource: JSON) -> SpanishName? {
        let names = resource["name"]?.arrayValue ?? []
        guard let name = names.first(where: { $0["use"]?.stringValue == "official" }) ?? names.first else { return nil }
        return of(humanName: name)
    }

    public static func of(humanName name: JSON) -> SpanishName? {
        var given = (name["given"]?.arrayValue ?? []).compactMap(\.stringValue).flatMap(words).map(expandGiven)
        var surnames: [String] = []
        let ext = name["_family"]?["extension"]?.arrayValue ?? []
        func part(_ suffix: String) -> String? {
            ext.first { $0["url"]?.stringValue == "http://hl7.org/fhir/StructureDefinition/humanname-\(suffix)" }?["valueString"]?.stringValue
        }
        if let fathers = part("fathers-family") {
            surnames.append(words(fathers).joined(separator: " "))
            if let mothers = part("mothers-family") { surnames.append(words(mothers).joined(separator: " ")) }
        } else if let family = name["family"]?.stringValue {
            surnames = words(family)
        }
        if given.isEmpty, surnames.isEmpty, let text = name["text"]?.stringValue {
            // "Ana Pérez García": the last two words are the surnames
            let w = words(text)
            surnames = Array(w.suffix(w.count > 2 ? 2 : 1))
            given = Array(w.dropLast(surnames.count)).map(expandGiven)
        }
        surnames = surnames.filter { !$0.isEmpty }
        guard !given.isEmpty || !surnames.isEmpty else { return nil }
        return SpanishName(given: given, surnames: surnames)
    }

    /// Similarity of two name words in 0…1: Jaro–Winkler on the folded words, or on their
    /// sound-alike keys (worth a little less), whichever is higher.
    public static func wordSimilarity(_ a: String, _ b: String) -> Double {
        if a == b { return 1 }
        let direct = StringSimilarity.jaroWinkler(a, b)
        let sound = soundKey(a) == soundKey(b) ? 0.97 : StringSimilarity.jaroWinkler(soundKey(a), soundKey(b)) * 0.97
        return max(direct, sound)
    }

    /// Word similarities below this count as disagreement (0): *Gómez* and *González* are
    /// different surnames, *Hernández* and *Hernádez* a typo.
    public static let wordThreshold = 0.85

    static func agreement(_ a: String, _ b: String) -> Double {
        let s = wordSimilarity(a, b)
        return s >= wordThreshold ? s : 0
    }

    /// Similarity of the given names in 0…1, order-insensitive (*José Luis* = *Luis José*): each
    /// word of the shorter list is paired with its best match in the longer one; words like
    /// *José* and *María* weigh 0.3 when another name follows them. A name missing on one side
    /// (*Guadalupe* for *María Guadalupe*) costs 0.07, or 0.02 when it is one of those.
    public static func givenSimilarity(_ a: [String], _ b: [String]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        let (short, long) = a.count <= b.count ? (a, b) : (b, a)
        func weight(_ w: String, in list: [String]) -> Double { list.count > 1 && commonFirst.contains(w) ? 0.3 : 1 }
        var total = 0.0, weights = 0.0
        var used = Set<Int>()
        for w in short {
            var best = 0.0, bestIndex = -1
            for (j, v) in long.enumerated() where !used.contains(j) {
                let s = agreement(w, v)
                if s > best { best = s; bestIndex = j }
            }
            if bestIndex >= 0 { used.insert(bestIndex) }
            let wt = weight(w, in: short)
            total += best * wt
            weights += wt
        }
        var s = total / weights
        let missing = long.enumerated().filter { !used.contains($0.offset) }.map(\.element)
        for m in missing { s -= commonFirst.contains(m) ? 0.02 : 0.07 }
        return max(0, s)
    }

    /// Similarity of the surnames in 0…1: paternal with paternal and maternal with maternal, or
    /// swapped (worth 0.95 of it: records swap them more often than people do); one surname
    /// against two is compared with the better one and worth 0.9.
    public static func surnameSimilarity(_ a: [String], _ b: [String]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return 0 }
        if a.count >= 2, b.count >= 2 {
            let straight = (agreement(a[0], b[0]) + agreement(a[1], b[1])) / 2
            let swapped = (agreement(a[0], b[1]) + agreement(a[1], b[0])) / 2 * 0.95
            return max(straight, swapped)
        }
        let (one, other) = a.count == 1 ? (a[0], b) : (b[0], a)
        if other.count == 1 { return agreement(one, other[0]) }
        return other.map { agreement(one, $0) }.max()! * 0.9
    }
}
