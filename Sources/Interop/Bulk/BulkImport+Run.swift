import FHIR
import Foundation
import Storage
import Trust

/// Fetches an import file: streams the body of `url` to `chunk`, following a redirect only to
/// a URL `allow` allows, and fails (a `FHIRError` whose issue says why, English and Spanish)
/// when the source answers anything but 200, sends more than `maxBytes`, or takes longer than
/// `timeoutSeconds`. The server's is `HTTPImportFetcher` (AsyncHTTPClient); tests give their own.
public protocol BulkImportFetcher: Sendable {
    func fetch(_ url: String, allow: BulkImport.AllowList, maxBytes: Int64, timeoutSeconds: Double,
               chunk: ([UInt8]) async throws -> Void) async throws
}

extension BulkImport {
    /// Bounds on each input file.
    public struct Limits: Sendable {
        public var maxFileBytes: Int64
        public var fileTimeoutSeconds: Double
        public init(maxFileBytes: Int64 = 1 << 30, fileTimeoutSeconds: Double = 600) {
            self.maxFileBytes = maxFileBytes
            self.fileTimeoutSeconds = fileTimeoutSeconds
        }
    }

    public struct Job: Sendable {
        public var id: String
        public var directory: String
        public var subject: String
        public var request: Request
        /// The kick-off URL (the manifest's `request`).
        public var requestURL: String
        public var transactionTime: String
    }

    /// Writes the job's directory (`<root>/<job>/job.json`, `progress.json`), in the same shape
    /// as an export's (`BulkExport`), so its status, cancellation, files and expiry work the same.
    public static func prepare(root: String, subject: String, request: Request, requestURL: String, now: Timestamp) throws -> Job {
        let id = UUID().uuidString.lowercased()
        let directory = root + "/" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let job = Job(id: id, directory: directory, subject: subject, request: request, requestURL: requestURL, transactionTime: now.description)
        let json: JSON = .object([
            ("id", .string(id)), ("subject", .string(subject)), ("request", .string(requestURL)),
            ("inputFormat", .string(request.inputFormat)), ("inputSource", .string(request.inputSource)),
            ("input", .array(request.inputs.map { .object([("type", .string($0.type)), ("url", .string($0.url))]) })),
            ("transactionTime", .string(job.transactionTime)), ("started", .number(String(now.microseconds))), ("process", .string(BulkExport.processID)),
        ])
        try BulkExport.write(json, to: directory + "/job.json")
        try writeProgress(directory, done: 0, of: request.inputs.count, stored: 0, failed: 0)
        return job
    }

    static func writeProgress(_ dir: String, done: Int, of: Int, stored: Int, failed: Int) throws {
        try BulkExport.write(.object([("done", .number(String(done))), ("of", .number(String(of))),
                                      ("stored", .number(String(stored))), ("failed", .number(String(failed)))]), to: dir + "/progress.json")
    }

    /// Resources stored and lines failed so far (for `X-Progress`).
    public static func progress(root: String, id: String) -> (stored: Int, failed: Int) {
        guard BulkExport.isJobID(id) else { return (0, 0) }
        let p = BulkExport.read(root + "/" + id + "/progress.json")
        return (Int(BulkExport.int(p, "stored") ?? 0), Int(BulkExport.int(p, "failed") ?? 0))
    }

    /// Does `subject` have an import running in this process? (One at a time: a second kick-off
    /// is answered 429, as the proposal suggests.)
    public static func running(root: String, subject: String) -> Bool {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where BulkExport.isJobID(name) {
            let dir = root + "/" + name
            guard let job = BulkExport.read(dir + "/job.json"), job["subject"]?.stringValue == subject,
                  job["process"]?.stringValue == BulkExport.processID else { continue }
            let fm = FileManager.default
            if !fm.fileExists(atPath: dir + "/manifest.json") && !fm.fileExists(atPath: dir + "/error.json") { return true }
        }
        return false
    }

