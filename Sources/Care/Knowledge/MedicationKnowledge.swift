import FHIR
import Foundation

/// The curated drug–drug interaction and drug–allergy table the `order-sign` check uses: a few
/// ingredients (by RxNorm ingredient code and by name, Spanish and English, because Mexican
/// prescriptions are often free text), the classes they belong to, the pairs of ingredients or
/// classes that interact, and the allergy terms that exclude a class. Knowledge, not code: the
/// JSON below is the versioned source; each entry cites its source and docs/care.md says what was
/// chosen and what is missing (it is a small table, not a drug knowledge base).
public struct MedicationKnowledge: Sendable {
    public struct Ingredient: Sendable, Equatable {
        public var id: String
        public var names: [String]
        public var rxnorm: [String]
        public var classes: [String]
    }
    public struct Interaction: Sendable, Equatable {
        /// An ingredient id or a class id on each side.
        public var a: String
        public var b: String
        /// `contraindicated`, `high` or `moderate`.
        public var severity: String
        public var spanish: String
        public var english: String
        public var source: String
    }
    public struct AllergyClass: Sendable, Equatable {
        /// The class (or ingredient) of drugs an allergy to one of `terms` excludes.
        public var excludes: String
        public var terms: [String]
        /// `system|code` of substance or allergy codes (SNOMED CT, RxNorm).
        public var codes: [String]
        public var spanish: String
        public var english: String
        public var source: String
    }

    /// A medicine class that needs a study at least every `days` days (patient-view care gaps).
    public struct Monitoring: Sendable, Equatable {
        public var drugClass: String
        /// A `StudyValidity` group id.
        public var study: String
        public var days: Int
        public var spanish: String
        public var english: String
        public var source: String
    }

    /// The largest labelled adult daily dose of an ingredient, in milligrams (order-sign dose check).
    public struct DoseLimit: Sendable, Equatable {
        public var ingredient: String
        public var maxDailyMilligrams: Double
        public var source: String
    }

    public var version: String
    public var doseLimits: [DoseLimit]
    public var monitoring: [Monitoring]
    public var ingredients: [Ingredient]
    public var interactions: [Interaction]
    public var allergies: [AllergyClass]

    public init(json: JSON) throws {
        func strings(_ j: JSON?) -> [String] { (j?.arrayValue ?? []).compactMap(\.stringValue) }
        func bad() -> FHIRError {
            FHIRError(status: 500, code: "exception", english: "the medication knowledge is malformed", spanish: "el conocimiento de medicamentos está mal formado")
        }
        guard let v = json["version"]?.stringValue else { throw bad() }
        version = v
        ingredients = try (json["ingredient"]?.arrayValue ?? []).map { i in
            guard let id = i["id"]?.stringValue else { throw bad() }
            return Ingredient(id: id, names: strings(i["name"]).map(MedicationKnowledge.normalize), rxnorm: strings(i["rxnorm"]),
                              classes: strings(i["class"]))
        }
        interactions = try (json["interaction"]?.arrayValue ?? []).map { i in
            guard let a = i["a"]?.stringValue, let b = i["b"]?.stringValue, let s = i["severity"]?.stringValue,
                  let es = i["es"]?.stringValue, let en = i["en"]?.stringValue else { throw bad() }
            return Interaction(a: a, b: b, severity: s, spanish: es, english: en, source: i["source"]?.stringValue ?? "")
        }
        monitoring = try (json["monitoring"]?.arrayValue ?? []).map { m in
            guard let c = m["class"]?.stringValue, let st = m["study"]?.stringValue, case let .number(n)? = m["days"], let days = Int(n),
                  let es = m["es"]?.stringValue, let en = m["en"]?.stringValue else { throw bad() }
            return Monitoring(drugClass: c, study: st, days: days, spanish: es, english: en, source: m["source"]?.stringValue ?? "")
        }
        doseLimits = try (json["dose"]?.arrayValue ?? []).map { d in
            guard let i = d["ingredient"]?.stringValue, case let .number(n)? = d["maxDailyMg"], let max = Double(n), max > 0,
                  let source = d["source"]?.stringValue else { throw bad() }
            return DoseLimit(ingredient: i, maxDailyMilligrams: max, source: source)
        }
        allergies = try (json["allergy"]?.arrayValue ?? []).map { i in
            guard let ex = i["excludes"]?.stringValue, let es = i["es"]?.stringValue, let en = i["en"]?.stringValue else { throw bad() }
            return AllergyClass(excludes: ex, terms: strings(i["term"]).map(MedicationKnowledge.normalize), codes: strings(i["code"]), spanish: es,
                                english: en, source: i["source"]?.stringValue ?? "")
        }
    }

