import Foundation

/// Something in the record that may count for an item: a dose given (`Immunization`), a
/// result (`Observation`) or a procedure done, with when, where and what it is.
public struct RecordEvent: Sendable, Hashable {
    /// `Immunization/12` — the evidence the item cites.
    public var reference: String
    public var date: CivilDate
    public var codes: [Code]
    /// Where it was done (the performing organization or location, as recorded).
    public var place: String?
    /// For an Immunization: `completed`, `not-done` (with `reason`) or `entered-in-error`.
    public var status: String
    /// `Immunization.statusReason` (v3-ActReason: `IMMUNE`, `MEDPREC`, `OSTOCK`, `PATOBJ`, `PHILISOP`, `RELIG`, `VACSAF`, `VACEFF`).
    public var reason: String?
    /// `Immunization.isSubpotent`: the dose does not count.
    public var subpotent: Bool

    public init(reference: String, date: CivilDate, codes: [Code], place: String? = nil, status: String = "completed",
                reason: String? = nil, subpotent: Bool = false) {
        self.reference = reference
        self.date = date
        self.codes = codes
        self.place = place
        self.status = status
        self.reason = reason
        self.subpotent = subpotent
    }
}

/// What the engine is told about one person on one date.
public struct PreventionInput: Sendable {
    public var birthDate: CivilDate
    /// `Patient.gender`: `female`, `male`, `other`, `unknown` (or nil).
    public var sex: String?
    public var asOf: CivilDate
    /// Doses given and not given (not-done with reason), from every institution.
    public var immunizations: [RecordEvent]
    /// Observations and procedures (screenings).
    public var results: [RecordEvent]
    /// Active allergies and intolerances, by their codes (an allergy coded with a vaccine's CVX
    /// code contraindicates it), with the reference that says so.
    public var allergies: [(reference: String, codes: [Code])]
    /// Pregnant on `asOf` (with the reference that says so).
    public var pregnancy: String?
    /// Since when (items only for pregnancy are due from then).
    public var pregnancySince: CivilDate?

    public init(birthDate: CivilDate, sex: String?, asOf: CivilDate, immunizations: [RecordEvent] = [], results: [RecordEvent] = [],
                allergies: [(reference: String, codes: [Code])] = [], pregnancy: String? = nil, pregnancySince: CivilDate? = nil) {
        self.birthDate = birthDate
        self.sex = sex
        self.asOf = asOf
        self.immunizations = immunizations
        self.results = results
        self.allergies = allergies
        self.pregnancy = pregnancy
        self.pregnancySince = pregnancySince
    }
}

/// The state of one item of the Cartilla for one person.
public struct PreventionItem: Sendable {
    public enum Status: String, Sendable, CaseIterable {
        /// Not yet due (the next dose or test has a date ahead).
        case upcoming
        case due
        /// Past its due date by more than the item's grace.
        case overdue
        /// Complete (a series) or done within its interval (a recurring item).
        case done
        /// Must not be given now: an allergy, pregnancy for a live vaccine, a medical precaution.
        case contraindicated
        /// The person declined it (recorded as `not-done` with an objection).
        case declined

        /// An open gap (DEQM `open-gap`): what is owed now.
        public var isOpen: Bool { self == .due || self == .overdue || self == .declined }
    }

    public var rule: ScheduleRule
    public var status: Status
    /// The dose the item is at (1-based) for a series; nil for a recurring item.
    public var dose: Int?
    /// Doses in the series (nil for a recurring item).
    public var doses: Int?
    /// When the next dose or test is due (nil when done for good or contraindicated).
    public var dueDate: CivilDate?
    /// From when it counts as overdue.
    public var overdueDate: CivilDate?
    /// The last event that counted (when and where).
    public var last: RecordEvent?
    /// Every record the judgement rests on (doses counted, doses not counted, refusals, the allergy…).
    public var evidence: [String]
    /// Why, in plain words.
    public var explanation: Localized
    /// Not needed: immunity documented (`not-done` with `IMMUNE`).
    public var immune = false
}

/// The schedule engine: a pure function of the person's facts and the Cartilla's rules.
public struct ScheduleEngine: Sendable {
    public var rules: [ScheduleRule]

    public init(rules: [ScheduleRule] = CartillaKnowledge.standard.rules) { self.rules = rules }

    /// Every item that applies to the person on `input.asOf` (by age, sex and pregnancy),
    /// with its status and explanation. Items that do not apply — the wrong age or sex, or a
    /// series whose catch-up limit has passed — are left out.
    public func evaluate(_ input: PreventionInput) -> [PreventionItem] {
        rules.compactMap { evaluate($0, input) }
    }

