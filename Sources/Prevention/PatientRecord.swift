import FHIR
import Foundation

/// The part of one patient's record prevention reads, as FHIR resources (whatever institution
/// wrote them), and the facts the engines take from it.
public struct PatientRecord: Sendable {
    public var patient: JSON
    public var immunizations: [JSON] = []
    public var observations: [JSON] = []
    public var procedures: [JSON] = []
    public var conditions: [JSON] = []
    public var allergies: [JSON] = []
    public var medications: [JSON] = []
    public var familyHistory: [JSON] = []

    /// The types read, for the search and for the consumer's filter.
    public static let types = ["Immunization", "Observation", "Procedure", "Condition", "AllergyIntolerance",
                               "MedicationStatement", "MedicationRequest", "FamilyMemberHistory"]

    public init(patient: JSON) { self.patient = patient }

    public var id: String { patient["id"]?.stringValue ?? "" }

    public mutating func add(_ resource: JSON) {
        switch resource["resourceType"]?.stringValue {
        case "Immunization": immunizations.append(resource)
        case "Observation": observations.append(resource)
        case "Procedure": procedures.append(resource)
        case "Condition": conditions.append(resource)
        case "AllergyIntolerance": allergies.append(resource)
        case "MedicationStatement", "MedicationRequest": medications.append(resource)
        case "FamilyMemberHistory": familyHistory.append(resource)
        default: break
        }
    }

    static func ref(_ r: JSON) -> String { "\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")" }

    static func codes(_ cc: JSON?) -> [Code] {
        (cc?["coding"]?.arrayValue ?? []).compactMap { c in
            guard let s = c["system"]?.stringValue, let v = c["code"]?.stringValue else { return nil }
            return Code(s, v)
        }
    }

    static func date(_ r: JSON, _ keys: String...) -> CivilDate? {
        for k in keys {
            if let s = r[k]?.stringValue, let d = CivilDate(fhir: s) { return d }
            if let s = r[k]?["start"]?.stringValue, let d = CivilDate(fhir: s) { return d }
        }
        return nil
    }

    /// Where: the performer's (or location's) display, else its reference.
    static func place(_ r: JSON) -> String? {
        for p in r["performer"]?.arrayValue ?? [] {
            let actor = p["actor"] ?? p
            if let d = actor["display"]?.stringValue { return d }
        }
        if let d = r["location"]?["display"]?.stringValue { return d }
        if let d = r["performer"]?.arrayValue?.first?["actor"]?["reference"]?.stringValue { return d }
        return r["location"]?["reference"]?.stringValue
    }

    static func isActive(_ r: JSON) -> Bool {
        let clinical = r["clinicalStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        let verification = r["verificationStatus"]?["coding"]?.arrayValue?.first?["code"]?.stringValue
        return (clinical == nil || clinical == "active" || clinical == "recurrence" || clinical == "relapse")
            && verification != "refuted" && verification != "entered-in-error"
    }

    /// The engine's input for `asOf` (nil: no usable birth date).
    public func scheduleInput(asOf: CivilDate) -> PreventionInput? {
        guard let birth = patient["birthDate"]?.stringValue.flatMap(CivilDate.init(fhir:)) else { return nil }
        var input = PreventionInput(birthDate: birth, sex: patient["gender"]?.stringValue, asOf: asOf)
        for r in immunizations {
            let status = r["status"]?.stringValue ?? "completed"
            guard status != "entered-in-error", let d = PatientRecord.date(r, "occurrenceDateTime", "recorded") else { continue }
            input.immunizations.append(RecordEvent(reference: PatientRecord.ref(r), date: d, codes: PatientRecord.codes(r["vaccineCode"]),
                                                   place: PatientRecord.place(r), status: status,
                                                   reason: r["statusReason"]?["coding"]?.arrayValue?.first?["code"]?.stringValue,
                                                   subpotent: r["isSubpotent"]?.boolValue ?? false))
        }
        for r in observations {
            let status = r["status"]?.stringValue ?? "final"
            guard ["final", "amended", "corrected", "preliminary"].contains(status),
                  let d = PatientRecord.date(r, "effectiveDateTime", "effectivePeriod", "issued") else { continue }
            input.results.append(RecordEvent(reference: PatientRecord.ref(r), date: d, codes: PatientRecord.codes(r["code"]), place: PatientRecord.place(r)))
        }
        for r in procedures {
            guard r["status"]?.stringValue == "completed" || r["status"] == nil,
                  let d = PatientRecord.date(r, "performedDateTime", "performedPeriod") else { continue }
            input.results.append(RecordEvent(reference: PatientRecord.ref(r), date: d, codes: PatientRecord.codes(r["code"]), place: PatientRecord.place(r)))
        }
        for r in allergies where PatientRecord.isActive(r) {
            input.allergies.append((PatientRecord.ref(r), PatientRecord.codes(r["code"])))
        }
        if case let (ref, since)? = pregnancy(asOf: asOf) {
            input.pregnancy = ref
            input.pregnancySince = since
        }
        return input
    }

    /// An active pregnancy: a Condition (SNOMED 77386006, CIE-10 Z33/Z34) or a pregnancy-status
    /// Observation (LOINC 82810-3 = 77386006) of the last 10 months.
    func pregnancy(asOf: CivilDate) -> (String, CivilDate)? {
        let cutoff = asOf.adding(.months(-10))
        for r in conditions where PatientRecord.isActive(r) {
            let codes = PatientRecord.codes(r["code"])
            let pregnant = codes.contains { ($0.system == Code.snomed && $0.code == "77386006") || (($0.system.contains("icd-10") || $0.system.contains("cie-10")) && ($0.code.hasPrefix("Z33") || $0.code.hasPrefix("Z34"))) }
            let onset = PatientRecord.date(r, "onsetDateTime", "recordedDate") ?? asOf
            if pregnant, onset >= cutoff, onset <= asOf, r["abatementDateTime"] == nil { return (PatientRecord.ref(r), onset) }
        }
        let status = observations.filter { PatientRecord.codes($0["code"]).contains(Code(Code.loinc, "82810-3")) }
            .compactMap { o -> (CivilDate, JSON)? in PatientRecord.date(o, "effectiveDateTime", "issued").map { ($0, o) } }
            .filter { $0.0 <= asOf && $0.0 >= cutoff }
            .max { $0.0 < $1.0 }
        if case let (d, o)? = status, PatientRecord.codes(o["valueCodeableConcept"]).contains(Code(Code.snomed, "77386006")) { return (PatientRecord.ref(o), d) }
        return nil
    }
}
