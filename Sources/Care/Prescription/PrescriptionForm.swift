import FHIR
import Foundation

/// The clinician's *Recetar* form (docs/prescribing.md#recetar): the medicine chosen from the
/// medication knowledge (`MedicationKnowledge.ingredients`), the dose in milligrams, how often
/// (a GTS abbreviation), the quantity to dispense and its unit, the refills and free
/// instructions — checked field by field (each refusal names its field, in Spanish and English)
/// and turned into the FHIR `MedicationRequest` that the CDS Hooks `order-sign` check reads as a
/// draft and `$prescribe` (`Prescribing`) signs. No I/O.
public struct PrescriptionForm: Sendable, Equatable {
    public var medicine = ""
    public var presentation = ""
    public var dose = ""
    public var frequency = ""
    public var quantity = ""
    public var unit = "tabletas"
    public var refills = "0"
    public var days = ""
    public var instructions = ""

    public init() {}

    /// The form's fields as posted (names as in the page).
    public init(_ raw: [String: String]) {
        medicine = raw["medicamento"] ?? ""
        presentation = raw["presentacion"] ?? ""
        dose = raw["dosis"] ?? ""
        frequency = raw["frecuencia"] ?? ""
        quantity = raw["cantidad"] ?? ""
        unit = raw["unidad"] ?? "tabletas"
        refills = raw["resurtidos"] ?? "0"
        days = raw["dias"] ?? ""
        instructions = raw["indicaciones"] ?? ""
    }

    /// The posted fields again (hidden inputs of the review step keep nothing else).
    public var fields: [(String, String)] {
        [("medicamento", medicine), ("presentacion", presentation), ("dosis", dose), ("frecuencia", frequency), ("cantidad", quantity),
         ("unidad", unit), ("resurtidos", refills), ("dias", days), ("indicaciones", instructions)]
    }

    /// How often, as HL7 v3 GTSAbbreviation codes (the ones `DoseRangeCheck` counts per day).
    public static let frequencies: [(code: String, spanish: String, english: String)] = [
        ("QD", "una vez al día", "once a day"), ("AM", "cada mañana", "every morning"), ("PM", "cada noche", "every evening"),
        ("BID", "cada 12 horas", "every 12 hours"), ("TID", "cada 8 horas", "every 8 hours"), ("QID", "cada 6 horas", "every 6 hours"),
        ("Q4H", "cada 4 horas", "every 4 hours"),
    ]
    /// Units of the quantity to dispense.
    public static let units: [(code: String, spanish: String, english: String)] = [
        ("tabletas", "tabletas", "tablets"), ("cápsulas", "cápsulas", "capsules"), ("ml", "ml", "ml"), ("sobres", "sobres", "sachets"),
        ("piezas", "piezas", "pieces"),
    ]
    public static let gts = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
    public static let rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    public static let maxRefills = 12

    /// The medicines offered: the knowledge's ingredients, by their Spanish name.
    public static func medicines(_ knowledge: MedicationKnowledge = .embedded) -> [(id: String, name: String)] {
        knowledge.ingredients.map { ($0.id, display($0)) }.sorted { $0.name.compare($1.name, locale: Locale(identifier: "es_MX")) == .orderedAscending }
    }

    static func display(_ i: MedicationKnowledge.Ingredient) -> String {
        let n = (i.names.first ?? i.id).trimmingCharacters(in: .whitespaces)
        return n.prefix(1).uppercased() + n.dropFirst()
    }

