import Foundation
import Prevention

/// The strings of the Prevention pages (*Mi prevención*, the clinician's gaps and panel).
extension PortalStrings {
    var navPrevention: String { t("Mi prevención", "My prevention") }
    var navPreventionPanel: String { t("Brechas de mis pacientes", "My patients' gaps") }
    var preventionLead: String {
        t("Sus vacunas y estudios de la Cartilla Nacional de Salud, con lo que le toca, lo que está atrasado y lo que ya tiene — sin importar en qué institución se lo aplicaron.",
          "Your vaccines and check-ups from Mexico's Cartilla Nacional de Salud: what is due, what is overdue and what you already have — whichever institution gave it.")
    }
    var preventionNothing: String { t("No hay vacunas ni estudios de la Cartilla para su edad registrados.", "There are no Cartilla vaccines or check-ups for your age.") }
    var preventionNoBirthDate: String { t("Sin fecha de nacimiento en su expediente no podemos calcular su esquema.", "Without a birth date in your record we cannot work out your schedule.") }
    var preventionWhatFor: String { t("Para qué sirve", "What it is for") }
    var preventionLast: String { t("Última vez", "Last time") }
    var preventionNext: String { t("Próxima", "Next") }
    var preventionAsk: String { t("Pregunte en su unidad de salud por lo pendiente. Si algo ya se lo aplicaron y no aparece, lleve su Cartilla para que lo registren.",
                                  "Ask at your health unit about what is pending. If you already had something and it does not show, bring your Cartilla so it can be recorded.") }
    var preventionRisks: String { t("Cálculos de riesgo", "Risk estimates") }
    var preventionRiskLead: String {
        t("Estos cálculos los hace un algoritmo con los datos de su expediente; su equipo de salud responde por ellos. No son un diagnóstico.",
          "These estimates are made by an algorithm from your record; your care team answers for them. They are not a diagnosis.")
    }
    var preventionAlgorithm: String { t("Algoritmo", "Algorithm") }
    var preventionBasedOn: String { t("Con base en", "Based on") }
    var preventionMissing: String { t("Faltan datos (cuentan como cero)", "Missing data (counted as zero)") }
    var preventionGapsTitle: String { t("Brechas de prevención (Cartilla Nacional de Salud)", "Prevention gaps (Cartilla Nacional de Salud)") }
    var preventionNoGaps: String { t("Sin brechas abiertas.", "No open gaps.") }
    var panelLead: String {
        t("Sus pacientes con vacunas o estudios pendientes de la Cartilla, para planear la semana. Solo aparecen las personas que usted atiende.",
          "Your patients with Cartilla vaccines or check-ups pending, to plan the week's outreach. Only the people you care for appear.")
    }
    var panelFilter: String { t("Brecha", "Gap") }
    var panelAll: String { t("Todas", "All") }
    var panelSort: String { t("Ordenar por", "Sort by") }
    var panelSortName: String { t("Nombre", "Name") }
    var panelSortCount: String { t("Número de brechas", "Number of gaps") }
    var panelSortOverdue: String { t("Más atrasado", "Most overdue") }
    var panelShow: String { t("Mostrar", "Show") }
    var panelCSV: String { t("Descargar CSV", "Download CSV") }
    var panelPatient: String { t("Paciente", "Patient") }
    var panelGaps: String { t("Brechas abiertas", "Open gaps") }
    var panelOldest: String { t("Tocaba desde", "Due since") }
    var panelNone: String { t("Ninguno de sus pacientes tiene brechas abiertas con este filtro.", "None of your patients has open gaps with this filter.") }
    func panelCount(_ n: Int) -> String { t("\(n) pacientes con brechas", "\(n) patients with gaps") }

    func preventionSection(_ status: PreventionItem.Status) -> String {
        switch status {
        case .overdue: return t("Atrasado", "Overdue")
        case .due: return t("Le toca ahora", "Due now")
        case .declined: return t("Lo rechazó", "You declined")
        case .upcoming: return t("Próximamente", "Coming up")
        case .done: return t("Al día", "Done")
        case .contraindicated: return t("No se debe aplicar ahora", "Not to be given now")
        }
    }

    func preventionStatus(_ status: PreventionItem.Status) -> String {
        switch status {
        case .overdue: return t("atrasada", "overdue")
        case .due: return t("toca", "due")
        case .declined: return t("rechazada", "declined")
        case .upcoming: return t("próxima", "upcoming")
        case .done: return t("hecha", "done")
        case .contraindicated: return t("contraindicada", "contraindicated")
        }
    }

    func text(_ l: Localized) -> String { language == .es ? l.es : l.en }

