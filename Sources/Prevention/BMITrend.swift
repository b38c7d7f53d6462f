import FHIR
import Foundation

/// The body-mass-index history of a record, for the trend chart on *Mi prevención* and the
/// clinician's prevention page (docs/prevention.md, "BMI trend"): every BMI Observation (LOINC
/// 39156-5, kg/m²) up to a date, oldest first, one point a day (the latest recorded that day).
/// The WHO adult bands drawn beside it: < 18.5 underweight, 18.5–24.9 normal, 25–29.9
/// overweight, ≥ 30 obesity (WHO, *Obesity: preventing and managing the global epidemic*, TRS 894,
/// 2000; adopted by NOM-008-SSA3-2017). For children the bands do not apply (WHO growth charts use
/// BMI-for-age); the points are still drawn, the bands are not.
public enum BMITrend {
    public struct Point: Sendable, Equatable {
        public var date: CivilDate
        public var value: Double
        public var reference: String
        public init(date: CivilDate, value: Double, reference: String) {
            self.date = date
            self.value = value
            self.reference = reference
        }
    }

    /// The WHO adult cut-offs, kg/m².
    public static let bands: [Double] = [18.5, 25, 30]

    /// At most this many points (the newest).
    public static let maxPoints = 24

    /// The points of `record` on or before `asOf`: final, amended or corrected BMI Observations
    /// with a value in a plausible range (5–100 kg/m²), one a day, oldest first, the newest
    /// `maxPoints`.
    public static func points(_ record: PatientRecord, asOf: CivilDate) -> [Point] {
        var byDay: [CivilDate: (String, Point)] = [:]
        for o in record.observations {
            guard ["final", "amended", "corrected"].contains(o["status"]?.stringValue ?? "final"),
                  PatientRecord.codes(o["code"]).contains(Code(Code.loinc, "39156-5")),
                  let d = PatientRecord.date(o, "effectiveDateTime", "effectivePeriod", "issued"), d <= asOf,
                  let v = FINDRISC.quantity(o["valueQuantity"]), v >= 5, v <= 100 else { continue }
            // the latest recorded that day wins (then the reference, for a stable choice)
            let stamp = (o["meta"]?["lastUpdated"]?.stringValue ?? "") + PatientRecord.ref(o)
            if let old = byDay[d], old.0 >= stamp { continue }
            byDay[d] = (stamp, Point(date: d, value: v, reference: PatientRecord.ref(o)))
        }
        return Array(byDay.values.map(\.1).sorted { $0.date < $1.date }.suffix(maxPoints))
    }

    /// The WHO adult category of a value.
    public static func category(_ v: Double) -> Localized {
        switch v {
        case ..<18.5: return Localized("bajo peso", "underweight")
        case ..<25: return Localized("peso normal", "normal weight")
        case ..<30: return Localized("sobrepeso", "overweight")
        default: return Localized("obesidad", "obesity")
        }
    }
}
