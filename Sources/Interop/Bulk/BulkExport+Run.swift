import FHIR
import Foundation
import Storage
import Trust

extension BulkExport {
    /// Runs the job: for each type, every page the guard returns is appended to `<Type>.ndjson`
    /// (for a Group, page by page of each member's compartment; with `_typeFilter`, of each
    /// filter's search); types asked for with `_type` that the principal may not read go to the
    /// manifest's `error` as an OperationOutcome. With `_since`, the resources deleted since then
    /// go to `deleted.ndjson` as transaction Bundles of DELETE requests. Records one audit entry
    /// for the job (every resource exported, the patients covered) and writes the manifest.
    /// Stops quietly when the directory was deleted (cancelled).
    public static func run(_ job: Job, door: Door, principal: Principal, base: String) async {
        let path: String
        switch job.level {
        case .system: path = "/fhir/$export"
        case .patient: path = "/fhir/Patient/$export"
        case .group(let g): path = "/fhir/Group/\(g)/$export"
        }
        let audit = AuditContext(requestID: "bulk-export-" + job.id, method: "GET", path: path, query: nil, remoteAddress: nil)
        audit.principal = principal
        audit.interaction = "$export"
        let fm = FileManager.default
        var outputs: [JSON] = []
        var errors: [String] = []
        var deletedOutput: [JSON] = []
        do {
            let guarded = try await door.open(principal, audit: audit)
            var parser = SearchParser(options: { var o = SearchParser.Options(); o.maxCount = pageSize; return o }())
            parser.options.strict = false
            let memberSet = Set(job.members)
            // every patient whose data left in the export, for their access log: the request's
            // audit context keeps the first 1,000 only (enough for a page, not for an export)
            var covered = Set<String>()
            // with includeAssociatedData: what was exported (for its Provenances), and the
            // Provenances already written as a type of their own
            var exported = Set<String>()
            var provenancesWritten = Set<String>()
            for (n, type) in job.types.enumerated() {
                guard fm.fileExists(atPath: job.directory) else { return }
                if let readable = guarded.decision.readableTypes, !readable.contains(type) {
                    if job.typesRequested { errors.append(type) }
                    continue
                }
                let keep = elements(job.elements, for: type)
                let filters = job.typeFilters[type] ?? [[]]
                // several filters of one type are a union: a resource two of them match is written once
                var written = filters.count > 1 ? Set<String>() : nil
                let file = job.directory + "/\(type).ndjson"
                var count = 0
                var handle: FileHandle?
                var refused = false
                let compartments: [String?] = job.restrictsToMembers ? job.members.map { $0 } : [nil]
                search: for filter in filters {
                    for member in compartments {
                        var parameters: [(String, String)] = [("_count", String(pageSize)), ("_total", "none")]
                        if let since = job.since { parameters.append(("_lastUpdated", "ge" + since)) }
                        parameters += filter
                        var (query, _) = try parser.parse(types: [type], parameters: parameters, compartment: member)
                        while true {
                            guard fm.fileExists(atPath: job.directory) else { try? handle?.close(); return }
                            let result: SearchResult
                            do {
                                result = try await guarded.search(query)
                            } catch let e as FHIRError where e.status == 403 {
                                refused = true
                                break search
                            }
                            for r in result.matches where !r.deleted {
                                // a resource in two members' compartments is written with the first
                                if let member, r.compartments.contains(where: { $0 < member && memberSet.contains($0) }) { continue }
                                if written != nil {
                                    guard written!.insert(r.id).inserted else { continue }
                                }
                                if handle == nil {
                                    fm.createFile(atPath: file, contents: nil)
                                    handle = FileHandle(forWritingAtPath: file)
                                }
                                if let keep {
                                    handle?.write(Data(subset(try r.json(), keep: keep).serialized()))
                                } else {
                                    handle?.write(Data(r.body))
                                }
                                handle?.write(Data([0x0A]))
                                covered.formUnion(r.compartments)
                                count += 1
                                if job.associated != nil {
                                    if type == "Provenance" { provenancesWritten.insert(r.id) } else { exported.insert("\(type)/\(r.id)") }
                                }
                            }
                            guard result.hasMore, let last = result.matches.last else { break }
                            query.cursor = SearchCursor(keys: result.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
                        }
                    }
                }
                try handle?.close()
                if refused {
                    if job.typesRequested { errors.append(type) }
                    try? fm.removeItem(atPath: file)
                    continue
                }
                if count > 0 {
                    outputs.append(.object([("type", .string(type)), ("url", .string("\(base)/$export-file/\(job.id)/\(type).ndjson")),
                                            ("count", .number(String(count)))]))
                }
                try? write(.object([("done", .number(String(n + 1))), ("of", .number(String(job.types.count)))]), to: job.directory + "/progress.json")
            }
            if let associated = job.associated, !exported.isEmpty {
                guard fm.fileExists(atPath: job.directory) else { return }
                if let readable = guarded.decision.readableTypes, !readable.contains("Provenance") {
                    errors.append("Provenance")
                } else {
                    do {
                        let (written, patients) = try await writeProvenances(of: exported, associated, job: job, already: provenancesWritten,
                                                                             guarded: guarded, parser: parser)
                        covered.formUnion(patients)
                        if written > 0 {
                            let url = "\(base)/$export-file/\(job.id)/Provenance.ndjson"
                            if let i = outputs.firstIndex(where: { $0["type"]?.stringValue == "Provenance" }) {
                                let before = int(outputs[i], "count") ?? 0
                                outputs[i] = outputs[i].setting("count", .number(String(before + Int64(written))))
                            } else {
                                outputs.append(.object([("type", .string("Provenance")), ("url", .string(url)), ("count", .number(String(written)))]))
                            }
                        }
                    } catch let e as FHIRError where e.status == 403 {
                        errors.append("Provenance")
                    }
                }
            }
            if let since = job.since, let sinceTime = Timestamp(instant: since) {
                guard fm.fileExists(atPath: job.directory) else { return }
                let bundles = try await writeDeleted(job, since: sinceTime, guarded: guarded, members: memberSet, unreadable: Set(errors))
                if bundles > 0 {
                    deletedOutput.append(.object([("type", .string("Bundle")), ("url", .string("\(base)/$export-file/\(job.id)/deleted.ndjson")),
                                                  ("count", .number(String(bundles)))]))
                }
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
            _ = try await door.ledger.record(PendingAudit(recorded: now, patients: Set(audit.patients).union(covered).sorted(), bytes: event.serialized()))
            var manifest: [(String, JSON)] = [
                ("transactionTime", .string(job.transactionTime)),
                ("request", .string(job.request)),
                ("requiresAccessToken", .bool(true)),
                ("output", .array(outputs)),
                ("error", .array(errorOutput)),
            ]
            if job.since != nil { manifest.append(("deleted", .array(deletedOutput))) }
            markFinished(job.directory, now: now)
            try write(.object(manifest), to: job.directory + "/manifest.json")
        } catch {
            let e = error as? FHIRError
            let issue = Issue(.error, code: e?.issues.first?.code ?? "exception",
                              english: "the export failed: \(e?.issues.first?.english ?? "internal error")",
                              spanish: "la exportación falló: \(e?.issues.first?.spanish ?? "error interno")")
            markFinished(job.directory, now: door.clock.now())
            try? write(.object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))]), to: job.directory + "/error.json")
        }
    }

    /// `includeAssociatedData`: the Provenances (through the guard) whose `target` is one of
    /// `exported` (`Type/id`, searched 100 at a time), appended to `Provenance.ndjson` unless
    /// already written as a type of the export — for `latestProvenance` only the most recently
    /// recorded of each exported resource's Provenances. Returns how many were written and the
    /// patients whose compartments they are in.
    static func writeProvenances(of exported: Set<String>, _ associated: AssociatedData, job: Job, already: Set<String>,
                                 guarded: GuardedRepository, parser: SearchParser) async throws -> (Int, Set<String>) {
        let fm = FileManager.default
        let file = job.directory + "/Provenance.ndjson"
        let keep = elements(job.elements, for: "Provenance")
        var handle: FileHandle?
        var written = Set<String>(already), count = 0
        var covered = Set<String>()
        func emit(_ r: StoredResource) throws {
            guard written.insert(r.id).inserted else { return }
            if handle == nil {
                if !fm.fileExists(atPath: file) { fm.createFile(atPath: file, contents: nil) }
                handle = FileHandle(forWritingAtPath: file)
                handle?.seekToEndOfFile()
            }
            handle?.write(Data(try keep.map { subset(try r.json(), keep: $0).serialized() } ?? r.body))
            handle?.write(Data([0x0A]))
            covered.formUnion(r.compartments)
            count += 1
        }
        // latest: for each exported resource, its most recently recorded Provenance so far
        var latest: [String: (recorded: Timestamp, id: String)] = [:]
        var candidates: [String: StoredResource] = [:]
        let targets = exported.sorted()
        for start in stride(from: 0, to: targets.count, by: 100) {
            let chunk = targets[start..<min(start + 100, targets.count)]
            var (query, _) = try parser.parse(types: ["Provenance"], parameters: [("_count", String(pageSize)), ("_total", "none"),
                                                                                  ("target", chunk.joined(separator: ","))])
            while true {
                guard fm.fileExists(atPath: job.directory) else { try? handle?.close(); return (0, []) }
                let result = try await guarded.search(query)
                for r in result.matches where !r.deleted {
                    guard associated == .latestProvenance else { try emit(r); continue }
                    let p = try r.json()
                    let recorded = p["recorded"]?.stringValue.flatMap(Timestamp.init(instant:)) ?? r.lastUpdated
                    for t in p["target"]?.arrayValue ?? [] {
                        guard let ref = t["reference"]?.stringValue else { continue }
                        // a target names a version (Observation/x/_history/2): the resource is Observation/x
                        let parts = ref.split(separator: "/")
                        guard parts.count >= 2 else { continue }
                        let key = String(parts[0]) + "/" + String(parts[1])
                        guard exported.contains(key) else { continue }
                        if let best = latest[key], (best.recorded, best.id) >= (recorded, r.id) { continue }
                        latest[key] = (recorded, r.id)
                        candidates[r.id] = r
                    }
                }
                guard result.hasMore, let last = result.matches.last else { break }
                query.cursor = SearchCursor(keys: result.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
            }
        }
        if associated == .latestProvenance {
            for id in Set(latest.values.map(\.id)).sorted() { if let r = candidates[id] { try emit(r) } }
        }
        try handle?.close()
        return (count, covered)
    }

    /// The resources of the job's types deleted since `since` that the principal may see (the
    /// version history through the guard; for a Group, those in a member's compartment) and
    /// that are still deleted now, as NDJSON transaction Bundles of `DELETE` requests
    /// (https://hl7.org/fhir/uv/bulkdata/export.html#response---complete-status, `deleted`), at
    /// most `pageSize` entries each. Returns the number of Bundles written.
    static func writeDeleted(_ job: Job, since: Timestamp, guarded: GuardedRepository, members: Set<String>, unreadable: Set<String>) async throws -> Int {
        let fm = FileManager.default
        let file = job.directory + "/deleted.ndjson"
        var handle: FileHandle?
        var bundles = 0
        var entries: [JSON] = []
        func flush() throws {
            guard !entries.isEmpty else { return }
            if handle == nil {
                fm.createFile(atPath: file, contents: nil)
                handle = FileHandle(forWritingAtPath: file)
            }
            let bundle: JSON = .object([
                ("resourceType", .string("Bundle")), ("id", .string(UUID().uuidString.lowercased())),
                ("meta", .object([("lastUpdated", .string(job.transactionTime))])),
                ("type", .string("transaction")), ("entry", .array(entries)),
            ])
            handle?.write(Data(bundle.serialized()))
            handle?.write(Data([0x0A]))
            bundles += 1
            entries = []
        }
        for type in job.types where !unreadable.contains(type) {
            if let readable = guarded.decision.readableTypes, !readable.contains(type) { continue }
            // a resource deleted twice since `since` is listed once
            var listed = Set<String>()
            var before: Int64?
            while true {
                guard fm.fileExists(atPath: job.directory) else { try? handle?.close(); return 0 }
                let page: [HistoryEntry]
                do {
                    page = try await guarded.history(HistoryQuery(scope: .type(type), since: since, beforeSequence: before, count: pageSize)).entries
                } catch let e as FHIRError where e.status == 403 {
                    break
                }
                for entry in page where entry.resource.deleted && !listed.contains(entry.resource.id) {
                    let r = entry.resource
                    if job.restrictsToMembers, !r.compartments.contains(where: members.contains) { continue }
                    // recreated since: it is in the output, not deleted
                    do {
                        _ = try await guarded.read(type, r.id)
                        continue
                    } catch let e as FHIRError where e.status == 410 || e.status == 404 {
                    }
                    listed.insert(r.id)
                    entries.append(.object([("request", .object([("method", .string("DELETE")), ("url", .string("\(type)/\(r.id)"))]))]))
                    if entries.count >= pageSize { try flush() }
                }
                guard page.count == pageSize, let last = page.last else { break }
                before = last.sequence
            }
        }
        try flush()
        try handle?.close()
        return bundles
    }
}

extension BulkExport.Job {
    /// Only the members' compartments: a Group export, or a Patient export that named patients
    /// (the `patient` parameter of a POST kick-off).
    var restrictsToMembers: Bool { level.isGroup || !members.isEmpty }
}

extension BulkExport.Level {
    var isGroup: Bool {
        if case .group = self { return true }
        return false
    }
}
