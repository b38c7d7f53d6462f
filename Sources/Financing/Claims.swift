import FHIR
import Foundation
import Storage
import Trust

/// What `Claim/$submit` needs from a Claim (https://hl7.org/fhir/R4/claim.html), checked.
public struct ClaimInput: Sendable {
    public var identifierSystem: String
    public var identifierValue: String
    public var patient: String
    public var provider: String
    public var coverage: String
    public var serviceDate: String
    public var lines: [Adjudicator.Line]
    /// CIE-10 codes of `Claim.diagnosis`.
    public var diagnoses: [String]
    /// The code system of the service codes (the tariff's).
    public var tariffSystem: String
    /// `Claim.type` (http://terminology.hl7.org/CodeSystem/claim-type): professional, institutional, …
    public var claimType: String = "institutional"

    static func invalid(_ en: String, _ es: String, _ path: String, code: String = "required") -> FHIRError {
        FHIRError(status: 422, code: code, english: en, spanish: es, expression: [path])
    }

    /// Reads `claim`, or throws a 422 OperationOutcome naming the element at fault.
    public init(claim: JSON, tariff: Tariff) throws {
        guard claim["resourceType"]?.stringValue == "Claim" else {
            throw FHIRError(status: 400, code: "invalid", english: "Claim/$submit takes a Claim", spanish: "Claim/$submit recibe un Claim")
        }
        guard let ident = claim["identifier"]?.arrayValue?.first, let system = ident["system"]?.stringValue, let value = ident["value"]?.stringValue,
              !system.isEmpty, !value.isEmpty else {
            throw Self.invalid("Claim.identifier (system and value) is required: it makes a retried submission return the same result",
                               "Claim.identifier (system y value) es obligatorio: con él un reenvío devuelve el mismo resultado", "Claim.identifier")
        }
        let reserved = CharacterSet(charactersIn: "|,$\\")
        guard system.rangeOfCharacter(from: reserved) == nil, value.rangeOfCharacter(from: reserved) == nil else {
            throw Self.invalid("Claim.identifier may not contain | , $ or \\", "Claim.identifier no puede contener | , $ ni \\", "Claim.identifier", code: "value")
        }
        identifierSystem = system
        tariffSystem = tariff.system
        identifierValue = value
        guard let patient = claim["patient"]?["reference"]?.stringValue, patient.hasPrefix("Patient/") else {
            throw Self.invalid("Claim.patient must reference a Patient", "Claim.patient debe referir a un Patient", "Claim.patient")
        }
        guard let provider = claim["provider"]?["reference"]?.stringValue, provider.hasPrefix("Organization/") else {
            throw Self.invalid("Claim.provider must reference the Organization that gave the service",
                               "Claim.provider debe referir a la Organization que dio el servicio", "Claim.provider")
        }
        let insurance = claim["insurance"]?.arrayValue ?? []
        guard let focal = insurance.first(where: { $0["focal"]?.boolValue == true }) ?? insurance.first,
              let coverage = focal["coverage"]?["reference"]?.stringValue, coverage.hasPrefix("Coverage/") else {
            throw Self.invalid("Claim.insurance needs a focal Coverage", "Claim.insurance necesita una Coverage focal", "Claim.insurance")
        }
        self.patient = patient
        self.provider = provider
        self.coverage = coverage
        let items = claim["item"]?.arrayValue ?? []
        guard !items.isEmpty else { throw Self.invalid("Claim.item: at least one service is required", "Claim.item: se requiere al menos un servicio", "Claim.item") }
        var lines: [Adjudicator.Line] = []
        var dates: [String] = []
        var seen: Set<Int> = []
        for (i, item) in items.enumerated() {
            let path = "Claim.item[\(i)]"
            guard case .number(let seqText)? = item["sequence"], let seq = Int(seqText), seq > 0, seen.insert(seq).inserted else {
                throw Self.invalid("\(path).sequence must be a unique positive integer", "\(path).sequence debe ser un entero positivo único", "\(path).sequence")
            }
            let codings = item["productOrService"]?["coding"]?.arrayValue ?? []
            guard let code = (codings.first { $0["system"]?.stringValue == tariff.system } ?? codings.first)?["code"]?.stringValue else {
                throw Self.invalid("\(path).productOrService needs a code of \(tariff.system)", "\(path).productOrService necesita un código de \(tariff.system)",
                                   "\(path).productOrService")
            }
            var quantity = 1
            if let q = item["quantity"]?["value"] {
                guard case .number(let t) = q, let n = Int(t), (1...10_000).contains(n) else {
                    throw Self.invalid("\(path).quantity.value must be a whole number from 1 to 10000", "\(path).quantity.value debe ser un entero de 1 a 10000",
                                       "\(path).quantity", code: "value")
                }
                quantity = n
            }
            let net = try item["net"].map { try Money(json: $0, path: "\(path).net") }
            if let d = item["servicedDate"]?.stringValue { dates.append(d) }
            lines.append(.init(sequence: seq, code: code, quantity: quantity, submitted: net))
        }
        self.lines = lines
        guard let date = dates.min() ?? claim["billablePeriod"]?["start"]?.stringValue ?? claim["created"]?.stringValue, Period(date: date) != nil else {
            throw Self.invalid("the service date is missing (Claim.item.servicedDate, billablePeriod.start or created)",
                               "falta la fecha del servicio (Claim.item.servicedDate, billablePeriod.start o created)", "Claim.item.servicedDate")
        }
        serviceDate = String(date.prefix(10))
        if let t = claim["type"]?["coding"]?.arrayValue?.first?["code"]?.stringValue { claimType = t }
        diagnoses = (claim["diagnosis"]?.arrayValue ?? []).compactMap { $0["diagnosisCodeableConcept"]?["coding"]?.arrayValue?.first?["code"]?.stringValue }
    }

