import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Why something reads or writes the record without a principal's access decision. Every case
/// is listed in docs/access.md ("Named system uses") with its reason; adding one is a design
/// decision, reviewed there, and `Tests/ArchitectureTests` checks the list stays complete.
public enum SystemUse: String, Sendable, CaseIterable {
    /// `enlace serve` at start: is the data directory empty (may the demo be loaded)?
    case startup
    /// `enlace serve --demo`: writes the synthetic demo record into an empty data directory,
    /// and its past accesses into the audit ledger.
    case demoLoader = "demo-loader"
}

/// The unguarded path, under a name that says what it is. Holds the door's repository for one
/// named `SystemUse`; everything it writes is audited with the use as the deciding rule
/// (`urn:enlace:rule:system-use:<use>`).
public struct SystemAccess: Sendable {
    public let use: SystemUse
    let door: Door

    /// The rule an audit entry of this use names.
    public var rule: String { "urn:enlace:rule:system-use:\(use.rawValue)" }

    /// Does the store hold any live resource of `type`? (`startup`: whether the demo may load.)
    public func holdsAny(_ type: String) async throws -> Bool {
        var options = SearchParser.Options()
        options.maxCount = 1
        let (q, _) = try SearchParser(options: options).parse(types: [type], parameters: [("_count", "1"), ("_total", "none")])
        return try await door.store.read { !(try $0.search(q).matches.isEmpty) }
    }

    /// Runs a transaction Bundle as the system (no access decision: `demoLoader` only), then
    /// appends one audit entry naming the operator, this use, the patients it concerns and up to
    /// 50 of the versions written. Returns the response Bundle.
    public func load(transaction bundle: JSON, base: String, patients: [String]) async throws -> JSON {
        precondition(use == .demoLoader, "only the demo loader writes through the system door")
        let response = try await door.repository.process(bundle: bundle, options: .init(base: base, maxEntries: 10_000)) { _, _ in }
        let ctx = AuditContext(requestID: "system-\(use.rawValue)", method: "POST", path: "/fhir", query: nil, remoteAddress: nil)
        ctx.principal = Principal(subject: "operator", scopes: ScopeSet("system/*.cruds"), tokenID: "system-\(use.rawValue)", purposeOfUse: "HOPERAT")
        ctx.interaction = "transaction"
        ctx.decidedBy(rule)
        for entry in (response["entry"]?.arrayValue ?? []).prefix(50) {
            guard var location = entry["response"]?["location"]?.stringValue else { continue }
            if location.hasPrefix(base + "/") { location = String(location.dropFirst(base.count + 1)) }
            ctx.touched(location, patients: patients)
        }
        for p in patients { ctx.concerns(p) }
        let now = door.clock.now()
        _ = try await door.ledger.record(PendingAudit(recorded: now, patients: ctx.patients, bytes: door.auditBuilder.build(ctx, status: 200, recorded: now).serialized()))
        return response
    }

    /// The door as it was at `instant` (`demoLoader`: the demo's privacy story is written through
    /// the real privacy operations, dated in the demo's past).
    public func door(at instant: Timestamp) -> Door {
        precondition(use == .demoLoader, "only the demo loader dates what it writes")
        return door.withClock(StoppedClock(at: instant))
    }
}

/// A clock stopped at one instant.
struct StoppedClock: Clock {
    let at: Timestamp
    func now() -> Timestamp { at }
}
