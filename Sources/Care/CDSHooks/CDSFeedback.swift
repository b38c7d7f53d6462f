import FHIR
import Foundation
import Storage
import Trust

/// CDS Hooks 2.0 feedback (https://cds-hooks.hl7.org/2.0/#feedback): which card, accepted or
/// overridden, the reason, who and when — stored as a FHIR `Provenance` in the patient's
/// record, written through the door as the clinician who decided (so the write has its own
/// audit entry too). The patient can read it among their Provenance (*who decided, on which
/// advice, and who answers*); docs/care.md, "Feedback".
public struct CDSFeedback: Sendable {
    public struct Item: Sendable {
        public var card: String
        public var outcome: String
        public var acceptedSuggestions: [String]
        public var reason: JSON?
        public var userComment: String?
        public var outcomeTimestamp: String
    }

    public var items: [Item]

    public static let activitySystem = "https://enlace.mx/fhir/CodeSystem/cds-feedback-outcome"
    public static let cardSystem = "https://enlace.mx/fhir/NamingSystem/cds-card"

    public init(json: JSON) throws {
        func bad(_ en: String, _ es: String, _ at: String) -> FHIRError { FHIRError(status: 400, code: "invalid", english: en, spanish: es, expression: [at]) }
        guard let list = json["feedback"]?.arrayValue, !list.isEmpty else {
            throw bad("'feedback' (a non-empty array) is required", "'feedback' (un arreglo no vacío) es obligatorio", "feedback")
        }
        guard list.count <= 100 else { throw bad("at most 100 feedback items per call", "como máximo 100 elementos de feedback por llamada", "feedback") }
        items = try list.enumerated().map { n, f in
            let at = "feedback[\(n)]"
            guard let card = f["card"]?.stringValue, !card.isEmpty else { throw bad("\(at).card is required", "\(at).card es obligatorio", "\(at).card") }
            guard let outcome = f["outcome"]?.stringValue, ["accepted", "overridden"].contains(outcome) else {
                throw bad("\(at).outcome must be 'accepted' or 'overridden'", "\(at).outcome debe ser 'accepted' u 'overridden'", "\(at).outcome")
            }
            guard let ts = f["outcomeTimestamp"]?.stringValue, DateRange(ts) != nil, ts.count >= 20 else {
                throw bad("\(at).outcomeTimestamp is required (an instant)", "\(at).outcomeTimestamp es obligatorio (un instante)", "\(at).outcomeTimestamp")
            }
            let reason = f["overrideReason"]?["reason"]
            if outcome == "accepted", f["overrideReason"] != nil {
                throw bad("\(at): an accepted card has no overrideReason", "\(at): una tarjeta aceptada no lleva overrideReason", "\(at).overrideReason")
            }
            if let reason, reason["code"]?.stringValue == nil {
                throw bad("\(at).overrideReason.reason must be a Coding with a code", "\(at).overrideReason.reason debe ser un Coding con código",
                          "\(at).overrideReason.reason")
            }
            return Item(card: card, outcome: outcome,
                        acceptedSuggestions: (f["acceptedSuggestions"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue },
                        reason: reason, userComment: f["overrideReason"]?["userComment"]?.stringValue, outcomeTimestamp: ts)
        }
    }

    /// The Provenance recording one item about `card`, decided by `principal`, recorded `now`.
    public static func provenance(_ item: Item, card: IssuedCards.Issued, principal: Principal, now: Timestamp) -> JSON {
        let who: JSON = principal.fhirUser.map { object(("reference", .string($0))) } ?? object(("display", .string(principal.subject)))
        var reason: [JSON] = []
        if item.outcome == "overridden" {
            var coding: [JSON] = []
            if let r = item.reason {
                coding.append(object(("system", string(r["system"]?.stringValue)), ("code", string(r["code"]?.stringValue)),
                                     ("display", string(r["display"]?.stringValue))))
            }
            reason.append(object(("coding", coding.isEmpty ? nil : .array(coding)), ("text", string(item.userComment ?? item.reason?["display"]?.stringValue))))
        }
        let accepted = item.acceptedSuggestions.filter(card.suggestions.contains)
        return object(
            ("resourceType", .string("Provenance")),
            ("target", .array(([ "Patient/\(card.patient)"] + card.orders).map { object(("reference", .string($0))) })),
            ("occurredDateTime", .string(item.outcomeTimestamp)),
            ("recorded", .string(now.description)),
            ("policy", .array([.string("urn:enlace:cds-service:\(card.service)")])),
            ("reason", reason.isEmpty ? nil : .array(reason)),
            ("activity", object(("coding", .array([object(("system", .string(activitySystem)), ("code", .string(item.outcome)),
                                                          ("display", .string(item.outcome == "accepted" ? "Aceptada / Accepted" : "No seguida / Overridden")))])),
                                ("text", .string(item.outcome == "accepted" ? "Recomendación aceptada" : "Recomendación no seguida")))),
            ("agent", .array([object(
                ("type", object(("coding", .array([object(("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")),
                                                          ("code", .string("author")))])))),
                ("who", who),
                ("onBehalfOf", principal.organization.map { object(("reference", .string($0))) }))])),
            ("entity", .array([object(
                ("role", .string("source")),
                ("what", object(("identifier", object(("system", .string(cardSystem)), ("value", .string(item.card)))),
                                ("display", .string("[\(card.indicator)] \(card.summary)" + (accepted.isEmpty ? "" : " — suggestion \(accepted.joined(separator: ","))"))))))]))
        )
    }

    /// Stores every item through `repository` (the principal's guarded repository); unknown
    /// cards (not issued by `service` to this principal, or past their lifetime) are a 404 before anything
    /// is written. Returns the Provenance references written.
    public func record(service: String, issued: IssuedCards, repository: GuardedRepository, now: Timestamp) async throws -> [String] {
        var pending: [(Item, IssuedCards.Issued)] = []
        for (n, item) in items.enumerated() {
            guard let card = await issued.card(item.card, service: service, subject: repository.principal.subject, now: now) else {
                throw FHIRError(status: 404, code: "not-found",
                                english: "feedback[\(n)]: no card \(item.card) was issued by \(service) to this user (cards are kept \(issued.lifetime / 86_400_000_000) days)",
                                spanish: "feedback[\(n)]: \(service) no emitió la tarjeta \(item.card) para este usuario (las tarjetas se guardan \(issued.lifetime / 86_400_000_000) días)",
                                expression: ["feedback[\(n)].card"])
            }
            if let code = item.reason?["code"]?.stringValue, item.reason?["system"]?.stringValue == Card.overrideSystem, !card.overrideReasons.contains(code) {
                throw FHIRError(status: 400, code: "code-invalid", english: "feedback[\(n)]: '\(code)' is not one of the card's overrideReasons",
                                spanish: "feedback[\(n)]: '\(code)' no es uno de los overrideReasons de la tarjeta", expression: ["feedback[\(n)].overrideReason.reason"])
            }
            pending.append((item, card))
        }
        var refs: [String] = []
        for (item, card) in pending {
            let written = try await repository.create("Provenance", CDSFeedback.provenance(item, card: card, principal: repository.principal, now: now),
                                                      ifNoneExist: nil)
            refs.append("Provenance/\(written.resource.id)")
        }
        return refs
    }
}