    // a clinician's decisions about an algorithm's result, and reminders
    var preventionActions: String { t("Decidir sobre los cálculos y enviar un recordatorio", "Decide on the estimates and send a reminder") }
    var preventionOpenRecord: String { t("Abrir el expediente", "Open the record") }
    var decisionTitle: String { t("Resultados de algoritmos: acepte o rechace, con un motivo", "Algorithm results: accept or override, with a reason") }
    var decisionLead: String {
        t("Su decisión queda registrada a su nombre (Provenance) y la persona la ve en Decisiones, salvo lo que eligió no saber.",
          "Your decision is recorded in your name (a Provenance) and the patient sees it under Decisions, except what they chose not to know.")
    }
    var decisionNothing: String { t("Ningún algoritmo ha producido resultados para esta persona.", "No algorithm has produced results for this person.") }
    var decisionRecommendation: String { t("Recomendación de vacunas (Cartilla)", "Vaccine recommendation (Cartilla)") }
    var decisionReason: String { t("Motivo (obligatorio)", "Reason (required)") }
    var decisionAccept: String { t("Aceptar", "Accept") }
    var decisionOverride: String { t("Rechazar", "Override") }
    var decisionRecorded: String { t("Decisión registrada.", "Decision recorded.") }
    var gapDecidedTitle: String { t("Decidido con su médico", "Decided with your clinician") }
    var gapDecidedLead: String {
        t("Su médico registró que estos no aplican por ahora. El cálculo de la Cartilla sigue a la vista, con la decisión al lado.",
          "Your clinician recorded that these do not apply for now. What the Cartilla computed is still shown, with the decision beside it.")
    }
    var gapDecidedClinicianTitle: String { t("Brechas decididas", "Decided gaps") }
    var gapDecideTitle: String { t("Registrar que una brecha no aplica", "Record that a gap does not apply") }
    var gapDecideLead: String {
        t("Si la persona lo rechazó, no está indicado o ya se hizo en otro lugar, regístrelo con el motivo: la brecha se muestra cerrada, con su nombre y el motivo.",
          "If the person declined it, it is not indicated or it was done elsewhere, record it with the reason: the gap is shown closed, with your name and the reason.")
    }
    var gapDecideItem: String { t("Brecha", "Gap") }
    var gapDecideKind: String { t("Decisión", "Decision") }
    var gapDecideSubmit: String { t("Registrar decisión", "Record decision") }
    var gapDecisionReason: String { t("Motivo", "Reason") }
    var gapDecidedBy: String { t("Decidió", "Decided by") }
    var gapComputed: String { t("Lo que calculó la Cartilla", "What the Cartilla computed") }
    func gapDecision(_ d: GapDecision) -> String { text(d.kind.text) }
    var bmiTrendTitle: String { t("Su índice de masa corporal (IMC)", "Your body mass index (BMI)") }
    var bmiTrendLead: String {
        t("Cada punto es una medición de su expediente. Las líneas marcan los límites de la OMS para adultos: 18.5, 25 (sobrepeso) y 30 (obesidad).",
          "Each point is a measurement in your record. The lines are WHO's adult limits: 18.5, 25 (overweight) and 30 (obesity).")
    }
    var bmiTrendChildLead: String {
        t("Cada punto es una medición de su expediente. En niñas, niños y adolescentes el IMC se lee según la edad (tablas de crecimiento de la OMS), por eso no se marcan límites.",
          "Each point is a measurement in the record. For children and adolescents BMI is read by age (WHO growth charts), so no limits are drawn.")
    }
    var bmiTrendTable: String { t("Ver las mediciones", "See the measurements") }
    var bmiTrendTitleClinician: String { t("Índice de masa corporal (IMC)", "Body mass index (BMI)") }
    var bmiTrendLeadClinician: String {
        t("Cada punto es una medición del expediente que usted puede ver. Las líneas marcan los límites de la OMS para adultos: 18.5, 25 (sobrepeso) y 30 (obesidad).",
          "Each point is a measurement in the record as you may see it. The lines are WHO's adult limits: 18.5, 25 (overweight) and 30 (obesity).")
    }
    var bmiValue: String { t("IMC (kg/m²)", "BMI (kg/m²)") }
    var bmiCategory: String { t("Categoría (OMS, adultos)", "Category (WHO, adults)") }
    func bmiTrendLabel(_ n: Int, _ first: String, _ last: String) -> String {
        t("Gráfica de su IMC: \(n) mediciones, de \(first) a \(last)", "Chart of your BMI: \(n) measurements, from \(first) to \(last)")
    }
    var reminderTitle: String { t("Recordatorio a la persona", "Reminder to the patient") }
    var reminderLead: String {
        t("Se registra como comunicación con el canal elegido; nunca se envía a quien se opuso a ser contactado.",
          "It is recorded as a Communication with the chosen channel; it is never sent to anyone who opposed being contacted.")
    }
    var remindersReceived: String { t("Recordatorios de su equipo de salud", "Reminders from your care team") }
    var reminderMedium: String { t("Canal", "Channel") }
    var reminderSend: String { t("Enviar recordatorio", "Send reminder") }
    var reminderSendChecked: String { t("Enviar recordatorio a las personas marcadas", "Send a reminder to the people checked") }
    func reminderChoose(_ name: String) -> String { t("Recordar a \(name)", "Remind \(name)") }
    /// `sent-opposed-other` counts.
    func reminderOutcome(_ summary: String) -> String {
        let n = summary.split(separator: "-").map { Int($0) ?? 0 }
        guard n.count == 3 else { return "" }
        return t("Recordatorios enviados: \(n[0]). No enviados porque la persona se opuso a ser contactada: \(n[1]). Sin brechas o no encontrados: \(n[2]).",
                 "Reminders sent: \(n[0]). Not sent because the person opposed being contacted: \(n[1]). Without gaps or not found: \(n[2]).")
    }
}
