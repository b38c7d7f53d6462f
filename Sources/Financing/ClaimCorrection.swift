import FHIR
import Foundation
import Storage
import Trust

/// Correcting a submitted claim (docs/financing.md, "Corrections"): `Claim/{id}/$correct`. The
/// corrected Claim is a new version of the same Claim (same identifier) carrying the reason; it
/// is adjudicated again, and the new versions of its ClaimResponse and ExplanationOfBenefit are
/// written with it in one transaction. In the ledger, the claim's live entry is reversed and
/// the new one posted (both in the first open period from the claim's: a settled period never
/// changes); the ClaimResponse keeps every entry it ever held, so the ledger replays the same.
extension FinancingService {
    public static let correctionReasonURL = "https://enlace.mx/fhir/StructureDefinition/claim-correction-reason"

    /// What a correction came to: the new versions and the two journal entries it posted.
    public struct Correction: Sendable {
        public var claim: JSON
        public var claimResponse: JSON
        public var explanationOfBenefit: JSON
        public var reversal: JournalEntry
        public var entry: JournalEntry
    }

    public func correct(claim id: String, corrected raw: JSON, reason: String, guarded: GuardedRepository, now: Timestamp) async throws -> Correction {
        let why = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !why.isEmpty else { throw FHIRError.badRequest("a correction needs a reason", "una corrección necesita un motivo", code: "required") }
        guard why.count <= 1_000 else {
            throw FHIRError.badRequest("the reason is longer than 1,000 characters", "el motivo tiene más de 1,000 caracteres", code: "value")
        }
        let input = try ClaimInput(claim: raw, tariff: tariff)
        return try await fenced("Claim/\(id)/$correct", "Claim/\(id)/$correct") {
            try await self.correctAlone(claim: id, corrected: raw, input: input, reason: why, guarded: guarded, now: now)
        }
    }

