import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import Storage

extension FHIRAPI {
    /// `Patient/[id]/$everything` (https://hl7.org/fhir/R4/patient-operation-everything.html):
    /// the patient, every resource in their compartment, and the shared resources those refer to
    /// (Practitioner, Organization, Medication, Location …). Supports `_since`, `_type`, `_count`
    /// and paging.
    func everything(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        let id = try context.parameters.require("id")
        guard type == "Patient" else {
            throw FHIRError(status: 404, code: "not-supported", english: "$everything is defined on Patient", spanish: "$everything está definido para Patient")
        }
        let guardRepo = try await guarded(context)
        _ = try await guardRepo.read("Patient", id)  // 404/410/403 as for a read
        let compartmentTypes = ["Patient"] + Definitions.r4.patientCompartment.filter { !$0.value.isEmpty }.keys.sorted()
        var types = compartmentTypes
        var parameters: [(String, String)] = []
        for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") {
            switch k {
            case "_type":
                let wanted = v.split(separator: ",").map(String.init)
                for t in wanted { try Repository.checkType(t) }
                types = compartmentTypes.filter { wanted.contains($0) }
                guard !types.isEmpty else {
                    throw FHIRError.badRequest("none of the _type values are in the Patient compartment", "ninguno de los valores de _type está en el compartimento de Patient")
                }
                parameters.append(("_type", v))
            case "_since":
                guard DateRange(v) != nil, v.contains("T") else {
                    throw FHIRError.badRequest("_since must be an instant, e.g. 2026-01-01T00:00:00Z", "_since debe ser un instante, p. ej. 2026-01-01T00:00:00Z")
                }
                parameters.append(("_lastUpdated", "ge" + v))
            case "_count", "_cursor", "_format", "_pretty":
                parameters.append((k, v))
            case "start", "end":
                throw FHIRError(status: 400, code: "not-supported", english: "$everything start/end are not supported yet; use _since",
                                spanish: "start/end de $everything aún no se admiten; use _since")
            default:
                if FHIRAPI.preferStrict(request) {
                    throw FHIRError(status: 400, code: "not-supported", english: "unknown $everything parameter '\(k)'", spanish: "parámetro desconocido de $everything '\(k)'")
                }
            }
        }
        parameters.append(("_include", "*"))
        let shared = Set(Definitions.r4.resourceTypes.filter { Definitions.r4.patientCompartment[$0]?.isEmpty ?? true }).subtracting(["Patient"])
        return try await search(request, context, types: types, compartment: id, path: "Patient/\(id)/$everything",
                                parameters: parameters, includeTypes: shared)
    }

    /// `Observation/$lastn` (https://hl7.org/fhir/R4/observation-operation-lastn.html): the most
    /// recent `max` (default 1) Observations for each code, for a patient, with the usual
    /// Observation search parameters (`category`, `code`, …). Looks at the newest 5,000 matches.
    func lastN(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let type = try context.parameters.require("type")
        guard type == "Observation" else {
            throw FHIRError(status: 404, code: "not-supported", english: "$lastn is defined on Observation", spanish: "$lastn está definido para Observation")
        }
        let guardRepo = try await guarded(context)
        var max = 1
        var parameters: [(String, String)] = []
        for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") {
            if k == "max" {
                guard let n = Int(v), n >= 1, n <= 1000 else {
                    throw FHIRError.badRequest("max must be an integer from 1 to 1000", "max debe ser un entero de 1 a 1000")
                }
                max = n
            } else if !["_count", "_cursor", "_sort"].contains(k) {
                parameters.append((k, v))
            }
        }
        guard parameters.contains(where: { ["patient", "subject"].contains($0.0.split(separator: ":").first.map(String.init) ?? "") }) else {
            throw FHIRError.badRequest("$lastn needs a patient (patient= or subject=)", "$lastn necesita un paciente (patient= o subject=)")
        }
        parameters += [("_sort", "-date"), ("_count", "1000"), ("_total", "none")]
        var (query, _) = try searchParser.parse(types: ["Observation"], parameters: parameters)
        var kept: [StoredResource] = []
        var perCode: [String: Int] = [:]
        var scanned = 0
        while scanned < 5000 {
            let page = try await guardRepo.search(query)
            for r in page.matches {
                let json = try r.json()
                let coding = json["code"]?["coding"]?.arrayValue?.first
                let key = coding.map { "\($0["system"]?.stringValue ?? "")|\($0["code"]?.stringValue ?? "")" } ?? (json["code"]?["text"]?.stringValue ?? "")
                if perCode[key, default: 0] < max {
                    perCode[key, default: 0] += 1
                    kept.append(r)
                }
            }
            scanned += page.matches.count
            guard page.hasMore, let last = page.matches.last else { break }
            query.cursor = SearchCursor(keys: page.sortValues.last ?? [], type: last.type, id: last.id, direction: .next)
        }
        let entries: [JSON] = try kept.map { .object([("fullUrl", .string("\(base)/Observation/\($0.id)")), ("resource", try $0.json()),
                                                      ("search", .object([("mode", .string("match"))]))]) }
        var bundle: [(String, JSON)] = [("resourceType", .string("Bundle")), ("type", .string("searchset")), ("total", .number(String(kept.count)))]
        if !entries.isEmpty { bundle.append(("entry", .array(entries))) }
        return FHIRResponse.json(.ok, .object(bundle))
    }
}
