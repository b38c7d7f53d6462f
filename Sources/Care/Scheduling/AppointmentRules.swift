import FHIR
import Foundation
import Trust

/// Appointments and their slots (https://hl7.org/fhir/R4/appointment.html, slot.html),
/// docs/care.md "Appointments". A `WriteRule` on `Appointment` and `Slot`, checked inside every
/// write's own transaction on every path (REST, transactions, portal, `$book`):
///
/// - **No double booking**: an Appointment that *holds* its slots (`pending`, `booked`,
///   `arrived`, `checked-in`, `fulfilled`) needs each Slot to exist and be `busy` when the
///   transaction ends, and no other holding Appointment may name the same Slot (409 `conflict`).
///   Two racing bookings each read the Slot and the Appointments that name it; on SQLite the
///   single writer orders them, on PostgreSQL the writers of a schema queue
///   one at a time too (docs/scaling.md "Writes"), so the later one sees the first and is refused.
/// - A Slot may leave `busy` (or be deleted) only when no holding Appointment names it: a
///   cancellation frees it in the same transaction (`Appointment/{id}/$cancel`).
/// - The Appointment status follows the R4 lifecycle (`transitions`); an illegal move is a 422
///   `business-rule` naming `Appointment.status` and listing where it may go; `cancelled`
///   needs `cancelationReason`.
public struct AppointmentRules: WriteRule {
    public init() {}
    public var types: Set<String> { ["Appointment", "Slot"] }

    /// Statuses in which an Appointment occupies its slots.
    public static let holding: Set<String> = ["pending", "booked", "arrived", "checked-in", "fulfilled"]
    public static let terminal: Set<String> = ["fulfilled", "cancelled", "noshow", "entered-in-error"]
    /// Legal moves (from → to); `entered-in-error` is allowed from every state.
    public static let transitions: [String: Set<String>] = [
        "proposed": ["pending", "booked", "waitlist", "cancelled"],
        "waitlist": ["proposed", "pending", "booked", "cancelled"],
        "pending": ["booked", "cancelled"],
        "booked": ["arrived", "checked-in", "fulfilled", "noshow", "cancelled"],
        "arrived": ["checked-in", "fulfilled", "cancelled"],
        "checked-in": ["arrived", "fulfilled", "cancelled"],
    ]

