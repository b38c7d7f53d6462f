import FHIR
import Foundation

/// Builds FHIR JSON from Swift literals: `[String: Any]` objects (resourceType first, then
/// sorted keys), arrays, strings, Bool, Int and Double (shortest text).
func fhir(_ value: Any) -> JSON {
    switch value {
    case let j as JSON: return j
    case let s as String: return .string(s)
    case let b as Bool: return .bool(b)
    case let i as Int: return .number(String(i))
    case let d as Double: return .number(String(format: "%g", d))
    case let a as [Any]: return .array(a.map(fhir))
    case let o as [String: Any]:
        let keys = o.keys.sorted { a, b in a == "resourceType" ? true : (b == "resourceType" ? false : (a == "id" ? b != "resourceType" : (b == "id" ? false : a < b))) }
        return .object(keys.map { ($0, fhir(o[$0]!)) })
    default: return .null
    }
}

/// A small deterministic random generator (SplitMix64), so every demo has the same people.
struct SeededRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func double(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * Double(next() % 1_000_000) / 1_000_000 }
    mutating func chance(_ p: Double) -> Bool { double(0, 1) < p }
    mutating func pick<T>(_ a: [T]) -> T { a[int(0...(a.count - 1))] }
}

struct DemoPatient {
    var id: String
    var given: String
    var paternal: String
    var maternal: String
    var female: Bool
    var birth: Date
    var curp: String
    var state: (String, String)
    /// `imss` or `private`.
    var home: String
    var profile: Set<String>
}

/// Generates the demo's resources (see `DemoData`).
struct DemoGenerator {
    let now: Date
    var random = SeededRandom(state: 20_260_124)
    let anaID = "demo-p001"
    let luciaID = "demo-p002"
    var patientIDs: [String] { (1...56).map { String(format: "demo-p%03d", $0) } }

    init(now: Date) { self.now = now }

    static let imss = "Organization/imss-umf-20"
    static let hospital = "Organization/hospital-santa-fe"
    static let pharmacy = "Organization/farmacia-roma"
    static let payer = "Organization/seguros-vida-plena"
    /// A private specialty clinic with no patients of its own in the demo: its doctors see a
    /// patient only when the patient approves their access request (a Consent).
    static let specialists = "Organization/centro-especialidades-coyoacan"
    static let orgNames = [imss: "IMSS Unidad de Medicina Familiar No. 20", hospital: "Hospital Santa Fe (privado)",
                           pharmacy: "Farmacia Roma", payer: "Seguros Vida Plena", specialists: "Centro de Especialidades Coyoacán (privado)"]
    static let doctors = ["Practitioner/dr-hernandez": "Dr. Juan Carlos Hernández Ruiz", "Practitioner/dra-lopez": "Dra. Sofía López Medina",
                          "Practitioner/dr-ramirez": "Dr. Alberto Ramírez Ortiz", "Practitioner/dra-garcia": "Dra. Lucía García Peña",
                          "Practitioner/dra-castillo": "Dra. Mariana Castillo Vega", "Practitioner/dr-aguilar": "Dr. Tomás Aguilar Núñez",
                          "Practitioner/dra-morales": "Dra. Elena Morales Rivas"]

    func ref(_ r: String) -> [String: Any] { ["reference": r, "display": Self.orgNames[r] ?? Self.doctors[r] ?? r] }

