import FHIR
import Foundation
import Trust

/// A signed consultation is stored once (docs/care.md, "The consultation's signature"): a
/// signed Provenance of a visit (policy `ConsultationSignature.policy`, a `signature` with
/// `data`) names each resource it signed by the `urn:uuid:` the signature's content used, as the
/// target's identifier; no other such Provenance may name the same one. Checked in the write's
/// own transaction, after what it wrote and serialised with every other writer, so two identical
/// signed submissions racing past `ConsultationSignature.signedVisit`'s early check cannot both
/// store the visit: the later one gets the same 409.
public struct SignedVisitOnce: WriteRule {
    public init() {}

    public var types: Set<String> { ["Provenance"] }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {}

    /// The `urn:uuid:` identifiers a signed visit Provenance names its targets by (empty for any
    /// other Provenance).
    public static func signedIdentifiers(_ provenance: JSON) -> [String] {
        guard (provenance["policy"]?.arrayValue ?? []).contains(.string(ConsultationSignature.policy)),
              (provenance["signature"]?.arrayValue ?? []).contains(where: { $0["data"]?.stringValue?.isEmpty == false }) else { return [] }
        return (provenance["target"]?.arrayValue ?? []).compactMap { t in
            guard t["identifier"]?["system"]?.stringValue == ConsultationSignature.identifierSystem,
                  let value = t["identifier"]?["value"]?.stringValue, value.hasPrefix("urn:uuid:") else { return nil }
            return value
        }
    }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        guard let new, previous == nil else { return }
        let id = new["id"]?.stringValue
        for value in Self.signedIdentifiers(new) {
            let others = try context.current("Provenance", matching: [("target:identifier", "\(ConsultationSignature.identifierSystem)|\(value)")])
                .filter { $0.id != id && Self.signedIdentifiers($0.json).contains(value) }
            guard others.isEmpty else {
                throw FHIRError(status: 409, code: "duplicate",
                                english: "this preparation was already signed and stored (the consultation is recorded)",
                                spanish: "esta preparación ya se firmó y guardó (la consulta está registrada)",
                                expression: ["Provenance.target"])
            }
        }
    }
}
