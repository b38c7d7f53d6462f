import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Trust

/// How the domain modules (Monitoring, Prevention, Care, Financing, Interop) plug into the
/// server (docs/architecture.md, "Adding a domain service"). Each domain has one wiring file
/// beside this one, `Domains/<Domain>.swift`, which registers its FHIR routes, its portal pages
/// and navigation, its CapabilityStatement entries and its outbox consumers; its demo data lives
/// in `Demo/Demo+<Domain>.swift`. The domain's logic lives in its own module and reaches data
/// only through the guarded repository the door opens (or, for a consumer, through the door's
/// outbox); the wiring only translates HTTP to the module's functions and back.

/// What a domain adds to `GET /fhir/metadata`.
struct CapabilityContribution: Sendable {
    /// Operations by resource type (`""`: system-level), each (name without `$`, canonical definition).
    var operations: [String: [(name: String, definition: String)]] = [:]
    /// Extensions on `CapabilityStatement.rest` (e.g. the SubscriptionTopics the server supports).
    var restExtensions: [JSON] = []
    /// Extensions on a `CapabilityStatement.rest.resource` entry, by type (e.g. the SubscriptionTopic canonicals on Subscription).
    var resourceExtensions: [String: [JSON]] = [:]
    /// Extra `searchInclude`/`interaction` notes are not needed: every type already has every interaction.

    init(operations: [String: [(name: String, definition: String)]] = [:], restExtensions: [JSON] = []) {
        self.operations = operations
        self.restExtensions = restExtensions
    }

    /// Every domain's contribution.
    static var all: [CapabilityContribution] { [.monitoring, .prevention, .care, .financing, .interop, .subscriptions] }
}

extension FHIRAPI {
    /// Every domain's FHIR routes under `/fhir`. Register operations as `{type}/$op` or
    /// `{type}/{id}/$op` and check the type in the handler (`requireType`): Hummingbird's router
    /// does not fall back from a literal first segment, so a route `Patient/$match` would make
    /// `Patient/{id}` unreachable. Two domains must not register the same pattern.
    func registerDomains(on fhir: RouterGroup<EnlaceRequestContext>) {
        registerMonitoring(on: fhir)
        registerPrevention(on: fhir)
        registerCare(on: fhir)
        registerFinancing(on: fhir)
        registerInterop(on: fhir)
        registerSubscriptions(on: fhir)
    }
}

extension FHIRAPI {
    /// The `{type}` of an operation route, refused with 404 `not-supported` unless it is one of
    /// `types` (e.g. `$stats` is defined on Observation only).
    func requireType(_ context: EnlaceRequestContext, _ types: String..., operation: String) throws -> String {
        let type = try context.parameters.require("type")
        guard types.contains(type) else {
            let on = types.joined(separator: ", ")
            throw FHIRError(status: 404, code: "not-supported", english: "\(operation) is defined on \(on), not on \(type)",
                            spanish: "\(operation) está definido para \(on), no para \(type)")
        }
        return type
    }
}

extension Portal {
    /// Every domain's portal pages.
    func registerDomainPages(on router: Router<EnlaceRequestContext>) {
        registerMonitoringPages(on: router)
        registerPreventionPages(on: router)
        registerCarePages(on: router)
        registerFinancingPages(on: router)
        registerInteropPages(on: router)
    }

    /// The navigation entries the domains add for this session (href, label), after the core ones.
    func domainNavigation(_ s: Session) -> [(String, String)] {
        monitoringNavigation(s) + preventionNavigation(s) + careNavigation(s) + financingNavigation(s) + interopNavigation(s)
    }

    /// Paths the domains' pages own (the bearer-token middleware leaves them to the portal's session).
    static var domainPrefixes: [String] {
        monitoringPrefixes + preventionPrefixes + carePrefixes + financingPrefixes + interopPrefixes
    }
}

extension EnlaceServices {
    /// Every domain's outbox consumers, run by `EventConsumersService`.
    func eventConsumers() -> [any EventConsumer] {
        monitoringConsumers() + preventionConsumers() + careConsumers() + financingConsumers() + interopConsumers() + subscriptionsConsumers()
    }

    /// Every domain's rules on writes (`WriteRule`: e.g. the referral Task state machine), which
    /// every guard of the door applies inside the write's transaction.
    static func domainWriteRules(_ configuration: ServerConfiguration) -> [any WriteRule] {
        careWriteRules() + interopWriteRules() + subscriptionsWriteRules(configuration) + monitoringWriteRules() + financingWriteRules()
    }

    /// Every domain's long-running services (e.g. Subscription delivery, Bulk export jobs), run
    /// under ServiceLifecycle beside the HTTP server; each must wait for graceful shutdown rather
    /// than return early (a service that returns ends the server).
    func domainServices(_ logger: Logger) -> [any Service] {
        monitoringServices(logger) + preventionServices(logger) + careServices(logger) + financingServices(logger) + interopServices(logger) + subscriptionsServices(logger)
    }
}
