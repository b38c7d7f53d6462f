import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Financing
import Trust

/// The wiring of the Financing module (coverage and eligibility, claims and adjudication, the
/// settlement ledger, quality measures and incentives): its FHIR routes, portal pages and
/// navigation, CapabilityStatement entries and outbox consumers. See `Domains.swift` and
/// docs/financing.md.
extension FHIRAPI {
    func registerFinancing(on fhir: RouterGroup<EnlaceRequestContext>) {
        // Claim/$submit and CoverageEligibilityRequest/$submit
        fhir.post("{type}/$submit") { req, ctx in try await financingSubmit(req, ctx) }
        // PaymentReconciliation/$settle?period=2026-Q3
        fhir.post("{type}/$settle") { req, ctx in try await financingSettle(req, ctx) }
        // Measure/$evaluate-measure?measure=…, Measure/{id}/$evaluate-measure
        fhir.get("{type}/$evaluate-measure") { req, ctx in try await financingEvaluate(req, ctx, id: nil) }
        fhir.post("{type}/$evaluate-measure") { req, ctx in try await financingEvaluate(req, ctx, id: nil) }
        fhir.get("{type}/{id}/$evaluate-measure") { req, ctx in try await financingEvaluate(req, ctx, id: ctx.parameters.require("id")) }
        fhir.post("{type}/{id}/$evaluate-measure") { req, ctx in try await financingEvaluate(req, ctx, id: ctx.parameters.require("id")) }
        // PaymentReconciliation/{id}/$dispute, Task/{id}/$resolve (docs/financing.md, "Disputes")
        fhir.post("{type}/{id}/$dispute") { req, ctx in try await financingDispute(req, ctx, id: ctx.parameters.require("id")) }
        fhir.post("{type}/{id}/$resolve") { req, ctx in try await financingResolve(req, ctx, id: ctx.parameters.require("id")) }
        // Claim/{id}/$correct (docs/financing.md, "Corrections")
        fhir.post("{type}/{id}/$correct") { req, ctx in try await financingCorrect(req, ctx, id: ctx.parameters.require("id")) }
    }

    /// `Claim/{id}/$correct` (Parameters: `resource` = the corrected Claim, `reason` string): the
    /// corrected claim as a new version with its reason, adjudicated again; returns the new
    /// ClaimResponse (its journal entries: the reversal of the earlier one and the new entry).
    func financingCorrect(_ req: Request, _ ctx: EnlaceRequestContext, id: String) async throws -> Response {
        _ = try requireType(ctx, "Claim", operation: "$correct")
        ctx.audit?.interaction = "$correct"
        try FinancingKnowledge.check()
        let payload = try await body(req)
        guard payload["resourceType"]?.stringValue == "Parameters" else {
            throw FHIRError.badRequest("$correct takes Parameters with resource (the corrected Claim) and reason",
                                       "$correct recibe Parameters con resource (el Claim corregido) y reason")
        }
        let parameters = payload["parameter"]?.arrayValue ?? []
        guard let claim = parameters.first(where: { $0["name"]?.stringValue == "resource" })?["resource"], claim["resourceType"]?.stringValue == "Claim" else {
            throw FHIRError.badRequest("$correct needs resource: the corrected Claim", "$correct necesita resource: el Claim corregido", code: "required")
        }
        guard let reason = parameters.first(where: { $0["name"]?.stringValue == "reason" })?["valueString"]?.stringValue else {
            throw FHIRError.badRequest("$correct needs reason (valueString): why the claim is corrected", "$correct necesita reason (valueString): por qué se corrige la reclamación",
                                       code: "required")
        }
        if let given = claim["id"]?.stringValue, given != id {
            throw FHIRError.badRequest("the corrected Claim's id (\(given)) is not \(id)", "el id del Claim corregido (\(given)) no es \(id)", code: "value")
        }
        let issues = Validator().validate(claim).filter { $0.severity == .error || $0.severity == .fatal }
        if !issues.isEmpty { throw FHIRError(status: 422, issues: issues) }
        let correction = try await financing.correct(claim: id, corrected: claim, reason: reason, guarded: try await guarded(ctx), now: clock.now())
        return FHIRResponse.json(.ok, correction.claimResponse)
    }

