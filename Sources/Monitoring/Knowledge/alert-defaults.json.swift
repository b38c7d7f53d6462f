/// `alert-defaults.json`: the default alert targets, used when the patient has no active `Goal`
/// for the code (docs/monitoring.md, "Thresholds and their sources"). Versioned data, not code:
/// a change of threshold is a new `version`, and every alert's Provenance names the version
/// that decided it. A range is in target when `low ≤ value ≤ high` (`highExclusive`: `< high`);
/// outside it the alert has `priority`, beyond `critical` it has `criticalPriority`.
let alertDefaultsJSON = #"""
{
  "id": "enlace-alert-defaults",
  "url": "https://enlace.mx/fhir/knowledge/alert-defaults",
  "version": "2026.1",
  "publisher": "Enlace",
  "rules": [
    {
      "id": "glucose-fasting", "code": "2339-0", "aliases": ["41653-7", "2345-7"], "unit": "mg/dL", "meal": ["fasting", "before-breakfast", "before-meal", "before-lunch", "before-dinner"],
      "low": 70, "high": 130, "critical": {"low": 54, "high": 300}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-015-SSA2-2010 (diabetes mellitus), metas de control: glucosa en ayuno 70-130 mg/dL; < 70 mg/dL es hipoglucemia",
      "display": {"es": "Glucosa en ayuno", "en": "Fasting glucose"}
    },
    {
      "id": "glucose", "code": "2339-0", "aliases": ["41653-7", "2345-7"], "unit": "mg/dL",
      "low": 70, "high": 180, "highExclusive": true, "critical": {"low": 54, "high": 300}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-015-SSA2-2010 (diabetes mellitus), metas de control: glucosa posprandial < 180 mg/dL; < 70 mg/dL es hipoglucemia",
      "display": {"es": "Glucosa", "en": "Glucose"}
    },
    {
      "id": "glucose-fasting-mmol", "code": "15074-8", "unit": "mmol/L", "meal": ["fasting", "before-breakfast", "before-meal", "before-lunch", "before-dinner"],
      "low": 3.9, "high": 7.2, "critical": {"low": 3.0, "high": 16.7}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-015-SSA2-2010, the same targets in mmol/L (1 mmol/L = 18 mg/dL)",
      "display": {"es": "Glucosa en ayuno", "en": "Fasting glucose"}
    },
    {
      "id": "glucose-mmol", "code": "15074-8", "unit": "mmol/L",
      "low": 3.9, "high": 10.0, "highExclusive": true, "critical": {"low": 3.0, "high": 16.7}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-015-SSA2-2010, the same targets in mmol/L (1 mmol/L = 18 mg/dL)",
      "display": {"es": "Glucosa", "en": "Glucose"}
    },
    {
      "id": "systolic", "code": "8480-6", "unit": "mm[Hg]",
      "high": 140, "highExclusive": true, "critical": {"high": 180}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-030-SSA2-2009 (hipertensión arterial sistémica): hipertensión desde 140/90 mmHg",
      "display": {"es": "Presión sistólica", "en": "Systolic pressure"}
    },
    {
      "id": "diastolic", "code": "8462-4", "unit": "mm[Hg]",
      "high": 90, "highExclusive": true, "critical": {"high": 120}, "priority": "routine", "criticalPriority": "urgent",
      "source": "NOM-030-SSA2-2009 (hipertensión arterial sistémica): hipertensión desde 140/90 mmHg",
      "display": {"es": "Presión diastólica", "en": "Diastolic pressure"}
    },
    {
      "id": "oxygen-saturation", "code": "59408-5", "aliases": ["2708-6"], "unit": "%",
      "low": 90, "critical": {"low": 85}, "priority": "urgent", "criticalPriority": "stat",
      "source": "WHO, Oxygen therapy for children (2016): SpO2 < 90 % is hypoxaemia and needs oxygen",
      "display": {"es": "Saturación de oxígeno", "en": "Oxygen saturation"}
    }
  ]
}
"""#
