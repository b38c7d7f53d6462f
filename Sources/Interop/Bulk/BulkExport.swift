import FHIR
import Foundation
import Storage
import Trust

/// FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html), Patient level
/// (docs/interop.md#bulk-data-export): a job that reads through the kick-off principal's guarded
/// repository — so the export holds exactly what that principal may see — and streams NDJSON
/// to files in the data directory, one page at a time (constant memory but for the audit list).
///
/// A job's state lives in its directory (`<data>/bulk-export/<job>/`): `job.json` (who, what,
/// when), `progress.json`, the `.ndjson` files, and finally `manifest.json` or `error.json`.
/// Deleting the directory cancels the job (it stops at its next page). A job that was running
/// in another process (the server restarted) fails cleanly when polled: `error.json` says so.
public enum BulkExport {
    /// This process: a job started by another process and not finished was cut by a restart.
    public static let processID = UUID().uuidString.lowercased()

    /// Resources read per page.
    public static let pageSize = 500

    public struct Job: Sendable {
        public var id: String
        public var directory: String
        public var subject: String
        public var types: [String]
        public var since: String?
        public var request: String
        public var transactionTime: String
    }

    /// The resource types of a Patient-level export: Patient and the Patient compartment's types.
    public static var patientTypes: [String] {
        ["Patient"] + Definitions.r4.patientCompartment.filter { !$0.value.isEmpty }.keys.sorted().filter { $0 != "Patient" }
    }

    /// Checks the kick-off parameters and writes the job's directory. Throws a precise 400 for an
    /// unsupported `_outputFormat`, an unknown or non-compartment `_type`, or a `_since` that is
    /// not an instant.
    public static func prepare(root: String, subject: String, request: String, parameters: [(String, String)], now: Timestamp) throws -> Job {
        var types = patientTypes
        var since: String?
        for (k, v) in parameters {
            switch k {
            case "_outputFormat":
                guard ["application/fhir+ndjson", "application/ndjson", "ndjson"].contains(v) else {
                    throw FHIRError.badRequest("_outputFormat '\(v)' is not supported; use application/fhir+ndjson",
                                               "_outputFormat '\(v)' no se admite; use application/fhir+ndjson", code: "not-supported")
                }
            case "_type":
                let wanted = v.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                for t in wanted where !patientTypes.contains(t) {
                    throw FHIRError.badRequest("_type '\(t)' is not a resource type of the Patient compartment",
                                               "_type '\(t)' no es un tipo de recurso del compartimento Patient", code: "not-supported")
                }
                types = patientTypes.filter { wanted.contains($0) }
            case "_since":
                guard Timestamp(instant: v) != nil else {
                    throw FHIRError.badRequest("_since must be an instant, e.g. 2026-01-01T00:00:00Z", "_since debe ser un instante, p. ej. 2026-01-01T00:00:00Z")
                }
                since = v
            default:
                throw FHIRError.badRequest("the export parameter '\(k)' is not supported (supported: _outputFormat, _type, _since)",
                                           "el parámetro de exportación '\(k)' no se admite (se admiten: _outputFormat, _type, _since)", code: "not-supported")
            }
        }
        let id = UUID().uuidString.lowercased()
        let directory = root + "/" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let job = Job(id: id, directory: directory, subject: subject, types: types, since: since, request: request, transactionTime: now.description)
        let json: JSON = .object([
            ("id", .string(id)), ("subject", .string(subject)), ("types", .array(types.map { .string($0) })),
            ("since", since.map { .string($0) } ?? .null), ("request", .string(request)), ("transactionTime", .string(job.transactionTime)),
            ("process", .string(processID)),
        ])
        try write(json, to: directory + "/job.json")
        try write(.object([("done", .number("0")), ("of", .number(String(types.count)))]), to: directory + "/progress.json")
        return job
    }

