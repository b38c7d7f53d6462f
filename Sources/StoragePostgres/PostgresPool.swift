import FHIR
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
@_spi(Unguarded) import Storage

/// A small blocking pool: threads of the store's `NIOThreadPool` take a connection, use it
/// for one transaction and give it back. Connections are opened lazily, up to `max`.
final class ConnectionPool: @unchecked Sendable {
    let endpoint: PostgresStore.Endpoint
    /// From the URL's `sslmode`/`sslrootcert` (PostgresTLS.swift), one context for every connection.
    let tls: PostgresConnection.Configuration.TLS
    let max: Int
    let connectTimeout: TimeAmount
    let queryTimeout: TimeAmount
    let logger: Logger
    let condition = NSCondition()
    var idle: [Session] = []
    var open = 0
    var closed = false
    var nextID = 0
    let breaker: CircuitBreaker

    init(endpoint: PostgresStore.Endpoint, tls: PostgresConnection.Configuration.TLS, max: Int, connectTimeout: TimeAmount, queryTimeout: TimeAmount, logger: Logger) {
        self.endpoint = endpoint
        self.tls = tls
        self.max = max
        self.connectTimeout = connectTimeout
        self.queryTimeout = queryTimeout
        self.logger = logger
        breaker = CircuitBreaker()
    }

    func acquire() throws -> Session {
        if let seconds = breaker.admit() {
            throw PGFailure(sqlState: nil, message: "PostgreSQL (\(endpoint.host):\(endpoint.port)/\(endpoint.database)) did not answer the last attempts; not trying again for \(seconds) s (circuit breaker)", retryAfter: seconds)
        }
        do {
            return try acquireAdmitted()
        } catch let e as PGFailure where e.connecting {
            breaker.failed()
            throw e
        } catch {
            breaker.abandoned()
            throw error
        }
    }

    private func acquireAdmitted() throws -> Session {
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
                                                      password: endpoint.password, database: endpoint.database, tls: tls)
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
        let connection: PostgresConnection
        do {
            let failure = PGFailure(sqlState: nil, message: "cannot connect to PostgreSQL at \(endpoint.description): no answer within \(connectTimeout.nanoseconds / 1_000_000_000) s")
            connection = try bounded(future, within: connectTimeout + .seconds(2)) {
                future.whenSuccess { late in late.close().whenComplete { _ in } }
                return failure
            }
        } catch var e as PGFailure {
            e.connecting = true
            throw e
        } catch {
            throw PGFailure(error, endpoint: endpoint, connecting: true)
        }
        return Session(connection: connection, endpoint: endpoint, logger: logger, timeout: queryTimeout + .seconds(2))
    }

    func release(_ session: Session, broken: Bool = false) {
        if session.broken { breaker.failed() } else { breaker.succeeded() }
        condition.lock()
        if broken || session.broken || closed || session.connection.isClosed {
            open -= 1
            condition.signal()
            condition.unlock()
            closeWaiting(session)
            return
        }
        idle.append(session)
        condition.signal()
        condition.unlock()
    }

    /// Closes and waits for the close, at most a few seconds (a connection to a server that
    /// vanished may never report it closed).
    private func closeWaiting(_ session: Session) {
        _ = try? bounded(session.connection.close(), within: .seconds(3)) { PGFailure(sqlState: nil, message: "close timed out") }
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
            if wait { closeWaiting(s) } else { s.connection.close().whenComplete { _ in } }
        }
    }
}

extension ConnectionPool {
    /// Open, idle and maximum connections, read under the pool's lock.
    var use: ConnectionUse {
        condition.lock()
        defer { condition.unlock() }
        return ConnectionUse(open: open, idle: idle.count, max: max)
    }
}

extension PostgresStore {
    public var connectionUse: ConnectionUse? { pool.use }
}
