import FHIR
import Foundation
import Storage
import Trust

/// The pharmacy counter (docs/prescribing.md): find a prescription by its code and record a
/// `MedicationDispense`, never beyond `dispenseRequest.quantity × (1 + numberOfRepeatsAllowed)`
/// even with counters racing. Works on the narrow guarded repository `Door.dispensing` opens
/// for the code.
///
/// Racing counters: the n-th dispense of a prescription carries the identifier
/// `{code}-{n}` and is created conditionally (`If-None-Exist` on that identifier) after
/// counting the n−1 before it. Two counters that counted the same past can only both try to
/// create the same n-th dispense; the conditional create inside one database write transaction (writes
/// run one at a time on either backend) lets exactly one of them write it, and the other counts again (and is refused
/// if what is left no longer covers it).
public struct Dispensing: Sendable {
    public var controlled: ControlledMedicines
    public static let dispenseSystem = "https://enlace.mx/fhir/sid/dispensa"

    public init(controlled: ControlledMedicines = .embedded) { self.controlled = controlled }

    /// Where a prescription stands for the counter.
    public struct State: Sendable {
        public var prescription: StoredResource
        public var json: JSON
        public var code: String
        public var unit: String?
        public var prescribed: Decimal
        public var allowed: Decimal
        public var dispensed: Decimal
        public var dispenses: [JSON]
        public var validUntil: String?
        public var group: ControlledMedicines.Group?
        /// Why it may not be dispensed now (English, Spanish), if so.
        public var refusal: (english: String, spanish: String)?
        public var remaining: Decimal { max(0, allowed - dispensed) }
    }

    static func notFound() -> FHIRError {
        FHIRError(status: 404, code: "not-found", english: "no prescription has this code (check it with the patient)",
                  spanish: "ninguna receta tiene este código (verifíquelo con el paciente)")
    }

    /// The state of the prescription `reference` through `repository`.
    public func state(_ reference: String, code: String, repository: GuardedRepository, now: Timestamp) async throws -> State {
        let id = String(reference.dropFirst("MedicationRequest/".count))
        let mr = try await repository.read("MedicationRequest", id)
        let json = try mr.json()
        let (query, _) = try SearchParser().parse(types: ["MedicationDispense"], parameters: [("prescription", reference), ("_count", "1000"), ("_total", "none")])
        let dispenses = try await repository.search(query).matches.compactMap { try? $0.json() }
            .filter { !["entered-in-error", "cancelled", "declined"].contains($0["status"]?.stringValue ?? "") }
        let dispensed = dispenses.reduce(Decimal(0)) { $0 + (Prescribing.number($1["quantity"]?["value"]) ?? 0) }
        let quantity = json["dispenseRequest"]?["quantity"]
        let prescribed = Prescribing.number(quantity?["value"]) ?? 0
        let group = controlled.group(of: json)
        var refills = Prescribing.number(json["dispenseRequest"]?["numberOfRepeatsAllowed"]) ?? 0
        if let group { refills = min(refills, Decimal(group.refillsAllowed)) }
        let allowed = prescribed * (1 + refills)
        var validUntil = json["dispenseRequest"]?["validityPeriod"]?["end"]?.stringValue
        if let group, let authored = json["authoredOn"]?.stringValue.flatMap(DateRange.init) {
            // the stricter validity of a controlled medicine holds even if the stored one is longer
            let limit = Prescribing.day(Timestamp(microseconds: authored.low * 1000), plus: group.maxValidityDays)
            if validUntil.flatMap(DateRange.init).map({ $0.low > DateRange(limit)!.high }) ?? true { validUntil = limit }
        }
        var refusal: (String, String)?
        let status = json["status"]?.stringValue ?? ""
        let reason = json["statusReason"]?["text"]?.stringValue ?? json["statusReason"]?["coding"]?.arrayValue?.first?["display"]?.stringValue
        let because = reason.map { " (\($0))" } ?? ""
        switch status {
        case "active":
            if let end = validUntil.flatMap(DateRange.init), end.high < now.microseconds / 1000 {
                refusal = ("the prescription expired on \(validUntil!)", "la receta venció el \(validUntil!)")
            } else if prescribed <= 0 {
                refusal = ("the prescription states no quantity to dispense", "la receta no indica cantidad a surtir")
            } else if dispensed >= allowed {
                refusal = ("the prescription has been fully dispensed (\(dispensed) of \(allowed))", "la receta ya se surtió por completo (\(dispensed) de \(allowed))")
            }
        case "cancelled", "stopped": refusal = ("the prescription was cancelled by the prescriber\(because)", "el médico canceló la receta\(because)")
        case "on-hold": refusal = ("the prescription is on hold\(because)", "la receta está suspendida\(because)")
        case "completed": refusal = ("the prescription is completed", "la receta está concluida")
        case "entered-in-error": refusal = ("the prescription was entered in error", "la receta se registró por error")
        default: refusal = ("the prescription is '\(status)', not active", "la receta está en estado '\(status)', no activa")
        }
        return State(prescription: mr, json: json, code: code, unit: quantity?["unit"]?.stringValue ?? quantity?["code"]?.stringValue, prescribed: prescribed,
                     allowed: allowed, dispensed: dispensed, dispenses: dispenses, validUntil: validUntil, group: group,
                     refusal: refusal.map { (english: $0.0, spanish: $0.1) })
    }