    static func write(_ json: JSON, to path: String) throws {
        try Data(json.serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(_ path: String) -> JSON? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONParser.parse(Array(data))
    }

    /// Runs the job: for each type, every page the guard returns is appended to `<Type>.ndjson`;
    /// types the principal may not read go to `error.ndjson` as an OperationOutcome. Records one
    /// audit entry for the job (every resource exported, the patients covered) and writes the
    /// manifest. Stops quietly when the directory was deleted (cancelled).
    public static func run(_ job: Job, door: Door, principal: Principal, base: String) async {
        let audit = AuditContext(requestID: "bulk-export-" + job.id, method: "GET", path: "/fhir/Patient/$export", query: nil, remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "$export"
        let fm = FileManager.default
        var outputs: [JSON] = []
        var errors: [String] = []
        do {
            let guarded = try await door.open(principal, audit: audit)
            var parser = SearchParser(options: { var o = SearchParser.Options(); o.maxCount = pageSize; return o }())
            parser.options.strict = false
            for (n, type) in job.types.enumerated() {
                guard fm.fileExists(atPath: job.directory) else { return }
                if let readable = guarded.decision.readableTypes, !readable.contains(type) {
                    errors.append(type)
                    continue
                }
                var parameters: [(String, String)] = [("_count", String(pageSize)), ("_total", "none")]
                if let since = job.since { parameters.append(("_lastUpdated", "ge" + since)) }
                var (query, _) = try parser.parse(types: [type], parameters: parameters)
                let path = job.directory + "/\(type).ndjson"
                var count = 0
                var handle: FileHandle?
                while true {
                    guard fm.fileExists(atPath: job.directory) else { try? handle?.close(); return }
                    let result: SearchResult
                    do {
                        result = try await guarded.search(query)
                    } catch let e as FHIRError where e.status == 403 {
                        errors.append(type)
                        break
                    }
                    for r in result.matches where !r.deleted {
                        if handle == nil {
                            fm.createFile(atPath: path, contents: nil)
                            handle = FileHandle(forWritingAtPath: path)
                        }
                        handle?.write(Data(r.body))
                        handle?.write(Data([0x0A]))
                        count += 1
                    }
                    guard result.hasMore, let last = result.matches.last else { break }
                    query.cursor = SearchCursor(keys: result.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
                }
                try handle?.close()
                if count > 0 {
                    outputs.append(.object([("type", .string(type)), ("url", .string("\(base)/$export-file/\(job.id)/\(type).ndjson")),
                                            ("count", .number(String(count)))]))
                }
                try? write(.object([("done", .number(String(n + 1))), ("of", .number(String(job.types.count)))]), to: job.directory + "/progress.json")
            }
            var errorOutput: [JSON] = []
            if !errors.isEmpty {
                let lines = errors.map { t -> String in
                    let issue = Issue(.error, code: "forbidden", english: "\(t) was not exported: your access does not include it",
                                      spanish: "\(t) no se exportó: su acceso no lo incluye")
                    let oo: JSON = .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))])
                    return String(decoding: oo.serialized(), as: UTF8.self)
                }
                try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: job.directory + "/OperationOutcome.ndjson"))
                errorOutput.append(.object([("type", .string("OperationOutcome")), ("url", .string("\(base)/$export-file/\(job.id)/OperationOutcome.ndjson"))]))
            }
            guard fm.fileExists(atPath: job.directory) else { return }
            // one audit entry for the whole job: what was exported and whose data it was
            let now = door.clock.now()
            let event = door.auditBuilder.build(audit, status: 200, recorded: now)
            _ = try await door.ledger.record(PendingAudit(recorded: now, patients: audit.patients, bytes: event.serialized()))
            let manifest: JSON = .object([
                ("transactionTime", .string(job.transactionTime)),
                ("request", .string(job.request)),
                ("requiresAccessToken", .bool(true)),
                ("output", .array(outputs)),
                ("error", .array(errorOutput)),
            ])
            try write(manifest, to: job.directory + "/manifest.json")
        } catch {
            let e = error as? FHIRError
            let issue = Issue(.error, code: e?.issues.first?.code ?? "exception",
                              english: "the export failed: \(e?.issues.first?.english ?? "internal error")",
                              spanish: "la exportación falló: \(e?.issues.first?.spanish ?? "error interno")")
            try? write(.object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))]), to: job.directory + "/error.json")
        }
    }

    /// What a status request finds.
    public enum Status: Sendable {
        case inProgress(done: Int, of: Int)
        case complete(JSON)
        case failed(JSON)
        case notFound
    }

    /// The status of job `id` for `subject` (another principal's job is not found). A job left
    /// unfinished by another process fails now, with an OperationOutcome that says so.
    public static func status(root: String, id: String, subject: String) -> Status {
        guard isJobID(id), let job = read(root + "/" + id + "/job.json"), job["subject"]?.stringValue == subject else { return .notFound }
        let dir = root + "/" + id
        if let manifest = read(dir + "/manifest.json") { return .complete(manifest) }
        if let error = read(dir + "/error.json") { return .failed(error) }
        if job["process"]?.stringValue != processID {
            let issue = Issue(.error, code: "incomplete", english: "the export was interrupted by a server restart; start a new export",
                              spanish: "la exportación se interrumpió por un reinicio del servidor; inicie una nueva exportación")
            let oo: JSON = .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))])
            try? write(oo, to: dir + "/error.json")
            return .failed(oo)
        }
        let progress = read(dir + "/progress.json")
        func int(_ k: String) -> Int { if case let .number(n)? = progress?[k] { return Int(n) ?? 0 }; return 0 }
        return .inProgress(done: int("done"), of: int("of"))
    }

    /// Cancels (and deletes) job `id` of `subject`; false when there is no such job.
    ///
    /// The directory is first renamed out of the way — one atomic step, after which neither a
    /// status request nor the running job finds it (the job's next write fails and it stops) —
    /// and only then removed. Removing it in place raced the running job: a file it wrote while
    /// the directory was being emptied left `job.json` and a fresh `manifest.json` behind, so a
    /// cancelled job could still answer 200.
    public static func cancel(root: String, id: String, subject: String) -> Bool {
        guard isJobID(id), let job = read(root + "/" + id + "/job.json"), job["subject"]?.stringValue == subject else { return false }
        let tombstone = root + "/.cancelled-" + id + "-" + UUID().uuidString.lowercased()
        guard rename(root + "/" + id, tombstone) == 0 else { return false }
        sweepCancelled(root: root)
        return true
    }

    /// Removes cancelled jobs' directories (what a removal cut short is retried on the next one).
    static func sweepCancelled(root: String) {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(".cancelled-") {
            try? fm.removeItem(atPath: root + "/" + name)
        }
    }

    /// The path of an output file of job `id` of `subject`, when it exists.
    public static func file(root: String, id: String, name: String, subject: String) -> String? {
        guard isJobID(id), name.hasSuffix(".ndjson"), !name.contains("/"), !name.hasPrefix("."),
              let job = read(root + "/" + id + "/job.json"), job["subject"]?.stringValue == subject else { return nil }
        let path = root + "/" + id + "/" + name
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static func isJobID(_ id: String) -> Bool {
        id.count == 36 && id.allSatisfy { $0.isHexDigit || $0 == "-" }
    }
}
