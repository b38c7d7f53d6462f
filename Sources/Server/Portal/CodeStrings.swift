import FHIR

/// Coded values as a person reads them, in the page's language: the statuses and other codes of
/// the FHIR R4 value sets the portal shows (https://hl7.org/fhir/R4/terminologies-valuesets.html
/// — the English is the value set's own display; the Spanish is ours, es-MX), resource types,
/// and the HL7 codings of a CodeableConcept without text. A code the portal does not know is
/// shown as the data has it (its display, or the code). `Tests/ServerTests/PortalCodeTests.swift`
/// checks that every code of the value sets listed in `PortalStrings.displayedValueSets` has
/// a name in both languages.
extension PortalStrings {
    /// The FHIR status and category codes the portal shows, by code (the same code means the
    /// same thing in each of these value sets).
    func codeName(_ code: String) -> String? {
        switch code {
        // event, request, encounter, observation, report, medication, task, consent, appointment statuses
        case "planned": return t("programado", "Planned")
        case "arrived": return t("llegó", "Arrived")
        case "triaged": return t("en triaje", "Triaged")
        case "in-progress": return t("en curso", "In Progress")
        case "onleave": return t("de permiso", "On Leave")
        case "finished": return t("concluido", "Finished")
        case "completed": return t("concluido", "Completed")
        case "cancelled": return t("cancelado", "Cancelled")
        case "entered-in-error": return t("registrado por error", "Entered in Error")
        case "unknown": return t("desconocido", "Unknown")
        case "registered": return t("registrado", "Registered")
        case "preliminary": return t("preliminar", "Preliminary")
        case "final": return t("definitivo", "Final")
        case "amended": return t("modificado", "Amended")
        case "corrected": return t("corregido", "Corrected")
        case "partial": return t("parcial", "Partial")
        case "appended": return t("con anexo", "Appended")
        case "current": return t("vigente", "Current")
        case "superseded": return t("reemplazado", "Superseded")
        case "draft": return t("borrador", "Draft")
        case "proposed": return t("propuesto", "Proposed")
        case "rejected": return t("rechazado", "Rejected")
        case "active": return t("activo", "Active")
        case "inactive": return t("inactivo", "Inactive")
        case "requested": return t("solicitado", "Requested")
        case "received": return t("recibido", "Received")
        case "accepted": return t("aceptado", "Accepted")
        case "ready": return t("listo", "Ready")
        case "on-hold", "onhold": return t("en pausa", "On Hold")
        case "failed": return t("fallido", "Failed")
        case "suspended": return t("suspendido", "Suspended")
        case "pending": return t("pendiente", "Pending")
        case "booked": return t("agendado", "Booked")
        case "fulfilled": return t("atendido", "Fulfilled")
        case "noshow": return t("no se presentó", "No Show")
        case "checked-in": return t("registrado a su llegada", "Checked In")
        case "waitlist": return t("en lista de espera", "Waitlisted")
        case "stopped": return t("suspendido", "Stopped")
        case "intended": return t("previsto", "Intended")
        case "not-taken": return t("no tomado", "Not Taken")
        case "not-done": return t("no realizado", "Not Done")
        case "preparation": return t("en preparación", "Preparation")
        case "revoked": return t("revocado", "Revoked")
        case "declined": return t("declinado", "Declined")
        case "accepted-with-changes": return t("aceptado con cambios", "Accepted with Changes")
        case "achieved": return t("alcanzado", "Achieved")
        case "sustaining": return t("se mantiene", "Sustaining")
        // clinical and verification status (Condition, AllergyIntolerance)
        case "recurrence": return t("recurrencia", "Recurrence")
        case "relapse": return t("recaída", "Relapse")
        case "remission": return t("en remisión", "Remission")
        case "resolved": return t("resuelto", "Resolved")
        case "unconfirmed": return t("sin confirmar", "Unconfirmed")
        case "provisional": return t("provisional", "Provisional")
        case "differential": return t("diferencial", "Differential")
        case "confirmed": return t("confirmado", "Confirmed")
        case "refuted": return t("descartado", "Refuted")
        // AllergyIntolerance criticality, type, category
        case "low": return t("riesgo bajo", "Low Risk")
        case "high": return t("riesgo alto", "High Risk")
        case "unable-to-assess": return t("riesgo no evaluable", "Unable to Assess Risk")
        case "allergy": return t("alergia", "Allergy")
        case "intolerance": return t("intolerancia", "Intolerance")
        case "food": return t("alimento", "Food")
        case "medication": return t("medicamento", "Medication")
        case "environment": return t("ambiental", "Environment")
        case "biologic": return t("biológico", "Biologic")
        default: return nil
        }
    }

