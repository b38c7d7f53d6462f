import FHIR
import Foundation
@testable import Prevention
import Testing

// The schedule engine against the Cartilla as encoded (Sources/Prevention/Knowledge), case by
// case. Every expectation was worked out by hand from the encoded ages and intervals
// (docs/prevention.md); the comment of each case says why.

private let cvx = Code.cvx
private func d(_ s: String) -> CivilDate { CivilDate(fhir: s)! }
private func imm(_ id: String, _ date: String, _ code: String, at place: String? = nil, status: String = "completed", reason: String? = nil,
                 subpotent: Bool = false) -> RecordEvent {
    RecordEvent(reference: "Immunization/\(id)", date: d(date), codes: [Code(cvx, code)], place: place, status: status, reason: reason, subpotent: subpotent)
}
private func obs(_ id: String, _ date: String, _ code: String, system: String = Code.loinc, at place: String? = nil) -> RecordEvent {
    RecordEvent(reference: "Observation/\(id)", date: d(date), codes: [Code(system, code)], place: place)
}

/// What one rule must come out as: a status, or absent (does not apply); optionally the dose and due date.
struct Expect: CustomStringConvertible {
    var rule: String
    var status: PreventionItem.Status?
    var dose: Int? = nil
    var due: String? = nil
    var evidence: [String] = []
    var description: String { "\(rule): \(status?.rawValue ?? "absent")\(dose.map { " dose \($0)" } ?? "")\(due.map { " due \($0)" } ?? "")" }
}
private func e(_ rule: String, _ status: PreventionItem.Status?, dose: Int? = nil, due: String? = nil, evidence: [String] = []) -> Expect {
    Expect(rule: rule, status: status, dose: dose, due: due, evidence: evidence)
}

struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var born: String
    var sex: String
    var asOf: String
    var immunizations: [RecordEvent] = []
    var results: [RecordEvent] = []
    var allergies: [(reference: String, codes: [Code])] = []
    var pregnant: String? = nil
    var expect: [Expect]
    var testDescription: String { name }
}

private let baby = "2025-01-15"
private let threeHexa = [imm("h1", "2025-03-15", "146"), imm("h2", "2025-05-15", "146"), imm("h3", "2025-07-15", "146")]

