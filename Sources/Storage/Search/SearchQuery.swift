import FHIR

/// A parsed FHIR search (https://hl7.org/fhir/R4/search.html), independent of any database:
/// the one plan both backends compile to SQL. Every value in it reaches the database as a
/// bound parameter; parameter codes and sort keys come from the definitions (an allow-list).
public struct SearchQuery: Sendable, Equatable {
    /// The resource types searched (one for a type search; several or all for `/_search?_type=`).
    public var types: [String]
    /// Every filter must hold (repeated parameters are AND; comma-separated values are OR inside one filter).
    public var filters: [SearchFilter] = []
    /// Only resources in this patient's compartment (`/Patient/123/Observation`).
    public var compartment: String?
    public var sort: [SortKey] = []
    public var count: Int
    public var cursor: SearchCursor?
    public var total: TotalMode = .accurate
    public var includes: [IncludeSpec] = []
    public var revIncludes: [IncludeSpec] = []
    /// `_summary=count`: only the total is wanted.
    public var countOnly = false
    /// What the asker may see (set by the access decision, never by the request): when set,
    /// only resources of `sharedTypes` or in the compartment of one of `patients` match — in the
    /// main query, in chains, in `_has` and in counts.
    public var visibility: Visibility?
    /// When set, included resources are limited to these types (`$everything` includes only
    /// shared data such as Practitioner or Medication, never another patient's resources).
    public var includeTypes: Set<String>?

    public init(types: [String], count: Int) {
        self.types = types
        self.count = count
    }
}

/// The part of the data a principal may see (docs/access.md, refined by consent: docs/consent.md).
public struct Visibility: Sendable, Equatable {
    public var patients: [String]
    public var sharedTypes: [String]
    /// Security labels (`meta.security` codes) whose resources stay hidden.
    public var hiddenLabels: [String]
    /// Per patient: security labels whose resources *in that patient's compartment* stay
    /// hidden (sensitive categories without the patient's consent, or a category the patient
    /// chose not to be told about). Compiled into every query like the rest.
    public var hiddenLabelsByPatient: [String: [String]]
    /// Resources (`Type/id`) exempt from `hiddenLabelsByPatient` (a result disclosed to the
    /// patient in an accompanied disclosure).
    public var disclosed: [String]
    /// Per patient: what of that patient's compartment may be seen at all, when Consents narrow
    /// it by resource type, code or clinical date (`DataRule`). A resource in the compartment of
    /// a patient listed here is visible only if it satisfies the rule.
    public var dataRules: [String: DataRule]
    /// Types the asker may read at all (nil: every type). Applied to every alias of a query —
    /// chains and `_has` included — so a type the asker may not read cannot be probed through
    /// another one (`Patient?_has:Condition:subject:code=…`).
    public var readableTypes: [String]?
    /// Types the asker sees only in a minimal form (a payer's Encounter): the elements served
    /// and the search parameters that may be used on them.
    public var minimal: [String: MinimalView] = [:]
    /// Types whose resources are visible by a rule instead of by compartment (a payer's
    /// settlement dispute Tasks, docs/access.md "Finance"): a resource of a type listed here is
    /// visible exactly when it satisfies the rule, whatever its compartments (the other checks —
    /// readable types, labels, per-patient rules — still apply). Compiled into every query.
    public var typeRules: [String: DataRule] = [:]

    /// `typeRules` in a stable order (for SQL).
    public var sortedTypeRules: [(type: String, rule: DataRule)] {
        typeRules.keys.sorted().map { ($0, typeRules[$0]!) }
    }

    public init(patients: [String], sharedTypes: [String], hiddenLabels: [String] = [],
                hiddenLabelsByPatient: [String: [String]] = [:], disclosed: [String] = [], dataRules: [String: DataRule] = [:]) {
        self.patients = patients
        self.sharedTypes = sharedTypes
        self.hiddenLabels = hiddenLabels
        self.hiddenLabelsByPatient = hiddenLabelsByPatient.filter { !$0.value.isEmpty }
        self.disclosed = disclosed
        self.dataRules = dataRules.filter { $0.value != .all }
    }

