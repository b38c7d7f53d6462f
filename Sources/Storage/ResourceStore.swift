import FHIR

/// One stored version of a resource, as the backends keep it.
public struct StoredResource: Sendable, Equatable {
    public var type: String
    public var id: String
    /// 1, 2, 3… per resource (`meta.versionId`).
    public var version: Int
    /// Server time of this version, UTC (`meta.lastUpdated`).
    public var lastUpdated: Timestamp
    /// A delete leaves a version with `deleted == true` and no content.
    public var deleted: Bool
    /// The resource JSON with `id` and `meta` set by the server (empty for a delete).
    public var body: [UInt8] { didSet { parsed = nil } }
    /// `body` as JSON when this version was just prepared from it (not stored, not compared):
    /// the write path's rules and Provenance read it without parsing the bytes again.
    var parsed: JSON?
    /// The ids of the patients whose compartment holds this version (Patient compartment,
    /// https://hl7.org/fhir/R4/compartmentdefinition-patient.html). Empty for shared data.
    public var compartments: [String]
    /// The `meta.security` codes of this version (sensitivity labels the access rules act on).
    public var labels: [String]

    public init(type: String, id: String, version: Int, lastUpdated: Timestamp, deleted: Bool, body: [UInt8], compartments: [String],
                labels: [String] = []) {
        self.type = type
        self.id = id
        self.version = version
        self.lastUpdated = lastUpdated
        self.deleted = deleted
        self.body = body
        self.compartments = compartments
        self.labels = labels
    }

    /// The patient-compartment key a distributed deployment shards by: the first patient, or
    /// the empty string for shared data.
    public var patientKey: String { compartments.first ?? "" }

    public func json() throws -> JSON { try parsed ?? JSONParser.parse(body) }

    /// This version with its body's JSON kept beside the bytes (`body` must be `json.serialized()`).
    func keeping(_ json: JSON) -> StoredResource {
        var copy = self
        copy.parsed = json
        return copy
    }

    public static func == (a: StoredResource, b: StoredResource) -> Bool {
        a.type == b.type && a.id == b.id && a.version == b.version && a.lastUpdated == b.lastUpdated && a.deleted == b.deleted
            && a.body == b.body && a.compartments == b.compartments && a.labels == b.labels
    }
}

/// One row of a search index, extracted from a resource on write
/// (https://hl7.org/fhir/R4/search.html). Which fields carry what depends on `kind`:
///
/// | kind      | system                | value                          | text                          | low / high                     |
/// |-----------|-----------------------|--------------------------------|-------------------------------|--------------------------------|
/// | token     | coding/identifier system ("" if none) | code / identifier value / boolean "true" | normalized display or CodeableConcept.text (for `:text`) | — |
/// | string    | —                     | `SearchText.normalize`d value  | the exact original (for `:exact`) | —                          |
/// | reference | target type ("" unknown) | target id (or the whole URL/canonical if not Type/id) | the reference as written | — |
/// | date      | —                     | —                              | —                             | DateRange ms, inclusive        |
/// | number    | —                     | the number as written          | —                             | value ± half its precision     |
/// | quantity  | system                | code (or unit when no code)    | unit                          | value ± half its precision     |
/// | uri       | —                     | the uri                        | —                             | —                              |
/// | composite | —                     | —                              | —                             | — (see `components`)           |
public struct IndexEntry: Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable { case token, string, reference, date, number, quantity, uri, composite }
    public var parameter: String
    public var kind: Kind
    public var system: String
    public var value: String
    public var text: String
    public var low: Double?
    public var high: Double?
    /// For `composite`: one entry per component, in the SearchParameter's component order
    /// (their `parameter` is the component's code).
    public var components: [IndexEntry]

    public init(parameter: String, kind: Kind, system: String = "", value: String = "", text: String = "",
                low: Double? = nil, high: Double? = nil, components: [IndexEntry] = []) {
        self.parameter = parameter
        self.kind = kind
        self.system = system
        self.value = value
        self.text = text
        self.low = low
        self.high = high
        self.components = components
    }
}

/// What a history interaction covers (https://hl7.org/fhir/R4/http.html#history).
public enum HistoryScope: Sendable, Equatable {
    case system
    case type(String)
    case instance(String, String)

    /// The resource types the scope covers.
    public var types: [String] {
        switch self {
        case .system: return Definitions.r4.resourceTypes
        case .type(let t), .instance(let t, _): return [t]
        }
    }
}

