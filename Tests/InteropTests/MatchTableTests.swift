import FHIR
import Foundation
@testable import Interop
import Testing

/// A Patient for the match table: `family` as written (one string, both surnames), optional
/// CURP / NSS, birth state as the `patient-birthPlace` extension.
func person(_ given: String, _ family: String, born: String? = "1985-07-21", gender: String? = "female", state: String? = "DF",
            curp: String? = nil, nss: String? = nil) -> JSON {
    var members: [(String, JSON)] = [("resourceType", .string("Patient"))]
    var ids: [JSON] = []
    if let curp { ids.append(.object([("system", .string(CURP.system)), ("value", .string(curp))])) }
    if let nss { ids.append(.object([("system", .string(MexicanIdentifiers.nss)), ("value", .string(nss))])) }
    if !ids.isEmpty { members.append(("identifier", .array(ids))) }
    members.append(("name", .array([.object([("family", .string(family)),
                                            ("given", .array(given.split(separator: " ").map { .string(String($0)) }))])])))
    if let gender { members.append(("gender", .string(gender))) }
    if let born { members.append(("birthDate", .string(born))) }
    if let state {
        members.append(("extension", .array([.object([("url", .string(Demographics.birthPlaceURL)),
                                                     ("valueAddress", .object([("state", .string(state))]))])])))
    }
    return .object(members)
}

/// One hand-checked case: what was asked, what is stored, the grade expected (nil: not a match),
/// and why (the arithmetic of docs/interop.md#the-match-score).
struct MatchCase: CustomTestStringConvertible, Sendable {
    let name: String
    let asked: JSON
    let stored: JSON
    let grade: MatchGrade?
    var testDescription: String { name }
}

let guadalupe = person("María Guadalupe", "Hernández López")
let curpGuadalupe = CURP.make(given: "María Guadalupe", paternal: "Hernández", maternal: "López", birth: (1985, 7, 21), female: true, state: "DF", homonym: 0)
let curpJuan = CURP.make(given: "Juan", paternal: "Ramírez", maternal: "Soto", birth: (1990, 1, 5), female: false, state: "JC", homonym: 0)
let curpPedro = CURP.make(given: "Pedro", paternal: "Ramírez", maternal: "Soto", birth: (1990, 1, 5), female: false, state: "JC", homonym: 0)