    /// The status of import `id` for `subject` — the export's state machine (`BulkExport.status`:
    /// in progress with a polite `Retry-After`, 429 when polled sooner, complete, failed,
    /// expired, not found for anyone else) with the import's own words for a job cut by a
    /// restart: what it stored before stays stored, and running it again is safe (by id).
    public static func status(root: String, id: String, subject: String, now: Timestamp, retention: Double) -> BulkExport.Status {
        let dir = root + "/" + id
        if BulkExport.isJobID(id), let job = BulkExport.read(dir + "/job.json"), job["subject"]?.stringValue == subject,
           job["process"]?.stringValue != BulkExport.processID,
           // one cut more than a retention ago is left to expire (`BulkExport.status`)
           Double(now.microseconds - (BulkExport.int(job, "started") ?? now.microseconds)) <= retention * 1_000_000 {
            let fm = FileManager.default
            if !fm.fileExists(atPath: dir + "/manifest.json") && !fm.fileExists(atPath: dir + "/error.json") {
                let issue = Issue(.error, code: "incomplete",
                                  english: "the import was interrupted by a server restart; what it stored before stays stored — start the same import again (resources are stored by id, so nothing is duplicated)",
                                  spanish: "la importación se interrumpió por un reinicio del servidor; lo que ya guardó sigue guardado — inicie la misma importación otra vez (los recursos se guardan por id, nada se duplica)")
                try? BulkExport.write(OperationOutcome.make([issue]), to: dir + "/error.json")
                BulkExport.markFinished(dir, now: now)
            }
        }
        return BulkExport.status(root: root, id: id, subject: subject, now: now, retention: retention)
    }

    /// The job was cancelled (its directory removed) while it ran.
    struct Cancelled: Error {}
    /// The store failed (a 5xx): the job fails; what earlier batches stored stays.
    struct StoreFailure: Error { let error: any Error }

