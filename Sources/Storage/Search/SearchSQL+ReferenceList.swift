import FHIR

extension SearchSQL {
    /// Many references of one parameter (`patient=Patient/a,Patient/b,…`, as prevention reads a
    /// page of records): grouped by target type, so the whole list is one index probe with `IN`
    /// lists instead of one subquery per value (and does not count against the depth limit per
    /// value). Nil unless every alternative is a `.reference` of the same parameter with an id.
    static func referenceList(_ list: [SearchFilter]) -> (String, [(String?, [String])])? {
        guard list.count > 1, case .reference(let parameter, _, _) = list[0] else { return nil }
        var groups: [(String?, [String])] = []
        for f in list {
            guard case .reference(let p, let type, let id) = f, p == parameter, !id.isEmpty else { return nil }
            if let i = groups.firstIndex(where: { $0.0 == type }) { groups[i].1.append(id) } else { groups.append((type, [id])) }
        }
        return (parameter, groups)
    }

    /// The index condition of `referenceList` (same columns as a single `.reference`).
    func referenceListCondition(_ parameter: String, _ groups: [(String?, [String])], args: inout [SQLValue]) -> String {
        args.append(.text(parameter))
        let parts = groups.map { type, ids -> String in
            let values = "s.value IN (\(placeholders(ids.count)))"
            args += ids.map { .text($0) }
            if let type {
                args.append(.text(type))
                return "(\(values) AND s.system = ?)"
            }
            return values
        }
        return "s.param = ? AND (" + parts.joined(separator: " OR ") + ")"
    }
}