    static func decimal(_ s: String) -> Decimal? {
        let t = s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: ".")
        guard !t.isEmpty, t.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), t.filter({ $0 == "." }).count <= 1 else { return nil }
        return Decimal(string: t)
    }

    static func integer(_ s: String) -> Int? {
        let t = s.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty, t.count <= 6, t.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(t)
    }

    static func trimmed(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

    static func number(_ d: Decimal) -> JSON { .number(NSDecimalNumber(decimal: d).stringValue) }

    /// The checked prescription as a `MedicationRequest` for `patient` by `prescriber`
    /// (status `active`, intent `order`: what `$prescribe` signs; the draft sent to
    /// `order-sign` is the same with status `draft` and an id). Throws a 422 with one issue per
    /// wrong field (its `expression` is the field's name).
    public func medicationRequest(patient: String, prescriber: String, knowledge: MedicationKnowledge = .embedded) throws -> JSON {
        var issues: [Issue] = []
        func refuse(_ field: String, _ english: String, _ spanish: String, code: String = "value") {
            issues.append(Issue(code: code, english: english, spanish: spanish, expression: [field]))
        }
        let ingredient = knowledge.ingredients.first { $0.id == medicine }
        if medicine.isEmpty {
            refuse("medicamento", "choose the medicine", "elija el medicamento", code: "required")
        } else if ingredient == nil {
            refuse("medicamento", "'\(medicine)' is not a medicine of the list", "'\(medicine)' no es un medicamento de la lista", code: "code-invalid")
        }
        let presentation = PrescriptionForm.trimmed(self.presentation)
        if presentation.count > 100 {
            refuse("presentacion", "the presentation is longer than 100 characters", "la presentación supera 100 caracteres", code: "too-long")
        }
        let dose = PrescriptionForm.decimal(self.dose)
        if PrescriptionForm.trimmed(self.dose).isEmpty {
            refuse("dosis", "the dose (mg per dose) is required", "la dosis (mg por toma) es obligatoria", code: "required")
        } else if dose == nil {
            refuse("dosis", "the dose '\(self.dose)' is not a number of milligrams", "la dosis '\(self.dose)' no es un número de miligramos")
        } else if let d = dose, d <= 0 || d > 100_000 {
            refuse("dosis", "the dose must be more than 0 and at most 100000 mg", "la dosis debe ser mayor que 0 y a lo más 100000 mg")
        }
        let frequency = PrescriptionForm.frequencies.first { $0.code == self.frequency }
        if self.frequency.isEmpty {
            refuse("frecuencia", "choose how often", "elija cada cuándo", code: "required")
        } else if frequency == nil {
            refuse("frecuencia", "'\(self.frequency)' is not a frequency of the list", "'\(self.frequency)' no es una frecuencia de la lista", code: "code-invalid")
        }
        let quantity = PrescriptionForm.integer(self.quantity)
        if PrescriptionForm.trimmed(self.quantity).isEmpty {
            refuse("cantidad", "the quantity to dispense is required", "la cantidad a surtir es obligatoria", code: "required")
        } else if quantity == nil || quantity! < 1 || quantity! > 10_000 {
            refuse("cantidad", "the quantity to dispense must be a whole number from 1 to 10000", "la cantidad a surtir debe ser un número entero de 1 a 10000")
        }
        let unit = PrescriptionForm.units.first { $0.code == self.unit }
        if unit == nil { refuse("unidad", "'\(self.unit)' is not a unit of the list", "'\(self.unit)' no es una unidad de la lista", code: "code-invalid") }
        let refills = PrescriptionForm.integer(PrescriptionForm.trimmed(self.refills).isEmpty ? "0" : self.refills)
        if refills == nil || refills! > PrescriptionForm.maxRefills {
            refuse("resurtidos", "refills must be a whole number from 0 to \(PrescriptionForm.maxRefills)",
                   "los resurtidos deben ser un número entero de 0 a \(PrescriptionForm.maxRefills)")
        }
        let days = PrescriptionForm.trimmed(self.days).isEmpty ? nil : PrescriptionForm.integer(self.days)
        if !PrescriptionForm.trimmed(self.days).isEmpty, days == nil || days! < 1 || days! > 365 {
            refuse("dias", "the duration must be a whole number of days from 1 to 365", "la duración debe ser un número entero de días de 1 a 365")
        }
        let instructions = PrescriptionForm.trimmed(self.instructions)
        if instructions.count > 500 {
            refuse("indicaciones", "the instructions are longer than 500 characters", "las indicaciones superan 500 caracteres", code: "too-long")
        }
        guard issues.isEmpty, let ingredient, let dose, let frequency, let quantity, let unit, let refills else {
            throw FHIRError(status: 422, issues: issues)
        }
        let name = PrescriptionForm.display(ingredient) + (presentation.isEmpty ? "" : " \(presentation)")
        var coding: [JSON] = []
        if let rx = ingredient.rxnorm.first {
            coding.append(.object([("system", .string(PrescriptionForm.rxnorm)), ("code", .string(rx)), ("display", .string((ingredient.names.last ?? ingredient.id).trimmingCharacters(in: .whitespaces)))]))
        }
        let medication = JSON.object((coding.isEmpty ? [] : [("coding", JSON.array(coding))]) + [("text", .string(name))])
        let doseText = NSDecimalNumber(decimal: dose).stringValue
        let text = "\(doseText) mg \(frequency.spanish)" + (days.map { " durante \($0) días" } ?? "") + (instructions.isEmpty ? "" : ". \(instructions)")
        var dosage: [(String, JSON)] = [
            ("text", .string(text)),
            ("timing", .object([("code", .object([("coding", .array([.object([("system", .string(PrescriptionForm.gts)), ("code", .string(frequency.code))])])),
                                                  ("text", .string(frequency.spanish))]))])),
            ("doseAndRate", .array([.object([("doseQuantity", .object([("value", PrescriptionForm.number(dose)), ("unit", .string("mg")),
                                                                        ("system", .string("http://unitsofmeasure.org")), ("code", .string("mg"))]))])])),
        ]
        if !instructions.isEmpty { dosage.append(("patientInstruction", .string(instructions))) }
        var dispense: [(String, JSON)] = [
            ("numberOfRepeatsAllowed", .number("\(refills)")),
            ("quantity", .object([("value", .number("\(quantity)")), ("unit", .string(unit.code))])),
        ]
        if let days {
            dispense.append(("expectedSupplyDuration", .object([("value", .number("\(days)")), ("unit", .string("días")),
                                                                ("system", .string("http://unitsofmeasure.org")), ("code", .string("d"))])))
        }
        return .object([
            ("resourceType", .string("MedicationRequest")), ("status", .string("active")), ("intent", .string("order")),
            ("medicationCodeableConcept", medication),
            ("subject", .object([("reference", .string("Patient/\(patient)"))])),
            ("requester", .object([("reference", .string(prescriber))])),
            ("dosageInstruction", .array([.object(dosage)])),
            ("dispenseRequest", .object(dispense)),
        ])
    }

    /// The id the draft carries in the `order-sign` call (cards name it in their suggestions).
    public static let draftID = "receta-borrador"

    /// The `order-sign` draft of a prescription: status `draft`, with `draftID`.
    public static func draft(_ request: JSON) -> JSON {
        request.setting("status", .string("draft")).setting("id", .string(draftID))
    }

    /// A CDS Hooks `order-sign` request (https://cds-hooks.hl7.org/2.0/) for one draft order.
    public static func orderSign(_ draft: JSON, patient: String, user: String?) -> JSON {
        var context: [(String, JSON)] = [("patientId", .string(patient))]
        if let user { context.append(("userId", .string(user))) }
        context.append(("draftOrders", .object([("resourceType", .string("Bundle")), ("type", .string("collection")),
                                                 ("entry", .array([.object([("resource", draft)])]))])))
        return .object([("hook", .string("order-sign")), ("hookInstance", .string(UUID().uuidString.lowercased())), ("context", .object(context))])
    }
}

extension Card {
    /// A key that is the same for the same advice on the same draft (topic and summary), so a
    /// decision taken on the review step finds its card again when the cards are computed anew
    /// at signing (a card's uuid changes with every evaluation). FNV-1a, 64 bits, hex.
    public var adviceKey: String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in ((sourceTopic?.code ?? "") + "|" + summary).utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        return String(h, radix: 16)
    }

    /// Whether signing over this card needs the clinician's decision (a warning or critical
    /// card that offers override reasons).
    public var needsDecision: Bool { indicator != .info && !overrideReasons.isEmpty }
}
