import Foundation

/// The Care pages' strings (Spanish first): *Mis recetas*, *Mis referencias*, the pharmacy counter.
extension PortalStrings {
    var navPrescriptions: String { t("Mis recetas", "My prescriptions") }
    var navReferrals: String { t("Mis referencias", "My referrals") }
    var navCounter: String { t("Mostrador", "Counter") }

    var prescriptionsLead: String { t("Muestre el código de su receta en cualquier farmacia: solo con ese código pueden encontrarla y surtirla. No lo comparta con nadie más.",
                                      "Show your prescription code at any pharmacy: only with that code can they find and dispense it. Do not share it with anyone else.") }
    var noPrescriptions: String { t("No tiene recetas con código.", "You have no prescriptions with a code.") }
    var prescriptionCode: String { t("Código de receta", "Prescription code") }
    var dosage: String { t("Indicaciones", "Instructions") }
    var dispensedOf: String { t("Surtido", "Dispensed") }
    func dispensedAmount(_ done: String, _ allowed: String, _ unit: String) -> String {
        t("\(done) de \(allowed) \(unit)", "\(done) of \(allowed) \(unit)")
    }
    var validUntil: String { t("Vigente hasta", "Valid until") }
    var dispensedAt: String { t("Dónde se surtió", "Where it was dispensed") }
    var notDispensedYet: String { t("Aún no se ha surtido.", "Not dispensed yet.") }
    var statusLabel: String { t("Estado", "Status") }

    var referralsLead: String { t("Sus referencias a otras instituciones y en qué punto está cada una. Mientras una referencia está aceptada, la institución que la recibió puede ver su expediente; puede cancelarla cuando quiera.",
                                  "Your referrals to other institutions and where each stands. While a referral is accepted, the receiving institution can see your record; you may cancel it at any time.") }
    var noReferrals: String { t("No tiene referencias.", "You have no referrals.") }
    var referredTo: String { t("Referido a", "Referred to") }
    var referredBy: String { t("Refiere", "Referred by") }
    var referralReason: String { t("Motivo", "Reason") }
    var accessUntil: String { t("Acceso hasta", "Access until") }
    var cancelReferral: String { t("Cancelar referencia", "Cancel referral") }
    var cancelReferralConfirm: String { t("¿Cancelar esta referencia? La institución dejará de ver su expediente.", "Cancel this referral? The institution will no longer see your record.") }
    var referralCancelled: String { t("Referencia cancelada: la institución ya no ve su expediente.", "Referral cancelled: the institution no longer sees your record.") }
    func referralStatus(_ s: String) -> String {
        switch s {
        case "draft": return t("Borrador", "Draft")
        case "requested": return t("Enviada, en espera", "Sent, waiting")
        case "received": return t("Recibida", "Received")
        case "accepted": return t("Aceptada", "Accepted")
        case "rejected": return t("Rechazada", "Rejected")
        case "ready", "in-progress": return t("En atención", "In progress")
        case "on-hold": return t("En pausa (se pidió información)", "On hold (information requested)")
        case "completed": return t("Concluida", "Completed")
        case "cancelled": return t("Cancelada", "Cancelled")
        case "failed": return t("No se pudo atender", "Failed")
        default: return s
        }
    }

    var counterLead: String { t("Escriba o escanee el código de la receta que le muestra el paciente. Solo verá lo necesario para surtir.",
                                "Type or scan the prescription code the patient shows you. You will see only what dispensing needs.") }
    var findPrescription: String { t("Buscar receta", "Find prescription") }
    var noSuchCode: String { t("Ninguna receta tiene este código. Verifíquelo con el paciente.", "No prescription has this code. Check it with the patient.") }
    var remaining: String { t("Por surtir", "Remaining") }
    var quantityToDispense: String { t("Cantidad a surtir", "Quantity to dispense") }
    var dispenseButton: String { t("Surtir", "Dispense") }
    func dispensedNow(_ amount: String, _ unit: String) -> String { t("Se registró la entrega de \(amount) \(unit).", "Dispensing of \(amount) \(unit) recorded.") }
    var patientLabel: String { t("Paciente", "Patient") }
    var medicineLabel: String { t("Medicamento", "Medicine") }
    var controlledLabel: String { t("Medicamento controlado", "Controlled medicine") }

    var navInbox: String { t("Referencias recibidas", "Referrals received") }
    var inboxLead: String { t("Referencias enviadas a usted o a su institución. Mientras esperan, solo ve la referencia y sus documentos; al aceptarla puede ver el expediente del paciente durante el periodo de la referencia.",
                              "Referrals sent to you or your institution. While they wait you see only the referral and its documents; once you accept, you may see the patient's record for the referral's period.") }
    var inboxEmpty: String { t("No hay referencias pendientes.", "No pending referrals.") }
    var markReceived: String { t("Marcar recibida", "Mark received") }
    var acceptReferral: String { t("Aceptar", "Accept") }
    var rejectReferral: String { t("Rechazar", "Reject") }
    var startReferral: String { t("Iniciar atención", "Start care") }
    var rejectReason: String { t("Motivo (obligatorio para rechazar)", "Reason (required to reject)") }
    func referralMoved(_ state: String) -> String { t("Referencia actualizada: \(state).", "Referral updated: \(state).") }
}
