import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Server
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

extension EnlaceServices {
    /// Tests look at what was stored without an access decision (a test is not a request).
    var store: any ResourceStore { door.store }
    var repository: Repository { door.repository }
}

/// A clock tests move by hand.
final class ManualClock: Clock, @unchecked Sendable {
    private let lock = NSLock()
    private var current: Timestamp
    init(_ start: Timestamp = Timestamp(instant: "2026-11-24T12:00:00Z")!) { current = start }
    func now() -> Timestamp { lock.lock(); defer { lock.unlock() }; return current }
    func advance(seconds: Int64) { lock.lock(); current.microseconds += seconds * 1_000_000; lock.unlock() }
}

/// The one test-server fixture: a server with a temporary data directory (its signing key, and
/// the SQLite database unless a store is given) and an operator token. `ServerBackend.make()`
/// builds it on either backend; the OAuth harness and the portal's demo build on it too.
struct TestServer {
    let directory: String
    let services: EnlaceServices
    let clock: ManualClock
    let token: String
    /// Whether `run` removes the data directory when it ends: not for a server made by
    /// `init(serving:configuration:)`, whose directory the first server still serves (removing
    /// it under a running SQLite store had the tree-head signer open a new, empty database file).
    var ownsDirectory = true

    /// - Parameters:
    ///   - store: the store to serve (`ServerBackend.make()` passes a fresh PostgreSQL schema);
    ///     without one, SQLite in the data directory.
    ///   - configure: changes to the test configuration (cheap password hashing, TOTP off, …).
    init(store: (any ResourceStore)? = nil, scope: String = "system/*.*", faultInjection: Bool = false,
         configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        directory = NSTemporaryDirectory() + "enlace-test-" + UUID().uuidString
        var config = ServerConfiguration()
        config.dataDirectory = directory
        config.maxBodyBytes = 16 * 1024 * 1024
        config.faultInjection = faultInjection
        // The requests' own entries and versions only: a domain's test runs its consumers itself.
        config.runsEventConsumers = false
        configure(&config)
        clock = ManualClock()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let key = try SigningKey.loadOrCreate(in: directory)
        let served = try store ?? SQLiteStore(path: config.databasePath)
        services = EnlaceServices(configuration: config, store: served, key: key, clock: clock)
        token = try services.authority.issue(subject: "test-operator", scope: scope, ttl: 3600, now: clock.now())
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Serves the in-process router to `body` with a client holding the operator token; the data
    /// directory is removed afterwards (when this server owns it).
    func run(_ body: @Sendable (Client) async throws -> Void) async throws {
        defer { if ownsDirectory { remove() } }
        let app = buildApplication(services, logger: TestLogger.make())
        let token = self.token
        try await app.test(.router) { client in
            try await body(Client(client: client, token: token))
        }
    }
}

extension TestServer {
    /// A second node of `other`: the same data directory, key, clock, configuration and token,
    /// another store on the same database, so its own door and process-local state.
    init(secondNodeOf other: TestServer, store: any ResourceStore) throws {
        directory = other.directory
        clock = other.clock
        token = other.token
        services = EnlaceServices(configuration: other.services.configuration, store: store, key: other.services.key, clock: other.clock)
    }

    /// The same data directory, store, key and clock served with another configuration.
    init(serving other: TestServer, configuration: ServerConfiguration) {
        directory = other.directory
        clock = other.clock
        token = other.token
        ownsDirectory = false
        services = EnlaceServices(configuration: configuration, store: other.services.store, key: other.services.key, clock: other.clock)
    }
}

/// A thin FHIR client over the test client.
struct Client: Sendable {
    let client: any TestClientProtocol
    let token: String

    struct Reply: Sendable {
        let status: Int
        let headers: HTTPFields
        let bytes: [UInt8]
        var json: JSON { (try? JSONParser.parse(bytes)) ?? .null }
        var text: String { String(decoding: bytes, as: UTF8.self) }
        func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
        /// The issue codes of an OperationOutcome body.
        var issueCodes: [String] { (json["issue"]?.arrayValue ?? []).compactMap { $0["code"]?.stringValue } }
        var locations: [String] { (json["issue"]?.arrayValue ?? []).flatMap { ($0["expression"]?.arrayValue ?? []).compactMap(\.stringValue) } }
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, body: [UInt8]? = nil, headers: [String: String] = [:], auth: Bool = true) async throws -> Reply {
        var h: HTTPFields = [:]
        if auth { h[.authorization] = "Bearer \(token)" }
        if body != nil { h[.contentType] = "application/fhir+json" }
        for (k, v) in headers { h[HTTPField.Name(k)!] = v }
        return try await client.execute(uri: uri, method: method, headers: h, body: body.map { ByteBuffer(bytes: $0) }) { r in
            Reply(status: Int(r.status.code), headers: r.headers, bytes: Array(r.body.readableBytesView))
        }
    }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, json: String, headers: [String: String] = [:]) async throws -> Reply {
        try await send(method, uri, body: Array(json.utf8), headers: headers)
    }

    /// Versions stored, not counting the Provenance the server adds to every write.
    func historyTotal() async throws -> Int {
        func total(_ path: String) async throws -> Int {
            let r = try await send(.get, path)
            if case let .number(n)? = r.json["total"] { return Int(n) ?? -1 }
            return -1
        }
        return try await total("/fhir/_history?_count=0") - total("/fhir/Provenance/_history?_count=0")
    }

    /// Versions of Provenance stored.
    func provenanceTotal() async throws -> Int {
        let r = try await send(.get, "/fhir/Provenance/_history?_count=0")
        if case let .number(n)? = r.json["total"] { return Int(n) ?? -1 }
        return -1
    }
}
