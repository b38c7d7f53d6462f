import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Which audit entries a principal may read (docs/access.md, "The audit log"): auditors,
/// privacy officers and platform operators every entry (with their role, or an operator token
/// with a `system/` scope that reads AuditEvent); a patient, or who acts for them, the entries
/// of their own compartment; nobody else — practitioners, pharmacies, payers and services read
/// no audit entry.
public enum AuditVisibility: Sendable, Equatable {
    case everything
    case patients(Set<String>)
}

/// The audit ledger as one principal may read it, from `Door.auditLog(for:audit:)`. Entries are
/// read in batches (one query for a page), never one index at a time.
public struct AuditLog: Sendable {
    public let visibility: AuditVisibility
    let store: any ResourceStore

    /// May every entry be read?
    public var seesEverything: Bool { visibility == .everything }

    /// The patients whose entries may be read (nil: every entry).
    public var patients: Set<String>? {
        if case .patients(let p) = visibility { return p }
        return nil
    }

    /// The entry at `index`, or nil when there is none or it may not be read (the two look the same).
    public func entry(_ index: Int64) async throws -> AuditRecord? {
        guard index >= 0, let record = try await store.read({ try $0.auditEntries(start: index, end: index + 1) }).first else { return nil }
        if let mine = patients, Set(record.patients).isDisjoint(with: mine) { return nil }
        return record
    }

    /// The entries concerning `patient`, newest first, before index `before`, at most `limit`,
    /// and whether there are more. A patient's principal reads only their own (403 otherwise).
    public func entries(patient: String, before: Int64?, limit: Int) async throws -> (records: [AuditRecord], more: Bool) {
        if let mine = patients, !mine.contains(patient) {
            throw FHIRError(status: 403, code: "forbidden", english: "you can read only your own access log",
                            spanish: "solo puede consultar su propia bitácora de accesos")
        }
        let n = max(0, limit)
        let records = try await store.read { try $0.auditEntries(patient: patient, before: before, limit: n + 1) }
        return (Array(records.prefix(n)), records.count > n)
    }

    /// Entries with `start <= index < end`, in order (every entry: auditors only).
    public func range(start: Int64, end: Int64) async throws -> [AuditRecord] {
        guard seesEverything else {
            throw FHIRError(status: 403, code: "forbidden", english: "the audit ledger is readable by auditors and platform operators",
                            spanish: "la bitácora de auditoría solo la pueden leer auditores y operadores de la plataforma")
        }
        return try await store.read { try $0.auditEntries(start: start, end: end) }
    }

    /// How many entries the log holds.
    public func size() async throws -> Int64 { try await store.read { try $0.auditSize() } }
}

extension Door {
    /// The audit log as `principal` may read it; the deciding rule goes on `audit`. Throws 403
    /// (with `everything`, unless the principal may read every entry).
    public func auditLog(for principal: Principal, audit: AuditContext?, everything: Bool = false) throws -> AuditLog {
        let (visibility, rule) = policy.auditVisibility(principal)
        audit?.decidedBy(rule)
        guard let visibility else {
            if everything {
                throw FHIRError(status: 403, code: "forbidden", english: "the audit ledger is readable by auditors and platform operators",
                                spanish: "la bitácora de auditoría solo la pueden leer auditores y operadores de la plataforma")
            }
            throw FHIRError(status: 403, code: "forbidden", english: "the access log is readable by the patient it concerns, auditors and privacy officers",
                            spanish: "la bitácora de accesos la pueden leer el paciente al que se refiere, los auditores y los oficiales de privacidad")
        }
        if everything, visibility != .everything {
            audit?.decidedBy("urn:enlace:rule:auditor-only")
            throw FHIRError(status: 403, code: "forbidden", english: "the audit ledger is readable by auditors and platform operators",
                            spanish: "la bitácora de auditoría solo la pueden leer auditores y operadores de la plataforma")
        }
        return AuditLog(visibility: visibility, store: store)
    }
}
