import FHIR
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Monitoring
import Trust

/// The wiring of the Monitoring module (device ingestion (PHD, Open mHealth), Observation $stats,
/// alert rules (Goal); docs/monitoring.md): its FHIR routes, portal pages and navigation,
/// CapabilityStatement entries and outbox consumers. See `Domains.swift`.
extension FHIRAPI {
    func registerMonitoring(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.post("{type}/$ingest-omh") { req, ctx in try await ingestOpenMHealth(req, ctx) }
        fhir.get("{type}/$stats") { req, ctx in try await observationStats(req, ctx, body: nil) }
        fhir.post("{type}/$stats") { req, ctx in try await observationStats(req, ctx, body: try await body(req)) }
    }

    /// `Observation/$stats` (https://hl7.org/fhir/R4/observation-operation-stats.html), GET with
    /// query parameters or POST with a `Parameters` body (`Monitoring.ObservationStats`).
    func observationStats(_ request: Request, _ context: EnlaceRequestContext, body: JSON?) async throws -> Response {
        _ = try requireType(context, "Observation", operation: "$stats")
        let guardRepo = try await guarded(context)
        var parameters = try FHIRAPI.parseQuery(request.uri.query ?? "")
        if let body {
            guard body["resourceType"]?.stringValue == "Parameters" else {
                throw FHIRError.badRequest("POST $stats takes a Parameters resource", "POST $stats recibe un recurso Parameters")
            }
            for p in body["parameter"]?.arrayValue ?? [] {
                guard let name = p["name"]?.stringValue else { continue }
                if name == "period", let period = p["valuePeriod"] {
                    parameters.append(("period", "\(period["start"]?.stringValue ?? "")/\(period["end"]?.stringValue ?? "")"))
                } else if name == "coding", let c = p["valueCoding"] {
                    parameters.append(("coding", "\(c["system"]?.stringValue ?? "")|\(c["code"]?.stringValue ?? "")"))
                } else if let v = p["valueString"]?.stringValue ?? p["valueUri"]?.stringValue ?? p["valueCode"]?.stringValue {
                    parameters.append((name, v))
                } else if case .number(let n)? = p["valueDecimal"] ?? p["valuePositiveInt"] {
                    parameters.append((name, n))
                } else if let b = p["valueBoolean"]?.boolValue {
                    parameters.append((name, b ? "true" : "false"))
                }
            }
        }
        let parsed = try ObservationStats.parse(parameters, now: clock.now())
        return FHIRResponse.json(.ok, try await ObservationStats.run(parsed, guarded: guardRepo))
    }

    /// `POST /fhir/Observation/$ingest-omh[?patient=Patient/x][&mode=batch]`: Open mHealth data
    /// points (one or an array) stored as Observations through the caller's guard
    /// (`Monitoring.Ingestion`). The patient is the token's patient in context unless `patient` names one.
    func ingestOpenMHealth(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(context, "Observation", operation: "$ingest-omh")
        let guardRepo = try await guarded(context)
        var patient = context.principal?.patient.map { $0.hasPrefix("Patient/") ? String($0.dropFirst("Patient/".count)) : $0 }
        var mode = Ingestion.Mode.transaction
        var device: String?
        for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") {
            switch k {
            case "patient", "subject":
                let id = v.hasPrefix("Patient/") ? String(v.dropFirst("Patient/".count)) : v
                guard !id.isEmpty, !id.contains("/") else {
                    throw FHIRError.badRequest("\(k) must be Patient/<id>", "\(k) debe ser Patient/<id>")
                }
                patient = id
            case "device":
                let id = v.hasPrefix("Device/") ? String(v.dropFirst("Device/".count)) : v
                guard !id.isEmpty, id.count <= 64, id.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == ".") }) else {
                    throw FHIRError.badRequest("device must be Device/<id>, not '\(v)'", "device debe ser Device/<id>, no '\(v)'")
                }
                device = "Device/\(id)"
            case "mode":
                guard let m = Ingestion.Mode(rawValue: v) else {
                    throw FHIRError.badRequest("mode must be transaction or batch, not '\(v)'", "mode debe ser transaction o batch, no '\(v)'")
                }
                mode = m
            case "_format", "_pretty":
                break
            default:
                throw FHIRError(status: 400, code: "not-supported", english: "unknown $ingest-omh parameter '\(k)'",
                                spanish: "parámetro desconocido de $ingest-omh '\(k)'")
            }
        }
        guard let patient else {
            throw FHIRError.badRequest("whose readings are these? name the patient (patient=Patient/<id>) or use a token with a patient in context",
                                       "¿de quién son estas lecturas? indique el paciente (patient=Patient/<id>) o use un token con un paciente en contexto")
        }
        let payload = try await body(request)
        let result = try await Ingestion.ingest(payload, patient: patient, mode: mode, now: clock.now(), guarded: guardRepo, base: base, device: device)
        return FHIRResponse.json(.ok, result)
    }
}

extension Portal {
    func registerMonitoringPages(on router: Router<EnlaceRequestContext>) {
        router.get("mediciones") { req, ctx in try await page(req, ctx) { try await measurementsPage($0, $1, $2) } }
        router.get("alertas") { req, ctx in try await page(req, ctx) { try await alertsPage($0, $1, $2) } }
        router.post("alertas/{id}") { req, ctx in
            try await page(req, ctx) { s, r, c in try await acknowledgeAlert(s, r, c, taskID: try c.parameters.require("id")) }
        }
    }

    func monitoringNavigation(_ s: Session) -> [(String, String)] {
        if s.isPatient { return [("/mediciones", s.strings.navMeasurements)] }
        if s.principal.effectiveRole == .practitioner { return [("/alertas", s.strings.navAlerts)] }
        return []
    }

    static var monitoringPrefixes: [String] { ["/mediciones", "/alertas"] }
}

extension EnlaceServices {
    func monitoringConsumers() -> [any EventConsumer] { [AlertConsumer()] }
    /// Device binding (Trust's `DeviceBinding`, docs/monitoring.md "Who may write readings").
    static func monitoringWriteRules() -> [any WriteRule] { [DeviceBinding()] }
    func monitoringServices(_ logger: Logger) -> [any Service] { [] }
}

extension CapabilityContribution {
    static var monitoring: CapabilityContribution {
        CapabilityContribution(operations: ["Observation": [
            (name: "ingest-omh", definition: "https://enlace.mx/fhir/OperationDefinition/Observation-ingest-omh"),
            (name: "stats", definition: "http://hl7.org/fhir/OperationDefinition/Observation-stats"),
        ]])
    }
}
