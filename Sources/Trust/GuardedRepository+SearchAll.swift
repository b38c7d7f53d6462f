import FHIR
import Foundation
@_spi(Unguarded) import Storage

extension GuardedRepository {
    /// Every current resource of `type` matching `parameters` that this principal may see,
    /// following the search cursor page after page: the one way the domain modules read "all of
    /// them" through the door (each page is authorised, filtered and audited like any search).
    ///
    /// - Parameters:
    ///   - parameters: FHIR search parameters; a `_sort` among them orders the pages (default:
    ///     the store's order). `_count` and `_total` are set here.
    ///   - pageSize: resources per page; by default `limit`, at most 1000 (so a search for the
    ///     first match reads one page of one).
    ///   - limit: stops after the page that reaches `limit` resources (whole pages are kept, so
    ///     the result may hold up to `pageSize - 1` more; callers that need exactly `limit` cut it).
    public func searchAll(_ type: String, _ parameters: [(String, String)], pageSize: Int? = nil,
                          limit: Int = 1_000_000) async throws -> [StoredResource] {
        let pageSize = Swift.max(1, pageSize ?? Swift.min(limit, 1000))
        var options = SearchParser.Options()
        options.maxCount = Swift.max(options.maxCount, pageSize)
        let own: Set<String> = ["_count", "_total"]
        var (query, _) = try SearchParser(options: options).parse(
            types: [type], parameters: parameters.filter { !own.contains($0.0) } + [("_count", String(pageSize)), ("_total", "none")])
        query.count = pageSize
        var out: [StoredResource] = []
        while out.count < limit {
            let page = try await search(query)
            out += page.matches.filter { !$0.deleted }
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        return out
    }
}
