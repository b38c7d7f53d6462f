import FHIR
import Foundation
import Storage

/// Puts HL7 v3 sensitivity labels (`http://terminology.hl7.org/CodeSystem/v3-ActCode`) on
/// resources as they are stored, from the codes they carry: CIE-10/ICD-10 ranges, LOINC and
/// SNOMED CT codes (docs/privacy-policy.md). The rules are data: `SensitivityLabeler(rules:)` replaces them.
///
/// It also files Enlace's privacy records (Tasks of consent requests, break-the-glass reviews
/// and disclosures) in the compartment of the patient they are `for`: R4 leaves Task out of the
/// Patient compartment, and these records must be as private as the data they are about.
public struct SensitivityLabeler: ResourceLabeler {
    public struct Rule: Sendable, Equatable {
        public enum Match: Sendable, Equatable {
            /// ICD-10 / CIE-10 codes from `low` to `high` (category level, e.g. `F00`…`F99`).
            case icd10(low: String, high: String)
            /// Exact codes of a code system (LOINC, SNOMED CT…).
            case codes(system: String, codes: [String])
        }
        public var match: Match
        public var labels: [String]

        public init(_ match: Match, labels: [String]) {
            self.match = match
            self.labels = labels
        }
    }

    public static let loinc = "http://loinc.org"
    public static let snomed = "http://snomed.info/sct"

    /// The default set (docs/privacy-policy.md).
    public static let defaultRules: [Rule] = [
        Rule(.icd10(low: "F10", high: "F19"), labels: ["ETH", "SUD"]),        // substance use
        Rule(.icd10(low: "F00", high: "F09"), labels: ["MH"]),                // mental health
        Rule(.icd10(low: "F20", high: "F99"), labels: ["MH"]),
        Rule(.icd10(low: "B20", high: "B24"), labels: ["HIV"]),
        Rule(.icd10(low: "Z21", high: "Z21"), labels: ["HIV"]),
        Rule(.icd10(low: "A50", high: "A64"), labels: ["STD"]),
        Rule(.icd10(low: "O00", high: "O99"), labels: ["SEX"]),               // pregnancy, childbirth
        Rule(.icd10(low: "Z30", high: "Z39"), labels: ["SEX"]),               // contraception, reproduction
        Rule(.icd10(low: "Q90", high: "Q99"), labels: ["GDIS"]),              // chromosomal abnormalities
        Rule(.codes(system: loinc, codes: ["51969-4", "81247-9", "69548-6", "48018-6", "55232-3", "53037-8", "81290-9"]), labels: ["GDIS"]),
        Rule(.codes(system: loinc, codes: ["7917-8", "75622-1", "25836-8", "56888-1", "68961-2", "5221-7"]), labels: ["HIV"]),
        Rule(.codes(system: loinc, codes: ["20507-0", "5292-8", "43304-5", "21613-5"]), labels: ["STD"]),   // syphilis, chlamydia
        Rule(.codes(system: loinc, codes: ["44249-1", "89204-2"]), labels: ["MH"]),                        // PHQ-9
        Rule(.codes(system: loinc, codes: ["72109-2", "75626-2"]), labels: ["ETH"]),                       // AUDIT-C
        Rule(.codes(system: snomed, codes: ["86406008", "165816005"]), labels: ["HIV"]),
        Rule(.codes(system: snomed, codes: ["35489007", "58214004", "13746004", "69322001"]), labels: ["MH"]),
        Rule(.codes(system: snomed, codes: ["66590003", "7200002", "26416006"]), labels: ["ETH", "SUD"]),
        Rule(.codes(system: snomed, codes: ["405825005", "116148004"]), labels: ["GDIS"]),
    ]

    public var rules: [Rule] { didSet { lookup = Lookup(rules) } }
    /// `rules` arranged for one lookup per coding (rebuilt when `rules` changes): the labeller
    /// runs on every coding of every stored resource.
    private var lookup: Lookup

