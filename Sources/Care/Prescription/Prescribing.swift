import FHIR
import Foundation
import Storage
import Trust

/// E-prescription (docs/prescribing.md): `MedicationRequest/$prescribe` checks a prescription,
/// applies the rules of controlled medicines, gives it a validity and a prescription code, and
/// stores it through the prescriber's guarded repository; the pharmacy counter finds it by that
/// code only (`Dispensing`).
public struct Prescribing: Sendable {
    public var controlled: ControlledMedicines

    public init(controlled: ControlledMedicines = .embedded) { self.controlled = controlled }

    static func refuse(_ english: String, _ spanish: String, _ expression: String) -> FHIRError {
        FHIRError(status: 422, code: "business-rule", english: english, spanish: spanish, expression: [expression])
    }

    public static func number(_ j: JSON?) -> Decimal? {
        if case let .number(n)? = j { return Decimal(string: n) }
        return nil
    }

    static func day(_ t: Timestamp, plus days: Int) -> String {
        String(Timestamp(microseconds: t.microseconds + Int64(days) * 86_400_000_000).description.prefix(10))
    }

    /// The prescription as it will be stored (code, validity, group), or a 4xx naming what is wrong.
    public func prepare(_ request: JSON, now: Timestamp) throws -> JSON {
        guard request["resourceType"]?.stringValue == "MedicationRequest" else {
            throw FHIRError(status: 400, code: "invalid", english: "$prescribe takes a MedicationRequest", spanish: "$prescribe recibe un MedicationRequest")
        }
        guard request["status"]?.stringValue == "active", request["intent"]?.stringValue == "order" else {
            throw Prescribing.refuse("a prescription is signed with status 'active' and intent 'order'",
                                     "una receta se firma con status 'active' e intent 'order'", "MedicationRequest.status")
        }
        guard request["subject"]?["reference"]?.stringValue?.hasPrefix("Patient/") == true else {
            throw Prescribing.refuse("a prescription names its patient (subject)", "una receta nombra a su paciente (subject)", "MedicationRequest.subject")
        }
        guard request["medicationCodeableConcept"] != nil || request["medicationReference"] != nil else {
            throw Prescribing.refuse("a prescription names its medicine", "una receta nombra su medicamento", "MedicationRequest.medication[x]")
        }
        guard let quantity = Prescribing.number(request["dispenseRequest"]?["quantity"]?["value"]), quantity > 0 else {
            throw Prescribing.refuse("a prescription states the quantity to dispense (dispenseRequest.quantity)",
                                     "una receta indica la cantidad a surtir (dispenseRequest.quantity)", "MedicationRequest.dispenseRequest.quantity")
        }
        let refills = Prescribing.number(request["dispenseRequest"]?["numberOfRepeatsAllowed"]) ?? 0
        if PrescriptionCode.of(request) != nil {
            throw Prescribing.refuse("prescription codes are issued by Enlace, not sent", "los códigos de receta los emite Enlace, no se envían",
                                     "MedicationRequest.identifier")
        }
        var out = request
        let authored = request["authoredOn"]?.stringValue.flatMap(DateRange.init).map { Timestamp(microseconds: $0.low * 1000) } ?? now
        if request["authoredOn"] == nil { out = out.setting("authoredOn", .string(now.description)) }
        var validityDays = controlled.defaultValidityDays
        if let g = controlled.group(of: request) {
            if refills > Decimal(g.refillsAllowed) {
                throw Prescribing.refuse("a group \(g.group) controlled medicine is prescribed without refills (\(g.source))",
                                         "un medicamento controlado del grupo \(g.group) se receta sin resurtidos (\(g.spanish))",
                                         "MedicationRequest.dispenseRequest.numberOfRepeatsAllowed")
            }
            validityDays = g.maxValidityDays
            let category = JSON.object([("coding", .array([.object([("system", .string(ControlledMedicines.groupSystem)), ("code", .string(g.group)),
                                                                    ("display", .string("Grupo \(g.group)"))])]))])
            let existing = (out["category"]?.arrayValue ?? []).filter { c in
                !(c["coding"]?.arrayValue ?? []).contains { $0["system"]?.stringValue == ControlledMedicines.groupSystem }
            }
            out = out.setting("category", .array(existing + [category]))
        }
        let latest = Prescribing.day(authored, plus: validityDays)
        var dispense = out["dispenseRequest"] ?? .object([])
        if let end = dispense["validityPeriod"]?["end"]?.stringValue {
            guard let r = DateRange(end), let limit = DateRange(latest), r.low <= limit.high else {
                throw Prescribing.refuse("the prescription may be valid for at most \(validityDays) days (until \(latest))",
                                         "la receta puede tener vigencia de a lo más \(validityDays) días (hasta \(latest))",
                                         "MedicationRequest.dispenseRequest.validityPeriod.end")
            }
        } else {
            dispense = dispense.setting("validityPeriod", .object([("start", .string(String(authored.description.prefix(10)))), ("end", .string(latest))]))
        }
        out = out.setting("dispenseRequest", dispense)
        let identifier = JSON.object([("system", .string(PrescriptionCode.system)), ("value", .string(PrescriptionCode.generate()))])
        out = out.setting("identifier", .array((out["identifier"]?.arrayValue ?? []) + [identifier]))
        return out
    }