let cases: [Case] = [
    // ---- newborns
    Case(name: "01 newborn day 2, nothing recorded: birth vaccines and hearing due, metabolic screen not yet (day 3)", born: baby, sex: "female", asOf: "2025-01-17",
         expect: [e("bcg", .due, dose: 1, due: "2025-01-15"), e("hepatitis-b-nacimiento", .due), e("tamiz-auditivo", .due),
                  e("tamiz-metabolico", .upcoming, due: "2025-01-18"), e("hexavalente", .upcoming, dose: 1, due: "2025-03-15"), e("rotavirus", .upcoming)]),
    Case(name: "02 day 10: birth hepatitis B past its 8-day limit (absent), metabolic screen overdue (due day 3 + 3 days grace)", born: baby, sex: "male", asOf: "2025-01-25",
         expect: [e("hepatitis-b-nacimiento", nil), e("tamiz-metabolico", .overdue, due: "2025-01-18"), e("bcg", .due)]),
    Case(name: "03 newborn screened on day 4 and vaccinated at birth: all closed", born: baby, sex: "female", asOf: "2025-01-25",
         immunizations: [imm("b", "2025-01-15", "19"), imm("hb", "2025-01-15", "08")],
         results: [obs("tm", "2025-01-19", "54089-8"), obs("ta", "2025-01-16", "54109-4")],
         expect: [e("bcg", .done), e("hepatitis-b-nacimiento", .done), e("tamiz-metabolico", .done), e("tamiz-auditivo", .done)]),
    Case(name: "04 BCG overdue after one month without it", born: baby, sex: "female", asOf: "2025-02-16",
         expect: [e("bcg", .overdue, due: "2025-01-15")]),
    // ---- 2, 4, 6 months
    Case(name: "05 exactly 2 months: hexavalent, rotavirus and pneumococcal due today", born: baby, sex: "female", asOf: "2025-03-15",
         immunizations: [imm("b", "2025-01-15", "19")],
         expect: [e("hexavalente", .due, dose: 1, due: "2025-03-15"), e("rotavirus", .due, dose: 1), e("neumococica-conjugada", .due, dose: 1), e("bcg", .done)]),
    Case(name: "06 one day before 2 months: not yet due", born: baby, sex: "female", asOf: "2025-03-14",
         expect: [e("hexavalente", .upcoming, dose: 1, due: "2025-03-15")]),
    Case(name: "07 3.5 months without the first hexavalent: overdue (due 03-15 + 1 month)", born: baby, sex: "male", asOf: "2025-05-01",
         expect: [e("hexavalente", .overdue, dose: 1, due: "2025-03-15")]),
    Case(name: "08 hexavalent at 5 weeks is before the 6-week minimum age: it does not count", born: baby, sex: "male", asOf: "2025-03-20",
         immunizations: [imm("early", "2025-02-20", "146")],
         expect: [e("hexavalente", .due, dose: 1, due: "2025-03-15", evidence: ["Immunization/early"])]),
    Case(name: "09 second hexavalent 17 days after the first (< 4 weeks): not counted, dose 2 still owed", born: baby, sex: "male", asOf: "2025-05-20",
         immunizations: [imm("h1", "2025-03-15", "146"), imm("h2", "2025-04-01", "146")],
         expect: [e("hexavalente", .due, dose: 2, due: "2025-05-15", evidence: ["Immunization/h1", "Immunization/h2"])]),
    Case(name: "10 doses from two institutions (IMSS, private clinic) count together: dose 4 not before 18 months", born: baby, sex: "female", asOf: "2025-08-01",
         immunizations: [imm("h1", "2025-03-15", "146", at: "IMSS UMF 10"), imm("h2", "2025-05-15", "146", at: "Clínica privada"), imm("h3", "2025-07-15", "146", at: "IMSS UMF 10")],
         expect: [e("hexavalente", .upcoming, dose: 4, due: "2026-07-15")]),
    Case(name: "11 the same dose recorded by two institutions on the same day counts once", born: baby, sex: "female", asOf: "2025-05-20",
         immunizations: [imm("a", "2025-03-15", "146", at: "IMSS"), imm("b", "2025-03-15", "146", at: "ISSSTE")],
         expect: [e("hexavalente", .due, dose: 2, due: "2025-05-15")]),
    Case(name: "12 fourth hexavalent due at 18 months, at least 6 months after the third", born: baby, sex: "female", asOf: "2026-07-20",
         immunizations: threeHexa, expect: [e("hexavalente", .due, dose: 4, due: "2026-07-15")]),
    Case(name: "13 hexavalent complete (4 doses, the last at 18 months)", born: baby, sex: "female", asOf: "2026-09-01",
         immunizations: threeHexa + [imm("h4", "2026-07-15", "146")], expect: [e("hexavalente", .done)]),
    Case(name: "14 catch-up: 3-year-old never vaccinated still owes hexavalent dose 1 (limit 5 years), overdue", born: "2022-01-10", sex: "male", asOf: "2025-01-10",
         expect: [e("hexavalente", .overdue, dose: 1, due: "2022-03-10"), e("rotavirus", nil), e("neumococica-conjugada", .overdue, dose: 1)]),
    Case(name: "15 catch-up limit: at 5 years the missing hexavalent and pneumococcal doses are no longer given", born: "2020-01-10", sex: "male", asOf: "2025-01-10",
         expect: [e("hexavalente", nil), e("neumococica-conjugada", nil)]),
    // ---- rotavirus limits
    Case(name: "16 rotavirus at 14 weeks without a dose: overdue but still possible", born: baby, sex: "female", asOf: "2025-04-25",
         expect: [e("rotavirus", .overdue, dose: 1, due: "2025-03-15")]),
    Case(name: "17 rotavirus first dose not started by 15 weeks: no longer given", born: baby, sex: "female", asOf: "2025-04-30",
         expect: [e("rotavirus", nil)]),
    Case(name: "18 rotavirus second dose not given by 8 months: no longer given", born: baby, sex: "female", asOf: "2025-09-15",
         immunizations: [imm("r1", "2025-03-15", "119")], expect: [e("rotavirus", nil)]),
    Case(name: "19 rotavirus complete (2 doses)", born: baby, sex: "female", asOf: "2025-06-01",
         immunizations: [imm("r1", "2025-03-15", "119"), imm("r2", "2025-05-15", "116")], expect: [e("rotavirus", .done)]),
    // ---- 12 to 18 months
    Case(name: "20 pneumococcal booster due at 12 months (8 weeks after dose 2)", born: baby, sex: "male", asOf: "2026-01-20",
         immunizations: [imm("p1", "2025-03-15", "133"), imm("p2", "2025-05-15", "133")],
         expect: [e("neumococica-conjugada", .due, dose: 3, due: "2026-01-15")]),
    Case(name: "21 MMR dose 2 due at 18 months after dose 1 at 12 months", born: baby, sex: "male", asOf: "2026-08-01",
         immunizations: [imm("s1", "2026-01-15", "03")], expect: [e("srp", .due, dose: 2, due: "2026-07-15")]),
    Case(name: "22 MMR given at 11 months does not count (minimum age 12 months)", born: baby, sex: "male", asOf: "2026-01-20",
         immunizations: [imm("s0", "2025-12-15", "03")], expect: [e("srp", .due, dose: 1, due: "2026-01-15", evidence: ["Immunization/s0"])]),
    Case(name: "23 allergy recorded to the MMR vaccine: contraindicated", born: baby, sex: "male", asOf: "2026-01-20",
         allergies: [("AllergyIntolerance/a1", [Code(cvx, "03")])], expect: [e("srp", .contraindicated, evidence: ["AllergyIntolerance/a1"])]),
    // ---- influenza in children
    Case(name: "24 influenza from 6 months: due at 7 months", born: baby, sex: "female", asOf: "2025-08-15",
         expect: [e("influenza-infantil", .due, due: "2025-07-15")]),
    Case(name: "25 influenza given in October: done until next October", born: baby, sex: "female", asOf: "2026-03-01",
         immunizations: [imm("f1", "2025-10-01", "150")], expect: [e("influenza-infantil", .done, due: "2026-10-01")]),
    Case(name: "26 influenza a year later: due again", born: baby, sex: "female", asOf: "2026-11-15",
         immunizations: [imm("f1", "2025-10-01", "150")], expect: [e("influenza-infantil", .due, due: "2026-10-01")]),
    Case(name: "27 influenza for children ends at 5 years", born: "2020-01-15", sex: "female", asOf: "2025-01-15",
         expect: [e("influenza-infantil", nil)]),
    // ---- refusals and contraindications recorded as not-done
    Case(name: "28 parents declined the hexavalent (not-done, PATOBJ): declined, still an open gap", born: baby, sex: "female", asOf: "2025-04-01",
         immunizations: [imm("n1", "2025-03-20", "146", status: "not-done", reason: "PATOBJ")],
         expect: [e("hexavalente", .declined, dose: 1, evidence: ["Immunization/n1"])]),
    Case(name: "29 rotavirus not given as a medical precaution (MEDPREC): contraindicated", born: baby, sex: "female", asOf: "2025-04-01",
         immunizations: [imm("n2", "2025-03-15", "119", status: "not-done", reason: "MEDPREC")], expect: [e("rotavirus", .contraindicated)]),
    Case(name: "30 BCG out of stock (OSTOCK) is no excuse: still due", born: baby, sex: "female", asOf: "2025-01-20",
         immunizations: [imm("n3", "2025-01-16", "19", status: "not-done", reason: "OSTOCK")], expect: [e("bcg", .due)]),
    Case(name: "31 a subpotent BCG does not count", born: baby, sex: "female", asOf: "2025-02-20",
         immunizations: [imm("sp", "2025-01-15", "19", subpotent: true)], expect: [e("bcg", .overdue, evidence: ["Immunization/sp"])]),
    Case(name: "32 a dose entered in error does not count", born: baby, sex: "female", asOf: "2025-01-20",
         immunizations: [imm("err", "2025-01-15", "19", status: "entered-in-error")], expect: [e("bcg", .due)]),
    Case(name: "33 pregnant 13-year-old without BCG: live vaccine contraindicated in pregnancy", born: "2012-03-01", sex: "female", asOf: "2025-06-01",
         pregnant: "Condition/preg", expect: [e("bcg", .contraindicated, evidence: ["Condition/preg"])]),
    // ---- childhood boosters and screenings
    Case(name: "34 DPT booster due at 4 years", born: "2021-01-15", sex: "male", asOf: "2025-01-20", expect: [e("dpt-refuerzo", .due, due: "2025-01-15")]),
    Case(name: "35 DPT booster overdue 3 months after 4 years", born: "2021-01-15", sex: "male", asOf: "2025-04-20", expect: [e("dpt-refuerzo", .overdue)]),
    Case(name: "36 DPT booster no longer given from 7 years", born: "2018-01-15", sex: "male", asOf: "2025-01-20", expect: [e("dpt-refuerzo", nil)]),
    Case(name: "37 vision screened at 3 years: done until 5; due again at 5 years 2 months", born: "2020-01-15", sex: "female", asOf: "2025-03-15",
         results: [obs("v", "2023-02-15", "16830007", system: Code.snomed)], expect: [e("agudeza-visual", .due, due: "2025-02-15")]),
    // ---- adolescents
    Case(name: "38 girl of 11: HPV due", born: "2014-05-01", sex: "female", asOf: "2025-05-10", expect: [e("vph", .due, due: "2025-05-01")]),
    Case(name: "39 boy of 11: HPV does not apply (the Cartilla encoded gives it to girls)", born: "2014-05-01", sex: "male", asOf: "2025-05-10", expect: [e("vph", nil)]),
    Case(name: "40 girl of 15: past the HPV limit", born: "2010-05-01", sex: "female", asOf: "2025-05-10", expect: [e("vph", nil)]),
    Case(name: "41 HPV at 8 years (minimum 9) does not count: overdue at 12", born: "2013-01-10", sex: "female", asOf: "2025-02-01",
         immunizations: [imm("v8", "2021-03-01", "165")], expect: [e("vph", .overdue, evidence: ["Immunization/v8"])]),
    Case(name: "42 adolescent hepatitis B: three infant hexavalent doses already count", born: "2013-01-15", sex: "male", asOf: "2025-02-01",
         immunizations: [imm("h1", "2013-03-15", "146"), imm("h2", "2013-05-15", "146"), imm("h3", "2013-07-15", "146")],
         expect: [e("hepatitis-b-adolescente", .done)]),
    Case(name: "43 adolescent hepatitis B with no record: overdue from 11 years + 6 months", born: "2013-01-15", sex: "male", asOf: "2025-02-01",
         expect: [e("hepatitis-b-adolescente", .overdue, dose: 1, due: "2024-01-15")]),
    Case(name: "44 hepatitis B immunity documented (not-done, IMMUNE): not needed", born: "2013-01-15", sex: "male", asOf: "2025-02-01",
         immunizations: [imm("imm", "2024-06-01", "45", status: "not-done", reason: "IMMUNE")], expect: [e("hepatitis-b-adolescente", .done)]),
    Case(name: "45 Td at 15 counts for the adolescent; at 16 it is done", born: "2009-01-15", sex: "female", asOf: "2025-03-01",
         immunizations: [imm("td", "2024-02-01", "09")], expect: [e("td-adolescente", .done)]),
    // ---- women and men 20–59
    Case(name: "46 woman of 30 with nothing recorded: blood pressure, BMI, glucose, cytology overdue; no mammography or HPV test yet; no men's items",
         born: "1995-02-01", sex: "female", asOf: "2025-03-01",
         expect: [e("mujer-presion-arterial", .overdue, due: "2015-02-01"), e("mujer-imc", .overdue), e("mujer-glucosa", .overdue), e("mujer-citologia", .overdue, due: "2020-02-01"),
                  e("mujer-prueba-vph", nil), e("mujer-mastografia", nil), e("hombre-presion-arterial", nil), e("mujer-tdpa-embarazo", nil)]),
    Case(name: "47 cytology 2 years ago: done", born: "1995-02-01", sex: "female", asOf: "2025-03-01",
         results: [obs("c", "2023-03-01", "10524-7", at: "Centro de Salud")], expect: [e("mujer-citologia", .done, due: "2026-03-01")]),
    Case(name: "48 cytology 3 years and 1 day ago: due again (not yet overdue)", born: "1995-02-01", sex: "female", asOf: "2025-03-02",
         results: [obs("c", "2022-03-01", "10524-7")], expect: [e("mujer-citologia", .due, due: "2025-03-01")]),
    Case(name: "49 mammogram at 39 counts: the first under the 40–59 rule is due 2 years after it", born: "1984-01-10", sex: "female", asOf: "2025-02-15",
         results: [obs("m", "2023-01-05", "24606-6")], expect: [e("mujer-mastografia", .due, due: "2025-01-05")]),
    Case(name: "50 pregnant woman without Tdap: due since the pregnancy was recorded; influenza in pregnancy too", born: "1997-05-01", sex: "female", asOf: "2025-06-10",
         pregnant: "Condition/p", expect: [e("mujer-tdpa-embarazo", .due, due: "2025-06-01"), e("mujer-influenza-embarazo", .due)]),
    Case(name: "51 man of 50 without PSA: overdue since 45; the women's items do not apply", born: "1975-01-01", sex: "male", asOf: "2025-01-15",
         expect: [e("hombre-antigeno-prostatico", .overdue, due: "2020-01-01"), e("mujer-citologia", nil)]),
    Case(name: "52 man of 44: PSA not yet", born: "1981-01-01", sex: "male", asOf: "2025-01-15", expect: [e("hombre-antigeno-prostatico", nil)]),
    Case(name: "53 HbA1c two years ago counts as diabetes screening (every 3 years)", born: "1995-01-01", sex: "male", asOf: "2025-01-15",
         results: [obs("a1c", "2023-01-15", "4548-4")], expect: [e("hombre-glucosa", .done, due: "2026-01-15")]),
    Case(name: "54 blood pressure 13 months ago: due again, not yet overdue (3 months grace)", born: "1995-01-01", sex: "male", asOf: "2025-02-15",
         results: [obs("bp", "2024-01-15", "85354-9")], expect: [e("hombre-presion-arterial", .due, due: "2025-01-15")]),
    Case(name: "55 Td at IMSS at 20 and at a private clinic at 28: done until 38", born: "1993-01-01", sex: "male", asOf: "2025-01-01",
         immunizations: [imm("t1", "2013-02-01", "09", at: "IMSS"), imm("t2", "2021-02-01", "113", at: "Clínica privada")],
         expect: [e("hombre-td", .done, due: "2031-02-01")]),
    // ---- age edges 59/60 and older adults
    Case(name: "56 the day before 60: still the men's 20–59 Cartilla", born: "1965-03-01", sex: "male", asOf: "2025-02-28",
         expect: [e("hombre-presion-arterial", .overdue), e("mayor-presion-arterial", nil)]),
    Case(name: "57 the 60th birthday: the older adults' Cartilla", born: "1965-03-01", sex: "male", asOf: "2025-03-01",
         expect: [e("hombre-presion-arterial", nil), e("mayor-presion-arterial", .due, due: "2025-03-01"), e("mayor-neumococica", .upcoming, due: "2030-03-01"),
                  e("mayor-antigeno-prostatico", .due)]),
    Case(name: "58 older adult of 66 without PPSV23: overdue (65 + 6 months)", born: "1958-06-01", sex: "female", asOf: "2025-01-01",
         expect: [e("mayor-neumococica", .overdue, due: "2023-06-01")]),
    Case(name: "59 woman of 72: no mammography (ends at 70), bone density overdue", born: "1952-06-01", sex: "female", asOf: "2025-01-01",
         expect: [e("mayor-mastografia", nil), e("mayor-osteoporosis", .overdue)]),
    Case(name: "60 older adult vaccinated against influenza this season at another institution: done", born: "1950-01-01", sex: "male", asOf: "2025-01-10",
         immunizations: [imm("fl", "2024-10-20", "197", at: "ISSSTE")], expect: [e("mayor-influenza", .done, due: "2025-10-20")]),
]

