import FHIR
import Foundation
import Hummingbird
import Logging
import Prevention
import ServiceLifecycle
import Storage
import Trust

/// The wiring of the Prevention module (the Cartilla Nacional de Salud as PlanDefinitions,
/// `$care-gaps`, ImmunizationRecommendation, risk scores as recorded decisions): its FHIR
/// routes, portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift` and docs/prevention.md.
extension FHIRAPI {
    func registerPrevention(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.get("{type}/$care-gaps") { req, ctx in try await careGaps(req, ctx, patient: nil) }
        fhir.get("{type}/{id}/$care-gaps") { req, ctx in try await careGaps(req, ctx, patient: try ctx.parameters.require("id")) }
        // RiskAssessment/{id}/$record-decision, ImmunizationRecommendation/{id}/$record-decision (docs/prevention.md)
        fhir.post("{type}/{id}/$record-decision") { req, ctx in try await recordDecision(req, ctx, id: try ctx.parameters.require("id")) }
        // Patient/$send-reminders, Patient/{id}/$send-reminders
        fhir.post("{type}/$send-reminders") { req, ctx in try await sendReminders(req, ctx, patient: nil) }
        fhir.post("{type}/{id}/$send-reminders") { req, ctx in try await sendReminders(req, ctx, patient: try ctx.parameters.require("id")) }
    }

    /// `RiskAssessment/{id}/$record-decision` (and `ImmunizationRecommendation`): a practitioner
    /// accepts or overrides what an algorithm produced, with a reason; recorded as a Provenance
    /// (the practitioner the `verifier`, the reviewed version the `entity`), written through their
    /// guard. 403 for any other role; 404 when the resource is not visible to them.
    func recordDecision(_ request: Request, _ context: EnlaceRequestContext, id: String) async throws -> Response {
        let type = try requireType(context, "RiskAssessment", "ImmunizationRecommendation", "Patient", operation: "$record-decision")
        context.audit?.interaction = "$record-decision"
        let g = try await guarded(context)
        try PreventionWiring.requireClinician(g)
        let decision = try ClinicianDecision.parse(try await optionalBody(request))
        let written = try await PreventionWiring.decide(decision, type: type, id: id, guarded: g, now: clock.now(), knowledge: PreventionWiring.knowledge(configuration))
        return FHIRResponse.written(written, status: .created, request: request, base: base, location: true)
    }

    /// `Patient/$send-reminders` (and `Patient/{id}/$send-reminders`): a practitioner reminds one
    /// or many of their patients of their open gaps through a channel; one `Communication` per
    /// patient, written through their guard — never to a patient who opposed contact (read by the
    /// door, whatever the clinician may see), and not to one without open gaps. Answers a
    /// Parameters with one `result` per patient: `sent` (and the Communication), `opposed`,
    /// `no-open-gaps` or `not-found` (a patient the clinician may not see is not found).
    func sendReminders(_ request: Request, _ context: EnlaceRequestContext, patient: String?) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$send-reminders")
        context.audit?.interaction = "$send-reminders"
        let g = try await guarded(context)
        guard g.principal.effectiveRole == .practitioner else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a clinician (a practitioner) sends prevention reminders",
                            spanish: "solo el personal clínico envía recordatorios de prevención")
        }
        let ask = try Reminders.parse(try await optionalBody(request), instance: patient)
        let outcomes = try await PreventionWiring.remind(ask, guarded: g, door: door, knowledge: PreventionWiring.knowledge(configuration),
                                                         now: clock.now(), audit: context.audit)
        var results: [JSON] = []
        for o in outcomes {
            var parts: [JSON] = [.object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/\(o.patient)"))]))]),
                                 .object([("name", .string("status")), ("valueCode", .string(o.status))])]
            if let c = o.communication { parts.append(.object([("name", .string("communication")), ("valueReference", .object([("reference", .string(c))]))])) }
            results.append(.object([("name", .string("result")), ("part", .array(parts))]))
        }
        return FHIRResponse.json(.ok, .object([("resourceType", .string("Parameters")), ("parameter", .array(results))]))
    }

    /// `Patient/$care-gaps?periodStart=&periodEnd=&subject=Patient/x&status=open-gap` (after Da
    /// Vinci DEQM) and `Patient/{id}/$care-gaps`: a Parameters with one `return` Bundle per patient,
    /// computed from what the asker may see. Without `subject`, every patient the asker may see
    /// (at most 500): a clinician's panel.
    func careGaps(_ request: Request, _ context: EnlaceRequestContext, patient: String?) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$care-gaps")
        let g = try await guarded(context)
        var parameters = try FHIRAPI.parseQuery(request.uri.query ?? "")
        if let patient { parameters.append(("subject", "Patient/\(patient)")) }
        let now = clock.now().date
        let parsed = try CareGaps.parse(parameters, today: CivilDate(now))
        let result = try await CareGaps(knowledge: PreventionWiring.knowledge(configuration)).run(parsed, guarded: g, now: now, base: base)
        return FHIRResponse.json(.ok, result)
    }
}

