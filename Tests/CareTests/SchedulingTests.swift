import FHIR
import Foundation
@testable import Care
import Storage
import Testing
import Trust

/// Appointments (docs/care.md, "Appointments"): the status lifecycle against an independently
/// written list, and slots from a template (weekdays, the clinic's UTC offset, the planning
/// horizon, stable identifiers).
@Suite struct SchedulingTests {
    static let statuses = ["proposed", "pending", "booked", "arrived", "fulfilled", "cancelled", "noshow", "entered-in-error", "checked-in", "waitlist"]
    /// The legal moves, written out independently of `AppointmentRules.transitions`.
    static let legal: Set<String> = [
        "proposed>pending", "proposed>booked", "proposed>waitlist", "proposed>cancelled",
        "waitlist>proposed", "waitlist>pending", "waitlist>booked", "waitlist>cancelled",
        "pending>booked", "pending>cancelled",
        "booked>arrived", "booked>checked-in", "booked>fulfilled", "booked>noshow", "booked>cancelled",
        "arrived>checked-in", "arrived>fulfilled", "arrived>cancelled",
        "checked-in>arrived", "checked-in>fulfilled", "checked-in>cancelled",
    ]
    static let terminal: Set<String> = ["fulfilled", "cancelled", "noshow", "entered-in-error"]

    @Test func everyOrderedPairOfStatusesIsLegalExactlyWhenListed() {
        var checked = 0
        for from in SchedulingTests.statuses {
            for to in SchedulingTests.statuses where to != from {
                let expected = SchedulingTests.legal.contains("\(from)>\(to)") || (to == "entered-in-error" && !SchedulingTests.terminal.contains(from))
                let actual = !AppointmentRules.terminal.contains(from) && (to == "entered-in-error" || AppointmentRules.transitions[from]?.contains(to) == true)
                #expect(actual == expected, "\(from) → \(to)")
                checked += 1
            }
        }
        #expect(checked == 90)
    }

    static func schedule(_ json: String) throws -> StoredResource {
        let j = try JSONParser.parse(Array(json.utf8))
        return StoredResource(type: "Schedule", id: "s1", version: 1, lastUpdated: Timestamp(microseconds: 0), deleted: false,
                              body: j.serialized(), compartments: [], labels: [])
    }

    @Test func aWeekTemplateMakesWeekdaySlotsInTheClinicsOffset() throws {
        let s = try SchedulingTests.schedule(#"{"resourceType":"Schedule","id":"s1","active":true,"actor":[{"reference":"Practitioner/a"}],"serviceType":[{"text":"Medicina familiar"}]}"#)
        // 2026-11-30 is a Monday: five weekdays × (09:00–11:00 every 30 min = 4) = 20
        let slots = try Slots().slots(Slots.Template(startDate: "2026-11-30", days: 7, sessions: [("09:00", "11:00")], minutes: 30), schedule: s)
        #expect(slots.count == 20)
        #expect(slots.first?["start"]?.stringValue == "2026-11-30T09:00:00-06:00")
        #expect(slots.first?["end"]?.stringValue == "2026-11-30T09:30:00-06:00")
        #expect(slots.last?["start"]?.stringValue == "2026-12-04T10:30:00-06:00")
        #expect(slots.allSatisfy { $0["status"]?.stringValue == "free" && $0["schedule"]?["reference"]?.stringValue == "Schedule/s1" })
        #expect(slots.first?["serviceType"]?.arrayValue?.first?["text"]?.stringValue == "Medicina familiar")
        // stable identifiers: the same template twice names the same slots
        let again = try Slots().slots(Slots.Template(startDate: "2026-11-30", days: 7, sessions: [("09:00", "11:00")], minutes: 30), schedule: s)
        #expect(slots.map { $0["identifier"] } == again.map { $0["identifier"] })
        #expect(Set(slots.compactMap { $0["identifier"]?.arrayValue?.first?["value"]?.stringValue }).count == 20)
        // 09:00 at -06:00 is 15:00 UTC
        #expect(DateRange(slots[0]["start"]!.stringValue!)?.low == DateRange("2026-11-30T15:00:00Z")?.low)
        // Saturday only, Sureste (-05:00)
        let saturday = try Slots().slots(Slots.Template(startDate: "2026-11-30", days: 7, weekdays: [6], sessions: [("08:00", "09:00")], minutes: 20, offset: "-05:00"), schedule: s)
        #expect(saturday.map { $0["start"]?.stringValue ?? "" } == ["2026-12-05T08:00:00-05:00", "2026-12-05T08:20:00-05:00", "2026-12-05T08:40:00-05:00"])
    }

    @Test func thePlanningHorizonBoundsTheSlotsAndBadTemplatesAreRefused() throws {
        let s = try SchedulingTests.schedule(#"{"resourceType":"Schedule","id":"s1","actor":[{"reference":"Practitioner/a"}],"planningHorizon":{"start":"2026-12-01T00:00:00-06:00","end":"2026-12-02T23:59:59-06:00"}}"#)
        let slots = try Slots().slots(Slots.Template(startDate: "2026-11-30", days: 7, sessions: [("09:00", "10:00")], minutes: 60), schedule: s)
        #expect(slots.map { String(($0["start"]?.stringValue ?? "").prefix(10)) } == ["2026-12-01", "2026-12-02"])
        for bad in [Slots.Template(startDate: "30/11/2026"), Slots.Template(startDate: "2026-11-30", minutes: 2),
                    Slots.Template(startDate: "2026-11-30", sessions: [("10:00", "09:00")]), Slots.Template(startDate: "2026-11-30", offset: "CST")] {
            #expect(throws: FHIRError.self) { _ = try Slots().slots(bad, schedule: s) }
        }
    }

    @Test func aPostedAppointmentIsABookingOnlyWhenItNamesSlotsAndATakesAPatient() throws {
        let a = try JSONParser.parse(Array(#"{"resourceType":"Appointment","status":"booked","slot":[{"reference":"Slot/1"}],"participant":[{"actor":{"reference":"Patient/ana"}}]}"#.utf8))
        #expect(Booking.takesSlots(a))
        let r = try Booking.Request.from(appointment: a)
        #expect(r.slots == ["Slot/1"] && r.patient == "Patient/ana" && r.status == "booked")
        #expect(!Booking.takesSlots(a.setting("slot", nil)))
        #expect(!Booking.takesSlots(a.setting("status", .string("proposed"))))
        #expect(throws: FHIRError.self) { _ = try Booking.Request.from(appointment: a.setting("participant", .array([]))) }
    }
}
