import Foundation

/// The access log's words for a Subscription's notification (docs/subscriptions.md, "Audit").
extension PortalStrings {
    func notificationTo(_ owner: String) -> String { t("Notificación a \(owner)", "Notification to \(owner)") }
    func notificationWhat(_ what: String, channel: String, destination: String) -> String {
        t("\(what) — enviada por \(channel) a \(destination)", "\(what) — sent by \(channel) to \(destination)")
    }
    var notificationNotConfirmed: String { t("el receptor no confirmó la entrega", "the receiver did not confirm delivery") }
}
