// swift-tools-version: 6.1
// libFuzzer targets for Enlace's parsers (docs/reliability.md, "Fuzzing"). A package of its own
// so the sanitizer build recompiles only FHIR and Storage (symlinked from ../Sources), not the
// server. Build and run: fuzz/run TARGET SECONDS (see fuzz/README.md).
import PackageDescription

let package = Package(
    name: "EnlaceFuzz",
    targets: [
        .target(name: "FHIR"),
        .target(name: "Storage", dependencies: ["FHIR"]),
        .executableTarget(name: "FuzzJSON", dependencies: ["FHIR"]),
        .executableTarget(name: "FuzzSearchParameters", dependencies: ["FHIR", "Storage"]),
        .executableTarget(name: "FuzzFHIRPath", dependencies: ["FHIR"]),
    ]
)