    public static let embedded: MedicationKnowledge = {
        // the embedded document is checked by a test; a malformed one is a programming error
        try! MedicationKnowledge(json: try! JSONParser.parse(medicationKnowledgeJSON))
    }()

    /// Lower case, no diacritics, punctuation as spaces, padded with one space each side (so a
    /// name matches as whole words: " aspirina ").
    public static func normalize(_ s: String) -> String {
        let folded = s.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "es_MX")).lowercased()
        let spaced = String(folded.map { $0.isLetter || $0.isNumber ? $0 : " " })
        return " " + spaced.split(separator: " ").joined(separator: " ") + " "
    }

    /// The ingredients a CodeableConcept names (by RxNorm code, or by name in its text or codings' displays).
    public func ingredients(in concept: JSON?) -> [Ingredient] {
        guard let concept else { return [] }
        let codings = concept["coding"]?.arrayValue ?? []
        let codes = Set(codings.compactMap { c -> String? in
            guard c["system"]?.stringValue == "http://www.nlm.nih.gov/research/umls/rxnorm" else { return nil }
            return c["code"]?.stringValue
        })
        let text = MedicationKnowledge.normalize(([concept["text"]?.stringValue] + codings.map { $0["display"]?.stringValue }).compactMap { $0 }.joined(separator: " "))
        return ingredients.filter { i in
            i.rxnorm.contains(where: codes.contains) || i.names.contains { text.contains($0) }
        }
    }

    /// Does `ingredient` belong to `key` (its own id or one of its classes)?
    static func matches(_ ingredient: Ingredient, _ key: String) -> Bool {
        ingredient.id == key || ingredient.classes.contains(key)
    }

    /// The interactions between two sets of ingredients (each pair once).
    public func interactions(between x: [Ingredient], and y: [Ingredient]) -> [(Interaction, Ingredient, Ingredient)] {
        var out: [(Interaction, Ingredient, Ingredient)] = []
        for i in interactions {
            for a in x {
                for b in y where a.id != b.id {
                    if (MedicationKnowledge.matches(a, i.a) && MedicationKnowledge.matches(b, i.b))
                        || (MedicationKnowledge.matches(a, i.b) && MedicationKnowledge.matches(b, i.a)) {
                        if !out.contains(where: { $0.0 == i && $0.1.id == a.id && $0.2.id == b.id }) { out.append((i, a, b)) }
                    }
                }
            }
        }
        return out
    }

    /// The allergy classes an AllergyIntolerance's `code` names (by code, or by term in its text).
    public func allergyClasses(in code: JSON?) -> [AllergyClass] {
        guard let code else { return [] }
        let codings = code["coding"]?.arrayValue ?? []
        let keys = Set(codings.compactMap { c -> String? in c["code"]?.stringValue.map { "\(c["system"]?.stringValue ?? "")|\($0)" } })
        let text = MedicationKnowledge.normalize(([code["text"]?.stringValue] + codings.map { $0["display"]?.stringValue }).compactMap { $0 }.joined(separator: " "))
        return allergies.filter { a in a.codes.contains(where: keys.contains) || a.terms.contains { text.contains($0) } }
    }
}