    public func evaluate(_ rule: ScheduleRule, _ input: PreventionInput) -> PreventionItem? {
        if let sex = rule.sex, input.sex != sex { return nil }
        if rule.whenPregnant && input.pregnancy == nil { return nil }
        let matching = rule.kind == .immunization ? input.immunizations : input.immunizations + input.results
        let relevant = matching.filter { e in e.date <= input.asOf && e.codes.contains(where: rule.codes.contains) }
            .sorted { ($0.date, $0.reference) < ($1.date, $1.reference) }
        let given = relevant.filter { $0.status == "completed" && !$0.subpotent }
        let notDone = relevant.filter { $0.status == "not-done" }
        switch rule.schedule {
        case .series(let doses):
            return series(rule, doses, input, given: given, notDone: notDone, subpotent: relevant.filter { $0.subpotent })
        case .recurring(let every, let from, let until):
            return recurring(rule, every: every, from: from, until: until, input, given: given, notDone: notDone)
        }
    }

    func series(_ rule: ScheduleRule, _ doses: [ScheduleRule.Dose], _ input: PreventionInput, given: [RecordEvent], notDone: [RecordEvent],
                subpotent: [RecordEvent]) -> PreventionItem? {
        let birth = input.birthDate
        var valid: [RecordEvent] = []
        var notCounted: [(RecordEvent, Localized)] = subpotent.map { ($0, Localized("la dosis fue subpotente", "the dose was subpotent")) }
        for e in given {
            guard valid.count < doses.count else { break }
            if let prev = valid.last, prev.date == e.date { continue }  // the same dose recorded twice (e.g. by two institutions)
            let dose = doses[valid.count]
            let minAgeDate = birth.adding(dose.minimumAge)
            if e.date < minAgeDate {
                notCounted.append((e, Localized("se aplicó el \(e.date) antes de la edad mínima (\(dose.minimumAge.spoken.es))",
                                                "given on \(e.date), before the minimum age (\(dose.minimumAge.spoken.en))")))
                continue
            }
            if let prev = valid.last, let gap = dose.minimumInterval, e.date < prev.date.adding(gap) {
                notCounted.append((e, Localized("se aplicó el \(e.date), menos de \(gap.spoken.es) después de la dosis anterior",
                                                "given on \(e.date), less than \(gap.spoken.en) after the previous dose")))
                continue
            }
            valid.append(e)
        }
        let evidence = (valid.map(\.reference) + notCounted.map { $0.0.reference } + notDone.map(\.reference)).uniqued()
        var note = Localized("", "")
        if !notCounted.isEmpty {
            note = Localized(" No cuenta: " + notCounted.map { $0.1.es }.joined(separator: "; ") + ".",
                             " Not counted: " + notCounted.map { $0.1.en }.joined(separator: "; ") + ".")
        }
        let n = doses.count
        if valid.count == n {
            let last = valid.last!
            return PreventionItem(rule: rule, status: .done, dose: n, doses: n, dueDate: nil, overdueDate: nil, last: last, evidence: evidence,
                                  explanation: Localized("Completa: \(n) de \(n) \(n == 1 ? "dosis" : "dosis"); la última el \(last.date)\(last.place.map { " en \($0)" } ?? "")." + note.es,
                                                         "Complete: \(n) of \(n) \(n == 1 ? "dose" : "doses"); the last on \(last.date)\(last.place.map { " at \($0)" } ?? "")." + note.en))
        }
        let next = doses[valid.count]
        if let maxAge = next.maximumAge, input.asOf >= birth.adding(maxAge) { return nil }  // past the catch-up limit
        var due = max(birth.adding(next.recommendedAge), birth.adding(next.minimumAge))
        if let prev = valid.last, let gap = next.minimumInterval { due = max(due, prev.date.adding(gap)) }
        let overdue = due.adding(rule.overdueAfter)
        let doseText = n == 1 ? Localized("", "") : Localized(" (dosis \(valid.count + 1) de \(n))", " (dose \(valid.count + 1) of \(n))")
        var item = PreventionItem(rule: rule, status: .upcoming, dose: valid.count + 1, doses: n, dueDate: due, overdueDate: overdue, last: valid.last,
                                  evidence: evidence, explanation: Localized("", ""))
        judge(&item, rule, input, since: valid.last?.date, notDone: notDone, doseText: doseText, note: note)
        return item
    }

