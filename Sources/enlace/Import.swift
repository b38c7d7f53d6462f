import ArgumentParser
import FHIR
import Foundation
import Server
import Storage
import Trust

/// `enlace import`: loads FHIR Bulk Data NDJSON files (one resource per line,
/// https://hl7.org/fhir/uv/bulkdata/) through the same validation, indexing, Provenance and
/// audit as the API, in transactions of `--batch` resources, with a progress bar.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import FHIR NDJSON files (Bulk Data) into Enlace.",
        discussion: """
            Example: enlace import --data ./enlace-data Patient.ndjson Observation.ndjson
            Resources with an id are stored under it (update-as-create); without one they get a new id.
            A batch that fails is retried resource by resource, so every invalid line is reported as
            FILE:LINE with its reason and nothing valid is lost; the exit status is 1 if any line failed.
            Empty arrays and objects ("extension": []) are refused like any invalid FHIR JSON unless
            --lenient is given: then they are dropped and each repair is reported as FILE:LINE: warning.
            """)

    @OptionGroup var data: DataOptions

    @Option(name: .long, help: "Resources per database transaction (default 500).")
    var batch: Int = 500

    @Flag(name: .long, help: "Drop empty arrays and objects (\"extension\": []) instead of refusing the resource; each repair is reported as FILE:LINE: warning. Nothing that holds a value is dropped.")
    var lenient = false

    @Argument(help: "NDJSON files to import.")
    var files: [String]

    func run() async throws {
        guard (1...10_000).contains(batch) else { throw ValidationError("--batch must be between 1 and 10,000") }
        for f in files where !FileManager.default.isReadableFile(atPath: f) {
            throw ValidationError("cannot read \(f) / no se puede leer \(f)")
        }
        var config = data.configuration()
        config.maxBundleEntries = max(config.maxBundleEntries, batch)
        let services = try await EnlaceServices.connect(config)
        defer { services.close() }
        let principal = Principal(subject: "operator (enlace import)", scopes: ScopeSet("system/*.*"), tokenID: "cli-import",
                                  role: .platformOperator, clientID: "enlace-cli")
        let totalBytes = files.reduce(Int64(0)) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1)[.size] as? Int64) ?? 0) }
        let progress = Progress(totalBytes: totalBytes)
        var imported = 0
        var failed = 0
        var repairCount = 0
        for file in files {
            var pending: [(line: Int, json: JSON)] = []
            var lineNumber = 0
            func flush() async throws {
                guard !pending.isEmpty else { return }
                let (ok, bad) = try await store(pending, file: file, services: services, principal: principal)
                imported += ok
                failed += bad
                pending.removeAll(keepingCapacity: true)
                progress.update(resources: imported, failed: failed)
            }
            for try await (line, bytes) in NDJSONLines(path: file) {
                lineNumber = line
                progress.advance(bytes: Int64(bytes.count + 1))
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                do {
                    var json = try JSONParser.parse(bytes)
                    if lenient {
                        let (repaired, repairs) = LenientRepair.dropEmpty(json)
                        for r in repairs { report(file, line, "warning: " + r.english) }
                        repairCount += repairs.count
                        json = repaired
                    }
                    guard let type = json["resourceType"]?.stringValue, Definitions.r4.isResourceType(type) else {
                        report(file, line, "not a FHIR R4 resource (resourceType missing or unknown)")
                        failed += 1
                        continue
                    }
                    pending.append((line, json))
                } catch {
                    report(file, line, "not valid JSON: \(error)")
                    failed += 1
                }
                if pending.count >= batch { try await flush() }
            }
            try await flush()
            _ = lineNumber
        }
        progress.finish(resources: imported, failed: failed)
        if lenient { FileHandle.standardError.write(Data("lenient mode: \(repairCount) empty arrays or objects dropped / modo tolerante: \(repairCount) arreglos u objetos vacíos quitados\n".utf8)) }
        if failed > 0 { throw ExitCode(1) }
    }

    func report(_ file: String, _ line: Int, _ message: String) {
        FileHandle.standardError.write(Data("\n\(file):\(line): \(message)\n".utf8))
    }

    /// Stores a batch as one transaction; if it fails, each resource on its own.
    func store(_ items: [(line: Int, json: JSON)], file: String, services: EnlaceServices, principal: Principal) async throws -> (Int, Int) {
        func bundle(_ items: ArraySlice<(line: Int, json: JSON)>) -> JSON {
            .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(items.map { item in
                let type = item.json["resourceType"]!.stringValue!
                let request: JSON = item.json["id"]?.stringValue.map { id in
                    .object([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))])
                } ?? .object([("method", .string("POST")), ("url", .string(type))])
                return .object([("resource", item.json), ("request", request)])
            }))])
        }
        func guarded(_ n: Int) async throws -> GuardedRepository {
            let audit = AuditContext(requestID: "import", method: "CLI", path: "enlace import \(file)", query: nil, remoteAddress: nil)
            audit.principal = principal
            audit.interaction = "transaction"
            return try await services.door.open(principal, audit: audit)
        }
        let options = Repository.BundleOptions(base: services.configuration.fhirBase, maxEntries: max(items.count, 1))
        do {
            _ = try await guarded(items.count).process(bundle: bundle(items[...]), options: options)
            return (items.count, 0)
        } catch let e as FHIRError where items.count > 1 && e.status < 500 {
            var ok = 0, bad = 0
            for i in items.indices {
                do {
                    _ = try await guarded(1).process(bundle: bundle(items[i...i]), options: options)
                    ok += 1
                } catch let e as FHIRError {
                    report(file, items[i].line, e.issues.map { $0.english.replacingOccurrences(of: "Bundle.entry[0]: ", with: "") }.joined(separator: "; "))
                    bad += 1
                }
            }
            return (ok, bad)
        } catch let e as FHIRError {
            if items.count == 1 { report(file, items[0].line, e.issues.map(\.english).joined(separator: "; ")); return (0, 1) }
            throw e
        }
    }
}

