import FHIR
import Foundation
import Storage
import Trust

/// Disputes per settlement line item (docs/financing.md, "Disputes"). A line of a settlement is
/// a claim (its ClaimResponse, optionally one item of it) that counted in the settled period
/// between the pair. The paying institution disputes it with a reason: a `Task` (code
/// `financing-task#dispute`, `focus` the PaymentReconciliation, `input` the ClaimResponse, item
/// and amount, `requester` the payer, `owner` the provider), status `requested` with business
/// status `open`. Resolving it (`Task/{id}/$resolve`) makes it `completed`/`accepted` — its
/// correction journal entry, held in the Task, takes the amount off what the payer owes in the
/// first open period after the claim's — or `rejected`. A settled period never changes.
public enum Disputes {
    public static let taskSystem = AccessPolicy.disputeTaskSystem
    public static let statusSystem = "https://enlace.mx/fhir/CodeSystem/dispute-status"
    public static let identifierSystem = "https://enlace.mx/fhir/sid/settlement-dispute"
    static let inputSystem = "https://enlace.mx/fhir/CodeSystem/dispute-input"

    public enum Status: String, Sendable { case open, accepted, rejected }

    static func input(_ code: String, _ value: (String, JSON)) -> JSON {
        J.o(("type", J.concept(inputSystem, code)), value)
    }

