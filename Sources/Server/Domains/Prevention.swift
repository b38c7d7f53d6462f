import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Prevention
import Trust

/// The wiring of the Prevention module (the Cartilla Nacional de Salud as PlanDefinitions, $care-gaps, ImmunizationRecommendation, risk scores as recorded decisions): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    func registerPrevention(on fhir: RouterGroup<EnlaceRequestContext>) {}
}

extension Portal {
    func registerPreventionPages(on router: Router<EnlaceRequestContext>) {}
    func preventionNavigation(_ s: Session) -> [(String, String)] { [] }
    static var preventionPrefixes: [String] { [] }
}

extension EnlaceServices {
    func preventionConsumers() -> [any EventConsumer] { [] }
    func preventionServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var prevention: CapabilityContribution { CapabilityContribution() }
}
