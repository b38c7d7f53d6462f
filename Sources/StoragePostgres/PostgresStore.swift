import FHIR
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
@_spi(Unguarded) import Storage

/// The PostgreSQL backend (https://www.postgresql.org/docs/15/), for an institution running
/// several stateless Enlace nodes on one database, and ready to be distributed by patient on
/// Citus (see docs/scaling.md).
///
/// Guarantees:
/// - Writes to one schema run one at a time across every node: each `write` takes the schema's
///   writers' advisory lock before its snapshot, then runs in one `REPEATABLE READ` transaction
///   and returns after `COMMIT` with `synchronous_commit=on` (acknowledged means flushed to the
///   WAL on disk). Serial execution is what makes conditional creates, `If-Match` and the
///   cross-record write rules correct with several nodes; should two writers ever overlap (a
///   node still on the database-wide lock of before 2026-12-03), both update the ledger's
///   counter row and `resource_key`, so PostgreSQL aborts the later one (SQLSTATE 40001,
///   first updater wins). A serialization failure or deadlock (40001, 40P01) re-runs the same
///   body in a fresh transaction, up to `maxAttempts` times. A second writer of the same version
///   gets `StoreError.versionConflict`. Why not `SERIALIZABLE`: docs/scaling.md, "Writes".
/// - A `read` runs in one `REPEATABLE READ READ ONLY` snapshot.
/// - The protocol's reader and transaction methods are synchronous: each `read`/`write` body
///   runs on a dedicated `NIOThreadPool` thread (never on the cooperative pool or an event
///   loop) and blocks there on PostgresNIO futures.
/// - Every query has a timeout (server `statement_timeout` and a client-side timer that closes
///   the connection); connecting has a timeout too. Errors become `StoreError.database` with
///   the SQLSTATE and the server's message, never the SQL arguments (they may hold patient data).
public final class PostgresStore: ResourceStore, CustomStringConvertible {

    public let endpoint: Endpoint
    let pool: ConnectionPool
    let threads: NIOThreadPool
    let logger: Logger
    /// How many times a write is attempted when it hits a serialization failure or deadlock.
    public let maxAttempts = 30

