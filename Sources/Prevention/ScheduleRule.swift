import Foundation

/// A code (`system|code`) that counts as an item done: a CVX vaccine code on
/// `Immunization.vaccineCode`, a LOINC code on an Observation, a SNOMED CT code on a Procedure.
public struct Code: Sendable, Hashable, CustomStringConvertible {
    public var system: String
    public var code: String
    public init(_ system: String, _ code: String) {
        self.system = system
        self.code = code
    }
    public var description: String { "\(system)|\(code)" }

    public static let cvx = "http://hl7.org/fhir/sid/cvx"
    public static let loinc = "http://loinc.org"
    public static let snomed = "http://snomed.info/sct"
}

/// One item of the Cartilla (a vaccine series or a recurring screening), as the engine runs it.
/// Loaded from a PlanDefinition action and its ActivityDefinition (`CartillaKnowledge`).
public struct ScheduleRule: Sendable, Hashable {
    public enum Kind: String, Sendable { case immunization, screening }

    /// The action id (`hexavalente`, `mujer-mastografia`): the item's name everywhere.
    public var id: String
    public var kind: Kind
    public var title: Localized
    /// What it is for, in plain words.
    public var purpose: Localized
    /// The PlanDefinition (canonical|version) the item comes from.
    public var plan: String
    /// The ActivityDefinition (canonical|version) whose codes count as done.
    public var activity: String
    /// Only for this administrative gender (`female`, `male`); nil: everyone.
    public var sex: String?
    /// Only while pregnant (Tdpa, influenza in pregnancy).
    public var whenPregnant: Bool
    /// A live attenuated vaccine: contraindicated in pregnancy.
    public var live: Bool
    /// What counts as done.
    public var codes: Set<Code>
    /// After the due date, how long until the item is overdue.
    public var overdueAfter: Span
    public var schedule: Schedule

    public enum Schedule: Sendable, Hashable {
        /// A fixed number of doses (or a one-off screening).
        case series([Dose])
        /// Again every `every` while the age is in [`from`, `until`).
        case recurring(every: Span, from: Span, until: Span?)
    }

    /// One dose of a series.
    public struct Dose: Sendable, Hashable {
        /// The age the Cartilla gives it at.
        public var recommendedAge: Span
        /// A dose given younger does not count.
        public var minimumAge: Span
        /// The catch-up limit: from this age on the dose is no longer given.
        public var maximumAge: Span?
        /// The least time after the previous valid dose for this one to count.
        public var minimumInterval: Span?

        public init(recommendedAge: Span, minimumAge: Span, maximumAge: Span?, minimumInterval: Span?) {
            self.recommendedAge = recommendedAge
            self.minimumAge = minimumAge
            self.maximumAge = maximumAge
            self.minimumInterval = minimumInterval
        }
    }

    public init(id: String, kind: Kind, title: Localized, purpose: Localized, plan: String = "", activity: String = "", sex: String? = nil,
                whenPregnant: Bool = false, live: Bool = false, codes: Set<Code>, overdueAfter: Span, schedule: Schedule) {
        self.id = id
        self.kind = kind
        self.title = title
        self.purpose = purpose
        self.plan = plan
        self.activity = activity
        self.sex = sex
        self.whenPregnant = whenPregnant
        self.live = live
        self.codes = codes
        self.overdueAfter = overdueAfter
        self.schedule = schedule
    }
}