@Suite struct ScheduleEngineTests {
    let engine = ScheduleEngine()

    @Test(arguments: cases)
    func schedule(_ c: Case) {
        let input = PreventionInput(birthDate: d(c.born), sex: c.sex, asOf: d(c.asOf), immunizations: c.immunizations, results: c.results,
                                    allergies: c.allergies, pregnancy: c.pregnant, pregnancySince: c.pregnant == nil ? nil : d("2025-06-01"))
        let items = Dictionary(uniqueKeysWithValues: engine.evaluate(input).map { ($0.rule.id, $0) })
        for x in c.expect {
            let item = items[x.rule]
            #expect(item?.status == x.status, "\(x) — got \(item.map { "\($0.status.rawValue): \($0.explanation.en)" } ?? "absent")")
            guard let item else { continue }
            if let dose = x.dose { #expect(item.dose == dose, "\(x) — dose \(item.dose.map(String.init) ?? "nil")") }
            if let due = x.due { #expect(item.dueDate?.description == due, "\(x) — due \(item.dueDate?.description ?? "nil")") }
            for ev in x.evidence { #expect(item.evidence.contains(ev), "\(x) — evidence \(item.evidence)") }
            #expect(!item.explanation.es.isEmpty && !item.explanation.en.isEmpty)
        }
    }

    @Test func atLeastFortyHandCheckedCases() {
        #expect(cases.count >= 40)
        #expect(cases.reduce(0) { $0 + $1.expect.count } >= 80)
    }

    @Test func explanationsSayWhereAndWhen() {
        let input = PreventionInput(birthDate: d("1993-01-01"), sex: "male", asOf: d("2025-01-01"),
                                    immunizations: [imm("t2", "2021-02-01", "113", at: "Clínica privada")])
        let td = engine.evaluate(input).first { $0.rule.id == "hombre-td" }
        #expect(td?.explanation.es.contains("2021-02-01 en Clínica privada") == true)
        #expect(td?.explanation.en.contains("at Clínica privada") == true)
    }
}
