import FHIR
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import Storage

/// The PostgreSQL backend (https://www.postgresql.org/docs/15/), for an institution running
/// several stateless Enlace nodes on one database, and ready to be distributed by patient on
/// Citus (see docs/scaling.md).
///
/// Guarantees:
/// - A `write` runs in one `SERIALIZABLE` transaction and returns after `COMMIT` with
///   `synchronous_commit=on` (acknowledged means flushed to the WAL on disk). A serialization
///   failure or deadlock (SQLSTATE 40001, 40P01) re-runs the same body in a fresh transaction,
///   up to `maxAttempts` times, so conditional creates and `If-Match` stay correct with several
///   nodes writing concurrently. A second writer of the same version gets
///   `StoreError.versionConflict`.
/// - A `read` runs in one `REPEATABLE READ READ ONLY` snapshot.
/// - The protocol's reader and transaction methods are synchronous: each `read`/`write` body
///   runs on a dedicated `NIOThreadPool` thread (never on the cooperative pool or an event
///   loop) and blocks there on PostgresNIO futures.
/// - Every query has a timeout (server `statement_timeout` and a client-side timer that closes
///   the connection); connecting has a timeout too. Errors become `StoreError.database` with
///   the SQLSTATE and the server's message, never the SQL arguments (they may hold patient data).
public final class PostgresStore: ResourceStore, CustomStringConvertible {
    /// Where to connect, parsed from `postgres://user:password@host:port/database?schema=name`.
    public struct Endpoint: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// Optional schema (the `search_path`) holding Enlace's tables; created if missing.
        public var schema: String?

        /// Parses a `postgres://` or `postgresql://` URL. Throws `StoreError.database` with a
        /// message that never contains the password.
        public init(url: String) throws {
            guard let c = URLComponents(string: url), let scheme = c.scheme, ["postgres", "postgresql"].contains(scheme) else {
                throw StoreError.database("the database URL must look like postgres://user:password@host:5432/database")
            }
            guard let host = c.host, !host.isEmpty else { throw StoreError.database("the database URL has no host (postgres://user:password@HOST:5432/database)") }
            guard let user = c.user, !user.isEmpty else { throw StoreError.database("the database URL has no user (postgres://USER:password@host:5432/database)") }
            let db = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
            guard !db.isEmpty else { throw StoreError.database("the database URL has no database name (postgres://user:password@host:5432/DATABASE)") }
            self.host = host
            port = c.port ?? 5432
            self.user = user.removingPercentEncoding ?? user
            password = c.password.map { $0.removingPercentEncoding ?? $0 }
            database = db.removingPercentEncoding ?? db
            schema = c.queryItems?.first(where: { $0.name == "schema" })?.value
            if let schema, schema.isEmpty || !schema.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) {
                throw StoreError.database("the schema in the database URL must be lowercase letters, digits and _")
            }
        }

        /// `host:port/database` as user — what error messages name (never the password).
        public var description: String { "\(host):\(port)/\(database) (user \(user)\(schema.map { ", schema \($0)" } ?? ""))" }
    }

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
        self.logger = logger
        threads = NIOThreadPool(numberOfThreads: maxConnections)
        threads.start()
        pool = ConnectionPool(endpoint: endpoint, max: maxConnections, connectTimeout: connectTimeout, queryTimeout: queryTimeout, logger: logger)
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
            throw StoreError.database(e.message)
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
            throw StoreError.database(e.message)
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
                // writers would abort each other under SERIALIZABLE. Writers therefore queue on a
                // cluster-wide advisory lock taken before their snapshot: writes run one at a time
                // across all nodes (like SQLite's single writer), reads stay concurrent, and
                // SERIALIZABLE + retry remains the safety net. See docs/scaling.md.
                let queued = true
                do {
                    if queued { try session.query("SELECT pg_advisory_lock(?)", [.int(PostgresStore.writerLockKey)]) }
                    defer { if queued { session.unlockWriters() } }
                    try session.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
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

    /// The advisory lock writers queue on after repeated serialization failures.
    static let writerLockKey: Int64 = 0x656E_6C61_6377

    /// `PostgreSQL host:port/database (user …)`, never the password.
    public var description: String { "PostgreSQL \(endpoint.description)" }

    static func map(_ error: any Error) -> any Error {
        if let e = error as? PGFailure { return StoreError.database(e.message) }
        return error
    }
}

/// A database failure with what may be shown: SQLSTATE and the server's message, never the
/// query's arguments.
struct PGFailure: Error, CustomStringConvertible {
    var sqlState: String?
    var message: String
    var constraint: String?

    /// Serialization failure or deadlock: the transaction may succeed if re-run.
    var retryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    var uniqueViolation: Bool { sqlState == "23505" }
    var description: String { message }

    init(sqlState: String?, message: String, constraint: String? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
    }

