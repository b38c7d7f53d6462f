import FHIR
import Foundation
import Storage
import Trust

/// The childhood schedule at 24 months as this measure reads it: each series of the Cartilla
/// Nacional de Salud (edition 2024.1, PlanDefinition `cns-ninas-ninos-0-9` of the Prevention
/// module) due by the second birthday, with the CVX codes that count and the doses required.
/// Copied here as data, not imported: domain modules meet only through FHIR resources
/// (docs/architecture.md), so a change of the Cartilla edition must be mirrored here (the test
/// `theScheduleMatchesTheCartilla` in Tests/FinancingTests names the edition).
public struct ChildhoodSchedule24Months: Sendable {
    public struct Series: Sendable {
        public var id: String
        public var doses: Int
        public var cvx: Set<String>
    }

    public var edition: String
    public var series: [Series]

    /// BCG 1, hepatitis B at birth 1, hexavalent 4 (2, 4, 6, 18 months), rotavirus 2, pneumococcal
    /// conjugate 3 (2, 4, 12 months), MMR (SRP) 2 (12, 18 months). Seasonal influenza is left out:
    /// whether it is due depends on the season the child was born in.
    public static let cns2024 = ChildhoodSchedule24Months(edition: "cns-ninas-ninos-0-9|2024.1", series: [
        Series(id: "bcg", doses: 1, cvx: ["19"]),
        Series(id: "hepatitis-b-nacimiento", doses: 1, cvx: ["08", "43", "44", "45", "189", "146", "110", "102", "132"]),
        Series(id: "hexavalente", doses: 4, cvx: ["146", "120", "110", "102", "132"]),
        Series(id: "rotavirus", doses: 2, cvx: ["119", "116", "122"]),
        Series(id: "neumococica-conjugada", doses: 3, cvx: ["133", "215", "216", "152", "100"]),
        Series(id: "srp", doses: 2, cvx: ["03", "94", "04"]),
    ])
}

/// The patient-experience questionnaire (docs/financing.md, "The questionnaire"): five questions after a visit,
/// Spanish with English translations, each answered 1 (very bad) … 5 (very good). Optional:
/// nothing but the `patient-experience` measure reads the answers, and never about care.
public enum ExperienceQuestionnaire {
    public static let url = "https://enlace.mx/fhir/Questionnaire/experiencia-atencion"
    public static let version = "2026.1"
    public static let questions: [(id: String, es: String, en: String)] = [
        ("trato", "¿Cómo le trató el personal?", "How were you treated by the staff?"),
        ("explicacion", "¿Le explicaron su padecimiento y tratamiento de forma clara?", "Were your condition and treatment explained clearly?"),
        ("espera", "¿Cómo califica el tiempo de espera?", "How do you rate the waiting time?"),
        ("participacion", "¿Pudo participar en las decisiones sobre su atención?", "Could you take part in the decisions about your care?"),
        ("recomendaria", "¿Recomendaría esta unidad a su familia?", "Would you recommend this unit to your family?"),
    ]

    static let translation = "http://hl7.org/fhir/StructureDefinition/translation"

    static func translated(_ es: String, _ en: String) -> JSON {
        J.o(("extension", J.a([J.o(("url", .string(translation)), ("extension", J.a([
            J.o(("url", .string("lang")), ("valueCode", .string("en"))), J.o(("url", .string("content")), ("valueString", .string(en))),
        ])))])))
    }

    /// The Questionnaire resource (stored by the demo; a client may PUT it as is).
    public static var resource: JSON {
        let scale: [JSON] = [("1", "Muy malo", "Very bad"), ("2", "Malo", "Bad"), ("3", "Regular", "Fair"), ("4", "Bueno", "Good"), ("5", "Muy bueno", "Very good")]
            .map { v, es, en in
                J.o(("valueCoding", J.o(("system", .string("https://enlace.mx/fhir/CodeSystem/escala-experiencia")), ("code", .string(v)),
                                        ("display", .string(es)), ("_display", translated(es, en)))))
            }
        return J.o(("resourceType", .string("Questionnaire")), ("id", .string("experiencia-atencion")), ("url", .string(url)),
                   ("version", .string(version)), ("name", .string("ExperienciaAtencion")), ("status", .string("active")),
                   ("title", .string("¿Cómo fue su atención?")), ("_title", translated("¿Cómo fue su atención?", "How was your care?")),
                   ("description", .string("Cinco preguntas opcionales después de su consulta; contestarlas o no nunca cambia su atención. / Five optional questions after your visit; answering or not never changes your care.")),
                   ("subjectType", J.a([.string("Patient")])),
                   ("item", J.a(questions.map { q in
                       J.o(("linkId", .string(q.id)), ("text", .string(q.es)), ("_text", translated(q.es, q.en)), ("type", .string("choice")),
                           ("required", .bool(false)), ("answerOption", J.a(scale)))
                   })))
    }

