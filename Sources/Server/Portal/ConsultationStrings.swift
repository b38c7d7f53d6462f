import Foundation

/// The consultation page's strings (Spanish first): *Registrar consulta* and *Corregir nota*.
extension PortalStrings {
    var recordVisit: String { t("Registrar consulta", "Record a visit") }
    var recordVisitLead: String { t("Registre la consulta: motivo, nota (SOAP o texto libre), signos vitales y diagnósticos CIE-10. Se guarda firmada por usted, en una sola operación, y aparece en el expediente del paciente.",
                                    "Record the visit: reason, note (SOAP or free text), vital signs and CIE-10 diagnoses. It is stored signed by you, in one operation, and appears in the patient's record.") }
    var visitReason: String { t("Motivo de la consulta", "Reason for the visit") }
    var visitMode: String { t("Modalidad", "Kind of visit") }
    var inPerson: String { t("Presencial", "In person") }
    var telemedicineVisit: String { t("Telemedicina", "Telemedicine") }
    var noteHeading: String { t("Nota clínica", "Clinical note") }
    var noteHint: String { t("Use las secciones SOAP, el texto libre, o ambos.", "Use the SOAP sections, free text, or both.") }
    func sectionLabel(_ key: String) -> String {
        switch key {
        case "subjetivo": return t("Subjetivo (lo que refiere el paciente)", "Subjective (what the patient reports)")
        case "objetivo": return t("Objetivo (exploración)", "Objective (examination)")
        case "analisis": return t("Análisis (valoración)", "Assessment")
        case "plan": return t("Plan", "Plan")
        default: return t("Nota en texto libre", "Free-text note")
        }
    }
    var vitalsHeading: String { t("Signos vitales", "Vital signs") }
    var vitalsHint: String { t("Opcionales. Se rechazan valores fuera de lo posible.", "Optional. Impossible values are refused.") }
    func vitalLabel(_ key: String) -> String {
        switch key {
        case "peso": return t("Peso", "Weight")
        case "talla": return t("Talla", "Height")
        case "sistolica": return t("Presión sistólica", "Systolic pressure")
        case "diastolica": return t("Presión diastólica", "Diastolic pressure")
        case "frecuencia": return t("Frecuencia cardiaca", "Heart rate")
        case "temperatura": return t("Temperatura", "Temperature")
        default: return t("Glucosa capilar", "Blood glucose")
        }
    }
    var diagnosesHeading: String { t("Diagnósticos (CIE-10)", "Diagnoses (CIE-10)") }
    var diagnosesHint: String { t("Escriba el código o parte del nombre (por ejemplo «diabetes») y elija de la lista; sin JavaScript, escriba el código (E11.9).",
                                  "Type the code or part of the name (e.g. “diabetes”) and choose from the list; without JavaScript, type the code (E11.9).") }
    func diagnosisLabel(_ n: Int) -> String { t("Diagnóstico \(n)", "Diagnosis \(n)") }
    var saveVisit: String { t("Firmar y guardar consulta", "Sign and save visit") }
    var visitRefused: String { t("No se guardó nada. Corrija lo siguiente:", "Nothing was stored. Please correct the following:") }
    var visitRecorded: String { t("Consulta registrada y firmada.", "Visit recorded and signed.") }
    var correctNote: String { t("Corregir nota", "Correct note") }
    var correctNoteLead: String { t("La corrección se guarda como una nueva versión firmada de la nota, con su motivo; la versión anterior queda en el historial.",
                                    "The correction is stored as a new signed version of the note, with its reason; the earlier version stays in the history.") }
    var correctionReason: String { t("Motivo de la corrección (obligatorio)", "Reason for the correction (required)") }
    var saveCorrection: String { t("Firmar corrección", "Sign correction") }
    var noteCorrected: String { t("Nota corregida: se guardó una nueva versión con su motivo.", "Note corrected: a new version was stored with its reason.") }
    var amendedNote: String { t("Nota corregida", "Corrected note") }
    func noteVersion(_ v: String) -> String { t("versión \(v)", "version \(v)") }
    var noteSignatureHint: String {
        t("Al firmar, este navegador firma la consulta con su llave (se crea la primera vez y no sale del navegador).",
          "When you sign, this browser signs the visit with your key (made the first time; it never leaves the browser).")
    }
    static let noteSignatureRequired = (
        english: "Your consultations carry a digital signature and this one arrived unsigned: use a browser with JavaScript and WebCrypto. Nothing was stored.",
        spanish: "Sus consultas llevan firma digital y esta llegó sin firma: use un navegador con JavaScript y WebCrypto. No se guardó nada."
    )
}