/// What the wiring shares: the Cartilla in force, and reminding.
enum PreventionWiring {
    /// The edition given at start-up (`enlace serve --knowledge FILE`), else the one built in
    /// (docs/prevention.md, "Replacing the schedule").
    static func knowledge(_ configuration: ServerConfiguration) -> CartillaKnowledge { configuration.preventionKnowledge ?? .standard }

    /// 403 unless the principal is a practitioner with a `Practitioner/…` fhirUser.
    static func requireClinician(_ g: GuardedRepository) throws {
        guard g.principal.effectiveRole == .practitioner, g.principal.fhirUser?.hasPrefix("Practitioner/") == true else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a clinician (a practitioner) accepts or overrides an algorithm's result",
                            spanish: "solo el personal clínico acepta o rechaza el resultado de un algoritmo")
        }
    }

    /// Records a clinician's decision about `type/id` (the current version, read through their
    /// guard: 404 when they may not see it) as a Provenance written through their guard.
    static func decide(_ decision: ClinicianDecision.Request, type: String, id: String, guarded g: GuardedRepository, now: Timestamp,
                       knowledge: CartillaKnowledge = .standard) async throws -> StoredResource {
        try requireClinician(g)
        guard ClinicianDecision.reviewableTypes.contains(type) || type == "Patient" else {
            throw FHIRError(status: 404, code: "not-supported", english: "decisions are recorded on RiskAssessment, ImmunizationRecommendation and Patient (a care gap), not on \(type)",
                            spanish: "las decisiones se registran sobre RiskAssessment, ImmunizationRecommendation y Patient (una brecha), no sobre \(type)")
        }
        let stored = try await g.read(type, id)
        guard !stored.deleted else { throw FHIRError.notFound(type, id) }
        let target = try stored.json()
        // a care-gap decision names an item of the Cartilla in force: any item on the Patient, a
        // vaccine on the ImmunizationRecommendation; a score is accepted or overridden as a whole
        if let item = decision.item {
            guard type != "RiskAssessment" else {
                throw FHIRError.badRequest("a RiskAssessment is accepted or overridden; \(decision.kind.parameter) is a decision about a care gap (Patient or ImmunizationRecommendation)",
                                           "un RiskAssessment se acepta o se rechaza; \(decision.kind.parameter) es una decisión sobre una brecha (Patient o ImmunizationRecommendation)",
                                           code: "invalid")
            }
            guard let rule = knowledge.rules.first(where: { $0.id == item }) else {
                throw FHIRError.badRequest("item '\(item)' is not an item of the Cartilla in force (\(knowledge.version))",
                                           "item '\(item)' no es un elemento de la Cartilla vigente (\(knowledge.version))", code: "code-invalid")
            }
            if type == "ImmunizationRecommendation", rule.kind != .immunization {
                throw FHIRError.badRequest("item '\(item)' is a screening, not a vaccine: record the decision on Patient/{id}",
                                           "item '\(item)' es un tamizaje, no una vacuna: registre la decisión en Patient/{id}", code: "invalid")
            }
        } else if type == "Patient" {
            throw FHIRError.badRequest("on a Patient the decision is about a care gap: declined, not-indicated or done-elsewhere, with item",
                                       "sobre un Patient la decisión es sobre una brecha: declined, not-indicated o done-elsewhere, con item", code: "invalid")
        }
        let patientRef = type == "Patient" ? "Patient/\(id)" : ((target["subject"] ?? target["patient"])?["reference"]?.stringValue ?? "")
        guard patientRef.hasPrefix("Patient/") else {
            throw FHIRError.badRequest("\(type)/\(id) names no patient", "\(type)/\(id) no indica paciente", code: "invalid")
        }
        /// The display of a Practitioner or Organization the clinician may read (nil otherwise).
        func name(_ reference: String?) async throws -> String? {
            guard let reference, let slash = reference.firstIndex(of: "/") else { return nil }
            let json = try await g.read(String(reference[..<slash]), String(reference[reference.index(after: slash)...])).json()
            if let n = json["name"]?.stringValue { return n }
            let name = Portal.name(json)
            return name.isEmpty || name == "—" ? nil : name
        }
        let provenance = ClinicianDecision.provenance(type: type, id: id, version: stored.version, patient: String(patientRef.dropFirst(8)),
                                                      practitioner: g.principal.fhirUser ?? "", organization: g.principal.organization, decision: decision,
                                                      recorded: now.description, security: target["meta"]?["security"],
                                                      practitionerName: try? await name(g.principal.fhirUser), organizationName: try? await name(g.principal.organization))
        return try await g.create("Provenance", provenance, ifNoneExist: nil).resource

    }

    struct ReminderOutcome: Sendable, Equatable {
        var patient: String
        /// `sent`, `opposed`, `no-open-gaps`, `not-found`.
        var status: String
        var communication: String?
    }

    /// Reminds the patients of `ask` through `guarded` (the practitioner's): a patient the guard
    /// does not show is `not-found`; one with an opposition to contact in force (read by the
    /// door) `opposed`, and nothing is written for them; one without open gaps `no-open-gaps`.
    static func remind(_ ask: Reminders.Request, guarded g: GuardedRepository, door: Door, knowledge: CartillaKnowledge, now: Timestamp,
                       audit: AuditContext?) async throws -> [ReminderOutcome] {
        let opposed = try await door.contactOpposition(ask.patients, audit: audit) { Reminders.opposition($0, now: now.date) }
        let engine = ScheduleEngine(rules: knowledge.rules)
        var out: [ReminderOutcome] = []
        let records = try await RecordReader.read(g, patients: ask.patients)
        let decisions = try await GapDecision.read(g, patients: ask.patients)
        for patient in ask.patients {
            let record: PatientRecord
            do { if let r = records[patient] { record = r } else { record = try await RecordReader.read(g, patient: patient) } } catch let e as FHIRError where [403, 404, 410].contains(e.status) {
                out.append(ReminderOutcome(patient: patient, status: "not-found"))
                continue
            }
            if opposed[patient] != nil {
                out.append(ReminderOutcome(patient: patient, status: "opposed"))
                continue
            }
            let decided = decisions[patient] ?? [:]
            let gaps = record.scheduleInput(asOf: CivilDate(now.date)).map {
                engine.evaluate($0).filter { item in item.status.isOpen && !(decided[item.rule.id]?.applies(to: item) ?? false) }
            } ?? []
            guard !gaps.isEmpty else {
                out.append(ReminderOutcome(patient: patient, status: "no-open-gaps"))
                continue
            }
            let c = Reminders.communication(patient: patient, sender: g.principal.fhirUser, medium: ask.medium, gaps: gaps, message: ask.message,
                                            now: now.description)
            let written = try await g.create("Communication", c, ifNoneExist: nil)
            out.append(ReminderOutcome(patient: patient, status: "sent", communication: "Communication/\(written.resource.id)"))
        }
        return out
    }
}

