import Foundation

/// The Monitoring pages' strings (*Mis mediciones*, *Alertas*), Spanish first.
extension PortalStrings {
    var navMeasurements: String { t("Mis mediciones", "My measurements") }
    var navPatientMeasurements: String { t("Mediciones", "Measurements") }
    var navAlerts: String { t("Alertas", "Alerts") }
    var measurementsLead: String { t("Sus lecturas de glucómetro, baumanómetro, reloj y báscula. La franja verde es su meta; los puntos rojos quedaron fuera de ella.", "Your readings from glucometer, blood-pressure monitor, watch and scale. The green band is your target; red points fell outside it.") }
    func measurementsOf(_ patient: String) -> String { t("Mediciones de \(patient)", "Measurements of \(patient)") }
    var periodLabel: String { t("Periodo", "Period") }
    func lastDays(_ n: Int) -> String { t("\(n) días", "\(n) days") }
    var noReadings: String { t("Sin lecturas en este periodo", "No readings in this period") }
    func readingsSummary(_ n: Int, _ outside: Int) -> String {
        let es = (n == 1 ? "1 lectura" : "\(n) lecturas") + (outside == 0 ? ", todas en meta." : (outside == 1 ? ", 1 fuera de meta." : ", \(outside) fuera de meta."))
        let en = (n == 1 ? "1 reading" : "\(n) readings") + (outside == 0 ? ", all in target." : (outside == 1 ? ", 1 out of target." : ", \(outside) out of target."))
        return t(es, en)
    }
    func targetText(_ range: String, _ unit: String, fromGoal: Bool) -> String {
        fromGoal ? t("Meta (fijada por su equipo de salud): \(range) \(unit)", "Target (set by your care team): \(range) \(unit)")
                 : t("Meta (norma oficial mexicana): \(range) \(unit)", "Target (Mexican official standard): \(range) \(unit)")
    }
    var lastReading: String { t("Última lectura", "Last reading") }
    var activeAlerts: String { t("Alertas activas", "Active alerts") }
    var noActiveAlerts: String { t("No tiene alertas activas.", "You have no active alerts.") }
    var alertSince: String { t("Desde", "Since") }
    var systolic: String { t("Sistólica", "Systolic") }
    var diastolic: String { t("Diastólica", "Diastolic") }
    var outOfTarget: String { t("fuera de meta", "out of target") }
    var inTarget: String { t("en meta", "in target") }
    func chartDescription(_ name: String, _ n: Int, _ outside: Int, _ from: String, _ to: String) -> String {
        t("\(name): \(n) lecturas del \(from) al \(to), \(outside) fuera de meta.", "\(name): \(n) readings from \(from) to \(to), \(outside) out of target.")
    }

    var alertsLead: String { t("Lecturas fuera de meta de sus pacientes. Cada alerta es un episodio: una serie de lecturas altas da una sola alerta, que se cierra sola cuando las lecturas vuelven a la meta.", "Out-of-target readings of your patients. Each alert is an episode: a run of high readings makes one alert, which closes by itself when readings return to target.") }
    var openAlerts: String { t("Abiertas", "Open") }
    var closedAlerts: String { t("Cerradas recientemente", "Recently closed") }
    var noOpenAlerts: String { t("No hay alertas abiertas.", "There are no open alerts.") }
    var noClosedAlerts: String { t("No hay alertas cerradas.", "There are no closed alerts.") }
    var alertPatient: String { t("Paciente", "Patient") }
    var alertReading: String { t("Lectura", "Reading") }
    var alertPriority: String { t("Prioridad", "Priority") }
    var alertStatus: String { t("Estado", "Status") }
    var alertNote: String { t("Nota (opcional)", "Note (optional)") }
    var alertAcknowledge: String { t("Atender", "Acknowledge") }
    var alertResolve: String { t("Resolver", "Resolve") }
    var alertSaved: String { t("La alerta quedó registrada con su nota.", "The alert was updated with your note.") }
    var seeChart: String { t("Ver gráfica", "See chart") }
    var acknowledgedDefault: String { t("Alerta atendida", "Alert acknowledged") }
    var resolvedDefault: String { t("Alerta resuelta", "Alert resolved") }
    func priorityName(_ p: String) -> String {
        switch p {
        case "stat": return t("inmediata", "immediate")
        case "asap": return t("lo antes posible", "as soon as possible")
        case "urgent": return t("urgente", "urgent")
        default: return t("rutina", "routine")
        }
    }
    func taskStatusName(_ s: String) -> String {
        switch s {
        case "requested": return t("nueva", "new")
        case "in-progress": return t("en atención", "in progress")
        case "completed": return t("resuelta", "resolved")
        case "cancelled": return t("cerrada (lecturas de nuevo en meta)", "closed (readings back in target)")
        default: return s
        }
    }
}
