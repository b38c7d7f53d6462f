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
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Sistólica más reciente < 140 y diastólica más reciente < 90 mmHg", "criteria": {"language": "text/plain", "expression": "last 8480-6 < 140 and last 8462-4 < 90"}}]}]},
      {"resourceType": "Measure", "id": "childhood-immunization-24m", "url": "https://enlace.mx/fhir/Measure/childhood-immunization-24m",
       "version": "2026.1", "name": "ChildhoodImmunization24Months", "status": "active",
       "title": "Esquema de vacunación completo a los 24 meses (Cartilla Nacional de Salud)",
       "description": "Proporción de niñas y niños que cumplen 2 años en el periodo y que para ese día tienen todas las dosis de la Cartilla Nacional de Salud 2024 debidas a los 24 meses (BCG 1, hepatitis B 1, hexavalente 4, rotavirus 2, neumocócica conjugada 3, SRP 2; influenza estacional excluida). / Share of children turning 2 in the period who by then had every Cartilla dose due by 24 months.",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "extension": [{"url": "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-populationBasis", "valueCode": "boolean"}],
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Pacientes cuyo segundo cumpleaños cae en el periodo", "criteria": {"language": "text/plain", "expression": "Pacientes cuyo segundo cumpleaños cae en el periodo"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Todas las series de la Cartilla debidas a los 24 meses completas al segundo cumpleaños", "criteria": {"language": "text/plain", "expression": "Immunization completed, CVX per series, on or before the second birthday"}}]}]},
      {"resourceType": "Measure", "id": "continuity-of-care", "url": "https://enlace.mx/fhir/Measure/continuity-of-care",
       "version": "2026.1", "name": "ContinuityOfCare", "status": "active",
       "title": "Continuidad de la atención: consultas con su propio médico o equipo de familia",
       "description": "Proporción de las consultas (ambulatorias, virtuales o a domicilio, concluidas, iniciadas en el periodo) de pacientes con médico o equipo de familia asignado (Patient.generalPractitioner o CareTeam activo) en las que participó ese médico o equipo. La base es la consulta (Encounter). / Share of visits of patients with an assigned family doctor or team in which that doctor or team took part; the basis is the visit.",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "extension": [{"url": "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-populationBasis", "valueCode": "Encounter"}],
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Consultas concluidas del periodo de pacientes con médico o equipo de familia", "criteria": {"language": "text/plain", "expression": "Consultas concluidas del periodo de pacientes con médico o equipo de familia"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Un participante (o la unidad que atiende) es el médico o equipo de familia del paciente", "criteria": {"language": "text/plain", "expression": "Encounter.participant.individual or serviceProvider in generalPractitioner or active CareTeam members"}}]}]},
      {"resourceType": "Measure", "id": "follow-up-after-discharge-7d", "url": "https://enlace.mx/fhir/Measure/follow-up-after-discharge-7d",
       "version": "2026.1", "name": "FollowUpAfterDischarge7Days", "status": "active",
       "title": "Seguimiento dentro de los 7 días posteriores al egreso hospitalario",
       "description": "Proporción de egresos hospitalarios del periodo (Encounter de hospitalización concluido cuyo periodo termina en el periodo) seguidos por una consulta del mismo paciente (ambulatoria, virtual o a domicilio) que inicia dentro de los 7 días posteriores al día del egreso. Modelado sobre HEDIS Follow-Up After Hospitalization (7 días). La base es el egreso. / Share of hospital discharges followed by a visit within 7 days; after HEDIS FUH (7-day).",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "extension": [{"url": "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-populationBasis", "valueCode": "Encounter"}],
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Egresos hospitalarios del periodo", "criteria": {"language": "text/plain", "expression": "Egresos hospitalarios del periodo"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Consulta del mismo paciente que inicia entre el día del egreso y 7 días después", "criteria": {"language": "text/plain", "expression": "Encounter class AMB|VR|HH start in [discharge day, discharge day + 7]"}}]}]},
      {"resourceType": "Measure", "id": "patient-experience", "url": "https://enlace.mx/fhir/Measure/patient-experience",
       "version": "2026.1", "name": "PatientExperience", "status": "active",
       "title": "Experiencia del paciente: respuestas favorables al cuestionario de 5 preguntas",
       "description": "Proporción de las respuestas completas al cuestionario Questionnaire/experiencia-atencion (5 preguntas, escala 1 a 5) del periodo cuyo promedio es 4 o más (bueno o muy bueno: puntaje top-box). Contestar es opcional y nunca cambia la atención. La base es la respuesta. / Share of completed answers to the five-question experience questionnaire whose mean is 4 or more (top-box); answering is optional and never affects care.",
       "scoring": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-scoring", "code": "proportion"}]},
       "extension": [{"url": "http://hl7.org/fhir/us/cqfmeasures/StructureDefinition/cqfm-populationBasis", "valueCode": "QuestionnaireResponse"}],
       "improvementNotation": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-improvement-notation", "code": "increase"}]},
       "group": [{"population": [
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "initial-population"}]}, "description": "Respuestas completas al cuestionario de experiencia en el periodo", "criteria": {"language": "text/plain", "expression": "Respuestas completas al cuestionario de experiencia en el periodo"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "denominator"}]}, "description": "La población inicial", "criteria": {"language": "text/plain", "expression": "initial-population"}},
         {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/measure-population", "code": "numerator"}]}, "description": "Promedio de las respuestas de 4 o más", "criteria": {"language": "text/plain", "expression": "mean(answers) >= 4"}}]}]}
    ]
    """#
}
