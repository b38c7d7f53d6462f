import FHIR
import Foundation

/// Numeric aggregates of one quantity search parameter over the matches of a search, computed by
/// the database (both dialects) with the query's visibility compiled into its SQL like any
/// search (`SearchSQL.whereClause`): what a decision hides is neither counted nor summed.
/// Used by `Observation/$stats` (docs/monitoring.md).
///
/// The value of a quantity row is the middle of its indexed range (`(low + high) / 2`, the number
/// as written up to the last bit of a double).
public struct QuantityAggregate: Sendable, Equatable {
    /// Matching resources with a row of the parameter (one row each, see `rows`).
    public var count: Int
    /// Rows of the parameter joined to the matches (more than `count` when a resource has two).
    public var rows: Int
    /// Σv, Σv², Σv³, Σv⁴.
    public var sums: [Double]
    public var minimum: Double?
    public var maximum: Double?
    /// The smallest and largest unit codes (equal when every row has the same unit).
    public var unitLow: String?
    public var unitHigh: String?
    /// Earliest and latest `low` of the time parameter (milliseconds since 1970), if asked.
    public var firstMillis: Double?
    public var lastMillis: Double?

    public init(count: Int, rows: Int, sums: [Double], minimum: Double?, maximum: Double?, unitLow: String?, unitHigh: String?,
                firstMillis: Double?, lastMillis: Double?) {
        self.count = count
        self.rows = rows
        self.sums = sums
        self.minimum = minimum
        self.maximum = maximum
        self.unitLow = unitLow
        self.unitHigh = unitHigh
        self.firstMillis = firstMillis
        self.lastMillis = lastMillis
    }
}

/// A backend's reader that runs aggregate SQL (SQLite and PostgreSQL readers both are).
public protocol AggregateReader {
    /// The dialect's SQL compiler.
    var aggregateSQL: SearchSQL { get }
    /// Runs `sql` (`?` placeholders) and returns each row's cells as text (nil for NULL); numbers
    /// are cast to text by the SQL so both drivers read them alike.
    func aggregateRows(_ sql: String, _ args: [SQLValue]) throws -> [[String?]]
}

extension AggregateReader {
    /// The number of matches of `query` (its visibility compiled in).
    public func count(_ query: SearchQuery) throws -> Int {
        var args: [SQLValue] = []
        let sql = try aggregateSQL.countQuery(query, args: &args)
        return Int(try aggregateRows("SELECT CAST((\(sql)) AS \(textType))", args).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// Rows of the index `kind` whose `param` is `parameter`, joined to the matches of `query`.
    public func indexRows(_ query: SearchQuery, kind: IndexEntry.Kind, parameter: String) throws -> Int {
        var args: [SQLValue] = []
        let whereSQL = try aggregateSQL.whereClause(query, alias: "r", args: &args)
        args.append(.text(parameter))
        let sql = """
            SELECT CAST(COUNT(*) AS \(textType)) FROM resource r JOIN \(SearchSQL.table(kind)) s
              ON s.patient_key = r.patient_key AND s.type = r.type AND s.id = r.id
            WHERE \(whereSQL) AND s.param = ?
            """
        return Int(try aggregateRows(sql, args).first?.first.flatMap { $0 } ?? "0") ?? 0
    }

    /// Count, sums of powers, minimum, maximum and units of the quantity `parameter` of the
    /// matches of `query`, and the first and last `time` parameter (a date parameter) when given.
    public func quantityAggregate(_ query: SearchQuery, parameter: String, time: String?) throws -> QuantityAggregate {
        var args: [SQLValue] = []
        let whereSQL = try aggregateSQL.whereClause(query, alias: "r", args: &args)
        let v = "((q.low + q.high) / 2.0)"
        let real = aggregateSQL.dialect == .postgres ? "double precision" : "REAL"
        var timeJoin = ""
        var joinArgs: [SQLValue] = [.text(parameter)]
        if let time {
            timeJoin = " LEFT JOIN search_date d ON d.patient_key = r.patient_key AND d.type = r.type AND d.id = r.id AND d.param = ?"
            joinArgs.append(.text(time))
        }
        let t = time == nil ? "NULL" : "d.low"
        let sql = """
            SELECT CAST(COUNT(DISTINCT r.id) AS \(textType)), CAST(COUNT(*) AS \(textType)),
                   \(number("SUM(\(v))")), \(number("SUM(\(v) * \(v))")), \(number("SUM(\(v) * \(v) * \(v))")),
                   \(number("SUM(\(v) * \(v) * \(v) * \(v))")), \(number("MIN(\(v))")), \(number("MAX(\(v))")),
                   MIN(q.value), MAX(q.value), \(number("MIN(CAST(\(t) AS \(real)))")), \(number("MAX(CAST(\(t) AS \(real)))"))
            FROM resource r JOIN search_quantity q ON q.patient_key = r.patient_key AND q.type = r.type AND q.id = r.id AND q.param = ?\(timeJoin)
            WHERE \(whereSQL)
            """
        let row = try aggregateRows(sql, joinArgs + args).first ?? []
        func cell(_ i: Int) -> String? { i < row.count ? row[i] : nil }
        func double(_ i: Int) -> Double? { cell(i).flatMap(Double.init) }
        return QuantityAggregate(count: Int(cell(0) ?? "0") ?? 0, rows: Int(cell(1) ?? "0") ?? 0,
                                 sums: (2...5).map { double($0) ?? 0 }, minimum: double(6), maximum: double(7),
                                 unitLow: cell(8), unitHigh: cell(9), firstMillis: double(10), lastMillis: double(11))
    }

    /// The `k`-th smallest values (0-based, each k in `ranks`) of the quantity `parameter` of the
    /// matches of `query`: one `ORDER BY … LIMIT 1 OFFSET k` each.
    public func quantityRanks(_ query: SearchQuery, parameter: String, ranks: [Int]) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for k in Set(ranks).sorted() {
            var args: [SQLValue] = [.text(parameter)]
            let whereSQL = try aggregateSQL.whereClause(query, alias: "r", args: &args)
            args.append(.integer(Int64(k)))
            let v = "((q.low + q.high) / 2.0)"
            let sql = """
                SELECT \(number(v)) FROM resource r JOIN search_quantity q
                  ON q.patient_key = r.patient_key AND q.type = r.type AND q.id = r.id AND q.param = ?
                WHERE \(whereSQL) ORDER BY \(v) LIMIT 1 OFFSET ?
                """
            if let s = try aggregateRows(sql, args).first?.first, let s, let d = Double(s) { out[k] = d }
        }
        return out
    }

    var textType: String { "TEXT" }

    /// A double as text that reads back to the same double (PostgreSQL's `float8` text output is
    /// shortest-exact since version 12; SQLite's `printf('%!.17g')` keeps 17 digits).
    func number(_ expression: String) -> String {
        aggregateSQL.dialect == .postgres ? "CAST(\(expression) AS TEXT)"
            : "CASE WHEN (\(expression)) IS NULL THEN NULL ELSE printf('%!.17g', \(expression)) END"
    }
}