    static func inputValue(_ task: JSON, _ code: String) -> JSON? {
        (task["input"]?.arrayValue ?? []).first { ($0["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue) == code }
    }

    /// The measure an incentive line names: `Measure/{id}`, the Measure's canonical, or the
    /// incentive's journal entry id (`incentive:<contract>:<period>:<payee>:<measure>`); nil for
    /// anything else (a claim line).
    static func incentiveLine(_ line: String) -> String? {
        if line.hasPrefix("incentive:") { return line.split(separator: ":").last.map(String.init) }
        for prefix in ["Measure/", "https://enlace.mx/fhir/Measure/"] where line.hasPrefix(prefix) {
            let id = String(line.dropFirst(prefix.count).split(separator: "|").first ?? "")
            return Repository.isValidID(id) ? id : nil
        }
        return nil
    }

    static func status(_ task: JSON) -> Status? {
        (task["businessStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue).flatMap(Status.init(rawValue:))
    }
}

extension FinancingService {
    /// `PaymentReconciliation/{id}/$dispute`: the payer of a settlement line disputes it. `line`
    /// is the ClaimResponse (`ClaimResponse/x`) that counted in the settlement, `item` one of its
    /// item sequences (nil: the whole claim), `amount` what is disputed (nil: the payer's share of
    /// the line). Returns the dispute Task and whether it was created (a second dispute of the
    /// same line item is the first one).
    public func dispute(reconciliation id: String, line: String, item: Int?, reason: String, amount: Money?, guarded: GuardedRepository,
                        now: Timestamp) async throws -> (task: JSON, created: Bool) {
        let rec = try await guarded.read("PaymentReconciliation", id).json()
        guard rec["identifier"]?.arrayValue?.first?["system"]?.stringValue == SettlementIDs.system,
              let settlement = try JournalExtension.entries(in: rec, source: "PaymentReconciliation/\(id)").first(where: { $0.kind == .settlement }) else {
            throw FHIRError(status: 422, code: "business-rule", english: "PaymentReconciliation/\(id) is not a settlement Enlace made",
                            spanish: "PaymentReconciliation/\(id) no es una liquidación hecha por Enlace")
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw FHIRError.badRequest("a dispute needs a reason", "una disputa necesita un motivo", code: "required")
        }
        if let measure = Disputes.incentiveLine(line) {
            guard item == nil else {
                throw FHIRError.badRequest("an incentive line has no items: leave item out", "una partida de incentivo no tiene servicios: omita item", code: "value")
            }
            return try await disputeIncentive(reconciliation: id, rec: rec, settlement: settlement, line: line, measure: measure, reason: trimmed, amount: amount,
                                              guarded: guarded, now: now)
        }
        let parts = line.split(separator: "/")
        guard parts.count == 2, parts[0] == "ClaimResponse" else {
            throw FHIRError.badRequest("line must reference a ClaimResponse of the settlement (ClaimResponse/{id}) or one of its incentives (Measure/{id})",
                                       "line debe referir a un ClaimResponse de la liquidación (ClaimResponse/{id}) o a uno de sus incentivos (Measure/{id})",
                                       code: "value")
        }
        let response = try await guarded.read("ClaimResponse", String(parts[1])).json()
        let holders = Set(settlement.postings.map(\.account.holder))
        guard let claimEntry = try JournalExtension.entries(in: response, source: line).first(where: { $0.kind == .claim }),
              claimEntry.period == settlement.period,
              let owed = claimEntry.postings.first(where: { $0.account.kind == .receivable && holders.contains($0.account.holder) && holders.contains($0.account.counterparty ?? "")
                  // what an institution's own beneficiaries cost it is settled with nobody (`Ledger.statement`)
                  && $0.account.counterparty != $0.account.holder })
        else {
            throw FHIRError(status: 422, code: "business-rule", english: "\(line) is not a line of the settlement PaymentReconciliation/\(id) (\(settlement.period))",
                            spanish: "\(line) no es una partida de la liquidación PaymentReconciliation/\(id) (\(settlement.period))")
        }
        let provider = owed.account.holder, payer = owed.account.counterparty!
        if let org = guarded.principal.organization.map({ $0.hasPrefix("Organization/") ? $0 : "Organization/\($0)" }), org != payer,
           await Self.institution(of: org, guarded: guarded) != payer {
            throw FHIRError(status: 403, code: "forbidden", english: "only the paying institution (\(payer)) may dispute this line",
                            spanish: "solo la institución pagadora (\(payer)) puede disputar esta partida")
        }
        var lineAmount = owed.amount
        if let item {
            let items = response["item"]?.arrayValue ?? []
            guard let it = items.first(where: { if case .number(let n)? = $0["itemSequence"] { return Int(n) == item } else { return false } }) else {
                throw FHIRError.badRequest("\(line) has no item \(item)", "\(line) no tiene el servicio \(item)", code: "value")
            }
            let benefit = (it["adjudication"]?.arrayValue ?? []).first { $0["category"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "benefit" }
            lineAmount = (try? Money(json: benefit?["amount"], path: "")) ?? .zero
        }
        let disputed = amount ?? lineAmount
        guard disputed > .zero, disputed <= lineAmount else {
            throw FHIRError(status: 422, code: "business-rule", english: "the disputed amount must be positive and at most \(lineAmount.decimal) MXN (the line)",
                            spanish: "el importe disputado debe ser positivo y a lo más \(lineAmount.decimal) MXN (la partida)")
        }
        let value = "\(id)~\(parts[1])~\(item.map(String.init) ?? "all")"
        let token = "\(Disputes.identifierSystem)|\(value)"
        if let known = try await Self.all("Task", [("identifier", token)], guarded: guarded, limit: 1).first { return (known, false) }
        var inputs = [Disputes.input("line", ("valueReference", J.ref(line))), Disputes.input("amount", ("valueMoney", disputed.json)),
                      Disputes.input("claim-entry", ("valueString", .string(claimEntry.id)))]
        if let item { inputs.append(Disputes.input("item", ("valuePositiveInt", J.n(item)))) }
        let task = J.o(("resourceType", .string("Task")),
                       ("identifier", J.a([J.o(("system", .string(Disputes.identifierSystem)), ("value", .string(value)))])),
                       ("status", .string("requested")),
                       ("businessStatus", J.concept(Disputes.statusSystem, Disputes.Status.open.rawValue, "Abierta / Open")),
                       ("intent", .string("proposal")),
                       ("code", J.concept(Disputes.taskSystem, "dispute", "Disputa de una partida de la liquidación / Settlement line dispute")),
                       ("description", .string("Disputa de \(payer) sobre \(line) de la liquidación \(settlement.period): \(disputed.decimal) MXN")),
                       ("focus", J.ref("PaymentReconciliation/\(id)")),
                       ("authoredOn", .string(now.description)), ("lastModified", .string(now.description)),
                       ("requester", J.ref(payer)), ("owner", J.ref(provider)),
                       ("reasonCode", J.text(trimmed)),
                       ("input", J.a(inputs)))
        return try await storeDispute(task, token: token, reason: trimmed, guarded: guarded)
    }

    /// The dispute of a quality incentive counted in the settlement (docs/financing.md,
    /// "Incentives"): the contract's payer disputes it whole (an incentive is earned or not; a
    /// partial amount is refused). Accepting it (`$resolve`) reverses the incentive's journal
    /// entry in the first open period after the settled one.
    func disputeIncentive(reconciliation id: String, rec: JSON, settlement: JournalEntry, line: String, measure: String, reason: String, amount: Money?,
                          guarded: GuardedRepository, now: Timestamp) async throws -> (task: JSON, created: Bool) {
        let source = "PaymentReconciliation/\(id)"
        let held = try JournalExtension.entries(in: rec, source: source).filter { $0.kind == .incentive && $0.period == settlement.period }
        var candidates = held.filter { $0.id.hasSuffix(":\(measure)") }
        if line.hasPrefix("incentive:") { candidates = candidates.filter { $0.id == line } }
        let org = guarded.principal.organization.map { $0.hasPrefix("Organization/") ? $0 : "Organization/\($0)" }
        func payerOf(_ e: JournalEntry) -> String? { e.postings.first { $0.account.kind == .payable }?.account.holder }
        func payeeOf(_ e: JournalEntry) -> String? { e.postings.first { $0.account.kind == .receivable }?.account.holder }
        if candidates.count > 1, let org {
            var mine: [JournalEntry] = []
            for e in candidates {
                guard let payer = payerOf(e) else { continue }
                if payer == org { mine.append(e) } else if await Self.institution(of: org, guarded: guarded) == payer { mine.append(e) }
            }
            candidates = mine
        }
        guard let entry = candidates.first else {
            throw FHIRError(status: 422, code: "business-rule",
                            english: "\(line) is not an incentive of the settlement PaymentReconciliation/\(id) (\(settlement.period))",
                            spanish: "\(line) no es un incentivo de la liquidación PaymentReconciliation/\(id) (\(settlement.period))")
        }
        guard candidates.count == 1 else {
            throw FHIRError(status: 422, code: "business-rule",
                            english: "\(line) names several incentives of this settlement; give the journal entry id: \(candidates.map(\.id).joined(separator: ", "))",
                            spanish: "\(line) designa varios incentivos de esta liquidación; indique el id del asiento: \(candidates.map(\.id).joined(separator: ", "))")
        }
        guard let payer = payerOf(entry), let payee = payeeOf(entry),
              let owed = entry.postings.first(where: { $0.account.kind == .receivable })?.amount else {
            throw FHIRError(status: 422, code: "business-rule", english: "\(entry.id) is not an incentive between two institutions",
                            spanish: "\(entry.id) no es un incentivo entre dos instituciones")
        }
        if let org, org != payer, await Self.institution(of: org, guarded: guarded) != payer {
            throw FHIRError(status: 403, code: "forbidden", english: "only the paying institution (\(payer)) may dispute this incentive",
                            spanish: "solo la institución pagadora (\(payer)) puede disputar este incentivo")
        }
        if let amount, amount != owed {
            throw FHIRError(status: 422, code: "business-rule",
                            english: "an incentive is disputed whole: leave amount out or give \(owed.decimal) MXN (the incentive), not \(amount.decimal)",
                            spanish: "un incentivo se disputa completo: omita amount o indique \(owed.decimal) MXN (el incentivo), no \(amount.decimal)")
        }
        let contract = String(entry.id.dropFirst("incentive:".count).split(separator: "|").first?.split(separator: "/").last ?? "")
        let value = "\(id)~incentive~\(contract)~\(payee.split(separator: "/").last ?? "")~\(measure)"
        let token = "\(Disputes.identifierSystem)|\(value)"
        if let known = try await Self.all("Task", [("identifier", token)], guarded: guarded, limit: 1).first { return (known, false) }
        let inputs = [Disputes.input("line", ("valueReference", J.ref("Measure/\(measure)"))), Disputes.input("amount", ("valueMoney", owed.json)),
                      Disputes.input("incentive-entry", ("valueString", .string(entry.id)))]
        let task = J.o(("resourceType", .string("Task")),
                       ("identifier", J.a([J.o(("system", .string(Disputes.identifierSystem)), ("value", .string(value)))])),
                       ("status", .string("requested")),
                       ("businessStatus", J.concept(Disputes.statusSystem, Disputes.Status.open.rawValue, "Abierta / Open")),
                       ("intent", .string("proposal")),
                       ("code", J.concept(Disputes.taskSystem, "dispute", "Disputa de una partida de la liquidación / Settlement line dispute")),
                       ("description", .string("Disputa de \(payer) sobre el incentivo \(measure) de \(payee) en la liquidación \(settlement.period): \(owed.decimal) MXN")),
                       ("focus", J.ref(source)),
                       ("authoredOn", .string(now.description)), ("lastModified", .string(now.description)),
                       ("requester", J.ref(payer)), ("owner", J.ref(payee)),
                       ("reasonCode", J.text(reason)),
                       ("input", J.a(inputs)))
        return try await storeDispute(task, token: token, reason: reason, guarded: guarded)
    }

    /// Writes a new dispute Task (conditional on its identifier, so two at once make one) with its
    /// Provenance, and reads it back.
    func storeDispute(_ task: JSON, token: String, reason: String, guarded: GuardedRepository) async throws -> (task: JSON, created: Bool) {
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a([
            J.o(("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())), ("resource", task),
                ("request", J.o(("method", .string("POST")), ("url", .string("Task")), ("ifNoneExist", .string("identifier=\(token)"))))),
        ])))
        var writer = guarded
        writer.provenanceTemplate = J.o(("resourceType", .string("Provenance")), ("policy", J.a([.string("https://enlace.mx/fhir/settlement-rules|1.0")])),
                                        ("reason", J.a([J.text("Disputa de partida: \(reason)")])))
        let reply = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:financing", maxEntries: 1))
        let created = reply["entry"]?.arrayValue?.first?["response"]?["status"]?.stringValue?.hasPrefix("201") ?? false
        guard let stored = try await Self.all("Task", [("identifier", token)], guarded: guarded, limit: 1).first else {
            throw FHIRError(status: 500, code: "exception", english: "the dispute was stored but cannot be read back", spanish: "la disputa se guardó pero no se puede leer")
        }
        return (stored, created)
    }

    /// `Task/{id}/$resolve`: accepts or rejects an open dispute. Accepted: the Task holds the
    /// correction journal entry (in the first open period after the claim's). Only an open
    /// dispute can be resolved (409 otherwise); the update is conditional on the version read, so
    /// two resolutions at once make one.
    public func resolve(dispute id: String, accept: Bool, note: String?, guarded: GuardedRepository, now: Timestamp) async throws -> JSON {
        try await fenced("Task/\(id)/$resolve", "Task/\(id)/$resolve") {
            try await self.resolveAlone(dispute: id, accept: accept, note: note, guarded: guarded, now: now)
        }
    }

    func resolveAlone(dispute id: String, accept: Bool, note: String?, guarded: GuardedRepository, now: Timestamp) async throws -> JSON {
        let stored = try await guarded.read("Task", id)
        let task = try stored.json()
        guard (task["code"]?["coding"]?.arrayValue ?? []).contains(where: { $0["system"]?.stringValue == Disputes.taskSystem && $0["code"]?.stringValue == "dispute" }) else {
            throw FHIRError(status: 422, code: "business-rule", english: "Task/\(id) is not a settlement dispute", spanish: "Task/\(id) no es una disputa de liquidación")
        }
        guard Disputes.status(task) == .open else {
            throw FHIRError(status: 409, code: "conflict", english: "Task/\(id) is already \(Disputes.status(task)?.rawValue ?? "closed")",
                            spanish: "Task/\(id) ya está \(Disputes.status(task) == .accepted ? "aceptada" : "cerrada")")
        }
        if let org = guarded.principal.organization.map({ $0.hasPrefix("Organization/") ? $0 : "Organization/\($0)" }),
           let owner = task["owner"]?["reference"]?.stringValue, org != owner, await Self.institution(of: org, guarded: guarded) != owner {
            throw FHIRError(status: 403, code: "forbidden", english: "only the institution owed (\(owner)) may resolve this dispute",
                            spanish: "solo la institución acreedora (\(owner)) puede resolver esta disputa")
        }
        var out = task.setting("meta", nil).setting("lastModified", .string(now.description))
        if let note, !note.isEmpty { out = out.setting("note", J.a([J.o(("text", .string(note)), ("time", .string(now.description)))])) }
        if accept, let incentiveID = Disputes.inputValue(task, "incentive-entry")?["valueString"]?.stringValue {
            var ledger = try await self.ledger(guarded: guarded)
            guard let original = ledger.entry(incentiveID), original.kind == .incentive else {
                throw FHIRError(status: 422, code: "business-rule", english: "Task/\(id) names an incentive the ledger does not hold (\(incentiveID))",
                                spanish: "Task/\(id) indica un incentivo que el libro no tiene (\(incentiveID))")
            }
            guard !ledger.entries.contains(where: { $0.kind == .reversal && $0.reverses == incentiveID }) else {
                throw FHIRError(status: 409, code: "conflict", english: "the incentive \(incentiveID) was already reversed",
                                spanish: "el incentivo \(incentiveID) ya se revirtió")
            }
            let entry: JournalEntry
            do {
                entry = try ledger.reverse(incentiveID, reversalID: "reversal:\(id)", period: original.period.next, date: String(now.description.prefix(10)), source: "Task/\(id)")
            } catch let e as LedgerError { throw e.fhirError }
            out = out.setting("status", .string("completed"))
                .setting("businessStatus", J.concept(Disputes.statusSystem, Disputes.Status.accepted.rawValue, "Aceptada / Accepted"))
                .setting("extension", J.a([JournalExtension.json(entry)]))
                .setting("output", J.a([J.o(("type", J.concept(Disputes.inputSystem, "correction-period")), ("valueString", .string(entry.period.description)))]))
        } else if accept {
            guard let claimID = Disputes.inputValue(task, "claim-entry")?["valueString"]?.stringValue,
                  let amount = try? Money(json: Disputes.inputValue(task, "amount")?["valueMoney"], path: "Task.input") else {
                throw FHIRError(status: 422, code: "business-rule", english: "Task/\(id) does not name its line and amount", spanish: "Task/\(id) no indica su partida e importe")
            }
            var ledger = try await self.ledger(guarded: guarded)
            let entry: JournalEntry
            do {
                entry = try ledger.correct(claimID, correctionID: "correction:\(id)", amount: amount, date: String(now.description.prefix(10)), source: "Task/\(id)")
            } catch let e as LedgerError { throw e.fhirError }
            out = out.setting("status", .string("completed"))
                .setting("businessStatus", J.concept(Disputes.statusSystem, Disputes.Status.accepted.rawValue, "Aceptada / Accepted"))
                .setting("extension", J.a([JournalExtension.json(entry)]))
                .setting("output", J.a([J.o(("type", J.concept(Disputes.inputSystem, "correction-period")), ("valueString", .string(entry.period.description)))]))
        } else {
            out = out.setting("status", .string("rejected"))
                .setting("businessStatus", J.concept(Disputes.statusSystem, Disputes.Status.rejected.rawValue, "Rechazada / Rejected"))
        }
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a([
            J.o(("resource", out), ("request", J.o(("method", .string("PUT")), ("url", .string("Task/\(id)")), ("ifMatch", .string("W/\"\(stored.version)\""))))),
        ])))
        var writer = guarded
        writer.provenanceTemplate = J.o(("resourceType", .string("Provenance")), ("policy", J.a([.string("https://enlace.mx/fhir/settlement-rules|1.0")])),
                                        ("reason", J.a([J.text(accept ? "Disputa aceptada: corrección en el siguiente periodo" : "Disputa rechazada")])))
        _ = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:financing", maxEntries: 1))
        return try await guarded.read("Task", id).json()
    }
}