/// A position in a history listing: versions are listed newest first, by a monotonically
/// increasing sequence number the store assigns to every version it writes, so a page boundary
/// stays correct while new versions arrive.
public struct HistoryQuery: Sendable, Equatable {
    public var scope: HistoryScope
    /// Only versions with `lastUpdated >= since`.
    public var since: Timestamp?
    /// What the asker may see (set by the access decision): versions of shared types or whose
    /// patient key is one of the patients, without hidden labels.
    public var visibility: Visibility?
    /// Only versions written before this sequence number (exclusive), for the next page.
    public var beforeSequence: Int64?
    public var count: Int

    public init(scope: HistoryScope, since: Timestamp? = nil, beforeSequence: Int64? = nil, count: Int) {
        self.scope = scope
        self.since = since
        self.beforeSequence = beforeSequence
        self.count = count
    }
}

public struct HistoryEntry: Sendable, Equatable {
    public var sequence: Int64
    public var resource: StoredResource

    public init(sequence: Int64, resource: StoredResource) {
        self.sequence = sequence
        self.resource = resource
    }
}

/// A token lookup the stores answer directly, without the search compiler: resources of `type`
/// with an index row (`parameter`, system, code). Used by the conformance suite to check the
/// token index itself.
public struct TokenMatch: Sendable, Equatable {
    public var parameter: String
    /// nil: any system; "": no system.
    public var system: String?
    public var code: String?

    public init(parameter: String, system: String?, code: String?) {
        self.parameter = parameter
        self.system = system
        self.code = code
    }
}

/// Errors a backend raises; the repository turns them into FHIR errors.
public enum StoreError: Error, Sendable, Equatable {
    /// Another writer produced this version first (optimistic concurrency across nodes).
    case versionConflict(type: String, id: String, version: Int)
    /// The database failed; `message` never contains resource content.
    case database(String)
    /// The disk under the database is full (SQLite `SQLITE_FULL`, PostgreSQL `53100 disk_full`):
    /// the write was not applied, and writes succeed again once space is freed.
    case storageFull(String)
    /// The database has not been answering and the backend is not trying it again for
    /// `retryAfterSeconds` (PostgreSQL's circuit breaker): nothing was read or changed.
    case unavailable(String, retryAfterSeconds: Int)
}

/// Read access to stored versions. Implementations are synchronous and run inside the
/// store's transaction: everything read through one reader is one consistent snapshot.
public protocol StoreReader: AuditReader, RecordReader {
    /// The newest version of a resource (which may be a delete), or nil if never stored.
    func current(_ type: String, _ id: String) throws -> StoredResource?
    /// One version, or nil.
    func version(_ type: String, _ id: String, _ version: Int) throws -> StoredResource?
    /// Versions newest first, at most `query.count`.
    func history(_ query: HistoryQuery) throws -> [HistoryEntry]
    /// How many versions the history scope holds (for `Bundle.total`).
    func historyCount(_ scope: HistoryScope, since: Timestamp?, visibility: Visibility?) throws -> Int
    /// Ids of current, non-deleted resources of `type` that have every one of the token rows.
    func find(_ type: String, tokens: [TokenMatch], limit: Int) throws -> [String]
    /// One page of a search, with its includes and (if asked) the total
    /// (https://hl7.org/fhir/R4/search.html).
    func search(_ query: SearchQuery) throws -> SearchResult
    /// Ids of current resources matching the filters (no paging), at most `limit`: for
    /// conditional update/delete and `$everything`.
    func matchingKeys(_ query: SearchQuery, limit: Int) throws -> [ResourceKey]
    /// The event outbox (docs/architecture.md#the-event-outbox): the versions committed after
    /// `position`, in commit order, at most `limit`. Only versions whose transaction is finished
    /// for every writer are listed, so a consumer that advances its cursor past them never skips
    /// a version that commits later.
    func events(after position: OutboxPosition, limit: Int) throws -> [OutboxEvent]
    /// The position after the newest committed version (where a new consumer starts when it
    /// wants only what happens from now on).
    func latestEventPosition() throws -> OutboxPosition
    /// The position of the newest version this transaction's snapshot sees committed, whether or
    /// not `events(after:)` lists it yet (on PostgreSQL a version waits below the outbox barrier
    /// while an older writer is still running). `Door.catchUp` runs a consumer until its cursor
    /// has passed it: everything committed before the call has then been seen.
    func newestCommittedEventPosition() throws -> OutboxPosition
}

