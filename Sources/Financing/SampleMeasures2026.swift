/// The quality measures Enlace evaluates (FHIR R4 Measure), version 2026.1 (docs/financing.md,
/// "Data sources"). Modelled on NCQA HEDIS *Hemoglobin A1c Control for Patients With Diabetes*
/// (HbA1c < 7 % is the stricter of its thresholds, and the target of the NOM-015-SSA2-2010 for
/// diabetes) and *Controlling High Blood Pressure* (< 140/90 mmHg, also the NOM-030-SSA2-2009
/// control target). The logic is Enlace's own Swift (`MeasureEvaluator`), not CQL.
enum SampleMeasures2026 {
    static let json = #"""
    [
      {"resourceType": "Measure", "id": "diabetes-hba1c-control", "url": "https://enlace.mx/fhir/Measure/diabetes-hba1c-control",
       "version": "2026.1", "name": "DiabetesHbA1cControl", "status": "active",
       "title": "Diabéticos con HbA1c < 7 % en los últimos 12 meses",
       "description": "Proporción de pacientes con diabetes mellitus tipo 2 (CIE-10 E11) activa cuya HbA1c (LOINC 4548-4) más reciente de los 12 meses que terminan al final del periodo es menor de 7 %. / Share of patients with active type 2 diabetes whose most recent HbA1c in the 12 months ending at the end of the period is below 7 %.",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Pacientes con diagnóstico activo CIE-10 E11.x registrado antes del fin del periodo", "criteria": {"language": "text/plain", "expression": "Condition E11.x active"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "HbA1c más reciente de los últimos 12 meses < 7 %", "criteria": {"language": "text/plain", "expression": "last Observation 4548-4 in [end-12 months, end] < 7 %"}}]}]},
      {"resourceType": "Measure", "id": "hypertension-control", "url": "https://enlace.mx/fhir/Measure/hypertension-control",
       "version": "2026.1", "name": "HypertensionControl", "status": "active",
       "title": "Hipertensos controlados (< 140/90 mmHg)",
       "description": "Proporción de pacientes con hipertensión esencial (CIE-10 I10) activa cuya presión arterial más reciente de los 12 meses que terminan al final del periodo es menor de 140/90 mmHg (sistólica LOINC 8480-6 y diastólica 8462-4). / Share of patients with active essential hypertension whose most recent blood pressure is below 140/90 mmHg.",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Pacientes con diagnóstico activo CIE-10 I10", "criteria": {"language": "text/plain", "expression": "Condition I10 active"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Sistólica más reciente < 140 y diastólica más reciente < 90 mmHg", "criteria": {"language": "text/plain", "expression": "last 8480-6 < 140 and last 8462-4 < 90"}}]}]}
    ]
    """#
}
