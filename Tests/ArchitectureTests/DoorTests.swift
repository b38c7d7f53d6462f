import Foundation
import Testing

/// The architecture's rules, read from the sources (docs/architecture.md): the door is the only
/// way to the data, modules depend one way, and every named system use is documented. The
/// compiler enforces the door too (`@_spi(Unguarded)` on `ResourceStore.read`/`write` and
/// `Repository.init`, an internal `GuardedRepository.init`); these checks fail when someone
/// opens that lock in a new place.
@Suite("Architecture: one door to the data")
struct DoorTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every Swift file under `Sources/`, as (path relative to the root, text).
    static let sources: [(path: String, text: String)] = {
        let base = root.appendingPathComponent("Sources")
        guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { return [] }
        var out: [(String, String)] = []
        for case let url as URL in walker where url.pathExtension == "swift" {
            let rel = String(url.path.dropFirst(root.path.count + 1))
            out.append((rel, (try? String(contentsOf: url, encoding: .utf8)) ?? ""))
        }
        return out.sorted { $0.0 < $1.0 }
    }()

    static func module(_ path: String) -> String { path.split(separator: "/").dropFirst().first.map(String.init) ?? "" }

    /// Lines of `text` that are code (not comments).
    static func codeLines(_ text: String) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter {
            let t = $0.trimmingCharacters(in: .whitespaces)
            return !t.hasPrefix("//")
        }
    }

    static let storageModules: Set<String> = ["Storage", "StorageSQLite", "StoragePostgres"]
    static let domainModules: Set<String> = ["Monitoring", "Prevention", "Care", "Financing", "Interop"]

    @Test func theSourcesAreFound() {
        #expect(DoorTests.sources.count > 50, "read \(DoorTests.sources.count) files under \(DoorTests.root.path)/Sources")
        #expect(DoorTests.sources.contains { $0.path == "Sources/Trust/Door/Door.swift" })
    }

    /// Only the storage backends and Trust may import Storage's unguarded API.
    @Test func onlyTrustAndTheBackendsImportTheUnguardedAPI() {
        var offenders: [String] = []
        for (path, text) in DoorTests.sources {
            let m = DoorTests.module(path)
            guard !DoorTests.storageModules.contains(m), m != "Trust" else { continue }
            for line in DoorTests.codeLines(text) where line.contains("@_spi(Unguarded)") { offenders.append("\(path): \(line)") }
        }
        #expect(offenders.isEmpty, "unguarded access outside Trust and the storage backends:\n\(offenders.joined(separator: "\n"))")
    }

    /// A concrete store is made in one place: the wiring of `EnlaceServices`, which hands it to the door.
    @Test func storesAreMadeOnlyWhereTheyAreWired() {
        let wiring: Set<String> = ["Sources/Server/Application.swift"]
        var offenders: [String] = []
        for (path, text) in DoorTests.sources where !DoorTests.storageModules.contains(DoorTests.module(path)) && !wiring.contains(path) {
            for line in DoorTests.codeLines(text) where line.contains("SQLiteStore(") || line.contains("PostgresStore(") {
                offenders.append("\(path): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "a store made outside the wiring:\n\(offenders.joined(separator: "\n"))")
    }

    /// Nothing outside Trust makes a guarded repository or a repository, or reaches a store's
    /// transactions, or names the door's internals.
    @Test func nothingOutsideTrustBuildsAGuardOrTouchesAStore() {
        let forbidden = ["GuardedRepository(", "Repository(store", "GuardedRepository.open", ".store.read", ".store.write",
                         "StoreReader", "StoreTransaction", "door.repository", "door.store", "LedgerVerifier().verify(store"]
        /// `line` names `word` as a whole identifier path (`door.store`, not `door.storeDescription`).
        func names(_ line: String, _ word: String) -> Bool {
            var rest = Substring(line)
            while let r = rest.range(of: word) {
                let next = rest[r.upperBound...].first
                if next.map({ !($0.isLetter || $0.isNumber || $0 == "_") }) ?? true { return true }
                rest = rest[r.upperBound...]
            }
            return false
        }
        var offenders: [String] = []
        for (path, text) in DoorTests.sources {
            let m = DoorTests.module(path)
            guard !DoorTests.storageModules.contains(m), m != "Trust" else { continue }
            for line in DoorTests.codeLines(text) {
                for f in forbidden where names(line, f) { offenders.append("\(path): \(f)") }
            }
        }
        #expect(offenders.isEmpty, "unguarded access outside Trust:\n\(offenders.joined(separator: "\n"))")
    }

    /// Every named system use is listed in docs/access.md, and every place that uses one is
    /// named there too.
    @Test func everySystemUseIsDocumented() throws {
        let doc = try String(contentsOf: DoorTests.root.appendingPathComponent("docs/access.md"), encoding: .utf8)
        let system = try #require(DoorTests.sources.first { $0.path == "Sources/Trust/Door/SystemAccess.swift" }).text
        let cases = DoorTests.codeLines(system).compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("case ") else { return nil }
            return String(t.dropFirst(5).split(separator: " ").first ?? "")
        }
        #expect(cases.count >= 2)
        for c in cases { #expect(doc.contains("`.\(c)`"), "docs/access.md does not list the system use .\(c)") }
        for (path, text) in DoorTests.sources where DoorTests.module(path) != "Trust" {
            for line in DoorTests.codeLines(text) where line.contains(".system(.") {
                #expect(doc.contains(path), "docs/access.md does not list \(path), which uses \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
    }

    /// Dependencies point one way (docs/architecture.md): FHIR ← Storage ← backends; Trust ←
    /// Storage; FHIR ← HTTPFront (the request parsers); domain modules ← Trust, never a backend
    /// nor each other; only the CLI imports Server.
    @Test func modulesDependOneWay() {
        let allowed: [String: Set<String>] = [
            "FHIR": [],
            "Storage": ["FHIR"],
            "StorageSQLite": ["FHIR", "Storage"],
            "StoragePostgres": ["FHIR", "Storage"],
            "Trust": ["FHIR", "Storage"],
            "HTTPFront": ["FHIR"],
        ]
        let project: Set<String> = Set(["FHIR", "HTTPFront", "Storage", "StorageSQLite", "StoragePostgres", "Trust", "Server", "enlace"]).union(DoorTests.domainModules)
        var offenders: [String] = []
        for (path, text) in DoorTests.sources {
            let m = DoorTests.module(path)
            for line in DoorTests.codeLines(text) {
                let t = line.trimmingCharacters(in: .whitespaces)
                guard let r = t.range(of: "import ") , t.hasPrefix("import ") || t.hasPrefix("@") else { continue }
                let imported = String(t[r.upperBound...].split(separator: " ").first ?? "")
                guard project.contains(imported) else { continue }
                if let ok = allowed[m], !ok.contains(imported) { offenders.append("\(path) imports \(imported)") }
                if DoorTests.domainModules.contains(m), !["FHIR", "Storage", "Trust"].contains(imported) { offenders.append("\(path) imports \(imported)") }
                if imported == "Server", m != "enlace" { offenders.append("\(path) imports Server") }
            }
        }
        #expect(offenders.isEmpty, "dependencies against the one-way rule:\n\(offenders.joined(separator: "\n"))")
    }
}
