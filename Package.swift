// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Enlace",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "enlace", targets: ["enlace"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.29.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // rest-hook delivery of Subscriptions; already resolved for HummingbirdTesting
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // the websocket channel of Subscriptions (the upgrade on Hummingbird's HTTP/1 server)
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        // Definitions, resource model, validation, OperationOutcome errors. No I/O.
        .target(name: "FHIR"),
        // ResourceStore protocol, Repository (FHIR REST semantics), indexing, the search plan, the one
        // visibility compiler, Bundle processing, the event outbox.
        .target(name: "Storage", dependencies: ["FHIR"]),
        // Embedded SQLite backend (GRDB): a file, or memory for tests.
        // The system zlib, for the compressed bodies of StorageSQLite (apt: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "StorageSQLite", dependencies: [
            "FHIR", "Storage", "CZlib",
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        // PostgreSQL backend (PostgresNIO).
        .target(name: "StoragePostgres", dependencies: [
            "FHIR", "Storage",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
        ]),
        // The pure parsers of a request's untrusted parts — query strings and forms, content
        // negotiation, credentials headers, Prefer, If-Match — without Hummingbird, so the fuzz
        // package can build them (fuzz/Sources/FuzzHTTP).
        .target(name: "HTTPFront", dependencies: ["FHIR"]),
        // Principals, tokens (JWTs on jwt-kit), access decisions, the door (the only way to the data),
        // the audit ledger.
        .target(name: "Trust", dependencies: [
            "FHIR", "Storage",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "JWTKit", package: "jwt-kit"),
        ]),
        // Domain modules (docs/architecture.md): they reach data only through Trust's door and meet
        // each other only through FHIR resources and the event outbox.
        .target(name: "Monitoring", dependencies: ["FHIR", "Storage", "Trust"]),
        .target(name: "Prevention", dependencies: ["FHIR", "Storage", "Trust"]),
        .target(name: "Care", dependencies: ["FHIR", "Storage", "Trust"]),
        .target(name: "Financing", dependencies: ["FHIR", "Storage", "Trust"]),
        .target(name: "Interop", dependencies: ["FHIR", "Storage", "Trust"]),
        // Hummingbird application: FHIR REST API, OAuth/SMART, portal; the only module that wires a
        // concrete storage backend.
        .target(name: "Server", dependencies: [
            "FHIR", "HTTPFront", "Storage", "StorageSQLite", "StoragePostgres", "Trust",
            "Monitoring", "Prevention", "Care", "Financing", "Interop",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            // HTTP1Channel, ServerChildChannel: the per-connection choice of HTTP/1 or the websocket upgrade
            .product(name: "HummingbirdCore", package: "hummingbird"),
        ]),
        // The command line.
        .executableTarget(name: "enlace", dependencies: [
            "Server", "Trust", "Storage", "StorageSQLite", "FHIR",
            // `enlace import` runs the import pipeline of `$import` (BulkImport.Loader)
            "Interop",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "FHIRTests", dependencies: ["FHIR"]),
        .testTarget(name: "HTTPFrontTests", dependencies: ["HTTPFront", "FHIR"]),
        // Reads Sources/, Tests/, docs/ and this file: the door is the only way to the data, modules
        // depend one way, every imported module is declared here.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "StorageTests", dependencies: ["FHIR", "Storage", "StorageSQLite", "StoragePostgres",
                                                         .product(name: "GRDB", package: "GRDB.swift"),
                                                         .product(name: "PostgresNIO", package: "postgres-nio"),
                                                         .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "TrustTests", dependencies: ["Trust", "FHIR", "Storage", "StorageSQLite",
                                                       .product(name: "Crypto", package: "swift-crypto"),
                                                       .product(name: "_CryptoExtras", package: "swift-crypto")]),
        .testTarget(name: "MonitoringTests", dependencies: ["Monitoring", "Trust", "Storage", "StorageSQLite", "StoragePostgres", "FHIR"]),
        .testTarget(name: "PreventionTests", dependencies: ["Prevention", "Trust", "Storage", "StorageSQLite", "FHIR"]),
        .testTarget(name: "CareTests", dependencies: ["Care", "Trust", "Storage", "StorageSQLite", "FHIR"]),
        .testTarget(name: "FinancingTests", dependencies: ["Financing", "Trust", "Storage", "StorageSQLite", "FHIR"]),
        .testTarget(name: "InteropTests", dependencies: ["Interop", "Trust", "Storage", "StorageSQLite", "FHIR"]),
        .testTarget(name: "ServerTests", dependencies: [
            "Server", "Care", "Trust", "FHIR", "Storage", "StorageSQLite", "StoragePostgres", "Interop", "Financing", "Prevention", "Monitoring",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ], exclude: ["Examples"]),
    ],
    swiftLanguageModes: [.v6]
)