    /// The value sets whose codes the portal shows as they are (statuses of the record's
    /// resources, the clinical and verification status of diagnoses and allergies), for the test
    /// that each has a name. Value sets the compiled definitions do not expand are listed with
    /// their R4 codes.
    static let displayedValueSets: [(element: String, codes: [String]?)] = [
        ("Encounter.status", nil), ("Observation.status", nil), ("DiagnosticReport.status", nil), ("DocumentReference.status", nil),
        ("Consent.status", nil), ("Task.status", nil), ("CareTeam.status", nil), ("Appointment.status", nil), ("EpisodeOfCare.status", nil),
        ("Goal.lifecycleStatus", nil), ("AllergyIntolerance.criticality", nil), ("AllergyIntolerance.type", nil), ("AllergyIntolerance.category", nil),
        ("MedicationRequest.status", ["active", "on-hold", "cancelled", "completed", "entered-in-error", "stopped", "draft", "unknown"]),
        ("MedicationStatement.status", ["active", "completed", "entered-in-error", "intended", "stopped", "on-hold", "unknown", "not-taken"]),
        ("MedicationDispense.status", ["preparation", "in-progress", "cancelled", "on-hold", "completed", "entered-in-error", "stopped", "declined", "unknown"]),
        ("Immunization.status", ["completed", "entered-in-error", "not-done"]),
        ("Procedure.status", ["preparation", "in-progress", "not-done", "on-hold", "stopped", "completed", "entered-in-error", "unknown"]),
        ("CarePlan.status", ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]),
        ("ServiceRequest.status", ["draft", "active", "on-hold", "revoked", "completed", "entered-in-error", "unknown"]),
        ("Coverage.status", ["active", "cancelled", "draft", "entered-in-error"]),
        ("Condition.clinicalStatus", ["active", "recurrence", "relapse", "inactive", "remission", "resolved"]),
        ("Condition.verificationStatus", ["unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"]),
        ("AllergyIntolerance.clinicalStatus", ["active", "inactive", "resolved"]),
        ("AllergyIntolerance.verificationStatus", ["unconfirmed", "confirmed", "refuted", "entered-in-error"]),
    ]

    /// A CodeableConcept as a person reads it: its text; else, for a coding of an HL7 code system
    /// the portal knows, the code's name in the page's language; else the coding's display (and
    /// code), as `Portal.text`.
    func concept(_ concept: JSON?) -> String? {
        guard let c = concept else { return nil }
        if let text = c["text"]?.stringValue { return text }
        for coding in c["coding"]?.arrayValue ?? [] {
            let system = coding["system"]?.stringValue ?? ""
            guard system.hasPrefix("http://terminology.hl7.org/CodeSystem/") || system.hasPrefix("http://hl7.org/fhir/"),
                  let code = coding["code"]?.stringValue else { continue }
            if let name = codeName(code) ?? activityCodeName(code) { return name }
        }
        return Portal.text(c)
    }

    /// v3 DataOperation codes (Provenance.activity), or nil.
    func activityCodeName(_ code: String) -> String? {
        switch code.uppercased() {
        case "CREATE": return t("Registro", "Created")
        case "UPDATE": return t("Modificación", "Updated")
        case "DELETE": return t("Eliminación", "Deleted")
        case "APPEND": return t("Anexo", "Appended")
        case "NULLIFY": return t("Anulación", "Nullified")
        case "MERGE": return t("Fusión de expedientes", "Records merged")  // ISO 21089 (Patient/$merge, docs/interop.md)
        case "UNMERGE": return t("Separación de expedientes", "Records unmerged")
        case "EXECUTE": return t("Ejecución", "Executed")
        // a clinician's decision about an algorithm's result (docs/prevention.md)
        case "ALGORITHM-ACCEPTED": return t("Su médico aceptó el resultado del algoritmo", "Your clinician accepted the algorithm's result")
        case "ALGORITHM-OVERRIDDEN": return t("Su médico rechazó el resultado del algoritmo", "Your clinician overrode the algorithm's result")
        case "ABORT": return t("Interrupción", "Aborted")
        case "ACTIVATE": return t("Activación", "Activated")
        case "CANCEL": return t("Cancelación", "Cancelled")
        case "COMPLETE": return t("Conclusión", "Completed")
        case "HOLD": return t("Pausa", "Held")
        case "RELEASE": return t("Liberación", "Released")
        case "REACTIVATE": return t("Reactivación", "Reactivated")
        case "RESUME": return t("Reanudación", "Resumed")
        case "SUSPEND": return t("Suspensión", "Suspended")
        case "OBSOLETE": return t("Sustitución", "Obsoleted")
        default: return nil
        }
    }

    /// Resource types of the Patient compartment and the shared types a record refers to, by
    /// what they hold; nil for a type the portal has no name for.
    func resourceTypeName(_ type: String) -> String? {
        switch type {
        case "Account": return t("Cuentas", "Accounts")
        case "AdverseEvent": return t("Eventos adversos", "Adverse events")
        case "Appointment": return t("Citas", "Appointments")
        case "AppointmentResponse": return t("Respuestas a citas", "Appointment responses")
        case "AuditEvent": return t("Registros de acceso", "Access records")
        case "Basic": return t("Otros registros", "Other records")
        case "BodyStructure": return t("Estructuras anatómicas", "Body structures")
        case "ChargeItem": return t("Cargos", "Charges")
        case "Claim": return t("Reclamaciones", "Claims")
        case "ClaimResponse": return t("Respuestas a reclamaciones", "Claim responses")
        case "ClinicalImpression": return t("Valoraciones clínicas", "Clinical impressions")
        case "Communication": return t("Comunicaciones", "Communications")
        case "CommunicationRequest": return t("Solicitudes de comunicación", "Communication requests")
        case "Composition": return t("Documentos clínicos", "Clinical documents")
        case "CoverageEligibilityRequest": return t("Consultas de elegibilidad", "Eligibility requests")
        case "CoverageEligibilityResponse": return t("Respuestas de elegibilidad", "Eligibility responses")
        case "DetectedIssue": return t("Alertas clínicas", "Detected issues")
        case "DeviceRequest": return t("Solicitudes de dispositivos", "Device requests")
        case "DeviceUseStatement": return t("Uso de dispositivos", "Device use")
        case "DocumentManifest": return t("Conjuntos de documentos", "Document sets")
        case "EnrollmentRequest": return t("Solicitudes de afiliación", "Enrollment requests")
        case "EpisodeOfCare": return t("Episodios de atención", "Episodes of care")
        case "ExplanationOfBenefit": return t("Explicaciones de beneficios", "Explanations of benefit")
        case "FamilyMemberHistory": return t("Antecedentes familiares", "Family history")
        case "Flag": return t("Avisos", "Flags")
        case "Goal": return t("Metas", "Goals")
        case "Group": return t("Grupos", "Groups")
        case "ImagingStudy": return t("Estudios de imagen", "Imaging studies")
        case "ImmunizationEvaluation": return t("Evaluaciones de vacunas", "Immunization evaluations")
        case "ImmunizationRecommendation": return t("Vacunas recomendadas", "Immunization recommendations")
        case "Invoice": return t("Facturas", "Invoices")
        case "List": return t("Listas", "Lists")
        case "MeasureReport": return t("Informes de indicadores", "Measure reports")
        case "Media": return t("Imágenes y multimedia", "Media")
        case "MedicationAdministration": return t("Administración de medicamentos", "Medication administrations")
        case "MolecularSequence": return t("Secuencias moleculares", "Molecular sequences")
        case "NutritionOrder": return t("Indicaciones de nutrición", "Nutrition orders")
        case "QuestionnaireResponse": return t("Cuestionarios respondidos", "Questionnaire responses")
        case "RelatedPerson": return t("Familiares y representantes", "Related people")
        case "RequestGroup": return t("Grupos de solicitudes", "Request groups")
        case "ResearchSubject": return t("Participación en estudios", "Research participation")
        case "RiskAssessment": return t("Evaluaciones de riesgo", "Risk assessments")
        case "Schedule": return t("Agendas", "Schedules")
        case "ServiceRequest": return t("Solicitudes de estudios y servicios", "Service requests")
        case "Specimen": return t("Muestras", "Specimens")
        case "SupplyDelivery": return t("Entregas de insumos", "Supply deliveries")
        case "SupplyRequest": return t("Solicitudes de insumos", "Supply requests")
        case "Task": return t("Tareas", "Tasks")
        case "VisionPrescription": return t("Recetas de lentes", "Vision prescriptions")
        case "Practitioner": return t("Profesionales de salud", "Practitioners")
        case "PractitionerRole": return t("Funciones de profesionales", "Practitioner roles")
        case "Organization": return t("Instituciones", "Organizations")
        case "Location": return t("Lugares", "Locations")
        case "HealthcareService": return t("Servicios de salud", "Healthcare services")
        case "Medication": return t("Medicamentos", "Medications")
        case "Device": return t("Dispositivos", "Devices")
        case "Subscription": return t("Suscripciones", "Subscriptions")
        case "Bundle": return t("Paquetes de datos", "Bundles")
        case "Binary": return t("Archivos", "Files")
        case "Person": return t("Personas", "People")
        case "Endpoint": return t("Puntos de conexión", "Endpoints")
        default: return nil
        }
    }

    /// A PurposeOfUse code (v3) the privacy policy knows, or nil.
    func purposeCodeName(_ code: String) -> String? {
        switch code {
        case "HRESCH": return t("Investigación en salud", "Health research")
        case "CLINTRCH": return t("Ensayo clínico", "Clinical trial research")
        case "HMARKT": return t("Mercadotecnia", "Marketing")
        case "MLTRAINING": return t("Entrenamiento de algoritmos", "Algorithm training")
        case "HDEID": return t("Anonimización", "De-identification")
        case "TRAIN": return t("Capacitación", "Training")
        case "PUBHLTH": return t("Salud pública", "Public health")
        case "POPHLTH": return t("Salud de la población", "Population health")
        case "CAREMGT": return t("Coordinación de la atención", "Care management")
        case "COVERAGE": return t("Cobertura de seguro", "Coverage")
        case "HSYSADMIN": return t("Administración de sistemas", "System administration")
        case "HLEGAL": return t("Asuntos legales", "Legal")
        case "FAMRQT": return t("A petición de un familiar", "Family request")
        case "PWATRNY": return t("Representante legal", "Power of attorney")
        case "SUPNWK": return t("Red de apoyo", "Support network")
        case "BTG": return t("Romper el cristal", "Break the glass")
        case "ERTREAT": return t("Respuesta a emergencias", "Emergency response")
        case "CLINTRL": return t("Ensayo clínico", "Clinical trial")
        case "HQUALIMP": return t("Mejora de la calidad", "Quality improvement")
        default: return nil
        }
    }
}
