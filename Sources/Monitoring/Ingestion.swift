import FHIR
import Foundation
import Storage
import Trust

/// Device ingestion (docs/monitoring.md): Open mHealth data points, one or an array, mapped to
/// Observations and written through the caller's guarded repository, each with its reading
/// identifier and `ifNoneExist`, so a reading sent again (a retried request) stores nothing new.
///
/// - A **transaction** (the default) is all or nothing: one unacceptable reading refuses the
///   whole request with a 422 OperationOutcome naming each bad reading (`[2].body.oxygen_saturation.value`).
/// - A **batch** stores the acceptable readings; each unacceptable one gets its own
///   `response.outcome` in the `batch-response`.
public enum Ingestion {
    public enum Mode: String, Sendable {
        case transaction, batch
    }

    /// At most this many data points per request.
    public static let maxPoints = 1000

    /// Ingests `payload` (one data point or an array of them) for `patient` (an id).
    /// Returns the `transaction-response` / `batch-response` Bundle, one entry per data point in
    /// order (`201 Created` for a new reading, `200 OK` for one already stored).
    /// - Throws: `FHIRError` 400 for an empty or oversized payload, 422 for a transaction with an
    ///   unacceptable reading, 403 when the guard refuses the writes.
    /// `device` (`Device/<id>`), when given, is the `Observation.device` reference of every
    /// reading (a device gateway names the Device it registered, docs/monitoring.md "Who may write
    /// readings"); the source name stays its `display`.
    public static func ingest(_ payload: JSON, patient: String, mode: Mode, now: Timestamp, guarded: GuardedRepository,
                              base: String, device: String? = nil) async throws -> JSON {
        let points: [JSON]
        let single: Bool
        if let array = payload.arrayValue {
            points = array
            single = false
        } else {
            points = [payload]
            single = true
        }
        guard !points.isEmpty else {
            throw FHIRError.badRequest("no data points: send one Open mHealth data point or a non-empty array",
                                       "no hay puntos de datos: envíe un punto de datos Open mHealth o un arreglo no vacío")
        }
        guard points.count <= maxPoints else {
            throw FHIRError(status: 413, code: "too-costly", english: "\(points.count) data points; at most \(maxPoints) per request",
                            spanish: "\(points.count) puntos de datos; como máximo \(maxPoints) por solicitud")
        }
        var mapped: [Int: JSON] = [:]
        var refused: [Int: [Issue]] = [:]
        for (i, p) in points.enumerated() {
            switch OpenMHealth.observation(from: p, patient: patient, now: now) {
            case .success(let o):
                if let device {
                    var ref: [(String, JSON)] = [("reference", .string(device))]
                    if let display = o["device"]?["display"] { ref.append(("display", display)) }
                    mapped[i] = o.setting("device", .object(ref))
                } else {
                    mapped[i] = o
                }
            case .failure(let f):
                let prefix = single ? "" : "[\(i)]"
                refused[i] = f.issues.map { issue in
                    var issue = issue
                    issue.expression = issue.expression.map { e in
                        e.isEmpty ? (prefix.isEmpty ? "$this" : prefix) : (prefix.isEmpty ? e : "\(prefix).\(e)")
                    }
                    return issue
                }
            }
        }
        if mode == .transaction, !refused.isEmpty {
            let issues = refused.keys.sorted().flatMap { refused[$0]! }
            throw FHIRError(status: 422, issues: issues)
        }
        // the same reading twice in one request is written once; both get its response
        var firstOf: [String: Int] = [:]
        var sameAs: [Int: Int] = [:]
        var written: [Int] = []
        for i in mapped.keys.sorted() {
            let key = readingKey(mapped[i]!)
            if let first = firstOf[key] { sameAs[i] = first } else { firstOf[key] = i; written.append(i) }
        }
        var responses: [Int: JSON] = [:]
        if !written.isEmpty {
            let entries: [JSON] = written.map { i in
                .object([("resource", mapped[i]!),
                         ("request", .object([("method", .string("POST")), ("url", .string("Observation")),
                                              ("ifNoneExist", .string("identifier=\(OpenMHealth.readingSystem)|\(readingKey(mapped[i]!))"))]))])
            }
            let bundle: JSON = .object([("resourceType", .string("Bundle")), ("type", .string(mode.rawValue)), ("entry", .array(entries))])
            let response = try await guarded.process(bundle: bundle, options: .init(base: base, maxEntries: maxPoints))
            for (n, e) in (response["entry"]?.arrayValue ?? []).enumerated() where n < written.count {
                responses[written[n]] = e
            }
        }
        var out: [JSON] = []
        for i in points.indices {
            if let issues = refused[i] {
                out.append(.object([("response", .object([("status", .string("422 Unprocessable Entity")),
                                                          ("outcome", OperationOutcome.make(issues))]))]))
            } else if let e = responses[sameAs[i] ?? i] {
                out.append(e)
            }
        }
        return .object([("resourceType", .string("Bundle")), ("type", .string("\(mode.rawValue)-response")), ("entry", .array(out))])
    }

    static func readingKey(_ observation: JSON) -> String {
        (observation["identifier"]?.arrayValue ?? []).first { $0["system"]?.stringValue == OpenMHealth.readingSystem }?["value"]?.stringValue ?? ""
    }
}
