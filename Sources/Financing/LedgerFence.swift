import FHIR
import Foundation
import Storage
import Trust

/// The financing operations read the ledger before their writing transaction — the deductible a
/// patient already met, the periods already settled, the claims a settlement nets — and this rule
/// re-checks, **inside the write's own transaction** (serialised with every other writer of the
/// database: SQLite's one writer, PostgreSQL's writers' lock per schema), that what they assumed
/// still holds (docs/financing.md, "Races"). It holds across server processes sharing one
/// database and for every path that writes (`$submit`, `$correct`, `$resolve`, `$settle`, the
/// `financing.claims` consumer, the FHIR API):
///
/// - an `ExplanationOfBenefit` whose adjudication is new carries, in the `deductible-read`
///   extension, the deductible that the stored claims of the patient under the Coverage had met
///   that year when it was adjudicated (and, for claims adjudicated together in one transaction,
///   their `batch`); the stored ones other than it (and its batch) must still add up to exactly that;
/// - a new journal entry (in a ClaimResponse or a dispute Task) must not be in a settled period;
/// - a new settlement (a PaymentReconciliation holding a settlement entry) must equal the
///   statement of its period recomputed from every entry of the period stored now, and every pair
///   of that statement must be settled in it.
///
/// A failure is a 409 (`LedgerFence.moved`) that `FinancingService.fenced` retries after reading
/// the ledger again; the consumer's batch is rolled back and run again by its runner.
public struct LedgerFence: WriteRule {
    public init() {}

    public var types: Set<String> { ["ExplanationOfBenefit", "ClaimResponse", "Task", "PaymentReconciliation"] }

