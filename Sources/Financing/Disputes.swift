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
        let parts = line.split(separator: "/")
        guard parts.count == 2, parts[0] == "ClaimResponse" else {
            throw FHIRError.badRequest("line must reference a ClaimResponse of the settlement (ClaimResponse/{id})",
                                       "line debe referir a un ClaimResponse de la liquidación (ClaimResponse/{id})", code: "value")
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
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a([
            J.o(("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())), ("resource", task),
                ("request", J.o(("method", .string("POST")), ("url", .string("Task")), ("ifNoneExist", .string("identifier=\(token)"))))),
        ])))
        var writer = guarded
        writer.provenanceTemplate = J.o(("resourceType", .string("Provenance")), ("policy", J.a([.string("https://enlace.mx/fhir/settlement-rules|1.0")])),
                                        ("reason", J.a([J.text("Disputa de partida: \(trimmed)")])))
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
        try await FinancingWriteGate.shared.run { try await self.resolveAlone(dispute: id, accept: accept, note: note, guarded: guarded, now: now) }
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
        if accept {
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
