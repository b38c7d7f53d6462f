import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// A domain's rule on writes of some resource types (e.g. the referral Task state machine,
/// docs/care.md): checked by every guarded repository the door opens, for every version a
/// write creates, inside the write's own database transaction — so a refusal (a thrown
/// `FHIRError`, an OperationOutcome for the client) leaves nothing behind, on every path that
/// writes (REST interactions, transactions, batches, portal pages, consumers).
public protocol WriteRule: Sendable {
    /// The types the rule looks at.
    var types: Set<String> { get }
    /// Throws to refuse the write. `new` is nil for a delete; `previous` is the version it
    /// replaces (nil on create or after a delete).
    func check(_ new: JSON?, previous: JSON?, principal: Principal) throws
    /// Like `check(_:previous:principal:)`, with a read view of the write's own transaction
    /// (`WriteRuleContext`) for rules that keep an invariant across resources (e.g. at most one
    /// active Appointment per Slot, docs/care.md "Appointments"). A transaction Bundle's rules
    /// run after all its entries are written, so they judge the Bundle's end state. The default
    /// calls `check(_:previous:principal:)`.
    func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws
}

extension WriteRule {
    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {}
    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        try check(new, previous: previous, principal: principal)
    }
}

/// What a `WriteRule` may read of the transaction it runs in: current versions and searches
/// as the transaction sees them (its own uncommitted writes included), **without** the
/// principal's visibility — a rule decides on the whole store, so the error it throws must not
/// tell what the principal may not see beyond the rule's own verdict. On PostgreSQL the
/// transaction is SERIALIZABLE, so two racing writes that each read what the other writes
/// cannot both commit (one is retried and then sees the other).
public struct WriteRuleContext {
    let tx: any StoreTransaction

    init(_ tx: any StoreTransaction) { self.tx = tx }

    /// The current version of `type/id`, nil if it does not exist or is deleted.
    public func current(_ type: String, _ id: String) throws -> JSON? {
        guard let r = try tx.current(type, id), !r.deleted else { return nil }
        return try r.json()
    }

    /// The current resources of `type` matching `parameters` (at most 100), as `(id, JSON)`.
    public func search(_ type: String, _ parameters: [(String, String)]) throws -> [(id: String, json: JSON)] {
        let (query, _) = try SearchParser().parse(types: [type], parameters: parameters + [("_count", "100"), ("_total", "none")])
        return try tx.search(query).matches.compactMap { r in (try? r.json()).map { (r.id, $0) } }
    }
}
