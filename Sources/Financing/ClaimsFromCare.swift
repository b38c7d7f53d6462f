import FHIR
import Foundation
import Storage
import Trust

/// How care is priced: which tariff code a recorded service is claimed as (docs/financing.md,
/// "Claims from care"). Versioned knowledge: the Encounter class, SNOMED CT procedures, LOINC
/// studies and dispensed medicines mapped to the codes of the *tabulador de intercambio*. A
/// service with a coding of the tariff's own system is claimed as that code.
public struct CareServiceMap: Sendable {
    public var version: String
    /// Encounter.class (v3 ActCode) → tariff code of the visit itself.
    public var encounterClass: [String: String]
    /// SNOMED CT procedure → tariff code.
    public var procedures: [String: String]
    /// LOINC study (a laboratory Observation or a DiagnosticReport) → tariff code.
    public var studies: [String: String]
    /// Dispensed medicine: (lower-case text prefix, tariff code, units per box).
    public var medicines: [(prefix: String, code: String, pack: Int)]

    /// `https://enlace.mx/fhir/care-service-map|2026.1`: what a claim's Provenance names.
    public var canonical: String { "https://enlace.mx/fhir/care-service-map|\(version)" }

    /// The map shipped with Enlace, version 2026.1, over the *tabulador* 2026.1. A sample like
    /// the tariff itself: the SNOMED CT and LOINC codes are the ones Enlace's clinical modules
    /// and the demo record; the pairing is ours.
    public static let standard = CareServiceMap(
        version: "2026.1",
        encounterClass: ["AMB": "01.001", "VR": "01.001", "HH": "01.001", "EMER": "01.002", "IMP": "02.003", "ACUTE": "02.003", "NONAC": "02.003"],
        procedures: ["401191002": "05.001", "268445003": "04.001", "399208008": "04.002", "34431008": "01.003"],
        studies: ["4548-4": "03.001", "17856-6": "03.001", "2339-0": "03.002", "2345-7": "03.002", "58410-2": "03.003", "57021-8": "03.003",
                  "57698-3": "03.004", "24331-1": "03.004", "36643-5": "04.002", "11525-3": "04.001"],
        medicines: [("metformina 850", "07.001", 30), ("losartán 50", "07.002", 30), ("losartan 50", "07.002", 30)])

    /// Encounter classes whose claim is institutional (a facility's: emergency, inpatient);
    /// the rest are professional (a visit).
    public static let institutionalClasses: Set<String> = ["EMER", "IMP", "ACUTE", "NONAC", "SS", "OBSENC", "PRENC"]
}

/// Builds the `Claim` of a finished Encounter from what was recorded in it (docs/financing.md,
/// "Claims from care"): professional or institutional by the Encounter's class, CIE-10 diagnoses
/// from its Conditions, items from the visit itself, its Procedures, its studies (laboratory
/// Observations and DiagnosticReports) and the medicines dispensed in it, each with its tariff
/// code; the focal Coverage is the patient's Coverage for the serving institution. Read through
/// the caller's guard.
public struct ClaimFromCare: Sendable {
    public var map: CareServiceMap
    public var tariff: Tariff
    /// The identifier system of claims made from care; the value is `Encounter/<id>/_history/<version>`.
    public static let identifierSystem = "https://enlace.mx/fhir/sid/claim-from-care"

    public init(map: CareServiceMap = .standard, tariff: Tariff = .intercambio2026) {
        self.map = map
        self.tariff = tariff
    }

    /// Why an Encounter gives no claim (kept in the consumer's state, and in the docs).
    public enum Skip: String, Sendable {
        case notFinished = "not-finished"
        case noPatient = "no-patient"
        case noProvider = "no-service-provider"
        case noCoverage = "no-coverage"
        case nothingToClaim = "nothing-to-claim"
    }

    /// A recorded service that could not be claimed as recorded and was left out (a dispensed
    /// quantity no dispense can hold): the consumer records it as a `DetectedIssue`
    /// (`leftOutIssue`), so the leaving-out is visible and has an author.
    public struct LeftOut: Sendable, Equatable {
        /// The recorded resource, `MedicationDispense/<id>`.
        public var source: String
        public var english: String
        public var spanish: String
    }

