import FHIR
import Foundation
import Storage
import Trust

/// The daily recomputation (docs/prevention.md, "The daily pass"): a stored
/// `ImmunizationRecommendation`'s `forecastStatus` is true as of its `date`; as days pass a dose
/// moves from due to overdue without any write to the record. Once a day every patient's
/// recommendation is recomputed for today — as the `prevention.recommendations` principal, through
/// its own guarded repository (`Door.scheduledPass`), a page of patients at a time, each page in
/// one transaction — and rewritten only where it changed, so a second pass the same day writes
/// nothing (idempotent, and harmless when several nodes run it).
///
/// Risk scores have age as an input too (FINDRISC's bands, the cardiovascular chart's five-year
/// bands and its 40–74 range), and a birthday writes nothing: so the same pass recomputes the
/// risk scores (`risks`) of the patients on the page whose age in years changed in the last
/// `birthdayWindowDays` days — a window, not "today", so that a pass missed while the server was
/// down still catches up — each score through its own consumer's principal and guard, with a
/// Provenance saying why. Unchanged scores are not rewritten.
public struct DailyRecomputation: Sendable {
    public let consumer: RecommendationsConsumer
    /// The risk scores recomputed on a birthday.
    public var risks: [any RiskRecomputation]
    /// How many days back a change of age still makes the pass recompute the risk scores.
    public var birthdayWindowDays = 7
    /// Patients per page (one read of the Patient list, one transaction).
    public var pageSize: Int
    /// Most patients one pass visits.
    public var maxPatients: Int

    public init(settings: PreventionSettings, pageSize: Int = 200, maxPatients: Int = 200_000) {
        self.consumer = RecommendationsConsumer(settings: settings)
        self.risks = [RiskConsumer(settings: settings), CardiovascularRiskConsumer(settings: settings)]
        self.pageSize = pageSize
        self.maxPatients = maxPatients
    }

    /// What one pass did.
    public struct Outcome: Sendable, Equatable {
        public var patients = 0
        public var written = 0
        /// Patients whose age changed within the window, and the risk scores rewritten for them.
        public var birthdays = 0
        public var risksWritten = 0
    }

    /// Whether the age in years of a patient born `birthDate` changed between `days` days ago and `today`.
    static func ageChanged(_ birthDate: String?, today: Date, days: Int) -> Bool {
        guard let birth = birthDate.flatMap(CivilDate.init(fhir:)) else { return false }
        let now = CivilDate(today), before = CivilDate(today.addingTimeInterval(-86_400 * Double(days)))
        return birth <= before && birth.years(until: now) != birth.years(until: before)
    }

    /// Runs one pass over every patient the principal may see (in the store's order), at most
    /// `maxPatients`.
    public func run(door: Door) async throws -> Outcome {
        var outcome = Outcome()
        var options = SearchParser.Options()
        options.maxCount = pageSize
        var (query, _) = try SearchParser(options: options).parse(types: ["Patient"], parameters: [("_count", String(pageSize)), ("_total", "none")])
        query.count = pageSize
        let provenance = consumer.provenance(reason: "Recalculado en la revisión diaria / recomputed in the daily pass")
        while outcome.patients < maxPatients {
            let q = query
            let (page, written) = try await door.scheduledPass("prevention.daily", principal: consumer.principal) { guarded -> (SearchResult, Int) in
                let page = try await guarded.search(q)
                let ids = page.matches.filter { !$0.deleted }.map(\.id)
                let entries = try await consumer.entries(for: ids, guarded: guarded)
                if let bundle = PreventionSettings.transaction(entries) {
                    var writer = guarded
                    writer.provenanceTemplate = provenance
                    _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:consumer:prevention.daily", maxEntries: 10_000))
                }
                return (page, entries.count)
            }
            outcome.patients += page.matches.count
            outcome.written += written
            let today = consumer.settings.now()
            let birthdays = page.matches.filter { p in
                !p.deleted && DailyRecomputation.ageChanged((try? p.json())?["birthDate"]?.stringValue, today: today, days: birthdayWindowDays)
            }.map(\.id)
            outcome.birthdays += birthdays.count
            if !birthdays.isEmpty { outcome.risksWritten += try await recomputeRisks(birthdays, door: door) }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return outcome
    }

    /// Each risk score of `patients`, through its consumer's principal; returns how many were rewritten.
    func recomputeRisks(_ patients: [String], door: Door) async throws -> Int {
        var written = 0
        for risk in risks {
            written += try await door.scheduledPass("prevention.daily.\(risk.name)", principal: risk.principal) { guarded -> Int in
                let entries = try await risk.entries(for: patients, guarded: guarded)
                if let bundle = PreventionSettings.transaction(entries) {
                    var writer = guarded
                    writer.provenanceTemplate = risk.provenance(reason: "Recalculado porque cambió su edad / recomputed because their age changed")
                    _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:consumer:prevention.daily", maxEntries: 10_000))
                }
                return entries.count
            }
        }
        return written
    }
}