    /// Connects (within `connectTimeout`), applies pending migrations and returns the store.
    /// Throws `StoreError.database` naming host, port and database (never the password) when
    /// the server is unreachable, refuses the credentials or the migrations fail.
    public init(url: String, logger: Logger = Logger(label: "enlace.postgres"), maxConnections: Int = 10,
                connectTimeout: TimeAmount = .seconds(5), queryTimeout: TimeAmount = .seconds(30)) async throws {
        endpoint = try Endpoint(url: url)
        let tls = try endpoint.makeTLS()
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: maxConnections)
        threads.start()
        pool = ConnectionPool(endpoint: endpoint, tls: tls, max: maxConnections, connectTimeout: connectTimeout,
                              queryTimeout: endpoint.queryTimeoutSeconds.map { .seconds(Int64($0)) } ?? queryTimeout, logger: logger)
        do {
            let pool = self.pool
            try await threads.runIfActive {
                let session = try pool.acquire()
                pool.release(session)
            }
            try await migrate()
        } catch {
            close()
            throw PostgresStore.map(error)
        }
    }

    /// Applies pending schema migrations (table `schema_migrations`); safe to run from several
    /// nodes at once (they serialize on an advisory lock). Run at start and by `enlace migrate`.
    public func migrate() async throws {
        let endpoint = self.endpoint
        try await withSession { session in try Migrations.apply(session, schema: endpoint.schema) }
    }

    /// The schema versions applied, in order.
    public func appliedMigrations() async throws -> [Int] {
        try await withSession { session in
            try session.query("SELECT version FROM schema_migrations ORDER BY version").map { try $0.int(0) }
        }
    }

    /// Runs raw SQL (no arguments) and returns every cell as text; for operators and tests
    /// (catalog inspection). Not used by the FHIR API.
    public func rows(unsafeSQL sql: String) async throws -> [[String?]] {
        try await withSession { session in
            try session.query(sql).map { row in row.map { cell in try? cell.decode(String.self) } }
        }
    }

    /// Runs one raw statement on the calling thread, blocking (not for the cooperative pool
    /// in production; for test clean-up and operator tools).
    public func executeBlocking(unsafeSQL sql: String) throws {
        let session = try pool.acquire()
        do {
            try session.execute(sql)
            pool.release(session)
        } catch let e as PGFailure {
            pool.release(session, broken: session.broken)
            throw PostgresStore.map(e)
        }
    }

    /// Closes every connection and stops the worker threads. Blocking; call once, at shutdown.
    public func close() {
        pool.closeAll()
        if !closed.withLockedValue({ let was = $0; $0 = true; return was }) {
            try? threads.syncShutdownGracefully()
        }
    }

    let closed = NIOLockedValueBox(false)

    deinit {
        // connections must be closed before they are released (PostgresNIO asserts it)
        pool.closeAll(wait: false)
        if !closed.withLockedValue({ $0 }) { threads.shutdownGracefully { _ in } }
    }

    func withSession<T: Sendable>(_ body: @escaping @Sendable (Session) throws -> T) async throws -> T {
        let pool = self.pool
        do {
            return try await threads.runIfActive {
                let session = try pool.acquire()
                do {
                    let r = try body(session)
                    pool.release(session)
                    return r
                } catch {
                    pool.release(session, broken: session.broken)
                    throw error
                }
            }
        } catch let e as PGFailure {
            throw PostgresStore.map(e)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await withSession { session in
            try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            let tx = Transaction(session: session)
            do {
                let result = try body(tx)
                if let failure = tx.failure { throw failure }
                try session.execute("COMMIT")
                return result
            } catch {
                session.rollback()
                throw PostgresStore.map(error)
            }
        }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        let maxAttempts = self.maxAttempts
        let logger = self.logger
        return try await withSession { session in
            var attempt = 0
            while true {
                attempt += 1
                let tx = Transaction(session: session)
                // Every write appends to the one audit ledger (its counter row), so concurrent
                // writers would abort each other. Writers therefore queue on a per-schema advisory
                // lock taken before their snapshot: writes to one schema run one at a time across
                // all nodes (like SQLite's single writer), reads stay concurrent, other schemas of
                // the database are not held up. Serial, so REPEATABLE READ is enough, and the
                // counter row every write updates still aborts any writer that overlaps another
                // (40001, retried). SERIALIZABLE was dropped on 2026-12-07: its predicate locks
                // are shared by the whole cluster, and under load (many schemas, a long
                // transaction anywhere) PostgreSQL summarises old transactions and then aborts
                // serial writers as "pivots" (40001 thirty times in a row: the test suite's 503s).
                // See docs/scaling.md, "Writes".
                let queued = true
                do {
                    if queued { try session.lockWriters() }
                    defer { if queued { session.unlockWriters() } }
                    try session.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    do {
                        let result = try body(tx)
                        if let failure = tx.failure { throw failure }
                        try session.execute("COMMIT")
                        return result
                    } catch {
                        session.rollback()
                        throw error
                    }
                } catch {
                    // a retryable failure anywhere in the body wins over what the body made of it
                    let failure = tx.failure ?? (error as? PGFailure)
                    if let failure, failure.retryable, attempt < maxAttempts, !session.broken {
                        logger.debug("retrying a write after a serialization failure", metadata: ["attempt": "\(attempt)", "sqlstate": "\(failure.sqlState ?? "")"])
                        // jittered backoff so colliding nodes do not collide again
                        usleep(UInt32.random(in: 500...(2_000 * UInt32(min(attempt, 10)))))
                        continue
                    }
                    if let failure, failure.retryable {
                        throw StoreError.database("the write kept conflicting with concurrent writes (\(attempt) attempts); try again")
                    }
                    throw PostgresStore.map(error)
                }
            }
        }
    }

    /// The advisory lock of Enlace 0.x before 2026-12-03's per-schema lock: one for the whole
    /// database. No longer taken; the outbox barrier still counts a session holding it as a
    /// writer, so a node not yet upgraded in a rolling upgrade holds the barrier back as it
    /// should.
    static let legacyWriterLockKey: Int64 = 0x656E_6C61_6377
    /// The class (first key) of the writers' advisory lock; the second is the schema's hash
    /// (`Endpoint.writerLockObject`).
    static let writerLockClass: Int32 = 0x656E_6C77

    /// `PostgreSQL host:port/database (user …)`, never the password.
    public var description: String { "PostgreSQL \(endpoint.description)" }

    static func map(_ error: any Error) -> any Error {
        // class 53: insufficient resources; 53100 disk_full (https://www.postgresql.org/docs/15/errcodes-appendix.html)
        if let e = error as? PGFailure, let seconds = e.retryAfter { return StoreError.unavailable(e.message, retryAfterSeconds: seconds) }
        if let e = error as? PGFailure { return e.sqlState == "53100" ? StoreError.storageFull(e.message) : StoreError.database(e.message) }
        return error
    }
}