    struct Lookup: Sendable {
        /// system → code → indexes of the `.codes` rules listing it, in rule order
        var codes: [String: [String: [Int]]] = [:]
        /// the `.icd10` rules: (low, high, rule index), in rule order
        var ranges: [(low: String, high: String, rule: Int)] = []

        init(_ rules: [Rule]) {
            for (i, r) in rules.enumerated() {
                switch r.match {
                case .icd10(let low, let high): ranges.append((low, high, i))
                case .codes(let system, let list):
                    for c in Set(list) { codes[system, default: [:]][c, default: []].append(i) }
                }
            }
        }
    }
    /// Types never labelled from their codes (privacy records and the audit trail).
    public var skippedTypes: Set<String> = ["Consent", "Task", "Communication", "Provenance", "AuditEvent", "CodeSystem", "ValueSet", "ConceptMap"]

    public init(rules: [Rule] = SensitivityLabeler.defaultRules) {
        self.rules = rules
        lookup = Lookup(rules)
    }

    static func isICD10(_ system: String) -> Bool {
        // ASCII (every real code system URI): fold once, compare bytes. Foundation's
        // `contains` is a locale-aware search (CFStringFindWithOptionsAndLocale) and showed in
        // the import profile, once per rule per coding.
        var folded: [UInt8] = []
        folded.reserveCapacity(system.utf8.count)
        for b in system.utf8 {
            if b >= 0x80 {
                let s = system.lowercased()
                return s.contains("icd-10") || s.contains("icd10") || s.contains("cie-10") || s.contains("cie10") || s == "urn:oid:2.16.840.1.113883.6.3"
            }
            folded.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b)
        }
        return icd10Markers.contains { marker in folded.firstRange(of: marker) != nil } || folded.elementsEqual("urn:oid:2.16.840.1.113883.6.3".utf8)
    }

    static let icd10Markers: [[UInt8]] = ["icd-10", "icd10", "cie-10", "cie10"].map { Array($0.utf8) }

    /// `F32.1` → `F32` (category), uppercased.
    static func category(_ code: String) -> String {
        String(code.uppercased().prefix(3))
    }

    /// The labels of the rules a coding matches, in rule order. The system is classified and the
    /// code folded once per coding, then compared as plain strings (no per-rule re-folding).
    public func labels(system: String, code: String) -> [String] {
        var matched: [Int] = lookup.codes[system]?[code] ?? []
        if !lookup.ranges.isEmpty, SensitivityLabeler.isICD10(system) {
            let c = SensitivityLabeler.category(code)
            if c.count == 3 {
                for r in lookup.ranges where c >= r.low && c <= r.high { matched.append(r.rule) }
            }
        }
        if matched.isEmpty { return [] }
        if matched.count > 1 { matched.sort() }
        var out: [String] = []
        for i in matched { out += rules[i].labels }
        return out
    }

    public func securityLabels(for resource: JSON, type: String) -> [SecurityLabel] {
        guard !skippedTypes.contains(type) else { return [] }
        var found: [String] = []
        func walk(_ node: JSON, _ key: String) {
            switch node {
            case .array(let items): for i in items { walk(i, key) }
            case .object(let members):
                if key != "meta", let system = node["system"]?.stringValue, let code = node["code"]?.stringValue {
                    for l in labels(system: system, code: code) where !found.contains(l) { found.append(l) }
                }
                for (k, v) in members where k != "meta" && k != "text" { walk(v, k) }
            default: break
            }
        }
        walk(resource, "")
        return found.map { SecurityLabel(system: PrivacyCodes.actCode, code: $0) }
    }

    public func extraCompartments(for resource: JSON, type: String) -> [String] {
        guard type == "Task", let ref = resource["for"]?["reference"]?.stringValue, ref.hasPrefix("Patient/") else { return [] }
        let id = String(ref.dropFirst(8))
        return Repository.isValidID(id) ? [id] : []
    }
}
