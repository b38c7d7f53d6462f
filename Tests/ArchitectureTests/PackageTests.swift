import Foundation
import Testing

/// Every module a target imports is declared among its dependencies in `Package.swift`
/// (CONTRIBUTING.md): a product that only arrives through another target's dependencies builds
/// today and breaks the day that target stops depending on it.
@Suite("Architecture: every import is declared in Package.swift")
struct PackageTests {
    /// Modules of the toolchain, never declared.
    static let toolchain: Set<String> = ["Foundation", "FoundationEssentials", "FoundationNetworking", "Testing", "XCTest", "Dispatch",
                                         "Glibc", "Musl", "Darwin", "Synchronization", "RegexBuilder", "_Concurrency", "os"]

    /// Each target of `Package.swift` with the names in its `dependencies:` list (target names
    /// and `.product(name:)` names).
    static func declared() throws -> [String: Set<String>] {
        let text = try String(contentsOf: DoorTests.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        var out: [String: Set<String>] = [:]
        let starts = ["Target(name: \"", ".target(name: \""]
        var rest = text[...]
        while let r = starts.compactMap({ rest.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            rest = rest[r.upperBound...]
            let name = String(rest.prefix { $0 != "\"" })
            // this target's text: up to the next target
            let end = starts.compactMap { rest.range(of: $0)?.lowerBound }.min() ?? rest.endIndex
            let chunk = rest[..<end]
            var names: Set<String> = []
            if let d = chunk.range(of: "dependencies: [") {
                var depth = 1
                var i = d.upperBound
                while i < chunk.endIndex, depth > 0 {
                    if chunk[i] == "[" { depth += 1 } else if chunk[i] == "]" { depth -= 1 }
                    i = chunk.index(after: i)
                }
                let list = chunk[d.upperBound..<i]
                var q = list[...]
                while let open = q.firstIndex(of: "\"") {
                    let after = q.index(after: open)
                    guard let close = q[after...].firstIndex(of: "\"") else { break }
                    let word = String(q[after..<close])
                    // `.product(name: "X", package: "y")`: the package name is not a module
                    if !q[..<open].hasSuffix("package: ") { names.insert(word) }
                    q = q[q.index(after: close)...]
                }
            }
            out[name] = names
        }
        return out
    }

    /// The modules imported by the Swift files under `directory`.
    static func imports(under directory: String) -> Set<String> {
        let base = DoorTests.root.appendingPathComponent(directory)
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var out: Set<String> = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            for line in DoorTests.codeLines(text) {
                let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                guard let i = words.firstIndex(of: "import"), words[..<i].allSatisfy({ $0.hasPrefix("@") || ["public", "internal", "package", "private"].contains($0) }),
                      i + 1 < words.count else { continue }
                out.insert(String(words[i + 1]))
            }
        }
        return out
    }

    @Test func everyImportedModuleIsADeclaredDependency() throws {
        let targets = try PackageTests.declared()
        #expect(targets.count >= 20, "read \(targets.count) targets from Package.swift")
        #expect(targets["Server"]?.contains("Hummingbird") == true, "\(targets["Server"] ?? [])")
        var missing: [String] = []
        for (target, deps) in targets.sorted(by: { $0.key < $1.key }) {
            let directory = target.hasSuffix("Tests") ? "Tests/\(target)" : "Sources/\(target)"
            guard FileManager.default.fileExists(atPath: DoorTests.root.appendingPathComponent(directory).path) else { continue }
            for module in PackageTests.imports(under: directory).subtracting(PackageTests.toolchain).subtracting(deps).subtracting([target]).sorted() {
                missing.append("\(target) imports \(module) without declaring it")
            }
        }
        #expect(missing.isEmpty, "add them to the target's dependencies in Package.swift:\n\(missing.joined(separator: "\n"))")
    }
}
