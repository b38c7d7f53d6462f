import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Prevention
import Trust

/// The wiring of the Prevention module (the Cartilla Nacional de Salud as PlanDefinitions,
/// `$care-gaps`, ImmunizationRecommendation, risk scores as recorded decisions): its FHIR
/// routes, portal pages and navigation, CapabilityStatement entries and outbox consumers. See
/// `Domains.swift` and docs/prevention.md.
extension FHIRAPI {
    func registerPrevention(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.get("{type}/$care-gaps") { req, ctx in try await careGaps(req, ctx, patient: nil) }
        fhir.get("{type}/{id}/$care-gaps") { req, ctx in try await careGaps(req, ctx, patient: try ctx.parameters.require("id")) }
    }

    /// `Patient/$care-gaps?periodStart=&periodEnd=&subject=Patient/x&status=open-gap` (after Da
    /// Vinci DEQM) and `Patient/{id}/$care-gaps`: a Parameters with one `return` Bundle per patient,
    /// computed from what the asker may see. Without `subject`, every patient the asker may see
    /// (at most 500): a clinician's panel.
    func careGaps(_ request: Request, _ context: EnlaceRequestContext, patient: String?) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$care-gaps")
        let g = try await guarded(context)
        var parameters = try FHIRAPI.parseQuery(request.uri.query ?? "")
        if let patient { parameters.append(("subject", "Patient/\(patient)")) }
        let now = clock.now().date
        let parsed = try CareGaps.parse(parameters, today: CivilDate(now))
        let result = try await CareGaps(knowledge: PreventionWiring.knowledge).run(parsed, guarded: g, now: now, base: base)
        return FHIRResponse.json(.ok, result)
    }
}

/// What the wiring shares: the Cartilla in force.
enum PreventionWiring {
    /// The edition built in (docs/prevention.md, "Replacing the schedule").
    static var knowledge: CartillaKnowledge { .standard }
}

extension Portal {
    func registerPreventionPages(on router: Router<EnlaceRequestContext>) {
        router.get("prevencion") { req, ctx in try await page(req, ctx) { try await preventionPage($0, $1, $2) } }
        router.get("prevencion/panel") { req, ctx in try await page(req, ctx) { try await preventionPanel($0, $1, $2) } }
    }

    func preventionNavigation(_ s: Session) -> [(String, String)] {
        if s.isPatient { return [("/prevencion", s.strings.navPrevention)] }
        if s.principal.effectiveRole == .practitioner { return [("/prevencion/panel", s.strings.navPreventionPanel)] }
        return []
    }

    static var preventionPrefixes: [String] { ["/prevencion"] }
}

extension EnlaceServices {
    func preventionConsumers() -> [any EventConsumer] {
        let settings = PreventionSettings(knowledge: PreventionWiring.knowledge, now: { [clock] in clock.now().date })
        return [RecommendationsConsumer(settings: settings), RiskConsumer(settings: settings)]
    }

    func preventionServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var prevention: CapabilityContribution {
        CapabilityContribution(operations: ["Patient": [(name: "care-gaps", definition: "http://hl7.org/fhir/us/davinci-deqm/OperationDefinition/care-gaps")]])
    }
}