    /// The operation's named parameters (query and Parameters body, `operationParameters`),
    /// the last of a name winning; a broken or non-Parameters body is a 400.
    func financingParameters(_ req: Request, operation: String) async throws -> [String: JSON] {
        var out: [String: JSON] = [:]
        for p in try await operationParameters(req, operation: operation) { out[p.name] = p.value }
        return out
    }

    func financingDispute(_ req: Request, _ ctx: EnlaceRequestContext, id: String) async throws -> Response {
        _ = try requireType(ctx, "PaymentReconciliation", operation: "$dispute")
        ctx.audit?.interaction = "$dispute"
        try FinancingKnowledge.check()
        let p = try await financingParameters(req, operation: "$dispute")
        guard let line = p["line"]?["reference"]?.stringValue ?? p["line"]?.stringValue else {
            throw FHIRError.badRequest("$dispute needs line (a Reference to the ClaimResponse disputed)", "$dispute necesita line (una Reference al ClaimResponse disputado)", code: "required")
        }
        guard let reason = p["reason"]?.stringValue else {
            throw FHIRError.badRequest("$dispute needs reason (text)", "$dispute necesita reason (texto)", code: "required")
        }
        var item: Int?
        if let v = p["item"] {
            let text: String? = if case .number(let n) = v { n } else { v.stringValue }
            guard let t = text, let n = Int(t), n > 0 else { throw FHIRError.badRequest("item must be a positive integer", "item debe ser un entero positivo", code: "value") }
            item = n
        }
        let amount = try p["amount"].map { try Money(json: $0, path: "Parameters.amount") }
        let guarded = try await guarded(ctx)
        let (task, created) = try await financing.dispute(reconciliation: id, line: line, item: item, reason: reason, amount: amount, guarded: guarded,
                                                                   now: clock.now())
        return FHIRResponse.json(created ? .created : .ok, task)
    }

    func financingResolve(_ req: Request, _ ctx: EnlaceRequestContext, id: String) async throws -> Response {
        _ = try requireType(ctx, "Task", operation: "$resolve")
        ctx.audit?.interaction = "$resolve"
        try FinancingKnowledge.check()
        let p = try await financingParameters(req, operation: "$resolve")
        guard let outcome = p["outcome"]?.stringValue, ["accepted", "rejected"].contains(outcome) else {
            throw FHIRError.badRequest("$resolve needs outcome = accepted or rejected", "$resolve necesita outcome = accepted o rejected", code: "required")
        }
        let guarded = try await guarded(ctx)
        let task = try await financing.resolve(dispute: id, accept: outcome == "accepted", note: p["note"]?.stringValue, guarded: guarded, now: clock.now())
        return FHIRResponse.json(.ok, task)
    }

    /// A resource from the body: the resource itself, or a Parameters with it as `resource`.
    func financingResource(_ req: Request, name: String = "resource") async throws -> JSON {
        let payload = try await body(req)
        if payload["resourceType"]?.stringValue == "Parameters" {
            for p in payload["parameter"]?.arrayValue ?? [] where p["name"]?.stringValue == name {
                if let r = p["resource"] { return r }
            }
            throw FHIRError.badRequest("the Parameters have no '\(name)' resource", "los Parameters no tienen el recurso '\(name)'", code: "required")
        }
        return payload
    }

    func financingSubmit(_ req: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        let type = try requireType(ctx, "Claim", "CoverageEligibilityRequest", operation: "$submit")
        ctx.audit?.interaction = "$submit"
        try FinancingKnowledge.check()
        let resource = try await financingResource(req)
        guard resource["resourceType"]?.stringValue == type else {
            throw FHIRError.badRequest("\(type)/$submit takes a \(type), not a \(resource["resourceType"]?.stringValue ?? "body without resourceType")",
                                       "\(type)/$submit recibe un \(type), no un \(resource["resourceType"]?.stringValue ?? "cuerpo sin resourceType")")
        }
        let issues = Validator().validate(resource).filter { $0.severity == .error || $0.severity == .fatal }
        if !issues.isEmpty { throw FHIRError(status: 422, issues: issues) }
        let guarded = try await guarded(ctx)
        let service = financing
        if type == "CoverageEligibilityRequest" {
            return FHIRResponse.json(.ok, try await service.eligibility(request: resource, guarded: guarded, now: clock.now()))
        }
        let submission = try await service.submit(claim: resource, guarded: guarded, now: clock.now())
        return FHIRResponse.json(submission.created ? .created : .ok, submission.claimResponse)
    }

