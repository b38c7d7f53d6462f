// swift-tools-version: 6.1
// The HTTP floor of the benchmarks: a bare Hummingbird "hello" route, nothing else.
import PackageDescription

let package = Package(
    name: "floor",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
    ],
    targets: [
        .executableTarget(name: "floor", dependencies: [.product(name: "Hummingbird", package: "hummingbird")]),
    ]
)
