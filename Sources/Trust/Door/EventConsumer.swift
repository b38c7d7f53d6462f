import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// A consumer of the event outbox (docs/architecture.md, "The event outbox"): alert rules,
/// Subscriptions, care-gap and risk recomputation, claim creation. It reads committed versions
/// in commit order from its own durable cursor, reads what it needs through its own guarded
/// repository — as its own named principal (an algorithm is a principal too: a `Device`
/// identity and an accountable owner) — and returns what to write. The door writes that, the
/// consumer's own state and the advanced cursor in one database transaction, so nothing is
/// lost on a crash and nothing is applied twice; a batch that fails leaves the cursor where it
/// was, and is tried again.
///
/// Several server nodes may run the same consumer: the cursor is compared and set in the
/// writing transaction, so one node's batch commits and the other's is rolled back and re-read.
public protocol EventConsumer: Sendable {
    /// The durable name of the consumer (`monitoring.alerts`); its cursor and state are kept under it.
    var name: String { get }
    /// Who the consumer acts as. Its access decision is made like any other principal's.
    var principal: Principal { get }
    /// Where the consumer starts the first time it runs.
    var start: EventConsumerStart { get }
    /// Cheap filter (no I/O): only the events it wants reach `handle`; the cursor moves past the others.
    func wants(_ event: OutboxEvent) -> Bool
    /// Decides what to do about `events` (in commit order), reading through `guarded` and the
    /// consumer's own state in `state`. Must be deterministic enough to be run again on the
    /// same events after a failure.
    func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput
}

/// Where a consumer's cursor starts.
public enum EventConsumerStart: Sendable {
    /// Every version ever written (e.g. an alert rule that should judge the existing record).
    case beginning
    /// Only versions committed from the consumer's first run on.
    case now
}

/// What a consumer decided about a batch.
public struct ConsumerOutput: Sendable {
    /// A transaction Bundle written through the consumer's guarded repository, in the same
    /// database transaction as the cursor (nil: nothing to write).
    public var transaction: JSON?
    /// The Provenance every resource the transaction writes gets as its template: which
    /// algorithm, which version, who answers for it (`X-Provenance` for a request).
    public var provenance: JSON?
    /// The consumer's own state to keep (or delete, with a nil value), in the same transaction.
    public var state: [ConsumerState.Change]

    public init(transaction: JSON? = nil, provenance: JSON? = nil, state: [ConsumerState.Change] = []) {
        self.transaction = transaction
        self.provenance = provenance
        self.state = state
    }

    public static let nothing = ConsumerOutput()
}

/// A consumer's own durable state: small keyed values under `kind`s of its choosing (an alert
/// rule's open episodes, a subscription's event counter), kept beside the record and written
/// only with the consumer's cursor.
public struct ConsumerState: Sendable {
    let consumer: String
    let store: any ResourceStore

    /// One change to keep.
    public struct Change: Sendable {
        public var kind: String
        public var key: String
        public var value: [UInt8]?
        public init(kind: String, key: String, value: [UInt8]?) {
            self.kind = kind
            self.key = key
            self.value = value
        }
    }

    /// The record kind a consumer's `kind` of state is kept under (for a `WriteRule.keep` that
    /// records something for a consumer, e.g. a Subscription's owner).
    public static func recordKind(_ consumer: String, _ kind: String) -> String { "consumer:\(consumer):\(kind)" }

    /// Keeps `changes` in one transaction of their own, outside any batch (a domain service's
    /// progress that is not an outbox cursor, e.g. which notifications a Subscription endpoint
    /// acknowledged). Not for state a batch also writes: that would race the batch.
    public func keep(_ changes: [Change]) async throws {
        let name = consumer
        try await store.write { tx in
            for c in changes { try tx.putRecord(ConsumerState.recordKind(name, c.kind), c.key, c.value) }
        }
    }

