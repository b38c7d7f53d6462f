import FHIR
import Foundation
import Storage
import Trust

/// The alert rules as an outbox consumer (`monitoring.alerts`, docs/monitoring.md): every new or
/// changed Observation is judged against the patient's active `Goal`s, else the default targets
/// (`AlertDefaults`). A reading outside opens an **episode** — one `Flag` on the patient and one
/// `Task` for the care team (owner: the patient's active CareTeam, focus: the Observation,
/// priority by severity) — unless one is already open for that patient and code: a run of high
/// readings makes one alert (a critical reading in the run raises the Task's priority). A reading
/// back in range closes the episode: the Flag becomes `inactive`, the Task `cancelled` (or
/// `completed` if someone was working on it).
///
/// It acts as its own principal, a `Device` (the rule engine, with its version) on behalf of the
/// accountable organization; each alert's own Provenance names the rule that decided (the `Goal`
/// and who set it, or the default rule's canonical with its version and source) and the reading.
/// The open episodes are the consumer's durable state, written with its cursor.
public struct AlertConsumer: EventConsumer {
    public static let consumerName = "monitoring.alerts"
    public static let deviceID = "enlace-monitoring-alerts"
    /// Code system of the alert Flag and Task codes.
    public static let alertSystem = "https://enlace.mx/fhir/CodeSystem/monitoring-alert"
    public static let flagDetail = "http://hl7.org/fhir/StructureDefinition/flag-detail"

    public var name = AlertConsumer.consumerName
    public var principal: Principal
    public var start = EventConsumerStart.beginning
    public var rules: AlertRules
    /// Who answers for the default rules (a Reference: an Organization of this installation).
    public var accountable: JSON

    /// - Parameter accountable: the organization accountable for the default rules, e.g.
    ///   `Organization/imss-umf-10` (nil: the operator of this installation, by display only).
    public init(accountable: String? = nil, rules: AlertRules = AlertRules()) {
        self.rules = rules
        self.accountable = accountable.map { .object([("reference", .string($0))]) }
            ?? .object([("display", .string("Operador de esta instalación de Enlace"))])
        principal = Principal(subject: "algorithm:\(AlertConsumer.consumerName)",
                              scopes: ScopeSet("system/Observation.rs system/Goal.rs system/CareTeam.rs system/Flag.cruds system/Task.cruds system/Provenance.cs system/Device.crus"),
                              tokenID: AlertConsumer.consumerName, role: .service, fhirUser: "Device/\(AlertConsumer.deviceID)",
                              organization: accountable)
    }

    public func wants(_ event: OutboxEvent) -> Bool { event.type == "Observation" && !event.deleted }

    /// An open (or last judged) episode per patient and code.
    struct Episode: Codable {
        var flag: String?
        var task: String?
        var priority: String?
        var last: Int64
        var open: Bool { flag != nil }
    }

