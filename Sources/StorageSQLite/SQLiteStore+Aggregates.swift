import GRDB
@_spi(Unguarded) import Storage

/// Aggregate SQL on SQLite (`Storage/Aggregates.swift`).
extension SQLiteStore.Connection: AggregateReader {
    var aggregateSQL: SearchSQL { Self.sql }

    func aggregateRows(_ sql: String, _ args: [SQLValue]) throws -> [[String?]] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
            (0..<row.count).map { i in
                let v: DatabaseValue = row[i]
                switch v.storage {
                case .null: return nil
                case .string(let s): return s
                case .int64(let n): return String(n)
                case .double(let d): return "\(d)"
                case .blob(let b): return String(decoding: b, as: UTF8.self)
                }
            }
        }
    }
}
