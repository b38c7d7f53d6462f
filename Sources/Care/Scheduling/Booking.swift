import FHIR
import Foundation
import Storage
import Trust

/// Booking, cancelling, rescheduling and starting appointments (docs/care.md, "Appointments").
/// Each is one transaction Bundle written through the repository `Door.scheduling` opens:
/// the Slot's update carries `If-Match` on the version that was read free, and
/// `AppointmentRules` checks inside the same transaction that no other active Appointment
/// holds it — so of two patients racing for one slot exactly one wins and the other gets a
/// 409 with a bilingual OperationOutcome.
public struct Booking: Sendable {
    /// The extension carrying a telemedicine appointment's link (R4 has no `virtualService`;
    /// R5's `Appointment.virtualService` is what it stands for).
    public static let virtualVisitURL = "https://enlace.mx/fhir/StructureDefinition/virtual-visit-url"
    /// Where a generated virtual-visit room lives (a random, unguessable room name is appended).
    public var virtualVisitBase: String
    public var base: String

    public init(base: String, virtualVisitBase: String = "https://meet.jit.si/enlace-") {
        self.base = base
        self.virtualVisitBase = virtualVisitBase
    }

    /// What to book.
    public struct Request: Sendable {
        public var slots: [String]
        public var patient: String
        public var basedOn: [String] = []
        public var virtual = false
        public var status = "booked"
        /// An Appointment given by the client (description, reasonCode, comment, serviceType…), completed here.
        public var appointment: JSON?

        public init(slots: [String], patient: String, basedOn: [String] = [], virtual: Bool = false, status: String = "booked", appointment: JSON? = nil) {
            self.slots = slots
            self.patient = patient
            self.basedOn = basedOn
            self.virtual = virtual
            self.status = status
            self.appointment = appointment
        }

        /// The request an Appointment resource stands for (a plain POST, or `$book` with an Appointment).
        public static func from(appointment a: JSON) throws -> Request {
            let slots = AppointmentRules.slots(a)
            let patients = (a["participant"]?.arrayValue ?? []).compactMap { $0["actor"]?["reference"]?.stringValue }.filter { $0.hasPrefix("Patient/") }
            guard !slots.isEmpty else { throw FHIRError.badRequest("the appointment names no slot (Appointment.slot)", "la cita no indica horario (Appointment.slot)") }
            guard patients.count == 1 else {
                throw FHIRError(status: 400, code: "required", english: "the appointment needs exactly one patient participant (Appointment.participant.actor)",
                                spanish: "la cita necesita exactamente un paciente como participante (Appointment.participant.actor)",
                                expression: ["Appointment.participant"])
            }
            let status = a["status"]?.stringValue ?? "booked"
            guard ["booked", "pending"].contains(status) else {
                throw FHIRError(status: 422, code: "business-rule", english: "an appointment is booked as 'booked' or 'pending', not '\(status)'",
                                spanish: "una cita se agenda como 'booked' o 'pending', no como '\(status)'", expression: ["Appointment.status"])
            }
            return Request(slots: slots, patient: patients[0], basedOn: (a["basedOn"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue },
                           virtual: Booking.virtualLink(a) != nil, status: status, appointment: a)
        }
    }

    /// Does this Appointment, POSTed, take slots (and so go through `book`)?
    public static func takesSlots(_ a: JSON) -> Bool {
        !AppointmentRules.slots(a).isEmpty && ["booked", "pending", nil].contains(a["status"]?.stringValue)
    }

    /// The virtual-visit link of an appointment, if it is a telemedicine one.
    public static func virtualLink(_ a: JSON?) -> String? {
        (a?["extension"]?.arrayValue ?? []).first { $0["url"]?.stringValue == virtualVisitURL }?["valueUrl"]?.stringValue
    }

    static func conflictRetry() -> FHIRError {
        FHIRError(status: 409, code: "conflict", english: "the slot is being booked by someone else right now; try again",
                  spanish: "alguien más está agendando ese horario en este momento; intente de nuevo")
    }

    static func id(_ ref: String, _ type: String) -> String { ref.hasPrefix(type + "/") ? String(ref.dropFirst(type.count + 1)) : ref }

    /// A Slot that may be booked now, or why not.
    static func requireFree(_ slot: StoredResource, now: Timestamp) throws -> JSON {
        let json = try slot.json()
        let status = json["status"]?.stringValue ?? ""
        switch status {
        case "free": break
        case "busy", "busy-tentative": throw AppointmentRules.taken("Slot/\(slot.id)")
        default:
            throw FHIRError(status: 422, code: "business-rule", english: "Slot/\(slot.id) is '\(status)', not free",
                            spanish: "el horario Slot/\(slot.id) está '\(status)', no libre", expression: ["Appointment.slot"])
        }
        if let end = json["end"]?.stringValue.flatMap(DateRange.init), end.high < now.microseconds / 1000 {
            throw FHIRError(status: 422, code: "business-rule", english: "Slot/\(slot.id) has already passed",
                            spanish: "el horario Slot/\(slot.id) ya pasó", expression: ["Appointment.slot"])
        }
        return json
    }

