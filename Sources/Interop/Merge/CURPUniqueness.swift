import FHIR
import Foundation
import Trust

/// One active Patient per CURP (docs/interop.md#curp-unique-per-active-patient): a write that
/// would leave two active Patients (`active` true or absent) with the same CURP is refused with
/// 409 `duplicate`, naming the identifier and the rule — never the other record's id or content.
/// Checked by every guard in the write's own transaction (`WriteRuleContext`), after every version
/// the transaction wrote, so a transaction that deactivates one record and activates another is
/// judged on the result, and two concurrent creates cannot both pass: SQLite has one writer, and
/// PostgreSQL's writers of a schema queue on one lock, so the second sees the first.
///
/// A record that already shared its CURP with another active one before this rule (data loaded
/// before it existed) may still be updated as long as the update does not introduce the CURP or
/// reactivate the record: the pair is what `Patient/$duplicates` lists and `$merge` resolves.
public struct CURPUniqueness: WriteRule {
    public init() {}

    public var types: Set<String> { ["Patient"] }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal) throws {}

    /// The normalized, valid CURPs of a Patient (the identifiers under a CURP system, except
    /// `old` ones: a merged record's), with the index of each identifier.
    public static func curps(_ patient: JSON) -> [(index: Int, curp: String)] {
        (patient["identifier"]?.arrayValue ?? []).enumerated().compactMap { n, i in
            guard CURP.isCURPIdentifier(i), i["use"]?.stringValue != "old", let v = i["value"]?.stringValue, let c = CURP.normalized(v) else { return nil }
            return (n, c)
        }
    }

    /// `active` true or absent (https://hl7.org/fhir/R4/patient-definitions.html#Patient.active).
    public static func isActive(_ patient: JSON) -> Bool { patient["active"]?.boolValue != false }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        guard let new, CURPUniqueness.isActive(new) else { return }
        let id = new["id"]?.stringValue
        let before = previous.flatMap { CURPUniqueness.isActive($0) ? Set(CURPUniqueness.curps($0).map(\.curp)) : nil } ?? []
        for (index, curp) in CURPUniqueness.curps(new) where !before.contains(curp) {
            let others = try context.current("Patient", matching: [("identifier", curp)]).filter { other in
                other.id != id && CURPUniqueness.isActive(other.json) && CURPUniqueness.curps(other.json).contains { $0.curp == curp }
            }
            guard others.isEmpty else {
                throw FHIRError(status: 409, issues: [Issue(code: "duplicate",
                    english: "another active Patient already has the CURP \(curp): a CURP identifies one person, so it may be on one active Patient only — find the record with Patient/$match and merge the two (Patient/$merge), or record this one as inactive",
                    spanish: "otro Patient activo ya tiene la CURP \(curp): una CURP identifica a una sola persona, así que solo puede estar en un Patient activo — busque el expediente con Patient/$match y fusione ambos (Patient/$merge), o registre este como inactivo",
                    expression: ["Patient.identifier[\(index)].value"])])
            }
        }
    }
}