    /// The search token of the identifier (`system|value`).
    public var token: String { "\(identifierSystem)|\(identifierValue)" }
}

/// What a submission came to.
public struct Submission: Sendable {
    public var claim: JSON
    public var claimResponse: JSON
    public var explanationOfBenefit: JSON
    /// false: the identifier had been submitted before, and this is that result.
    public var created: Bool
    public var result: Adjudicator.Result?
}

/// The financing link over the guarded repository of a principal (docs/financing.md):
/// eligibility, claim submission and adjudication, settlement and measures.
public struct FinancingService: Sendable {
    public var adjudicator: Adjudicator
    /// Serializes this process's ledger writers (fewer `LedgerFence` retries; not needed for correctness).
    public var gate: FinancingWriteGate
    public var tariff: Tariff { adjudicator.tariff }
    /// The algorithm as a Provenance agent.
    public static let algorithm = "financing.adjudicator"
    public static let algorithmVersion = "1.0"

    public init(adjudicator: Adjudicator = Adjudicator(), gate: FinancingWriteGate = .shared) {
        self.adjudicator = adjudicator
        self.gate = gate
    }

    static let coverageClass = "http://terminology.hl7.org/CodeSystem/coverage-class"

    /// Reads the Coverage and its plan through the guard (404 as for any hidden resource).
    func coverageAndPlan(_ coverageRef: String, guarded: GuardedRepository) async throws -> (JSON, BenefitPlan) {
        let parts = coverageRef.split(separator: "/")
        guard parts.count == 2 else {
            throw FHIRError(status: 422, code: "value", english: "\(coverageRef) is not a Coverage reference", spanish: "\(coverageRef) no es una referencia a Coverage")
        }
        let coverage = try await guarded.read("Coverage", String(parts[1])).json()
        let classes = coverage["class"]?.arrayValue ?? []
        guard let planID = classes.first(where: { ($0["type"]?["coding"]?.arrayValue ?? []).contains { $0["code"]?.stringValue == "plan" } })?["value"]?.stringValue else {
            throw FHIRError(status: 422, code: "business-rule", english: "\(coverageRef) names no plan (Coverage.class of type plan)",
                            spanish: "\(coverageRef) no indica plan (Coverage.class de tipo plan)", expression: ["Coverage.class"])
        }
        let plan: JSON
        do { plan = try await guarded.read("InsurancePlan", planID).json() } catch let e as FHIRError where e.status == 404 {
            throw FHIRError(status: 422, code: "business-rule", english: "the plan InsurancePlan/\(planID) of \(coverageRef) is not known here",
                            spanish: "el plan InsurancePlan/\(planID) de \(coverageRef) no se conoce aquí")
        }
        return (coverage, try BenefitPlan(insurancePlan: plan))
    }

    /// Was `coverage` in force on `date` (status active, period containing the day)?
    static func isActive(_ coverage: JSON, on date: String) -> Bool {
        guard coverage["status"]?.stringValue == "active" else { return false }
        let day = String(date.prefix(10))
        if let s = coverage["period"]?["start"]?.stringValue, day < String(s.prefix(10)) { return false }
        if let e = coverage["period"]?["end"]?.stringValue, day > String(e.prefix(10)) { return false }
        return true
    }

    /// Every resource of `type` matching `parameters` that the principal sees (paged through):
    /// `GuardedRepository.searchAll`, as JSON, at most `limit`.
    public static func all(_ type: String, _ parameters: [(String, String)], guarded: GuardedRepository, limit: Int = 1_000_000) async throws -> [JSON] {
        try await guarded.searchAll(type, parameters, limit: limit).prefix(limit).map { try $0.json() }
    }

