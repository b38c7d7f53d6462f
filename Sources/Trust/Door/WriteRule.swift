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
    /// The same, for a rule that must look at other records (an invariant across records, such
    /// as one active Patient per CURP, docs/interop.md#curp-unique-per-active-patient): `context`
    /// reads the current data *inside the write's transaction* — after every version the
    /// transaction wrote, and serialised with concurrent writers (SQLite has one writer;
    /// PostgreSQL's writers of a schema queue on one lock) — so two concurrent writes cannot both pass. The
    /// default calls `check(_:previous:principal:)`.
    func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws
    /// True when the rule, not the role, decides who may write its types (e.g. a Subscription
    /// is written by whoever subscribes and changed only by its owner, docs/subscriptions.md):
    /// the role's writable types and shared-data check then do not apply to them, and the rule
    /// must refuse in `keep` what the principal may not do.
    var decidesWhoWrites: Bool { get }
    /// Small records to keep with the write, in its transaction (e.g. who owns a Subscription),
    /// as `ConsumerState.Change`s whose `kind` is the full record kind. `recorded` reads what is
    /// kept already (kind, key). Throws to refuse the write, like `check`.
    func keep(_ new: JSON?, previous: JSON?, id: String, principal: Principal, decision: AccessDecision,
              recorded: (String, String) throws -> [UInt8]?) throws -> [ConsumerState.Change]
}

extension WriteRule {
    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {}
    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        try check(new, previous: previous, principal: principal)
    }
    public var decidesWhoWrites: Bool { false }
    public func keep(_ new: JSON?, previous: JSON?, id: String, principal: Principal, decision: AccessDecision,
                     recorded: (String, String) throws -> [UInt8]?) throws -> [ConsumerState.Change] { [] }
}

/// What a `WriteRule` may read in the write's transaction: the current resources of a type that
/// match search parameters, unguarded (a rule checks invariants across every record, visible or
/// not). What a rule reads reaches no client except through the words of its refusal, which
/// must name the rule broken and nothing of another record's content.
public struct WriteRuleContext {
    let tx: any StoreTransaction

    /// (id, content) of the current, non-deleted resources of `type` matching `parameters`
    /// (FHIR search parameters, e.g. `("identifier", value)`), at most `limit`.
    public func current(_ type: String, matching parameters: [(String, String)], limit: Int = 20) throws -> [(id: String, json: JSON)] {
        var options = SearchParser.Options()
        options.maxCount = limit
        let (query, _) = try SearchParser(options: options).parse(types: [type], parameters: parameters + [("_count", "\(limit)"), ("_total", "none")])
        return try tx.search(query).matches.filter { !$0.deleted }.map { ($0.id, try $0.json()) }
    }

    init(tx: any StoreTransaction) { self.tx = tx }
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