    static let utc: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "UTC")!
        return c
    }()

    func day(_ d: Date) -> String {
        let c = Self.utc.dateComponents([.year, .month, .day], from: d)
        return String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    func instant(_ d: Date) -> String {
        let c = Self.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: d)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    func ago(_ days: Double) -> Date { now.addingTimeInterval(-days * 86_400) }

    // MARK: - shared

    func sharedResources() -> [JSON] {
        let clues = "https://www.gob.mx/salud/clues"
        let orgType = "http://terminology.hl7.org/CodeSystem/organization-type"
        var out: [JSON] = [
            fhir(["resourceType": "Organization", "id": "imss-umf-20", "active": true, "name": Self.orgNames[Self.imss]!,
                  "identifier": [["system": clues, "value": "DFIMS000242"]],
                  "type": [["coding": [["system": orgType, "code": "prov", "display": "Healthcare Provider"]], "text": "Unidad de Medicina Familiar (IMSS)"]],
                  "address": [["city": "Ciudad de México", "state": "CDMX", "country": "MX", "line": ["Calzada Vallejo 675"]]]]),
            fhir(["resourceType": "Organization", "id": "hospital-santa-fe", "active": true, "name": Self.orgNames[Self.hospital]!,
                  "identifier": [["system": clues, "value": "DFSMP001437"]],
                  "type": [["coding": [["system": orgType, "code": "prov", "display": "Healthcare Provider"]], "text": "Hospital privado"]],
                  "address": [["city": "Ciudad de México", "state": "CDMX", "country": "MX"]]]),
            fhir(["resourceType": "Organization", "id": "farmacia-roma", "active": true, "name": Self.orgNames[Self.pharmacy]!,
                  "type": [["coding": [["system": orgType, "code": "other", "display": "Other"]], "text": "Farmacia"]],
                  "address": [["city": "Ciudad de México", "state": "CDMX", "country": "MX"]]]),
            fhir(["resourceType": "Organization", "id": "seguros-vida-plena", "active": true, "name": Self.orgNames[Self.payer]!,
                  "type": [["coding": [["system": orgType, "code": "pay", "display": "Payer"]], "text": "Aseguradora de gastos médicos"]]]),
            fhir(["resourceType": "Organization", "id": "centro-especialidades-coyoacan", "active": true, "name": Self.orgNames[Self.specialists]!,
                  "type": [["coding": [["system": orgType, "code": "prov", "display": "Healthcare Provider"]], "text": "Consultorios de especialidades (privado)"]],
                  "address": [["city": "Ciudad de México", "state": "CDMX", "country": "MX"]]]),
        ]
        let specialties = ["dr-hernandez": ("Medicina familiar", Self.imss, "4587123"), "dra-lopez": ("Pediatría", Self.imss, "5123987"),
                           "dr-ramirez": ("Urgencias médico-quirúrgicas", Self.hospital, "6034512"), "dra-garcia": ("Ginecología y obstetricia", Self.hospital, "7450213"),
                           "dra-castillo": ("Cardiología", Self.specialists, "8126450"), "dr-aguilar": ("Endocrinología", Self.specialists, "8239071"),
                           "dra-morales": ("Medicina materno-fetal", Self.specialists, "8341625")]
        for (id, (specialty, org, cedula)) in specialties.sorted(by: { $0.key < $1.key }) {
            let full = Self.doctors["Practitioner/\(id)"]!
            let parts = full.split(separator: " ").map(String.init)
            out.append(fhir(["resourceType": "Practitioner", "id": id, "active": true,
                             "identifier": [["system": "https://www.gob.mx/cedulaprofesional", "value": cedula]],
                             "name": [["text": full, "prefix": [parts[0]], "given": Array(parts[1..<(parts.count - 2)]), "family": parts.suffix(2).joined(separator: " ")]],
                             "qualification": [["code": ["text": specialty]]]]))
            out.append(fhir(["resourceType": "PractitionerRole", "id": "\(id)-role", "active": true, "practitioner": ref("Practitioner/\(id)"),
                             "organization": ref(org), "specialty": [["text": specialty]]]))
        }
        return out
    }

    // MARK: - patients

    static let femaleNames = ["María Guadalupe", "Juana", "Verónica", "Rosa Elena", "Fernanda", "Daniela", "Alejandra", "Leticia", "Camila",
                              "Valeria", "Ximena", "Patricia", "Adriana", "Gabriela", "Claudia", "Sofía", "Regina", "Itzel", "Martha", "Elena"]
    static let maleNames = ["José Luis", "Juan", "Miguel Ángel", "Francisco", "Jorge", "Alejandro", "Luis Fernando", "Ricardo", "Santiago",
                            "Mateo", "Diego", "Emiliano", "Roberto", "Arturo", "Manuel", "Eduardo", "Iker", "Leonardo", "Raúl", "Héctor"]
    static let surnames = ["García", "Martínez", "López", "González", "Rodríguez", "Pérez", "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez",
                           "Morales", "Vázquez", "Reyes", "Jiménez", "Torres", "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz",
                           "Castillo", "Moreno", "Romero", "Herrera", "Medina", "Chávez", "Hernández", "Domínguez"]
    static let states: [(String, String)] = [("DF", "Ciudad de México"), ("MC", "Estado de México"), ("PL", "Puebla"), ("VZ", "Veracruz"),
                                             ("JC", "Jalisco"), ("OC", "Oaxaca"), ("GT", "Guanajuato"), ("HG", "Hidalgo"), ("MN", "Michoacán"),
                                             ("GR", "Guerrero")]

    mutating func patients() -> [DemoPatient] {
        // Ages across the life course: infants, children, teenagers, adults, older adults.
        let ages: [Int] = [52, 29] + [0, 0, 1, 1, 2, 3, 4, 5, 6, 8, 9, 11, 12, 14, 15, 16, 17, 19, 21, 23, 25, 27, 30, 31, 33, 34, 36, 38,
                                     41, 43, 44, 46, 48, 49, 51, 54, 55, 57, 58, 60, 61, 63, 66, 68, 70, 72, 75, 78, 81, 86, 91, 39, 24, 64]
        var out: [DemoPatient] = []
        for (i, age) in ages.prefix(56).enumerated() {
            let id = patientIDs[i]
            var female = random.chance(0.52)
            var given = female ? random.pick(Self.femaleNames) : random.pick(Self.maleNames)
            var paternal = random.pick(Self.surnames), maternal = random.pick(Self.surnames)
            var state = random.pick(Self.states)
            if id == anaID { female = true; given = "Ana María"; paternal = "Torres"; maternal = "Jiménez"; state = Self.states[0] }
            if id == luciaID { female = true; given = "Lucía Fernanda"; paternal = "Ramírez"; maternal = "Soto"; state = Self.states[0] }
            let birth = ago(Double(age) * 365.25 + Double(random.int(20...340)))
            let c = Self.utc.dateComponents([.year, .month, .day], from: birth)
            let curp = CURP.make(given: given, paternal: paternal, maternal: maternal, birth: (c.year!, c.month!, c.day!), female: female,
                                 state: state.0, homonym: i)
            var profile = Set<String>()
            if age >= 40 && random.chance(0.35) { profile.insert("E11") }
            if age >= 35 && random.chance(0.4) { profile.insert("I10") }
            if female && (18...40).contains(age) && random.chance(0.3) { profile.insert("pregnancy") }
            if age < 13 { profile.insert("child") }
            if age >= 18 && i % 6 == 0 { profile.insert("wearable") }
            if id == anaID { profile = ["E11", "I10", "wearable", "er-visit"] }
            if id == luciaID { profile = ["pregnancy", "wearable"] }
            let home = (id == luciaID || (i % 4 == 3 && id != anaID)) ? "private" : "imss"
            out.append(DemoPatient(id: id, given: given, paternal: paternal, maternal: maternal, female: female, birth: birth, curp: curp,
                                   state: state, home: home, profile: profile))
        }
        return out
    }

    func ageYears(_ p: DemoPatient) -> Double { now.timeIntervalSince(p.birth) / (365.25 * 86_400) }

    // MARK: - one patient's record

    mutating func record(for p: DemoPatient) -> [JSON] {
        var out: [JSON] = []
        let subject: [String: Any] = ["reference": "Patient/\(p.id)", "display": "\(p.given) \(p.paternal) \(p.maternal)"]
        let age = ageYears(p)
        let org = p.home == "imss" ? Self.imss : Self.hospital
        let doctor: String
        if p.home == "imss" { doctor = age < 15 ? "Practitioner/dra-lopez" : "Practitioner/dr-hernandez" }
        else { doctor = p.profile.contains("pregnancy") ? "Practitioner/dra-garcia" : "Practitioner/dr-ramirez" }
        let source = p.home == "imss" ? "urn:clues:DFIMS000242" : "urn:clues:DFSMP001437"
        out.append(fhir(["resourceType": "Patient", "id": p.id, "active": true,
                         "identifier": [["system": "https://www.gob.mx/curp", "value": p.curp, "type": ["text": "CURP"]]],
                         "name": [["use": "official", "family": "\(p.paternal) \(p.maternal)", "given": p.given.split(separator: " ").map(String.init),
                                   "text": "\(p.given) \(p.paternal) \(p.maternal)"]],
                         "gender": p.female ? "female" : "male", "birthDate": day(p.birth),
                         "telecom": [["system": "phone", "value": String(format: "55 %04d %04d", random.int(1000...9999), random.int(1000...9999)), "use": "mobile"]],
                         "address": [["state": p.state.1, "country": "MX"]],
                         "managingOrganization": ref(org)]))
        out.append(fhir(["resourceType": "CareTeam", "id": "\(p.id)-team", "status": "active", "name": "Equipo de atención primaria",
                         "subject": subject, "managingOrganization": [ref(org)],
                         "participant": [["member": ref(doctor), "onBehalfOf": ref(org), "role": [["text": "Médico tratante"]]]]]))
        // Encounters over the last year.
        var encounterDays: [Double]
        if p.profile.contains("child") && age < 2 {
            encounterDays = [330, 270, 200, 120, 60, 20].filter { $0 < age * 365.25 }
            if encounterDays.isEmpty { encounterDays = [max(1, age * 365.25 - 1)] }
        } else if p.profile.contains("pregnancy") {
            encounterDays = [150, 120, 90, 60, 30, 6]
        } else {
            let n = p.profile.isDisjoint(with: ["E11", "I10"]) ? random.int(1...3) : 4
            encounterDays = (0..<n).map { k in Double(350 - k * (340 / n)) - Double(random.int(0...15)) }
        }
        let encounterType = p.profile.contains("pregnancy") ? "Control prenatal" : (age < 15 ? "Consulta pediátrica" : "Consulta de medicina familiar")
        var provenanceTargets: [[String]] = []
        for (k, d) in encounterDays.enumerated() {
            let start = ago(d).addingTimeInterval(Double(random.int(8...17)) * 3600)
            out.append(fhir(["resourceType": "Encounter", "id": "\(p.id)-enc-\(k)", "status": "finished", "meta": ["source": source],
                             "class": ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"],
                             "type": [["text": encounterType]], "subject": subject, "serviceProvider": ref(org),
                             "participant": [["individual": ref(doctor)]],
                             "period": ["start": instant(start), "end": instant(start.addingTimeInterval(1800))]]))
            provenanceTargets.append(["Encounter/\(p.id)-enc-\(k)"])
        }
        func addToVisit(_ k: Int, _ ref: String) { if k < provenanceTargets.count { provenanceTargets[k].append(ref) } }
        func encDate(_ k: Int) -> Date { ago(encounterDays[min(k, encounterDays.count - 1)]).addingTimeInterval(10 * 3600) }
        // Diagnoses (CIE-10).
        var dx = 0
        func condition(_ code: String, _ display: String, _ k: Int) {
            let id = "\(p.id)-dx-\(dx)"
            dx += 1
            out.append(fhir(["resourceType": "Condition", "id": id, "meta": ["source": source], "subject": subject,
                             "clinicalStatus": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"]]],
                             "verificationStatus": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"]]],
                             "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "problem-list-item"]]]],
                             "code": ["coding": [["system": "http://hl7.org/fhir/sid/icd-10", "code": code, "display": display]], "text": display],
                             "encounter": ["reference": "Encounter/\(p.id)-enc-\(k)"], "recordedDate": instant(encDate(k)),
                             "recorder": ref(doctor), "asserter": ref(doctor)]))
            addToVisit(k, "Condition/\(id)")
        }
        if p.profile.contains("E11") { condition("E11.9", "Diabetes mellitus tipo 2 sin complicaciones", 0) }
        if p.profile.contains("I10") { condition("I10", "Hipertensión esencial (primaria)", 0) }
        if p.profile.contains("pregnancy") { condition("Z34.0", "Supervisión de primer embarazo normal", 0) }
        if p.profile.contains("child"), encounterDays.count > 1 { condition("J06.9", "Infección aguda de las vías respiratorias superiores", encounterDays.count - 1) }
        if p.profile.isEmpty && age >= 18 && random.chance(0.5) { condition("K29.7", "Gastritis, no especificada", 0) }
        // Labs and vital signs, with reference ranges.
        var lab = 0
        func observation(_ k: Int, loinc: String, _ display: String, _ value: Double, _ unit: String, _ ucum: String, low: Double?, high: Double?,
                         category: String = "laboratory") {
            let id = "\(p.id)-lab-\(lab)"
            lab += 1
            var range: [String: Any] = [:]
            if let low { range["low"] = ["value": low, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum] }
            if let high { range["high"] = ["value": high, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum] }
            var o: [String: Any] = ["resourceType": "Observation", "id": id, "status": "final", "meta": ["source": source],
                                    "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": category]]]],
                                    "code": ["coding": [["system": "http://loinc.org", "code": loinc, "display": display]], "text": display],
                                    "subject": subject, "encounter": ["reference": "Encounter/\(p.id)-enc-\(k)"],
                                    "effectiveDateTime": instant(encDate(k)), "issued": instant(encDate(k).addingTimeInterval(7200)),
                                    "performer": [ref(org)],
                                    "valueQuantity": ["value": (value * 10).rounded() / 10, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum]]
            if !range.isEmpty { o["referenceRange"] = [range] }
            out.append(fhir(o))
            addToVisit(k, "Observation/\(id)")
        }
        for k in 0..<encounterDays.count {
            if p.profile.contains("E11") {
                observation(k, loinc: "4548-4", "Hemoglobina glucosilada (HbA1c)", random.double(6.4, 9.2), "%", "%", low: 4.0, high: 5.6)
                observation(k, loinc: "2345-7", "Glucosa en ayuno", random.double(105, 190), "mg/dL", "mg/dL", low: 70, high: 99)
            }
            if p.profile.contains("I10") {
                observation(k, loinc: "8480-6", "Presión arterial sistólica", random.double(128, 156).rounded(), "mmHg", "mm[Hg]", low: 90, high: 130, category: "vital-signs")
                observation(k, loinc: "8462-4", "Presión arterial diastólica", random.double(78, 96).rounded(), "mmHg", "mm[Hg]", low: 60, high: 85, category: "vital-signs")
            }
            if p.profile.contains("pregnancy") {
                observation(k, loinc: "718-7", "Hemoglobina", random.double(10.6, 13.4), "g/dL", "g/dL", low: 11, high: 15)
                observation(k, loinc: "29463-7", "Peso corporal", 58 + Double(k) * 1.6, "kg", "kg", low: nil, high: nil, category: "vital-signs")
            }
            if p.profile.contains("child") {
                observation(k, loinc: "29463-7", "Peso corporal", max(3.2, age * 2.6 + 3.4 - Double(encounterDays.count - k) * 0.4), "kg", "kg",
                            low: nil, high: nil, category: "vital-signs")
            }
        }
        if age >= 18 && !p.profile.contains("E11") {
            observation(0, loinc: "2345-7", "Glucosa en ayuno", random.double(76, 104), "mg/dL", "mg/dL", low: 70, high: 99)
            observation(0, loinc: "2093-3", "Colesterol total", random.double(150, 235), "mg/dL", "mg/dL", low: nil, high: 200)
        }
        // Medications.
        var rx = 0
        func prescribe(_ text: String, _ dosage: String) {
            let id = "\(p.id)-rx-\(rx)"
            rx += 1
            out.append(fhir(["resourceType": "MedicationRequest", "id": id, "status": "active", "intent": "order", "meta": ["source": source],
                             "medicationCodeableConcept": ["text": text], "subject": subject,
                             "encounter": ["reference": "Encounter/\(p.id)-enc-0"], "authoredOn": instant(encDate(0)),
                             "requester": ref(doctor), "performer": ref(Self.pharmacy),
                             "dosageInstruction": [["text": dosage]]]))
            addToVisit(0, "MedicationRequest/\(id)")
        }
        if p.profile.contains("E11") { prescribe("Metformina 850 mg tabletas", "1 tableta cada 12 horas con alimentos") }
        if p.profile.contains("I10") { prescribe("Losartán 50 mg tabletas", "1 tableta cada 24 horas") }
        if p.profile.contains("pregnancy") { prescribe("Ácido fólico 0.4 mg tabletas", "1 tableta diaria") }
        if p.profile.contains("child"), encounterDays.count > 1 { prescribe("Paracetamol suspensión 160 mg/5 mL", "5 mL cada 8 horas por 3 días si hay fiebre") }
        // Childhood immunizations, Cartilla Nacional de Salud (months of age).
        if age < 13 {
            let schedule: [(Double, String, String, Int)] = [
                (0, "BCG", "19", 1), (0, "Hepatitis B", "08", 1), (2, "Hexavalente acelular", "146", 1), (2, "Hepatitis B", "08", 2),
                (2, "Rotavirus", "116", 1), (2, "Neumocócica conjugada", "133", 1), (4, "Hexavalente acelular", "146", 2),
                (4, "Rotavirus", "116", 2), (4, "Neumocócica conjugada", "133", 2), (6, "Hexavalente acelular", "146", 3),
                (6, "Hepatitis B", "08", 3), (6, "Rotavirus", "116", 3), (6, "Influenza", "88", 1), (7, "Influenza", "88", 2),
                (12, "SRP (sarampión, rubéola, parotiditis)", "03", 1), (12, "Neumocócica conjugada", "133", 3),
                (18, "Hexavalente acelular", "146", 4), (18, "SRP (sarampión, rubéola, parotiditis)", "03", 2), (48, "DPT", "01", 1),
            ]
            for (n, (months, vaccine, cvx, dose)) in schedule.enumerated() {
                let when = p.birth.addingTimeInterval(months * 30.44 * 86_400 + 86_400)
                guard when < now.addingTimeInterval(-86_400) else { continue }
                out.append(fhir(["resourceType": "Immunization", "id": "\(p.id)-imm-\(n)", "status": "completed", "meta": ["source": source],
                                 "vaccineCode": ["coding": [["system": "http://hl7.org/fhir/sid/cvx", "code": cvx]], "text": vaccine],
                                 "patient": subject, "occurrenceDateTime": instant(when), "primarySource": true,
                                 "performer": [["actor": ref(org)]], "lotNumber": "MX\(random.int(10000...99999))",
                                 "protocolApplied": [["series": "Cartilla Nacional de Salud", "doseNumberPositiveInt": dose]]]))
            }
        }
        // Procedures.
        if p.profile.contains("pregnancy") {
            out.append(fhir(["resourceType": "Procedure", "id": "\(p.id)-proc-0", "status": "completed", "meta": ["source": source],
                             "code": ["coding": [["system": "http://snomed.info/sct", "code": "268445003", "display": "Ultrasound scan - obstetric"]],
                                      "text": "Ultrasonido obstétrico"],
                             "subject": subject, "performedDateTime": instant(encDate(2)), "performer": [["actor": ref(doctor), "onBehalfOf": ref(org)]]]))
            addToVisit(2, "Procedure/\(p.id)-proc-0")
        }
        if p.profile.contains("E11") {
            out.append(fhir(["resourceType": "Procedure", "id": "\(p.id)-proc-1", "status": "completed", "meta": ["source": source],
                             "code": ["coding": [["system": "http://snomed.info/sct", "code": "401191002", "display": "Diabetic foot examination"]],
                                      "text": "Revisión de pie diabético"],
                             "subject": subject, "performedDateTime": instant(encDate(1)), "performer": [["actor": ref(doctor), "onBehalfOf": ref(org)]]]))
            addToVisit(1, "Procedure/\(p.id)-proc-1")
        }
        if p.profile.contains("er-visit") {
            let d = ago(41).addingTimeInterval(3 * 3600)
            out.append(fhir(["resourceType": "Encounter", "id": "\(p.id)-enc-er", "status": "finished", "meta": ["source": "urn:clues:DFSMP001437"],
                             "class": ["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER", "display": "emergency"],
                             "type": [["text": "Urgencias"]], "reasonCode": [["text": "Hiperglucemia con deshidratación"]],
                             "subject": subject, "serviceProvider": ref(Self.hospital), "participant": [["individual": ref("Practitioner/dr-ramirez")]],
                             "period": ["start": instant(d), "end": instant(d.addingTimeInterval(5 * 3600))]]))
            out.append(fhir(["resourceType": "Observation", "id": "\(p.id)-lab-er", "status": "final", "meta": ["source": "urn:clues:DFSMP001437"],
                             "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"]]]],
                             "code": ["coding": [["system": "http://loinc.org", "code": "2339-0", "display": "Glucosa en sangre"]], "text": "Glucosa en sangre"],
                             "subject": subject, "encounter": ["reference": "Encounter/\(p.id)-enc-er"], "effectiveDateTime": instant(d.addingTimeInterval(1800)),
                             "performer": [ref(Self.hospital)],
                             "valueQuantity": ["value": 342, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"],
                             "referenceRange": [["low": ["value": 70, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"],
                                                 "high": ["value": 140, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"]]]]))
            out.append(fhir(["resourceType": "Provenance", "id": "\(p.id)-prov-er", "recorded": instant(d.addingTimeInterval(5 * 3600)),
                             "target": [["reference": "Encounter/\(p.id)-enc-er"], ["reference": "Observation/\(p.id)-lab-er"], ["reference": "Patient/\(p.id)"]],
                             "activity": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"]]],
                             "reason": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "ETREAT", "display": "Emergency treatment"]]]],
                             "agent": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"]]],
                                        "who": ref("Practitioner/dr-ramirez"), "onBehalfOf": ref(Self.hospital)]]]))
        }
        // A clinical note from the last visit.
        if age >= 15 {
            let k = encounterDays.count - 1
            let note = "Paciente acude a \(encounterType.lowercased()). Se revisan resultados y se ajusta plan de manejo. Próxima cita en 3 meses."
            out.append(fhir(["resourceType": "DocumentReference", "id": "\(p.id)-doc-0", "status": "current", "meta": ["source": source],
                             "type": ["coding": [["system": "http://loinc.org", "code": "11506-3", "display": "Progress note"]], "text": "Nota de evolución"],
                             "description": "Nota de evolución — \(encounterType)", "subject": subject, "date": instant(encDate(k)),
                             "author": [ref(doctor)], "custodian": ref(org),
                             "content": [["attachment": ["contentType": "text/plain; charset=utf-8", "title": "Nota de evolución",
                                                         "data": Data(note.utf8).base64EncodedString()]]],
                             "context": ["encounter": [["reference": "Encounter/\(p.id)-enc-\(k)"]]]]))
            addToVisit(k, "DocumentReference/\(p.id)-doc-0")
        }
        // Wearable series: 14 days of steps and resting heart rate from a smartwatch.
        if p.profile.contains("wearable") {
            for dday in 0..<14 {
                let d = ago(Double(14 - dday)).addingTimeInterval(22 * 3600)
                for (code, display, value, unit, ucum) in [("41950-7", "Pasos en 24 horas", Double(random.int(2500...11000)), "pasos", "{steps}"),
                                                          ("40443-4", "Frecuencia cardiaca en reposo", Double(random.int(58...84)), "lpm", "/min")] {
                    out.append(fhir(["resourceType": "Observation", "id": "\(p.id)-wear-\(code)-\(dday)", "status": "final",
                                     "meta": ["source": "urn:enlace:wearable:reloj-inteligente"],
                                     "category": [["coding": [["system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "activity"]]]],
                                     "code": ["coding": [["system": "http://loinc.org", "code": code, "display": display]], "text": display],
                                     "subject": subject, "effectiveDateTime": instant(d), "performer": [subject],
                                     "valueQuantity": ["value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": ucum]]))
                }
            }
        }
        // Consents: sharing the record with the other institution (and the payer).
        let index = Int(p.id.suffix(3)) ?? 0
        if p.id == anaID || index % 3 == 0 {
            let other = org == Self.imss ? Self.hospital : Self.imss
            var grants = [(other, "Compartir mi expediente con \(Self.orgNames[other]!)")]
            if p.id == anaID { grants.append((Self.payer, "Compartir mis reclamaciones con \(Self.orgNames[Self.payer]!)")) }
            for (n, (actor, text)) in grants.enumerated() {
                out.append(fhir(["resourceType": "Consent", "id": "\(p.id)-consent-\(n)", "status": "active",
                                 "scope": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy",
                                                       "display": "Privacy Consent"]], "text": "Privacidad: \(text.lowercased())"],
                                 "category": [["coding": [["system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"]], "text": text]],
                                 "patient": subject, "dateTime": instant(ago(200)), "organization": [ref(org)],
                                 "policyRule": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"]]],
                                 "provision": ["type": "permit", "period": ["start": instant(ago(200)), "end": instant(ago(-165))],
                                               "actor": [["role": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"]]],
                                                          "reference": ref(actor)]]]]))
            }
        }
        if age >= 18 && (p.id == anaID || index % 2 == 0) {
            out.append(fhir(["resourceType": "Coverage", "id": "\(p.id)-cov", "status": "active", "beneficiary": subject,
                             "payor": [ref(Self.payer)], "subscriberId": "VP-\(100000 + index * 37)",
                             "type": ["text": "Gastos médicos mayores"], "period": ["start": day(ago(300))]]))
        }
        // Who answers for each visit's records.
        for (k, targets) in provenanceTargets.enumerated() {
            out.append(fhir(["resourceType": "Provenance", "id": "\(p.id)-prov-\(k)", "recorded": instant(encDate(k).addingTimeInterval(3600)),
                             "target": (targets + ["Patient/\(p.id)"]).map { ["reference": $0] },
                             "activity": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation", "code": "CREATE", "display": "create"]]],
                             "agent": [["type": ["coding": [["system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type", "code": "author", "display": "Author"]]],
                                        "who": ref(doctor), "onBehalfOf": ref(org)]]]))
        }
        return out
    }
}