    /// Deductible already applied this calendar year for `patient` under `coverage` (from the
    /// EOBs the principal sees).
    func deductibleMet(patient: String, coverage: String, year: String, guarded: GuardedRepository) async throws -> Money {
        let eobs = try await Self.all("ExplanationOfBenefit", [("patient", patient), ("coverage", coverage)], guarded: guarded)
        return eobs.map { LedgerFence.deductibleApplied($0, year: year) }.sum()
    }

    /// The institution an organization belongs to (`Organization.partOf`), which is whose books
    /// its services count in; itself when it is not part of another.
    static func institution(of org: String, guarded: GuardedRepository) async -> String {
        let id = String(org.split(separator: "/").last ?? "")
        guard let o = try? await guarded.read("Organization", id).json(), let parent = o["partOf"]?["reference"]?.stringValue else { return org }
        return parent
    }

    /// Periods already settled (their PaymentReconciliations hold settlement entries).
    static func settledPeriods(guarded: GuardedRepository) async throws -> Set<Period> {
        LedgerFence.settledPeriods(in: try await all("PaymentReconciliation", [("identifier", "\(SettlementIDs.system)|")], guarded: guarded))
    }

    /// `Claim/$submit` (https://hl7.org/fhir/R4/claim-operation-submit.html): adjudicates `claim`
    /// under its focal Coverage's plan and the tariff, and stores — in one transaction — the
    /// Claim, the ClaimResponse (approved, partial or denied, with reasons per item, holding the
    /// journal entry of what is owed) and the ExplanationOfBenefit. Idempotent by
    /// `Claim.identifier`: a retry, also a concurrent one, returns the first result and stores
    /// nothing more (every create is conditional on the identifier, inside the transaction).
    /// Each written resource gets a Provenance naming the plan and tariff versions.
    public func submit(claim raw: JSON, guarded: GuardedRepository, now: Timestamp) async throws -> Submission {
        let input = try ClaimInput(claim: raw, tariff: tariff)
        if let done = try await existing(input, guarded: guarded) { return done }
        return try await fenced("Claim/$submit", "Claim/$submit") { try await self.submitAlone(raw, input: input, guarded: guarded, now: now) }
    }

