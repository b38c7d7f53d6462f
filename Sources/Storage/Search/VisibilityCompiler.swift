import FHIR

/// The one visibility compiler: every SQL condition that hides what a principal may not see —
/// other patients' compartments, types the role may not read, sensitivity labels (for everyone,
/// or per patient unless disclosed), and the data rules of Consents — is generated here, for
/// both dialects, from the access decision's `Visibility`. Search (main query, chains, `_has`,
/// includes, counts, `$everything`, `$lastn`) uses `visibilityClause` over current resources;
/// history uses `historyWhere` over stored versions. No backend writes access-control SQL of
/// its own (docs/access.md, "One visibility compiler").
extension SearchSQL {
    /// `(alias may be seen)`, or nil when everything may be seen.
    func visibilityClause(_ alias: String, types: [String], args: inout [SQLValue]) -> String? {
        guard let v = visibility else { return nil }
        var parts: [String] = []
        if !v.sharedTypes.isEmpty {
            parts.append("\(alias).type IN (\(placeholders(v.sharedTypes.count)))")
            args += v.sharedTypes.map { .text($0) }
        }
        // only shared types asked for: no compartment can matter (a practitioner's compartment
        // list is thousands of rows; building it for an Organization search cost 50 ms)
        let onlyShared = !types.isEmpty && types.allSatisfy { v.sharedTypes.contains($0) }
        if !v.patients.isEmpty && !onlyShared {
            if correlated && dialect == .sqlite {
                // a driving filter already narrowed the rows: probe each one's compartments
                parts.append("EXISTS (SELECT 1 FROM compartment vc INDEXED BY compartment_resource WHERE vc.type = \(alias).type AND vc.id = \(alias).id AND vc.patient_key IN (\(placeholders(v.patients.count))))")
            } else {
                parts.append("(\(alias).type, \(alias).id) IN (SELECT vc.type, vc.id FROM compartment vc WHERE vc.patient_key IN (\(placeholders(v.patients.count))))")
            }
            args += v.patients.map { .text($0) }
        }
        var clause = parts.isEmpty ? "1 = 0" : "(" + parts.joined(separator: " OR ") + ")"
        clause = typeRulesClause(v, base: clause, alias: alias, types: types, args: &args)
        if let readable = v.readableTypes {
            clause += readable.isEmpty ? " AND 1 = 0" : " AND \(alias).type IN (\(placeholders(readable.count)))"
            args += readable.map { .text($0) }
        }
        if !v.hiddenLabels.isEmpty {
            clause += " AND NOT " + inIndex(.token, alias, types, "s.param = '_security' AND s.value IN (\(placeholders(v.hiddenLabels.count)))")
            args += v.hiddenLabels.map { .text($0) }
        }
        // resources of shared types are in no compartment: the per-patient rules cannot apply
        if onlyShared { return clause }
        // patients with the same hidden labels share one rule (a practitioner's 200 patients
        // usually all hide the same sensitive categories: one subquery, not 200)
        for rule in v.groupedPatientRules {
            var inner = correlated && dialect == .sqlite
                ? "EXISTS (SELECT 1 FROM compartment hc INDEXED BY compartment_resource WHERE hc.type = \(alias).type AND hc.id = \(alias).id AND hc.patient_key IN (\(placeholders(rule.patients.count))))"
                : "(\(alias).type, \(alias).id) IN (SELECT hc.type, hc.id FROM compartment hc WHERE hc.patient_key IN (\(placeholders(rule.patients.count))))"
            args += rule.patients.map { .text($0) }
            inner += " AND " + inIndex(.token, alias, types, "s.param = '_security' AND s.value IN (\(placeholders(rule.labels.count)))")
            args += rule.labels.map { .text($0) }
            if !v.disclosed.isEmpty {
                inner += " AND (\(alias).type || '/' || \(alias).id) NOT IN (\(placeholders(v.disclosed.count)))"
                args += v.disclosed.map { .text($0) }
            }
            clause += " AND NOT (" + inner + ")"
        }
        if let rules = dataRulesClause(v, alias: alias, types: types, args: &args) { clause += " AND " + rules }
        return clause
    }

