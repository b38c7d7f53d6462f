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
}