    func financingSettle(_ req: Request, _ ctx: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(ctx, "PaymentReconciliation", operation: "$settle")
        ctx.audit?.interaction = "$settle"
        try FinancingKnowledge.check()
        let periodText = try await operationParameters(req, operation: "$settle").first { $0.name == "period" }?.value.stringValue
        guard let text = periodText, let period = Period(text) else {
            throw FHIRError.badRequest("$settle needs period=YYYY-Qn (a calendar quarter, e.g. 2026-Q3)",
                                       "$settle necesita period=AAAA-Tn (un trimestre, p. ej. 2026-Q3)", code: "required")
        }
        let guarded = try await guarded(ctx)
        let result = try await financing.settle(period, guarded: guarded, now: clock.now())
        let entries = result.resources.map { r in
            JSON.object([("fullUrl", .string("\(base)/\(r["resourceType"]?.stringValue ?? "")/\(r["id"]?.stringValue ?? "")")), ("resource", r)])
        }
        let bundle = JSON.object([("resourceType", .string("Bundle")), ("type", .string("collection")),
                                  ("timestamp", .string(clock.now().description)), ("entry", .array(entries))])
        return FHIRResponse.json(result.created ? .created : .ok, bundle)
    }

    func financingEvaluate(_ req: Request, _ ctx: EnlaceRequestContext, id: String?) async throws -> Response {
        _ = try requireType(ctx, "Measure", operation: "$evaluate-measure")
        ctx.audit?.interaction = "$evaluate-measure"
        try FinancingKnowledge.check()
        let params = try await operationParameters(req, operation: "$evaluate-measure").compactMap { p in p.value.stringValue.map { (p.name, $0) } }
        func one(_ name: String) -> String? { params.first { $0.0 == name }?.1 }
        let measure = id ?? one("measure").map { m in
            String(m.split(separator: "|").first.map(String.init)?.split(separator: "/").last ?? "")
        }
        guard let measure, !measure.isEmpty else {
            throw FHIRError.badRequest("$evaluate-measure needs a measure (Measure/{id}/$evaluate-measure or measure=)",
                                       "$evaluate-measure necesita una medida (Measure/{id}/$evaluate-measure o measure=)", code: "required")
        }
        guard let start = one("periodStart"), let end = one("periodEnd"), DateRange(start) != nil, DateRange(end) != nil, start <= end else {
            throw FHIRError.badRequest("$evaluate-measure needs periodStart and periodEnd as dates (YYYY-MM-DD), start not after end",
                                       "$evaluate-measure necesita periodStart y periodEnd como fechas (AAAA-MM-DD), inicio no posterior al fin", code: "required")
        }
        let reportText = one("reportType") ?? (one("subject") == nil ? "summary" : "individual")
        guard let reportType = MeasureEvaluator.ReportType(parameter: reportText) else {
            throw FHIRError.badRequest("reportType must be individual, subject-list or summary (R4: subject, subject-list, population), not '\(reportText)'",
                                       "reportType debe ser individual, subject-list o summary (R4: subject, subject-list, population), no '\(reportText)'", code: "value")
        }
        var subject = one("subject")
        if let s = subject, !s.hasPrefix("Patient/") { subject = "Patient/" + s }
        if reportType == .individual, subject == nil {
            throw FHIRError.badRequest("an individual report needs subject=Patient/{id}", "un informe individual necesita subject=Patient/{id}", code: "required")
        }
        if one("practitioner") != nil {
            throw FHIRError(status: 400, code: "not-supported", english: "the practitioner parameter is not supported yet: a practitioner's evaluation already counts only the patients they may see",
                            spanish: "el parámetro practitioner aún no se admite: la evaluación de un médico ya cuenta solo los pacientes que puede ver")
        }
        let guarded = try await guarded(ctx)
        let request = MeasureEvaluator.Request(measureID: measure, periodStart: String(start.prefix(10)), periodEnd: String(end.prefix(10)),
                                               reportType: reportType, subject: subject, organization: one("organization") ?? one("reporter"))
        return FHIRResponse.json(.ok, try await MeasureEvaluator().report(request, guarded: guarded, door: door, now: clock.now()))
    }
}

