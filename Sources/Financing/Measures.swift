import FHIR
import Foundation
import Storage
import Trust

/// The measures Enlace knows how to evaluate, and their logic.
public struct MeasureEvaluator: Sendable {
    /// The shipped Measure resources (`SampleMeasures2026`).
    public static let measures: [JSON] = (try? shippedMeasures.get()) ?? []
    static let shippedMeasures: Result<[JSON], KnowledgeError> = Result {
        try FinancingKnowledge.loadResources(SampleMeasures2026.json, name: "SampleMeasures2026", type: "Measure")
    }.mapError { $0 as? KnowledgeError ?? KnowledgeError(file: "SampleMeasures2026", problem: "\($0)", problema: "\($0)") }

    public enum ReportType: String, Sendable {
        case individual, subjectList = "subject-list", summary
        /// R4 names (`subject`, `subject-list`, `population`) and R5 names (`individual`, `subject-list`, `summary`).
        public init?(parameter: String) {
            switch parameter {
            case "individual", "subject": self = .individual
            case "subject-list": self = .subjectList
            case "summary", "population": self = .summary
            default: return nil
            }
        }
    }

    public struct Request: Sendable {
        public var measureID: String
        public var periodStart: String
        public var periodEnd: String
        public var reportType: ReportType
        /// `Patient/x`
        public var subject: String?
        /// `Organization/x`: patients it manages (`Patient.managingOrganization`).
        public var organization: String?
        public init(measureID: String, periodStart: String, periodEnd: String, reportType: ReportType, subject: String? = nil, organization: String? = nil) {
            self.measureID = measureID
            self.periodStart = periodStart
            self.periodEnd = periodEnd
            self.reportType = reportType
            self.subject = subject
            self.organization = organization
        }
    }

    public struct Outcome: Sendable, Equatable {
        public var denominator: [String]
        public var numerator: [String]
        /// The distinct patients behind the denominator (the denominator itself for a measure
        /// of patients; for one of visits, discharges or answers, whose they are).
        public var people: Set<String>
        public init(denominator: [String], numerator: [String], people: Set<String>? = nil) {
            self.denominator = denominator
            self.numerator = numerator
            self.people = people ?? Set(denominator)
        }
    }

    /// The group extension that says how many distinct patients a report's denominator is
    /// about (valueInteger): for a measure of visits, several visits may be one person's. A
    /// payer's summary masks every count of a group about fewer than `smallCellMinimum` people
    /// (`Door.payerSummary`).
    public static let peopleExtension = Door.measureReportPeopleExtension

    public init() {}

    static func code(_ concept: JSON?, system: String) -> [String] {
        (concept?["coding"]?.arrayValue ?? []).filter { $0["system"]?.stringValue == system }.compactMap { $0["code"]?.stringValue }
    }

    static func value(_ o: JSON) -> Double? {
        guard case .number(let n)? = o["valueQuantity"]?["value"] else { return nil }
        return Double(n)
    }

    /// The date twelve months before `end` (`2026-11-24` → `2025-11-24`).
    static func twelveMonthsBefore(_ end: String) -> String {
        guard let y = Int(end.prefix(4)) else { return end }
        return String(format: "%04d", y - 1) + end.dropFirst(4).prefix(6)
    }

