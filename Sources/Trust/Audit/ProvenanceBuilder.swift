import FHIR
import Storage

/// The Provenance every create and update gets (https://hl7.org/fhir/R4/provenance.html): who
/// (and on behalf of which organization), what activity, and the exact version it produced.
public enum ProvenanceBuilder {
    /// With a `template` (the R4 `X-Provenance` header, https://hl7.org/fhir/R4/provenance.html#header)
    /// its agents (e.g. an algorithm as a Device author and the accountable Practitioner as
    /// verifier), reason, policy and activity are kept; the server sets target and recorded and
    /// adds the requester as an agent if absent.
    public static func build(for written: Repository.Written, principal: Principal?, recorded: Timestamp, reason: String?, template: JSON? = nil) -> JSON {
        if let template, case .object = template {
            let r = written.resource
            var p = template.setting("id", nil).setting("meta", nil)
            p = p.setting("target", .array([.object([("reference", .string("\(r.type)/\(r.id)/_history/\(r.version)"))])]))
            p = p.setting("recorded", .string(recorded.description))
            if p["activity"] == nil {
                p = p.setting("activity", .object([("coding", .array([.object([
                    ("system", .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation")),
                    ("code", .string(written.created ? "CREATE" : "UPDATE")),
                ])]))]))
            }
            var agents = p["agent"]?.arrayValue ?? []
            let me = build(for: written, principal: principal, recorded: recorded, reason: nil)["agent"]?.arrayValue?.first
            if let me, let who = me["who"], !agents.contains(where: { $0["who"] == who }) {
                agents.append(me.setting("type", .object([("coding", .array([.object([
                    ("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")), ("code", .string("enterer")),
                ])]))])))
            }
            return p.setting("agent", .array(agents))
        }
        let r = written.resource
        var agent: [(String, JSON)] = [("type", .object([("coding", .array([.object([
            ("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")), ("code", .string("author")),
        ])]))]))]
        if let p = principal {
            if let fhirUser = p.fhirUser {
                agent.append(("who", .object([("reference", .string(fhirUser))])))
            } else {
                agent.append(("who", .object([("identifier", .object([("system", .string("urn:enlace:subject")), ("value", .string(p.subject))]))])))
            }
            if let org = p.organization { agent.append(("onBehalfOf", .object([("reference", .string(org))]))) }
        } else {
            agent.append(("who", .object([("display", .string("Enlace"))])))
        }
        var m: [(String, JSON)] = [
            ("resourceType", .string("Provenance")),
            ("target", .array([.object([("reference", .string("\(r.type)/\(r.id)/_history/\(r.version)"))])])),
            ("recorded", .string(recorded.description)),
        ]
        if let reason {
            m.append(("reason", .array([.object([("text", .string(reason))])])))
        }
        m.append(("activity", .object([("coding", .array([.object([
            ("system", .string("http://terminology.hl7.org/CodeSystem/v3-DataOperation")),
            ("code", .string(written.created ? "CREATE" : "UPDATE")),
        ])]))])))
        m.append(("agent", .array([.object(agent)])))
        return .object(m)
    }
}
