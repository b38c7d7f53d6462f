import Foundation

/// The appointment pages' strings (Spanish first): *Mis citas* and the clinician's *Agenda*.
extension PortalStrings {
    var navAppointments: String { t("Mis citas", "My appointments") }
    var navAgenda: String { t("Agenda", "Schedule") }
    var appointmentsLead: String { t("Sus citas en todas las instituciones. Reserve un horario libre sin llamar por teléfono; si no puede ir, cancele para que otra persona use el horario.",
                                     "Your appointments at every institution. Book a free slot without a phone call; if you cannot go, cancel so that someone else can use the slot.") }
    var noAppointments: String { t("No tiene citas.", "You have no appointments.") }
    var appointmentWith: String { t("Con", "With") }
    var appointmentWhen: String { t("Cuándo", "When") }
    var telemedicine: String { t("Consulta en línea", "Online visit") }
    var joinVisit: String { t("Entrar a la consulta en línea", "Join the online visit") }
    var cancelAppointment: String { t("Cancelar cita", "Cancel appointment") }
    var cancelReasonLabel: String { t("Motivo de la cancelación", "Reason for cancelling") }
    var cancelAppointmentConfirm: String { t("¿Cancelar esta cita? El horario quedará libre para otra persona.", "Cancel this appointment? The slot will be free for someone else.") }
    var appointmentCancelled: String { t("Cita cancelada: el horario quedó libre.", "Appointment cancelled: the slot is free again.") }
    var appointmentBooked: String { t("Cita reservada.", "Appointment booked.") }
    var freeSlots: String { t("Horarios libres", "Free slots") }
    var freeSlotsLead: String { t("Los próximos horarios libres de cada agenda (14 días).", "The next free slots of each schedule (14 days).") }
    var noFreeSlots: String { t("No hay horarios libres en los próximos 14 días.", "No free slots in the next 14 days.") }
    var book: String { t("Reservar", "Book") }
    var bookOnline: String { t("Reservar en línea", "Book online") }
    var agendaLead: String { t("Sus horarios y las citas agendadas en ellos. Al iniciar una consulta se abre su encuentro (presencial o en línea).",
                               "Your slots and the appointments booked in them. Starting a visit opens its encounter (in person or online).") }
    var noSchedules: String { t("No tiene agendas.", "You have no schedules.") }
    var day: String { t("Día", "Day") }
    var week: String { t("Semana", "Week") }
    var show: String { t("Mostrar", "Show") }
    var previous: String { t("Anterior", "Previous") }
    var next: String { t("Siguiente", "Next") }
    var slotFree: String { t("Libre", "Free") }
    var startVisit: String { t("Iniciar consulta", "Start visit") }
    var visitStarted: String { t("Consulta iniciada: el encuentro quedó registrado.", "Visit started: the encounter is recorded.") }
    var noSlotsInRange: String { t("No hay horarios en estas fechas.", "No slots on these dates.") }
    func appointmentStatus(_ s: String) -> String {
        switch s {
        case "booked": return t("Agendada", "Booked")
        case "pending": return t("Por confirmar", "Pending")
        case "arrived", "checked-in": return t("En consulta", "In the visit")
        case "fulfilled": return t("Atendida", "Attended")
        case "cancelled": return t("Cancelada", "Cancelled")
        case "noshow": return t("No asistió", "Did not attend")
        case "proposed": return t("Propuesta", "Proposed")
        case "waitlist": return t("En lista de espera", "On the waiting list")
        default: return s
        }
    }
    /// `2026-11-30T09:00:00-06:00` → `30/11/2026 09:00` (the clinic's local time, as the slot states it).
    func localTime(_ fhir: String) -> String {
        guard fhir.count >= 16 else { return date(fhir) }
        return "\(date(fhir)) \(fhir.dropFirst(11).prefix(5))"
    }
}