    /// On an ExplanationOfBenefit: `met` (valueMoney), the deductible met by the stored claims
    /// when it was adjudicated, and `batch` (valueString) of claims adjudicated together.
    public static let deductibleReadURL = "https://enlace.mx/fhir/StructureDefinition/deductible-read"
    /// Every refusal of this rule starts with it (how the services know to retry).
    static let movedPrefix = "the ledger changed since it was read"
    /// How many times a service tries an operation whose fence failed before it answers 409.
    static let attempts = 6
    /// The same for `$settle`, which any claim written into its period meanwhile sends back.
    static let settleAttempts = 16

    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        guard let new else { return }
        switch new["resourceType"]?.stringValue {
        case "ExplanationOfBenefit": try checkDeductible(new, previous: previous, context)
        case "PaymentReconciliation": try checkSettlement(new, previous: previous, context)
        default: try checkPeriods(new, previous: previous, context)
        }
    }

    static func moved(_ english: String, _ spanish: String) -> FHIRError {
        FHIRError(status: 409, code: "conflict", english: "\(movedPrefix): \(english)",
                  spanish: "el libro contable cambió desde que se leyó: \(spanish)")
    }

    static func isMoved(_ error: FHIRError) -> Bool { error.status == 409 && error.issues.contains { $0.english.hasPrefix(movedPrefix) } }

    // MARK: the deductible

    /// The `deductible-read` extension of an adjudication: what was read, and its batch.
    static func deductibleRead(met: Money, batch: String?) -> JSON {
        J.o(("url", .string(deductibleReadURL)), ("extension", J.a([J.o(("url", .string("met")), ("valueMoney", met.json))]
                + (batch.map { [J.o(("url", .string("batch")), ("valueString", .string($0)))] } ?? []))))
    }

    static func deductibleRead(_ eob: JSON) -> (met: Money, batch: String?)? {
        guard let ext = (eob["extension"]?.arrayValue ?? []).first(where: { $0["url"]?.stringValue == deductibleReadURL }) else { return nil }
        let parts = ext["extension"]?.arrayValue ?? []
        guard let met = try? Money(json: parts.first { $0["url"]?.stringValue == "met" }?["valueMoney"], path: "") else { return nil }
        return (met, parts.first { $0["url"]?.stringValue == "batch" }?["valueString"]?.stringValue)
    }

    /// The deductible an ExplanationOfBenefit applied, if it counts in `year` (0 for an error).
    static func deductibleApplied(_ eob: JSON, year: String) -> Money {
        guard (eob["billablePeriod"]?["start"]?.stringValue ?? "").hasPrefix(year), eob["outcome"]?.stringValue != "error" else { return .zero }
        var sum = Money.zero
        for t in eob["total"]?.arrayValue ?? [] where (t["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue) == "deductible" {
            sum += (try? Money(json: t["amount"], path: "")) ?? .zero
        }
        return sum
    }

    func checkDeductible(_ new: JSON, previous: JSON?, _ context: WriteRuleContext) throws {
        guard let read = Self.deductibleRead(new) else { return }
        // the same adjudication written again (an update that keeps its amounts) assumes nothing new
        if let previous, let before = Self.deductibleRead(previous), before.met == read.met, before.batch == read.batch,
           previous["total"] == new["total"] { return }
        guard let patient = new["patient"]?["reference"]?.stringValue,
              let coverage = (new["insurance"]?.arrayValue ?? []).first?["coverage"]?["reference"]?.stringValue else { return }
        let year = String((new["billablePeriod"]?["start"]?.stringValue ?? "").prefix(4))
        let id = new["id"]?.stringValue
        var met = Money.zero
        for (other, eob) in try context.current("ExplanationOfBenefit", matching: [("patient", patient), ("coverage", coverage)], limit: 1_000_000)
        where other != id {
            if let batch = read.batch, Self.deductibleRead(eob)?.batch == batch { continue }
            met += Self.deductibleApplied(eob, year: year)
        }
        guard met == read.met else {
            throw Self.moved("another claim of \(patient) under \(coverage) used the deductible meanwhile (met \(met.decimal), not \(read.met.decimal))",
                             "otra reclamación de \(patient) con \(coverage) usó el deducible mientras tanto (cubierto \(met.decimal), no \(read.met.decimal))")
        }
    }

    // MARK: settled periods

    static func settledPeriods(in reconciliations: [JSON]) -> Set<Period> {
        var out: Set<Period> = []
        for r in reconciliations {
            for e in (try? JournalExtension.entries(in: r, source: "PaymentReconciliation")) ?? [] where e.kind == .settlement { out.insert(e.period) }
        }
        return out
    }

    func settlements(_ context: WriteRuleContext) throws -> [JSON] {
        try context.current("PaymentReconciliation", matching: [("identifier", "\(SettlementIDs.system)|")], limit: 1_000_000).map(\.json)
    }

    func checkPeriods(_ new: JSON, previous: JSON?, _ context: WriteRuleContext) throws {
        let held = Set(((previous.map { try? JournalExtension.entries(in: $0, source: "") } ?? nil) ?? []).map(\.id))
        let fresh = ((try? JournalExtension.entries(in: new, source: "")) ?? []).filter { !held.contains($0.id) && $0.kind != .settlement }
        guard !fresh.isEmpty else { return }
        let settled = Self.settledPeriods(in: try settlements(context))
        for e in fresh where settled.contains(e.period) {
            throw Self.moved("the period \(e.period) was settled meanwhile; the entry \(e.id) goes into the next open period",
                             "el periodo \(e.period) se liquidó mientras tanto; el asiento \(e.id) va al siguiente periodo abierto")
        }
        // a claim entry is either reversed (`$correct`) or corrected by a dispute (`$resolve`), not both
        for e in fresh where e.kind == .reversal || e.kind == .correction {
            guard let target = e.reverses, target.hasPrefix("claim:") else { continue }
            let other: JournalEntry.Kind = e.kind == .reversal ? .correction : .reversal
            let holders = other == .correction
                ? try context.current("Task", matching: [("code", "\(Disputes.taskSystem)|dispute")], limit: 1_000_000).map(\.json)
                : try Self.claimTokens(target).flatMap { try context.current("ClaimResponse", matching: [("identifier", $0)], limit: 100).map(\.json) }
            if holders.contains(where: { ((try? JournalExtension.entries(in: $0, source: "")) ?? []).contains { $0.kind == other && $0.reverses == target } }) {
                throw Self.moved("\(target) was \(other == .reversal ? "corrected" : "disputed and corrected") meanwhile",
                                 "\(target) se \(other == .reversal ? "corrigió" : "disputó y corrigió") mientras tanto")
            }
        }
    }

    /// The Claim identifier (`system|value`) a claim's journal entry id (`claim:<token>[~v<n>]`)
    /// can name (both readings when the value itself may end in `~v<n>`).
    static func claimTokens(_ entry: String) -> [String] {
        let token = String(entry.dropFirst("claim:".count))
        if let r = token.range(of: "~v", options: .backwards), !token[r.upperBound...].isEmpty, token[r.upperBound...].allSatisfy(\.isNumber) {
            return [String(token[..<r.lowerBound]), token]
        }
        return [token]
    }

    // MARK: settlements

    func checkSettlement(_ new: JSON, previous: JSON?, _ context: WriteRuleContext) throws {
        guard previous == nil, let mine = ((try? JournalExtension.entries(in: new, source: "")) ?? []).first(where: { $0.kind == .settlement }) else { return }
        let period = mine.period
        var entries: [JournalEntry] = []
        for (_, r) in try context.current("ClaimResponse", matching: [], limit: 10_000_000) {
            entries += try JournalExtension.entries(in: r, source: "ClaimResponse")
        }
        for (_, r) in try context.current("Task", matching: [("code", "\(Disputes.taskSystem)|dispute")], limit: 1_000_000) {
            entries += try JournalExtension.entries(in: r, source: "Task")
        }
        var settledPairs: Set<String> = []
        for r in try settlements(context) {
            for e in try JournalExtension.entries(in: r, source: "PaymentReconciliation") where e.period == period {
                if e.kind == .settlement { settledPairs.insert(e.id) } else { entries.append(e) }
            }
        }
        let ledger: Ledger
        do { ledger = try Ledger(replaying: entries.filter { $0.period == period }) } catch let e as LedgerError { throw e.fhirError }
        let statement = ledger.statement(for: period).map { Ledger.settlementEntry($0, period: period, source: "") }
        let expected = statement.first { $0.id == mine.id }
        guard expected.map({ Set($0.postings) == Set(mine.postings) }) ?? mine.postings.allSatisfy({ $0.amount == .zero }),
              statement.allSatisfy({ settledPairs.contains($0.id) }) else {
            throw Self.moved("the entries of \(period) changed while it was being settled",
                             "los asientos de \(period) cambiaron mientras se liquidaba")
        }
    }
}

extension FinancingService {
    /// Runs `body` — an operation that reads the ledger and then writes — through this service's
    /// gate, and again (reading afresh) when `LedgerFence` found in the write's transaction that
    /// the ledger had changed since the read (another node, the consumer); after
    /// `attempts` tries, a 409 saying so in Spanish and English.
    func fenced<T: Sendable>(_ what: String, _ qué: String, attempts: Int = LedgerFence.attempts,
                             _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await gate.run {
            for _ in 1..<attempts {
                do { return try await body() } catch let e as FHIRError where LedgerFence.isMoved(e) {
                    try await Task.sleep(nanoseconds: UInt64.random(in: 1_000_000...20_000_000))
                }
            }
            do { return try await body() } catch let e as FHIRError where LedgerFence.isMoved(e) {
                throw FHIRError(status: 409, code: "conflict",
                                english: "\(what): the ledger kept changing while it was decided (\(attempts) tries); nothing was written, try again",
                                spanish: "\(qué): el libro contable siguió cambiando mientras se decidía (\(attempts) intentos); no se escribió nada, inténtelo de nuevo")
            }
        }
    }
}