    /// The WHERE clause of a history listing over `resource_version` aliased `alias`: the scope
    /// (system, type or instance), `_since`, the keyset page boundary, and what the asker may see
    /// of stored versions. A version is judged by its own patient key, its own labels and — for
    /// a data rule — the current version's index (old versions have no index rows), so a
    /// version of a resource that is no longer current in a restricted compartment is left out.
    public func historyWhere(_ scope: HistoryScope, since: Timestamp?, before: Int64?, visibility: Visibility?,
                             alias v: String, args: inout [SQLValue]) -> String {
        var clauses: [String] = []
        if let visibility {
            clauses.append(versionVisibilityClause(visibility, alias: v, types: scope.types, args: &args))
        }
        switch scope {
        case .system: break
        case .type(let t):
            clauses.append("\(v).type = ?")
            args.append(.text(t))
        case .instance(let t, let id):
            clauses.append("\(v).type = ? AND \(v).id = ?")
            args += [.text(t), .text(id)]
        }
        if let since {
            clauses.append("\(v).last_updated >= ?")
            args.append(.integer(since.microseconds))
        }
        if let before {
            clauses.append("\(v).seq < ?")
            args.append(.integer(before))
        }
        return clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
    }

    /// `(version alias may be seen)`: shared types or a visible patient key, without hidden
    /// labels (the version's own `labels` column), per-patient hidden labels unless disclosed,
    /// and the data rules.
    func versionVisibilityClause(_ vis: Visibility, alias v: String, types: [String], args: inout [SQLValue]) -> String {
        var parts: [String] = []
        if !vis.sharedTypes.isEmpty {
            parts.append("\(v).type IN (\(placeholders(vis.sharedTypes.count)))")
            args += vis.sharedTypes.map { .text($0) }
        }
        if !vis.patients.isEmpty {
            parts.append("\(v).patient_key IN (\(placeholders(vis.patients.count)))")
            args += vis.patients.map { .text($0) }
        }
        var clauses = [typeRulesClause(vis, base: parts.isEmpty ? "1 = 0" : "(" + parts.joined(separator: " OR ") + ")", alias: v, types: types, args: &args)]
        if let readable = vis.readableTypes {
            clauses.append(readable.isEmpty ? "1 = 0" : "\(v).type IN (\(placeholders(readable.count)))")
            args += readable.map { .text($0) }
        }
        for l in vis.hiddenLabels {
            clauses.append("(' ' || \(v).labels || ' ') NOT LIKE ?")
            args.append(.text("% \(l) %"))
        }
        for rule in vis.perPatientRules {
            var inner = "(' ' || \(v).compartments || ' ') LIKE ? AND ("
                + rule.labels.map { _ in "(' ' || \(v).labels || ' ') LIKE ?" }.joined(separator: " OR ") + ")"
            args.append(.text("% \(rule.patient) %"))
            args += rule.labels.map { .text("% \($0) %") }
            if !vis.disclosed.isEmpty {
                inner += " AND (\(v).type || '/' || \(v).id) NOT IN (\(placeholders(vis.disclosed.count)))"
                args += vis.disclosed.map { .text($0) }
            }
            clauses.append("NOT (" + inner + ")")
        }
        if let rules = dataRulesClause(vis, alias: v, types: types, args: &args, history: true) { clauses.append(rules) }
        return clauses.joined(separator: " AND ")
    }

    /// `base` (shared or in a visible compartment) for every type but those of `typeRules`, which
    /// are visible by their rule instead. Only the ruled types a query can return are compiled.
    func typeRulesClause(_ v: Visibility, base: String, alias: String, types: [String], args: inout [SQLValue]) -> String {
        let ruled = v.sortedTypeRules.filter { types.isEmpty || types.contains($0.type) }
        guard !ruled.isEmpty else { return base }
        var alternatives = ["(\(base) AND \(alias).type NOT IN (\(placeholders(ruled.count))))"]
        args += ruled.map { .text($0.type) }
        for (type, rule) in ruled {
            args.append(.text(type))
            alternatives.append("(\(alias).type = ? AND \(dataRuleClause(rule, alias: alias, types: [type], args: &args)))")
        }
        return "(" + alternatives.joined(separator: " OR ") + ")"
    }

