// swift-tools-version: 6.1
// libFuzzer targets for Enlace's parsers (docs/reliability.md, "Fuzzing"). A package of its own
// so the sanitizer build recompiles only FHIR, HTTPFront, Storage, StorageSQLite and Trust
// (symlinked from ../Sources), not the server. Build and run: fuzz/run TARGET SECONDS (see
// fuzz/README.md).
import PackageDescription

let package = Package(
    name: "EnlaceFuzz",
    // the versions of ../Package.swift (FuzzJWT needs Trust's)
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        // FuzzHTTP's request decoder: the version ../Package.resolved pins
        .package(url: "https://github.com/apple/swift-nio.git", exact: "2.101.3"),
    ],
    targets: [
        .target(name: "FHIR"),
        .target(name: "Storage", dependencies: ["FHIR"]),
        .target(name: "FuzzSupport"),
        .target(name: "HTTPFront", dependencies: ["FHIR"]),
        .executableTarget(name: "FuzzHTTP", dependencies: [
            "FHIR", "HTTPFront", "FuzzSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .executableTarget(name: "FuzzJSON", dependencies: ["FHIR", "FuzzSupport"]),
        .executableTarget(name: "FuzzSearchParameters", dependencies: ["FHIR", "Storage", "FuzzSupport"]),
        .executableTarget(name: "FuzzFHIRPath", dependencies: ["FHIR", "FuzzSupport"]),
        .target(name: "Trust", dependencies: [
            "FHIR", "Storage",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "JWTKit", package: "jwt-kit"),
        ]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "StorageSQLite", dependencies: ["FHIR", "Storage", "CZlib", .product(name: "GRDB", package: "GRDB.swift")]),
        .executableTarget(name: "FuzzBundle", dependencies: ["FHIR", "Storage", "StorageSQLite", "FuzzSupport"]),
        .executableTarget(name: "FuzzJWT", dependencies: [
            "FHIR", "Trust", "FuzzSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ]
)