/// A place in the event outbox. `transaction` orders versions by the writing transaction where a
/// backend needs it to list them in an order no later commit can fall behind (PostgreSQL: the
/// transaction id; SQLite, with one writer: 0), `sequence` by the version's own sequence number.
public struct OutboxPosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var transaction: Int64
    public var sequence: Int64

    public init(transaction: Int64 = 0, sequence: Int64 = 0) {
        self.transaction = transaction
        self.sequence = sequence
    }

    /// Before every event.
    public static let start = OutboxPosition()

    public static func < (a: OutboxPosition, b: OutboxPosition) -> Bool {
        (a.transaction, a.sequence) < (b.transaction, b.sequence)
    }

    /// `transaction.sequence`, how a cursor is stored.
    public var description: String { "\(transaction).\(sequence)" }

    public init?(_ text: String) {
        let parts = text.split(separator: ".")
        guard parts.count == 2, let t = Int64(parts[0]), let s = Int64(parts[1]) else { return nil }
        self.init(transaction: t, sequence: s)
    }
}

/// One committed version, as the outbox lists it: what was written, never its content (a
/// consumer reads the content through its own guarded repository).
public struct OutboxEvent: Sendable, Equatable {
    public var position: OutboxPosition
    public var type: String
    public var id: String
    public var version: Int
    public var deleted: Bool
    public var lastUpdated: Timestamp
    /// The patients whose compartment holds the version.
    public var compartments: [String]
    public var labels: [String]

    public init(position: OutboxPosition, type: String, id: String, version: Int, deleted: Bool, lastUpdated: Timestamp,
                compartments: [String], labels: [String]) {
        self.position = position
        self.type = type
        self.id = id
        self.version = version
        self.deleted = deleted
        self.lastUpdated = lastUpdated
        self.compartments = compartments
        self.labels = labels
    }

    /// `create`, `update` or `delete`, as the Subscriptions backport names interactions.
    public var interaction: String { deleted ? "delete" : (version == 1 ? "create" : "update") }
    public var reference: String { "\(type)/\(id)" }
}

/// A resource's identity.
public struct ResourceKey: Sendable, Hashable, Comparable {
    public var type: String
    public var id: String
    public init(type: String, id: String) {
        self.type = type
        self.id = id
    }
    public static func < (a: ResourceKey, b: ResourceKey) -> Bool { (a.type, a.id) < (b.type, b.id) }
}

/// A write transaction: what it writes becomes visible and durable together at commit, or not at all.
public protocol StoreTransaction: StoreReader, AuditWriter, RecordWriter {
    /// Appends `resource` as a new version and makes it current, replacing the index rows of
    /// the resource with `index`. Throws `StoreError.versionConflict` if that version exists.
    func put(_ resource: StoredResource, index: [IndexEntry]) throws
    /// Runs `body` inside an SQL savepoint: if it throws, what it wrote is undone and the
    /// transaction goes on (a batch Bundle's entries share one transaction this way). A database
    /// failure inside still fails the whole transaction.
    func savepoint<T>(_ body: () throws -> T) throws -> T
}

/// A storage backend: embedded SQLite (a file, or memory for tests) or PostgreSQL.
///
/// Guarantees every backend must give (and the conformance suite checks): a `write` commits
/// atomically and durably before it returns (acknowledged means on disk); a failed `write`
/// leaves nothing behind; readers see committed data only.
///
/// `read` and `write` are `@_spi(Unguarded)`: only a module that imports Storage with
/// `@_spi(Unguarded) import Storage` can call them — the backends and Trust, whose door is the
/// only way from a request to the data (docs/access.md, "The door"). Server, the CLI and the
/// domain modules can hold a store (to hand it to the door) but cannot run a query on it.
public protocol ResourceStore: Sendable {
    /// Runs `body` in one read-only snapshot.
    @_spi(Unguarded) func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T
    /// Runs `body` in one atomic, durable write transaction. If `body` throws, nothing it did is kept.
    @_spi(Unguarded) func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T
    /// Releases connections (PostgreSQL); waits until they are closed. A no-op for SQLite.
    func close()
    /// The connection pool's use, when the store has one (`/metrics`).
    var connectionUse: ConnectionUse? { get }
}

extension ResourceStore {
    public func close() {}
    public var connectionUse: ConnectionUse? { nil }
}

/// How a store's connection pool is used right now (`/metrics`); nil for SQLite, which has one writer.
public struct ConnectionUse: Sendable, Equatable {
    /// Connections open (busy or idle).
    public var open: Int
    /// Open connections waiting for work.
    public var idle: Int
    /// The most the pool will open.
    public var max: Int

    public init(open: Int, idle: Int, max: Int) {
        self.open = open
        self.idle = idle
        self.max = max
    }
}
