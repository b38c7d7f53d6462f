import FHIR
import Foundation
import Storage
import Trust

/// What both prevention consumers share: who they act as, which writes wake them, how they
/// read a patient's record and how they write only what changed.
public struct PreventionSettings: Sendable {
    /// The Cartilla in force.
    public var knowledge: CartillaKnowledge
    /// The organization that deployed the algorithms and answers for them (a Reference).
    public var accountable: JSON
    /// Today (UTC), injected for tests.
    public var now: @Sendable () -> Date

    public init(knowledge: CartillaKnowledge = .standard,
                accountable: JSON = .object([("display", .string("Operador de esta instalación de Enlace / the operator of this Enlace installation"))]),
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.knowledge = knowledge
        self.accountable = accountable
        self.now = now
    }

    static func principal(_ name: String, writes: String) -> Principal {
        Principal(subject: "consumer:\(name)", scopes: ScopeSet("system/*.rs system/\(writes).cru"), tokenID: "consumer:\(name)", role: .service)
    }

    static func timestamp(_ d: Date) -> String {
        let t = Timestamp(date: d).description
        return String(t.prefix(19)) + "Z"
    }

    /// Patients whose compartment the events touched (or the Patients written).
    static func patients(_ events: [OutboxEvent]) -> [String] {
        var out: Set<String> = []
        for e in events {
            if e.type == "Patient" && !e.deleted { out.insert(e.id) }
            out.formUnion(e.compartments)
        }
        return out.sorted()
    }

    /// A PUT entry unless the stored version already says the same (ignoring `meta` and the date stamps).
    static func putIfChanged(_ guarded: GuardedRepository, _ type: String, _ resource: JSON, ignoring: [String]) async throws -> JSON? {
        let id = resource["id"]?.stringValue ?? ""
        let current = try? await guarded.read(type, id)
        return putIfChanged(current: current.flatMap { $0.deleted ? nil : try? $0.json() }, type, resource, ignoring: ignoring)
    }

    /// A PUT entry unless `current` (the stored body, nil when there is none) already says the same.
    static func putIfChanged(current: JSON?, _ type: String, _ resource: JSON, ignoring: [String]) -> JSON? {
        let id = resource["id"]?.stringValue ?? ""
        if let body = current {
            var a = body.setting("meta", nil), b = resource.setting("meta", nil)
            for k in ignoring { a = a.setting(k, nil); b = b.setting(k, nil) }
            if a == b { return nil }
        }
        return .object([("fullUrl", .string("\(type)/\(id)")), ("resource", resource),
                        ("request", .object([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))]))])
    }

    /// The current bodies of `type` with `ids` (one `_id` search per 200 through the guard; a
    /// missing, deleted or unreadable one is absent, as `try? read` would leave it).
    static func current(_ guarded: GuardedRepository, _ type: String, ids: [String]) async -> [String: JSON] {
        var out: [String: JSON] = [:]
        var start = 0
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + RecordReader.pageChunk, ids.count)])
            start += chunk.count
            guard let found = try? await guarded.searchAll(type, [("_id", chunk.joined(separator: ","))], pageSize: RecordReader.perType) else { continue }
            for r in found { if let body = try? r.json() { out[r.id] = body } }
        }
        return out
    }

    /// The records of `patients` (those gone or not visible to the consumer are absent), read a
    /// page at a time (`RecordReader.read(_:patients:)`); a 403 of the Patient search leaves them
    /// all out, like the per-patient read; any other error is thrown, so the batch is tried again.
    static func records(_ guarded: GuardedRepository, _ patients: [String]) async throws -> [String: PatientRecord] {
        do {
            return try await RecordReader.read(guarded, patients: patients)
        } catch let e as FHIRError where e.status == 403 {
            return [:]
        }
    }

    /// The patient's record, or nil when the patient is gone or not visible to the consumer; any
    /// other error is thrown, so the batch is tried again rather than skipped.
    static func record(_ guarded: GuardedRepository, _ patient: String) async throws -> PatientRecord? {
        do {
            return try await RecordReader.read(guarded, patient: patient)
        } catch let e as FHIRError where e.status == 404 || e.status == 410 || e.status == 403 {
            return nil
        }
    }

    static func transaction(_ entries: [JSON]) -> JSON? {
        entries.isEmpty ? nil : .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
    }
}

