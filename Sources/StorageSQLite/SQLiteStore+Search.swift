import FHIR
import Foundation
import GRDB
import Storage

extension SQLValue: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue {
        switch self {
        case .text(let s): return s.databaseValue
        case .integer(let i): return i.databaseValue
        case .real(let d): return d.databaseValue
        }
    }

    public static func fromDatabaseValue(_ dbValue: DatabaseValue) -> SQLValue? {
        switch dbValue.storage {
        case .string(let s): return .text(s)
        case .int64(let i): return .integer(i)
        case .double(let d): return .real(d)
        default: return nil
        }
    }
}

extension SQLiteStore.Connection {
    static let sql = SearchSQL(dialect: .sqlite)

    /// Limits on includes, so a hostile `_include:iterate` cannot make a page unbounded.
    static let maxIncludeRounds = 4
    static let maxIncluded = 1000

    func search(_ query: SearchQuery) throws -> SearchResult {
        let sql = Self.sql
        var total: Int?
        if query.total != .none || query.countOnly {
            var args: [SQLValue] = []
            let countSQL = try sql.countQuery(query, args: &args)
            total = try Int.fetchOne(db, sql: countSQL, arguments: StatementArguments(args)) ?? 0
        }
        if query.countOnly || query.count == 0 {
            return SearchResult(matches: [], included: [], total: total, sortValues: [], hasMore: false, hasPrevious: false)
        }
        var args: [SQLValue] = []
        let pageSQL = try sql.pageQuery(query, args: &args)
        var rows = try Row.fetchAll(db, sql: pageSQL, arguments: StatementArguments(args))
        let extra = rows.count > query.count
        if extra { rows.removeLast() }
        let backwards = query.cursor?.direction == .previous
        if backwards { rows.reverse() }
        var matches: [StoredResource] = []
        var sortValues: [[SortValue]] = []
        for row in rows {
            matches.append(resource(from: row))
            sortValues.append(query.sort.indices.map { i in
                let v: DatabaseValue = row["k\(i)"]
                switch v.storage {
                case .string(let s): return .text(s)
                case .int64(let n): return .number(Double(n))
                case .double(let d): return .number(d)
                default: return sql.isTextKey(query.sort[i]) ? .text("") : .number(-1.0e300)
                }
            })
        }
        let included = try includes(for: matches, query: query)
        return SearchResult(matches: matches, included: included, total: total, sortValues: sortValues,
                            hasMore: backwards ? true : extra, hasPrevious: backwards ? extra : query.cursor != nil)
    }

    func resource(from row: Row) -> StoredResource { Self.stored(row) }

    func matchingKeys(_ query: SearchQuery, limit: Int) throws -> [ResourceKey] {
        var args: [SQLValue] = []
        let whereSQL = try Self.sql.whereClause(query, alias: "r", args: &args)
        args.append(.integer(Int64(limit)))
        return try Row.fetchAll(db, sql: "SELECT r.type, r.id FROM resource r WHERE \(whereSQL) ORDER BY r.type, r.id LIMIT ?",
                                arguments: StatementArguments(args)).map { ResourceKey(type: $0["type"], id: $0["id"]) }
    }

    /// Current, non-deleted resources by key.
    func currentResources(_ keys: [ResourceKey]) throws -> [StoredResource] {
        var out: [StoredResource] = []
        for chunk in stride(from: 0, to: keys.count, by: 200).map({ Array(keys[$0..<min($0 + 200, keys.count)]) }) {
            let tuples = chunk.map { _ in "(?, ?)" }.joined(separator: ", ")
            var args: StatementArguments = []
            for k in chunk { args += [k.type, k.id] }
            out += try Row.fetchAll(db, sql: """
                SELECT v.type, v.id, v.version, v.last_updated, v.deleted, v.compartments, v.body, v.labels
                FROM resource r JOIN resource_version v ON v.seq = r.seq
                WHERE r.deleted = 0 AND (r.type, r.id) IN (VALUES \(tuples))
                """, arguments: args).map(resource(from:))
        }
        return out.sorted { ($0.type, $0.id) < ($1.type, $1.id) }
    }

    /// `_include` and `_revinclude`, with `:iterate` (https://hl7.org/fhir/R4/search.html#include).
    func includes(for matches: [StoredResource], query: SearchQuery) throws -> [StoredResource] {
        guard !(query.includes.isEmpty && query.revIncludes.isEmpty), !matches.isEmpty else { return [] }
        var seen = Set(matches.map { ResourceKey(type: $0.type, id: $0.id) })
        var included: [StoredResource] = []
        var frontier = Array(seen)
        var round = 0
        while !frontier.isEmpty, round < Self.maxIncludeRounds, included.count < Self.maxIncluded {
            var found = Set<ResourceKey>()
            for spec in query.includes where round == 0 || spec.iterate {
                for key in frontier where spec.sourceType == "*" || spec.sourceType == key.type {
                    var sql = "SELECT s.system, s.value FROM search_reference s WHERE s.type = ? AND s.id = ? AND s.system <> ''"
                    var args: StatementArguments = [key.type, key.id]
                    if spec.parameter != "*" { sql += " AND s.param = ?"; args += [spec.parameter] }
                    if let t = spec.targetType { sql += " AND s.system = ?"; args += [t] }
                    for row in try Row.fetchAll(db, sql: sql, arguments: args) {
                        found.insert(ResourceKey(type: row["system"], id: row["value"]))
                    }
                }
            }
            for spec in query.revIncludes where round == 0 || spec.iterate {
                for key in frontier {
                    if let t = spec.targetType, t != key.type { continue }
                    var sql = "SELECT s.type, s.id FROM search_reference s WHERE s.system = ? AND s.value = ?"
                    var args: StatementArguments = [key.type, key.id]
                    if spec.sourceType != "*" { sql += " AND s.type = ?"; args += [spec.sourceType] }
                    if spec.parameter != "*" { sql += " AND s.param = ?"; args += [spec.parameter] }
                    sql += " LIMIT \(Self.maxIncluded)"
                    for row in try Row.fetchAll(db, sql: sql, arguments: args) {
                        found.insert(ResourceKey(type: row["type"], id: row["id"]))
                    }
                }
            }
            var new = found.subtracting(seen).sorted()
            if let allowed = query.includeTypes { new = new.filter { allowed.contains($0.type) } }
            seen.formUnion(new)
            let loaded = try currentResources(Array(new.prefix(Self.maxIncluded - included.count)))
            included += loaded
            frontier = loaded.map { ResourceKey(type: $0.type, id: $0.id) }
            round += 1
        }
        return included
    }
}
