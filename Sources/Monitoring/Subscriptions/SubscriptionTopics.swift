import FHIR
import Foundation
import Storage
import Trust

/// The R5 Backport IG (STU 1.1) names this server uses (https://hl7.org/fhir/uv/subscriptions-backport/STU1.1/).
public enum Backport {
    public static let base = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"
    public static let filterCriteria = base + "backport-filter-criteria"
    public static let payloadContent = base + "backport-payload-content"
    public static let heartbeatPeriod = base + "backport-heartbeat-period"
    public static let timeout = base + "backport-timeout"
    public static let maxCount = base + "backport-max-count"
    public static let statusProfile = base + "backport-subscription-status-r4"
    public static let notificationProfile = base + "backport-subscription-notification-r4"
    public static let topicCanonical = base + "capabilitystatement-subscriptiontopic-canonical"
    /// Cross-version extensions of the R5 SubscriptionTopic, for its R4 representation as `Basic`.
    public static let r5Topic = "http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic."
}

/// One filter a topic allows (`SubscriptionTopic.canFilterBy`): a name, the resource it applies
/// to, and how it is evaluated on a version of that resource (no search engine: the focus
/// resource's own elements).
public struct TopicFilter: Sendable {
    public enum Kind: Sendable {
        /// A reference element (`Patient/x`, or the bare id for `patient`).
        case reference([String])
        /// A CodeableConcept (or array of them) matched by `system|code` or `code`.
        case token([String])
        /// A code element matched exactly.
        case code(String)
    }

    public var name: String
    public var resource: String
    public var kind: Kind
    public var english: String
    public var spanish: String

    /// Does `resource` satisfy `filter = value` (any of a comma-separated list)?
    func matches(_ resource: JSON, values: [String]) -> Bool {
        switch kind {
        case .reference(let paths):
            let refs = paths.flatMap { TopicFilter.elements(resource, $0) }.compactMap { $0["reference"]?.stringValue }
            return values.contains { v in
                refs.contains { r in r == v || (name == "patient" && r == "Patient/\(v)") || r.hasSuffix("/" + v) && v.contains("/") }
            }
        case .token(let paths):
            let codings = paths.flatMap { TopicFilter.elements(resource, $0) }.flatMap { $0["coding"]?.arrayValue ?? [] }
            return values.contains { v in
                codings.contains { c in
                    let code = c["code"]?.stringValue ?? "", system = c["system"]?.stringValue ?? ""
                    if let bar = v.firstIndex(of: "|") { return system == v[..<bar] && code == v[v.index(after: bar)...] }
                    return code == v
                }
            }
        case .code(let path):
            return values.contains { resource[path]?.stringValue == $0 }
        }
    }

    static func elements(_ r: JSON, _ path: String) -> [JSON] {
        guard let v = r[path] else { return [] }
        return v.arrayValue ?? [v]
    }
}

/// A SubscriptionTopic this server supports (docs/subscriptions.md): what triggers it and which
/// filters it allows. Topics are data: the list is versioned (`SubscriptionTopics.version`) and
/// served as R4 `Basic` resources shaped after the R5 SubscriptionTopic.
public struct SubscriptionTopic: Sendable {
    public var id: String
    public var title: String
    public var english: String
    public var spanish: String
    /// The resource types and interactions (`create`, `update`) that can trigger it.
    public var triggers: [(resource: String, interactions: [String])]
    public var filters: [TopicFilter]
    /// Does this version (after `previous`) trigger the topic? (the R5 `queryCriteria`/`fhirPathCriteria`, as code)
    let fires: @Sendable (_ type: String, _ new: JSON, _ previous: JSON?) -> Bool

    public var url: String { SubscriptionTopics.base + id }

    public func allows(_ type: String) -> Bool { triggers.contains { $0.resource == type } }

    public func filter(_ name: String, on type: String) -> TopicFilter? { filters.first { $0.name == name && $0.resource == type } }

    public func triggers(_ type: String, _ new: JSON, previous: JSON?) -> Bool {
        let interaction = previous == nil ? "create" : "update"
        guard triggers.contains(where: { $0.resource == type && $0.interactions.contains(interaction) }) else { return false }
        return fires(type, new, previous)
    }

    /// The topic as an R4 `Basic` (the Backport IG's representation of an R5 SubscriptionTopic in R4).
    public var basic: JSON {
        func ext(_ name: String, _ value: (String, JSON)) -> JSON { .object([("url", .string(Backport.r5Topic + name)), value]) }
        var exts: [JSON] = [ext("url", ("valueUri", .string(url))), ext("version", ("valueString", .string(SubscriptionTopics.version))),
                            ext("title", ("valueString", .string(title))), ext("status", ("valueCode", .string("active"))),
                            ext("description", ("valueMarkdown", .string("\(spanish)\n\n\(english)")))]
        for t in triggers {
            var parts: [JSON] = [.object([("url", .string("resource")), ("valueUri", .string("http://hl7.org/fhir/StructureDefinition/\(t.resource)"))])]
            parts += t.interactions.map { .object([("url", .string("supportedInteraction")), ("valueCode", .string($0))]) }
            exts.append(.object([("url", .string(Backport.r5Topic + "resourceTrigger")), ("extension", .array(parts))]))
        }
        for f in filters {
            exts.append(.object([("url", .string(Backport.r5Topic + "canFilterBy")), ("extension", .array([
                .object([("url", .string("description")), ("valueMarkdown", .string("\(f.spanish) / \(f.english)"))]),
                .object([("url", .string("resource")), ("valueUri", .string("http://hl7.org/fhir/StructureDefinition/\(f.resource)"))]),
                .object([("url", .string("filterParameter")), ("valueString", .string(f.name))]),
            ]))]))
        }
        return .object([("resourceType", .string("Basic")), ("id", .string("subscriptiontopic-" + id)), ("extension", .array(exts)),
                        ("code", .object([("coding", .array([.object([("system", .string("http://hl7.org/fhir/fhir-types")),
                                                                      ("code", .string("SubscriptionTopic"))])]))]))])
    }
}

