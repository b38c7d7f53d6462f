import FHIR
import Foundation
import PostgresNIO
@_spi(Unguarded) import Storage

/// Search (https://hl7.org/fhir/R4/search.html) with the SQL the shared compiler emits for
/// `Dialect.postgres` (the same plan SQLite runs), `?` renumbered to `$n` by the session.
extension Transaction: IncludeSource {
    static let sql = SearchSQL(dialect: .postgres)

    func search(_ q: SearchQuery) throws -> SearchResult {
        let sql = Self.sql
        var total: Int?
        if q.total != .none || q.countOnly {
            var args: [SQLValue] = []
            let countSQL = try sql.countQuery(q, args: &args)
            total = try query(countSQL, args.map(PGValue.init)).first.map { try $0.int(0) } ?? 0
        }
        if q.countOnly || q.count == 0 {
            return SearchResult(matches: [], included: [], total: total, sortValues: [], hasMore: false, hasPrevious: false)
        }
        var args: [SQLValue] = []
        let pageSQL = try sql.pageQuery(q, args: &args)
        var rows = try query(pageSQL, args.map(PGValue.init))
        let extra = rows.count > q.count
        if extra { rows.removeLast() }
        let backwards = q.cursor?.direction == .previous
        if backwards { rows.reverse() }
        var matches: [StoredResource] = []
        var sortValues: [[SortValue]] = []
        let keys = q.sort.count
        for row in rows {
            // m.type, m.id, m.seq, k0…, v.version, v.last_updated, v.deleted, v.compartments, v.body
            let cells = Array(row)
            let compartments = try cells[3 + keys + 3].decode(String.self)
            var body = try cells[3 + keys + 4].decode(ByteBuffer.self)
            matches.append(StoredResource(type: try cells[0].decode(String.self), id: try cells[1].decode(String.self),
                                          version: try cells[3 + keys].decode(Int.self),
                                          lastUpdated: Timestamp(microseconds: try cells[3 + keys + 1].decode(Int64.self)),
                                          deleted: try cells[3 + keys + 2].decode(Int.self) != 0,
                                          body: body.readBytes(length: body.readableBytes) ?? [],
                                          compartments: compartments.isEmpty ? [] : compartments.split(separator: " ").map(String.init),
                                          labels: try cells[3 + keys + 5].decode(String.self).split(separator: " ").map(String.init)))
            sortValues.append(try q.sort.indices.map { i in try sortValue(cells[3 + i], text: sql.isTextKey(q.sort[i])) })
        }
        let included = try Includes.resolve(for: matches, query: q, source: self)
        return SearchResult(matches: matches, included: included, total: total, sortValues: sortValues,
                            hasMore: backwards ? true : extra, hasPrevious: backwards ? extra : q.cursor != nil)
    }

    func sortValue(_ cell: PostgresCell, text: Bool) throws -> SortValue {
        if cell.bytes == nil { return text ? .text("") : .number(-1.0e300) }
        switch cell.dataType {
        case .text, .varchar, .name, .bpchar: return .text(try cell.decode(String.self))
        case .int8, .int4, .int2: return .number(Double(try cell.decode(Int64.self)))
        case .float8, .float4: return .number(try cell.decode(Double.self))
        case .numeric:
            let d = try cell.decode(Decimal.self)
            return .number(NSDecimalNumber(decimal: d).doubleValue)
        default: return .text(try cell.decode(String.self))
        }
    }

    func matchingKeys(_ q: SearchQuery, limit: Int) throws -> [ResourceKey] {
        var args: [SQLValue] = []
        let whereSQL = try Self.sql.whereClause(q, alias: "r", args: &args)
        args.append(.integer(Int64(limit)))
        return try query("SELECT r.type, r.id FROM resource r WHERE \(whereSQL) ORDER BY r.type, r.id LIMIT ?", args.map(PGValue.init))
            .map { ResourceKey(type: try $0.string(0), id: try $0.string(1)) }
    }

    /// Current, non-deleted resources by key.
    func currentResources(_ keys: [ResourceKey]) throws -> [StoredResource] {
        var out: [StoredResource] = []
        for start in stride(from: 0, to: keys.count, by: 500) {
            let chunk = keys[start..<min(start + 500, keys.count)]
            let tuples = chunk.map { _ in "(?, ?)" }.joined(separator: ", ")
            var args: [PGValue] = []
            for k in chunk { args += [.text(k.type), .text(k.id)] }
            out += try query("""
                SELECT \(Transaction.columns) FROM resource r
                JOIN resource_version v ON v.patient_key = r.patient_key AND v.type = r.type AND v.id = r.id AND v.version = r.version
                WHERE r.deleted = 0 AND (r.type, r.id) IN (VALUES \(tuples))
                """, args).map { try entry($0).resource }
        }
        return out.sorted { ($0.type, $0.id) < ($1.type, $1.id) }
    }

    /// `_include` and `_revinclude`, with `:iterate` (https://hl7.org/fhir/R4/search.html#include).
    func referenceTargets(from key: ResourceKey, parameter: String?, targetType: String?) throws -> [ResourceKey] {
        var sql = "SELECT s.system, s.value FROM search_reference s WHERE s.type = ? AND s.id = ? AND s.system <> ''"
        var args: [PGValue] = [.text(key.type), .text(key.id)]
        if let parameter { sql += " AND s.param = ?"; args.append(.text(parameter)) }
        if let targetType { sql += " AND s.system = ?"; args.append(.text(targetType)) }
        return try query(sql, args).map { ResourceKey(type: try $0.string(0), id: try $0.string(1)) }
    }

    func referenceSources(to key: ResourceKey, sourceType: String?, parameter: String?, limit: Int) throws -> [ResourceKey] {
        var sql = "SELECT s.type, s.id FROM search_reference s WHERE s.system = ? AND s.value = ?"
        var args: [PGValue] = [.text(key.type), .text(key.id)]
        if let sourceType { sql += " AND s.type = ?"; args.append(.text(sourceType)) }
        if let parameter { sql += " AND s.param = ?"; args.append(.text(parameter)) }
        sql += " LIMIT ?"
        args.append(.int(Int64(limit)))
        return try query(sql, args).map { ResourceKey(type: try $0.string(0), id: try $0.string(1)) }
    }
}