    public func handle(_ events: [OutboxEvent], guarded: GuardedRepository, state: ConsumerState) async throws -> ConsumerOutput {
        var pending: [String: JSON] = [:]
        var order: [String] = []
        var provenances: [JSON] = []
        var episodes: [String: Episode] = [:]
        var changed: Set<String> = []
        var goals: [String: [JSON]] = [:]
        var teams: [String: String?] = [:]
        func put(_ r: JSON) {
            let ref = "\(r["resourceType"]!.stringValue!)/\(r["id"]!.stringValue!)"
            if pending[ref] == nil { order.append(ref) }
            pending[ref] = r
        }
        func current(_ type: String, _ id: String) async throws -> JSON? {
            if let p = pending["\(type)/\(id)"] { return p }
            do { return try await guarded.read(type, id).json() } catch let e as FHIRError where [404, 410].contains(e.status) { return nil }
        }
        if try await state.value("setup", "device") == nil { put(device) }
        for e in events {
            let observation: JSON
            do { observation = try await guarded.read("Observation", e.id).json() } catch let err as FHIRError where [404, 410].contains(err.status) { continue }
            // only the current version is judged (an older event of a since-changed reading is skipped)
            guard Int(observation["meta"]?["versionId"]?.stringValue ?? "") == e.version else { continue }
            guard let reading = VitalReading(observation), let patient = reading.patient else { continue }
            if goals[patient] == nil {
                goals[patient] = try await Fetch.all(guarded, "Goal", [("patient", "Patient/\(patient)"), ("lifecycle-status", "active")], sort: "_lastUpdated")
            }
            guard let judgement = rules.judge(reading, goals: goals[patient] ?? []) else { continue }
            let key = "\(patient)|\(reading.code)"
            var episode: Episode
            if let known = episodes[key] {
                episode = known
            } else if let bytes = try await state.value("episode", key), let saved = try? JSONDecoder().decode(Episode.self, from: Data(bytes)) {
                episode = saved
            } else {
                episode = Episode(last: Int64.min)
            }
            // a reading older than the last one judged (a late upload) does not open or close an episode
            guard reading.time.microseconds >= episode.last else { continue }
            episode.last = reading.time.microseconds
            let when = e.lastUpdated.description
            let security = observation["meta"]?["security"]
            if judgement.outside {
                if episode.open {
                    // the run continues: only a more severe reading changes the Task (its priority)
                    if AlertJudgement.rank(judgement.priority) > AlertJudgement.rank(episode.priority ?? "routine"), let taskID = episode.task,
                       var task = try await current("Task", taskID), task["status"]?.stringValue != "completed" {
                        task = task.setting("priority", .string(judgement.priority)).setting("lastModified", .string(when))

                        put(AlertConsumer.forWriting(task))
                        episode.priority = judgement.priority
                        provenances.append(provenance(targets: ["Task/\(taskID)"], judgement: judgement, observation: observation, when: when,
                                                      activity: "UPDATE"))
                    }
                } else {
                    if teams[patient] == nil {
                        let found = try await Fetch.all(guarded, "CareTeam", [("patient", "Patient/\(patient)"), ("status", "active")], max: 1,
                                                        sort: "_lastUpdated")
                        teams[patient] = .some(found.first?["id"]?.stringValue)
                    }
                    let base = "alert-" + OpenMHealth.hex(OpenMHealth.fnv1a("\(key)|\(e.id)|\(e.version)", seed: 0xcbf2_9ce4_8422_2325))
                    let flag = makeFlag(id: base, patient: patient, judgement: judgement, observation: observation, start: reading.time, security: security)
                    let task = makeTask(id: base + "-task", patient: patient, judgement: judgement, observation: observation,
                                        team: teams[patient] ?? nil, when: when, security: security)
                    put(flag)
                    put(task)
                    provenances.append(provenance(targets: ["Flag/\(base)", "Task/\(base)-task"], judgement: judgement, observation: observation,
                                                  when: when, activity: "CREATE"))
                    episode.flag = base
                    episode.task = base + "-task"
                    episode.priority = judgement.priority
                }
            } else if episode.open {
                var targets: [String] = []
                if let id = episode.flag, let flag = try await current("Flag", id) {
                    let period = (flag["period"] ?? .object([])).setting("end", .string(reading.time.description))
                    put(AlertConsumer.forWriting(flag.setting("status", .string("inactive")).setting("period", period)))
                    targets.append("Flag/\(id)")
                }
                if let id = episode.task, let task = try await current("Task", id) {
                    let status = task["status"]?.stringValue ?? ""
                    let next: String? = ["draft", "requested", "received", "accepted", "ready", "on-hold"].contains(status) ? "cancelled"
                        : (status == "in-progress" ? "completed" : nil)
                    if let next {
                        let reason: JSON = .object([("text", .string("Lectura de nuevo en meta / reading back in target: \(judgement.spanish)"))])
                        put(AlertConsumer.forWriting(task.setting("status", .string(next)).setting("statusReason", reason).setting("lastModified", .string(when))))
                        targets.append("Task/\(id)")
                    }
                }
                if !targets.isEmpty {
                    provenances.append(provenance(targets: targets, judgement: judgement, observation: observation, when: when, activity: "UPDATE"))
                }
                episode.flag = nil
                episode.task = nil
                episode.priority = nil
            }
            episodes[key] = episode
            changed.insert(key)
        }
        var entries: [JSON] = order.map { ref in
            .object([("resource", pending[ref]!), ("request", .object([("method", .string("PUT")), ("url", .string(ref))]))])
        }
        for p in provenances {
            entries.append(.object([("fullUrl", .string("urn:uuid:\(UUID().uuidString.lowercased())")), ("resource", p),
                                    ("request", .object([("method", .string("POST")), ("url", .string("Provenance"))]))]))
        }
        var changes: [ConsumerState.Change] = changed.sorted().map { key in
            .init(kind: "episode", key: key, value: (try? JSONEncoder().encode(episodes[key]!)).map { Array($0) })
        }
        if pending["Device/\(AlertConsumer.deviceID)"] != nil { changes.append(.init(kind: "setup", key: "device", value: Array("1".utf8))) }
        let bundle: JSON? = entries.isEmpty ? nil
            : .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        return ConsumerOutput(transaction: bundle, provenance: template, state: changes)
    }

    // MARK: - resources

    static func reference(_ observation: JSON) -> String { "Observation/" + (observation["id"]?.stringValue ?? "") }

    /// A stored resource to write again: the server's meta goes, its security labels stay.
    static func forWriting(_ r: JSON) -> JSON {
        guard let security = r["meta"]?["security"] else { return r.setting("meta", nil) }
        return r.setting("meta", .object([("security", security)]))
    }

    var deviceReference: JSON {
        .object([("reference", .string("Device/\(AlertConsumer.deviceID)")), ("display", .string("Enlace — reglas de alerta \(rules.defaults.version)"))])
    }

