import FHIR
import Foundation

/// The validity windows of the duplicate-study check: per group of equivalent tests (LOINC codes
/// that answer the same clinical question), how long an earlier result makes a new order a
/// probable repetition. Knowledge, not code: the JSON below is the versioned source (a FHIR-shaped
/// document of Enlace's own, version in `version`), each window's source and the choices made are
/// in docs/care.md ("Validity windows").
public struct StudyValidity: Sendable, Equatable {
    public struct Group: Sendable, Equatable {
        public var id: String
        public var spanish: String
        public var english: String
        /// `system|code` of every code in the group.
        public var codes: [String]
        public var days: Int
        public var kind: String
        public var source: String
    }

    public var version: String
    public var groups: [Group]

    /// The group a coding (`system`, `code`) belongs to, if any.
    public func group(system: String?, code: String?) -> Group? {
        guard let code else { return nil }
        let key = "\(system ?? "")|\(code)"
        return groups.first { $0.codes.contains(key) }
    }

    /// Parses the knowledge document; throws on a malformed one (a test keeps the embedded one valid).
    public init(json: JSON) throws {
        guard let v = json["version"]?.stringValue, let gs = json["group"]?.arrayValue else {
            throw FHIRError(status: 500, code: "exception", english: "the study validity knowledge is malformed",
                            spanish: "el conocimiento de vigencia de estudios está mal formado")
        }
        version = v
        groups = try gs.map { g in
            guard let id = g["id"]?.stringValue, let es = g["display-es"]?.stringValue, let en = g["display-en"]?.stringValue,
                  let days = g["validityDays"].flatMap({ if case let .number(n) = $0 { return Int(n) } else { return nil } }),
                  let codes = g["code"]?.arrayValue else {
                throw FHIRError(status: 500, code: "exception", english: "a study validity group is malformed",
                                spanish: "un grupo de vigencia de estudios está mal formado")
            }
            return Group(id: id, spanish: es, english: en,
                         codes: codes.compactMap { c in c["code"]?.stringValue.map { "\(c["system"]?.stringValue ?? "")|\($0)" } },
                         days: days, kind: g["kind"]?.stringValue ?? "laboratory", source: g["source"]?.stringValue ?? "")
        }
    }

    /// The embedded knowledge (`studyValidityJSON`).
    public static let embedded: StudyValidity = {
        // the embedded document is checked by a test; a malformed one is a programming error
        try! StudyValidity(json: try! JSONParser.parse(studyValidityJSON))
    }()
}

/// Versioned knowledge: validity windows of equivalent studies (sources in docs/care.md).
public let studyValidityJSON = #"""
{
  "id": "enlace-study-validity",
  "version": "2026.12.1",
  "title": "Ventanas de vigencia de estudios para la alerta de estudio repetido",
  "group": [
    {"id": "hba1c", "display-es": "Hemoglobina glucosilada (HbA1c)", "display-en": "Glycated haemoglobin (HbA1c)",
     "kind": "laboratory", "validityDays": 90,
     "source": "ADA Standards of Care in Diabetes 2025, sec. 6 (A1C at least twice a year when at goal, quarterly otherwise); NOM-015-SSA2-2010",
     "code": [{"system": "http://loinc.org", "code": "4548-4"}, {"system": "http://loinc.org", "code": "4549-2"},
              {"system": "http://loinc.org", "code": "17856-6"}, {"system": "http://loinc.org", "code": "59261-8"},
              {"system": "http://loinc.org", "code": "41995-2"}]},
    {"id": "lipid-panel", "display-es": "Perfil de lípidos", "display-en": "Lipid panel",
     "kind": "laboratory", "validityDays": 365,
     "source": "NOM-037-SSA2-2012 (dislipidemias); 2018 AHA/ACC Guideline on the Management of Blood Cholesterol (reassess 4-12 weeks after a change, then every 3-12 months)",
     "code": [{"system": "http://loinc.org", "code": "57698-3"}, {"system": "http://loinc.org", "code": "24331-1"},
              {"system": "http://loinc.org", "code": "2093-3"}, {"system": "http://loinc.org", "code": "2085-9"},
              {"system": "http://loinc.org", "code": "13457-7"}, {"system": "http://loinc.org", "code": "18262-6"},
              {"system": "http://loinc.org", "code": "2571-8"}]},
    {"id": "creatinine", "display-es": "Creatinina sérica", "display-en": "Serum creatinine",
     "kind": "laboratory", "validityDays": 90,
     "source": "KDIGO 2024 Clinical Practice Guideline for CKD, 2.1 (monitoring frequency by risk; at least yearly, up to 4 times a year at high risk)",
     "code": [{"system": "http://loinc.org", "code": "2160-0"}, {"system": "http://loinc.org", "code": "38483-4"},
              {"system": "http://loinc.org", "code": "33914-3"}, {"system": "http://loinc.org", "code": "62238-1"}]},
    {"id": "tsh", "display-es": "Hormona estimulante de tiroides (TSH)", "display-en": "Thyroid-stimulating hormone (TSH)",
     "kind": "laboratory", "validityDays": 180,
     "source": "ATA 2014 Guidelines for the Treatment of Hypothyroidism (TSH 6-8 weeks after a dose change; once stable, every 6-12 months)",
     "code": [{"system": "http://loinc.org", "code": "3016-3"}, {"system": "http://loinc.org", "code": "11580-8"}]},
    {"id": "chest-xray", "display-es": "Radiografía de tórax", "display-en": "Chest X-ray",
     "kind": "imaging", "validityDays": 180,
     "source": "ACR Appropriateness Criteria: Routine Chest Radiography (2023): no routine repetition without a clinical change",
     "code": [{"system": "http://loinc.org", "code": "36643-5"}, {"system": "http://loinc.org", "code": "24648-8"},
              {"system": "http://loinc.org", "code": "36572-6"},
              {"system": "http://loinc.org", "code": "36554-4"}]}
  ]
}
"""#