    /// The patients in the initial population (with an active condition whose CIE-10 code
    /// starts with one of `prefixes`, recorded by `end`) and those meeting `meets` on their
    /// Observations of the 12 months before `end`: read through `guarded`, so only what the
    /// principal may see counts.
    func evaluate(_ r: Request, guarded: GuardedRepository) async throws -> Outcome {
        switch r.measureID {
        case "childhood-immunization-24m": return try await childhoodImmunization(r, guarded: guarded)
        case "continuity-of-care": return try await continuity(r, guarded: guarded)
        case "follow-up-after-discharge-7d": return try await followUpAfterDischarge(r, guarded: guarded)
        case "patient-experience": return try await experience(r, guarded: guarded)
        default: break
        }
        let (prefixes, loincs): ([String], [String]) = switch r.measureID {
        case "diabetes-hba1c-control": (["E11"], ["4548-4"])
        case "hypertension-control": (["I10"], ["8480-6", "8462-4"])
        default: throw FHIRError(status: 404, code: "not-found", english: "Measure/\(r.measureID) is not one Enlace evaluates",
                                 spanish: "Measure/\(r.measureID) no es una medida que Enlace evalúe")
        }
        var conditionQuery: [(String, String)] = [("clinical-status", "active")]
        if let s = r.subject { conditionQuery.append(("patient", s)) }
        var population: Set<String> = []
        for c in try await FinancingService.all("Condition", conditionQuery, guarded: guarded) {
            let codes = Self.code(c["code"], system: "http://hl7.org/fhir/sid/icd-10")
            guard codes.contains(where: { code in prefixes.contains { code.hasPrefix($0) } }),
                  let p = c["subject"]?["reference"]?.stringValue else { continue }
            if let d = c["recordedDate"]?.stringValue ?? c["onsetDateTime"]?.stringValue, String(d.prefix(10)) > r.periodEnd { continue }
            population.insert(p)
        }
        if let org = r.organization {
            var managed: Set<String> = []
            for p in population {
                let id = String(p.split(separator: "/").last ?? "")
                if let pt = try? await guarded.read("Patient", id).json(), pt["managingOrganization"]?["reference"]?.stringValue == org { managed.insert(p) }
            }
            population = managed
        }
        let from = Self.twelveMonthsBefore(r.periodEnd)
        var latest: [String: [String: (String, Double)]] = [:]  // patient → loinc → (date, value)
        for loinc in loincs {
            var q: [(String, String)] = [("code", "http://loinc.org|\(loinc)"), ("date", "ge\(from)"), ("date", "le\(r.periodEnd)"), ("status", "final")]
            if let s = r.subject { q.append(("patient", s)) }
            for o in try await FinancingService.all("Observation", q, guarded: guarded) {
                guard let p = o["subject"]?["reference"]?.stringValue, population.contains(p), let v = Self.value(o),
                      let d = o["effectiveDateTime"]?.stringValue else { continue }
                if let prev = latest[p]?[loinc], prev.0 >= d { continue }
                latest[p, default: [:]][loinc] = (d, v)
            }
        }
        let numerator = population.filter { p in
            let l = latest[p] ?? [:]
            switch r.measureID {
            case "diabetes-hba1c-control": return (l["4548-4"]?.1).map { $0 < 7 } ?? false
            default: return ((l["8480-6"]?.1).map { $0 < 140 } ?? false) && ((l["8462-4"]?.1).map { $0 < 90 } ?? false)
            }
        }
        return Outcome(denominator: population.sorted(), numerator: numerator.sorted())
    }

    /// `Measure/$evaluate-measure` (https://hl7.org/fhir/R4/measure-operation-evaluate-measure.html)
    /// → a MeasureReport: the populations' counts and the score; for `subject-list`, the
    /// numerator and denominator patients as contained Lists (only patients the principal sees
    /// can be in them, as everything is read through its guard).
    public func report(_ r: Request, guarded: GuardedRepository, now: Timestamp) async throws -> JSON {
        guard let measure = Self.measures.first(where: { $0["id"]?.stringValue == r.measureID }) else {
            throw FHIRError(status: 404, code: "not-found", english: "Measure/\(r.measureID) is not one Enlace evaluates",
                            spanish: "Measure/\(r.measureID) no es una medida que Enlace evalúe")
        }
        let outcome = try await evaluate(r, guarded: guarded)
        let url = (measure["url"]?.stringValue ?? "") + "|" + (measure["version"]?.stringValue ?? "")
        func population(_ code: String, _ members: [String], list: String?) -> JSON {
            J.o(("code", J.concept("http://terminology.hl7.org/CodeSystem/measure-population", code)), ("count", J.n(members.count)),
                ("subjectResults", list.map { J.ref("#\($0)") }))
        }
        let listed = r.reportType == .subjectList
        var group: [(String, JSON?)] = [("extension", J.a([J.o(("url", .string(Self.peopleExtension)), ("valueInteger", J.n(outcome.people.count)))])),
                                        ("population", J.a([
            population("initial-population", outcome.denominator, list: nil),
            population("denominator", outcome.denominator, list: listed ? "denominator" : nil),
            population("numerator", outcome.numerator, list: listed ? "numerator" : nil),
        ]))]
        if !outcome.denominator.isEmpty {
            let score = Double(outcome.numerator.count) / Double(outcome.denominator.count)
            group.append(("measureScore", J.o(("value", .number(String(format: "%.4f", score))), ("unit", .string("1")),
                                              ("system", .string("http://unitsofmeasure.org")), ("code", .string("1")))))
        }
        func list(_ id: String, _ members: [String]) -> JSON {
            J.o(("resourceType", .string("List")), ("id", .string(id)), ("status", .string("current")), ("mode", .string("snapshot")),
                ("entry", members.isEmpty ? nil : J.a(members.map { J.o(("item", J.ref($0))) })))
        }
        let type: String
        switch r.reportType {
        case .individual: type = "individual"
        case .subjectList: type = "subject-list"
        case .summary: type = "summary"
        }
        return J.o(("resourceType", .string("MeasureReport")),
                   ("contained", listed ? J.a([list("denominator", outcome.denominator), list("numerator", outcome.numerator)]) : nil),
                   ("status", .string("complete")), ("type", .string(type)), ("measure", .string(url)),
                   ("subject", r.subject.map { J.ref($0) }), ("date", .string(now.description)),
                   ("reporter", r.organization.map { J.ref($0) }),
                   ("period", J.o(("start", .string(r.periodStart)), ("end", .string(r.periodEnd)))),
                   ("improvementNotation", measure["improvementNotation"]),
                   ("group", J.a([.object(group.compactMap { k, v in v.map { (k, $0) } })])))
    }
}
