import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The Subscription read rule (docs/access.md, "Subscriptions"; docs/subscriptions.md "Who reads
/// a Subscription"): a Subscription is shared data in R4's compartment model, but it names its
/// owner's endpoint and `channel.header` (which may carry the receiver's secret) and says what
/// its owner watches. So everyone whose decision has a visibility — patients, practitioners,
/// pharmacies, payers, organization admins — reads, vreads, searches and gets the history of only
/// the Subscriptions they own (the principal recorded beside each one when it was created, by the
/// Subscription write rule); anyone else's is a 404 and never appears in a search, a count, an
/// `_include` or a chain. A platform operator (and a backend service, whose `system/` scopes
/// decide) keeps seeing all of them, as for `$status` and `$events`.
extension AccessPolicy {
    /// Where the Subscription write rule keeps the ids of the Subscriptions `subject` owns (one
    /// record per Subscription, key: its id), so a decision reads its owner's few records with one
    /// indexed query instead of every owner: the matcher's state, kind `owned:<subject>`
    /// (Monitoring's `SubscriptionOwner.ownedKind`, which a test keeps equal to this).
    public static func subscriptionOwnedKind(_ subject: String) -> String { "consumer:subscriptions.match:owned:\(subject)" }

    /// `base` with Subscriptions visible only when owned by `p`.
    func withSubscriptionOwnerRule(_ base: AccessDecision, _ p: Principal, store: any ResourceStore) async throws -> AccessDecision {
        guard var visibility = base.visibility, base.readableTypes?.contains("Subscription") ?? true else { return base }
        let kind = AccessPolicy.subscriptionOwnedKind(p.subject)
        let owned: [String] = try await store.read { tx in try tx.records(kind).map { "Subscription/\($0.key)" } }
        visibility.typeRules["Subscription"] = owned.isEmpty ? .nothing : .resources(owned)
        var decision = base
        decision.visibility = visibility
        return decision
    }
}