let matchTable: [MatchCase] = [
    // identifiers
    MatchCase(name: "same CURP", asked: person("María Guadalupe", "Hernández López", curp: curpGuadalupe),
              stored: person("María Guadalupe", "Hernández López", curp: curpGuadalupe), grade: .certain),
    MatchCase(name: "same CURP typed in lower case with spaces", asked: person("Lupe", "Hernández", born: nil, gender: nil, state: nil,
              curp: curpGuadalupe.lowercased().enumerated().map { $0.offset == 4 ? " \($0.element)" : String($0.element) }.joined()),
              stored: person("María Guadalupe", "Hernández López", curp: curpGuadalupe), grade: .certain),
    MatchCase(name: "same CURP, nothing else asked", asked: person("", "", born: nil, gender: nil, state: nil, curp: curpGuadalupe),
              stored: person("María Guadalupe", "Hernández López", curp: curpGuadalupe), grade: .certain),
    MatchCase(name: "same NSS", asked: person("María Guadalupe", "Hernández López", nss: "12345678903"),
              stored: person("Guadalupe", "Hernández", nss: "12345678903"), grade: .certain),
    MatchCase(name: "same NSS on a different person (typed on the wrong record)", asked: person("Roberto", "Sánchez Ortiz", born: "1950-01-30", gender: "male", state: "NL", nss: "12345678903"),
              stored: person("María Guadalupe", "Hernández López", nss: "12345678903"), grade: .probable),
    MatchCase(name: "twins: different CURPs", asked: person("Juan", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC", curp: curpJuan),
              stored: person("Pedro", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC", curp: curpPedro), grade: nil),
    // demographics that agree, written differently
    MatchCase(name: "identical demographics, no identifier: never certain", asked: guadalupe, stored: guadalupe, grade: .probable),
    MatchCase(name: "accents left out", asked: person("Maria Guadalupe", "Hernandez Lopez"), stored: guadalupe, grade: .probable),
    MatchCase(name: "upper case", asked: person("MARÍA GUADALUPE", "HERNÁNDEZ LÓPEZ"), stored: guadalupe, grade: .probable),
    MatchCase(name: "swapped surnames", asked: person("María Guadalupe", "López Hernández"), stored: guadalupe, grade: .probable),
    MatchCase(name: "compound given name, first dropped", asked: person("Guadalupe", "Hernández López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "nickname Lupe", asked: person("Lupe", "Hernández López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "abbreviation Ma.", asked: person("Ma. Guadalupe", "Hernández López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "given names in the other order", asked: person("Guadalupe María", "Hernández López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "typo in a surname (missing letter)", asked: person("María Guadalupe", "Hernadez López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "typo in a given name (transposed letters)", asked: person("María Guadalpue", "Hernández López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "only the paternal surname recorded", asked: person("María Guadalupe", "Hernández"), stored: guadalupe, grade: .probable),
    MatchCase(name: "hyphen between the surnames", asked: person("María Guadalupe", "Hernández-López"), stored: guadalupe, grade: .probable),
    MatchCase(name: "state written as a name", asked: person("María Guadalupe", "Hernández López", state: "Ciudad de México"), stored: guadalupe, grade: .probable),
    MatchCase(name: "ñ folded (Muñoz / MUNOZ)", asked: person("Andrés", "MUNOZ YANEZ", born: "1972-12-01", gender: "male", state: "PL"),
              stored: person("Andrés", "Muñoz Yáñez", born: "1972-12-01", gender: "male", state: "PL"), grade: .probable),
    MatchCase(name: "sound-alike spellings (Jiménez / Giménez, Vázquez / Basquez)", asked: person("Sofía", "Giménez Basquez", born: "2001-04-09"),
              stored: person("Sofía", "Jiménez Vázquez", born: "2001-04-09"), grade: .probable),
    MatchCase(name: "sound-alike spellings (Yáñez / Llanes, Ximena / Jimena)", asked: person("Ximena", "Llanes Ruiz", born: "1999-09-09"),
              stored: person("Jimena", "Yáñez Ruiz", born: "1999-09-09"), grade: .probable),
    MatchCase(name: "particles (Cruz / de la Cruz)", asked: person("Rosa", "Cruz Méndez", born: "1960-02-29"),
              stored: person("Rosa", "de la Cruz Méndez", born: "1960-02-29"), grade: .probable),
    MatchCase(name: "birth date typo (one digit)", asked: person("María Guadalupe", "Hernández López", born: "1985-07-22"), stored: guadalupe, grade: .probable),
    MatchCase(name: "birth date typo (two digits swapped)", asked: person("María Guadalupe", "Hernández López", born: "1985-07-12"), stored: guadalupe, grade: .probable),
    MatchCase(name: "day and month swapped", asked: person("Carlos", "Ortega Ruiz", born: "1978-11-03", gender: "male"),
              stored: person("Carlos", "Ortega Ruiz", born: "1978-03-11", gender: "male"), grade: .probable),
    MatchCase(name: "nickname Pepe and no state", asked: person("Pepe", "Ramírez Soto", born: "1990-01-05", gender: "male", state: nil),
              stored: person("José", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC"), grade: .probable),
    MatchCase(name: "CURP asked, demographics stored (birth date, sex and state from the CURP)",
              asked: person("María Guadalupe", "Hernández López", born: nil, gender: nil, state: nil, curp: curpGuadalupe),
              stored: person("María Guadalupe", "Hernández López"), grade: .probable),
    // agreements too weak to be probable
    MatchCase(name: "twins: same everything but the given name (Juan / Pedro)", asked: person("Juan", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC"),
              stored: person("Pedro", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC"), grade: .possible),
    MatchCase(name: "twins with compound names (Ana Sofía / Ana Lucía)", asked: person("Ana Sofía", "Ramírez Soto"),
              stored: person("Ana Lucía", "Ramírez Soto"), grade: .possible),
    MatchCase(name: "Roberto / Alberto, everything else equal", asked: person("Roberto", "Díaz Luna", born: "1983-05-05", gender: "male"),
              stored: person("Alberto", "Díaz Luna", born: "1983-05-05", gender: "male"), grade: .possible),
    MatchCase(name: "one surname differs (Gómez / González)", asked: person("Laura", "Gómez Pérez", born: "1995-06-15"),
              stored: person("Laura", "González Pérez", born: "1995-06-15"), grade: .possible),
    MatchCase(name: "same name, different birth year, same state", asked: person("María Guadalupe", "Hernández López", born: "1992-07-21"), stored: guadalupe, grade: .possible),
    MatchCase(name: "no birth date stored (too few fields)", asked: guadalupe, stored: person("María Guadalupe", "Hernández López", born: nil), grade: .possible),
    // not matches
    MatchCase(name: "common name, different birth date and state", asked: person("José Luis", "Pérez García", born: "1980-03-15", gender: "male", state: "JC"),
              stored: person("José Luis", "Pérez García", born: "1991-10-02", gender: "male", state: "NL"), grade: nil),
    MatchCase(name: "siblings: same surnames, different given name and birth date", asked: person("Juan", "Ramírez Soto", born: "1990-01-05", gender: "male", state: "JC"),
              stored: person("Lucía", "Ramírez Soto", born: "1994-08-30", gender: "female", state: "JC"), grade: nil),
    MatchCase(name: "a different person", asked: guadalupe, stored: person("Roberto", "Sánchez Ortiz", born: "1950-01-30", gender: "male", state: "NL"), grade: nil),
]

@Suite struct MatchTableTests {
    @Test(arguments: matchTable)
    func grade(_ c: MatchCase) {
        let score = MatchScorer.score(Demographics.of(c.asked), Demographics.of(c.stored))
        #expect(score.grade == c.grade, "score \(score.score), basis \(score.basis)")
        // symmetric: who asks does not change the grade
        let reverse = MatchScorer.score(Demographics.of(c.stored), Demographics.of(c.asked))
        #expect(reverse.grade == c.grade,
                "reverse score \(reverse.score), basis \(reverse.basis)")
    }

    @Test func atLeastThirtyCases() {
        #expect(matchTable.count >= 30)
        for g in MatchGrade.allCases { #expect(matchTable.contains { $0.grade == g }) }
        #expect(matchTable.contains { $0.grade == nil })
    }

    @Test func jaroWinklerKnownValues() {
        // Winkler's published examples
        #expect(abs(StringSimilarity.jaroWinkler("martha", "marhta") - 0.961) < 0.001)
        #expect(abs(StringSimilarity.jaroWinkler("dwayne", "duane") - 0.84) < 0.001)
        #expect(abs(StringSimilarity.jaroWinkler("dixon", "dicksonx") - 0.813) < 0.001)
        #expect(StringSimilarity.jaroWinkler("abc", "xyz") == 0)
    }

    @Test func editDistanceCountsTranspositionsOnce() {
        #expect(StringSimilarity.editDistance("1985", "1958") == 1)
        #expect(StringSimilarity.editDistance("kitten", "sitting") == 3)
        #expect(StringSimilarity.editDistance("", "abc") == 3)
    }

    @Test func spanishNames() {
        let n = SpanishName.of(person("Ma. de los Ángeles", "de la Cruz Muñoz"))
        #expect(n == SpanishName(given: ["maria", "angeles"], surnames: ["cruz", "munoz"]))
        #expect(SpanishName.soundKey("vazquez") == SpanishName.soundKey("basquez"))
        #expect(SpanishName.soundKey("gonzalez") != SpanishName.soundKey("gomez"))
        #expect(Demographics.stateCode("Nuevo León") == "NL")
        #expect(Demographics.stateCode("CDMX") == "DF")
        #expect(Demographics.stateCode("Atlantis") == nil)
    }

    @Test func fathersAndMothersFamilyExtensions() throws {
        let json = try JSONParser.parse("""
        {"resourceType":"Patient","name":[{"family":"López Hernández","_family":{"extension":[
          {"url":"http://hl7.org/fhir/StructureDefinition/humanname-fathers-family","valueString":"López"},
          {"url":"http://hl7.org/fhir/StructureDefinition/humanname-mothers-family","valueString":"Hernández"}]},"given":["Ana"]}]}
        """)
        #expect(SpanishName.of(json)?.surnames == ["lopez", "hernandez"])
    }
}
