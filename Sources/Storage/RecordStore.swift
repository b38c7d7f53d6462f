/// Small keyed records that are not FHIR resources: user credentials, registered SMART
/// clients, authorization codes, refresh tokens, revoked token ids. Kept in the same database
/// (and transactions) as the record, so one backup holds everything.
public protocol RecordReader {
    /// The value stored under (`kind`, `key`), or nil.
    func record(_ kind: String, _ key: String) throws -> [UInt8]?
    /// Every record of `kind`, ordered by key.
    func records(_ kind: String) throws -> [(key: String, value: [UInt8])]
}

public protocol RecordWriter: RecordReader {
    /// Stores `value` under (`kind`, `key`), replacing what was there; nil deletes it.
    func putRecord(_ kind: String, _ key: String, _ value: [UInt8]?) throws
    /// Deletes the record under (`kind`, `key`) and returns what it held, or nil when there was
    /// none — one statement (`DELETE … RETURNING`), so of two transactions taking the same record
    /// (on one node or several) exactly one gets it (e.g. a single-use binding token,
    /// docs/subscriptions.md "The websocket channel").
    func takeRecord(_ kind: String, _ key: String) throws -> [UInt8]?
}

extension RecordWriter {
    /// Read, then delete: atomic only because every write transaction is serialised (SQLite's one
    /// writer, PostgreSQL's writers' lock). The backends answer with one `DELETE … RETURNING`.
    public func takeRecord(_ kind: String, _ key: String) throws -> [UInt8]? {
        guard let value = try record(kind, key) else { return nil }
        try putRecord(kind, key, nil)
        return value
    }
}
