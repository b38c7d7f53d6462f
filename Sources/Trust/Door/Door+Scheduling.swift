import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// Appointments (docs/care.md, "Appointments"): booking writes a patient's `Appointment` and a
/// shared `Slot` in one transaction, which no ordinary guard allows to one principal (a patient
/// may not write a Slot, a clinic's front desk may not write into a patient's record). The
/// door decides who may book, cancel, reschedule or start an appointment on given slots for a
/// given patient, and opens a guarded repository that reaches exactly that: the Slots (and the
/// shared data), the Patient, the Appointments of those slots, and writes only `Appointment` and
/// `Slot` (and, to start a visit, `Encounter`). Recorded with the rule `urn:enlace:rule:scheduling`.
///
/// Who may: the patient (or who acts for them) for themselves; the staff of the slots' clinic
/// (a practitioner, role or service named as `Schedule.actor`, or a practitioner or
/// organization administrator of the organization providing that HealthcareService, managing
/// that Location or holding that PractitionerRole); the receiver (owner) of an accepted
/// referral for that patient, when the Appointment is `basedOn` the referral's ServiceRequest;
/// operators and backend services. Starting a visit: the staff only.
extension Door {
    public static let schedulingRule = "urn:enlace:rule:scheduling"

    /// What the repository is opened for.
    public enum SchedulingPurpose: Sendable {
        /// Book, cancel or reschedule (writes Appointment and Slot).
        case book
        /// Start the visit of `appointment` (also writes its Encounter).
        case start(appointment: String)
    }

    static func refusedScheduling() -> FHIRError {
        FHIRError(status: 403, code: "forbidden",
                  english: "you may book only for yourself (patient), for your clinic's schedules (staff) or for a referral you accepted",
                  spanish: "solo puede agendar para usted (paciente), en las agendas de su clínica (personal) o para una referencia que aceptó")
    }

    /// The guarded repository to book, cancel, reschedule or start appointments on `slots`
    /// (`Slot/id`) for `patient` (an id or `Patient/id`). 404 when a slot does not exist, 403
    /// when the principal may not (decided before anything is written).
    public func scheduling(_ principal: Principal, slots: [String], patient: String, basedOn: [String] = [],
                           purpose: SchedulingPurpose = .book, audit: AuditContext?) async throws -> GuardedRepository {
        audit?.decidedBy(Door.schedulingRule)
        let patient = AccessPolicy.patientID(patient)
        let slotIDs = slots.map { $0.hasPrefix("Slot/") ? String($0.dropFirst(5)) : $0 }
        guard !slotIDs.isEmpty, !patient.isEmpty else { throw Door.refusedScheduling() }
        let found = try await policy.resources(store, type: "Slot", parameters: [("_id", slotIDs.joined(separator: ","))]).filter { !$0.deleted }
        for id in slotIDs where !found.contains(where: { $0.id == id }) { throw FHIRError.notFound("Slot", id) }
        var allowed: Bool
        switch principal.effectiveRole {
        case .platformOperator, .service: allowed = true
        case .patient, .relatedPerson:
            var own = Set(principal.actsFor.map(AccessPolicy.patientID))
            if let me = principal.patient ?? (principal.fhirUser?.hasPrefix("Patient/") == true ? principal.fhirUser : nil) { own.insert(AccessPolicy.patientID(me)) }
            if case .start = purpose { allowed = false } else { allowed = own.contains(patient) }
        case .practitioner, .organizationAdmin:
            allowed = true
            for slot in found where !(try await isStaff(principal, slot: try slot.json())) { allowed = false }
            if !allowed, case .book = purpose, try await receivesReferral(principal, patient: patient, basedOn: basedOn) { allowed = true }
        default: allowed = false
        }
        guard allowed else { throw Door.refusedScheduling() }
        let refs = slotIDs.map { "Slot/\($0)" }
        var writable: Set<String> = ["Appointment", "Slot"]
        var rules: [DataRule] = [.resources(["Patient/\(patient)"]), .references(param: "slot", targets: refs)]
        if case .start(let appointment) = purpose {
            writable.insert("Encounter")
            rules.append(.references(param: "appointment", targets: [appointment]))
        }
        let shared = AccessPolicy.sharedTypes
        var visibility = Visibility(patients: [patient], sharedTypes: shared, dataRules: [patient: DataRule.anyOf(rules)])
        let readable = Set(shared + ["Patient"]).union(writable)
        visibility.readableTypes = readable.sorted()
        var decision = AccessDecision(visibility: visibility, readableTypes: readable, writableTypes: writable, writePatients: [patient],
                                      writeShared: true, updateAsCreate: false, rule: Door.schedulingRule)
        decision.basis = [Door.schedulingRule] + refs
        var guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        guarded.writeRules = writeRules
        return guarded
    }

