import FHIR
import Foundation
import Storage
import Trust

/// `Patient/$care-gaps` (after Da Vinci DEQM,
/// http://hl7.org/fhir/us/davinci-deqm/OperationDefinition/care-gaps): the Cartilla's items of
/// each patient as gaps in `[periodStart, periodEnd]`, read through the asker's guard.
///
/// The schedule is judged on `periodEnd`. An **open gap** is an item due, overdue or declined on
/// that date; a **closed gap** is one done (or found not needed) with its last event inside the
/// period. Items not yet due, items closed before the period and contraindicated ones are not
/// gaps (the ImmunizationRecommendation explains them).
public struct CareGaps: Sendable {
    public var knowledge: CartillaKnowledge

    public init(knowledge: CartillaKnowledge = .standard) { self.knowledge = knowledge }

    public struct Request: Sendable, Equatable {
        public var periodStart: CivilDate
        public var periodEnd: CivilDate
        /// Patient ids (`subject=Patient/…`); empty: every patient the asker may see (at most `panelLimit`).
        public var subjects: [String]
        public var open: Bool
        public var closed: Bool
        public init(periodStart: CivilDate, periodEnd: CivilDate, subjects: [String], open: Bool = true, closed: Bool = true) {
            self.periodStart = periodStart
            self.periodEnd = periodEnd
            self.subjects = subjects
            self.open = open
            self.closed = closed
        }
    }

    public static let panelLimit = 500

    /// Parses the operation's parameters (`periodStart`, `periodEnd`, `subject`, `status`);
    /// defaults: the year up to today, every visible patient, both statuses. Throws 400 on bad input.
    public static func parse(_ parameters: [(String, String)], today: CivilDate) throws -> Request {
        var start: CivilDate?, end: CivilDate?
        var subjects: [String] = []
        var statuses: Set<String> = []
        for (k, v) in parameters {
            switch k {
            case "periodStart", "periodEnd":
                guard let d = CivilDate(fhir: v), v.count >= 10 else {
                    throw FHIRError.badRequest("\(k) must be a date (YYYY-MM-DD)", "\(k) debe ser una fecha (AAAA-MM-DD)")
                }
                if k == "periodStart" { start = d } else { end = d }
            case "subject", "patient":
                for one in v.split(separator: ",").map(String.init) {
                    let id = one.hasPrefix("Patient/") ? String(one.dropFirst(8)) : one
                    guard !id.isEmpty, !id.contains("/"), id.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else {
                        throw FHIRError.badRequest("subject must be Patient/<id>", "subject debe ser Patient/<id>")
                    }
                    subjects.append(id)
                }
            case "status":
                for one in v.split(separator: ",").map(String.init) {
                    switch one {
                    case "open", "open-gap": statuses.insert("open")
                    case "closed", "closed-gap": statuses.insert("closed")
                    default:
                        throw FHIRError.badRequest("status must be open-gap or closed-gap", "status debe ser open-gap o closed-gap")
                    }
                }
            case "_format", "_pretty":
                continue
            case "measureId", "measureIdentifier", "measureUrl", "topic", "practitioner", "organization", "program":
                throw FHIRError(status: 400, code: "not-supported", english: "$care-gaps parameter '\(k)' is not supported; the gaps are the Cartilla Nacional de Salud's",
                                spanish: "el parámetro '\(k)' de $care-gaps no se admite; las brechas son las de la Cartilla Nacional de Salud")
            default:
                throw FHIRError.badRequest("unknown $care-gaps parameter '\(k)'", "parámetro desconocido de $care-gaps '\(k)'")
            }
        }
        let e = end ?? today
        let s = start ?? e.adding(.years(-1))
        guard s <= e else { throw FHIRError.badRequest("periodStart is after periodEnd", "periodStart es posterior a periodEnd") }
        return Request(periodStart: s, periodEnd: e, subjects: subjects, open: statuses.isEmpty || statuses.contains("open"),
                       closed: statuses.isEmpty || statuses.contains("closed"))
    }

    /// The gaps of one record. An open gap that a clinician decided does not apply (`decisions`, by
    /// item: declined, not indicated, done elsewhere) is a closed gap (docs/prevention.md, "A
    /// decision counts"); the item itself stays as the schedule computed it.
    public func gaps(_ record: PatientRecord, _ request: Request, decisions: [String: GapDecision] = [:]) -> [(PreventionItem, open: Bool)] {
        guard let input = record.scheduleInput(asOf: request.periodEnd) else { return [] }
        return ScheduleEngine(rules: knowledge.rules).evaluate(input).compactMap { item in
            if let d = decisions[item.rule.id], d.applies(to: item) { return request.closed ? (item, false) : nil }
            if item.status.isOpen { return request.open ? (item, true) : nil }
            if item.status == .done, let last = item.last, last.date >= request.periodStart { return request.closed ? (item, false) : nil }
            if item.status == .done, item.immune, request.closed { return (item, false) }
            return nil
        }
    }

    /// The operation's answer: a `Parameters` with one `return` Bundle per patient.
    public func run(_ request: Request, guarded: GuardedRepository, now: Date, base: String) async throws -> JSON {
        var ids = request.subjects
        if ids.isEmpty {
            var (query, _) = try SearchParser().parse(types: ["Patient"], parameters: [("_count", String(CareGaps.panelLimit)), ("_total", "none"), ("_sort", "_id")])
            query.count = CareGaps.panelLimit
            ids = try await guarded.search(query).matches.map(\.id)
        }
        var returns: [JSON] = []
        let stamp = PreventionSettings.timestamp(now)
        let records = try await RecordReader.read(guarded, patients: ids)
        let decisions = try await GapDecision.read(guarded, patients: ids)
        for id in ids {
            // a patient the page read did not return is read alone: the guard's own 404 (or 410)
            let record: PatientRecord
            if let r = records[id] { record = r } else { record = try await RecordReader.read(guarded, patient: id) }
            let decided = decisions[id] ?? [:]
            let bundle = PreventionResources.careGapsBundle(patient: id, gaps: gaps(record, request, decisions: decided), periodStart: request.periodStart,
                                                            periodEnd: request.periodEnd, now: stamp, knowledge: knowledge.version, base: base,
                                                            decisions: decided)
            returns.append(.object([("name", .string("return")), ("resource", bundle)]))
        }
        return .object([("resourceType", .string("Parameters")), ("parameter", .array(returns))])
    }
}