    /// `dataRules` in a stable order (for SQL).
    public var sortedDataRules: [(patient: String, rule: DataRule)] {
        dataRules.keys.sorted().map { ($0, dataRules[$0]!) }
    }

    /// May a resource of `type` in `compartments` with `labels` be seen? `entries` gives the
    /// resource's index entries when a data rule needs them (without it such a resource is
    /// refused: the rule cannot be checked).
    public func allows(type: String, compartments: [String], labels: [String] = [], id: String? = nil,
                       entries: (() -> [IndexEntry])? = nil) -> Bool {
        if labels.contains(where: { hiddenLabels.contains($0) }) { return false }
        if !dataRules.isEmpty {
            var computed: [IndexEntry]?
            for p in compartments {
                guard let rule = dataRules[p] else { continue }
                if rule.needsEntries {
                    guard let entries, let id else { return false }
                    if computed == nil { computed = entries() }
                }
                if !rule.matches(type: type, id: id ?? "", labels: labels, entries: computed ?? []) { return false }
            }
        }
        if !hiddenLabelsByPatient.isEmpty, !labels.isEmpty, !(id.map { disclosed.contains("\(type)/\($0)") } ?? false) {
            for p in compartments {
                if let hidden = hiddenLabelsByPatient[p], labels.contains(where: { hidden.contains($0) }) { return false }
            }
        }
        if let rule = typeRules[type] {
            if rule.needsEntries {
                guard let entries, let id else { return false }
                return rule.matches(type: type, id: id, labels: labels, entries: entries())
            }
            return rule.matches(type: type, id: id ?? "", labels: labels, entries: [])
        }
        if sharedTypes.contains(type) { return true }
        return compartments.contains { patients.contains($0) }
    }

    /// `hiddenLabelsByPatient` grouped by label set, in a stable order (for SQL).
    public var groupedPatientRules: [(patients: [String], labels: [String])] {
        var groups: [[String]: [String]] = [:]
        for (patient, labels) in hiddenLabelsByPatient { groups[labels.sorted(), default: []].append(patient) }
        return groups.keys.sorted { $0.joined(separator: " ") < $1.joined(separator: " ") }.map { (groups[$0]!.sorted(), $0) }
    }

    /// `hiddenLabelsByPatient` in a stable order (for SQL).
    public var perPatientRules: [(patient: String, labels: [String])] {
        hiddenLabelsByPatient.keys.sorted().map { ($0, hiddenLabelsByPatient[$0]!.sorted()) }
    }
}

public enum TotalMode: String, Sendable { case none, estimate, accurate }

/// `_sort` keys: a search parameter (or `_id`, `_lastUpdated`) and a direction.
public struct SortKey: Sendable, Equatable {
    public var parameter: String
    public var kind: IndexEntry.Kind?
    public var descending: Bool

    public init(parameter: String, kind: IndexEntry.Kind?, descending: Bool) {
        self.parameter = parameter
        self.kind = kind
        self.descending = descending
    }

    /// A sort key no request can name (`_sort` accepts search parameters, `_id` and
    /// `_lastUpdated` only): a resource's clinical date, whatever its type — the date parameters
    /// of `clinicalDateParameters` read together — so a search over several types (the portal's
    /// timeline) is ordered by when things happened, newest first when `descending`.
    public static let clinicalDate = "_clinicalDate"
    /// The R4 date parameters that hold a clinical date: `date` (Encounter, Observation,
    /// DiagnosticReport, Immunization, Procedure, AllergyIntolerance, CarePlan, Composition,
    /// DocumentReference …), Condition's `onset-date` and `recorded-date`, MedicationRequest's
    /// `authoredon`, MedicationStatement's `effective`.
    public static let clinicalDateParameters = ["date", "onset-date", "recorded-date", "authoredon", "effective"]

    public static func byClinicalDate(descending: Bool) -> SortKey {
        SortKey(parameter: clinicalDate, kind: .date, descending: descending)
    }
}

/// Where a page starts: the sort values and id of the last (or, backwards, first) row seen.
public struct SearchCursor: Sendable, Equatable {
    public enum Direction: String, Sendable { case next, previous }
    public var keys: [SortValue]
    public var type: String
    public var id: String
    public var direction: Direction