    /// Deletes the value under (`kind`, `key`) and returns it, in one atomic step on both backends
    /// (`RecordWriter.takeRecord`): of several callers racing for the same key, on one node or
    /// several, exactly one gets it (a single-use token).
    public func take(_ kind: String, _ key: String) async throws -> [UInt8]? {
        let k = ConsumerState.recordKind(consumer, kind)
        return try await store.write { try $0.takeRecord(k, key) }
    }

    /// Claims (`kind`, `key`) for `holder` until `until` (microseconds) if it is free, expired or
    /// already `holder`'s, in one write transaction (writes run one at a time: the
    /// writers' lock on PostgreSQL, the one writer on SQLite): of several nodes racing for it, exactly one holds it. A lease for work that must not
    /// be done twice at once (a Subscription's next notification); true if `holder` holds it.
    public func claim(_ kind: String, _ key: String, holder: String, now: Int64, until: Int64) async throws -> Bool {
        let k = ConsumerState.recordKind(consumer, kind)
        return try await store.write { tx in
            if let bytes = try tx.record(k, key) {
                let parts = String(decoding: bytes, as: UTF8.self).split(separator: " ")
                if parts.count == 2, String(parts[0]) != holder, let expires = Int64(parts[1]), expires > now { return false }
            }
            try tx.putRecord(k, key, Array("\(holder) \(until)".utf8))
            return true
        }
    }

    /// Ends `holder`'s claim on (`kind`, `key`), if it still holds it.
    public func release(_ kind: String, _ key: String, holder: String) async throws {
        let k = ConsumerState.recordKind(consumer, kind)
        try await store.write { tx in
            guard let bytes = try tx.record(k, key), String(decoding: bytes, as: UTF8.self).split(separator: " ").first.map(String.init) == holder else { return }
            try tx.putRecord(k, key, nil)
        }
    }

    public func value(_ kind: String, _ key: String) async throws -> [UInt8]? {
        let k = ConsumerState.recordKind(consumer, kind)
        return try await store.read { try $0.record(k, key) }
    }

    public func values(_ kind: String) async throws -> [(key: String, value: [UInt8])] {
        let k = ConsumerState.recordKind(consumer, kind)
        return try await store.read { try $0.records(k) }
    }
}

/// Another node advanced the consumer's cursor first: this batch was rolled back.
struct CursorMoved: Error {}

extension Door {
    static let cursorKind = "outbox-cursor"

    /// The state of `consumer` (for the consumer's own operations outside a batch, e.g. `$status`).
    public func state(of consumer: String) -> ConsumerState { ConsumerState(consumer: consumer, store: store) }

