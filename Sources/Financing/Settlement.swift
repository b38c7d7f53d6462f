import FHIR
import Foundation
import Storage
import Trust

/// The identifiers of settlement resources (one PaymentReconciliation and one PaymentNotice per
/// pair of institutions and period: `2026-Q3|Organization/a|Organization/b`).
public enum SettlementIDs {
    public static let system = "https://enlace.mx/fhir/settlement"
    static func value(_ period: Period, _ s: PairSettlement) -> String {
        "\(period)~\(s.a.replacingOccurrences(of: "/", with: "."))~\(s.b.replacingOccurrences(of: "/", with: "."))"
    }
}

/// What `$settle` produced.
public struct SettlementResult: Sendable {
    public var period: Period
    public var statement: [PairSettlement]
    /// The PaymentReconciliations and PaymentNotices (stored), in pair order.
    public var resources: [JSON]
    /// false: the period had been settled before and this is that settlement.
    public var created: Bool
}

extension FinancingService {
    /// The ledger as the principal sees it, read back from the resources that hold its entries
    /// (ClaimResponses, settlement PaymentReconciliations and accepted dispute Tasks).
    public func ledger(guarded: GuardedRepository) async throws -> Ledger {
        var entries: [JournalEntry] = []
        for r in try await Self.all("ClaimResponse", [], guarded: guarded) {
            entries += try JournalExtension.entries(in: r, source: "ClaimResponse/\(r["id"]?.stringValue ?? "")")
        }
        for r in try await Self.all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: guarded) {
            entries += try JournalExtension.entries(in: r, source: "PaymentReconciliation/\(r["id"]?.stringValue ?? "")")
        }
        for r in try await Self.all("Task", [("code", "\(Disputes.taskSystem)|dispute")], guarded: guarded) {
            entries += try JournalExtension.entries(in: r, source: "Task/\(r["id"]?.stringValue ?? "")")
        }
        do { return try Ledger(replaying: entries) } catch let e as LedgerError { throw e.fhirError }
    }

    /// Totals by tariff code of the services in `period` that `a` gave `b`'s beneficiaries and
    /// back (from the ClaimResponses whose journal entries count in the period).
    func servicesByCode(_ period: Period, ledger: Ledger, guarded: GuardedRepository) async throws -> [String: [String: Money]] {
        var out: [String: [String: Money]] = [:]  // "creditor>debtor" → code → benefit
        for r in try await Self.all("ClaimResponse", [], guarded: guarded) {
            let source = "ClaimResponse/\(r["id"]?.stringValue ?? "")"
            let held = try JournalExtension.entries(in: r, source: source)
            // a corrected claim: only its live entry has these items (a reversed one is undone)
            let reversed = Set(held.filter { $0.kind == .reversal }.compactMap(\.reverses))
            for e in held where e.period == period && e.kind == .claim && !reversed.contains(e.id) {
                guard let p = e.postings.first(where: { $0.account.kind == .receivable && Ledger.isInstitution($0.account.counterparty ?? "") }) else { continue }
                let key = "\(p.account.holder)>\(p.account.counterparty!)"
                for item in r["item"]?.arrayValue ?? [] {
                    let code = (item["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == ClaimDocuments.serviceCodeExtension }?["valueCode"]?.stringValue ?? "?"
                    let benefit = (item["adjudication"]?.arrayValue ?? []).first { $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "benefit" }
                    out[key, default: [:]][code, default: .zero] += (try? Money(json: benefit?["amount"], path: "")) ?? .zero
                }
            }
        }
        return out
    }

    /// `$settle` for `period`: nets, per pair of institutions, what each owes the other for the
    /// period from the ledger, and stores in one transaction a PaymentReconciliation per pair
    /// (both directions as details, the net as the payment, the settlement journal entry, and
    /// the services totalled by tariff code) and a PaymentNotice of the net. A settled period is
    /// not settled again: the stored settlement is returned.
    ///
    /// Quality incentives (`contracts`, docs/financing.md "Incentives") earned in the period are
    /// posted first, as `incentive` entries between the contract's payer and each participant
    /// that met a target, so the settlement nets them with the services; they are held in the
    /// pair's PaymentReconciliation (its journal entries, and an `incentive-total` extension of
    /// the payee's detail saying what was measured).
    public func settle(_ period: Period, guarded: GuardedRepository, now: Timestamp,
                       contracts: [IncentiveContract] = IncentiveContract.all) async throws -> SettlementResult {
        try await fenced("$settle \(period)", "$settle \(period)", attempts: LedgerFence.settleAttempts) {
            try await self.settleAlone(period, guarded: guarded, now: now, contracts: contracts)
        }
    }

    func settleAlone(_ period: Period, guarded: GuardedRepository, now: Timestamp, contracts: [IncentiveContract]) async throws -> SettlementResult {
        var ledger = try await self.ledger(guarded: guarded)
        if ledger.settled.contains(period) {
            let stored = try await Self.all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: guarded)
                .filter { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasPrefix("\(period)~") }
            return SettlementResult(period: period, statement: ledger.statement(for: period), resources: stored, created: false)
        }
        let byCode = try await servicesByCode(period, ledger: ledger, guarded: guarded)
        let incentives = try await self.incentives(period, contracts: contracts, guarded: guarded, now: now)
        do { for line in incentives { try ledger.post(line.entry(period)) } } catch let e as LedgerError { throw e.fhirError }
        let statement: [PairSettlement]
        do { statement = try ledger.settle(period) } catch let e as LedgerError { throw e.fhirError }
        var entries: [JSON] = []
        let created = now.description
        for s in statement {
            let value = SettlementIDs.value(period, s)
            let entry = Ledger.settlementEntry(s, period: period, source: "PaymentReconciliation")
            let recURL = "urn:uuid:" + UUID().uuidString.lowercased()
            func detail(_ creditor: String, _ debtor: String, _ m: Money) -> JSON {
                let codes = (byCode["\(creditor)>\(debtor)"] ?? [:]).sorted { $0.key < $1.key }
                let ext = codes.map { code, amount in
                    J.o(("url", .string("https://enlace.mx/fhir/StructureDefinition/service-total")), ("extension", J.a([
                        J.o(("url", .string("code")), ("valueCoding", J.coding(tariff.system, code, tariff.items[code]?.display))),
                        J.o(("url", .string("amount")), ("valueMoney", amount.json)),
                    ])))
                }
                let earned = incentives.filter { $0.payee == creditor && $0.payer == debtor }.map(\.json)
                let all = ext + earned
                return J.o(("extension", all.isEmpty ? nil : J.a(all)),
                           ("type", J.concept("http://terminology.hl7.org/CodeSystem/payment-type", "payment", "Payment",
                                              text: "Servicios de \(creditor) a derechohabientes de \(debtor)")),
                           ("submitter", J.ref(creditor)), ("payee", J.ref(creditor)), ("amount", m.json))
            }
            let payer = s.payer, payee = s.payee
            let net = Money(centavos: abs(s.net.centavos))
            let rec = J.o(("resourceType", .string("PaymentReconciliation")),
                          ("extension", J.a([JournalExtension.json(entry)] + incentives.filter { [s.a, s.b].sorted() == [$0.payer, $0.payee].sorted() }
                                .map { JournalExtension.json($0.entry(period)) })),
                          ("identifier", J.a([J.o(("system", .string(SettlementIDs.system)), ("value", .string(value)))])),
                          ("status", .string("active")), ("period", J.o(("start", .string(period.start)), ("end", .string(period.end)))),
                          ("created", .string(created)), ("paymentIssuer", payer.map { J.ref($0) }),
                          ("outcome", .string("complete")),
                          ("disposition", .string("Liquidación \(period) entre \(s.a) y \(s.b): neto \(net.decimal) MXN"
                                                  + (payer.map { " a cargo de \($0)" } ?? " (saldo cero)"))),
                          ("paymentDate", .string(period.end)), ("paymentAmount", net.json),
                          ("detail", J.a([detail(s.a, s.b, s.owedToA), detail(s.b, s.a, s.owedToB)])))
            entries.append(J.o(("fullUrl", .string(recURL)), ("resource", rec),
                               ("request", J.o(("method", .string("POST")), ("url", .string("PaymentReconciliation")),
                                               ("ifNoneExist", .string("identifier=\(SettlementIDs.system)|\(value)"))))))
            if let payee {
                let notice = J.o(("resourceType", .string("PaymentNotice")),
                                 ("identifier", J.a([J.o(("system", .string(SettlementIDs.system)), ("value", .string(value)))])),
                                 ("status", .string("active")), ("created", .string(created)), ("payment", J.ref(recURL)),
                                 ("paymentDate", .string(period.end)), ("payee", J.ref(payee)), ("recipient", J.ref(payee)), ("amount", net.json))
                entries.append(J.o(("resource", notice), ("request", J.o(("method", .string("POST")), ("url", .string("PaymentNotice")),
                                                                         ("ifNoneExist", .string("identifier=\(SettlementIDs.system)|\(value)"))))))
            }
        }
        if !entries.isEmpty {
            let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(entries)))
            var writer = guarded
            writer.provenanceTemplate = J.o(("resourceType", .string("Provenance")),
                                            ("policy", J.a([.string(tariff.canonical), .string("https://enlace.mx/fhir/settlement-rules|1.0")])),
                                            ("reason", J.a([J.o(("text", .string("Liquidación del periodo \(period) con compensación por pares")))])))
            _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:financing", maxEntries: 10_000))
        }
        let stored = try await Self.all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: guarded)
            .filter { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasPrefix("\(period)~") }
        let notices = try await Self.all("PaymentNotice", [("identifier", "\(SettlementIDs.system)|")], guarded: guarded)
            .filter { ($0["identifier"]?.arrayValue?.first?["value"]?.stringValue ?? "").hasPrefix("\(period)~") }
        return SettlementResult(period: period, statement: statement, resources: stored + notices, created: true)
    }
}