    public init(keys: [SortValue], type: String, id: String, direction: Direction) {
        self.keys = keys
        self.type = type
        self.id = id
        self.direction = direction
    }
}

/// A sort key value as it came out of the database (NULLs are mapped to sentinels so both
/// backends order them the same way).
public enum SortValue: Sendable, Equatable {
    case text(String)
    case number(Double)
}

/// `_include` / `_revinclude` (https://hl7.org/fhir/R4/search.html#include).
public struct IncludeSpec: Sendable, Equatable {
    /// The type holding the reference (`Observation` in `Observation:subject`).
    public var sourceType: String
    /// The reference search parameter, or `*` for all.
    public var parameter: String
    /// Optional target type (`Observation:subject:Patient`).
    public var targetType: String?
    public var iterate: Bool

    public init(sourceType: String, parameter: String, targetType: String?, iterate: Bool) {
        self.sourceType = sourceType
        self.parameter = parameter
        self.targetType = targetType
        self.iterate = iterate
    }
}

/// Comparison prefixes (https://hl7.org/fhir/R4/search.html#prefix).
public enum Prefix: String, Sendable, CaseIterable {
    case eq, ne, gt, lt, ge, le, sa, eb, ap
}

/// One condition on the resources searched.
public indirect enum SearchFilter: Sendable, Equatable {
    /// Any of these (comma-separated values).
    case anyOf([SearchFilter])
    case not(SearchFilter)
    case ids([String])
    case lastUpdated(Prefix, DateRange)
    /// token: nil system = any system; "" = no system; nil code = any code in the system.
    case token(parameter: String, system: String?, code: String?)
    /// `:text` on a token: starts-with on the normalized display / text.
    case tokenText(parameter: String, text: String)
    case string(parameter: String, value: String, match: StringMatch)
    /// reference by type and id (type nil: any type).
    case reference(parameter: String, type: String?, id: String)
    /// reference compared with what was written (absolute URLs, urn:uuid, canonicals).
    case referenceURL(parameter: String, url: String)
    case date(parameter: String, prefix: Prefix, range: DateRange)
    /// number and quantity: the search value's range and the value itself.
    case number(parameter: String, prefix: Prefix, value: Double, low: Double, high: Double)
    case quantity(parameter: String, prefix: Prefix, value: Double, low: Double, high: Double, system: String?, code: String?)
    case uri(parameter: String, value: String, match: URIMatch)
    /// `:missing=true` (true) or `:missing=false` (false).
    case missing(parameter: String, kind: IndexEntry.Kind, missing: Bool)
    /// composite: each component's condition on the same composite row.
    case composite(parameter: String, components: [SearchFilter])
    /// `subject:Patient.name=perez`: resources whose reference parameter points at a resource
    /// of one of `targetTypes` satisfying `filter`.
    case chain(parameter: String, targetTypes: [String], filter: SearchFilter)
    /// `_has:Observation:patient:code=1234`: resources referenced by a `type` resource's
    /// `parameter` where that resource satisfies `filter`.
    case has(type: String, parameter: String, filter: SearchFilter)
    /// `_content` / `_text`: best-effort substring match on the stored JSON / narrative.
    case content(String, narrativeOnly: Bool)

    public enum StringMatch: String, Sendable { case startsWith, exact, contains }
    public enum URIMatch: String, Sendable { case exact, below, above }
}

/// What a search returns: the page of matches, the included resources, and what paging needs.
public struct SearchResult: Sendable {
    public var matches: [StoredResource]
    public var included: [StoredResource]
    public var total: Int?
    /// Sort values of each match (same order), for building cursors.
    public var sortValues: [[SortValue]]
    /// True when there are more results after the page (in the direction of travel).
    public var hasMore: Bool
    /// True when there are results before the page.
    public var hasPrevious: Bool

    public init(matches: [StoredResource], included: [StoredResource], total: Int?, sortValues: [[SortValue]], hasMore: Bool, hasPrevious: Bool) {
        self.matches = matches
        self.included = included
        self.total = total
        self.sortValues = sortValues
        self.hasMore = hasMore
        self.hasPrevious = hasPrevious
    }
}