    /// From a PostgresNIO error, hiding the password and the query's binds.
    init(_ error: any Error, endpoint: PostgresStore.Endpoint, connecting: Bool = false) {
        let prefix = connecting ? "cannot connect to PostgreSQL at \(endpoint.description): " : "PostgreSQL (\(endpoint.host):\(endpoint.port)/\(endpoint.database)): "
        if let p = error as? PSQLError {
            if let info = p.serverInfo {
                sqlState = info[.sqlState]
                constraint = info[.constraintName]
                var m = info[.message] ?? "server error"
                if sqlState == "28P01" || sqlState == "28000" { m += " (check the user and password in the database URL)" }
                if sqlState == "3D000" { m += " (create it, or fix the database name in the URL)" }
                message = prefix + "SQLSTATE \(sqlState ?? "?"): " + m
            } else {
                var m = "\(p.code)"
                if let u = p.underlying {
                    m += ": " + PGFailure.describe(u)
                } else if p.code == .serverClosedConnection {
                    m = "the server closed the connection (is it PostgreSQL, and does it accept this client?)"
                }
                message = prefix + m
            }
        } else {
            message = prefix + PGFailure.describe(error)
        }
        if let password = endpoint.password, !password.isEmpty {
            message = message.replacingOccurrences(of: password, with: "***")
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
            return "connection refused (is PostgreSQL running and listening on that host and port?)"
        }
        if text.contains("connectTimeout") || text.contains("timed out") { return "timed out (is the host reachable?)" }
        if text.contains("NIOConnectionError") { return "the server cannot be reached (is the host name right and PostgreSQL running?)" }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

/// One connection used by one thread at a time: runs queries and waits for them, with a
/// client-side timeout that closes the connection if the server does not answer.
final class Session {
    let connection: PostgresConnection
    let endpoint: PostgresStore.Endpoint
    let logger: Logger
    let timeout: TimeAmount
    /// Set when the connection must not be reused (timeout, closed).
    var broken = false

    init(connection: PostgresConnection, endpoint: PostgresStore.Endpoint, logger: Logger, timeout: TimeAmount) {
        self.connection = connection
        self.endpoint = endpoint
        self.logger = logger
        self.timeout = timeout
    }

    /// Runs `sql` (with `?` placeholders renumbered to `$n`) and returns every row.
    @discardableResult
    func query(_ sql: String, _ values: [PGValue] = []) throws -> [PostgresRow] {
        var binds = PostgresBindings(capacity: values.count)
        for v in values { v.bind(into: &binds) }
        let q = PostgresQuery(unsafeSQL: Session.numbered(sql), binds: binds)
        let connection = self.connection
        let timedOut = NIOLockedValueBox(false)
        let future = connection.query(q, logger: logger)
        let timer = connection.eventLoop.scheduleTask(in: timeout) {
            timedOut.withLockedValue { $0 = true }
            connection.close().whenComplete { _ in }
        }
        do {
            let result = try future.wait()
            timer.cancel()
            return result.rows
        } catch {
            timer.cancel()
            if timedOut.withLockedValue({ $0 }) {
                broken = true
                throw PGFailure(sqlState: "57014", message: "PostgreSQL (\(endpoint.host):\(endpoint.port)/\(endpoint.database)): the query did not finish within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            if connection.isClosed { broken = true }
            throw PGFailure(error, endpoint: endpoint)
        }
    }

    func execute(_ sql: String) throws { try query(sql) }

    func unlockWriters() {
        if broken || connection.isClosed { return }
        do { try query("SELECT pg_advisory_unlock(?)", [.int(PostgresStore.writerLockKey)]) } catch { broken = true }
    }

    func rollback() {
        if broken || connection.isClosed { broken = true; return }
        do { try execute("ROLLBACK") } catch { broken = true }
    }

    /// `?` → `$1, $2, …`, skipping quoted literals and identifiers.
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        for ch in sql {
            if let q = quote {
                if ch == q { quote = nil }
                out.append(ch)
            } else if ch == "'" || ch == "\"" {
                quote = ch
                out.append(ch)
            } else if ch == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(ch)
            }
        }
        return out
    }
}

/// A bound value.
enum PGValue {
    case text(String)
    case int(Int64)
    case real(Double?)
    case bytes([UInt8])
    case texts([String])

    func bind(into b: inout PostgresBindings) {
        switch self {
        case .text(let s): b.append(s)
        case .int(let i): b.append(i)
        case .real(let d): b.append(d)
        case .bytes(let bytes): b.append(ByteBuffer(bytes: bytes))
        case .texts(let list): b.append(list)
        }
    }

    init(_ v: SQLValue) {
        switch v {
        case .text(let s): self = .text(s)
        case .integer(let i): self = .int(i)
        case .real(let d): self = .real(d)
        }
    }
}

extension PostgresRow {
    func cell(_ i: Int) -> PostgresCell {
        var it = makeIterator()
        var k = 0
        while let c = it.next() {
            if k == i { return c }
            k += 1
        }
        preconditionFailure("column \(i) out of range")
    }

    func string(_ i: Int) throws -> String { try cell(i).decode(String.self) }
    func int(_ i: Int) throws -> Int { try cell(i).decode(Int.self) }
    func int64(_ i: Int) throws -> Int64 { try cell(i).decode(Int64.self) }
    func bytes(_ i: Int) throws -> [UInt8] {
        var buffer = try cell(i).decode(ByteBuffer.self)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// A small blocking pool: threads of the store's `NIOThreadPool` take a connection, use it
/// for one transaction and give it back. Connections are opened lazily, up to `max`.
final class ConnectionPool: @unchecked Sendable {
    let endpoint: PostgresStore.Endpoint
    let max: Int
    let connectTimeout: TimeAmount
    let queryTimeout: TimeAmount
    let logger: Logger
    let condition = NSCondition()
    var idle: [Session] = []
    var open = 0
    var closed = false
    var nextID = 0

    init(endpoint: PostgresStore.Endpoint, max: Int, connectTimeout: TimeAmount, queryTimeout: TimeAmount, logger: Logger) {
        self.endpoint = endpoint
        self.max = max
        self.connectTimeout = connectTimeout
        self.queryTimeout = queryTimeout
        self.logger = logger
    }

    func acquire() throws -> Session {
        condition.lock()
        let deadline = Date().addingTimeInterval(Double(queryTimeout.nanoseconds) / 1e9)
        while true {
            if closed {
                condition.unlock()
                throw PGFailure(sqlState: nil, message: "the PostgreSQL store is closed")
            }
            while let s = idle.popLast() {
                if s.connection.isClosed { open -= 1; continue }
                condition.unlock()
                return s
            }
            if open < max { break }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw PGFailure(sqlState: nil, message: "no free PostgreSQL connection within \(queryTimeout.nanoseconds / 1_000_000_000) s (pool of \(max))")
            }
        }
        open += 1
        nextID += 1
        let id = nextID
        condition.unlock()
        do {
            return try connect(id: id)
        } catch {
            condition.lock()
            open -= 1
            condition.signal()
            condition.unlock()
            throw error
        }
    }

    func connect(id: Int) throws -> Session {
        var config = PostgresConnection.Configuration(host: endpoint.host, port: endpoint.port, username: endpoint.user,
                                                      password: endpoint.password, database: endpoint.database, tls: .disable)
        config.options.connectTimeout = connectTimeout
        let ms = queryTimeout.nanoseconds / 1_000_000
        var parameters: [(String, String)] = [
            ("application_name", "enlace"),
            ("synchronous_commit", "on"),
            ("statement_timeout", "\(ms)"),
            ("lock_timeout", "\(ms)"),
            ("idle_in_transaction_session_timeout", "\(ms * 2)"),
            ("client_encoding", "UTF8"),
            ("TimeZone", "UTC"),
        ]
        if let schema = endpoint.schema { parameters.append(("search_path", schema)) }
        config.options.additionalStartupParameters = parameters
        let eventLoop = MultiThreadedEventLoopGroup.singleton.any()
        let future = PostgresConnection.connect(on: eventLoop, configuration: config, id: id, logger: logger)
        let timedOut = NIOLockedValueBox(false)
        let promise = eventLoop.makePromise(of: PostgresConnection.self)
        let timer = eventLoop.scheduleTask(in: connectTimeout + .seconds(2)) {
            timedOut.withLockedValue { $0 = true }
            promise.fail(PGFailure(sqlState: nil, message: "cannot connect to PostgreSQL at \(self.endpoint.description): no answer within \(self.connectTimeout.nanoseconds / 1_000_000_000) s"))
        }
        future.whenComplete { result in
            timer.cancel()
            if timedOut.withLockedValue({ $0 }) {
                if case .success(let c) = result { c.close().whenComplete { _ in } }
                return
            }
            promise.completeWith(result)
        }
        let connection: PostgresConnection
        do {
            connection = try promise.futureResult.wait()
        } catch let e as PGFailure {
            throw e
        } catch {
            throw PGFailure(error, endpoint: endpoint, connecting: true)
        }
        return Session(connection: connection, endpoint: endpoint, logger: logger, timeout: queryTimeout + .seconds(5))
    }

    func release(_ session: Session, broken: Bool = false) {
        condition.lock()
        if broken || session.broken || closed || session.connection.isClosed {
            open -= 1
            condition.signal()
            condition.unlock()
            try? session.connection.close().wait()
            return
        }
        idle.append(session)
        condition.signal()
        condition.unlock()
    }

    func closeAll(wait: Bool = true) {
        condition.lock()
        closed = true
        let sessions = idle
        idle = []
        open -= sessions.count
        condition.broadcast()
        condition.unlock()
        for s in sessions {
            if wait { try? s.connection.close().wait() } else { s.connection.close().whenComplete { _ in } }
        }
    }
}
