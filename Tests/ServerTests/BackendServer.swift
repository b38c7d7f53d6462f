import Foundation
import Logging
import Server
@_spi(Unguarded) import Storage
import StoragePostgres
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
            let base = ServerBackend.postgresURL!
            let schema = "enlace_http_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let store = try await PostgresStore(url: base + (base.contains("?") ? "&" : "?") + "schema=" + schema, maxConnections: 4)
            let server = try TestServer(store: store, scope: scope, configure: configure)
            let directory = server.directory
            return (server, {
                try? store.executeBlocking(unsafeSQL: "DROP SCHEMA \(schema) CASCADE")
                store.close()
                try? FileManager.default.removeItem(atPath: directory)
            })
        }
    }
}