/// Lines of a file, read in 1 MiB chunks (files larger than memory are fine).
struct NDJSONLines: AsyncSequence {
    typealias Element = (Int, [UInt8])
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        var buffer: [UInt8] = []
        var start = 0
        var line = 0
        var eof = false

        mutating func next() async throws -> (Int, [UInt8])? {
            guard let handle else { return nil }
            while true {
                if let nl = buffer[start...].firstIndex(of: 0x0A) {
                    let bytes = Array(buffer[start..<nl])
                    start = nl + 1
                    line += 1
                    return (line, bytes)
                }
                if eof {
                    guard start < buffer.count else { return nil }
                    let bytes = Array(buffer[start...])
                    start = buffer.count
                    line += 1
                    return (line, bytes)
                }
                let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
                if chunk.isEmpty { eof = true }
                buffer.removeFirst(start)
                start = 0
                buffer.append(contentsOf: chunk)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: FileHandle(forReadingAtPath: path)) }
}

/// A progress bar on standard error (only when it is a terminal; a summary line otherwise).
final class Progress {
    let totalBytes: Int64
    var bytes: Int64 = 0
    let start = Date()
    var lastDraw = Date.distantPast
    let tty = isatty(2) != 0

    init(totalBytes: Int64) { self.totalBytes = max(totalBytes, 1) }

    func advance(bytes n: Int64) { bytes += n }

    func update(resources: Int, failed: Int) {
        guard tty, Date().timeIntervalSince(lastDraw) > 0.2 else { return }
        lastDraw = Date()
        let fraction = min(1, Double(bytes) / Double(totalBytes))
        let width = 30
        let filled = Int(fraction * Double(width))
        let rate = Double(resources) / max(Date().timeIntervalSince(start), 0.001)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(bar) \(Int(fraction * 100))%  \(resources) recursos/resources  \(Int(rate))/s  \(failed) errores/errors ".utf8))
    }

    func finish(resources: Int, failed: Int) {
        let seconds = Date().timeIntervalSince(start)
        let rate = Double(resources) / max(seconds, 0.001)
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        print("imported \(resources) resources in \(String(format: "%.1f", seconds)) s (\(Int(rate))/s), \(failed) failed / importados \(resources) recursos, \(failed) con error")
    }
}