    /// `(alias satisfies rule)`. `alias` must have `type`, `id` and `patient_key` columns (a
    /// `resource` or `resource_version` row). Codes and dates come from the index tables, which
    /// hold the current version; labels from the token index's `_security` entries.
    func dataRuleClause(_ rule: DataRule, alias: String, types: [String], args: inout [SQLValue]) -> String {
        switch rule {
        case .all: return "1 = 1"
        case .nothing: return "1 = 0"
        case .types(let t):
            guard !t.isEmpty else { return "1 = 0" }
            args += t.map { .text($0) }
            return "\(alias).type IN (\(placeholders(t.count)))"
        case .codes(let codes):
            guard !codes.isEmpty else { return "1 = 0" }
            // grouped by system: a code with its descendants (E11 … E11.9) is one `IN` list
            var groups: [(String?, [String])] = []
            for c in codes {
                if let i = groups.firstIndex(where: { $0.0 == c.system }) { groups[i].1.append(c.code) } else { groups.append((c.system, [c.code])) }
            }
            let alternatives = groups.map { system, values -> String in
                if let system { args.append(.text(system)) }
                args += values.map { .text($0) }
                let list = "s.value IN (\(placeholders(values.count)))"
                return system == nil ? list : "(s.system = ? AND \(list))"
            }
            let params = DataRule.codeParameters.map { "'\($0)'" }.joined(separator: ", ")
            return inIndex(.token, alias, types, "s.param IN (\(params)) AND (" + alternatives.joined(separator: " OR ") + ")")
        case .period(let low, let high):
            let params = DataRule.dateParameters.map { "'\($0)'" }.joined(separator: ", ")
            var condition = "s.param IN (\(params)) AND s.low IS NOT NULL AND s.high IS NOT NULL"
            if let low { condition += " AND s.high >= ?"; args.append(.real(Double(low))) }
            if let high { condition += " AND s.low <= ?"; args.append(.real(Double(high))) }
            return inIndex(.date, alias, types, condition)
        case .labels(let l):
            guard !l.isEmpty else { return "1 = 0" }
            args += l.map { .text($0) }
            return inIndex(.token, alias, types, "s.param = '_security' AND s.value IN (\(placeholders(l.count)))")
        case .resources(let r):
            guard !r.isEmpty else { return "1 = 0" }
            args += r.map { .text($0) }
            return "(\(alias).type || '/' || \(alias).id) IN (\(placeholders(r.count)))"
        case .references(let param, let targets):
            guard !targets.isEmpty else { return "1 = 0" }
            args.append(.text(param))
            args += targets.map { .text($0) }
            return inIndex(.reference, alias, types, "s.param = ? AND (s.system || '/' || s.value) IN (\(placeholders(targets.count)))")
        case .and(let parts):
            return "(" + parts.map { dataRuleClause($0, alias: alias, types: types, args: &args) }.joined(separator: " AND ") + ")"
        case .or(let parts):
            return "(" + parts.map { dataRuleClause($0, alias: alias, types: types, args: &args) }.joined(separator: " OR ") + ")"
        case .not(let inner):
            return "NOT (" + dataRuleClause(inner, alias: alias, types: types, args: &args) + ")"
        }
    }

    /// For every patient with a data rule: a resource in that patient's compartment must
    /// satisfy it. With `currentOnly` (history), versions of resources that are no longer
    /// current in a restricted compartment are left out too (their index entries are gone, so
    /// the rule cannot be checked).
    public func dataRulesClause(_ v: Visibility, alias: String, types: [String], args: inout [SQLValue], history: Bool = false) -> String? {
        guard !v.dataRules.isEmpty else { return nil }
        var clauses: [String] = []
        for (patient, rule) in v.sortedDataRules {
            if history {
                args.append(.text("% \(patient) %"))
                let inCompartment = "(' ' || \(alias).compartments || ' ') LIKE ?"
                args.append(.text(patient))
                let current = "(\(alias).type, \(alias).id) IN (SELECT dc.type, dc.id FROM compartment dc WHERE dc.patient_key = ?)"
                let satisfied = dataRuleClause(rule, alias: alias, types: types, args: &args)
                clauses.append("NOT (\(inCompartment) AND NOT (\(current) AND \(satisfied)))")
            } else {
                args.append(.text(patient))
                let inCompartment = "(\(alias).type, \(alias).id) IN (SELECT dc.type, dc.id FROM compartment dc WHERE dc.patient_key = ?)"
                let satisfied = dataRuleClause(rule, alias: alias, types: types, args: &args)
                clauses.append("NOT (\(inCompartment) AND NOT \(satisfied))")
            }
        }
        return clauses.joined(separator: " AND ")
    }
}