extension Portal {
    func registerFinancingPages(on router: Router<EnlaceRequestContext>) {
        router.get("gastos") { req, ctx in try await page(req, ctx) { try await expensesPage($0, $1, $2) } }
        router.get("cobertura") { req, ctx in try await page(req, ctx) { try await coveragePage($0, $1, $2) } }
        router.get("reclamaciones") { req, ctx in try await page(req, ctx) { try await claimsPage($0, $1, $2) } }
        router.get("reclamaciones/{id}") { req, ctx in
            let id = try ctx.parameters.require("id")
            return try await page(req, ctx) { try await claimDetailPage($0, $1, $2, id: id) }
        }
        router.get("liquidacion") { req, ctx in try await page(req, ctx) { try await settlementPage($0, $1, $2) } }
        router.get("liquidacion.csv") { req, ctx in try await page(req, ctx) { try await settlementDownload($0, $1, $2, pdf: false) } }
        router.get("liquidacion.pdf") { req, ctx in try await page(req, ctx) { try await settlementDownload($0, $1, $2, pdf: true) } }
        router.get("calidad") { req, ctx in try await page(req, ctx) { try await qualityPage($0, $1, $2) } }
        router.get("disputas") { req, ctx in try await page(req, ctx) { try await disputesPage($0, $1, $2) } }
        router.post("disputas/resolver") { req, ctx in try await page(req, ctx) { try await resolveDisputeForm($0, $1, $2) } }
        router.post("disputas/abrir") { req, ctx in try await page(req, ctx) { try await openDispute($0, $1, $2) } }
    }
    func financingNavigation(_ s: Session) -> [(String, String)] {
        let t = s.strings
        if s.isPatient { return [("/gastos", t.navExpenses), ("/cobertura", t.navCoverage)] }
        switch s.principal.effectiveRole {
        case .payer, .platformOperator, .service:
            return [("/reclamaciones", t.navClaims), ("/liquidacion", t.navSettlement), ("/disputas", t.navDisputes), ("/calidad", t.navQuality)]
        case .organizationAdmin:
            return [("/liquidacion", t.navSettlement), ("/disputas", t.navDisputes), ("/calidad", t.navQuality)]
        case .practitioner:
            return [("/calidad", t.navQuality)]
        default:
            return []
        }
    }
    static var financingPrefixes: [String] { ["/gastos", "/cobertura", "/reclamaciones", "/liquidacion", "/liquidacion.csv", "/liquidacion.pdf", "/calidad", "/disputas"] }
}

extension EnlaceServices {
    static func financingWriteRules() -> [any WriteRule] { [LedgerFence()] }
    func financingConsumers() -> [any EventConsumer] { [ClaimsFromCareConsumer(service: financing)] }
    func financingServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var financing: CapabilityContribution {
        CapabilityContribution(operations: [
            "Claim": [("submit", "http://hl7.org/fhir/OperationDefinition/Claim-submit"),
                      ("correct", "https://enlace.mx/fhir/OperationDefinition/Claim-correct")],
            "CoverageEligibilityRequest": [("submit", "https://enlace.mx/fhir/OperationDefinition/CoverageEligibilityRequest-submit")],
            "PaymentReconciliation": [("settle", "https://enlace.mx/fhir/OperationDefinition/PaymentReconciliation-settle"),
                                      ("dispute", "https://enlace.mx/fhir/OperationDefinition/PaymentReconciliation-dispute")],
            "Task": [("resolve", "https://enlace.mx/fhir/OperationDefinition/Task-resolve")],
            "Measure": [("evaluate-measure", "http://hl7.org/fhir/OperationDefinition/Measure-evaluate-measure")],
        ])
    }
}