    /// The prescriber behind `repository` (`Practitioner/{id}`), or 403.
    static func prescriber(_ repository: GuardedRepository) throws -> String {
        guard repository.principal.effectiveRole == .practitioner || repository.principal.effectiveRole == .platformOperator else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a practitioner prescribes", spanish: "solo un profesional de la salud receta")
        }
        return repository.principal.fhirUser ?? ""
    }

    /// Must the prescriber behind `repository` sign? Yes once they registered a signing key, and
    /// always when the operator requires it (`always`, `--require-prescriber-signature`).
    public func requiresSignature(_ repository: GuardedRepository, always: Bool) async throws -> Bool {
        try await AuthorSignature.required(of: try Prescribing.prescriber(repository), repository: repository, always: always)
    }

    static func signatureRequired() -> FHIRError {
        FHIRError(status: 422, code: "business-rule",
                  english: "this prescriber signs their prescriptions: prepare it (Parameters mode=prepare), sign the payload with your key (detached ES256 JWS) and send back preparation and signature",
                  spanish: "este prescriptor firma sus recetas: prepárela (Parameters mode=prepare), firme el payload con su llave (JWS ES256 separado) y envíe preparation y signature",
                  expression: ["Parameters.parameter[signature]"])
    }

    /// Prepares and stores the prescription as the prescriber, unsigned (only when no signature
    /// is required, `requiresSignature`).
    public func prescribe(_ request: JSON, repository: GuardedRepository, now: Timestamp, requireSignature: Bool = false) async throws -> StoredResource {
        _ = try Prescribing.prescriber(repository)
        if try await requiresSignature(repository, always: requireSignature) { throw Prescribing.signatureRequired() }
        return try await repository.create("MedicationRequest", try prepare(request, now: now), ifNoneExist: nil).resource
    }

    /// Checks a prepared prescription and the prescriber's signature over it, before it is stored:
    /// the signer is the requester, the JWS verifies with one of their registered keys, the code
    /// is not used yet. Both entries are conditional creates on the prescription's code, so two
    /// identical requests racing past that check store one prescription and one Provenance. Returns the transaction entries that store it: the MedicationRequest
    /// (`fullURL`, created only if no prescription has its code) and the signature Provenance,
    /// whose target is the version signed (`MedicationRequest/{id}/_history/1`), so a later
    /// change of status (a cancellation) does not hide that what was signed still verifies.
    public func signedEntries(_ prepared: JSON, jws: String, repository: GuardedRepository, fullURL: String, now: Timestamp) async throws -> [JSON] {
        let me = try Prescribing.prescriber(repository)
        guard prepared["requester"]?["reference"]?.stringValue == me else {
            throw Prescribing.refuse("the prescription's requester must be the signing prescriber (\(me))",
                                     "quien receta (requester) debe ser el prescriptor que firma (\(me))", "MedicationRequest.requester")
        }
        let signer = try await PrescriptionSignature.signer(me, repository: repository)
        try PrescriptionSignature.check(jws, prescription: prepared, keys: signer.keys, revoked: signer.revoked, signedAt: now)
        guard let code = PrescriptionCode.of(prepared), let patient = prepared["subject"]?["reference"]?.stringValue else {
            throw Prescribing.refuse("the prepared prescription has no code", "la receta preparada no tiene código", "MedicationRequest.identifier")
        }
        let criteria = "identifier=\(PrescriptionCode.system)|\(code)"
        let (query, _) = try SearchParser().parse(types: ["MedicationRequest"], parameters: [("identifier", "\(PrescriptionCode.system)|\(code)"), ("_total", "none")])
        if try await !repository.search(query).matches.isEmpty {
            throw FHIRError(status: 409, code: "duplicate", english: "this preparation was already signed and stored (prescription \(code))",
                            spanish: "esta preparación ya se firmó y guardó (receta \(code))")
        }
        return [
            .object([("fullUrl", .string(fullURL)), ("resource", prepared),
                     ("request", .object([("method", .string("POST")), ("url", .string("MedicationRequest")), ("ifNoneExist", .string(criteria))]))]),
            .object([("fullUrl", .string("urn:uuid:" + UUID().uuidString.lowercased())),
                     // the version signed: the transaction turns `{fullURL}/_history/1` into `MedicationRequest/{id}/_history/1`
                     ("resource", PrescriptionSignature.provenance(target: fullURL + "/_history/1", patient: patient, jws: jws, who: me, when: now, code: code)),
                     // conditional too: two identical requests at once store one Provenance (the second matches the first's)
                     ("request", .object([("method", .string("POST")), ("url", .string("Provenance")),
                                          ("ifNoneExist", .string("target:identifier=\(PrescriptionCode.system)|\(code)"))]))]),
        ]
    }

    /// Checks and stores a signed prescription (`signedEntries`) in one transaction; the stored MedicationRequest.
    public func prescribeSigned(_ prepared: JSON, jws: String, repository: GuardedRepository, base: String, now: Timestamp) async throws -> StoredResource {
        let url = "urn:uuid:" + UUID().uuidString.lowercased()
        let entries = try await signedEntries(prepared, jws: jws, repository: repository, fullURL: url, now: now)
        let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        let response = try await repository.process(bundle: bundle, options: Repository.BundleOptions(base: base))
        let location = response["entry"]?.arrayValue?.first?["response"]?["location"]?.stringValue ?? ""
        let id = location.split(separator: "/").drop { $0 != "MedicationRequest" }.dropFirst().first.map(String.init) ?? ""
        return try await repository.read("MedicationRequest", id)
    }
}
