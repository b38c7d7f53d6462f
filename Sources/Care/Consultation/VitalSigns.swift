import FHIR
import Foundation

/// The vital signs a consultation records (docs/care.md#vital-signs-knowledge): LOINC code and
/// UCUM unit as the FHIR R4 vital signs profile names them
/// (https://hl7.org/fhir/R4/observation-vitalsigns.html), and the **limits of plausibility** a
/// value must fall within to be stored — not normal ranges, but the edge of what a person can
/// measure at a visit, so a typing slip (a blood pressure of 400, a temperature of 375) is
/// caught before it enters the record. Versioned knowledge; each limit cites its source.
public struct VitalSign: Sendable, Equatable {
    /// The form field (Spanish, as the portal names it).
    public var key: String
    public var loinc: String
    /// The LOINC display.
    public var display: String
    public var spanish: String
    public var english: String
    /// UCUM code (http://unitsofmeasure.org).
    public var unit: String
    /// The unit as people read it.
    public var unitDisplay: String
    public var low: Decimal
    public var high: Decimal
    public var source: String
}

public struct VitalSignLimits: Sendable {
    public var version: String
    public var signs: [VitalSign]

    /// LOINC 85354-9, the blood pressure panel whose components are the systolic and diastolic
    /// pressures (the vital signs profile's blood pressure).
    public static let bloodPressurePanel = (code: "85354-9", display: "Blood pressure panel with all children optional")

    public func sign(_ key: String) -> VitalSign? { signs.first { $0.key == key } }

    /// Version 2026.12.1. The limits were chosen by Enlace from the sources named; they should be
    /// reviewed by a clinician before they are relied on (docs/care.md).
    public static let embedded = VitalSignLimits(
        version: "2026.12.1",
        signs: [
            VitalSign(key: "peso", loinc: "29463-7", display: "Body weight", spanish: "Peso", english: "Weight", unit: "kg", unitDisplay: "kg",
                      low: 0.3, high: 400,
                      source: "WHO Child Growth Standards (a live newborn weighs more than 0.3 kg); the heaviest adults recorded weigh under 650 kg, "
                        + "an outpatient scale weighs up to 300–400 kg"),
            VitalSign(key: "talla", loinc: "8302-2", display: "Body height", spanish: "Talla", english: "Height", unit: "cm", unitDisplay: "cm",
                      low: 20, high: 275,
                      source: "WHO Child Growth Standards (length at birth above 20 cm even at extreme prematurity); the tallest person measured, 272 cm"),
            VitalSign(key: "sistolica", loinc: "8480-6", display: "Systolic blood pressure", spanish: "Presión sistólica", english: "Systolic pressure",
                      unit: "mm[Hg]", unitDisplay: "mmHg", low: 40, high: 300,
                      source: "Muntner et al., Measurement of Blood Pressure in Humans, AHA Scientific Statement, Hypertension 2019;73:e35 "
                        + "(the scale of clinical sphygmomanometers ends at 300 mmHg; below 40 mmHg there is no palpable pulse to measure)"),
            VitalSign(key: "diastolica", loinc: "8462-4", display: "Diastolic blood pressure", spanish: "Presión diastólica", english: "Diastolic pressure",
                      unit: "mm[Hg]", unitDisplay: "mmHg", low: 20, high: 200,
                      source: "Muntner et al., Hypertension 2019;73:e35; NOM-030-SSA2-2017 (hypertension); the diastolic is below the systolic"),
            VitalSign(key: "frecuencia", loinc: "8867-4", display: "Heart rate", spanish: "Frecuencia cardiaca", english: "Heart rate",
                      unit: "/min", unitDisplay: "lpm", low: 20, high: 300,
                      source: "AHA 2020 guidelines for CPR and ECC (bradycardia and tachyarrhythmia algorithms); rates outside 20–300/min are not counted at a visit"),
            VitalSign(key: "temperatura", loinc: "8310-5", display: "Body temperature", spanish: "Temperatura", english: "Temperature",
                      unit: "Cel", unitDisplay: "°C", low: 25, high: 45,
                      source: "ISO 80601-2-56 (clinical thermometers); survival beyond 25–45 °C core temperature is exceptional and not met in a consulting room"),
            VitalSign(key: "glucosa", loinc: "2339-0", display: "Glucose [Mass/volume] in Blood", spanish: "Glucosa", english: "Glucose",
                      unit: "mg/dL", unitDisplay: "mg/dL", low: 10, high: 2000,
                      source: "ADA Standards of Care in Diabetes 2025, sec. 6 and 16 (hypoglycaemia below 54 mg/dL, hyperosmolar states above 600 mg/dL); "
                        + "NOM-015-SSA2-2010"),
        ])
}
