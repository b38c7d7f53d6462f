import FHIR
import Financing
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Storage
import StoragePostgres
import StorageSQLite
import Trust

/// What a running Enlace is made of; built once by `buildApplication` and shared by the CLI
/// and the tests. It holds no store and no repository: the data is reached only through
/// `door` (docs/access.md, "The door"), which owns the store it is given.
public struct EnlaceServices: Sendable {
    public let configuration: ServerConfiguration
    public let key: SigningKey
    public let authority: TokenAuthority
    public let clock: any Clock
    /// The only way to the data.
    public let door: Door
    /// The financing operations of this server, with its own `FinancingWriteGate` (one per
    /// application, as on separate nodes: the ledger's correctness rests on `LedgerFence`).
    public let financing = FinancingService(gate: FinancingWriteGate())
    private let closeStore: @Sendable () -> Void
    private let backupStore: @Sendable (String) throws -> Void

    /// Builds the services over `store`, which the door takes over (the caller should not keep it).
    public init(configuration: ServerConfiguration, store: any ResourceStore, key: SigningKey,
                clock: any Clock = SystemClock(), ids: any IDGenerator = UUIDGenerator()) {
        self.configuration = configuration
        self.key = key
        self.clock = clock
        authority = TokenAuthority(key: key, issuer: configuration.fhirBase, audience: configuration.fhirBase)
        var settings = Door.Settings()
        settings.privacy = configuration.privacy
        settings.sensitivityRules = configuration.sensitivityRules
        settings.node = "\(ProcessInfo.processInfo.hostName):\(configuration.port)"
        settings.requireTOTPForStaff = configuration.requireTOTPForStaff
        settings.passwordIterations = configuration.passwordIterations
        settings.writeRules = EnlaceServices.domainWriteRules(configuration)
        door = Door(store: store, key: key, settings: settings, clock: clock, ids: ids)
        closeStore = { (store as? PostgresStore)?.close() }
        backupStore = { path in
            guard let sqlite = store as? SQLiteStore else {
                throw StoreError.database("online backup is for the embedded SQLite database; back up PostgreSQL with pg_dump or a base backup (docs/reliability.md)")
            }
            try sqlite.backup(to: path)
        }
    }

    /// Users, clients, codes, refresh tokens and revocation.
    public var identity: IdentityService { door.identity }
    public var ledger: AuditLedger { door.ledger }
    public var auditBuilder: AuditEventBuilder { door.auditBuilder }

    /// Opens the embedded SQLite database and the signing key in the configured data directory
    /// (creating both on first start).
    public static func open(_ configuration: ServerConfiguration) throws -> EnlaceServices {
        let key = try SigningKey.loadOrCreate(in: configuration.dataDirectory)
        let store = try SQLiteStore(path: configuration.databasePath)
        return EnlaceServices(configuration: configuration, store: store, key: key)
    }

    /// Releases the store's connections (PostgreSQL); a no-op for SQLite.
    public func close() { closeStore() }

    /// `enlace backup`: an online, consistent copy of the SQLite database at `path` (Backup.swift
    /// in the CLI); throws `StoreError.database` on PostgreSQL, whose tools do this (docs/reliability.md).
    public func backupDatabase(to path: String) throws { try backupStore(path) }

    /// Opens the configured store — PostgreSQL when `databaseURL` is set (connecting within
    /// seconds and applying pending migrations), else the embedded SQLite database — and the
    /// signing key in the data directory. Throws `StoreError.database` with a readable message
    /// (naming host, port and database, never the password) when the database cannot be used.
    public static func connect(_ configuration: ServerConfiguration, logger: Logger = Logger(label: "enlace.postgres")) async throws -> EnlaceServices {
        guard let url = configuration.databaseURL else { return try open(configuration) }
        let store = try await PostgresStore(url: url, logger: logger)
        do {
            let key = try SigningKey.loadOrCreate(in: configuration.dataDirectory)
            return EnlaceServices(configuration: configuration, store: store, key: key)
        } catch {
            store.close()
            throw error
        }
    }
}

/// Builds the Hummingbird application: FHIR API at `/fhir`, SMART/OAuth at `/oauth`, `/healthz`, `/readyz`, JWKS.
public func buildApplication(_ services: EnlaceServices, logger: Logger? = nil) -> some ApplicationProtocol {
    let logger = logger ?? {
        var l = Logger(label: "enlace")
        l.logLevel = .info
        return l
    }()
    let router = Router(context: EnlaceRequestContext.self)
    // ahead of the middleware: a load balancer's probe, answered even when the ledger cannot be written (Health.swift)
    Readiness(door: services.door, clock: services.clock, logger: logger).register(on: router)
    // the same for `/metrics` (Metrics.swift); then every other request is counted and timed
    let metrics = EnlaceMetrics()
    metrics.register(on: router, door: services.door, consumers: services.eventConsumers().map(\.name), clock: services.clock)
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: AuditMiddleware(ledger: services.ledger, builder: services.auditBuilder, clock: services.clock))
    router.add(middleware: SecurityHeadersMiddleware(https: services.configuration.fhirBase.lowercased().hasPrefix("https://")))
    router.add(middleware: OutcomeMiddleware())
    router.add(middleware: ThrottleMiddleware(clock: services.clock))
    router.add(middleware: FormatMiddleware())
    router.add(middleware: AuthenticationMiddleware(authority: services.authority, clock: services.clock, identity: services.identity))
    router.get("healthz") { _, _ in
        FHIRResponse.json(.ok, .object([("status", .string("ok"))]))
    }
    if services.configuration.faultInjection {
        router.get("_fault") { request, _ -> Response in
            // `?kind=cancelled`: the error a request meets when its client has gone away
            if request.uri.queryParameters["kind"] == "cancelled" { throw CancellationError() }
            throw InjectedFault()
        }
    }
    let jwks = services.key.jwks.serialized()
    router.get(".well-known/jwks.json") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: jwks)))
    }
    OAuthEndpoints(services: services).register(on: router)
    FHIRAPI(configuration: services.configuration, door: services.door, key: services.key, financing: services.financing).register(on: router)
    AuditRoutes(door: services.door).register(on: router)
    Portal(services: services).register(on: router)
    return Application(
        router: router,
        // HTTP/1, and the websocket upgrade of Subscriptions (Domains/SubscriptionsWebSocket.swift)
        server: EnlaceHTTPChannel.builder(door: services.door, base: services.configuration.fhirBase),
        configuration: .init(address: .hostname(services.configuration.host, port: services.configuration.port), serverName: "Enlace"),
        services: [TreeHeadService(ledger: services.ledger, logger: logger, witnessPath: services.configuration.witnessPath,
                                   witnessInterval: services.configuration.witnessInterval),
                   EventConsumersService(door: services.door, consumers: services.configuration.runsEventConsumers ? services.eventConsumers() : [],
                                         logger: logger)]
            + services.domainServices(logger),
        logger: logger
    )
}

/// What `GET /_fault` throws (test-only, `ServerConfiguration.faultInjection`): an error nothing
/// expects, which must become a 500 OperationOutcome with its audit entry. `GET
/// /_fault?kind=cancelled` throws a `CancellationError` instead (a 503, audited too).
struct InjectedFault: Error {}
