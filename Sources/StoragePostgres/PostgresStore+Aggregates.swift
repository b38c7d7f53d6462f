import PostgresNIO
@_spi(Unguarded) import Storage

/// Aggregate SQL on PostgreSQL (`Storage/Aggregates.swift`).
extension Transaction: AggregateReader {
    var aggregateSQL: SearchSQL { Self.sql }

    func aggregateRows(_ sql: String, _ args: [SQLValue]) throws -> [[String?]] {
        try query(sql, args.map(PGValue.init)).map { row in
            Array(row).map { cell in try? cell.decode(String?.self) ?? nil }
        }
    }
}