    /// The rule engine as a FHIR Device (the algorithm is a principal too).
    var device: JSON {
        var m: [(String, JSON)] = [("resourceType", .string("Device")), ("id", .string(AlertConsumer.deviceID)), ("status", .string("active")),
                                   ("deviceName", .array([.object([("name", .string("Enlace — reglas de alerta de monitoreo")), ("type", .string("user-friendly-name"))])])),
                                   ("type", .object([("text", .string("Software: reglas de alerta (monitoring.alerts)"))])),
                                   ("version", .array([.object([("value", .string(rules.defaults.version))])]))]
        if accountable["reference"] != nil { m.append(("owner", accountable)) }
        return .object(m)
    }

    /// The Provenance template of every resource the consumer writes: the Device on behalf of the accountable organization.
    var template: JSON {
        .object([("resourceType", .string("Provenance")),
                 ("policy", .array([.string("\(rules.defaults.url)|\(rules.defaults.version)")])),
                 ("agent", .array([.object([
                     ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                                   ("code", .string("performer"))])]))])),
                     ("who", .object([("reference", .string("Device/\(AlertConsumer.deviceID)"))])), ("onBehalfOf", accountable)])]))])
    }

    func code(_ code: String, _ display: String, text: String) -> JSON {
        .object([("coding", .array([.object([("system", .string(AlertConsumer.alertSystem)), ("code", .string(code)), ("display", .string(display))])])),
                 ("text", .string(text))])
    }

    func makeFlag(id: String, patient: String, judgement: AlertJudgement, observation: JSON, start: Timestamp, security: JSON?) -> JSON {
        var m: [(String, JSON)] = [("resourceType", .string("Flag")), ("id", .string(id))]
        if let security { m.append(("meta", .object([("security", security)]))) }
        m += [("extension", .array([.object([("url", .string(AlertConsumer.flagDetail)),
                                             ("valueReference", .object([("reference", .string(AlertConsumer.reference(observation)))]))])])),
              ("status", .string("active")),
              ("category", .array([.object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/flag-category")),
                                                                        ("code", .string("clinical"))])]))])])),
              ("code", code("out-of-range", "Reading out of target", text: "Fuera de meta: \(judgement.spanish)")),
              ("subject", .object([("reference", .string("Patient/\(patient)"))])),
              ("period", .object([("start", .string(start.description))])),
              ("author", deviceReference)]
        return .object(m)
    }

    func makeTask(id: String, patient: String, judgement: AlertJudgement, observation: JSON, team: String?, when: String, security: JSON?) -> JSON {
        var m: [(String, JSON)] = [("resourceType", .string("Task")), ("id", .string(id))]
        if let security { m.append(("meta", .object([("security", security)]))) }
        m += [("status", .string("requested")), ("intent", .string("order")), ("priority", .string(judgement.priority)),
              ("code", code("review-reading", "Review an out-of-target reading", text: "Revisar lectura fuera de meta")),
              ("description", .string("\(judgement.spanish) — \(judgement.english)")),
              ("focus", .object([("reference", .string(AlertConsumer.reference(observation)))])),
              ("for", .object([("reference", .string("Patient/\(patient)"))])),
              ("authoredOn", .string(when)), ("lastModified", .string(when)),
              ("requester", deviceReference)]
        if let team { m.append(("owner", .object([("reference", .string("CareTeam/\(team)"))]))) }
        return .object(m)
    }

    /// The alert's own Provenance: which rule decided (the Goal and who set it, or the default
    /// rule's canonical and source), from which reading, by the Device on behalf of whom.
    func provenance(targets: [String], judgement: AlertJudgement, observation: JSON, when: String, activity: String) -> JSON {
        var agents: [JSON] = [.object([
            ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                          ("code", .string("performer"))])]))])),
            ("who", deviceReference), ("onBehalfOf", accountable)])]
        var policies: [String] = []
        var entities: [JSON] = [.object([("role", .string("source")),
                                         ("what", .object([("reference", .string(AlertConsumer.reference(observation) + "/_history/" + (observation["meta"]?["versionId"]?.stringValue ?? "1")))]))])]
        var reasons: [String] = []
        for v in judgement.values where v.outside || !judgement.outside {
            switch v.target.origin {
            case let .goal(id, version, expressedBy):
                let ref = "Goal/\(id)/_history/\(version)"
                if !policies.contains(ref) {
                    policies.append(ref)
                    entities.append(.object([("role", .string("source")), ("what", .object([("reference", .string(ref))]))]))
                    if let expressedBy {
                        agents.append(.object([
                            ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                                          ("code", .string("author"))])]))])),
                            ("who", .object([("reference", .string(expressedBy))]))]))
                    }
                }
            case let .defaults(canonical, source):
                if !policies.contains(canonical) {
                    policies.append(canonical)
                    reasons.append(source)
                }
            }
        }
        var m: [(String, JSON)] = [("resourceType", .string("Provenance")),
                                   ("target", .array(targets.map { .object([("reference", .string($0))]) })),
                                   ("recorded", .string(when)),
                                   ("policy", .array(policies.map { .string($0) })),
                                   ("activity", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation")),
                                                                                     ("code", .string(activity))])]))]))]
        if !reasons.isEmpty { m.append(("reason", .array(reasons.map { .object([("text", .string($0))]) }))) }
        m += [("agent", .array(agents)), ("entity", .array(entities))]
        return .object(m)
    }
}