    /// The mean answer (1…5) of a completed response, nil when it answers none of the questions.
    public static func mean(_ response: JSON) -> Double? {
        var values: [Int] = []
        let ids = Set(questions.map(\.id))
        for item in response["item"]?.arrayValue ?? [] where ids.contains(item["linkId"]?.stringValue ?? "") {
            for a in item["answer"]?.arrayValue ?? [] {
                if let c = a["valueCoding"]?["code"]?.stringValue, let v = Int(c), (1...5).contains(v) { values.append(v) }
                else if case .number(let n)? = a["valueInteger"], let v = Int(n), (1...5).contains(v) { values.append(v) }
            }
        }
        return values.isEmpty ? nil : Double(values.reduce(0, +)) / Double(values.count)
    }
}

extension MeasureEvaluator {
    static func day(_ s: String?) -> String? { s.map { String($0.prefix(10)) } }

    static func addingDays(_ d: String, _ n: Int) -> String {
        let f = DateFormatter()
        f.calendar = Calendar(identifier: .gregorian)
        f.timeZone = TimeZone(identifier: "UTC")
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd"
        guard let date = f.date(from: String(d.prefix(10))) else { return d }
        return f.string(from: date.addingTimeInterval(Double(n) * 86_400))
    }

    /// Keeps the patients managed by `r.organization` (when given).
    func managed(_ patients: Set<String>, _ r: Request, guarded: GuardedRepository) async -> Set<String> {
        guard let org = r.organization else { return patients }
        var out: Set<String> = []
        for p in patients {
            let id = String(p.split(separator: "/").last ?? "")
            if let pt = try? await guarded.read("Patient", id).json(), pt["managingOrganization"]?["reference"]?.stringValue == org { out.insert(p) }
        }
        return out
    }

    func subjectFilter(_ r: Request, key: String = "patient") -> [(String, String)] { r.subject.map { [(key, $0)] } ?? [] }

    /// Children whose second birthday falls in the period (denominator) and who by that day had
    /// every series of the Cartilla due by 24 months (numerator): completed Immunizations, not
    /// entered in error, given on or before the second birthday.
    func childhoodImmunization(_ r: Request, guarded: GuardedRepository, schedule: ChildhoodSchedule24Months = .cns2024) async throws -> Outcome {
        func yearsBefore(_ d: String) -> String {
            guard let y = Int(d.prefix(4)) else { return d }
            return String(format: "%04d", y - 2) + d.dropFirst(4).prefix(6)
        }
        var q: [(String, String)] = [("birthdate", "ge\(yearsBefore(r.periodStart))"), ("birthdate", "le\(yearsBefore(r.periodEnd))")]
        if let s = r.subject { q.append(("_id", String(s.split(separator: "/").last ?? ""))) }
        var birthdays: [String: String] = [:]
        for p in try await FinancingService.all("Patient", q, guarded: guarded) {
            guard let id = p["id"]?.stringValue, let b = p["birthDate"]?.stringValue, b.count == 10, let y = Int(b.prefix(4)) else { continue }
            birthdays["Patient/\(id)"] = String(format: "%04d", y + 2) + b.dropFirst(4)
        }
        let population = await managed(Set(birthdays.keys), r, guarded: guarded)
        var numerator: [String] = []
        for p in population.sorted() {
            let second = birthdays[p]!
            var given: [String] = []  // CVX of each dose given by the second birthday
            for i in try await FinancingService.all("Immunization", [("patient", p)], guarded: guarded) where i["status"]?.stringValue == "completed" {
                guard let d = Self.day(i["occurrenceDateTime"]?.stringValue), d <= second else { continue }
                given += Self.code(i["vaccineCode"], system: "http://hl7.org/fhir/sid/cvx").prefix(1)
            }
            if schedule.series.allSatisfy({ s in given.filter { s.cvx.contains($0) }.count >= s.doses }) { numerator.append(p) }
        }
        return Outcome(denominator: population.sorted(), numerator: numerator)
    }

    static let visitClasses: Set<String> = ["AMB", "VR", "HH"]
    static let stayClasses: Set<String> = ["IMP", "ACUTE", "NONAC"]

    static func finishedEncounters(_ r: Request, from: String, to: String, guarded: GuardedRepository, subject: String?) async throws -> [JSON] {
        var q: [(String, String)] = [("status", "finished"), ("date", "ge\(from)"), ("date", "le\(to)")]
        if let subject { q.append(("patient", subject)) }
        return try await FinancingService.all("Encounter", q, guarded: guarded)
    }