    /// `submit` once through the gate: the deductible met and the settled periods read here are
    /// those every earlier write left; `LedgerFence` checks in the write's transaction that they
    /// still are.
    func submitAlone(_ raw: JSON, input: ClaimInput, guarded: GuardedRepository, now: Timestamp) async throws -> Submission {
        if let done = try await existing(input, guarded: guarded) { return done }
        let prepared = try await prepare(claim: raw, input: input, guarded: guarded, now: now)
        let bundle = J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(prepared.entries)))
        var writer = guarded
        writer.provenanceTemplate = prepared.provenance
        let reply = try await writer.process(bundle: bundle, options: .init(base: "urn:enlace:financing", maxEntries: 3))
        let statuses = (reply["entry"]?.arrayValue ?? []).compactMap { $0["response"]?["status"]?.stringValue }
        guard let done = try await existing(input, guarded: guarded) else {
            throw FHIRError(status: 500, code: "exception", english: "the submission was stored but cannot be read back", spanish: "el envío se guardó pero no se puede leer")
        }
        var out = done
        out.created = statuses.first?.hasPrefix("201") ?? false
        out.result = out.created ? prepared.result : nil
        return out
    }

    /// An adjudicated claim ready to be written: the three transaction entries (Claim,
    /// ClaimResponse, ExplanationOfBenefit, each conditional on the identifier, with `urn:uuid:`
    /// full URLs) and the Provenance naming the rule set.
    public struct Prepared: Sendable {
        public var input: ClaimInput
        public var result: Adjudicator.Result
        public var entries: [JSON]
        /// The Provenance template of the adjudication (plan and tariff with versions).
        public var provenance: JSON
        /// The full URLs of the Claim, ClaimResponse and ExplanationOfBenefit entries.
        public var fullURLs: [String]
        /// The journal entry of what is owed.
        public var entry: JournalEntry
    }

    /// Adjudicates `raw` (read as `input`) without writing: what `submit` writes, and what the
    /// claims-from-care consumer writes with its cursor. `deductibleAlreadyUsed` adds deductible
    /// applied by claims not yet stored (earlier claims of the same consumer `batch`, whose
    /// ExplanationOfBenefits name it); `replacing` is the deductible of the stored adjudication
    /// this one replaces (a correction), not counted. The ExplanationOfBenefit records what the
    /// stored claims had met (`LedgerFence.deductibleReadURL`), re-checked in the write's transaction.
    public func prepare(claim raw: JSON, input: ClaimInput, guarded: GuardedRepository, now: Timestamp,
                        deductibleAlreadyUsed: Money = .zero, batch: String? = nil, replacing: Money = .zero,
                        settled knownSettled: Set<Period>? = nil) async throws -> Prepared {
        let (coverage, plan) = try await coverageAndPlan(input.coverage, guarded: guarded)
        guard coverage["beneficiary"]?["reference"]?.stringValue == input.patient else {
            throw FHIRError(status: 422, code: "business-rule", english: "\(input.coverage) does not cover \(input.patient)",
                            spanish: "\(input.coverage) no cubre a \(input.patient)", expression: ["Claim.insurance.coverage"])
        }
        let payer = coverage["payor"]?.arrayValue?.first?["reference"]?.stringValue ?? plan.payer
        let active = Self.isActive(coverage, on: input.serviceDate)
        let stored = try await deductibleMet(patient: input.patient, coverage: input.coverage, year: String(input.serviceDate.prefix(4)), guarded: guarded)
            - replacing
        let met = stored + deductibleAlreadyUsed
        let result = adjudicator.adjudicate(input.lines, plan: plan, active: active, deductibleMet: met)
        let provider = await Self.institution(of: input.provider, guarded: guarded)
        let settled: Set<Period>
        if let knownSettled { settled = knownSettled } else { settled = try await Self.settledPeriods(guarded: guarded) }
        var period = Period(date: input.serviceDate)!
        while settled.contains(period) { period = period.next }
        let entry = JournalEntry.claim(id: "claim:\(input.token)", period: period, date: input.serviceDate, source: "ClaimResponse",
                                       provider: provider, payer: payer, patient: input.patient, payerShare: result.benefit, patientShare: result.patientShare)
        let created = now.description
        let claimID = "urn:uuid:" + UUID().uuidString.lowercased(), responseID = "urn:uuid:" + UUID().uuidString.lowercased()
        let eobID = "urn:uuid:" + UUID().uuidString.lowercased()
        var claim = raw.setting("id", nil).setting("meta", nil)
        if claim["status"] == nil { claim = claim.setting("status", .string("active")) }
        let response = ClaimDocuments.claimResponse(input, result: result, plan: plan, payer: payer, claimRef: claimID, created: created, entry: entry,
                                                      rules: [plan.canonical, tariff.canonical])
        var eob = ClaimDocuments.explanationOfBenefit(input, claim: raw, result: result, plan: plan, payer: payer, claimRef: claimID,
                                                      responseRef: responseID, created: created)
        eob = eob.setting("extension", J.a((eob["extension"]?.arrayValue ?? []) + [LedgerFence.deductibleRead(met: stored, batch: batch)]))
        func entryJSON(_ full: String, _ r: JSON, _ type: String) -> JSON {
            J.o(("fullUrl", .string(full)), ("resource", r),
                ("request", J.o(("method", .string("POST")), ("url", .string(type)), ("ifNoneExist", .string("identifier=\(input.token)")))))
        }
        return Prepared(input: input, result: result,
                        entries: [entryJSON(claimID, claim, "Claim"), entryJSON(responseID, response, "ClaimResponse"), entryJSON(eobID, eob, "ExplanationOfBenefit")],
                        provenance: provenance(plan: plan, outcome: result.outcome), fullURLs: [claimID, responseID, eobID], entry: entry)
    }

    /// The stored result of an earlier submission of the same identifier, if any.
    func existing(_ input: ClaimInput, guarded: GuardedRepository) async throws -> Submission? {
        let q = [("identifier", input.token)]
        guard let response = try await Self.all("ClaimResponse", q, guarded: guarded, limit: 1).first,
              let claim = try await Self.all("Claim", q, guarded: guarded, limit: 1).first,
              let eob = try await Self.all("ExplanationOfBenefit", q, guarded: guarded, limit: 1).first else { return nil }
        return Submission(claim: claim, claimResponse: response, explanationOfBenefit: eob, created: false, result: nil)
    }

    /// The Provenance every resource of an adjudication gets: the algorithm, and the rule set
    /// (plan and tariff, with versions) in `policy`.
    func provenance(plan: BenefitPlan, outcome: Adjudicator.Outcome) -> JSON {
        J.o(("resourceType", .string("Provenance")),
            ("policy", J.a([.string(plan.canonical), .string(tariff.canonical)])),
            ("reason", J.a([J.o(("text", .string("Adjudicación (\(outcome.rawValue)) con \(plan.name) \(plan.version) y \(tariff.title) \(tariff.version)")))])),
            ("agent", J.a([J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "performer")),
                               ("who", J.o(("identifier", J.o(("system", .string("urn:enlace:algorithm")),
                                                                  ("value", .string("\(Self.algorithm)@\(Self.algorithmVersion)")))),
                                           ("display", .string("Motor de adjudicación de Enlace \(Self.algorithmVersion)")))),
                               ("onBehalfOf", J.ref(plan.payer)))])))
    }
}
