import FHIR
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
@_spi(Unguarded) import Storage

/// A database failure with what may be shown: SQLSTATE and the server's message, never the
/// query's arguments.
struct PGFailure: Error, CustomStringConvertible {
    var sqlState: String?
    var message: String
    var constraint: String?
    /// Set when the failure was in connecting (the circuit breaker counts it).
    var connecting = false
    /// Set by the circuit breaker: seconds until the database is tried again.
    var retryAfter: Int?

    /// Serialization failure or deadlock: the transaction may succeed if re-run.
    var retryable: Bool { sqlState == "40001" || sqlState == "40P01" }
    var uniqueViolation: Bool { sqlState == "23505" }
    var description: String { message }

    init(sqlState: String?, message: String, constraint: String? = nil, retryAfter: Int? = nil) {
        self.sqlState = sqlState
        self.message = message
        self.constraint = constraint
        self.retryAfter = retryAfter
    }

    /// From a PostgresNIO error, hiding the password and the query's binds.
    init(_ error: any Error, endpoint: PostgresStore.Endpoint, connecting: Bool = false) {
        self.connecting = connecting
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
                } else if p.code == .sslUnsupported {
                    m = "the server does not accept TLS, and the URL asks for it (sslmode=\(endpoint.sslMode.rawValue)); turn ssl on in the server or choose another sslmode"
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
        if text.contains("failedToValidateHostname") {
            return "TLS: the server's certificate does not name this host (sslmode=verify-full); connect by a name or IP address the certificate holds: \(text.prefix(200))"
        }
        if text.contains("handshakeFailed") || text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS handshake failed (is sslrootcert the authority that signed the server's certificate?): \(text.prefix(300))"
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") || text.contains("ECONNREFUSED") {
            return "connection refused (is PostgreSQL running and listening on that host and port?)"
        }
        if text.contains("connectTimeout") || text.contains("timed out") { return "timed out (is the host reachable?)" }
        if text.contains("NIOConnectionError") { return "the server cannot be reached (is the host name right and PostgreSQL running?)" }
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }
}

/// The value of `future`, waited for at most `limit`; after that, the error `timedOut()` returns
/// (it may also close what the future waits on). `EventLoopFuture.wait()` has no deadline.
func bounded<T: Sendable>(_ future: EventLoopFuture<T>, within limit: TimeAmount, timedOut: @escaping @Sendable () -> Error) throws -> T {
    let promise = future.eventLoop.makePromise(of: T.self)
    let done = NIOLockedValueBox(false)
    let timer = future.eventLoop.scheduleTask(in: limit) {
        if done.withLockedValue({ d in defer { d = true }; return !d }) { promise.fail(timedOut()) }
    }
    future.whenComplete { result in
        timer.cancel()
        if done.withLockedValue({ d in defer { d = true }; return !d }) { promise.completeWith(result) }
    }
    return try promise.futureResult.wait()
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
        let endpoint = self.endpoint
        let seconds = timeout.nanoseconds / 1_000_000_000
        do {
            // On time-out the connection is closed and the wait ends, whether or not PostgresNIO
            // ever fails the query (after PostgreSQL was stopped and restarted it sometimes did
            // not, and the node could not stop: docs/reliability.md).
            let result = try bounded(connection.query(q, logger: logger), within: timeout) {
                connection.close().whenComplete { _ in }
                return PGFailure(sqlState: "57014", message: "PostgreSQL (\(endpoint.host):\(endpoint.port)/\(endpoint.database)): the query did not finish within \(seconds) s")
            }
            return result.rows
        } catch let e as PGFailure {
            broken = true  // only the time-out above throws a PGFailure
            throw e
        } catch {
            if connection.isClosed { broken = true }
            throw PGFailure(error, endpoint: endpoint)
        }
    }

    func execute(_ sql: String) throws { try query(sql) }

    /// Takes the writers' advisory lock of this session's schema (waits for it).
    func lockWriters() throws {
        try query("SELECT pg_advisory_lock(\(PostgresStore.writerLockClass), \(endpoint.writerLockObject))")
    }

    func unlockWriters() {
        if broken || connection.isClosed { return }
        do { try query("SELECT pg_advisory_unlock(\(PostgresStore.writerLockClass), \(endpoint.writerLockObject))") } catch { broken = true }
    }

    func rollback() {
        if broken || connection.isClosed { broken = true; return }
        do { try execute("ROLLBACK") } catch { broken = true }
    }

    /// `?` → `$1, $2, …`, skipping quoted literals and identifiers. Works on the UTF-8 bytes
    /// (`?`, `'` and `"` are ASCII and never part of a multi-byte sequence): it runs on the text
    /// of every statement, including multi-row index INSERTs with thousands of placeholders.
    static func numbered(_ sql: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: UInt8 = 0
        for b in sql.utf8 {
            if quote != 0 {
                if b == quote { quote = 0 }
                out.append(b)
            } else if b == 0x27 || b == 0x22 {
                quote = b
                out.append(b)
            } else if b == 0x3F {
                n += 1
                out.append(0x24)
                out.append(contentsOf: String(n).utf8)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A bound value.
enum PGValue {
    case text(String)
    case int(Int64)
    case real(Double?)
    case bytes([UInt8])
    case texts([String])
    case ints([Int64])

    func bind(into b: inout PostgresBindings) {
        switch self {
        case .text(let s): b.append(s)
        case .int(let i): b.append(i)
        case .real(let d): b.append(d)
        case .bytes(let bytes): b.append(ByteBuffer(bytes: bytes))
        case .texts(let list): b.append(list)
        case .ints(let list): b.append(list)
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
