import FHIR
import Storage

/// The Provenance every create and update gets (https://hl7.org/fhir/R4/provenance.html): who
/// (and on behalf of which organization), what activity, and the exact version it produced.
public enum ProvenanceBuilder {
    public static func build(for written: Repository.Written, principal: Principal?, recorded: Timestamp, reason: String?) -> JSON {
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