    /// `MedicationRequest/$find-by-code`: what the counter needs, as Parameters.
    public func find(code: String, door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws -> JSON {
        guard let opened = try await door.dispensing(principal, code: code, audit: audit) else { throw Dispensing.notFound() }
        let (repository, reference) = opened
        let s = try await state(reference, code: code, repository: repository, now: now)
        var out = try await Dispensing.parameters(s, repository: repository)
        // the prescriber's signature, re-verified now: `verified` (with who and when; `statusNow` when only the
        // status changed since it was signed), `unsigned` or `failed` (with why)
        var part: [JSON]
        switch await PrescriptionSignature.verdict(s.prescription, repository: repository) {
        case .verified(let who, let when):
            part = [.object([("name", .string("status")), ("valueCode", .string("verified"))]),
                    .object([("name", .string("who")), ("valueReference", .object([("reference", .string(who))]))]),
                    .object([("name", .string("when")), ("valueInstant", .string(when))])]
        case .changedLater(let who, let when, let status, let english, let spanish):
            // what was signed verifies; since then only its status changed (`statusNow`)
            part = [.object([("name", .string("status")), ("valueCode", .string("verified"))]),
                    .object([("name", .string("who")), ("valueReference", .object([("reference", .string(who))]))]),
                    .object([("name", .string("when")), ("valueInstant", .string(when))]),
                    .object([("name", .string("statusNow")), ("valueCode", .string(status))]),
                    .object([("name", .string("reason")), ("valueString", .string("\(spanish) / \(english)"))])]
        case .unsigned:
            part = [.object([("name", .string("status")), ("valueCode", .string("unsigned"))])]
        case .failed(let english, let spanish):
            part = [.object([("name", .string("status")), ("valueCode", .string("failed"))]),
                    .object([("name", .string("reason")), ("valueString", .string("\(spanish) / \(english)"))])]
        }
        out = out.setting("parameter", .array((out["parameter"]?.arrayValue ?? []) + [.object([("name", .string("signature")), ("part", .array(part))])]))
        return out
    }

    static func quantity(_ value: Decimal, _ unit: String?) -> JSON {
        .object([("value", .number("\(value)"))] + (unit.map { [("unit", JSON.string($0))] } ?? []))
    }

    /// The counter's view: the medicine, the dosage, the quantities, the validity, the patient's
    /// name, the dispenses so far, and whether (and why not) it may be dispensed.
    static func parameters(_ s: State, repository: GuardedRepository) async throws -> JSON {
        var p: [JSON] = []
        func add(_ name: String, _ key: String, _ value: JSON?) {
            if let value { p.append(.object([("name", .string(name)), (key, value)])) }
        }
        add("code", "valueString", .string(s.code))
        add("prescription", "valueReference", .object([("reference", .string("MedicationRequest/\(s.prescription.id)"))]))
        add("status", "valueCode", .string(s.refusal == nil ? "dispensable" : "refused"))
        if let r = s.refusal { add("reason", "valueString", .string("\(r.spanish) / \(r.english)")) }
        add("medication", "valueCodeableConcept", s.json["medicationCodeableConcept"])
        add("dosage", "valueString", (s.json["dosageInstruction"]?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "; ").nilIfEmpty.map(JSON.string))
        add("prescribed", "valueQuantity", quantity(s.prescribed, s.unit))
        add("allowed", "valueQuantity", quantity(s.allowed, s.unit))
        add("dispensed", "valueQuantity", quantity(s.dispensed, s.unit))
        add("remaining", "valueQuantity", quantity(s.remaining, s.unit))
        add("validUntil", "valueDate", s.validUntil.map { .string(String($0.prefix(10))) })
        if let g = s.group { add("controlledGroup", "valueString", .string(g.spanish)) }
        if let subject = s.json["subject"]?["reference"]?.stringValue, subject.hasPrefix("Patient/"),
           let patient = try? await repository.read("Patient", String(subject.dropFirst(8))), let pj = try? patient.json() {
            add("patient", "valueString", .string(HumanNameText.display(pj, withPrefix: false) ?? "—"))
        }
        for d in s.dispenses {
            var parts: [JSON] = []
            for (name, key, value) in [("quantity", "valueQuantity", d["quantity"]), ("when", "valueDateTime", d["whenHandedOver"]),
                                       ("pharmacy", "valueReference", d["performer"]?.arrayValue?.first?["actor"])] {
                if let value { parts.append(.object([("name", .string(name)), (key, value)])) }
            }
            p.append(.object([("name", .string("dispense")), ("part", .array(parts))]))
        }
        return .object([("resourceType", .string("Parameters")), ("parameter", .array(p))])
    }

    /// `MedicationRequest/$dispense`: records a dispense of `amount` (in the prescription's unit).
    /// 422 with the reason when the prescription is not dispensable or `amount` exceeds what is left.
    public func dispense(code: String, amount: Decimal, door: Door, principal: Principal, audit: AuditContext?, now: Timestamp) async throws
        -> (dispense: StoredResource, state: State) {
        guard amount > 0 else {
            throw FHIRError(status: 400, code: "invalid", english: "the quantity to dispense must be positive", spanish: "la cantidad a surtir debe ser positiva",
                            expression: ["Parameters.parameter[quantity]"])
        }
        guard let opened = try await door.dispensing(principal, code: code, audit: audit) else { throw Dispensing.notFound() }
        let (repository, reference) = opened
        for _ in 0..<12 {
            let s = try await state(reference, code: code, repository: repository, now: now)
            if let r = s.refusal {
                throw FHIRError(status: 422, code: "business-rule", english: r.english, spanish: r.spanish)
            }
            guard amount <= s.remaining else {
                throw FHIRError(status: 422, code: "business-rule",
                                english: "only \(s.remaining) \(s.unit ?? "") remain to dispense on this prescription (asked \(amount))",
                                spanish: "a esta receta solo le quedan \(s.remaining) \(s.unit ?? "") por surtir (se pidieron \(amount))",
                                expression: ["Parameters.parameter[quantity]"])
            }
            let n = s.dispenses.count + 1
            let identifier = "\(s.code)-\(n)"
            let performer = principal.organization ?? principal.fhirUser
            let members: [(String, JSON?)] = [
                ("resourceType", .string("MedicationDispense")),
                ("identifier", .array([.object([("system", .string(Dispensing.dispenseSystem)), ("value", .string(identifier))])])),
                ("status", .string("completed")),
                ("medicationCodeableConcept", s.json["medicationCodeableConcept"] ?? .object([("text", .string("—"))])),
                ("subject", s.json["subject"]),
                ("authorizingPrescription", .array([.object([("reference", .string(reference))])])),
                ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/v3-ActCode")),
                                                             ("code", .string(n == 1 ? (amount < s.allowed ? "FFP" : "FF") : (amount < s.remaining ? "RFP" : "RF")))])]))])),
                ("quantity", Dispensing.quantity(amount, s.unit)),
                ("whenHandedOver", .string(now.description)),
                ("performer", performer.map { .array([.object([("actor", .object([("reference", .string($0))]))])]) }),
                ("dosageInstruction", s.json["dosageInstruction"]),
            ]
            let dispense = JSON.object(members.compactMap { k, v in v.map { (k, $0) } })
            let result = try await repository.create("MedicationDispense", dispense,
                                                     ifNoneExist: "identifier=\(Dispensing.dispenseSystem)|\(identifier)")
            if result.matchedExisting { continue }  // another counter wrote the n-th dispense first: count again
            var after = s
            after.dispensed += amount
            after.dispenses.append(dispense)
            return (result.resource, after)
        }
        throw FHIRError(status: 409, code: "conflict", english: "the prescription is being dispensed at another counter; try again",
                        spanish: "la receta se está surtiendo en otro mostrador; intente de nuevo")
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