    func correctAlone(claim id: String, corrected raw: JSON, input: ClaimInput, reason: String, guarded: GuardedRepository,
                      now: Timestamp) async throws -> Correction {
        let storedClaim = try await guarded.read("Claim", id)
        let old = try storedClaim.json()
        let oldInput = try ClaimInput(claim: old, tariff: tariff)
        guard oldInput.token == input.token else {
            throw FHIRError(status: 422, code: "business-rule", english: "a correction keeps the claim's identifier (\(oldInput.token))",
                            spanish: "una corrección conserva el identificador de la reclamación (\(oldInput.token))", expression: ["Claim.identifier"])
        }
        guard oldInput.patient == input.patient else {
            throw FHIRError(status: 422, code: "business-rule", english: "a correction cannot change the patient (\(oldInput.patient)); submit a new claim",
                            spanish: "una corrección no puede cambiar al paciente (\(oldInput.patient)); envíe una reclamación nueva", expression: ["Claim.patient"])
        }
        guard let done = try await existing(oldInput, guarded: guarded) else {
            throw FHIRError(status: 409, code: "conflict", english: "Claim/\(id) has no adjudication to correct", spanish: "Claim/\(id) no tiene adjudicación que corregir")
        }
        let responseID = done.claimResponse["id"]?.stringValue ?? "", eobID = done.explanationOfBenefit["id"]?.stringValue ?? ""
        let storedResponse = try await guarded.read("ClaimResponse", responseID)
        let storedEOB = try await guarded.read("ExplanationOfBenefit", eobID)
        let held = try JournalExtension.entries(in: storedResponse.json(), source: "ClaimResponse/\(responseID)")
        var ledger = try await self.ledger(guarded: guarded)
        let reversed = Set(ledger.entries.filter { $0.kind == .reversal }.compactMap(\.reverses))
        guard let live = held.last(where: { $0.kind == .claim && !reversed.contains($0.id) }) else {
            throw FHIRError(status: 409, code: "conflict", english: "Claim/\(id) has no live journal entry to correct", spanish: "Claim/\(id) no tiene asiento vigente que corregir")
        }
        // an accepted dispute already took part of it back: correcting it too would count twice
        guard !ledger.entries.contains(where: { $0.kind == .correction && $0.reverses == live.id }) else {
            throw FHIRError(status: 409, code: "conflict",
                            english: "Claim/\(id) has an accepted settlement dispute; its amounts are corrected through the dispute, not again here",
                            spanish: "Claim/\(id) tiene una disputa de liquidación aceptada; sus importes se corrigen por la disputa, no otra vez aquí")
        }
        let version = held.filter { $0.kind == .claim }.count + 1
        let date = String(now.description.prefix(10))
        let reversal: JournalEntry, entry: JournalEntry
        do {
            reversal = try ledger.reverse(live.id, reversalID: "\(live.id)~r", period: live.period, date: date, source: "ClaimResponse/\(responseID)")
        } catch let e as LedgerError { throw e.fhirError }
        // adjudicated again as if the corrected claim were the only one: its own earlier deductible is not counted
        let oldDeductible = (done.explanationOfBenefit["total"]?.arrayValue ?? []).filter {
            $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "deductible"
        }.compactMap { try? Money(json: $0["amount"], path: "") }.sum()
        let prepared = try await prepare(claim: raw, input: input, guarded: guarded, now: now, replacing: oldDeductible, settled: ledger.settled)
        var fresh = prepared.entry
        fresh.id = "claim:\(input.token)~v\(version)"
        fresh.source = "ClaimResponse/\(responseID)"
        do { entry = try ledger.post(fresh) } catch let e as LedgerError { throw e.fhirError }

        let reasonExtension = J.o(("url", .string(Self.correctionReasonURL)), ("valueString", .string(reason)))
        var claim = raw.setting("id", .string(id)).setting("meta", nil)
        if claim["status"] == nil { claim = claim.setting("status", .string("active")) }
        claim = claim.setting("extension", J.a((claim["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue != Self.correctionReasonURL } + [reasonExtension]))
        let others = (prepared.entries[1]["resource"]?["extension"]?.arrayValue ?? []).filter { $0["url"]?.stringValue != JournalExtension.url }
        let response = (prepared.entries[1]["resource"] ?? .null).setting("id", .string(responseID)).setting("request", J.ref("Claim/\(id)"))
            .setting("extension", J.a(others + (held + [reversal, entry]).map(JournalExtension.json) + [reasonExtension]))
        let eob = (prepared.entries[2]["resource"] ?? .null).setting("id", .string(eobID)).setting("claim", J.ref("Claim/\(id)"))
            .setting("claimResponse", J.ref("ClaimResponse/\(responseID)"))
        func put(_ type: String, _ rid: String, _ r: JSON, _ v: Int) -> JSON {
            J.o(("resource", r), ("request", J.o(("method", .string("PUT")), ("url", .string("\(type)/\(rid)")), ("ifMatch", .string("W/\"\(v)\"")))))
        }
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a([
            put("Claim", id, claim, storedClaim.version), put("ClaimResponse", responseID, response, storedResponse.version),
            put("ExplanationOfBenefit", eobID, eob, storedEOB.version),
        ])))
        var writer = guarded
        var provenance = prepared.provenance
        provenance = provenance.setting("reason", J.a([J.text("Corrección de la reclamación: \(reason)")]))
            .setting("activity", J.concept("http://terminology.hl7.org/CodeSystem/v3-DataOperation", "UPDATE"))
        writer.provenanceTemplate = provenance
        _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:financing", maxEntries: 3))
        return Correction(claim: try await guarded.read("Claim", id).json(), claimResponse: try await guarded.read("ClaimResponse", responseID).json(),
                          explanationOfBenefit: try await guarded.read("ExplanationOfBenefit", eobID).json(), reversal: reversal, entry: entry)
    }
}
