import ArgumentParser
import FHIR
import Foundation
import Interop
import Server
import Storage
import Trust

/// `enlace import`: loads FHIR Bulk Data NDJSON files (one resource per line,
/// https://hl7.org/fhir/uv/bulkdata/) through the same validation, indexing, Provenance and
/// audit as the API, in transactions of `--batch` resources, with a progress bar. The pipeline
/// is `BulkImport.Loader` (Interop), the same one the server's `$import` runs.
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
        var unchanged = 0
        var failed = 0
        var repairCount = 0
        for file in files {
            // the pipeline `$import` uses too (Interop, `BulkImport.Loader`)
            var loader = BulkImport.Loader(batch: batch, lenient: lenient, base: services.configuration.fhirBase) {
                let audit = AuditContext(requestID: "import", method: "CLI", path: "enlace import \(file)", query: nil, remoteAddress: nil)
                audit.principal = principal
                audit.interaction = "transaction"
                return try await services.door.open(principal, audit: audit)
            }
            var splitter = BulkImport.LineSplitter()
            func take(_ lines: [(line: Int, bytes: [UInt8])]) async throws {
                for (line, bytes) in lines {
                    progress.advance(bytes: Int64(bytes.count + 1))
                    for note in try await loader.add(line: line, bytes: bytes) {
                        report(file, note.line, (note.issue.severity == .warning ? "warning: " : "") + note.issue.english)
                    }
                    progress.update(resources: imported + loader.stored + loader.unchanged, failed: failed + loader.failed)
                }
            }
            guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read \(file) / no se puede leer \(file)") }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                try await take(splitter.feed(chunk))
            }
            if let last = splitter.finish() { try await take([last]) }
            for note in try await loader.flush() { report(file, note.line, note.issue.english) }
            imported += loader.stored + loader.unchanged
            unchanged += loader.unchanged
            failed += loader.failed
            repairCount += loader.repairs
            progress.update(resources: imported, failed: failed)
        }
        progress.finish(resources: imported, unchanged: unchanged, failed: failed)
        if lenient { FileHandle.standardError.write(Data("lenient mode: \(repairCount) empty arrays or objects dropped / modo tolerante: \(repairCount) arreglos u objetos vacíos quitados\n".utf8)) }
        if failed > 0 { throw ExitCode(1) }
    }

    func report(_ file: String, _ line: Int, _ message: String) {
        FileHandle.standardError.write(Data("\n\(file):\(line): \(message)\n".utf8))
    }
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

    /// `unchanged`: of the `resources`, those already stored exactly so (not written again).
    func finish(resources: Int, unchanged: Int = 0, failed: Int) {
        let seconds = Date().timeIntervalSince(start)
        let rate = Double(resources) / max(seconds, 0.001)
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        print("imported \(resources) resources in \(String(format: "%.1f", seconds)) s (\(Int(rate))/s), \(unchanged) unchanged, \(failed) failed"
              + " / importados \(resources) recursos, \(unchanged) sin cambios, \(failed) con error")
    }
}