    static func entry(_ method: String, _ url: String, _ resource: JSON, ifMatch: Int? = nil, fullUrl: String? = nil) -> JSON {
        var request: [(String, JSON)] = [("method", .string(method)), ("url", .string(url))]
        if let ifMatch { request.append(("ifMatch", .string("W/\"\(ifMatch)\""))) }
        var e: [(String, JSON)] = []
        if let fullUrl { e.append(("fullUrl", .string(fullUrl))) }
        e += [("resource", resource), ("request", .object(request))]
        return .object(e)
    }

    static func transaction(_ entries: [JSON]) -> JSON {
        .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
    }

    /// Runs `attempt` again when a Slot's `If-Match` failed (someone else wrote it between our
    /// read and our write); the next attempt reads it again and answers precisely.
    static func retrying<T>(_ attempt: () async throws -> T) async throws -> T {
        for _ in 0..<6 {
            do { return try await attempt() } catch let e as FHIRError where e.status == 412 { continue }
        }
        throw conflictRetry()
    }

    /// The resource a transaction response's entry `index` created or updated.
    static func written(_ response: JSON, _ index: Int, _ type: String, repository: GuardedRepository) async throws -> StoredResource {
        let location = response["entry"]?.arrayValue?[index]["response"]?["location"]?.stringValue ?? ""
        let parts = location.split(separator: "/").map(String.init)
        guard let i = parts.firstIndex(of: type), i + 1 < parts.count else {
            throw FHIRError(status: 500, code: "exception", english: "the transaction did not return the \(type)", spanish: "la transacción no devolvió el \(type)")
        }
        return try await repository.read(type, parts[i + 1])
    }

    func options() -> Repository.BundleOptions { Repository.BundleOptions(base: base, maxEntries: 20) }

