import FHIR
import Foundation
import Trust

/// A consultation note (a `Composition` of LOINC 34108-1, docs/care.md#the-consultation) is
/// changed only as a correction: every new version of a note — through any path, a FHIR `PUT`,
/// a transaction, the portal — needs, in the same database transaction, a `Provenance` that
/// targets exactly that new version with a **reason** (`reason.text` or a coding; 422
/// otherwise) and names the version it revises (`entity` role `revision`, 422 when missing),
/// which must be the version it replaces (409 otherwise: the note changed since it was read).
/// The Provenance comes from the R4 `X-Provenance` header of the `PUT`
/// (https://hl7.org/fhir/R4/provenance.html#header) or from an entry of the same transaction
/// (the portal's correction writes one). Creating a note and deleting one are not this rule's
/// business.
public struct NoteRevisionRule: WriteRule {
    public init() {}

    public var types: Set<String> { ["Composition"] }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        guard let new, let previous, Consultation.isNote(previous) || Consultation.isNote(new) else { return }
        guard let id = new["id"]?.stringValue, let version = new["meta"]?["versionId"]?.stringValue.flatMap({ Int($0) }), version > 1 else { return }
        let this = "Composition/\(id)/_history/\(version)"
        let provenances = try context.current("Provenance", matching: [("target", "Composition/\(id)")], limit: 200).map(\.json).filter { p in
            (p["target"]?.arrayValue ?? []).contains { $0["reference"]?.stringValue == this }
        }
        let reasoned = provenances.filter { p in
            (p["reason"]?.arrayValue ?? []).contains { r in
                !(r["text"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                    || (r["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue?.isEmpty == false }
            }
        }
        guard !reasoned.isEmpty else {
            throw FHIRError(status: 422, code: "business-rule",
                            english: "a consultation note is changed only as a correction with its reason: send a Provenance with 'reason' (the X-Provenance header, or an entry of the same transaction) naming the version it revises (entity role 'revision')",
                            spanish: "una nota de consulta solo se cambia como corrección con su motivo: envíe un Provenance con 'reason' (el encabezado X-Provenance o una entrada de la misma transacción) que nombre la versión que corrige (entity con role 'revision')",
                            expression: ["Composition"])
        }
        let revised = reasoned.flatMap { p in
            (p["entity"]?.arrayValue ?? []).filter { $0["role"]?.stringValue == "revision" }.compactMap { $0["what"]?["reference"]?.stringValue }
        }
        guard !revised.isEmpty else {
            throw FHIRError(status: 422, code: "business-rule",
                            english: "the correction of a consultation note names the version it revises: Provenance.entity with role 'revision' and what 'Composition/\(id)/_history/\(version - 1)'",
                            spanish: "la corrección de una nota de consulta nombra la versión que corrige: Provenance.entity con role 'revision' y what 'Composition/\(id)/_history/\(version - 1)'",
                            expression: ["Provenance.entity"])
        }
        let expected = "Composition/\(id)/_history/\(version - 1)"
        // an unmerge (docs/interop.md) restores an earlier version and names that one
        let restores = reasoned.contains { p in (p["activity"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == "unmerge" } }
        guard restores || revised.contains(where: { $0 == expected || $0.hasSuffix("/" + expected) }) else {
            throw FHIRError(status: 409, code: "conflict",
                            english: "the note changed since it was read: the correction revises \(revised[0]) but the current version is \(version - 1); read it again and correct that version",
                            spanish: "la nota cambió desde que se leyó: la corrección revisa \(revised[0]) pero la versión actual es la \(version - 1); léala de nuevo y corrija esa versión",
                            expression: ["Provenance.entity"])
        }
    }
}
