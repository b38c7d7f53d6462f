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
}
