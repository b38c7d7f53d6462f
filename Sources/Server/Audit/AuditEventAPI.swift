import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage
import Trust

/// `GET /fhir/AuditEvent…`: the ledger seen as FHIR AuditEvents. An AuditEvent's id is its
/// ledger index. A patient's token sees only the entries of their own compartment; auditors,
/// privacy officers and platform operators see every entry. Never writable.
extension FHIRAPI {
    func auditEventRead(_ ctx: EnlaceRequestContext, id: String) async throws -> Response {
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        guard let index = Int64(id), index >= 0 else { throw FHIRError.notFound("AuditEvent", id) }
        let log = try door.auditLog(for: principal, audit: ctx.audit)
        guard let record = try await log.entry(index) else { throw FHIRError.notFound("AuditEvent", id) }
        let redactor = log.seesEverything ? nil : try await guarded(ctx)
        return FHIRResponse.json(.ok, try await redact(auditEvent(record), with: redactor))
    }

    /// Search: `patient=` (a patient's token may omit it), `_count`, paging by `_before=<index>`.
    func auditEventSearch(_ request: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        guard let principal = ctx.principal else { throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación") }
        let log = try door.auditLog(for: principal, audit: ctx.audit)
        let params = try FHIRAPI.parseQuery(request.uri.query ?? "")
        var patient: String?
        var count = 50
        var before: Int64?
        for (k, v) in params {
            switch k {
            case "patient", "entity", "subject":
                patient = v.hasPrefix("Patient/") ? String(v.dropFirst(8)) : v
            case "_count":
                guard let n = Int(v), n >= 0 else { throw FHIRError.badRequest("_count must be a non-negative integer", "_count debe ser un entero no negativo") }
                count = min(n, 500)
            case "_before":
                guard let n = Int64(v) else { throw FHIRError.badRequest("_before must be an entry index", "_before debe ser un índice de entrada") }
                before = n
            case "_format", "_pretty": continue
            default:
                if FHIRAPI.preferStrict(request) {
                    throw FHIRError(status: 400, code: "not-supported", english: "AuditEvent search supports patient, _count and _before",
                                    spanish: "la búsqueda de AuditEvent admite patient, _count y _before")
                }
            }
        }
        if let mine = log.patients { patient = patient ?? mine.sorted().first }
        if let patient {
            let page = try await log.entries(patient: patient, before: before, limit: count)
            ctx.audit?.concerns(patient)
            let redactor = log.seesEverything ? nil : try await guarded(ctx)
            return try await auditBundle(page.records, more: page.more, query: "patient=\(patient)&_count=\(count)", redactor: redactor)
        }
        let size = try await log.size()
        let end = min(before ?? size, size)
        let start = max(0, end - Int64(count))
        let records: [AuditRecord] = try await log.range(start: start, end: end).reversed()
        return try await auditBundle(records, more: start > 0, query: "_count=\(count)", redactor: nil)
    }

    func auditEvent(_ r: AuditRecord) -> JSON {
        let event = (try? JSONParser.parse(r.bytes)) ?? .object([("resourceType", .string("AuditEvent"))])
        return event.inserting("id", .string(String(r.index)), after: "resourceType")
    }

    /// For a patient's own log: entities naming resources the patient may not see (a result
    /// withheld under the right not to know, another patient concerned by the same entry) are left out, so the log does not betray them. The
    /// entry itself — who accessed the record, when, why — stays: that is the patient's right
    /// of access. The stored, signed entry is unchanged; `/audit/entries` serves it to auditors.
    func redact(_ event: JSON, with guardRepo: GuardedRepository?) async throws -> JSON {
        guard let guardRepo else { return event }
        var kept: [JSON] = []
        var removed = 0
        // Patients named too: one entry may concern several patients (a practitioner's search,
        // an outbox consumer's batch), and a patient's log must not name the others.
        for e in event["entity"]?.arrayValue ?? [] {
            if let ref = e["what"]?["reference"]?.stringValue {
                if try await guardRepo.canSee(ref) { kept.append(e) } else { removed += 1 }
            } else {
                kept.append(e)
            }
        }
        // the Consents and records a decision rested on may include other patients' (one
        // decision covers all the asker's patients): only those this patient may see stay
        var agents: [JSON] = []
        for a in event["agent"]?.arrayValue ?? [] {
            guard let policies = a["policy"]?.arrayValue else { agents.append(a); continue }
            var keep: [JSON] = []
            for p in policies {
                if let ref = p.stringValue, !ref.hasPrefix("urn:"), ref.contains("/"), !(try await guardRepo.canSee(ref)) { removed += 1; continue }
                keep.append(p)
            }
            agents.append(a.setting("policy", keep.isEmpty ? nil : .array(keep)))
        }
        guard removed > 0 else { return event }
        var out = event.setting("entity", kept.isEmpty ? nil : .array(kept))
        if !agents.isEmpty { out = out.setting("agent", .array(agents)) }
        var meta = out["meta"] ?? .object([])
        meta = meta.setting("tag", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ObservationValue")), ("code", .string("REDACTED"))])]))
        out = out.inserting("meta", meta, after: "id")
        return out
    }

    func auditBundle(_ records: [AuditRecord], more: Bool, query: String, redactor: GuardedRepository?) async throws -> Response {
        var links: [JSON] = [.object([("relation", .string("self")), ("url", .string("\(base)/AuditEvent?\(query)"))])]
        if more, let last = records.last {
            links.append(.object([("relation", .string("next")), ("url", .string("\(base)/AuditEvent?\(query)&_before=\(last.index)"))]))
        }
        var bundle: [(String, JSON)] = [("resourceType", .string("Bundle")), ("type", .string("searchset")), ("link", .array(links))]
        if !records.isEmpty {
            var entries: [JSON] = []
            for r in records {
                entries.append(.object([("fullUrl", .string("\(base)/AuditEvent/\(r.index)")), ("resource", try await redact(auditEvent(r), with: redactor)),
                                        ("search", .object([("mode", .string("match"))]))]))
            }
            bundle.append(("entry", .array(entries)))
        }
        return FHIRResponse.json(.ok, .object(bundle))
    }
}