/// Why a `--knowledge` file is refused (its description is the message).
public struct KnowledgeFileError: Error, CustomStringConvertible {
    public var description: String
}

extension ServerConfiguration {
    /// Reads the replacement Cartilla of `enlace serve --knowledge FILE` (docs/prevention.md,
    /// "Replacing the schedule"). Throws `KnowledgeFileError` naming what is wrong: the file
    /// cannot be read, is not JSON, names an unknown definition, a bad age…, or holds no item.
    public mutating func loadPreventionKnowledge(_ path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw KnowledgeFileError(description: "cannot read the file") }
        let k: CartillaKnowledge
        do {
            k = try CartillaKnowledge(text: String(decoding: data, as: UTF8.self))
        } catch let e as FHIRError {
            throw KnowledgeFileError(description: e.issues.map(\.english).joined(separator: "; "))
        }
        guard !k.rules.isEmpty else { throw KnowledgeFileError(description: "the Bundle holds no PlanDefinition item") }
        preventionKnowledge = k
    }
}

/// Runs prevention's daily recomputation (docs/prevention.md, "The daily pass"): a first pass
/// shortly after start, then every `interval` seconds, until the server shuts down.
struct PreventionDailyService: Service {
    let door: Door
    let pass: DailyRecomputation
    let logger: Logger
    var interval: Int = 86_400
    var firstDelay: Int = 30