    /// The slots (`Slot/id`), patient and `basedOn` of Appointment `id`, read for the door's
    /// decision; nil when it does not exist (the caller answers 404 whoever asks).
    public func appointmentForScheduling(_ id: String) async throws -> (slots: [String], patient: String, basedOn: [String])? {
        guard let a = try await policy.resources(store, type: "Appointment", parameters: [("_id", id)]).first, !a.deleted,
              let json = try? a.json() else { return nil }
        let slots = (json["slot"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
        let patient = (json["participant"]?.arrayValue ?? []).compactMap { $0["actor"]?["reference"]?.stringValue }.first { $0.hasPrefix("Patient/") }
        guard let patient else { return nil }
        return (slots, patient, (json["basedOn"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue })
    }

    /// A read-only guarded repository for a clinic's agenda: the Slots of `schedules`
    /// (`Schedule/id`) starting in [`from`, `to`) and the Appointments on them with their
    /// patients' Patient resource (a name to call), nothing else of those patients' records.
    /// 403 unless the principal is staff of every schedule.
    public func agenda(_ principal: Principal, schedules: [String], from: String, to: String, audit: AuditContext?) async throws -> GuardedRepository {
        audit?.decidedBy(Door.schedulingRule)
        let ids = schedules.map { $0.hasPrefix("Schedule/") ? String($0.dropFirst(9)) : $0 }
        let found = ids.isEmpty ? [] : try await policy.resources(store, type: "Schedule", parameters: [("_id", ids.joined(separator: ","))])
        for s in found where !(try await isStaff(principal, schedule: try s.json())) { throw Door.refusedScheduling() }
        let refs = found.map { "Schedule/\($0.id)" }
        let slots = refs.isEmpty ? [] : try await policy.resources(store, type: "Slot", parameters: [("schedule", refs.joined(separator: ",")),
                                                                                                  ("start", "ge\(from)"), ("start", "lt\(to)")])
        let slotRefs = slots.map { "Slot/\($0.id)" }
        var patients = Set<String>()
        for chunk in stride(from: 0, to: slotRefs.count, by: 100) {
            let part = slotRefs[chunk..<min(chunk + 100, slotRefs.count)]
            for a in try await policy.resources(store, type: "Appointment", parameters: [("slot", part.joined(separator: ","))]) {
                patients.formUnion(a.compartments)
            }
        }
        let shared = AccessPolicy.sharedTypes
        let view = DataRule.anyOf([.references(param: "slot", targets: slotRefs)] )
        var rules: [String: DataRule] = [:]
        for p in patients { rules[p] = DataRule.anyOf([.resources(["Patient/\(p)"]), view]) }
        var visibility = Visibility(patients: patients.sorted(), sharedTypes: shared, dataRules: rules)
        let readable = Set(shared + ["Patient", "Appointment"])
        visibility.readableTypes = readable.sorted()
        var decision = AccessDecision(visibility: visibility, readableTypes: readable, writableTypes: [], writePatients: [],
                                      writeShared: false, updateAsCreate: false, rule: Door.schedulingRule)
        decision.basis = [Door.schedulingRule] + refs
        return GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
    }

    /// The active Schedules offered by `actors` (Schedule.actor) or with these `ids`: a
    /// Schedule of a practitioner, role, service or location — no patient among its actors —
    /// is the clinic's public offer, read by anyone who looks for a free slot (R4 puts Schedule
    /// in the Patient compartment by its actor, so the ordinary guard would hide it).
    /// With `all`, every offered Schedule when no actor or id is given (the portal's list).
    public func offeredSchedules(actors: [String] = [], ids: [String] = [], all: Bool = false, audit: AuditContext?) async throws -> [StoredResource] {
        guard all || !actors.isEmpty || !ids.isEmpty else { return [] }
        audit?.decidedBy(Door.schedulingRule)
        var parameters: [(String, String)] = [("active", "true")]
        if !actors.isEmpty { parameters.append(("actor", actors.joined(separator: ","))) }
        if !ids.isEmpty { parameters.append(("_id", ids.map { $0.hasPrefix("Schedule/") ? String($0.dropFirst(9)) : $0 }.joined(separator: ","))) }
        return try await policy.resources(store, type: "Schedule", parameters: parameters).filter { !$0.deleted && $0.compartments.isEmpty }
    }

    /// Schedule `id` for its clinic's staff to manage (generate its slots): 404 when it does not
    /// exist or has a patient as actor, 403 unless the principal is staff of it.
    public func clinicSchedule(_ principal: Principal, id: String, audit: AuditContext?) async throws -> StoredResource {
        audit?.decidedBy(Door.schedulingRule)
        guard let s = try await policy.resources(store, type: "Schedule", parameters: [("_id", id)]).first, !s.deleted, s.compartments.isEmpty else {
            throw FHIRError.notFound("Schedule", id)
        }
        guard try await isStaff(principal, schedule: try s.json()) else {
            throw FHIRError(status: 403, code: "forbidden", english: "only the staff of this schedule's clinic manage its slots",
                            spanish: "solo el personal de la clínica de esta agenda administra sus horarios")
        }
        return s
    }

    func isStaff(_ p: Principal, slot: JSON) async throws -> Bool {
        guard let ref = slot["schedule"]?["reference"]?.stringValue, ref.hasPrefix("Schedule/"),
              let schedule = try await policy.resources(store, type: "Schedule", parameters: [("_id", String(ref.dropFirst(9)))]).first,
              !schedule.deleted else { return false }
        return try await isStaff(p, schedule: try schedule.json())
    }

    /// Is the principal staff of the clinic of `schedule` (see the type's comment)?
    func isStaff(_ p: Principal, schedule: JSON) async throws -> Bool {
        switch p.effectiveRole {
        case .platformOperator, .service: return true
        case .practitioner, .organizationAdmin: break
        default: return false
        }
        let me = Set([p.fhirUser, p.organization].compactMap { $0 })
        let actors = (schedule["actor"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
        if actors.contains(where: me.contains) { return true }
        guard let org = p.organization else { return false }
        for actor in actors {
            let parts = actor.split(separator: "/").map(String.init)
            guard parts.count == 2 else { continue }
            let key: String
            switch parts[0] {
            case "HealthcareService": key = "providedBy"
            case "Location": key = "managingOrganization"
            case "PractitionerRole": key = "organization"
            case "Practitioner":
                if try await !policy.resources(store, type: "PractitionerRole", parameters: [("practitioner", actor), ("organization", org)]).isEmpty { return true }
                continue
            default: continue
            }
            if let r = try await policy.resources(store, type: parts[0], parameters: [("_id", parts[1])]).first, !r.deleted,
               (try r.json())[key]?["reference"]?.stringValue == org { return true }
        }
        return false
    }

    /// Does the principal (or their organization) own an accepted referral Task for `patient`
    /// whose focus is one of `basedOn`?
    func receivesReferral(_ p: Principal, patient: String, basedOn: [String]) async throws -> Bool {
        let focus = basedOn.filter { $0.hasPrefix("ServiceRequest/") }
        guard !focus.isEmpty, p.effectiveRole == .practitioner else { return false }
        let me = Set([p.fhirUser, p.organization].compactMap { $0 })
        let tasks = try await policy.resources(store, type: "Task", parameters: [
            ("focus", focus.joined(separator: ",")), ("patient", "Patient/\(patient)"),
            ("code", "\(AccessPolicy.referralSystem)|\(AccessPolicy.referralCode)"), ("status", "accepted,ready,in-progress,on-hold")])
        return tasks.contains { t in (try? t.json())?["owner"]?["reference"]?.stringValue.map(me.contains) == true }
    }
}