    /// Runs one batch of `consumer`: at most `limit` events after its cursor. Returns how many
    /// events the cursor moved past (0: it is caught up). Throws what the consumer or the store
    /// threw; the cursor then stays where it was.
    @discardableResult
    public func consume(_ consumer: some EventConsumer, limit: Int = 500) async throws -> Int {
        let name = consumer.name
        let kind = Door.cursorKind
        let (saved, events): (OutboxPosition?, [OutboxEvent]) = try await store.read { tx in
            let saved = try tx.record(kind, name).flatMap { OutboxPosition(String(decoding: $0, as: UTF8.self)) }
            return (saved, try tx.events(after: saved ?? .start, limit: limit))
        }
        guard let cursor = saved else {
            // the first run: remember where the consumer starts
            let start: OutboxPosition = consumer.start == .beginning ? .start : try await store.read { try $0.latestEventPosition() }
            try await store.write { tx in
                if try tx.record(kind, name) == nil { try tx.putRecord(kind, name, Array(start.description.utf8)) }
            }
            return consumer.start == .beginning ? try await consume(consumer, limit: limit) : 0
        }
        guard let last = events.last?.position else { return 0 }
        let wanted = events.filter(consumer.wants)
        let moveCursor: @Sendable (any StoreTransaction) throws -> Void = { tx in
            let current = try tx.record(kind, name).flatMap { OutboxPosition(String(decoding: $0, as: UTF8.self)) }
            guard current == cursor else { throw CursorMoved() }
            try tx.putRecord(kind, name, Array(last.description.utf8))
        }
        if wanted.isEmpty {
            do { try await store.write(moveCursor) } catch is CursorMoved { return 0 }
            return events.count
        }
        let audit = AuditContext(requestID: "consumer-\(name)-\(last)", method: "POST", path: "urn:enlace:consumer:\(name)", query: nil,
                                 remoteAddress: nil)
        audit.principal = consumer.principal
        audit.interaction = "operation"
        let guarded = try await open(consumer.principal, audit: audit)
        let state = ConsumerState(consumer: name, store: store)
        let output = try await consumer.handle(wanted, guarded: guarded, state: state)
        let changes = output.state
        let keep: @Sendable (any StoreTransaction) throws -> Void = { tx in
            try moveCursor(tx)
            for c in changes { try tx.putRecord(ConsumerState.recordKind(name, c.kind), c.key, c.value) }
        }
        if let bundle = output.transaction, bundle["type"]?.stringValue != "transaction" {
            throw FHIRError(status: 500, code: "exception", english: "the outbox consumer \(name) must write a transaction Bundle",
                            spanish: "el consumidor de eventos \(name) debe escribir un Bundle de tipo transaction")
        }
        do {
            if let bundle = output.transaction {
                var writer = guarded
                writer.provenanceTemplate = output.provenance
                _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:consumer:\(name)", maxEntries: 10_000),
                                             alsoInTransaction: keep)
            } else {
                try await store.write(keep)
            }
        } catch is CursorMoved {
            return 0
        }
        // what the consumer read is audited like any request's reads
        if audit.recordedIndex == nil, !audit.entities.isEmpty {
            let now = clock.now()
            _ = try await ledger.record(PendingAudit(recorded: now, patients: audit.patients, bytes: auditBuilder.build(audit, status: 200, recorded: now).serialized()))
        }
        return events.count
    }

    /// Runs `consumer` until it has seen every version committed before the call (at most
    /// `rounds` batches). On PostgreSQL a committed version waits below the outbox barrier while
    /// an older writer is still running (the server's own consumers, an audit write), so an empty
    /// batch is not yet "caught up": the cursor must have passed the newest committed version.
    /// Gives up (503) only when the cursor has not moved for `patience` — neither this call's
    /// batches nor another node's (a second runner of the same consumer rolls this one's batch
    /// back and moves the cursor itself): on a loaded machine a long backlog is progress, not a
    /// stall. Returns the events this call moved past.
    @discardableResult
    public func catchUp(_ consumer: some EventConsumer, limit: Int = 500, rounds: Int = 1000,
                        patience: Duration = .seconds(30)) async throws -> Int {
        let target = try await store.read { try $0.newestCommittedEventPosition() }
        let name = consumer.name
        var deadline = ContinuousClock.now + patience
        var seen: OutboxPosition? = nil
        var total = 0
        var round = 0
        while round < rounds {
            let n = try await consume(consumer, limit: limit)
            total += n
            if n > 0 { round += 1; deadline = ContinuousClock.now + patience; continue }
            let cursor = try await store.read { tx in
                try tx.record(Door.cursorKind, name).flatMap { OutboxPosition(String(decoding: $0, as: UTF8.self)) }
            }
            if let cursor, cursor >= target { break }
            if cursor != seen { seen = cursor; deadline = ContinuousClock.now + patience }
            guard ContinuousClock.now < deadline else {
                throw FHIRError(status: 503, code: "transient",
                                english: "the consumer \(name) could not catch up with \(target): a writer older than it is still running",
                                spanish: "el consumidor \(name) no alcanzó \(target): sigue en curso una escritura anterior")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return total
    }
}