    public enum Outcome: Sendable {
        case claim(JSON, leftOut: [LeftOut])
        case skip(Skip, leftOut: [LeftOut])
    }

    static func codes(_ concept: JSON?, _ system: String) -> [String] {
        (concept?["coding"]?.arrayValue ?? []).filter { $0["system"]?.stringValue == system }.compactMap { $0["code"]?.stringValue }
    }

    static func ref(_ r: String) -> JSON { J.ref(r) }

    /// The tariff code of a concept: its own tariff coding, else the mapped one.
    func code(_ concept: JSON?, system: String, mapped: [String: String]) -> String? {
        if let own = Self.codes(concept, tariff.system).first(where: { tariff.items[$0] != nil }) { return own }
        return Self.codes(concept, system).lazy.compactMap { mapped[$0] }.first
    }

    /// The most units one dispensed item bills; a larger quantity is left out of the claim.
    static let maximumUnits = 100_000

    /// Days between two FHIR instants (at least 1): the bed-days of a stay.
    static func days(_ start: String?, _ end: String?) -> Int {
        guard let s = start.flatMap({ Timestamp(instant: $0) ?? Timestamp(instant: String($0.prefix(10)) + "T00:00:00Z") }),
              let e = end.flatMap({ Timestamp(instant: $0) ?? Timestamp(instant: String($0.prefix(10)) + "T00:00:00Z") }) else { return 1 }
        let d = Int((e.date.timeIntervalSince(s.date) / 86_400).rounded(.down))
        return max(1, d)
    }

    /// The patient's Coverage for the serving institution: one whose payor is that institution
    /// (an IMSS unit claims to IMSS); otherwise — a private hospital, or an institution serving
    /// another's beneficiary under the exchange — the one in force with the lowest
    /// `Coverage.order`, then by id. Only Coverages active on the service date count.
    public static func coverage(for patient: String, institution: String, date: String, guarded: GuardedRepository) async throws -> String? {
        let all = try await FinancingService.all("Coverage", [("beneficiary", patient), ("status", "active")], guarded: guarded)
            .filter { FinancingService.isActive($0, on: date) }
        func payor(_ c: JSON) -> String? { c["payor"]?.arrayValue?.first?["reference"]?.stringValue }
        func order(_ c: JSON) -> Int { if case .number(let n)? = c["order"] { return Int(n) ?? Int.max } else { return Int.max } }
        let chosen = all.first { payor($0) == institution }
            ?? all.sorted { (order($0), $0["id"]?.stringValue ?? "") < (order($1), $1["id"]?.stringValue ?? "") }.first
        return chosen?["id"]?.stringValue.map { "Coverage/\($0)" }
    }

