// swift-tools-version: 6.1
// The cost of verifying an access token the first time (before the verified-token cache):
// the hand-written ES256 verifier Enlace had (HandWritten.swift, kept here as the baseline)
// against jwt-kit's JWTKeyCollection, as Trust/AccessToken.swift uses it. A separate package so
// the benchmark never slows the main build: `swift run -c release --package-path bench/jwt`.
import PackageDescription

let package = Package(
    name: "jwt-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
    ],
    targets: [
        .executableTarget(name: "jwt-bench", dependencies: [
            .product(name: "JWTKit", package: "jwt-kit"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
