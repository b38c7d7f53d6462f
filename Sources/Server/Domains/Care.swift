import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Care
import Trust

/// The wiring of the Care module (referrals (ServiceRequest + Task), appointments, e-prescription and dispense, the duplicate-study check, the CDS Hooks service): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    func registerCare(on fhir: RouterGroup<EnlaceRequestContext>) {}
}

extension Portal {
    func registerCarePages(on router: Router<EnlaceRequestContext>) {}
    func careNavigation(_ s: Session) -> [(String, String)] { [] }
    static var carePrefixes: [String] { [] }
}

extension EnlaceServices {
    func careConsumers() -> [any EventConsumer] { [] }
    func careServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var care: CapabilityContribution { CapabilityContribution() }
}
