import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// Resource types whose writes are decisions about a patient (a diagnosis, an order, a
    /// medication change, an algorithm's recommendation …).
    static let decisionTypes: Set<String> = [
        "Condition", "MedicationRequest", "MedicationStatement", "ServiceRequest", "RiskAssessment", "DetectedIssue",
        "ClinicalImpression", "CarePlan", "DiagnosticReport", "Procedure", "ImmunizationRecommendation", "NutritionOrder",
        "DeviceRequest", "Goal", "AllergyIntolerance",
    ]

    /// `Patient/[id]/$decisions`: the decisions about a patient and who answers for each — the
    /// Provenance of every decision-type resource in the compartment, newest first, with the
    /// decision itself and the accountable people and algorithms (Devices, with their version)
    /// included. Recorded through the R4 `X-Provenance` header on the write, or by default with
    /// the writer as author.
    func decisions(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        guard type == "Patient" else {
            throw FHIRError(status: 404, code: "not-supported", english: "$decisions is defined on Patient", spanish: "$decisions está definido para Patient")
        }
        let guardRepo = try await guarded(context)
        _ = try await guardRepo.read("Patient", id)
        var (query, _) = try searchParser.parse(types: ["Provenance"], parameters: [("_sort", "-recorded"), ("_count", "200"), ("_total", "none")],
                                                compartment: id)
        query.includes = [IncludeSpec(sourceType: "Provenance", parameter: "target", targetType: nil, iterate: false),
                          IncludeSpec(sourceType: "Provenance", parameter: "agent", targetType: nil, iterate: false)]
        let result = try await guardRepo.search(query)
        var entries: [JSON] = []
        var wanted = Set<String>()
        for p in result.matches {
            let json = try p.json()
            let targets = (json["target"]?.arrayValue ?? []).compactMap { $0["reference"]?.stringValue }
            let isDecision = targets.contains { FHIRAPI.decisionTypes.contains(String($0.split(separator: "/").first ?? "")) }
            guard isDecision else { continue }
            entries.append(.object([("fullUrl", .string("\(base)/Provenance/\(p.id)")), ("resource", json), ("search", .object([("mode", .string("match"))]))]))
            for t in targets { wanted.insert(t.split(separator: "/").prefix(2).joined(separator: "/")) }
            for a in json["agent"]?.arrayValue ?? [] { if let w = a["who"]?["reference"]?.stringValue { wanted.insert(w) } }
        }
        for r in result.included where wanted.contains("\(r.type)/\(r.id)") {
            entries.append(.object([("fullUrl", .string("\(base)/\(r.type)/\(r.id)")), ("resource", try r.json()), ("search", .object([("mode", .string("include"))]))]))
        }
        var bundle: [(String, JSON)] = [("resourceType", .string("Bundle")), ("type", .string("searchset"))]
        if !entries.isEmpty { bundle.append(("entry", .array(entries))) }
        return FHIRResponse.json(.ok, .object(bundle))
    }
}
