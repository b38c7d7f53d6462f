import FHIR
import Foundation

/// Controlled medicines (Ley General de Salud art. 226 fr. I–III, the COFEPRIS "grupos" I–III)
/// and the prescription rules Enlace enforces for them; knowledge, versioned JSON below, with
/// the legal sources and choices in docs/prescribing.md.
public struct ControlledMedicines: Sendable {
    public struct Group: Sendable, Equatable {
        /// `I`, `II` or `III`.
        public var group: String
        public var names: [String]
        public var maxValidityDays: Int
        public var refillsAllowed: Int
        public var spanish: String
        public var source: String
    }

    public var version: String
    /// Validity of an ordinary prescription without `dispenseRequest.validityPeriod`.
    public var defaultValidityDays: Int
    public var groups: [Group]

    public static let groupSystem = "https://enlace.mx/fhir/CodeSystem/cofepris-grupo"

    public init(json: JSON) throws {
        func bad() -> FHIRError {
            FHIRError(status: 500, code: "exception", english: "the controlled medicines knowledge is malformed",
                      spanish: "el conocimiento de medicamentos controlados está mal formado")
        }
        func int(_ j: JSON?) -> Int? { if case let .number(n)? = j { return Int(n) }; return nil }
        guard let v = json["version"]?.stringValue, let d = int(json["defaultValidityDays"]) else { throw bad() }
        version = v
        defaultValidityDays = d
        groups = try (json["group"]?.arrayValue ?? []).map { g in
            guard let id = g["group"]?.stringValue, let days = int(g["maxValidityDays"]), let refills = int(g["refillsAllowed"]),
                  let es = g["es"]?.stringValue else { throw bad() }
            return Group(group: id, names: (g["name"]?.arrayValue ?? []).compactMap(\.stringValue).map(MedicationKnowledge.normalize),
                         maxValidityDays: days, refillsAllowed: refills, spanish: es, source: g["source"]?.stringValue ?? "")
        }
    }

    public static let embedded: ControlledMedicines = {
        // the embedded document is checked by a test; a malformed one is a programming error
        try! ControlledMedicines(json: try! JSONParser.parse(controlledMedicinesJSON))
    }()

    /// The group of a MedicationRequest: an explicit `category` coding of `groupSystem` wins,
    /// else the medicine's name.
    public func group(of request: JSON) -> Group? {
        for c in request["category"]?.arrayValue ?? [] {
            for coding in c["coding"]?.arrayValue ?? [] where coding["system"]?.stringValue == ControlledMedicines.groupSystem {
                if let g = groups.first(where: { $0.group == coding["code"]?.stringValue }) { return g }
            }
        }
        let concept = request["medicationCodeableConcept"]
        let text = MedicationKnowledge.normalize(([concept?["text"]?.stringValue] + (concept?["coding"]?.arrayValue ?? []).map { $0["display"]?.stringValue })
            .compactMap { $0 }.joined(separator: " "))
        return groups.first { g in g.names.contains { text.contains($0) } }
    }
}

/// Versioned knowledge: COFEPRIS groups I–III (sources in docs/prescribing.md).
public let controlledMedicinesJSON = #"""
{
  "id": "enlace-controlled-medicines",
  "version": "2026.12.1",
  "defaultValidityDays": 180,
  "group": [
    {"group": "I", "maxValidityDays": 30, "refillsAllowed": 0,
     "es": "Grupo I (estupefacientes): receta especial, sin resurtidos, vigencia de 30 días",
     "source": "Ley General de Salud arts. 226 fr. I, 240, 241; Reglamento de Insumos para la Salud arts. 50-52",
     "name": ["morfina", "morphine", "fentanilo", "fentanyl", "oxicodona", "oxycodone", "hidromorfona", "hydromorphone", "metadona", "methadone",
              "buprenorfina", "buprenorphine", "petidina", "meperidina", "pethidine", "codeina", "codeine", "tapentadol", "metilfenidato", "methylphenidate"]},
    {"group": "II", "maxValidityDays": 30, "refillsAllowed": 0,
     "es": "Grupo II (psicotrópicos, art. 245 fr. II): receta retenida, sin resurtidos, vigencia de 30 días",
     "source": "Ley General de Salud arts. 226 fr. II, 245 fr. II, 250-252",
     "name": ["amobarbital", "pentobarbital", "secobarbital", "butalbital", "flunitrazepam", "ketamina", "ketamine"]},
    {"group": "III", "maxValidityDays": 30, "refillsAllowed": 0,
     "es": "Grupo III (psicotrópicos, art. 245 fr. III): sin resurtidos en Enlace (la ley permite surtir hasta tres veces), vigencia de 30 días",
     "source": "Ley General de Salud arts. 226 fr. III, 245 fr. III",
     "name": ["alprazolam", "clonazepam", "diazepam", "lorazepam", "bromazepam", "midazolam", "triazolam", "fenobarbital", "phenobarbital",
              "zolpidem", "clobazam"]}
  ]
}
"""#
