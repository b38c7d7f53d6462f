import FHIR
import Foundation
import Storage
import Trust

/// FHIR Bulk Data export (https://hl7.org/fhir/uv/bulkdata/export.html) at system, Patient and
/// Group level (docs/interop.md#bulk-data-export): a job that reads through the kick-off
/// principal's guarded repository — so the export holds exactly what that principal may see —
/// and streams NDJSON to files in the data directory, one page at a time.
///
/// A job's state lives in its directory (`<data>/bulk-export/<job>/`): `job.json` (who, what,
/// when), `progress.json`, `poll.json` (when the next status request is welcome), the `.ndjson`
/// files, and finally `manifest.json` or `error.json` with `finished.json` (when). Deleting the
/// directory cancels the job (it stops at its next page). A job that was running in another
/// process (the server restarted) fails cleanly when polled: `error.json` says so. A finished
/// job expires `retention` seconds after it finished (`expired`, `sweepExpired`).
public enum BulkExport {
    /// This process: a job started by another process and not finished was cut by a restart.
    public static let processID = UUID().uuidString.lowercased()

    /// Resources read per page.
    public static let pageSize = 500
    /// The member list of a Patient export whose named patients were all unknown: an id no
    /// resource can have (FHIR ids are at most 64 characters), so the export is empty, not whole.
    public static let noPatient = String(repeating: "0", count: 65)

    /// How long a finished export's files are kept, by default (seconds).
    public static let defaultRetentionSeconds: Double = 3600

    /// The `Retry-After` a status request of a running job is told (seconds); polling again
    /// sooner is answered 429.
    public static let retryAfterSeconds = 1

    /// What the export covers.
    public enum Level: Sendable, Equatable {
        /// `GET [base]/$export`: every type the caller may read.
        case system
        /// `GET [base]/Patient/$export`: the Patient compartment of every patient the caller may see.
        case patient
        /// `GET [base]/Group/[id]/$export`: the Patient compartments of the Group's members.
        case group(String)

        var name: String {
            switch self {
            case .system: "system"
            case .patient: "patient"
            case .group: "group"
            }
        }
    }

    public struct Job: Sendable {
        public var id: String
        public var directory: String
        public var subject: String
        public var level: Level
        /// Patient ids of a Group export (sorted, unique); empty otherwise.
        public var members: [String]
        public var types: [String]
        /// `_type` was given: a type the principal may not read is reported in `error`; without
        /// it, such types are simply not part of the export ("all supported resources within
        /// the scope of the client authorization").
        public var typesRequested: Bool
        public var since: String?
        /// `_typeFilter`, by type: the search queries (parameters) whose union is exported.
        public var typeFilters: [String: [[(String, String)]]]
        /// `_elements`, as given (`name` or `Type.name`).
        public var elements: [String]?
        /// `includeAssociatedData`: the Provenances of what is exported, too.
        public var associated: AssociatedData?
        public var request: String
        public var transactionTime: String
    }

    /// `includeAssociatedData` (https://hl7.org/fhir/uv/bulkdata/export.html#query-parameters):
    /// the Provenance resources whose `target` is an exported resource — the most recent one of
    /// each (`LatestProvenanceResources`) or all of them (`RelevantProvenanceResources`).
    public enum AssociatedData: String, Sendable {
        case latestProvenance = "LatestProvenanceResources"
        case relevantProvenance = "RelevantProvenanceResources"
    }

    /// The resource types of a Patient-level export: Patient and the Patient compartment's types.
    public static var patientTypes: [String] {
        ["Patient"] + Definitions.r4.patientCompartment.filter { !$0.value.isEmpty }.keys.sorted().filter { $0 != "Patient" }
    }

    /// The resource types of a system-level export: every R4 type but AuditEvent (the audit log
    /// is read through its own routes and rules, docs/audit.md).
    public static var systemTypes: [String] {
        Definitions.r4.resourceTypes.filter { $0 != "AuditEvent" }.sorted()
    }

    static func types(of level: Level) -> [String] {
        level == .system ? systemTypes : patientTypes
    }