    func run() async throws {
        var wait = firstDelay
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for _ in 0..<wait {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                try? await Task.sleep(for: .seconds(1))
            }
            do {
                let o = try await pass.run(door: door)
                logger.info("prevention daily pass", metadata: ["patients": "\(o.patients)", "written": "\(o.written)"])
            } catch {
                logger.error("prevention daily pass failed; trying again at the next interval", metadata: ["error": "\(type(of: error))"])
            }
            wait = interval
        }
    }
}

extension Portal {
    func registerPreventionPages(on router: Router<EnlaceRequestContext>) {
        router.get("prevencion") { req, ctx in try await page(req, ctx) { try await preventionPage($0, $1, $2) } }
        router.get("prevencion/panel") { req, ctx in try await page(req, ctx) { try await preventionPanel($0, $1, $2) } }
        router.get("prevencion/paciente/{id}") { req, ctx in
            try await page(req, ctx) { s, r, c in try await preventionPatientPage(s, r, c, patient: try c.parameters.require("id")) }
        }
        router.post("prevencion/decision") { req, ctx in try await page(req, ctx) { try await preventionDecide($0, $1, $2) } }
        router.post("prevencion/recordatorios") { req, ctx in try await page(req, ctx) { try await preventionRemind($0, $1, $2) } }
    }

    func preventionNavigation(_ s: Session) -> [(String, String)] {
        if s.isPatient { return [("/prevencion", s.strings.navPrevention)] }
        if s.principal.effectiveRole == .practitioner { return [("/prevencion/panel", s.strings.navPreventionPanel)] }
        return []
    }

    static var preventionPrefixes: [String] { ["/prevencion"] }
}

extension EnlaceServices {
    func preventionConsumers() -> [any EventConsumer] {
        [RecommendationsConsumer(settings: preventionSettings), RiskConsumer(settings: preventionSettings),
         CardiovascularRiskConsumer(settings: preventionSettings)]
    }

    var preventionSettings: PreventionSettings {
        PreventionSettings(knowledge: PreventionWiring.knowledge(configuration), now: { [clock] in clock.now().date })
    }

    func preventionServices(_ logger: Logger) -> [any Service] {
        configuration.runsEventConsumers ? [PreventionDailyService(door: door, pass: DailyRecomputation(settings: preventionSettings), logger: logger)] : []
    }
}

extension CapabilityContribution {
    static var prevention: CapabilityContribution {
        CapabilityContribution(operations: [
            "Patient": [(name: "care-gaps", definition: "http://hl7.org/fhir/us/davinci-deqm/OperationDefinition/care-gaps"),
                        (name: "send-reminders", definition: "https://enlace.mx/fhir/OperationDefinition/send-reminders"),
                        (name: "record-decision", definition: "https://enlace.mx/fhir/OperationDefinition/record-decision")],
            "RiskAssessment": [(name: "record-decision", definition: "https://enlace.mx/fhir/OperationDefinition/record-decision")],
            "ImmunizationRecommendation": [(name: "record-decision", definition: "https://enlace.mx/fhir/OperationDefinition/record-decision")],
        ])
    }
}