    /// The claim of `encounter` (its current version `version`), or why there is none.
    public func claim(for encounter: JSON, version: Int, guarded: GuardedRepository, created: String) async throws -> Outcome {
        guard encounter["status"]?.stringValue == "finished" else { return .skip(.notFinished, leftOut: []) }
        guard let id = encounter["id"]?.stringValue, let patient = encounter["subject"]?["reference"]?.stringValue, patient.hasPrefix("Patient/") else {
            return .skip(.noPatient, leftOut: [])
        }
        guard let provider = encounter["serviceProvider"]?["reference"]?.stringValue, provider.hasPrefix("Organization/") else {
            return .skip(.noProvider, leftOut: [])
        }
        let encounterRef = "Encounter/\(id)"
        let start = encounter["period"]?["start"]?.stringValue, end = encounter["period"]?["end"]?.stringValue
        let date = String((start ?? end ?? created).prefix(10))
        let institution = await FinancingService.institution(of: provider, guarded: guarded)
        guard let coverage = try await Self.coverage(for: patient, institution: institution, date: date, guarded: guarded) else { return .skip(.noCoverage, leftOut: []) }

        let classCode = encounter["class"]?["code"]?.stringValue ?? ""
        var items: [(code: String, quantity: Int, source: String)] = []
        var leftOut: [LeftOut] = []
        // the visit itself (a stay: per day)
        let typeCode = (encounter["type"]?.arrayValue ?? []).lazy.compactMap { Self.codes($0, self.tariff.system).first }.first
        if let visit = typeCode ?? map.encounterClass[classCode] {
            let q = (tariff.items[visit]?.kind == "hospitalizacion") ? Self.days(start, end) : 1
            items.append((visit, q, encounterRef))
        }
        let byEncounter = [("encounter", encounterRef)]
        for p in try await FinancingService.all("Procedure", byEncounter, guarded: guarded) where p["status"]?.stringValue == "completed" {
            if let c = code(p["code"], system: "http://snomed.info/sct", mapped: map.procedures) { items.append((c, 1, "Procedure/\(p["id"]?.stringValue ?? "")")) }
        }
        // studies: a report counts once (its results are not claimed again); other laboratory results one each
        var reported: Set<String> = []
        let done: Set<String> = ["final", "amended", "corrected", "appended"]
        for r in try await FinancingService.all("DiagnosticReport", byEncounter, guarded: guarded) where done.contains(r["status"]?.stringValue ?? "") {
            guard let c = code(r["code"], system: "http://loinc.org", mapped: map.studies) else { continue }
            items.append((c, 1, "DiagnosticReport/\(r["id"]?.stringValue ?? "")"))
            for o in r["result"]?.arrayValue ?? [] { if let ref = o["reference"]?.stringValue { reported.insert(ref) } }
        }
        for o in try await FinancingService.all("Observation", byEncounter + [("category", "laboratory")], guarded: guarded)
        where done.contains(o["status"]?.stringValue ?? "") {
            let ref = "Observation/\(o["id"]?.stringValue ?? "")"
            guard !reported.contains(ref), let c = code(o["code"], system: "http://loinc.org", mapped: map.studies) else { continue }
            items.append((c, 1, ref))
        }
        for d in try await FinancingService.all("MedicationDispense", [("context", encounterRef)], guarded: guarded) where d["status"]?.stringValue == "completed" {
            let concept = d["medicationCodeableConcept"]
            let text = (concept?["text"]?.stringValue ?? concept?["coding"]?.arrayValue?.first?["display"]?.stringValue ?? "").lowercased()
            let own = Self.codes(concept, tariff.system).first
            guard let m = map.medicines.first(where: { own == $0.code || text.hasPrefix($0.prefix) }) else { continue }
            var units = 1
            if case .number(let n)? = d["quantity"]?["value"], let v = Double(n) {
                // a quantity that is not a count of units one dispense can hold (1e300 tablets) is
                // not billed: `Int(_:)` would trap on it, in a consumer that retries (docs/financing.md)
                guard v.isFinite, v <= Double(Self.maximumUnits) else {
                    let source = "MedicationDispense/\(d["id"]?.stringValue ?? "")"
                    leftOut.append(LeftOut(source: source,
                                           english: "the dispensed quantity \(n) is not a count of units one dispense can hold (at most \(Self.maximumUnits)): \(source) was left out of the claim of \(encounterRef); correct the dispense and claim it by hand (Claim/$submit)",
                                           spanish: "la cantidad dispensada \(n) no es un número de unidades que quepa en una dispensación (a lo más \(Self.maximumUnits)): \(source) quedó fuera de la reclamación de \(encounterRef); corrija la dispensación y reclámela a mano (Claim/$submit)"))
                    continue
                }
                units = max(1, Int(v.rounded(.up)))
            }
            let boxes = d["quantity"]?["unit"]?.stringValue?.lowercased().hasPrefix("caja") == true ? units : max(1, (units + m.pack - 1) / m.pack)
            items.append((m.code, boxes, "MedicationDispense/\(d["id"]?.stringValue ?? "")"))
        }
        guard !items.isEmpty else { return .skip(.nothingToClaim, leftOut: leftOut) }

        // diagnoses: the Encounter's own (by rank), then its Conditions, CIE-10 only, each once
        var diagnoses: [String] = []
        var conditionRefs: [String] = []
        let ranked = (encounter["diagnosis"]?.arrayValue ?? []).sorted {
            var a = Int.max, b = Int.max
            if case .number(let n)? = $0["rank"] { a = Int(n) ?? a }
            if case .number(let n)? = $1["rank"] { b = Int(n) ?? b }
            return a < b
        }
        conditionRefs = ranked.compactMap { $0["condition"]?["reference"]?.stringValue }
        var conditions: [String: JSON] = [:]
        for c in try await FinancingService.all("Condition", byEncounter, guarded: guarded) {
            let ref = "Condition/\(c["id"]?.stringValue ?? "")"
            conditions[ref] = c
            if !conditionRefs.contains(ref) { conditionRefs.append(ref) }
        }
        for ref in conditionRefs {
            var c = conditions[ref]
            if c == nil, ref.hasPrefix("Condition/") { c = try? await guarded.read("Condition", String(ref.dropFirst(10))).json() }
            if c?["verificationStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue == "entered-in-error" { continue }
            for code in Self.codes(c?["code"], "http://hl7.org/fhir/sid/icd-10") where !diagnoses.contains(code) { diagnoses.append(code) }
        }

        let institutional = CareServiceMap.institutionalClasses.contains(classCode)
        let claimItems: [JSON] = items.enumerated().map { i, it in
            J.o(("sequence", J.n(i + 1)),
                ("productOrService", J.concept(tariff.system, it.code, tariff.items[it.code]?.display)),
                ("servicedDate", .string(date)), ("quantity", J.o(("value", J.n(it.quantity)))),
                ("encounter", J.a([Self.ref(encounterRef)])),
                ("extension", J.a([J.o(("url", .string(Self.sourceExtension)), ("valueReference", Self.ref(it.source)))])))
        }
        let claim = J.o(("resourceType", .string("Claim")),
                        ("identifier", J.a([J.o(("system", .string(Self.identifierSystem)), ("value", .string("\(encounterRef)/_history/\(version)")))])),
                        ("status", .string("active")),
                        ("type", J.concept("http://terminology.hl7.org/CodeSystem/claim-type", institutional ? "institutional" : "professional")),
                        ("use", .string("claim")), ("patient", Self.ref(patient)),
                        ("billablePeriod", start.map { J.o(("start", .string($0)), ("end", end.map { .string($0) })) }),
                        ("created", .string(created)), ("provider", Self.ref(provider)),
                        ("priority", J.concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal")),
                        ("diagnosis", diagnoses.isEmpty ? nil : J.a(diagnoses.enumerated().map { i, d in
                            J.o(("sequence", J.n(i + 1)), ("diagnosisCodeableConcept", J.concept("http://hl7.org/fhir/sid/icd-10", d)))
                        })),
                        ("insurance", J.a([J.o(("sequence", J.n(1)), ("focal", .bool(true)), ("coverage", Self.ref(coverage)))])),
                        ("item", J.a(claimItems)))
        return .claim(claim, leftOut: leftOut)
    }

    /// The identifier system of the DetectedIssues that record what was left out of a claim from
    /// care; the value is `Encounter/<id>/_history/<version>/<source>` (one per source, however
    /// often the event is replayed).
    public static let leftOutSystem = "https://enlace.mx/fhir/sid/claim-left-out"
    /// The code system of those issues (`quantity-out-of-range`).
    public static let issueSystem = "https://enlace.mx/fhir/CodeSystem/claim-issue"

    /// The `DetectedIssue` that records `item` left out of the claim of `encounter` (a versioned
    /// reference): the recorded resource is `implicated`, the Encounter version the evidence,
    /// the algorithm its author, the reason in English and Spanish in `detail`.
    public static func leftOutIssue(_ item: LeftOut, patient: String, encounter: String, identified: String) -> JSON {
        J.o(("resourceType", .string("DetectedIssue")),
            ("identifier", J.a([J.o(("system", .string(leftOutSystem)), ("value", .string("\(encounter)/\(item.source)")))])),
            ("status", .string("final")),
            ("code", J.o(("coding", J.a([J.o(("system", .string(issueSystem)), ("code", .string("quantity-out-of-range")),
                                             ("display", .string("Cantidad dispensada fuera de rango: no se reclamó / dispensed quantity out of range: not claimed")))])))),
            ("severity", .string("moderate")),
            ("patient", J.ref(patient)),
            ("identifiedDateTime", .string(identified)),
            ("author", J.o(("identifier", J.o(("system", .string("urn:enlace:algorithm")), ("value", .string("financing.claims@1.0")))),
                           ("display", .string("Enlace — reclamaciones desde la atención 1.0 / claims from care 1.0")))),
            ("implicated", J.a([J.ref(item.source)])),
            ("evidence", J.a([J.o(("detail", J.a([J.ref(encounter)])))])),
            ("detail", .string("\(item.english) / \(item.spanish)")))
    }

    /// On a claim item: the recorded resource it claims (Procedure, Observation, …).
    public static let sourceExtension = "https://enlace.mx/fhir/StructureDefinition/claim-item-source"
}

/// `financing.claims`: when an Encounter becomes `finished`, builds its Claim (`ClaimFromCare`)
/// and adjudicates it like `Claim/$submit` (`FinancingService.prepare`), writing Claim,
/// ClaimResponse and ExplanationOfBenefit with the consumer's cursor in one transaction.
/// Idempotent: the Claim identifier is the Encounter version that finished
/// (`Encounter/<id>/_history/<v>`), every create is conditional on it, and the consumer keeps which
/// Encounters it claimed — a replayed event, or a later edit of a finished Encounter, never makes
/// a second claim. Each claim's own Provenance names the consumer rule, the care-service map, the
/// plan and the tariff with their versions.
public struct ClaimsFromCareConsumer: EventConsumer {
    public static let consumerName = "financing.claims"
    public static let rule = "urn:enlace:algorithm|financing.claims@1.0"
    public var name: String { Self.consumerName }
    public var builder: ClaimFromCare
    public var service: FinancingService
    /// Only Encounters finished from the consumer's first run on (not the record already there).
    public var start: EventConsumerStart
    /// Who answers for the algorithm (a Reference).
    public var accountable: JSON

    public init(builder: ClaimFromCare = ClaimFromCare(), service: FinancingService = FinancingService(), start: EventConsumerStart = .now,
                accountable: JSON = .object([("display", .string("Operador de esta instalación de Enlace / the operator of this Enlace installation"))])) {
        self.builder = builder
        self.service = service
        self.start = start
        self.accountable = accountable
    }

    public var principal: Principal {
        Principal(subject: "consumer:\(Self.consumerName)",
                  scopes: ScopeSet("system/*.rs system/Claim.cr system/ClaimResponse.cr system/ExplanationOfBenefit.cr system/DetectedIssue.cr system/Provenance.c"),
                  tokenID: "consumer:\(Self.consumerName)", role: .service)
    }

    public func wants(_ event: OutboxEvent) -> Bool { event.type == "Encounter" && !event.deleted }

    /// What the consumer keeps per Encounter: the claim identifier, or why it made none.
    static let stateKind = "encounter"

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        try FinancingKnowledge.check()
        var entries: [JSON] = []
        var changes: [ConsumerState.Change] = []
        var seen: Set<String> = []
        var deductibleUsed: [String: Money] = [:]  // patient|coverage|year → applied in this batch
        // the batch's claims count each other's deductible; `LedgerFence` checks the rest in the write
        let batch = "urn:uuid:" + UUID().uuidString.lowercased()
        var settled: Set<Period>?
        for e in events where !seen.contains(e.id) {
            let encounter: JSON
            do { encounter = try await guarded.read("Encounter", e.id).json() } catch let err as FHIRError where [403, 404, 410].contains(err.status) { continue }
            // judged on its current version only, and only once it is finished
            guard encounter["status"]?.stringValue == "finished" else { continue }
            seen.insert(e.id)
            if try await state.value(Self.stateKind, e.id) != nil { continue }
            let version = Int(encounter["meta"]?["versionId"]?.stringValue ?? "") ?? e.version
            let outcome = try await builder.claim(for: encounter, version: version, guarded: guarded, created: e.lastUpdated.description)
            // what was left out is said, whatever becomes of the claim (a DetectedIssue each, once)
            let leftOut: [ClaimFromCare.LeftOut]
            switch outcome {
            case .claim(_, let l), .skip(_, let l): leftOut = l
            }
            if let patient = encounter["subject"]?["reference"]?.stringValue {
                let versioned = "Encounter/\(e.id)/_history/\(version)"
                for item in leftOut {
                    let issue = ClaimFromCare.leftOutIssue(item, patient: patient, encounter: versioned, identified: e.lastUpdated.description)
                    entries.append(J.o(("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())), ("resource", issue),
                                       ("request", J.o(("method", .string("POST")), ("url", .string("DetectedIssue")),
                                                       ("ifNoneExist", .string("identifier=\(ClaimFromCare.leftOutSystem)|\(versioned)/\(item.source)"))))))
                }
            }
            guard case .claim(let claim, _) = outcome else {
                if case .skip(let why, _) = outcome { changes.append(.init(kind: Self.stateKind, key: e.id, value: Array("skipped:\(why.rawValue)".utf8))) }
                continue
            }
            let input = try ClaimInput(claim: claim, tariff: service.tariff)
            if try await service.existing(input, guarded: guarded) != nil {
                changes.append(.init(kind: Self.stateKind, key: e.id, value: Array(input.token.utf8)))
                continue
            }
            if settled == nil { settled = try await FinancingService.settledPeriods(guarded: guarded) }
            let key = "\(input.patient)|\(input.coverage)|\(input.serviceDate.prefix(4))"
            let prepared: FinancingService.Prepared
            do {
                prepared = try await service.prepare(claim: claim, input: input, guarded: guarded, now: e.lastUpdated,
                                                     deductibleAlreadyUsed: deductibleUsed[key] ?? .zero, batch: batch, settled: settled)
            } catch let err as FHIRError where err.status == 422 || err.status == 404 {
                // a coverage without a plan Enlace knows: no claim, said in the state
                changes.append(.init(kind: Self.stateKind, key: e.id, value: Array("skipped:\(err.status)".utf8)))
                continue
            }
            deductibleUsed[key, default: .zero] += prepared.result.deductibleApplied
            entries += prepared.entries
            entries.append(J.o(("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())),
                               ("resource", provenance(prepared, encounter: "Encounter/\(e.id)/_history/\(version)", recorded: e.lastUpdated.description)),
                               ("request", J.o(("method", .string("POST")), ("url", .string("Provenance"))))))
            changes.append(.init(kind: Self.stateKind, key: e.id, value: Array(input.token.utf8)))
        }
        let bundle: JSON? = entries.isEmpty ? nil : J.o(("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", J.a(entries)))
        return ConsumerOutput(transaction: bundle, provenance: template, state: changes)
    }

    var agent: JSON {
        J.o(("type", J.concept("http://terminology.hl7.org/CodeSystem/provenance-participant-type", "performer")),
            ("who", J.o(("identifier", J.o(("system", .string("urn:enlace:algorithm")), ("value", .string("financing.claims@1.0")))),
                        ("display", .string("Enlace — reclamaciones desde la atención 1.0 / claims from care 1.0")))),
            ("onBehalfOf", accountable))
    }

    /// The template every resource of a batch gets: the consumer rule and the map and tariff versions.
    var template: JSON {
        J.o(("resourceType", .string("Provenance")),
            ("policy", J.a([.string(Self.rule), .string(builder.map.canonical), .string(service.tariff.canonical)])),
            ("agent", J.a([agent])))
    }

    /// A claim's own Provenance: its three resources, from the Encounter version, under the
    /// plan, tariff, map and consumer rule.
    func provenance(_ p: FinancingService.Prepared, encounter: String, recorded: String) -> JSON {
        let policies = (p.provenance["policy"]?.arrayValue ?? []) + [.string(builder.map.canonical), .string(Self.rule)]
        return J.o(("resourceType", .string("Provenance")),
                   ("target", J.a(p.fullURLs.map { J.ref($0) })), ("recorded", .string(recorded)),
                   ("policy", J.a(policies)),
                   ("reason", p.provenance["reason"]),
                   ("activity", J.concept("http://terminology.hl7.org/CodeSystem/v3-DataOperation", "CREATE")),
                   ("agent", J.a([agent])),
                   ("entity", J.a([J.o(("role", .string("source")), ("what", J.ref(encounter)))])))
    }
}