    /// Result-control parameters a `_typeFilter` query may not carry: it selects resources, the
    /// export decides how they are written.
    static let resultParameters: Set<String> = ["_count", "_sort", "_include", "_revinclude", "_summary", "_elements", "_total",
                                                "_contained", "_containedType", "_format", "_pretty", "_page", "_cursor"]

    /// Checks the kick-off parameters and writes the job's directory. Throws a precise 400 for an
    /// unsupported `_outputFormat`, an unknown `_type` (or, below system level, one outside the
    /// Patient compartment), a `_since` that is not an instant, a `_typeFilter` that is not a
    /// valid search of an exported type, and an `_elements` entry that names no element.
    public static func prepare(root: String, subject: String, request: String, level: Level = .patient, members: [String] = [],
                               parameters: [(String, String)], now: Timestamp) throws -> Job {
        let allowed = types(of: level)
        var types = allowed
        var typesRequested = false
        var since: String?
        var rawFilters: [String] = []
        var elements: [String]?
        var associated: AssociatedData?
        for (k, v) in parameters {
            switch k {
            case "_outputFormat":
                guard ["application/fhir+ndjson", "application/ndjson", "ndjson"].contains(v) else {
                    throw FHIRError.badRequest("_outputFormat '\(v)' is not supported; use application/fhir+ndjson (or application/ndjson, ndjson)",
                                               "_outputFormat '\(v)' no se admite; use application/fhir+ndjson (o application/ndjson, ndjson)", code: "not-supported")
                }
            case "_type":
                let wanted = v.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
                for t in wanted where !allowed.contains(t) {
                    if level == .system {
                        throw FHIRError.badRequest("_type '\(t)' is not a resource type this server exports",
                                                   "_type '\(t)' no es un tipo de recurso que este servidor exporte", code: "not-supported")
                    }
                    throw FHIRError.badRequest("_type '\(t)' is not a resource type of the Patient compartment",
                                               "_type '\(t)' no es un tipo de recurso del compartimento Patient", code: "not-supported")
                }
                // repeated _type parameters add up
                let before = typesRequested ? Set(types) : []
                types = allowed.filter { wanted.contains($0) || before.contains($0) }
                typesRequested = true
            case "_since":
                guard Timestamp(instant: v) != nil else {
                    throw FHIRError.badRequest("_since must be an instant, e.g. 2026-01-01T00:00:00Z", "_since debe ser un instante, p. ej. 2026-01-01T00:00:00Z")
                }
                since = v
            case "_typeFilter":
                rawFilters += splitTypeFilter(v)
            case "_elements":
                elements = (elements ?? []) + v.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            case "includeAssociatedData":
                for value in v.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) where !value.isEmpty {
                    guard let a = AssociatedData(rawValue: value) else {
                        throw FHIRError.badRequest("includeAssociatedData '\(value)' is not supported (supported: LatestProvenanceResources, RelevantProvenanceResources)",
                                                   "includeAssociatedData '\(value)' no se admite (se admiten: LatestProvenanceResources, RelevantProvenanceResources)",
                                                   code: "not-supported")
                    }
                    // every Provenance includes the latest ones
                    if associated != .relevantProvenance { associated = a }
                }
            default:
                throw FHIRError.badRequest("the export parameter '\(k)' is not supported (supported: _outputFormat, _type, _since, _typeFilter, _elements, includeAssociatedData)",
                                           "el parámetro de exportación '\(k)' no se admite (se admiten: _outputFormat, _type, _since, _typeFilter, _elements, includeAssociatedData)", code: "not-supported")
            }
        }
        let typeFilters = try parseTypeFilters(rawFilters, types: types)
        if let elements { try checkElements(elements, types: types) }
        let id = UUID().uuidString.lowercased()
        let directory = root + "/" + id
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sortedMembers = Array(Set(members)).sorted()
        let job = Job(id: id, directory: directory, subject: subject, level: level, members: sortedMembers, types: types,
                      typesRequested: typesRequested, since: since, typeFilters: typeFilters, elements: elements, associated: associated,
                      request: request, transactionTime: now.description)
        var group: JSON = .null
        if case .group(let g) = level { group = .string(g) }
        let json: JSON = .object([
            ("id", .string(id)), ("subject", .string(subject)), ("level", .string(level.name)), ("group", group),
            ("members", .array(sortedMembers.map { .string($0) })), ("types", .array(types.map { .string($0) })),
            ("since", since.map { .string($0) } ?? .null), ("typeFilter", .array(rawFilters.map { .string($0) })),
            ("elements", elements.map { .array($0.map { .string($0) }) } ?? .null),
            ("includeAssociatedData", associated.map { .string($0.rawValue) } ?? .null),
            ("request", .string(request)), ("transactionTime", .string(job.transactionTime)),
            ("started", .number(String(now.microseconds))), ("process", .string(processID)),
        ])
        try write(json, to: directory + "/job.json")
        try write(.object([("done", .number("0")), ("of", .number(String(types.count)))]), to: directory + "/progress.json")
        return job
    }

    /// `_typeFilter` values are search queries (`Observation?code=4548-4&date=ge2026-01-01`); one
    /// value may hold several separated by commas (IG v1 style). A comma starts a new query only
    /// where a resource type and `?` follow, so `code=a,b` stays one query.
    static func splitTypeFilter(_ value: String) -> [String] {
        var out: [String] = []
        var current = ""
        let parts = value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for part in parts {
            if !current.isEmpty, let q = part.firstIndex(of: "?"), Definitions.r4.isResourceType(String(part[..<q])) {
                out.append(current)
                current = part
            } else {
                current = current.isEmpty ? part : current + "," + part
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    /// Each `_typeFilter` parsed by the same search parser the API uses (strictly: an unknown
    /// parameter is an error, not ignored), for a type that is exported.
    static func parseTypeFilters(_ filters: [String], types: [String]) throws -> [String: [[(String, String)]]] {
        var out: [String: [[(String, String)]]] = [:]
        var parser = SearchParser(options: { var o = SearchParser.Options(); o.maxCount = pageSize; o.strict = true; return o }())
        parser.options.strict = true
        for filter in filters {
            func invalid(_ english: String, _ spanish: String) -> FHIRError {
                FHIRError.badRequest("_typeFilter '\(filter)': \(english)", "_typeFilter '\(filter)': \(spanish)", code: "invalid")
            }
            guard let q = filter.firstIndex(of: "?") else {
                throw invalid("must be a search query Type?parameters, e.g. Observation?code=4548-4",
                              "debe ser una búsqueda Tipo?parámetros, p. ej. Observation?code=4548-4")
            }
            let type = String(filter[..<q])
            guard Definitions.r4.isResourceType(type) else {
                throw invalid("'\(type)' is not a resource type", "'\(type)' no es un tipo de recurso")
            }
            guard types.contains(type) else {
                throw invalid("\(type) is not among the exported types (_type)", "\(type) no está entre los tipos exportados (_type)")
            }
            guard let pairs = queryPairs(String(filter[filter.index(after: q)...])), !pairs.isEmpty else {
                throw invalid("the query is empty or not URL-encoded correctly", "la búsqueda está vacía o mal codificada")
            }
            if let bad = pairs.first(where: { resultParameters.contains($0.0) }) {
                throw invalid("'\(bad.0)' controls results; a _typeFilter may only select resources",
                              "'\(bad.0)' controla los resultados; un _typeFilter solo puede seleccionar recursos")
            }
            do {
                _ = try parser.parse(types: [type], parameters: pairs)
            } catch let e as FHIRError {
                throw invalid(e.issues.first?.english ?? "not a valid search", e.issues.first?.spanish ?? "no es una búsqueda válida")
            }
            out[type, default: []].append(pairs)
        }
        return out
    }

    /// A query string's pairs, percent-decoded (`+` is a space, as in a URL's query); nil when
    /// an escape is malformed.
    static func queryPairs(_ raw: String) -> [(String, String)]? {
        var out: [(String, String)] = []
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = String(kv[0]).replacingOccurrences(of: "+", with: " ").removingPercentEncoding,
                  let v = (kv.count > 1 ? String(kv[1]) : "").replacingOccurrences(of: "+", with: " ").removingPercentEncoding else { return nil }
            out.append((k, v))
        }
        return out
    }

    /// `_elements` entries are root elements, `name` (for every exported type that has it) or
    /// `Type.name`; one that names no element of an exported type is a 400.
    static func checkElements(_ elements: [String], types: [String]) throws {
        for e in elements {
            let parts = e.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            let ok: Bool
            if parts.count == 1 {
                ok = types.contains { hasElement($0, parts[0]) }
            } else if parts.count == 2 {
                ok = types.contains(parts[0]) && hasElement(parts[0], parts[1])
            } else {
                ok = false
            }
            guard ok else {
                throw FHIRError.badRequest("_elements '\(e)' is not a root element of an exported type (use name or Type.name, e.g. Patient.birthDate)",
                                           "_elements '\(e)' no es un elemento raíz de un tipo exportado (use nombre o Tipo.nombre, p. ej. Patient.birthDate)")
            }
        }
    }

    static func hasElement(_ type: String, _ name: String) -> Bool {
        guard let def = Definitions.r4.types[type] else { return false }
        if ["id", "meta"].contains(name) { return true }
        if def.children[type]?[name] != nil { return true }
        return def.choices[type]?.contains { name == $0.prefix || (name.hasPrefix($0.prefix) && name.count > $0.prefix.count) } ?? false
    }

    /// The element names `_elements` keeps on `type`: the plain names and those qualified with
    /// `type`; nil when none applies (the resource is exported whole).
    static func elements(_ elements: [String]?, for type: String) -> Set<String>? {
        guard let elements else { return nil }
        var out = Set<String>()
        for e in elements {
            let parts = e.split(separator: ".").map(String.init)
            if parts.count == 1, hasElement(type, parts[0]) { out.insert(parts[0]) }
            if parts.count == 2, parts[0] == type { out.insert(parts[1]) }
        }
        return out.isEmpty ? nil : out
    }

    /// The resource with only `id`, `meta`, its mandatory elements and `keep`, tagged SUBSETTED
    /// (https://hl7.org/fhir/R4/v3/ObservationValue/cs.html) when something was left out.
    static func subset(_ resource: JSON, keep: Set<String>) -> JSON {
        Subsetting.apply(resource, summary: nil, elements: Array(keep))
    }

    static func write(_ json: JSON, to path: String) throws {
        try Data(json.serialized()).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(_ path: String) -> JSON? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONParser.parse(Array(data))
    }

    static func int(_ json: JSON?, _ key: String) -> Int64? {
        if case let .number(n)? = json?[key] { return Int64(n) }
        return nil
    }

    /// What a status request finds.
    public enum Status: Sendable {
        case inProgress(done: Int, of: Int)
        /// The manifest, and when the files expire.
        case complete(JSON, expires: Timestamp)
        case failed(JSON)
        /// Polled sooner than the `Retry-After` it was told: wait this many seconds.
        case tooSoon(retryAfter: Int)
        /// The job finished more than the retention ago; its files are gone.
        case expired
        case notFound
    }

    /// The status of job `id` for `subject` (another principal's job is not found). A job left
    /// unfinished by another process fails now, with an OperationOutcome that says so. A job
    /// still running that is polled sooner than `retryAfterSeconds` after the last answer is
    /// `tooSoon` (its next welcome time is kept in the job's directory, so memory does not grow
    /// with clients). A job finished more than `retention` seconds ago is removed: `expired`.
    public static func status(root: String, id: String, subject: String, now: Timestamp, retention: Double = defaultRetentionSeconds) -> Status {
        guard isJobID(id), let job = read(root + "/" + id + "/job.json"), job["subject"]?.stringValue == subject else { return .notFound }
        let dir = root + "/" + id
        if expired(root: root, id: id, now: now, retention: retention) { return .expired }
        if let manifest = read(dir + "/manifest.json") {
            let finished = int(read(dir + "/finished.json"), "at") ?? now.microseconds
            return .complete(manifest, expires: Timestamp(microseconds: finished + Int64(retention * 1_000_000)))
        }
        if let error = read(dir + "/error.json") { return .failed(error) }
        if job["process"]?.stringValue != processID {
            let issue = Issue(.error, code: "incomplete", english: "the export was interrupted by a server restart; start a new export",
                              spanish: "la exportación se interrumpió por un reinicio del servidor; inicie una nueva exportación")
            let oo: JSON = .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))])
            try? write(oo, to: dir + "/error.json")
            markFinished(dir, now: now)
            return .failed(oo)
        }
        // 429 for a client that polls faster than it was told (with 10 % slack for clocks)
        let poll = dir + "/poll.json"
        if let notBefore = int(read(poll), "notBefore"), now.microseconds < notBefore {
            let wait = max(1, Int((Double(notBefore - now.microseconds) / 1_000_000).rounded(.up)))
            return .tooSoon(retryAfter: wait)
        }
        let next = now.microseconds + Int64(Double(retryAfterSeconds) * 0.9 * 1_000_000)
        try? write(.object([("notBefore", .number(String(next)))]), to: poll)
        let progress = read(dir + "/progress.json")
        return .inProgress(done: Int(int(progress, "done") ?? 0), of: Int(int(progress, "of") ?? 0))
    }

    static func markFinished(_ dir: String, now: Timestamp) {
        try? write(.object([("at", .number(String(now.microseconds)))]), to: dir + "/finished.json")
    }

    /// Has job `id` expired (finished, or cut by a restart, more than `retention` seconds ago)?
    /// An expired job is removed from disk here.
    public static func expired(root: String, id: String, now: Timestamp, retention: Double) -> Bool {
        let dir = root + "/" + id
        let at: Int64?
        if let finished = int(read(dir + "/finished.json"), "at") {
            at = finished
        } else if let job = read(dir + "/job.json"), job["process"]?.stringValue != processID {
            at = int(job, "started")
        } else {
            at = nil
        }
        guard let at, Double(now.microseconds - at) > retention * 1_000_000 else { return false }
        remove(root: root, id: id)
        return true
    }

    /// Removes every expired job of `root` (at kick-off, and periodically: `ExportSweeper`).
    /// Returns how many were removed.
    @discardableResult
    public static func sweepExpired(root: String, now: Timestamp, retention: Double) -> Int {
        var n = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where isJobID(name) {
            if expired(root: root, id: name, now: now, retention: retention) { n += 1 }
        }
        sweepCancelled(root: root)
        return n
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
        return remove(root: root, id: id)
    }

    @discardableResult
    static func remove(root: String, id: String) -> Bool {
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

    /// The path of an output file of job `id` of `subject`, when it exists and has not expired.
    public static func file(root: String, id: String, name: String, subject: String, now: Timestamp,
                            retention: Double = defaultRetentionSeconds) -> String? {
        guard isJobID(id), name.hasSuffix(".ndjson"), !name.contains("/"), !name.hasPrefix("."),
              let job = read(root + "/" + id + "/job.json"), job["subject"]?.stringValue == subject,
              !expired(root: root, id: id, now: now, retention: retention) else { return nil }
        let path = root + "/" + id + "/" + name
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    static func isJobID(_ id: String) -> Bool {
        id.count == 36 && id.allSatisfy { $0.isHexDigit || $0 == "-" }
    }
}

extension BulkExport {
    /// The patient ids a `Group` lists as members (`member.entity` references to Patient,
    /// relative or under `base`; a member marked `inactive` is left out), sorted and unique.
    public static func members(of group: JSON, base: String) -> [String] {
        var out = Set<String>()
        for m in group["member"]?.arrayValue ?? [] where m["inactive"]?.boolValue != true {
            guard var ref = m["entity"]?["reference"]?.stringValue else { continue }
            if ref.hasPrefix(base + "/") { ref = String(ref.dropFirst(base.count + 1)) }
            let parts = ref.split(separator: "/").map(String.init)
            if parts.count == 2, parts[0] == "Patient", !parts[1].isEmpty { out.insert(parts[1]) }
        }
        return out.sorted()
    }
}
