import FHIR
import Foundation

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
    public var decidesWhoWrites: Bool { false }
    public func keep(_ new: JSON?, previous: JSON?, id: String, principal: Principal, decision: AccessDecision,
                     recorded: (String, String) throws -> [UInt8]?) throws -> [ConsumerState.Change] { [] }
}
