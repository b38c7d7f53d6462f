import FHIR
import Foundation

/// One measured value of an Observation, as the alert rules, `$stats` and the charts see it:
/// the LOINC code (the first LOINC coding; else the first coding), the number, its UCUM unit and
/// the time (`effectiveDateTime`, `effectiveInstant` or the start of `effectivePeriod`). A blood
/// pressure panel gives one reading per component (`components`).
public struct VitalReading: Sendable, Equatable {
    public var code: String
    public var system: String
    public var value: Double
    public var unit: String
    public var time: Timestamp
    /// The patient id of `subject` (nil when the subject is not a Patient).
    public var patient: String?
    /// Component readings (systolic, diastolic), with the Observation's time.
    public var components: [VitalReading]
    /// The glucose reading's relationship to a meal (OMH `temporal_relationship_to_meal`), if known.
    public var meal: String?

    public init?(_ observation: JSON) {
        guard observation["resourceType"]?.stringValue == "Observation" else { return nil }
        let status = observation["status"]?.stringValue
        guard status != "entered-in-error", status != "cancelled" else { return nil }
        guard case let (system, code)? = VitalReading.code(observation["code"]) else { return nil }
        let t = observation["effectiveDateTime"]?.stringValue ?? observation["effectiveInstant"]?.stringValue
            ?? observation["effectivePeriod"]?["start"]?.stringValue
        guard let t, let time = Timestamp(instant: t) ?? DateRange(t).map({ Timestamp(microseconds: $0.low * 1000) }) else { return nil }
        self.code = code
        self.system = system
        self.time = time
        let subject = observation["subject"]?["reference"]?.stringValue ?? ""
        patient = subject.hasPrefix("Patient/") ? String(subject.dropFirst("Patient/".count)) : nil
        meal = (observation["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == OpenMHealth.mealExtension }?["valueCode"]?.stringValue
        components = []
        for c in observation["component"]?.arrayValue ?? [] {
            guard case let (s, k)? = VitalReading.code(c["code"]), case let (v, u)? = VitalReading.quantity(c["valueQuantity"]) else { continue }
            components.append(VitalReading(code: k, system: s, value: v, unit: u, time: time, patient: patient))
        }
        if case let (v, u)? = VitalReading.quantity(observation["valueQuantity"]) {
            value = v
            unit = u
        } else if !components.isEmpty {
            value = .nan
            unit = ""
        } else {
            return nil
        }
    }

    init(code: String, system: String, value: Double, unit: String, time: Timestamp, patient: String?) {
        self.code = code
        self.system = system
        self.value = value
        self.unit = unit
        self.time = time
        self.patient = patient
        self.components = []
    }

    /// Does the Observation carry a number of its own (not only components)?
    public var hasValue: Bool { !value.isNaN }

    /// This reading and its components, each with its own code.
    public var all: [VitalReading] { (hasValue ? [self] : []) + components }

    static func code(_ concept: JSON?) -> (String, String)? {
        let codings = concept?["coding"]?.arrayValue ?? []
        let chosen = codings.first { $0["system"]?.stringValue == "http://loinc.org" } ?? codings.first
        guard let c = chosen, let code = c["code"]?.stringValue else { return nil }
        return (c["system"]?.stringValue ?? "", code)
    }

    static func quantity(_ q: JSON?) -> (Double, String)? {
        guard let q, let v = Number.double(q["value"]) else { return nil }
        return (v, q["code"]?.stringValue ?? q["unit"]?.stringValue ?? "")
    }
}
