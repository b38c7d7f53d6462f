import Foundation

/// The strings of the clinician's *Recetar* and *Referir* pages (Spanish first).
extension PortalStrings {
    var prescribe: String { t("Recetar", "Prescribe") }
    var prescribeLead: String {
        t("Escriba la receta y revise las alertas antes de firmar: interacciones, alergias y dosis se revisan con lo que usted puede ver del expediente. Para firmar pese a una alerta, indique el motivo; su decisión queda registrada. Al firmar, la receta recibe un código que el paciente presenta en cualquier farmacia.",
          "Write the prescription and check the alerts before signing: interactions, allergies and doses are checked against what you may see of the record. To sign despite an alert, give the reason; your decision is recorded. Once signed, the prescription gets a code the patient shows at any pharmacy.")
    }
    func qrLabel(_ code: String) -> String { t("Código QR de la receta \(code)", "QR code of the prescription \(code)") }
    var prescriptionIssued: String { t("Receta firmada y emitida. Código para la farmacia:", "Prescription signed and issued. Code for the pharmacy:") }
    var prescriptionDeclined: String {
        t("No se emitió la receta. Quedó registrado que siguió la recomendación.", "No prescription was issued. Your decision to follow the advice was recorded.")
    }
    var alertsUndecided: String {
        t("No se firmó nada. Para firmar, elija el motivo de cada alerta, o no recete:", "Nothing was signed. To sign, choose the reason for each alert, or do not prescribe:")
    }
    var alertUndecided: String { t("Elija un motivo para firmar pese a esta alerta.", "Choose a reason to sign despite this alert.") }
    var signingNow: String { t("Firmando con la llave de este navegador…", "Signing with this browser's key…") }
    var signatureHint: String {
        t("Al firmar, este navegador firma la receta con su llave (se crea la primera vez y no sale del navegador).",
          "When you sign, this browser signs the prescription with your key (made the first time; it never leaves the browser).")
    }
    var signatureRequiredSpanish: String {
        "Sus recetas llevan firma digital y esta llegó sin firma: use un navegador con JavaScript y WebCrypto, o firme por la API. No se emitió nada."
    }
    var signatureRequiredEnglish: String {
        "Your prescriptions carry a digital signature and this one arrived unsigned: use a browser with JavaScript and WebCrypto, or sign through the API. Nothing was issued."
    }
    var signatureLabel: String { t("Firma", "Signature") }
    var signatureVerified: String { t("Firma verificada", "Signature verified") }
    var signatureMissing: String { t("Sin firma digital", "No digital signature") }
    var signatureFailed: String { t("La firma NO se verifica", "The signature does NOT verify") }
    var chooseOne: String { t("Elija…", "Choose…") }
    var presentationLabel: String { t("Presentación (opcional)", "Presentation (optional)") }
    var presentationHint: String { t("Por ejemplo: 850 mg tabletas", "For example: 850 mg tablets") }
    var doseLabel: String { t("Dosis por toma (mg)", "Dose per intake (mg)") }
    var frequencyLabel: String { t("Cada cuándo", "How often") }
    var quantityLabel: String { t("Cantidad a surtir", "Quantity to dispense") }
    var unitLabel: String { t("Unidad", "Unit") }
    var refillsLabel: String { t("Resurtidos", "Refills") }
    var refillsHint: String { t("0 a 12; los medicamentos controlados no llevan resurtidos.", "0 to 12; controlled medicines get no refills.") }
    var durationLabel: String { t("Duración del tratamiento en días (opcional)", "Length of treatment in days (optional)") }
    var instructionsLabel: String { t("Indicaciones para el paciente (opcional)", "Instructions for the patient (optional)") }
    var checkAlerts: String { t("Revisar alertas", "Check alerts") }
    var signPrescription: String { t("Firmar y emitir receta", "Sign and issue") }
    var followAlert: String { t("No recetar: seguir la alerta", "Do not prescribe: follow the alert") }
    var alertsHeading: String { t("Alertas antes de firmar", "Alerts before signing") }
    var noAlerts: String { t("Sin alertas: ni interacciones, ni alergias, ni dosis fuera de rango en lo que usted puede ver.",
                             "No alerts: no interactions, allergies or doses out of range in what you may see.") }
    func indicatorName(_ i: String) -> String {
        switch i {
        case "critical": return t("Crítica", "Critical")
        case "warning": return t("Advertencia", "Warning")
        default: return t("Información", "Information")
        }
    }
    func sourceOf(_ label: String) -> String { t("Fuente: \(label)", "Source: \(label)") }
    var overrideLegend: String { t("Para firmar pese a esta alerta, elija el motivo", "To sign despite this alert, choose the reason") }
    var overrideComment: String { t("Comentario (opcional)", "Comment (optional)") }

    var refer: String { t("Referir", "Refer") }
    var referLead: String {
        t("Refiera al paciente a otra institución. Mientras espera respuesta, la institución solo ve la referencia y los documentos que usted adjunte; si la acepta, atiende al paciente durante la vigencia elegida. El paciente ve la referencia y puede cancelarla.",
          "Refer the patient to another institution. While it waits, the institution sees only the referral and the documents you attach; once it accepts, it treats the patient for the period chosen. The patient sees the referral and may cancel it.")
    }
    func referralSent(_ to: String) -> String { t("Referencia enviada a \(to). Queda en espera de que la reciban.", "Referral sent to \(to). It waits for them to receive it.") }
    var destinationLabel: String { t("Institución que recibe", "Receiving institution") }
    var serviceLabel: String { t("Servicio o especialidad", "Service or specialty") }
    var serviceHint: String { t("Por ejemplo: Valoración por cardiología", "For example: Cardiology assessment") }
    var referralReasonLabel: String { t("Motivo de la referencia", "Reason for the referral") }
    var priorityLabel: String { t("Prioridad", "Priority") }
    var accessPeriodLabel: String { t("Acceso de la institución, una vez aceptada", "The institution's access, once accepted") }
    var accessPeriodHint: String { t("Al terminar, la institución deja de ver el expediente.", "When it ends, the institution no longer sees the record.") }
    func daysCount(_ n: Int) -> String { t("\(n) días", "\(n) days") }
    var documentsLabel: String { t("Documentos que viajan con la referencia", "Documents that travel with the referral") }
    var documentsHint: String { t("La institución los ve desde que recibe la referencia.", "The institution sees them as soon as it receives the referral.") }
    var noDocuments: String { t("No hay documentos del paciente que usted pueda ver.", "There are no documents of the patient you may see.") }
    var sendReferral: String { t("Enviar referencia", "Send referral") }
    var patientReferrals: String { t("Referencias del paciente", "The patient's referrals") }
}