/// Versioned knowledge: a small curated interaction and allergy table (sources in each entry and in docs/care.md).
public let medicationKnowledgeJSON = #"""
{
  "id": "enlace-medication-checks",
  "version": "2026.12.2",
  "ingredient": [
    {"id": "warfarin", "name": ["warfarina", "warfarin"], "rxnorm": ["11289"], "class": ["anticoagulant"]},
    {"id": "aspirin", "name": ["aspirina", "acido acetilsalicilico", "aspirin", "acetylsalicylic acid"], "rxnorm": ["1191"], "class": ["nsaid", "antiplatelet"]},
    {"id": "ibuprofen", "name": ["ibuprofeno", "ibuprofen"], "rxnorm": ["5640"], "class": ["nsaid"]},
    {"id": "naproxen", "name": ["naproxeno", "naproxen"], "rxnorm": ["7258"], "class": ["nsaid"]},
    {"id": "diclofenac", "name": ["diclofenaco", "diclofenac"], "rxnorm": [], "class": ["nsaid"]},
    {"id": "simvastatin", "name": ["simvastatina", "simvastatin"], "rxnorm": ["36567"], "class": ["statin-cyp3a4"]},
    {"id": "clarithromycin", "name": ["claritromicina", "clarithromycin"], "rxnorm": ["21212"], "class": ["strong-cyp3a4-inhibitor"]},
    {"id": "ketoconazole", "name": ["ketoconazol", "ketoconazole"], "rxnorm": [], "class": ["strong-cyp3a4-inhibitor"]},
    {"id": "enalapril", "name": ["enalapril"], "rxnorm": ["3827"], "class": ["ace-inhibitor"]},
    {"id": "lisinopril", "name": ["lisinopril"], "rxnorm": ["29046"], "class": ["ace-inhibitor"]},
    {"id": "captopril", "name": ["captopril"], "rxnorm": [], "class": ["ace-inhibitor"]},
    {"id": "losartan", "name": ["losartan", "losartan potasico", "losartan potassium"], "rxnorm": ["52175"], "class": ["arb"]},
    {"id": "telmisartan", "name": ["telmisartan"], "rxnorm": [], "class": ["arb"]},
    {"id": "spironolactone", "name": ["espironolactona", "spironolactone"], "rxnorm": ["9997"], "class": ["potassium-sparing"]},
    {"id": "sildenafil", "name": ["sildenafil", "sildenafilo"], "rxnorm": ["136411"], "class": ["pde5-inhibitor"]},
    {"id": "nitroglycerin", "name": ["nitroglicerina", "nitroglycerin", "trinitrato de glicerilo"], "rxnorm": ["4917"], "class": ["nitrate"]},
    {"id": "isosorbide", "name": ["isosorbida", "dinitrato de isosorbida", "isosorbide"], "rxnorm": [], "class": ["nitrate"]},
    {"id": "clopidogrel", "name": ["clopidogrel"], "rxnorm": ["32968"], "class": ["antiplatelet", "cyp2c19-prodrug"]},
    {"id": "omeprazole", "name": ["omeprazol", "omeprazole", "esomeprazol", "esomeprazole"], "rxnorm": ["7646"], "class": ["cyp2c19-inhibitor-ppi"]},
    {"id": "amoxicillin", "name": ["amoxicilina", "amoxicillin"], "rxnorm": ["723"], "class": ["penicillin"]},
    {"id": "ampicillin", "name": ["ampicilina", "ampicillin"], "rxnorm": ["733"], "class": ["penicillin"]},
    {"id": "penicillin", "name": ["penicilina", "bencilpenicilina", "penicillin"], "rxnorm": [], "class": ["penicillin"]},
    {"id": "dicloxacillin", "name": ["dicloxacilina", "dicloxacillin"], "rxnorm": [], "class": ["penicillin"]},
    {"id": "sulfamethoxazole", "name": ["sulfametoxazol", "sulfamethoxazole", "trimetoprima con sulfametoxazol"], "rxnorm": ["10180"], "class": ["sulfonamide-antibiotic"]},
    {"id": "metformin", "name": ["metformina", "metformin"], "rxnorm": ["6809"], "class": ["biguanide"]},
    {"id": "glibenclamide", "name": ["glibenclamida", "glibenclamide", "gliburida", "glyburide"], "rxnorm": ["4815"], "class": ["sulfonylurea"]}
  ],
  "dose": [
    {"ingredient": "metformin", "maxDailyMg": 2550, "source": "Glucophage (metformin) US prescribing information, sec. 2.1: maximum 2,550 mg a day in adults"},
    {"ingredient": "glibenclamide", "maxDailyMg": 20, "source": "DiaBeta (glyburide) US prescribing information, Dosage and Administration: maintenance doses above 20 mg a day are not recommended"},
    {"ingredient": "enalapril", "maxDailyMg": 40, "source": "Vasotec (enalapril) US prescribing information, sec. 2.1 (hypertension): 10 to 40 mg a day"},
    {"ingredient": "lisinopril", "maxDailyMg": 80, "source": "Zestril (lisinopril) US prescribing information, sec. 2.1 (hypertension): doses up to 80 mg have been used"},
    {"ingredient": "captopril", "maxDailyMg": 450, "source": "Capoten (captopril) US prescribing information, Dosage and Administration: not more than 450 mg a day"},
    {"ingredient": "losartan", "maxDailyMg": 100, "source": "Cozaar (losartan) US prescribing information, sec. 2.1: maximum 100 mg once daily"},
    {"ingredient": "telmisartan", "maxDailyMg": 80, "source": "Micardis (telmisartan) US prescribing information, sec. 2.1: 20 to 80 mg a day"},
    {"ingredient": "simvastatin", "maxDailyMg": 40, "source": "FDA Drug Safety Communication, 8 June 2011: simvastatin 80 mg restricted to patients already taking it for 12 months without myopathy; 40 mg is the highest dose to start"},
    {"ingredient": "ibuprofen", "maxDailyMg": 3200, "source": "Motrin (ibuprofen) US prescribing information, Dosage and Administration: do not exceed 3,200 mg a day"},
    {"ingredient": "naproxen", "maxDailyMg": 1500, "source": "Naprosyn (naproxen) US prescribing information, sec. 2: up to 1,500 mg a day for limited periods"}
  ],
  "interaction": [
    {"a": "anticoagulant", "b": "nsaid", "severity": "high",
     "es": "Riesgo de sangrado: un AINE o la aspirina junto con un anticoagulante cumarínico aumenta el riesgo de hemorragia.",
     "en": "Bleeding risk: an NSAID or aspirin with a coumarin anticoagulant increases the risk of haemorrhage.",
     "source": "Coumadin (warfarin) US prescribing information, sec. 7 (Drug Interactions), Bristol-Myers Squibb 2017"},
    {"a": "statin-cyp3a4", "b": "strong-cyp3a4-inhibitor", "severity": "contraindicated",
     "es": "Contraindicado: simvastatina con un inhibidor potente de CYP3A4 (claritromicina, ketoconazol) eleva el riesgo de miopatía y rabdomiólisis.",
     "en": "Contraindicated: simvastatin with a strong CYP3A4 inhibitor (clarithromycin, ketoconazole) raises the risk of myopathy and rhabdomyolysis.",
     "source": "FDA Drug Safety Communication, 8 June 2011: new restrictions, contraindications and dose limitations for Zocor (simvastatin)"},
    {"a": "ace-inhibitor", "b": "potassium-sparing", "severity": "high",
     "es": "Riesgo de hiperpotasemia: un IECA con espironolactona; vigile potasio y función renal.",
     "en": "Hyperkalaemia risk: an ACE inhibitor with spironolactone; monitor potassium and renal function.",
     "source": "Juurlink DN et al. Rates of hyperkalemia after publication of the RALES. N Engl J Med 2004;351:543-51; Aldactone US prescribing information"},
    {"a": "arb", "b": "potassium-sparing", "severity": "high",
     "es": "Riesgo de hiperpotasemia: un ARA II con espironolactona; vigile potasio y función renal.",
     "en": "Hyperkalaemia risk: an angiotensin receptor blocker with spironolactone; monitor potassium and renal function.",
     "source": "Aldactone (spironolactone) US prescribing information, sec. 5.1 and 7.1, Pfizer 2018"},
    {"a": "ace-inhibitor", "b": "arb", "severity": "high",
     "es": "Doble bloqueo del sistema renina-angiotensina (IECA con ARA II): más hiperpotasemia, hipotensión e insuficiencia renal sin beneficio.",
     "en": "Dual renin-angiotensin blockade (ACE inhibitor with ARB): more hyperkalaemia, hypotension and renal failure without benefit.",
     "source": "ONTARGET Investigators, N Engl J Med 2008;358:1547-59; FDA Drug Safety Communication on dual RAS blockade, 2014"},
    {"a": "pde5-inhibitor", "b": "nitrate", "severity": "contraindicated",
     "es": "Contraindicado: sildenafil con nitratos causa hipotensión grave.",
     "en": "Contraindicated: sildenafil with nitrates causes severe hypotension.",
     "source": "Viagra (sildenafil) US prescribing information, sec. 4 (Contraindications), Pfizer 2017"},
    {"a": "cyp2c19-prodrug", "b": "cyp2c19-inhibitor-ppi", "severity": "moderate",
     "es": "Omeprazol o esomeprazol reducen el efecto antiplaquetario del clopidogrel; considere pantoprazol.",
     "en": "Omeprazole or esomeprazole reduce clopidogrel's antiplatelet effect; consider pantoprazole.",
     "source": "FDA Drug Safety Communication, 17 November 2009 and 27 October 2010: reduced effectiveness of Plavix (clopidogrel) with omeprazole"}
  ],
  "monitoring": [
    {"class": "biguanide", "study": "hba1c", "days": 180,
     "es": "Paciente con metformina sin HbA1c en los últimos 6 meses.",
     "en": "Patient on metformin without an HbA1c in the last 6 months.",
     "source": "ADA Standards of Care in Diabetes 2025, sec. 6.1 (A1C at least twice a year)"},
    {"class": "biguanide", "study": "creatinine", "days": 365,
     "es": "Paciente con metformina sin creatinina (TFGe) en el último año.",
     "en": "Patient on metformin without a creatinine (eGFR) in the last year.",
     "source": "Glucophage (metformin) US prescribing information, sec. 5.1: assess eGFR before starting and at least annually"}
  ],
  "allergy": [
    {"excludes": "penicillin", "term": ["penicilina", "penicilinas", "penicillin", "amoxicilina", "amoxicillin", "ampicilina", "ampicillin"],
     "code": ["http://snomed.info/sct|91936005", "http://snomed.info/sct|764146007", "http://snomed.info/sct|372687004"],
     "es": "Alergia a penicilinas registrada: el medicamento ordenado es una penicilina.",
     "en": "Recorded penicillin allergy: the ordered medicine is a penicillin.",
     "source": "Khan DA et al. Drug allergy: a 2022 practice parameter update. J Allergy Clin Immunol 2022;150:1333-93"},
    {"excludes": "sulfonamide-antibiotic", "term": ["sulfa", "sulfas", "sulfonamida", "sulfonamidas", "sulfonamide", "sulfametoxazol", "sulfamethoxazole"],
     "code": ["http://snomed.info/sct|91939003"],
     "es": "Alergia a sulfonamidas registrada: el medicamento ordenado es una sulfonamida antibiótica.",
     "en": "Recorded sulfonamide allergy: the ordered medicine is a sulfonamide antibiotic.",
     "source": "Khan DA et al. Drug allergy: a 2022 practice parameter update, sulfonamide antibiotics"},
    {"excludes": "nsaid", "term": ["aine", "aines", "antiinflamatorios no esteroideos", "nsaid", "nsaids", "aspirina", "aspirin", "acido acetilsalicilico", "ibuprofeno", "ibuprofen"],
     "code": ["http://snomed.info/sct|293586001"],
     "es": "Hipersensibilidad a AINE registrada: el medicamento ordenado es un AINE (reactividad cruzada frecuente).",
     "en": "Recorded NSAID hypersensitivity: the ordered medicine is an NSAID (cross-reactivity is common).",
     "source": "Kowalski ML et al. Diagnosis and management of NSAID-exacerbated respiratory disease, EAACI position paper. Allergy 2019;74:28-39"}
  ]
}
"""#