    /// The `Slot/id` references of an Appointment.
    public static func slots(_ appointment: JSON?) -> [String] {
        (appointment?["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
    }

    static func refuse(_ status: Int, _ code: String, _ english: String, _ spanish: String, _ expression: String) -> FHIRError {
        FHIRError(status: status, code: code, english: english, spanish: spanish, expression: [expression])
    }

    public static func taken(_ slot: String) -> FHIRError {
        refuse(409, "conflict", "\(slot) is already booked; choose another free slot",
               "\(slot) ya está ocupado; elija otro horario libre", "Appointment.slot")
    }

    public func check(_ new: JSON?, previous: JSON?, principal: Principal, context: WriteRuleContext) throws {
        let type = (new ?? previous)?["resourceType"]?.stringValue
        if type == "Slot" { try checkSlot(new, previous: previous, context: context) } else { try checkAppointment(new, previous: previous, context: context) }
    }

    func holders(of slot: String, except id: String?, _ context: WriteRuleContext) throws -> [String] {
        try context.search("Appointment", [("slot", slot), ("status", AppointmentRules.holding.sorted().joined(separator: ","))])
            .map(\.id).filter { $0 != id }
    }

    func checkSlot(_ new: JSON?, previous: JSON?, context: WriteRuleContext) throws {
        guard let id = (new ?? previous)?["id"]?.stringValue else { return }
        if let new, new["status"]?.stringValue == "busy" { return }
        if previous == nil { return }
        if try !holders(of: "Slot/\(id)", except: nil, context).isEmpty {
            throw AppointmentRules.refuse(409, "conflict",
                "Slot/\(id) has an active appointment: cancel or reschedule the appointment (Appointment/{id}/$cancel) to free it",
                "Slot/\(id) tiene una cita activa: cancele o reprograme la cita (Appointment/{id}/$cancel) para liberarlo", "Slot.status")
        }
    }

    func checkAppointment(_ new: JSON?, previous: JSON?, context: WriteRuleContext) throws {
        guard let new else {
            if let previous, AppointmentRules.holding.contains(previous["status"]?.stringValue ?? "") {
                throw AppointmentRules.refuse(409, "conflict", "an active appointment is not deleted; cancel it (Appointment/{id}/$cancel)",
                                              "una cita activa no se borra; cancélela (Appointment/{id}/$cancel)", "Appointment.status")
            }
            return
        }
        let status = new["status"]?.stringValue ?? ""
        let id = new["id"]?.stringValue
        if let previous {
            let before = previous["status"]?.stringValue ?? ""
            if before != status {
                if AppointmentRules.terminal.contains(before) {
                    throw AppointmentRules.refuse(422, "business-rule", "the appointment is \(before); its status can no longer change",
                                                  "la cita está en estado \(before); su estado ya no puede cambiar", "Appointment.status")
                }
                if status != "entered-in-error", AppointmentRules.transitions[before]?.contains(status) != true {
                    let next = ((AppointmentRules.transitions[before] ?? []).sorted() + ["entered-in-error"]).joined(separator: ", ")
                    throw AppointmentRules.refuse(422, "business-rule",
                        "an appointment cannot go from '\(before)' to '\(status)'; from '\(before)' it may go to: \(next)",
                        "una cita no puede pasar de '\(before)' a '\(status)'; desde '\(before)' puede pasar a: \(next)", "Appointment.status")
                }
            } else if AppointmentRules.terminal.contains(before), AppointmentRules.slots(previous) != AppointmentRules.slots(new) {
                throw AppointmentRules.refuse(422, "business-rule", "the appointment is \(before); its slot can no longer change",
                                              "la cita está en estado \(before); su horario ya no puede cambiar", "Appointment.slot")
            }
        }
        if status == "cancelled", new["cancelationReason"] == nil {
            throw AppointmentRules.refuse(422, "business-rule", "a cancelled appointment states why (cancelationReason)",
                                          "una cita cancelada indica el motivo (cancelationReason)", "Appointment.cancelationReason")
        }
        if AppointmentRules.holding.contains(status) {
            for slot in AppointmentRules.slots(new) {
                guard slot.hasPrefix("Slot/"), let current = try context.current("Slot", String(slot.dropFirst(5))) else {
                    throw AppointmentRules.refuse(422, "business-rule", "the appointment's slot \(slot) does not exist",
                                                  "el horario \(slot) de la cita no existe", "Appointment.slot")
                }
                if try !holders(of: slot, except: id, context).isEmpty { throw AppointmentRules.taken(slot) }
                if current["status"]?.stringValue != "busy" {
                    throw AppointmentRules.refuse(409, "conflict",
                        "\(slot) must be made busy in the same transaction as the appointment: book with Appointment/$book (or POST the Appointment)",
                        "\(slot) debe marcarse ocupado en la misma transacción que la cita: agende con Appointment/$book (o con POST de la cita)", "Appointment.slot")
                }
            }
        } else if let previous, AppointmentRules.holding.contains(previous["status"]?.stringValue ?? ""), status == "cancelled" || status == "entered-in-error" {
            for slot in AppointmentRules.slots(previous) where slot.hasPrefix("Slot/") {
                if try context.current("Slot", String(slot.dropFirst(5)))?["status"]?.stringValue == "busy" {
                    throw AppointmentRules.refuse(409, "conflict",
                        "a cancelled appointment frees its slot \(slot) in the same transaction: use Appointment/{id}/$cancel",
                        "una cita cancelada libera su horario \(slot) en la misma transacción: use Appointment/{id}/$cancel", "Appointment.status")
                }
            }
        }
    }
}
