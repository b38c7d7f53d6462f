import FHIR
import Foundation

/// The CDS Hooks 2.0 services Enlace offers (https://cds-hooks.hl7.org/2.0/#discovery).
public enum CDSCatalogue {
    public struct Service: Sendable {
        public var id: String
        public var hook: String
        public var title: String
        public var description: String
        public var prefetch: [(String, String)]
    }

    public static let duplicateStudies = "enlace-duplicate-studies"
    public static let orderSign = "enlace-order-sign"
    public static let patientView = "enlace-patient-view"

    public static let services: [Service] = [
        Service(id: duplicateStudies, hook: "order-select",
                title: "Estudios repetidos / Duplicate studies",
                description: "Al seleccionar un estudio de laboratorio o imagen, avisa si ya hay un resultado equivalente vigente en el expediente del paciente (en cualquier institución), con su valor, fecha e institución. / On selecting a lab or imaging order, tells whether an equivalent recent result exists anywhere in the patient's record.",
                prefetch: [("patient", "Patient/{{context.patientId}}")]),
        Service(id: orderSign, hook: "order-sign",
                title: "Revisión al firmar / Order-sign review",
                description: "Al firmar órdenes: estudio repetido, interacción medicamentosa, alergia a medicamentos y dosis diaria mayor a la máxima (tablas curadas y citadas). / On signing orders: duplicate study, drug-drug interaction, drug-allergy and daily dose above the maximum (small curated, cited tables).",
                prefetch: [("patient", "Patient/{{context.patientId}}"),
                           ("medications", "MedicationRequest?patient={{context.patientId}}&status=active"),
                           ("allergies", "AllergyIntolerance?patient={{context.patientId}}")]),
        Service(id: patientView, hook: "patient-view",
                title: "Alertas del paciente / Patient alerts",
                description: "Al abrir el expediente: interacciones y alergias entre los medicamentos activos, y estudios de control vencidos de los medicamentos crónicos. / On opening the record: interactions and allergies among active medicines, and overdue monitoring of chronic medicines.",
                prefetch: [("patient", "Patient/{{context.patientId}}"),
                           ("medications", "MedicationRequest?patient={{context.patientId}}&status=active")]),
    ]

    public static func service(_ id: String) -> Service? { services.first { $0.id == id } }

    /// `GET /cds-services`.
    public static var discovery: JSON {
        object(("services", .array(services.map { s in
            object(("hook", .string(s.hook)), ("title", .string(s.title)), ("description", .string(s.description)), ("id", .string(s.id)),
                   ("prefetch", .object(s.prefetch.map { ($0.0, .string($0.1)) })),
                   ("usageRequirements", .string("Authorization: Bearer with an Enlace access token (SMART); the cards show only what that user may see. See docs/care.md.")))
        })))
    }
}
