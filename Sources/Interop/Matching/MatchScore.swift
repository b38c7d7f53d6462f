import FHIR
import Foundation

/// What patient matching compares of a person (docs/interop.md#the-match-score): the name by
/// Spanish rules, birth date, sex, state of birth and identifiers. Read from a Patient, with
/// what its CURP encodes (birth date, sex, state) filling what the resource does not say.
public struct Demographics: Sendable, Equatable {
    public var name: SpanishName?
    /// `YYYY-MM-DD` (or a partial date as written).
    public var birthDate: String?
    /// `male` / `female` / `other`; `unknown` is treated as absent.
    public var gender: String?
    /// RENAPO state code of birth (`DF`, `JC`, … `NE` abroad).
    public var birthState: String?
    /// The CURP, normalized, when the resource has a valid one.
    public var curp: String?
    /// Other identifiers with a system (NSS, ISSSTE number, a hospital's record number), as
    /// (system, value) — the CURP excluded.
    public var identifiers: [Identifier]

    public struct Identifier: Sendable, Equatable, Hashable {
        public var system: String
        public var value: String
        public init(system: String, value: String) { self.system = system; self.value = value }
    }

    public init(name: SpanishName? = nil, birthDate: String? = nil, gender: String? = nil, birthState: String? = nil,
                curp: String? = nil, identifiers: [Identifier] = []) {
        self.name = name
        self.birthDate = birthDate
        self.gender = gender
        self.birthState = birthState
        self.curp = curp
        self.identifiers = identifiers
    }

    /// The birth-place extension (`patient-birthPlace`, an Address) whose `state` names the state.
    public static let birthPlaceURL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"

    /// Reads a Patient resource.
    public static func of(_ patient: JSON) -> Demographics {
        var d = Demographics()
        d.name = SpanishName.of(patient)
        d.birthDate = patient["birthDate"]?.stringValue
        if let g = patient["gender"]?.stringValue, g != "unknown" { d.gender = g }
        if let place = (patient["extension"]?.arrayValue ?? []).first(where: { $0["url"]?.stringValue == birthPlaceURL }),
           let state = place["valueAddress"]?["state"]?.stringValue {
            d.birthState = stateCode(state)
        }
        for identifier in patient["identifier"]?.arrayValue ?? [] {
            guard let value = identifier["value"]?.stringValue, !value.isEmpty else { continue }
            if CURP.isCURPIdentifier(identifier) {
                if d.curp == nil, let curp = CURP.normalized(value) { d.curp = curp }
            } else if let system = identifier["system"]?.stringValue, !system.isEmpty {
                d.identifiers.append(Identifier(system: system, value: value.trimmingCharacters(in: .whitespaces)))
            }
        }
        if let curp = d.curp {
            if d.birthDate == nil, let b = CURP.birthDate(curp) { d.birthDate = String(format: "%04d-%02d-%02d", b.year, b.month, b.day) }
            if d.gender == nil, let s = CURP.sex(curp) { d.gender = s == "H" ? "male" : s == "M" ? "female" : nil }
            if d.birthState == nil { d.birthState = String(Array(curp)[11...12]) }
        }
        return d
    }

    /// A state of birth as a RENAPO code: the code itself, or the state's name (accents and
    /// case ignored: *Jalisco*, *Ciudad de México*, *CDMX*); nil when neither.
    public static func stateCode(_ text: String) -> String? {
        let upper = text.uppercased().trimmingCharacters(in: .whitespaces)
        if CURP.states[upper] != nil { return upper }
        let folded = SpanishName.fold(text)
        if ["cdmx", "distrito federal", "df", "mexico df"].contains(folded) { return "DF" }
        if ["edomex", "mexico", "estado de mexico"].contains(folded) { return "MC" }
        return CURP.states.first { SpanishName.fold($0.value) == folded }?.key
    }
}

/// `match-grade` (http://hl7.org/fhir/StructureDefinition/match-grade): how sure a match is.
public enum MatchGrade: String, Sendable, Comparable, CaseIterable {
    case certain, probable, possible

    var rank: Int { self == .certain ? 3 : self == .probable ? 2 : 1 }
    public static func < (a: MatchGrade, b: MatchGrade) -> Bool { a.rank < b.rank }
}

/// The score of one candidate: 0…1, the grade, and why (for the worklist and the docs' table).
public struct MatchScore: Sendable, Equatable {
    public var score: Double
    /// nil: not a match (below `possible`).
    public var grade: MatchGrade?
    /// Which rule decided: `curp`, `identifier`, `demographics`, with the caps applied.
    public var basis: [String]
}

