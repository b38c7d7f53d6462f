import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Monitoring
import Trust

/// The wiring of the Monitoring module (device ingestion (PHD, Open mHealth), Observation $stats, alert rules (Goal), Subscriptions (R5 backport) — issue: monitoring): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    func registerMonitoring(on fhir: RouterGroup<EnlaceRequestContext>) {}
}

extension Portal {
    func registerMonitoringPages(on router: Router<EnlaceRequestContext>) {}
    func monitoringNavigation(_ s: Session) -> [(String, String)] { [] }
    static var monitoringPrefixes: [String] { [] }
}

extension EnlaceServices {
    func monitoringConsumers() -> [any EventConsumer] { [] }
    func monitoringServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var monitoring: CapabilityContribution { CapabilityContribution() }
}
