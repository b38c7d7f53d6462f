/// CURP identifiers checked on write (docs/interop.md#curp-on-write): a Patient, Person,
/// Practitioner or RelatedPerson identifier recorded under a CURP system (`CURP.isCURPIdentifier`)
/// must be a valid, normalized CURP — length, characters, shape, date, sex, state code and check
/// digit (`CURP.problem`) — so that searching by CURP is exact and a CURP that fails says which
/// rule it breaks.
extension Validator {
    static let curpTypes: Set<String> = ["Patient", "Person", "Practitioner", "RelatedPerson"]

    static func curpIssues(_ resource: JSON) -> [Issue] {
        guard let type = resource["resourceType"]?.stringValue, curpTypes.contains(type) else { return [] }
        var issues: [Issue] = []
        for (i, identifier) in (resource["identifier"]?.arrayValue ?? []).enumerated() where CURP.isCURPIdentifier(identifier) {
            guard let value = identifier["value"]?.stringValue else { continue }
            let at = "\(type).identifier[\(i)].value"
            let normalized = CURP.normalize(value)
            if let problem = CURP.problem(normalized) {
                issues.append(Issue(.error, code: "value", english: "\(at): '\(value)' is not a valid CURP: \(problem.english)",
                                    spanish: "\(at): '\(value)' no es una CURP válida: \(problem.spanish)", expression: [at]))
            } else if normalized != value {
                issues.append(Issue(.error, code: "value", english: "\(at): write the CURP as '\(normalized)' (upper case, no spaces or dashes)",
                                    spanish: "\(at): escriba la CURP como '\(normalized)' (mayúsculas, sin espacios ni guiones)", expression: [at]))
            }
        }
        return issues
    }
}