    /// `Appointment/$book` (and a POSTed Appointment naming slots): the slots are checked free and
    /// made busy in the same transaction as the Appointment. 409 when a slot is taken (also by a
    /// racing request), 422 when it is not bookable, 403 when the principal may not book it.
    public func book(_ r: Request, door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws -> StoredResource {
        let repository = try await door.scheduling(principal, slots: r.slots, patient: r.patient, basedOn: r.basedOn, audit: audit)
        return try await Booking.retrying {
            var entries: [JSON] = []
            var actors: [String] = []
            var start: String?, end: String?
            var serviceType: JSON?
            for ref in r.slots {
                let slot = try await repository.read("Slot", Booking.id(ref, "Slot"))
                let json = try Booking.requireFree(slot, now: now)
                if start == nil || (json["start"]?.stringValue ?? "") < start! { start = json["start"]?.stringValue }
                if end == nil || (json["end"]?.stringValue ?? "") > end! { end = json["end"]?.stringValue }
                serviceType = serviceType ?? json["serviceType"]
                if let s = json["schedule"]?["reference"]?.stringValue, s.hasPrefix("Schedule/"),
                   let schedule = try await door.offeredSchedules(ids: [s], audit: audit).first.flatMap({ try? $0.json() }) {
                    for a in (schedule["actor"]?.arrayValue ?? []).compactMap({ $0["reference"]?.stringValue }) where !actors.contains(a) { actors.append(a) }
                }
                entries.append(Booking.entry("PUT", "Slot/\(slot.id)", json.setting("status", .string("busy")), ifMatch: slot.version))
            }
            let appointment = appointmentBody(r, actors: actors, start: start, end: end, serviceType: serviceType, now: now)
            entries.insert(Booking.entry("POST", "Appointment", appointment, fullUrl: "urn:uuid:\(UUID().uuidString.lowercased())"), at: 0)
            let response = try await repository.process(bundle: Booking.transaction(entries), options: options())
            return try await Booking.written(response, 0, "Appointment", repository: repository)
        }
    }

    func appointmentBody(_ r: Request, actors: [String], start: String?, end: String?, serviceType: JSON?, now: Timestamp) -> JSON {
        var a = r.appointment ?? .object([("resourceType", .string("Appointment"))])
        a = a.setting("id", nil).setting("meta", nil)
        a = a.setting("status", .string(r.status))
        if a["serviceType"] == nil, let serviceType { a = a.setting("serviceType", serviceType) }
        if let start { a = a.setting("start", .string(start)) }
        if let end { a = a.setting("end", .string(end)) }
        a = a.setting("slot", .array(r.slots.map { .object([("reference", .string("Slot/\(Booking.id($0, "Slot"))"))]) }))
        if a["created"] == nil { a = a.setting("created", .string(String(now.description.prefix(19)) + "Z")) }
        if !r.basedOn.isEmpty { a = a.setting("basedOn", .array(r.basedOn.map { .object([("reference", .string($0))]) })) }
        let patient = "Patient/\(Booking.id(r.patient, "Patient"))"
        var participants = a["participant"]?.arrayValue ?? []
        let named = Set(participants.compactMap { $0["actor"]?["reference"]?.stringValue })
        if !named.contains(patient) { participants.insert(Booking.participant(patient), at: 0) }
        for actor in actors where !named.contains(actor) { participants.append(Booking.participant(actor)) }
        a = a.setting("participant", .array(participants))
        if r.virtual, Booking.virtualLink(a) == nil {
            var room = ""
            let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<20 { room.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
            let ext = JSON.object([("url", .string(Booking.virtualVisitURL)), ("valueUrl", .string(virtualVisitBase + room))])
            a = a.setting("extension", .array((a["extension"]?.arrayValue ?? []) + [ext]))
        }
        return a
    }

    static func participant(_ actor: String) -> JSON {
        .object([("actor", .object([("reference", .string(actor))])), ("required", .string("required")), ("status", .string("accepted"))])
    }

    /// `Appointment/{id}/$cancel`: the Appointment `cancelled` with `reason` and its slots
    /// `free` again, in one transaction. 422 when it may not be cancelled (e.g. fulfilled).
    public func cancel(_ id: String, reason: String, door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws -> StoredResource {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "a cancellation states its reason (parameter 'reason')",
                            spanish: "una cancelación indica su motivo (parámetro 'reason')", expression: ["Parameters.parameter[reason]"])
        }
        guard let found = try await door.appointmentForScheduling(id) else { throw FHIRError.notFound("Appointment", id) }
        let repository = try await door.scheduling(principal, slots: found.slots, patient: found.patient, basedOn: found.basedOn, audit: audit)
        return try await Booking.retrying {
            let stored = try await repository.read("Appointment", id)
            var a = try stored.json()
            let before = a["status"]?.stringValue ?? ""
            guard AppointmentRules.transitions[before]?.contains("cancelled") == true else {
                throw FHIRError(status: 422, code: "business-rule", english: "the appointment is \(before); it can no longer be cancelled",
                                spanish: "la cita está en estado \(before); ya no se puede cancelar", expression: ["Appointment.status"])
            }
            a = a.setting("status", .string("cancelled"))
                .setting("cancelationReason", .object([("text", .string(reason))]))
            var entries = [Booking.entry("PUT", "Appointment/\(id)", a, ifMatch: stored.version)]
            entries += try await freeing(AppointmentRules.slots(try stored.json()), repository: repository)
            let response = try await repository.process(bundle: Booking.transaction(entries), options: options())
            return try await Booking.written(response, 0, "Appointment", repository: repository)
        }
    }

    func freeing(_ slots: [String], repository: GuardedRepository) async throws -> [JSON] {
        var entries: [JSON] = []
        for ref in slots where ref.hasPrefix("Slot/") {
            guard let slot = try? await repository.read("Slot", Booking.id(ref, "Slot")), let json = try? slot.json(),
                  json["status"]?.stringValue == "busy" else { continue }
            entries.append(Booking.entry("PUT", "Slot/\(slot.id)", json.setting("status", .string("free")), ifMatch: slot.version))
        }
        return entries
    }

    /// `Appointment/{id}/$reschedule`: the Appointment moved to `slots` (booked and made busy),
    /// its old slots freed, in one transaction. 409 when a new slot is taken.
    public func reschedule(_ id: String, to slots: [String], door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws -> StoredResource {
        guard !slots.isEmpty else {
            throw FHIRError(status: 400, code: "required", english: "$reschedule needs the new slot (parameter 'slot')",
                            spanish: "$reschedule necesita el nuevo horario (parámetro 'slot')", expression: ["Parameters.parameter[slot]"])
        }
        guard let found = try await door.appointmentForScheduling(id) else { throw FHIRError.notFound("Appointment", id) }
        let repository = try await door.scheduling(principal, slots: found.slots + slots, patient: found.patient, basedOn: found.basedOn, audit: audit)
        return try await Booking.retrying {
            let stored = try await repository.read("Appointment", id)
            let old = try stored.json()
            let status = old["status"]?.stringValue ?? ""
            guard ["booked", "pending"].contains(status) else {
                throw FHIRError(status: 422, code: "business-rule", english: "only a booked or pending appointment is rescheduled (this one is \(status))",
                                spanish: "solo se reprograma una cita agendada o pendiente (esta está en estado \(status))", expression: ["Appointment.status"])
            }
            var entries: [JSON] = try await freeing(AppointmentRules.slots(old).filter { !slots.map { "Slot/\(Booking.id($0, "Slot"))" }.contains($0) }, repository: repository)
            var start: String?, end: String?
            for ref in slots {
                let slot = try await repository.read("Slot", Booking.id(ref, "Slot"))
                let json = try Booking.requireFree(slot, now: now)
                if start == nil || (json["start"]?.stringValue ?? "") < start! { start = json["start"]?.stringValue }
                if end == nil || (json["end"]?.stringValue ?? "") > end! { end = json["end"]?.stringValue }
                entries.append(Booking.entry("PUT", "Slot/\(slot.id)", json.setting("status", .string("busy")), ifMatch: slot.version))
            }
            var a = old.setting("slot", .array(slots.map { .object([("reference", .string("Slot/\(Booking.id($0, "Slot"))"))]) }))
            if let start { a = a.setting("start", .string(start)) }
            if let end { a = a.setting("end", .string(end)) }
            entries.insert(Booking.entry("PUT", "Appointment/\(id)", a, ifMatch: stored.version), at: 0)
            let response = try await repository.process(bundle: Booking.transaction(entries), options: options())
            return try await Booking.written(response, 0, "Appointment", repository: repository)
        }
    }

    /// `Appointment/{id}/$start`: the clinician starts the visit — an `Encounter` of class `VR`
    /// (virtual, when the appointment carries a virtual-visit link) or `AMB`, `in-progress`,
    /// linked by `Encounter.appointment`, and the Appointment `arrived`, in one transaction.
    /// Starting it again returns the same Encounter.
    public func start(_ id: String, door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws -> (encounter: StoredResource, created: Bool) {
        guard let found = try await door.appointmentForScheduling(id) else { throw FHIRError.notFound("Appointment", id) }
        let repository = try await door.scheduling(principal, slots: found.slots, patient: found.patient, basedOn: found.basedOn,
                                                   purpose: .start(appointment: "Appointment/\(id)"), audit: audit)
        return try await Booking.retrying {
            let (query, _) = try SearchParser().parse(types: ["Encounter"], parameters: [("appointment", "Appointment/\(id)")])
            if let existing = try await repository.search(query).matches.first { return (existing, false) }
            let stored = try await repository.read("Appointment", id)
            let a = try stored.json()
            let status = a["status"]?.stringValue ?? ""
            guard ["booked", "arrived", "checked-in"].contains(status) else {
                throw FHIRError(status: 422, code: "business-rule", english: "only a booked appointment is started (this one is \(status))",
                                spanish: "solo se inicia una cita agendada (esta está en estado \(status))", expression: ["Appointment.status"])
            }
            let virtual = Booking.virtualLink(a) != nil
            let cls = JSON.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActCode")), ("code", .string(virtual ? "VR" : "AMB")),
                                   ("display", .string(virtual ? "virtual" : "ambulatory"))])
            var members: [(String, JSON)] = [("resourceType", .string("Encounter")), ("status", .string("in-progress")), ("class", cls)]
            if let st = a["serviceType"]?.arrayValue?.first { members.append(("serviceType", st)) }
            members.append(("subject", .object([("reference", .string(found.patient))])))
            if !found.basedOn.isEmpty { members.append(("basedOn", .array(found.basedOn.map { .object([("reference", .string($0))]) }))) }
            if let me = principal.fhirUser, me.hasPrefix("Practitioner/") || me.hasPrefix("PractitionerRole/") {
                members.append(("participant", .array([.object([("individual", .object([("reference", .string(me))]))])])))
            }
            members.append(("appointment", .array([.object([("reference", .string("Appointment/\(id)"))])])))
            members.append(("period", .object([("start", .string(now.description))])))
            if let reason = a["reasonCode"] { members.append(("reasonCode", reason)) }
            if let org = principal.organization, org.hasPrefix("Organization/") { members.append(("serviceProvider", .object([("reference", .string(org))]))) }
            var entries = [Booking.entry("POST", "Encounter", .object(members), fullUrl: "urn:uuid:\(UUID().uuidString.lowercased())")]
            if status == "booked" { entries.append(Booking.entry("PUT", "Appointment/\(id)", a.setting("status", .string("arrived")), ifMatch: stored.version)) }
            let response = try await repository.process(bundle: Booking.transaction(entries), options: options())
            return (try await Booking.written(response, 0, "Encounter", repository: repository), true)
        }
    }
}
