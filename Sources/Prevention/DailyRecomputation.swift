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
public struct DailyRecomputation: Sendable {
    public let consumer: RecommendationsConsumer
    /// Patients per page (one read of the Patient list, one transaction).
    public var pageSize: Int
    /// Most patients one pass visits.
    public var maxPatients: Int

    public init(settings: PreventionSettings, pageSize: Int = 200, maxPatients: Int = 200_000) {
        self.consumer = RecommendationsConsumer(settings: settings)
        self.pageSize = pageSize
        self.maxPatients = maxPatients
    }

    /// What one pass did.
    public struct Outcome: Sendable, Equatable {
        public var patients = 0
        public var written = 0
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
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return outcome
    }
}