/// `prevention.recommendations`: when an Immunization, Observation, Procedure, Condition or
/// AllergyIntolerance of a patient (or the Patient) is written, recomputes the patient's
/// `ImmunizationRecommendation` (`ImmunizationRecommendation/cns-<patient>`) from the Cartilla —
/// not on every read. Its Provenance names the schedule engine and the Cartilla edition.
public struct RecommendationsConsumer: EventConsumer {
    public static let consumerName = "prevention.recommendations"
    public let settings: PreventionSettings
    public var name: String { Self.consumerName }
    public var principal: Principal { PreventionSettings.principal(name, writes: "ImmunizationRecommendation") }
    public var start: EventConsumerStart { .beginning }

    public init(settings: PreventionSettings) { self.settings = settings }

    static let wanted: Set<String> = ["Patient", "Immunization", "Observation", "Procedure", "Condition", "AllergyIntolerance"]

    public func wants(_ event: OutboxEvent) -> Bool { Self.wanted.contains(event.type) }

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        let entries = try await entries(for: PreventionSettings.patients(events), guarded: guarded)
        return ConsumerOutput(transaction: PreventionSettings.transaction(entries),
                              provenance: provenance(reason: "Recalculado porque cambió el expediente / recomputed because the record changed"))
    }

    /// The PUT entries of the recommendations of `patients` that changed (none when nothing did).
    func entries(for patients: [String], guarded: GuardedRepository) async throws -> [JSON] {
        let now = settings.now()
        let engine = ScheduleEngine(rules: settings.knowledge.rules)
        let records = try await PreventionSettings.records(guarded, patients)
        var computed: [(String, JSON)] = []
        for patient in patients {
            guard let record = records[patient], let input = record.scheduleInput(asOf: CivilDate(now)) else { continue }
            let items = engine.evaluate(input)
            guard items.contains(where: { $0.rule.kind == .immunization }) else { continue }  // R4: at least one recommendation
            computed.append(("cns-\(patient)", PreventionResources.immunizationRecommendation(id: "cns-\(patient)", patient: patient, items: items,
                                                                                              date: PreventionSettings.timestamp(now), knowledge: settings.knowledge.version)))
        }
        let current = await PreventionSettings.current(guarded, "ImmunizationRecommendation", ids: computed.map(\.0))
        return computed.compactMap { id, rec in PreventionSettings.putIfChanged(current: current[id], "ImmunizationRecommendation", rec, ignoring: ["date"]) }
    }

    func provenance(reason: String) -> JSON {
        PreventionResources.algorithmProvenance(
            name: "Enlace ScheduleEngine — Cartilla Nacional de Salud", version: settings.knowledge.version,
            description: "https://enlace.mx/fhir/docs/prevention#schedule", accountable: settings.accountable, reason: reason)
    }
}

/// `prevention.cardiovascular-risk`: recomputes the patient's cardiovascular `RiskAssessment`
/// (`RiskAssessment/cvd-<patient>`) with the WHO 2019 chart of the region in force when its
/// inputs change, for people the chart covers (40–74, a systolic pressure and a total
/// cholesterol in the record, no established cardiovascular disease). Labelled as produced by an
/// algorithm and with the risk category `risk-cardiovascular`; its Provenance names the chart,
/// its region and version.
public struct CardiovascularRiskConsumer: EventConsumer {
    public static let consumerName = "prevention.cardiovascular-risk"
    public let settings: PreventionSettings
    public let chart: CardiovascularChart
    public var name: String { Self.consumerName }
    public var principal: Principal { PreventionSettings.principal(name, writes: "RiskAssessment") }
    public var start: EventConsumerStart { .beginning }

    public init(settings: PreventionSettings, chart: CardiovascularChart = .centralLatinAmerica) {
        self.settings = settings
        self.chart = chart
    }

    static let wanted: Set<String> = ["Patient", "Observation", "Condition"]

    public func wants(_ event: OutboxEvent) -> Bool { Self.wanted.contains(event.type) }

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        let entries = try await entries(for: PreventionSettings.patients(events), guarded: guarded)
        return ConsumerOutput(transaction: PreventionSettings.transaction(entries),
                              provenance: provenance(reason: "Recalculado porque cambiaron sus datos de entrada / recomputed because its inputs changed"))
    }
}

