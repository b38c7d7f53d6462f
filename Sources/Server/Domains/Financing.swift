import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Financing
import Trust

/// The wiring of the Financing module (coverage and eligibility, claims and adjudication, the settlement ledger, quality measures and incentives): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    func registerFinancing(on fhir: RouterGroup<EnlaceRequestContext>) {}
}

extension Portal {
    func registerFinancingPages(on router: Router<EnlaceRequestContext>) {}
    func financingNavigation(_ s: Session) -> [(String, String)] { [] }
    static var financingPrefixes: [String] { [] }
}

extension EnlaceServices {
    func financingConsumers() -> [any EventConsumer] { [] }
    func financingServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var financing: CapabilityContribution { CapabilityContribution() }
}
