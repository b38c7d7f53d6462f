import FHIR
import Foundation
import Trust

extension MeasureEvaluator {
    /// The report `guarded`'s principal may have (docs/financing.md, "A payer's measures"): for a
    /// payer, a summary counted over its beneficiaries' clinical data through the door's counting
    /// guard (`Door.payerSummary`: counts only, small populations masked), and a refusal of an
    /// individual or subject-list report, which would name patients; for anyone else, the report
    /// on their own guard.
    public func report(_ r: Request, guarded: GuardedRepository, door: Door, now: Timestamp) async throws -> JSON {
        guard door.countsOnlyForPayer(guarded) else { return try await report(r, guarded: guarded, now: now) }
        guard r.reportType == .summary, r.subject == nil else {
            throw FHIRError(status: 403, code: "forbidden",
                            english: "a payer receives summary measure reports only (counts of its beneficiaries), never a patient's report or a list of patients",
                            spanish: "una aseguradora recibe solo informes resumidos (conteos de sus beneficiarios), nunca el informe de un paciente ni listas de pacientes")
        }
        return try await door.payerSummary(for: guarded) { counting in try await self.report(r, guarded: counting, now: now) }
    }
}