extension CardiovascularRiskConsumer: RiskRecomputation {
    /// The PUT entries of the scores of `patients` that changed (none when nothing did).
    public func entries(for patients: [String], guarded: GuardedRepository) async throws -> [JSON] {
        let now = settings.now()
        let records = try await PreventionSettings.records(guarded, patients)
        var computed: [(String, JSON)] = []
        for patient in patients {
            guard let record = records[patient] else { continue }
            let inputs = CardiovascularRisk.inputs(from: record, asOf: CivilDate(now))
            guard let percent = CardiovascularRisk.score(inputs, chart: chart) else { continue }
            computed.append(("cvd-\(patient)", CardiovascularRisk.assessment(id: "cvd-\(patient)", patient: patient, percent: percent, inputs: inputs,
                                                                             chart: chart, date: PreventionSettings.timestamp(now))))
        }
        let current = await PreventionSettings.current(guarded, "RiskAssessment", ids: computed.map(\.0))
        return computed.compactMap { id, ra in
            PreventionSettings.putIfChanged(current: current[id], "RiskAssessment", ra, ignoring: ["occurrenceDateTime", "prediction"])
        }
    }

    public func provenance(reason: String) -> JSON {
        PreventionResources.algorithmProvenance(name: "\(chart.name) — \(chart.region)", version: chart.version, description: CardiovascularRisk.description,
                                                accountable: settings.accountable, reason: reason)
    }
}

/// A risk score that the daily pass recomputes when a person's age moves on (their birthday),
/// since age is one of its inputs and no write happens that day (docs/prevention.md, "The daily
/// pass").
public protocol RiskRecomputation: EventConsumer {
    func entries(for patients: [String], guarded: GuardedRepository) async throws -> [JSON]
    func provenance(reason: String) -> JSON
}

/// `prevention.risk`: recomputes the patient's FINDRISC `RiskAssessment`
/// (`RiskAssessment/findrisc-<patient>`) when its inputs change, for adults (18 and over) whose
/// record holds at least one measured input (BMI, waist or glucose). Labelled as produced by an
/// algorithm and with the risk category a patient may choose not to be told about; its
/// Provenance names FINDRISC and its version.
public struct RiskConsumer: EventConsumer {
    public static let consumerName = "prevention.risk"
    public let settings: PreventionSettings
    public var name: String { Self.consumerName }
    public var principal: Principal { PreventionSettings.principal(name, writes: "RiskAssessment") }
    public var start: EventConsumerStart { .beginning }

    public init(settings: PreventionSettings) { self.settings = settings }

    static let wanted: Set<String> = ["Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest", "FamilyMemberHistory"]

    public func wants(_ event: OutboxEvent) -> Bool { Self.wanted.contains(event.type) }

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        let entries = try await entries(for: PreventionSettings.patients(events), guarded: guarded)
        return ConsumerOutput(transaction: PreventionSettings.transaction(entries),
                              provenance: provenance(reason: "Recalculado porque cambiaron sus datos de entrada / recomputed because its inputs changed"))
    }
}

extension RiskConsumer: RiskRecomputation {
    /// The PUT entries of the scores of `patients` that changed (none when nothing did).
    public func entries(for patients: [String], guarded: GuardedRepository) async throws -> [JSON] {
        let now = settings.now()
        let records = try await PreventionSettings.records(guarded, patients)
        var computed: [(String, JSON)] = []
        for patient in patients {
            guard let record = records[patient] else { continue }
            let inputs = FINDRISC.inputs(from: record, asOf: CivilDate(now))
            guard let age = inputs.age, age >= 18, inputs.bmi != nil || inputs.waist != nil || inputs.highGlucose != nil else { continue }
            let result = FINDRISC.score(inputs)
            computed.append(("findrisc-\(patient)", PreventionResources.findriscAssessment(id: "findrisc-\(patient)", patient: patient, result: result,
                                                                                           inputs: inputs, date: PreventionSettings.timestamp(now))))
        }
        let current = await PreventionSettings.current(guarded, "RiskAssessment", ids: computed.map(\.0))
        return computed.compactMap { id, ra in
            PreventionSettings.putIfChanged(current: current[id], "RiskAssessment", ra, ignoring: ["occurrenceDateTime", "prediction"])
        }
    }

    public func provenance(reason: String) -> JSON {
        PreventionResources.algorithmProvenance(name: FINDRISC.name, version: FINDRISC.version, description: FINDRISC.description,
                                                accountable: settings.accountable, reason: reason)
    }
}