    /// Runs the job: each input is fetched (`fetcher`, bounded by `limits`) and streamed line by
    /// line through `Loader` — in transactions of `BulkImport.batchSize`, through the guard the
    /// door opens for the kick-off principal, each write audited and with its Provenance like any
    /// API write — and every refused line becomes an OperationOutcome in the input's error file
    /// (`errors-<n>.ndjson`). An input that cannot be fetched (not allowed, HTTP error, too large,
    /// too slow) gets one OperationOutcome saying so; the other inputs go on. The manifest
    /// (`manifest.json`): `transactionTime`, `request`, `requiresAccessToken`, `output` (per input:
    /// `type`, `inputUrl`, `count` stored, `extension.unchanged`) and `error` (per input with failures: `type`
    /// OperationOutcome, `inputUrl`, `count`, `url`). Stops quietly when cancelled.
    public static func run(_ job: Job, door: Door, principal: Principal, fetcher: any BulkImportFetcher, allow: AllowList,
                           limits: Limits, base: String) async {
        let fm = FileManager.default
        var outputs: [JSON] = []
        var errors: [JSON] = []
        var stored = 0, failed = 0
        let n = job.request.inputs.count
        do {
            for (i, input) in job.request.inputs.enumerated() {
                guard fm.fileExists(atPath: job.directory) else { return }
                let errorName = "errors-\(i + 1).ndjson"
                let errorPath = job.directory + "/" + errorName
                var errorHandle: FileHandle?
                var errorCount = 0
                func write(_ issue: Issue) throws {
                    guard fm.fileExists(atPath: job.directory) else { throw Cancelled() }
                    if errorHandle == nil {
                        _ = fm.createFile(atPath: errorPath, contents: nil)
                        errorHandle = FileHandle(forWritingAtPath: errorPath)
                    }
                    errorHandle?.write(Data(OperationOutcome.make([issue]).serialized() + [0x0A]))
                    errorCount += 1
                }
                func lineIssue(_ note: Loader.Note) -> Issue {
                    var issue = note.issue
                    issue.english = "\(input.url) line \(note.line): " + issue.english
                    issue.spanish = "\(input.url) línea \(note.line): " + issue.spanish
                    return issue
                }
                var loader = Loader(batch: batchSize, base: base) {
                    let a = AuditContext(requestID: "bulk-import-" + job.id, method: "POST", path: "/fhir/$import", query: nil, remoteAddress: nil)
                    a.principal = principal
                    a.interaction = "transaction"
                    return try await door.open(principal, audit: a)
                }
                loader.expectedType = input.type
                loader.requireID = true
                loader.source = job.request.inputSource
                var splitter = LineSplitter()
                var lastProgress = 0
                func take(_ lines: [(line: Int, bytes: [UInt8])]) async throws {
                    for (line, bytes) in lines {
                        let notes: [Loader.Note]
                        do { notes = try await loader.add(line: line, bytes: bytes) } catch { throw StoreFailure(error: error) }
                        for note in notes { try write(lineIssue(note)) }
                    }
                    let seen = loader.stored + loader.unchanged + loader.failed
                    if seen - lastProgress >= batchSize {
                        lastProgress = seen
                        try? writeProgress(job.directory, done: i, of: n, stored: stored + loader.stored + loader.unchanged, failed: failed + loader.failed)
                    }
                }
                do {
                    guard allow.allows(input.url) else {
                        throw FHIRError(status: 403, code: "forbidden", english: "\(input.url) is not an allowed import source",
                                        spanish: "\(input.url) no es una fuente de importación permitida")
                    }
                    try await fetcher.fetch(input.url, allow: allow, maxBytes: limits.maxFileBytes, timeoutSeconds: limits.fileTimeoutSeconds) { chunk in
                        guard fm.fileExists(atPath: job.directory) else { throw Cancelled() }
                        try await take(splitter.feed(chunk))
                    }
                    if let last = splitter.finish() { try await take([last]) }
                } catch let e as FHIRError {
                    // the file could not be fetched (whole or to its end): what was read before is kept
                    try write(Issue(.error, code: e.issues.first?.code ?? "exception",
                                    english: "could not import \(input.url): \(e.issues.first?.english ?? "fetch failed")",
                                    spanish: "no se pudo importar \(input.url): \(e.issues.first?.spanish ?? "falló la descarga")"))
                    failed += 1
                }
                let notes: [Loader.Note]
                do { notes = try await loader.flush() } catch { throw StoreFailure(error: error) }
                for note in notes { try write(lineIssue(note)) }
                try errorHandle?.close()
                stored += loader.stored + loader.unchanged
                failed += loader.failed
                // count: the input's resources now stored as given (written, or already so);
                // extension.unchanged: of those, the ones not written again
                outputs.append(.object([("type", .string(input.type)), ("inputUrl", .string(input.url)),
                                        ("count", .number(String(loader.stored + loader.unchanged))),
                                        ("extension", .object([("unchanged", .number(String(loader.unchanged)))]))]))
                if errorCount > 0 {
                    errors.append(.object([("type", .string("OperationOutcome")), ("inputUrl", .string(input.url)), ("count", .number(String(errorCount))),
                                           ("url", .string("\(base)/$import-file/\(job.id)/\(errorName)"))]))
                }
                try writeProgress(job.directory, done: i + 1, of: n, stored: stored, failed: failed)
            }
            guard fm.fileExists(atPath: job.directory) else { return }
            let manifest: JSON = .object([
                ("transactionTime", .string(job.transactionTime)),
                ("request", .string(job.requestURL)),
                ("requiresAccessToken", .bool(true)),
                ("output", .array(outputs)),
                ("error", .array(errors)),
            ])
            BulkExport.markFinished(job.directory, now: door.clock.now())
            try BulkExport.write(manifest, to: job.directory + "/manifest.json")
        } catch is Cancelled {
            return
        } catch {
            guard fm.fileExists(atPath: job.directory) else { return }
            let cause = ((error as? StoreFailure)?.error ?? error) as? FHIRError
            let issue = Issue(.error, code: cause?.issues.first?.code ?? "exception",
                              english: "the import failed (what it stored before stays stored; running it again is safe): \(cause?.issues.first?.english ?? "internal error")",
                              spanish: "la importación falló (lo que ya guardó sigue guardado; repetirla es seguro): \(cause?.issues.first?.spanish ?? "error interno")")
            BulkExport.markFinished(job.directory, now: door.clock.now())
            try? BulkExport.write(OperationOutcome.make([issue]), to: job.directory + "/error.json")
        }
    }
}
