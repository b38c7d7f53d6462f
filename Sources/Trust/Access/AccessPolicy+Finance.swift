import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The finance rule (docs/access.md, "Finance"; docs/financing.md, "Disputes"): a payer — the
/// role an institution's finance office signs in with (IMSS, ISSSTE, an insurer) — reads and
/// writes the settlement dispute Tasks (`Task.code` = `financing-task#dispute`) whose `requester`
/// or `owner` is its institution, and reads the ClaimResponses its institution's units asked
/// for (the claims it made: the lines it is owed for and may be asked to correct). Nothing else
/// of Task: not a clinical or privacy Task of its own beneficiaries, not another payer's
/// dispute. A dispute it writes must stay one of its own, before and after the write; it may not
/// delete one.
extension AccessPolicy {
    public static let disputeTaskSystem = "https://enlace.mx/fhir/CodeSystem/financing-task"
    public static let disputeTaskCode = "dispute"

    /// The payer's decision with the finance rule added.
    func withFinanceRule(_ base: AccessDecision, _ p: Principal, store: any ResourceStore) async throws -> AccessDecision {
        guard var visibility = base.visibility, let org = p.organization.map({ $0.hasPrefix("Organization/") ? $0 : "Organization/\($0)" }) else { return base }
        // its institution: the organization itself, or the one it is part of (a unit's office)
        var institutions: Set<String> = [org]
        if let unit = try await resources(store, type: "Organization", parameters: [("_id", String(org.dropFirst(13)))]).first,
           let parent = try unit.json()["partOf"]?["reference"]?.stringValue {
            institutions.insert(parent)
        }
        var units = institutions
        for parent in institutions {
            for u in try await resources(store, type: "Organization", parameters: [("partof", parent)]) { units.insert("Organization/\(u.id)") }
        }
        let orgs = institutions.sorted()
        let disputes = DataRule.allOf([
            .codes([DataCode(system: AccessPolicy.disputeTaskSystem, code: AccessPolicy.disputeTaskCode)]),
            .anyOf([.references(param: "requester", targets: orgs), .references(param: "owner", targets: orgs)]),
        ])
        // ClaimResponses stay those of the patients it may see, plus the claims its units made
        let claims = DataRule.anyOf([
            .references(param: "patient", targets: visibility.patients.map { "Patient/\($0)" }),
            .references(param: "requestor", targets: units.sorted()),
        ])
        visibility.typeRules["Task"] = disputes
        visibility.typeRules["ClaimResponse"] = claims
        var decision = base
        decision.visibility = visibility
        decision.readableTypes = (base.readableTypes ?? []).union(["Task", "ClaimResponse"])
        decision.writableByRule["Task"] = disputes
        decision.basis.append("urn:enlace:rule:finance-disputes")
        return decision
    }
}