/// The match score (docs/interop.md#the-match-score).
///
/// - Deterministic: the same valid CURP, or the same (system, value) of another identifier, is
///   **certain** (score 1) — unless the demographics both records have disagree (score < 0.5),
///   when the identifier may have been typed on the wrong person: then **probable** (0.9).
/// - Probabilistic: the weighted mean of the field similarities both records have — surnames
///   0.30, given names 0.30, birth date 0.25, sex 0.08, state of birth 0.07 — graded
///   **probable** from 0.85 and **possible** from 0.65; never certain without an identifier.
///   It needs both names compared; when the fields compared weigh less than 0.8 (no birth
///   date, say) or the given names disagree (< 0.5: twins), the grade is at most possible.
///   Two different valid CURPs multiply the score by 0.8 and cap it at possible (RENAPO did
///   issue duplicate CURPs, so the pair is still worth a look when everything else agrees).
public enum MatchScorer {
    public static let weights = (surnames: 0.28, given: 0.28, birthDate: 0.30, gender: 0.07, birthState: 0.07)
    public static let probable = 0.85
    public static let possible = 0.65

    public static func score(_ a: Demographics, _ b: Demographics) -> MatchScore {
        let demographic = demographicScore(a, b)
        if let ca = a.curp, let cb = b.curp, ca == cb {
            if let d = demographic, d.score < 0.5 { return MatchScore(score: 0.9, grade: .probable, basis: ["curp", "demographics-disagree"]) }
            return MatchScore(score: 1, grade: .certain, basis: ["curp"])
        }
        if !Set(a.identifiers).isDisjoint(with: b.identifiers) {
            if let d = demographic, d.score < 0.5 { return MatchScore(score: 0.9, grade: .probable, basis: ["identifier", "demographics-disagree"]) }
            return MatchScore(score: 1, grade: .certain, basis: ["identifier"])
        }
        guard var result = demographic else { return MatchScore(score: 0, grade: nil, basis: ["not-comparable"]) }
        if a.curp != nil, b.curp != nil {
            result.score *= 0.8
            result.basis.append("different-curp")
            result.capped = true
        }
        let grade: MatchGrade?
        if result.score >= probable, !result.capped { grade = .probable }
        else if result.score >= possible { grade = .possible }
        else { grade = nil }
        return MatchScore(score: (result.score * 1000).rounded() / 1000, grade: grade, basis: result.basis)
    }

    struct Partial { var score: Double; var basis: [String]; var capped: Bool }

    /// The probabilistic part, nil when the names cannot be compared.
    static func demographicScore(_ a: Demographics, _ b: Demographics) -> Partial? {
        guard let na = a.name, let nb = b.name, !na.given.isEmpty, !nb.given.isEmpty, !na.surnames.isEmpty, !nb.surnames.isEmpty else { return nil }
        var sum = 0.0, weight = 0.0
        let surnames = SpanishName.surnameSimilarity(na.surnames, nb.surnames)
        let given = SpanishName.givenSimilarity(na.given, nb.given)
        sum += weights.surnames * surnames + weights.given * given
        weight += weights.surnames + weights.given
        var basis = ["demographics"]
        if let da = a.birthDate, let db = b.birthDate {
            sum += weights.birthDate * birthDateSimilarity(da, db)
            weight += weights.birthDate
        }
        if let ga = a.gender, let gb = b.gender {
            sum += weights.gender * (ga == gb ? 1 : 0)
            weight += weights.gender
        }
        if let sa = a.birthState, let sb = b.birthState {
            sum += weights.birthState * (sa == sb ? 1 : 0)
            weight += weights.birthState
        }
        var capped = false
        if weight < 0.8 { capped = true; basis.append("few-fields") }
        if given < 0.5 { capped = true; basis.append("given-names-differ") }
        if surnames < 0.75 { capped = true; basis.append("surnames-differ") }
        return Partial(score: sum / weight, basis: basis, capped: capped)
    }

    /// Birth dates: equal 1; day and month swapped 0.8; one typing slip (one character changed,
    /// or two adjacent ones swapped: 1980-03-15 / 1980-03-16, 1985 / 1958) 0.7; one a prefix of
    /// the other (a partial date) 0.6; otherwise 0.
    public static func birthDateSimilarity(_ a: String, _ b: String) -> Double {
        if a == b { return 1 }
        let pa = a.split(separator: "-"), pb = b.split(separator: "-")
        if pa.count == 3, pb.count == 3, pa[0] == pb[0], pa[1] == pb[2], pa[2] == pb[1] { return 0.8 }
        if a.count == b.count, StringSimilarity.editDistance(a, b) == 1 { return 0.7 }
        if a.hasPrefix(b) || b.hasPrefix(a) { return 0.6 }
        return 0
    }
}
