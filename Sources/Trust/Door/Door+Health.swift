import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// What a readiness probe learns from the database (docs/reliability.md, "/readyz"): no patient
/// data, only that the store answers and its current schema is in place.
public struct DatabaseProbe: Sendable {
    /// Entries in the audit ledger.
    public var auditEntries: Int64
    /// The newest signed tree head, if any.
    public var latestTreeHead: TreeHead?
}

extension Door {
    /// Reads what every request needs from the store — the outbox position (on PostgreSQL the
    /// transaction-ordered column the newest migration added), the audit ledger's size and its
    /// newest tree head — in one read. Throws what the store throws when it is unreachable or its
    /// schema is missing a table or column. Touches no resource, so it reads no patient data.
    public func probeDatabase() async throws -> DatabaseProbe {
        try await store.read { r in
            _ = try r.latestEventPosition()
            let size = try r.auditSize()
            return DatabaseProbe(auditEntries: size, latestTreeHead: try r.latestTreeHead())
        }
    }
}

extension Door {
    /// How many committed events each consumer has yet to handle (`/metrics`), counted up to
    /// `cap` (a lag beyond it is reported as `cap`). A consumer that never ran counts from the start.
    /// Reads only the outbox and the consumers' cursors, never a resource.
    public func outboxLag(consumers: [String], cap: Int = 10_000) async throws -> [String: Int] {
        try await store.read { r in
            var lag: [String: Int] = [:]
            for name in consumers {
                let cursor = try r.record(Door.cursorKind, name).flatMap { OutboxPosition(String(decoding: $0, as: UTF8.self)) } ?? .start
                lag[name] = try r.events(after: cursor, limit: cap).count
            }
            return lag
        }
    }
}

extension Door {
    /// The store's connection pool use (nil for SQLite).
    public var connectionUse: ConnectionUse? { store.connectionUse }
}