    func recurring(_ rule: ScheduleRule, every: Span, from: Span, until: Span?, _ input: PreventionInput, given: [RecordEvent],
                   notDone: [RecordEvent]) -> PreventionItem? {
        let birth = input.birthDate
        var start = birth.adding(from)
        if rule.whenPregnant, let since = input.pregnancySince { start = max(start, since) }
        guard input.asOf >= start else { return nil }
        if let until, input.asOf >= birth.adding(until) { return nil }
        let last = given.last
        let evidence = ((last.map { [$0.reference] } ?? []) + notDone.map(\.reference)).uniqued()
        if let last, input.asOf < last.date.adding(every) {
            let next = last.date.adding(every)
            return PreventionItem(rule: rule, status: .done, dose: nil, doses: nil, dueDate: next, overdueDate: next.adding(rule.overdueAfter), last: last,
                                  evidence: evidence,
                                  explanation: Localized("Al día: el \(last.date)\(last.place.map { " en \($0)" } ?? ""); cada \(every.spoken.es), la siguiente a partir del \(next).",
                                                         "Up to date: on \(last.date)\(last.place.map { " at \($0)" } ?? ""); every \(every.spoken.en), the next from \(next)."))
        }
        let due = max(start, last.map { $0.date.adding(every) } ?? start)
        var item = PreventionItem(rule: rule, status: .upcoming, dose: nil, doses: nil, dueDate: due, overdueDate: due.adding(rule.overdueAfter), last: last,
                                  evidence: evidence, explanation: Localized("", ""))
        let lastText = last.map { Localized(" La última fue el \($0.date)\($0.place.map { p in " en \(p)" } ?? "").", " The last was on \($0.date)\($0.place.map { p in " at \(p)" } ?? "").") }
            ?? Localized(" No hay registro previo.", " There is no earlier record.")
        judge(&item, rule, input, since: last?.date, notDone: notDone, doseText: Localized("", ""), note: lastText)
        return item
    }

    /// Contraindications and refusals first, then the dates.
    func judge(_ item: inout PreventionItem, _ rule: ScheduleRule, _ input: PreventionInput, since: CivilDate?, notDone: [RecordEvent],
               doseText: Localized, note: Localized) {
        let title = rule.title
        if rule.kind == .immunization {
            if let allergy = input.allergies.first(where: { $0.codes.contains(where: rule.codes.contains) }) {
                item.status = .contraindicated
                item.evidence.append(allergy.reference)
                item.explanation = Localized("Contraindicada: hay una alergia registrada a esta vacuna (\(allergy.reference)).",
                                             "Contraindicated: an allergy to this vaccine is recorded (\(allergy.reference)).")
                return
            }
            if rule.live, let pregnancy = input.pregnancy {
                item.status = .contraindicated
                item.evidence.append(pregnancy)
                item.explanation = Localized("Contraindicada durante el embarazo (vacuna de virus vivos atenuados); aplicar después del parto.",
                                             "Contraindicated in pregnancy (live attenuated vaccine); give after delivery.")
                return
            }
        }
        // a not-done after the last dose that counted speaks for the dose now owed
        let recent = notDone.filter { since == nil || $0.date >= since! }
        if let r = recent.last(where: { ["MEDPREC", "VACSAF"].contains($0.reason ?? "") }) {
            item.status = .contraindicated
            item.explanation = Localized("No se aplicó el \(r.date) por precaución médica\(doseText.es); revalorar con el equipo de salud.",
                                         "Not given on \(r.date) as a medical precaution\(doseText.en); to be reassessed with the care team.")
            return
        }
        if let r = recent.last(where: { $0.reason == "IMMUNE" }) {
            item.status = .done
            item.immune = true
            item.dueDate = nil
            item.overdueDate = nil
            item.explanation = Localized("No se requiere: inmunidad documentada el \(r.date).", "Not needed: immunity documented on \(r.date).")
            return
        }
        let (due, overdue) = (item.dueDate!, item.overdueDate!)
        if let r = recent.last(where: { ["PATOBJ", "PHILISOP", "RELIG"].contains($0.reason ?? "") }) {
            item.status = .declined
            item.explanation = Localized("La persona la rechazó el \(r.date)\(doseText.es); sigue pendiente si cambia de opinión.",
                                         "Declined on \(r.date)\(doseText.en); still open should the person change their mind.")
            return
        }
        let stock = recent.last(where: { $0.reason == "OSTOCK" }).map {
            Localized(" El \($0.date) no había existencia.", " On \($0.date) it was out of stock.")
        } ?? Localized("", "")
        if input.asOf < due {
            item.status = .upcoming
            item.explanation = Localized("\(title.es)\(doseText.es): a partir del \(due).\(note.es)\(stock.es)", "\(title.en)\(doseText.en): from \(due).\(note.en)\(stock.en)")
        } else if input.asOf < overdue {
            item.status = .due
            item.explanation = Localized("Toca ahora\(doseText.es): desde el \(due).\(note.es)\(stock.es)", "Due now\(doseText.en): since \(due).\(note.en)\(stock.en)")
        } else {
            item.status = .overdue
            item.explanation = Localized("Atrasada\(doseText.es): tocaba el \(due).\(note.es)\(stock.es)", "Overdue\(doseText.en): it was due on \(due).\(note.en)\(stock.en)")
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen: Set<Element> = []
        return filter { seen.insert($0).inserted }
    }
}