/// The topics of this version of Enlace.
public enum SubscriptionTopics {
    public static let base = "https://enlace.mx/fhir/SubscriptionTopic/"
    public static let version = "2026.1"

    static func patient(_ type: String, _ paths: [String]) -> TopicFilter {
        TopicFilter(name: "patient", resource: type, kind: .reference(paths), english: "the patient (Patient/<id>)", spanish: "el paciente (Patient/<id>)")
    }

    static func isAlert(_ r: JSON) -> Bool {
        (r["code"]?["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == AlertConsumer.alertSystem }
    }

    public static let all: [SubscriptionTopic] = [
        SubscriptionTopic(
            id: "new-alert", title: "Nueva alerta de monitoreo / New monitoring alert",
            english: "A monitoring alert was opened for a patient you may see: the Flag on the patient and the Task for the care team written by the alert rules (monitoring.alerts).",
            spanish: "Se abrió una alerta de monitoreo de un paciente que usted puede ver: la Flag del paciente y la Task del equipo de atención que escriben las reglas de alerta (monitoring.alerts).",
            triggers: [("Flag", ["create"]), ("Task", ["create"])],
            filters: [patient("Flag", ["subject"]), patient("Task", ["for"]),
                      TopicFilter(name: "priority", resource: "Task", kind: .code("priority"), english: "the Task's priority", spanish: "la prioridad de la Task")],
            fires: { _, new, _ in isAlert(new) }),
        SubscriptionTopic(
            id: "new-observation", title: "Nueva observación de un paciente / New Observation for a patient",
            english: "A new Observation (a reading, a result) was recorded for a patient you may see.",
            spanish: "Se registró una nueva Observation (una lectura, un resultado) de un paciente que usted puede ver.",
            triggers: [("Observation", ["create"])],
            filters: [patient("Observation", ["subject"]),
                      TopicFilter(name: "code", resource: "Observation", kind: .token(["code"]), english: "the Observation's code (system|code)", spanish: "el código de la Observation (sistema|código)"),
                      TopicFilter(name: "category", resource: "Observation", kind: .token(["category"]), english: "the Observation's category", spanish: "la categoría de la Observation")],
            fires: { _, _, _ in true }),
        SubscriptionTopic(
            id: "encounter-start-finish", title: "Encuentro iniciado o terminado / Encounter started or finished",
            english: "An Encounter became in-progress (started) or finished.",
            spanish: "Un Encounter pasó a in-progress (iniciado) o a finished (terminado).",
            triggers: [("Encounter", ["create", "update"])],
            filters: [patient("Encounter", ["subject"]),
                      TopicFilter(name: "status", resource: "Encounter", kind: .code("status"), english: "in-progress or finished", spanish: "in-progress o finished")],
            fires: { _, new, previous in
                let s = new["status"]?.stringValue ?? ""
                return ["in-progress", "finished"].contains(s) && previous?["status"]?.stringValue != s
            }),
        SubscriptionTopic(
            id: "task-assigned", title: "Tarea asignada a mí / Task assigned to me",
            english: "A Task got an owner (on creation or when reassigned). Without an owner filter, the owner is the subscriber (their fhirUser, or their organization).",
            spanish: "Una Task recibió responsable (al crearse o al reasignarse). Sin filtro owner, el responsable es quien se suscribe (su fhirUser o su organización).",
            triggers: [("Task", ["create", "update"])],
            filters: [TopicFilter(name: "owner", resource: "Task", kind: .reference(["owner"]), english: "the Task's owner (Practitioner/<id>, CareTeam/<id>, Organization/<id>…)",
                                  spanish: "el responsable de la Task (Practitioner/<id>, CareTeam/<id>, Organization/<id>…)"),
                      patient("Task", ["for"]),
                      TopicFilter(name: "code", resource: "Task", kind: .token(["code"]), english: "the Task's code", spanish: "el código de la Task")],
            fires: { _, new, previous in
                guard let owner = new["owner"]?["reference"]?.stringValue else { return false }
                return previous?["owner"]?["reference"]?.stringValue != owner
            }),
    ]

    public static func topic(_ canonical: String) -> SubscriptionTopic? {
        let url = canonical.split(separator: "|", maxSplits: 1).first.map(String.init) ?? canonical
        return all.first { $0.url == url }
    }

    /// The resource types any topic triggers on.
    public static let resourceTypes: Set<String> = Set(all.flatMap { $0.triggers.map(\.resource) })
}

extension SubscriptionTopics {
    /// Writes the topics as `Basic` resources (`Basic/subscriptiontopic-<id>`) through the
    /// delivery service's guard, when missing or changed: the topics are readable with an
    /// ordinary read or search (`Basic?code=http://hl7.org/fhir/fhir-types|SubscriptionTopic`).
    public static func install(door: Door) async throws {
        var p = SubscriptionDelivery.principal
        p.scopes = ScopeSet("system/Basic.cru")
        let guarded = try await door.open(p, audit: nil)
        for topic in all {
            let wanted = topic.basic
            let id = wanted["id"]!.stringValue!
            if let current = try? await guarded.read("Basic", id).json(), current.setting("meta", nil) == wanted { continue }
            _ = try await guarded.update("Basic", id, wanted, ifMatch: nil)
        }
    }
}
