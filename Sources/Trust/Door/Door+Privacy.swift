import FHIR
import Foundation
@_spi(Unguarded) import Storage

/// The privacy operations that need a decision of their own rather than the principal's
/// ordinary one (docs/consent.md): break-the-glass, the privacy officer's review, and a
/// clinician's access request by CURP — whose lookup must find a patient the clinician's guard
/// hides. Each records its rule on the request's audit entry; every record it writes goes
/// through a guarded repository (audit entry and Provenance in the write's transaction).
extension Door {
    /// `Patient/[id]/$break-the-glass`: a practitioner asserts an emergency (purpose ETREAT)
    /// with a written reason. Records a `btg-review` Task (the grant, valid for
    /// `breakTheGlassSeconds`, and the privacy officers' review queue) and a Communication to
    /// the patient; the audit entry is flagged. Returns the Task.
    public func breakTheGlass(patient: String, reason: String, principal: Principal, audit: AuditContext?) async throws -> StoredResource {
        let policy = self.policy.privacy
        guard principal.effectiveRole == .practitioner, let me = principal.fhirUser else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner can break the glass",
                            spanish: "solo un profesional de la salud puede romper el cristal")
        }
        let reason = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard reason.count >= 10 else {
            throw FHIRError.badRequest("break-the-glass needs a written reason (parameter 'reason', at least 10 characters)",
                                       "romper el cristal requiere un motivo escrito (parámetro 'reason', al menos 10 caracteres)")
        }
        guard Repository.isValidID(patient), let current = try await store.read({ try $0.current("Patient", patient) }), !current.deleted else {
            throw FHIRError.notFound("Patient", patient)
        }
        audit?.breakTheGlass = true
        audit?.decidedBy(PrivacyPolicy.rule("break-the-glass"))
        var decision = AccessDecision(visibility: Visibility(patients: [patient], sharedTypes: AccessPolicy.sharedTypes), readableTypes: nil,
                                      writableTypes: ["Task", "Communication"], writePatients: [patient], writeShared: false,
                                      updateAsCreate: false, rule: PrivacyPolicy.rule("break-the-glass"))
        decision.breakTheGlass = true
        var glass = principal
        glass.purposeOfUse = policy.emergencyPurpose
        let guarded = GuardedRepository(principal: glass, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        let now = clock.now()
        let end = Timestamp(microseconds: now.microseconds + policy.breakTheGlassSeconds * 1_000_000)
        let task: JSON = .object([
            ("resourceType", .string("Task")),
            ("status", .string("requested")),
            ("intent", .string("order")),
            ("priority", .string("stat")),
            ("code", PrivacyOperations.taskCode(PrivacyCodes.breakTheGlassReview)),
            ("description", .string("Break-the-glass access to review / Acceso de emergencia por revisar")),
            ("for", PrivacyOperations.reference("Patient/\(patient)")),
            ("requester", PrivacyOperations.reference(me)),
            ("authoredOn", .string(now.description)),
            ("executionPeriod", .object([("start", .string(now.description)), ("end", .string(end.description))])),
            ("reasonCode", .object([("coding", .array([PrivacyOperations.coding(PrivacyCodes.purposeOfUse, policy.emergencyPurpose)])),
                                    ("text", .string(reason))])),
        ])
        let stored = try await guarded.create("Task", task, ifNoneExist: nil).resource
        // the patient reads who, by name when the directory has one
        let who = try await displayName(me).map { "\($0), \(me)" } ?? me
        let communication: JSON = .object([
            ("resourceType", .string("Communication")),
            ("status", .string("completed")),
            ("category", .array([.object([("text", .string("break-the-glass"))])])),
            ("subject", PrivacyOperations.reference("Patient/\(patient)")),
            ("recipient", .array([PrivacyOperations.reference("Patient/\(patient)")])),
            ("sender", PrivacyOperations.reference(me)),
            ("about", .array([PrivacyOperations.reference("Task/\(stored.id)")])),
            ("sent", .string(now.description)),
            ("payload", .array([
                .object([("contentString", .string("Se accedió a su expediente en una emergencia (\(who)) hasta \(end.description). Motivo: \(reason)"))]),
                .object([("contentString", .string("Your record was accessed in an emergency (\(who)) until \(end.description). Reason: \(reason)"))]),
            ])),
        ])
        _ = try await guarded.create("Communication", communication, ifNoneExist: nil)
        return stored
    }

    /// `Task/[id]/$review`: a privacy officer closes a break-the-glass review — `completed`
    /// (justified) or, with `outcome` = `revoke`, `cancelled`, which also ends the access at once.
    public func review(taskID: String, outcome: String?, note: String?, principal: Principal, audit: AuditContext?) async throws -> StoredResource {
        guard principal.effectiveRole == .privacyOfficer else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a privacy officer reviews break-the-glass access",
                            spanish: "solo el oficial de privacidad revisa un acceso de emergencia")
        }
        guard Repository.isValidID(taskID), let current = try await store.read({ try $0.current("Task", taskID) }), !current.deleted else {
            throw FHIRError.notFound("Task", taskID)
        }
        let task = try current.json()
        guard (task["code"]?["coding"]?.arrayValue ?? []).contains(where: { $0["code"]?.stringValue == PrivacyCodes.breakTheGlassReview && $0["system"]?.stringValue == PrivacyCodes.taskCodes }) else {
            throw FHIRError(status: 400, code: "invalid", english: "this Task is not a break-the-glass review", spanish: "esta Task no es una revisión de acceso de emergencia")
        }
        let decision = AccessDecision(visibility: nil, readableTypes: ["Task"], writableTypes: ["Task"], writePatients: nil, writeShared: false,
                                      updateAsCreate: false, rule: PrivacyPolicy.rule("privacy-officer-review"))
        audit?.decidedBy(decision.rule)
        let guarded = GuardedRepository(principal: principal, decision: decision, repository: repository, audit: audit, builder: auditBuilder, clock: clock)
        let now = clock.now()
        var reviewed = task.setting("status", .string(outcome == "revoke" ? "cancelled" : "completed"))
            .setting("lastModified", .string(now.description))
            .setting("owner", principal.fhirUser.map { PrivacyOperations.reference($0) })
        var notes = task["note"]?.arrayValue ?? []
        notes.append(.object([("time", .string(now.description)), ("text", .string(note ?? (outcome == "revoke" ? "revoked" : "reviewed")))]))
        reviewed = reviewed.setting("note", .array(notes))
        return try await guarded.update("Task", taskID, reviewed, ifMatch: nil).resource
    }

    /// A clinician asks a patient for access by CURP (`/solicitar-acceso`, docs/consent.md): the
    /// CURP is looked up in the identifier index on the clinician's behalf — the one read that
    /// cannot go through the clinician's guard, which hides the patient — and only when it names
    /// a live patient is a consent-request Task created, through the clinician's guard (the
    /// guard's rules, the Provenance and the audit entry apply), unless the clinician already
    /// has a request waiting for that patient. The caller learns nothing: the result is the
    /// same whether or not the CURP matched, and nothing found is returned. The audit entry
    /// names the lookup rule and, when the CURP matched, concerns the patient — who sees on
    /// *¿Quién vio mis datos?* that they were looked up.
    public func requestAccess(curp: String, task: @Sendable (_ patient: String) -> JSON, principal: Principal, audit: AuditContext?) async throws {
        guard principal.effectiveRole == .practitioner, let me = principal.fhirUser else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner asks a patient for access",
                            spanish: "solo un profesional de la salud pide acceso a un paciente")
        }
        guard let curp = CURP.normalized(curp) else {
            throw FHIRError(status: 422, code: "value", english: CURP.problem(CURP.normalize(curp))?.english ?? "invalid CURP",
                            spanish: CURP.problem(CURP.normalize(curp))?.spanish ?? "CURP inválida")
        }
        audit?.decidedBy("urn:enlace:rule:portal-curp-lookup")
        let patients = try await patientsWithCURP(curp)
        guard !patients.isEmpty else { return }
        audit?.interaction = "create"
        let guarded = try await open(principal, audit: audit)
        for patient in patients where try await !hasPendingRequest(from: me, to: patient) {
            audit?.concerns(patient)
            _ = try await guarded.create("Task", task(patient), ifNoneExist: nil)
        }
    }

    /// Does `requester` already have a consent request waiting for `patient`? A system-level
    /// read, like the CURP lookup: the Task lives in the patient's compartment, hidden from the asker.
    func hasPendingRequest(from requester: String, to patient: String) async throws -> Bool {
        let (query, _) = try SearchParser().parse(types: ["Task"], parameters: [
            ("code", "\(PrivacyCodes.taskCodes)|\(PrivacyCodes.consentRequest)"), ("patient", "Patient/\(patient)"),
            ("requester", requester), ("status", "requested,received,ready"), ("_count", "1"), ("_total", "none")])
        return try await store.read { tx in try !tx.search(query).matches.isEmpty }
    }

    /// The ids of the live Patients whose CURP identifier is `curp` (normalized).
    func patientsWithCURP(_ curp: String) async throws -> [String] {
        var options = SearchParser.Options()
        options.maxCount = 5
        let (query, _) = try SearchParser(options: options).parse(types: ["Patient"], parameters: [("identifier", curp), ("_count", "5"), ("_total", "none")])
        let matches = try await store.read { tx in try tx.search(query).matches }
        return matches.filter { !$0.deleted }.compactMap { r -> String? in
            guard let json = try? r.json() else { return nil }
            let isCURP = (json["identifier"]?.arrayValue ?? []).contains {
                $0["value"]?.stringValue?.uppercased() == curp && CURP.isCURPIdentifier($0)
            }
            return isCURP ? r.id : nil
        }
    }

    /// The name of a Practitioner (or Organization) as the directory has it: "Dra. Elena Morales
    /// Rivas" from `name[0]` (prefix, given, family) or `name`; nil when there is none.
    func displayName(_ reference: String) async throws -> String? {
        let parts = reference.split(separator: "/").map(String.init)
        guard parts.count == 2, ["Practitioner", "Organization"].contains(parts[0]), Repository.isValidID(parts[1]),
              let stored = try await store.read({ try $0.current(parts[0], parts[1]) }), !stored.deleted else { return nil }
        return HumanNameText.display(try stored.json(), withPrefix: true)
    }

}