    /// Visits (finished ambulatory Encounters starting in the period) of patients who have a
    /// family doctor or team (`Patient.generalPractitioner`, or an active CareTeam): the
    /// denominator; those where a participant, or the serving organization, is that doctor or
    /// team: the numerator. The population basis is the visit (Encounter), not the patient.
    func continuity(_ r: Request, guarded: GuardedRepository) async throws -> Outcome {
        let visits = try await Self.finishedEncounters(r, from: r.periodStart, to: r.periodEnd, guarded: guarded, subject: r.subject)
            .filter { Self.visitClasses.contains($0["class"]?["code"]?.stringValue ?? "") }
            .filter { (Self.day($0["period"]?["start"]?.stringValue) ?? "") >= r.periodStart && (Self.day($0["period"]?["start"]?.stringValue) ?? "") <= r.periodEnd }
        var byPatient: [String: [JSON]] = [:]
        for v in visits { if let p = v["subject"]?["reference"]?.stringValue { byPatient[p, default: []].append(v) } }
        let patients = await managed(Set(byPatient.keys), r, guarded: guarded)
        var denominator: [String] = [], numerator: [String] = [], people: Set<String> = []
        for p in patients.sorted() {
            let id = String(p.split(separator: "/").last ?? "")
            guard let patient = try? await guarded.read("Patient", id).json() else { continue }
            var team = Set((patient["generalPractitioner"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue })
            for t in try await FinancingService.all("CareTeam", [("patient", p), ("status", "active")], guarded: guarded) {
                for m in t["participant"]?.arrayValue ?? [] { if let ref = m["member"]?["reference"]?.stringValue { team.insert(ref) } }
            }
            guard !team.isEmpty else { continue }
            if !(byPatient[p] ?? []).isEmpty { people.insert(p) }
            for v in byPatient[p] ?? [] {
                let ref = "Encounter/\(v["id"]?.stringValue ?? "")"
                denominator.append(ref)
                let who = (v["participant"]?.arrayValue ?? []).compactMap { $0["individual"]?["reference"]?.stringValue }
                    + [v["serviceProvider"]?["reference"]?.stringValue].compactMap { $0 }
                if who.contains(where: team.contains) { numerator.append(ref) }
            }
        }
        return Outcome(denominator: denominator.sorted(), numerator: numerator.sorted(), people: people)
    }

    /// Discharges (finished inpatient Encounters ending in the period): the denominator; those
    /// followed by a visit of the same patient (ambulatory, virtual or at home) starting within 7
    /// days after the discharge day: the numerator. The basis is the discharge (Encounter).
    func followUpAfterDischarge(_ r: Request, guarded: GuardedRepository) async throws -> Outcome {
        let encounters = try await Self.finishedEncounters(r, from: Self.addingDays(r.periodStart, -400), to: Self.addingDays(r.periodEnd, 7),
                                                           guarded: guarded, subject: r.subject)
        var stays: [(String, String, String)] = []  // (patient, encounter, discharge day)
        var visits: [String: [String]] = [:]        // patient → visit start days
        for e in encounters {
            guard let p = e["subject"]?["reference"]?.stringValue else { continue }
            let cls = e["class"]?["code"]?.stringValue ?? ""
            if Self.stayClasses.contains(cls), let end = Self.day(e["period"]?["end"]?.stringValue), end >= r.periodStart, end <= r.periodEnd {
                stays.append((p, "Encounter/\(e["id"]?.stringValue ?? "")", end))
            } else if Self.visitClasses.contains(cls), let start = Self.day(e["period"]?["start"]?.stringValue) {
                visits[p, default: []].append(start)
            }
        }
        let patients = await managed(Set(stays.map(\.0)), r, guarded: guarded)
        var denominator: [String] = [], numerator: [String] = []
        for (p, enc, end) in stays where patients.contains(p) {
            denominator.append(enc)
            let limit = Self.addingDays(end, 7)
            if (visits[p] ?? []).contains(where: { $0 >= end && $0 <= limit }) { numerator.append(enc) }
        }
        return Outcome(denominator: denominator.sorted(), numerator: numerator.sorted(), people: Set(stays.map(\.0)).intersection(patients))
    }

    /// Completed answers to the experience questionnaire authored in the period: the
    /// denominator; those whose mean answer is 4 or more (good or very good, a "top-box" score):
    /// the numerator. The basis is the response.
    func experience(_ r: Request, guarded: GuardedRepository) async throws -> Outcome {
        var q: [(String, String)] = [("status", "completed"), ("authored", "ge\(r.periodStart)"), ("authored", "le\(r.periodEnd)")]
        q += subjectFilter(r, key: "subject")
        var byPatient: [String: [(String, Double)]] = [:]
        for resp in try await FinancingService.all("QuestionnaireResponse", q, guarded: guarded)
        where (resp["questionnaire"]?.stringValue ?? "").split(separator: "|").first.map(String.init) == ExperienceQuestionnaire.url {
            guard let p = resp["subject"]?["reference"]?.stringValue ?? resp["source"]?["reference"]?.stringValue,
                  let m = ExperienceQuestionnaire.mean(resp) else { continue }
            byPatient[p, default: []].append(("QuestionnaireResponse/\(resp["id"]?.stringValue ?? "")", m))
        }
        let patients = await managed(Set(byPatient.keys), r, guarded: guarded)
        var denominator: [String] = [], numerator: [String] = []
        for p in patients { for (ref, m) in byPatient[p] ?? [] {
            denominator.append(ref)
            if m >= 4 { numerator.append(ref) }
        } }
        return Outcome(denominator: denominator.sorted(), numerator: numerator.sorted(), people: patients.filter { !(byPatient[$0] ?? []).isEmpty })
    }
}
