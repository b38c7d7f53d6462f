import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Interop
import Trust

/// The wiring of the Interop module (patient matching and merge, Bulk Data $export/$import, the terminology service, the International Patient Summary): its FHIR routes,
/// portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift`.
extension FHIRAPI {
    func registerInterop(on fhir: RouterGroup<EnlaceRequestContext>) {}
}

extension Portal {
    func registerInteropPages(on router: Router<EnlaceRequestContext>) {}
    func interopNavigation(_ s: Session) -> [(String, String)] { [] }
    static var interopPrefixes: [String] { [] }
}

extension EnlaceServices {
    func interopConsumers() -> [any EventConsumer] { [] }
    func interopServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var interop: CapabilityContribution { CapabilityContribution() }
}
