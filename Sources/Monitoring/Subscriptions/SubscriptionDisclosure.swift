import FHIR
import Foundation
import Storage
import Trust

/// What a notification discloses, recorded in the audit ledger (docs/subscriptions.md, "Audit"):
/// every notification Bundle that carries events about patients — rest-hook POST or websocket
/// frame, whatever its payload content — is one AuditEvent in the patients' access log, the way
/// the door records a request's reads: the owner as the agent (the events are read through the
/// owner's guard with this context, so the entry names exactly the versions and patients that
/// were sent, and the rule that allowed them), the destination (channel and endpoint host) as a
/// second agent, the Subscription as an entity, and the receiver's answer as the outcome. One
/// entry per Bundle, not per event; nothing for a handshake or heartbeat, and nothing when the
/// guard withheld every event (nothing is sent then).
public enum SubscriptionDisclosure {
    /// The audit context to read a Bundle's events with, before it is sent.
    public static func context(subscription id: String, owner: Principal, channel: String, destination: String) -> AuditContext {
        let ctx = AuditContext(requestID: "subscription-\(id)-\(UUID().uuidString.lowercased())", method: "POST", path: "Subscription/\(id)",
                               query: nil, remoteAddress: nil)
        ctx.principal = owner
        ctx.interaction = "operation"
        ctx.disclosure = .init(subscription: "Subscription/\(id)", channel: channel, destination: destination)
        return ctx
    }

    /// Appends the entry once the Bundle went out: `status` is the receiver's HTTP status (a
    /// websocket frame written: 200), 0 when it gave no answer. Indexed under the patients of
    /// the versions sent, so each patient's access log lists it.
    public static func record(_ ctx: AuditContext, status: Int, door: Door) async throws {
        guard !ctx.entities.isEmpty else { return }
        let now = door.clock.now()
        _ = try await door.ledger.record(PendingAudit(recorded: now, patients: ctx.patients,
                                                      bytes: door.auditBuilder.build(ctx, status: status, recorded: now).serialized()))
    }

    /// The host of a rest-hook endpoint (never its path or query, which may carry a secret).
    public static func host(_ endpoint: String) -> String {
        URLComponents(string: endpoint)?.host ?? "?"
    }
}

/// Whether a Subscription's owner still has the access it subscribed with
/// (docs/subscriptions.md, "When the owner's access ends"): its token not revoked, its user and
/// its client not disabled. Checked before every delivery; when it ended, the Subscription is
/// turned `off` with the reason in `Subscription.error`, and nothing more is sent.
public enum SubscriptionOwnerAccess {
    /// The bilingual reason the owner's access ended, or nil.
    public static func ended(_ owner: Principal, door: Door) async throws -> String? {
        switch try await door.identity.accessEnded(for: owner) {
        case nil:
            return nil
        case .tokenRevoked:
            return "the access token this Subscription was created with was revoked: no more notifications are sent / "
                + "se revocó el token de acceso con el que se creó esta Subscription: no se envían más notificaciones"
        case .userDisabled(let user):
            return "the subscriber's user account (\(user)) was disabled: no more notifications are sent / "
                + "se desactivó la cuenta de quien se suscribió (\(user)): no se envían más notificaciones"
        case .clientDisabled(let client):
            return "the application (client \(client)) this Subscription was created with was disabled: no more notifications are sent / "
                + "se desactivó la aplicación (cliente \(client)) con la que se creó esta Subscription: no se envían más notificaciones"
        }
    }
}
