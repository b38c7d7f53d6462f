import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Aggregates computed by the database through the guard (`Storage/Aggregates.swift`), for
/// `Observation/$stats` (docs/monitoring.md): the decision is applied like a search's — the
/// scopes and the role must allow searching the type, and the visibility is compiled into the
/// SQL, so a hidden resource is neither counted nor summed.
extension GuardedRepository {
    /// What the database says about one quantity of the matches of searches (each query's
    /// visibility set from the decision): counts of queries, joined index rows, the aggregate
    /// and order statistics. nil when the backend has no aggregate SQL.
    public struct Aggregates: Sendable {
        public var counts: [Int]
        public var indexRows: Int
        public var aggregate: QuantityAggregate
        public var ranks: [Int: Double]
    }

    /// Runs, in one read: the count of each of `counting`; the rows of the token `codeParameter`
    /// and the quantity aggregate of `parameter` (with the first/last of `time`) over `query`'s
    /// matches; then the values at `ranks` (0-based, ascending order) when `ranks` gives them
    /// for the count found (`ranks(count)`). `patient` (an id) is the patient the audit entry
    /// records as concerned.
    /// - Throws: 403 like `search` when the scopes or the role do not allow searching the type.
    public func aggregates(_ query: SearchQuery, patient: String?, counting: [SearchQuery], codeParameter: String, parameter: String, time: String?,
                           ranks: @escaping @Sendable (Int) -> [Int]) async throws -> Aggregates? {
        for q in [query] + counting {
            for t in q.types { try Repository.checkType(t) }
            for t in q.types { try require(.search, on: t) }
        }
        if let patient { audit?.concerns(patient) }
        var main = query
        main.visibility = decision.visibility
        let others = counting.map { q -> SearchQuery in
            var q = q
            q.visibility = decision.visibility
            return q
        }
        let m = main
        return try await repository.store.read { reader -> Aggregates? in
            guard let a = reader as? any AggregateReader else { return nil }
            let counts = try others.map { try a.count($0) }
            let rows = try a.indexRows(m, kind: .token, parameter: codeParameter)
            let aggregate = try a.quantityAggregate(m, parameter: parameter, time: time)
            let wanted = ranks(aggregate.count)
            let values = wanted.isEmpty ? [:] : try a.quantityRanks(m, parameter: parameter, ranks: wanted)
            return Aggregates(counts: counts, indexRows: rows, aggregate: aggregate, ranks: values)
        }
    }
}
