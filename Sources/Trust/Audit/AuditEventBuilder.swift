import FHIR
import Foundation

/// Builds the AuditEvent of a request in the shape of IHE Basic Audit Log Patterns (BALP)
/// (https://profiles.ihe.net/ITI/BALP/, https://hl7.org/fhir/R4/auditevent.html). Its compact
/// JSON bytes are the ledger entry, hashed as they are stored.
public struct AuditEventBuilder: Sendable {
    /// The server node, as `AuditEvent.source.observer`.
    public let node: String

    public init(node: String) { self.node = node }

    public func build(_ ctx: AuditContext, status: Int, recorded: Timestamp) -> JSON {
        let interaction = ctx.interaction ?? Self.interaction(method: ctx.method, path: ctx.path)
        var m: [(String, JSON)] = [("resourceType", .string("AuditEvent"))]
        let disclosure = ctx.disclosure
        if disclosure != nil {
            // a notification sent to a subscriber: data leaving the server (DICOM Export), the
            // notification type as the Subscriptions framework names it
            m.append(("type", .object([
                ("system", .string("http://dicom.nema.org/resources/ontology/DCM")), ("code", .string(Self.exportCode)), ("display", .string("Export")),
            ])))
            m.append(("subtype", .array([.object([
                ("system", .string("http://hl7.org/fhir/subscription-notification-type")), ("code", .string("event-notification")),
            ])])))
            m.append(("action", .string("R")))
        } else {
            m.append(("type", .object([
                ("system", .string("http://terminology.hl7.org/CodeSystem/audit-event-type")),
                ("code", .string("rest")), ("display", .string("Restful Operation")),
            ])))
            m.append(("subtype", .array([.object([
                ("system", .string("http://hl7.org/fhir/restful-interaction")), ("code", .string(interaction)),
            ])])))
            m.append(("action", .string(Self.action(ctx.method, interaction))))
        }
        m.append(("recorded", .string(recorded.description)))
        // a disclosure's status is the receiver's answer; 0: no answer (unreachable, timed out)
        let outcome = disclosure != nil && status == 0 ? "8" : (status < 400 ? "0" : (status < 500 ? "4" : "8"))
        m.append(("outcome", .string(outcome)))
        if let d = disclosure {
            let answer = status == 0 ? "no answer" : "HTTP \(status)"
            m.append(("outcomeDesc", .string("\(answer) \(d.channel) notification of \(d.subscription) to \(d.destination)")))
        } else {
            m.append(("outcomeDesc", .string("HTTP \(status) \(ctx.method) \(ctx.path)")))
        }
        if let purpose = ctx.principal?.purposeOfUse ?? (ctx.breakTheGlass ? "ETREAT" : nil) {
            m.append(("purposeOfEvent", .array([.object([("coding", .array([.object([
                ("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActReason")), ("code", .string(purpose)),
            ])]))])])))
        }
        var agents: [JSON] = []
        var user: [(String, JSON)] = [("type", .object([("coding", .array([.object([
            ("system", .string("http://terminology.hl7.org/CodeSystem/extra-security-role-type")), ("code", .string("humanuser")),
        ])]))]))]
        if let p = ctx.principal {
            if let role = p.role?.rawValue ?? (p.subject == "operator" ? "operator" : nil) {
                user.append(("role", .array([.object([("coding", .array([.object([
                    ("system", .string("urn:enlace:role")), ("code", .string(role)),
                ])]))])])))
            }
            var who: [(String, JSON)] = []
            if let fhirUser = p.fhirUser { who.append(("reference", .string(fhirUser))) }
            who.append(("identifier", .object([("system", .string("urn:enlace:subject")), ("value", .string(p.subject))])))
            user.append(("who", .object(who)))
            user.append(("altId", .string(p.tokenID)))
        } else {
            user.append(("who", .object([("display", .string("anonymous"))])))
        }
        user.append(("requestor", .bool(true)))
        if let org = ctx.principal?.organization {
            user.append(("location", .object([("reference", .string(org))])))
        }
        let policies = ctx.policies
        if !policies.isEmpty { user.append(("policy", .array(policies.map { .string($0) }))) }
        if let address = ctx.remoteAddress {
            user.append(("network", .object([("address", .string(address)), ("type", .string("2"))])))
        }
        agents.append(.object(user))
        if let client = ctx.principal?.clientID {
            agents.append(.object([
                ("type", .object([("coding", .array([.object([
                    ("system", .string("http://dicom.nema.org/resources/ontology/DCM")), ("code", .string("110150")), ("display", .string("Application")),
                ])]))])),
                ("who", .object([("identifier", .object([("system", .string("urn:enlace:client")), ("value", .string(client))]))])),
                ("requestor", .bool(false)),
            ]))
        }
        if let d = disclosure {
            agents.append(.object([
                ("type", .object([("coding", .array([.object([
                    ("system", .string("http://dicom.nema.org/resources/ontology/DCM")), ("code", .string("110152")), ("display", .string("Destination Role ID")),
                ])]))])),
                ("who", .object([("display", .string("\(d.channel) \(d.destination)"))])),
                ("requestor", .bool(false)),
                ("network", .object([("address", .string(d.destination)), ("type", .string(Self.isAddress(d.destination) ? "2" : "1"))])),
            ]))
        }
        m.append(("agent", .array(agents)))
        m.append(("source", .object([
            ("site", .string("Enlace")),
            ("observer", .object([("display", .string(node))])),
            ("type", .array([.object([
                ("system", .string("http://terminology.hl7.org/CodeSystem/security-source-type")), ("code", .string("4")),
                ("display", .string("Application Server")),
            ])])),
        ])))
        var entities: [JSON] = []
        if let d = disclosure {
            // the Subscription that routed the data (object role 23, Routing Criteria)
            entities.append(.object([
                ("what", .object([("reference", .string(d.subscription))])),
                ("type", .object([("system", .string("http://terminology.hl7.org/CodeSystem/audit-entity-type")), ("code", .string("2"))])),
                ("role", .object([("system", .string("http://terminology.hl7.org/CodeSystem/object-role")), ("code", .string("23"))])),
            ]))
        }
        for ref in ctx.entities {
            entities.append(.object([
                ("what", .object([("reference", .string(ref))])),
                ("type", .object([("system", .string("http://terminology.hl7.org/CodeSystem/audit-entity-type")), ("code", .string("2"))])),
                ("role", .object([("system", .string("http://terminology.hl7.org/CodeSystem/object-role")), ("code", .string("4"))])),
            ]))
        }
        for patient in ctx.patients {
            entities.append(.object([
                ("what", .object([("reference", .string("Patient/\(patient)"))])),
                ("type", .object([("system", .string("http://terminology.hl7.org/CodeSystem/audit-entity-type")), ("code", .string("1"))])),
                ("role", .object([("system", .string("http://terminology.hl7.org/CodeSystem/object-role")), ("code", .string("1"))])),
            ]))
        }
        if let q = ctx.query, !q.isEmpty, ctx.method == "GET" || ctx.path.hasSuffix("_search") {
            entities.append(.object([
                ("type", .object([("system", .string("http://terminology.hl7.org/CodeSystem/audit-entity-type")), ("code", .string("2"))])),
                ("role", .object([("system", .string("http://terminology.hl7.org/CodeSystem/object-role")), ("code", .string("24"))])),
                ("query", .string(Data(q.utf8).base64EncodedString())),
            ]))
        }
        if !entities.isEmpty { m.append(("entity", .array(entities))) }
        return .object(m)
    }

    /// DICOM's Export (110106): data sent out of the system (a Subscription's notification).
    public static let exportCode = "110106"

    static func isAddress(_ s: String) -> Bool { s.contains(":") || s.allSatisfy { $0.isNumber || $0 == "." } }

    /// The restful interaction a request is (https://hl7.org/fhir/R4/valueset-type-restful-interaction.html).
    public static func interaction(method: String, path: String) -> String {
        let parts = path.split(separator: "/").map(String.init)
        guard parts.first == "fhir" else { return method == "GET" ? "read" : "operation" }
        let rest = Array(parts.dropFirst())
        if rest.last?.hasPrefix("$") == true { return "operation" }
        switch (method, rest.count) {
        case ("GET", 0): return "search-system"
        case ("POST", 0): return "transaction"
        case ("GET", 1): return rest[0] == "metadata" ? "capabilities" : (rest[0] == "_history" ? "history-system" : "search-type")
        case ("POST", 1): return "create"
        case ("PUT", 1): return "update"
        case ("DELETE", 1): return "delete"
        case ("POST", 2) where rest[1] == "_search": return "search-type"
        case ("GET", 2): return rest[1] == "_history" ? "history-type" : "read"
        case ("PUT", 2): return "update"
        case ("DELETE", 2): return "delete"
        case ("GET", 3): return rest[2] == "_history" ? "history-instance" : "search-compartment"
        case ("GET", 4): return "vread"
        default: return "operation"
        }
    }

    static func action(_ method: String, _ interaction: String) -> String {
        switch interaction {
        case "create": return "C"
        case "update": return "U"
        case "delete": return "D"
        case "read", "vread", "history-instance", "history-type", "history-system", "search-type", "search-system", "search-compartment", "capabilities": return "R"
        default: return "E"
        }
    }
}
