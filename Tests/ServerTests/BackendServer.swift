import Foundation
import Logging
import Server
@_spi(Unguarded) import Storage
import StoragePostgres
import StorageSQLite
import Testing
@_spi(Unguarded) import Trust

/// The backends HTTP tests can run on: SQLite always, PostgreSQL when
/// `ENLACE_TEST_DATABASE_URL` is set (scripts/test sets it).
enum ServerBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["ENLACE_TEST_DATABASE_URL"]
        return url?.isEmpty == false ? url : nil
    }

    static var allCases: [ServerBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A TestServer on this backend (a fresh schema for PostgreSQL), and what removes it.
    func make(scope: String = "system/*.*", configure: (inout ServerConfiguration) -> Void = { _ in }) async throws
        -> (TestServer, cleanup: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            return (try TestServer(scope: scope, configure: configure), {})
        case .postgres:
            let (store, url) = try await Self.freshSchema()
            let server = try TestServer(store: store, scope: scope, configure: configure)
            let directory = server.directory
            return (server, {
                try? store.executeBlocking(unsafeSQL: "DROP SCHEMA \(url.schema) CASCADE")
                store.close()
                try? FileManager.default.removeItem(atPath: directory)
            })
        }
    }

    /// Two server applications on the same database, as two nodes: each its own store (the same
    /// SQLite file; the same PostgreSQL schema), door and process-local state (the financing gate,
    /// `EnlaceServices.financing`); the same signing key and clock.
    func makeTwoNodes(scope: String = "system/*.*") async throws -> (TestServer, TestServer, cleanup: @Sendable () -> Void) {
        switch self {
        case .sqlite:
            let a = try TestServer(scope: scope)
            return (a, try TestServer(secondNodeOf: a, store: try SQLiteStore(path: a.services.configuration.databasePath)), {})
        case .postgres:
            let (store, url) = try await Self.freshSchema()
            let other = try await Self.connect(url.url)
            let a = try TestServer(store: store, scope: scope)
            let b = try TestServer(secondNodeOf: a, store: other)
            let directory = a.directory
            return (a, b, {
                other.close()
                try? store.executeBlocking(unsafeSQL: "DROP SCHEMA \(url.schema) CASCADE")
                store.close()
                try? FileManager.default.removeItem(atPath: directory)
            })
        }
    }

    /// A store on a new PostgreSQL schema (migrated), with its URL and schema name.
    static func freshSchema() async throws -> (PostgresStore, (url: String, schema: String)) {
        let base = ServerBackend.postgresURL!
        let schema = "enlace_http_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let url = base + (base.contains("?") ? "&" : "?") + "schema=" + schema
        // one schema's migrations at a time from these tests (see SchemaCreation)
        await SchemaCreation.shared.acquire()
        let store: PostgresStore
        do { store = try await connect(url) } catch {
            await SchemaCreation.shared.release()
            throw error
        }
        await SchemaCreation.shared.release()
        return (store, (url, String(schema)))
    }

    static func connect(_ url: String) async throws -> PostgresStore {
        // a connect timeout of 30 s, not the 5 s default: on a busy 2-core CI machine a
        // TLS + SCRAM connection can take longer, three slow connects in a row open the
        // store's circuit breaker, and the test then sees 503s for seconds (the likely
        // cause of LeakMatrix / $summary / Subscription leak failures in one CI run at
        // 7fc4226 — inferred from the 503s, not proven)
        try await PostgresStore(url: url, maxConnections: 4, connectTimeout: .seconds(30))
    }
}

/// Dozens of HTTP tests starting together each create and migrate a PostgreSQL schema; run side by
/// side on a busy 2-core machine, their DDL went past the 30-second statement timeout (migrations
/// once took one advisory lock for the whole cluster; now it is one per schema, `Migrations.apply`).
/// The HTTP tests therefore still create their schemas one at a time here and wait without a
/// timeout: the DDL of one schema at a time is fast.
actor SchemaCreation {
    static let shared = SchemaCreation()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
    }

    func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
