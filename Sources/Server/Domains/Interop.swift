import FHIR
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Logging
import ServiceLifecycle
import Interop
import Trust

/// The wiring of the Interop module (patient matching and merge, Bulk Data $export/$import, the
/// terminology service, the International Patient Summary): its FHIR routes, portal pages and
/// navigation, CapabilityStatement entries and outbox consumers. See `Domains.swift` and
/// docs/interop.md.
extension FHIRAPI {
    func registerInterop(on fhir: RouterGroup<EnlaceRequestContext>) {
        fhir.post("{type}/$match") { req, ctx in try await match(req, ctx) }
        fhir.post("{type}/$merge") { req, ctx in try await merge(req, ctx, undo: false) }
        fhir.post("{type}/$unmerge") { req, ctx in try await merge(req, ctx, undo: true) }
        fhir.get("{type}/$duplicates") { req, ctx in try await duplicates(req, ctx) }
        fhir.get("{type}/{id}/$summary") { req, ctx in try await summary(req, ctx) }
        fhir.get("$export") { req, ctx in try await exportKickOff(req, ctx, level: .system) }
        fhir.get("{type}/$export") { req, ctx in try await exportKickOff(req, ctx, level: .patient) }
        fhir.get("{type}/{id}/$export") { req, ctx in try await exportKickOff(req, ctx, level: .group) }
        fhir.post("$export") { req, ctx in try await exportKickOff(req, ctx, level: .system, body: try await body(req)) }
        fhir.post("{type}/$export") { req, ctx in try await exportKickOff(req, ctx, level: .patient, body: try await body(req)) }
        fhir.post("{type}/{id}/$export") { req, ctx in try await exportKickOff(req, ctx, level: .group, body: try await body(req)) }
        fhir.get("$export-status/{job}") { req, ctx in try await exportStatus(req, ctx) }
        fhir.delete("$export-status/{job}") { req, ctx in try await exportCancel(req, ctx) }
        fhir.get("$export-file/{job}/{file}") { req, ctx in try await exportFile(req, ctx) }
        registerBulkImport(on: fhir)
        for op in ["lookup", "validate-code", "expand", "subsumes"] {
            fhir.get(RouterPath("{type}/$\(op)")) { req, ctx in try await terminology(op, req, ctx) }
            fhir.post(RouterPath("{type}/$\(op)")) { req, ctx in try await terminology(op, req, ctx) }
        }
        for op in ["validate-code", "expand"] {
            fhir.get(RouterPath("{type}/{id}/$\(op)")) { req, ctx in try await terminology(op, req, ctx, instance: true) }
            fhir.post(RouterPath("{type}/{id}/$\(op)")) { req, ctx in try await terminology(op, req, ctx, instance: true) }
        }
    }

    var exportRoot: String { configuration.dataDirectory + "/bulk-export" }
    var exportRetention: Double { configuration.bulkExportRetentionSeconds }

    /// The request's principal; 401 without one. For the routes that read no patient data
    /// through a guard of their own (terminology) or check the job's owner (export status, files).
    func authenticated(_ context: EnlaceRequestContext) throws -> Principal {
        guard let principal = context.principal else {
            throw FHIRError(status: 401, code: "login", english: "authentication required", spanish: "se requiere autenticación")
        }
        return principal
    }

    /// `[base]/$export`, `Patient/$export` and `Group/[id]/$export` kick-off
    /// (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request): needs
    /// `Prefer: respond-async`; answers 202 with `Content-Location` (the status URL) and runs the
    /// job in the background through the caller's guard (`BulkExport`). A Group is read through
    /// the guard first: one the caller may not read answers 404, exactly like an unknown one.
    func exportKickOff(_ request: Request, _ context: EnlaceRequestContext, level: ExportLevel, body: JSON? = nil) async throws -> Response {
        switch level {
        case .patient: _ = try requireType(context, "Patient", operation: "$export")
        case .group: _ = try requireType(context, "Group", operation: "$export")
        case .system: break
        }
        let principal = try authenticated(context)
        guard (request.headers[.prefer] ?? "").lowercased().contains("respond-async") else {
            throw FHIRError.badRequest("a Bulk Data export needs the header 'Prefer: respond-async'",
                                       "una exportación Bulk Data necesita el encabezado 'Prefer: respond-async'", code: "required")
        }
        if let accept = request.headers[.accept], !accept.contains("application/fhir+json"), !accept.contains("*/*") {
            throw FHIRError.badRequest("the kick-off Accept header must be application/fhir+json", "el encabezado Accept debe ser application/fhir+json", code: "not-supported")
        }
        context.audit?.interaction = "$export"
        // the decision (and its refusal for a role that may read nothing of a patient) before the job
        let guarded = try await guarded(context)
        let now = clock.now()
        BulkExport.sweepExpired(root: exportRoot, now: now, retention: exportRetention)
        var exportLevel = BulkExport.Level.patient
        var members: [String] = []
        var path = "/Patient/$export"
        switch level {
        case .system:
            exportLevel = .system
            path = "/$export"
            guard guarded.decision.readableTypes.map({ !$0.isEmpty }) ?? true else {
                throw FHIRError(status: 403, code: "forbidden", english: "this role may not export data", spanish: "este rol no puede exportar datos")
            }
        case .patient:
            guard guarded.decision.readableTypes.map({ $0.contains("Patient") }) ?? true else {
                throw FHIRError(status: 403, code: "forbidden", english: "this role may not export patient data",
                                spanish: "este rol no puede exportar datos de pacientes")
            }
        case .group:
            let id = try context.parameters.require("id")
            let group: JSON
            do {
                group = try await guarded.read("Group", id).json()
            } catch let e as FHIRError where [403, 404, 410].contains(e.status) {
                throw FHIRError(status: 404, code: "not-found", english: "Group/\(id) is not known or you may not read it",
                                spanish: "No se encontró Group/\(id) o no puede leerlo")
            }
            exportLevel = .group(id)
            members = BulkExport.members(of: group, base: base)
            path = "/Group/\(id)/$export"
        }
        var parameters = try FHIRAPI.parseQuery(request.uri.query ?? "").filter { !["_format", "_pretty"].contains($0.0) }
        var url = base + path + (request.uri.query.map { "?" + $0 } ?? "")
        if let body {
            // POST kick-off (https://hl7.org/fhir/uv/bulkdata/export.html#bulk-data-kick-off-request):
            // the parameters are a Parameters resource; `patient` narrows a Patient or Group export
            guard parameters.isEmpty else {
                throw FHIRError.badRequest("a POST kick-off takes its parameters in the Parameters body, not in the URL",
                                           "una solicitud POST de exportación lleva sus parámetros en el cuerpo Parameters, no en la URL")
            }
            let (fromBody, patients) = try exportParameters(body, level: level)
            parameters = fromBody
            url = base + path
            if let patients {
                members = level == .group ? members.filter(patients.contains) : patients
                // a Patient export of named patients that are all unknown exports nothing, not everything
                if members.isEmpty { members = [BulkExport.noPatient] }
            }
        }
        let job = try BulkExport.prepare(root: exportRoot, subject: principal.subject, request: url, level: exportLevel, members: members,
                                         parameters: parameters, now: now)
        let door = self.door, base = self.base
        Task.detached { await BulkExport.run(job, door: door, principal: principal, base: base) }
        var headers = HTTPFields()
        headers[.contentLocation] = "\(base)/$export-status/\(job.id)"
        let issue = Issue(.information, code: "informational", english: "export started; poll the Content-Location", spanish: "exportación iniciada; consulte Content-Location")
        return FHIRResponse.json(.accepted, .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))]), headers: headers)
    }

    enum ExportLevel { case system, patient, group }

    /// The kick-off parameters of a POST body (a Parameters resource) as (name, value) pairs, and
    /// the patients its `patient` parameters name (ids; nil when there are none).
    func exportParameters(_ body: JSON, level: ExportLevel) throws -> ([(String, String)], [String]?) {
        let parameters = try requireParameters(body, "$export")
        var out: [(String, String)] = []
        var patients: [String]?
        for (i, p) in (parameters["parameter"]?.arrayValue ?? []).enumerated() {
            guard let name = p["name"]?.stringValue else {
                throw FHIRError(status: 400, code: "required", english: "Parameters.parameter[\(i)] has no name", spanish: "Parameters.parameter[\(i)] no tiene nombre",
                                expression: ["Parameters.parameter[\(i)]"])
            }
            if name == "patient" {
                guard level != .system else {
                    throw FHIRError.badRequest("'patient' narrows a Patient or Group export, not a system export",
                                               "'patient' acota una exportación de Patient o de Group, no una de todo el sistema", code: "not-supported")
                }
                var ref = p["valueReference"]?["reference"]?.stringValue ?? ""
                if ref.hasPrefix(base + "/") { ref = String(ref.dropFirst(base.count + 1)) }
                let parts = ref.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, parts[0] == "Patient", !parts[1].isEmpty else {
                    throw FHIRError(status: 400, code: "invalid", english: "'patient' must be a valueReference to a Patient (Patient/id), not '\(ref)'",
                                    spanish: "'patient' debe ser un valueReference a un Patient (Patient/id), no '\(ref)'", expression: ["Parameters.parameter[\(i)]"])
                }
                patients = (patients ?? []) + [parts[1]]
                continue
            }
            guard let value = FHIRAPI.scalar(p) else {
                throw FHIRError(status: 400, code: "invalid", english: "the parameter '\(name)' has no value", spanish: "el parámetro '\(name)' no tiene valor",
                                expression: ["Parameters.parameter[\(i)]"])
            }
            out.append((name, value))
        }
        return (out, patients)
    }

    /// 429 with `Retry-After` for a Bulk Data status endpoint (export or import) polled before
    /// the wait it was told.
    static func polledTooSoon(_ wait: Int) -> FHIRError {
        FHIRError(status: 429, issues: [Issue(code: "throttled", english: "polled too soon: wait \(wait) s (Retry-After) before asking again",
                                              spanish: "consulta demasiado pronto: espere \(wait) s (Retry-After) antes de volver a preguntar")],
                  headers: ["Retry-After": String(wait)])
    }

    /// `GET $export-status/{job}`: 202 with `X-Progress` and `Retry-After` while running (429
    /// with `Retry-After` when polled sooner than that), 200 with the manifest and `Expires` when
    /// complete, 500 with an OperationOutcome when the job failed, 404 once it expired.
    func exportStatus(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job")
        switch BulkExport.status(root: exportRoot, id: job, subject: principal.subject, now: clock.now(), retention: exportRetention) {
        case .notFound:
            throw FHIRError(status: 404, code: "not-found", english: "no export job \(job)", spanish: "no existe la exportación \(job)")
        case .expired:
            throw FHIRError(status: 404, code: "not-found", english: "the export \(job) expired and its files were deleted; start a new export",
                            spanish: "la exportación \(job) expiró y sus archivos se borraron; inicie una nueva exportación")
        case .tooSoon(let wait):
            throw FHIRAPI.polledTooSoon(wait)
        case .inProgress(let done, let of):
            return FHIRAPI.bulkInProgress("\(done) de \(of) tipos / \(done) of \(of) types")
        case .complete(let manifest, let expires):
            return FHIRAPI.bulkComplete(manifest, expires: expires)
        case .failed(let outcome):
            return FHIRResponse.json(.internalServerError, outcome)
        }
    }

    /// A Bulk Data status poll of a job still running (export or import): 202 with `X-Progress`
    /// and `Retry-After`.
    static func bulkInProgress(_ progress: String) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Progress")!] = progress
        headers[HTTPField.Name("Retry-After")!] = String(BulkExport.retryAfterSeconds)
        return Response(status: .accepted, headers: headers)
    }

    /// A Bulk Data status poll of a finished job: 200 with the manifest and `Expires`.
    static func bulkComplete(_ manifest: JSON, expires: Timestamp) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("Expires")!] = FHIRAPI.httpDate(expires)
        return FHIRResponse.json(.ok, manifest, headers: headers)
    }

    /// An HTTP-date (RFC 9110 §5.6.7), e.g. `Wed, 02 Dec 2026 18:00:00 GMT`.
    static func httpDate(_ t: Timestamp) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.string(from: Date(timeIntervalSince1970: Double(t.microseconds) / 1_000_000))
    }

    /// `DELETE $export-status/{job}`: cancels the job and deletes its files (202).
    func exportCancel(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job")
        guard BulkExport.cancel(root: exportRoot, id: job, subject: principal.subject) else {
            throw FHIRError(status: 404, code: "not-found", english: "no export job \(job)", spanish: "no existe la exportación \(job)")
        }
        let issue = Issue(.information, code: "informational", english: "export cancelled", spanish: "exportación cancelada")
        return FHIRResponse.json(.accepted, .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))]))
    }

    /// `GET $export-file/{job}/{file}`: an output file, to the principal that started the job
    /// (`requiresAccessToken`: the same bearer token's subject), until it expires.
    func exportFile(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        let principal = try authenticated(context)
        let job = try context.parameters.require("job"), name = try context.parameters.require("file")
        guard let path = BulkExport.file(root: exportRoot, id: job, name: name, subject: principal.subject, now: clock.now(), retention: exportRetention),
              let data = FileManager.default.contents(atPath: path) else {
            throw FHIRError(status: 404, code: "not-found", english: "no such export file (or it expired)", spanish: "no existe ese archivo de exportación (o expiró)")
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/fhir+ndjson"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The terminology operations (docs/interop.md#terminology): `CodeSystem/$lookup`,
    /// `CodeSystem/$subsumes`, `ValueSet/$expand`, `CodeSystem/$validate-code` and
    /// `ValueSet/$validate-code` — the last three also on an instance (`ValueSet/{id}/$expand`) —
    /// with GET parameters or a POSTed `Parameters` resource (`TerminologyParameters`; `valueSet`
    /// may be a ValueSet resource). Over the shipped code systems no store is read: authentication
    /// is all they need; a stored CodeSystem or ValueSet (and what its compose names) is read
    /// through the caller's guard (`StoredTerminology`).
    func terminology(_ op: String, _ request: Request, _ context: EnlaceRequestContext, instance: Bool = false) async throws -> Response {
        let type: String
        switch op {
        case "lookup", "subsumes": type = try requireType(context, "CodeSystem", operation: "$\(op)")
        case "expand": type = try requireType(context, "ValueSet", operation: "$\(op)")
        default: type = try requireType(context, "CodeSystem", "ValueSet", operation: "$\(op)")
        }
        _ = try authenticated(context)
        context.audit?.interaction = "$\(op)"
        var q: [String: String] = [:]
        var pairs = try FHIRAPI.parseQuery(request.uri.query ?? "").filter { !["_format", "_pretty"].contains($0.0) }
        var given: JSON?
        if request.method == .post {
            let parameters = try await body(request)
            pairs += try TerminologyParameters.pairs(parameters, resources: type == "ValueSet" ? ["valueSet"] : [])
            if type == "ValueSet", let vs = try TerminologyParameters.resource(named: "valueSet", ofType: "ValueSet", in: parameters) {
                let issues = Validator().validate(vs).filter { $0.severity == .error || $0.severity == .fatal }
                if !issues.isEmpty { throw FHIRError(status: 422, issues: issues) }
                given = vs
            }
        }
        for (k, v) in pairs {
            guard q[k] == nil else {
                throw FHIRError.badRequest("the parameter '\(k)' is repeated", "el parámetro '\(k)' está repetido")
            }
            q[k] = v
        }
        if instance {
            let id = try context.parameters.require("id")
            guard given == nil else {
                throw FHIRError.badRequest("\(type)/\(id)/$\(op) is the value set \(id): a valueSet parameter is not taken as well",
                                           "\(type)/\(id)/$\(op) es el conjunto de valores \(id): no se recibe además un parámetro valueSet")
            }
            let resource = try await guarded(context).read(type, id)
            guard !resource.deleted else {
                throw FHIRError(status: 410, code: "deleted", english: "\(type)/\(id) was deleted", spanish: "\(type)/\(id) fue borrado")
            }
            given = try resource.json()
        }
        // the url the operation names, and whether anything beyond the shipped systems is needed
        let systemURL: String? = type == "CodeSystem" ? (op == "validate-code" ? (q["url"] ?? q["system"]) : q["system"])
            : nil
        let valueSetURL: String? = type == "ValueSet" ? q["url"] : nil
        var t = TerminologyService.shipped
        let named = (systemURL ?? valueSetURL).map { url in TerminologyService.bare(url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url) }
        if given != nil || named.map({ t.systems[$0] == nil }) == true {
            let guarded = try await guarded(context)
            t = try await StoredTerminology.service(codeSystem: given?["resourceType"]?.stringValue == "CodeSystem" ? nil : systemURL,
                                                    valueSet: given == nil ? valueSetURL : nil, given: given.map { [$0] } ?? [],
                                                    fetch: StoredTerminology.fetch(through: guarded))
        }
        func int(_ name: String, _ fallback: Int, _ range: ClosedRange<Int>) throws -> Int {
            guard let raw = q[name] else { return fallback }
            guard let n = Int(raw), range.contains(n) else {
                throw FHIRError.badRequest("\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)",
                                           "\(name) debe ser un entero de \(range.lowerBound) a \(range.upperBound)")
            }
            return n
        }
        let valueSet = given?["resourceType"]?.stringValue == "ValueSet" ? given : nil
        let body: JSON
        switch op {
        case "lookup": body = try t.lookup(system: q["system"], code: q["code"])
        case "subsumes": body = try t.subsumes(system: q["system"], codeA: q["codeA"], codeB: q["codeB"])
        case "expand":
            body = try t.expand(url: q["url"], valueSet: valueSet, filter: q["filter"], offset: try int("offset", 0, 0...1_000_000),
                                count: try int("count", 100, 0...1000), now: clock.now())
        default:
            if type == "CodeSystem" {
                let url = given?["url"]?.stringValue ?? systemURL
                if given != nil, url == nil {
                    throw FHIRError(status: 422, code: "processing", english: "this CodeSystem has no url to validate against",
                                    spanish: "este CodeSystem no tiene url contra la cual validar")
                }
                body = try t.validateCode(url: url, code: q["code"], display: q["display"], system: nil)
            } else {
                body = try t.validateCode(url: q["url"], valueSet: valueSet, code: q["code"], display: q["display"], system: q["system"])
            }
        }
        return FHIRResponse.json(.ok, body)
    }

    /// `Patient/[id]/$summary` (IPS, https://hl7.org/fhir/uv/ips/OperationDefinition-summary.html):
    /// the International Patient Summary as a document Bundle, through the caller's guard.
    func summary(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$summary")
        let id = try context.parameters.require("id")
        context.audit?.interaction = "$summary"
        let guarded = try await guarded(context)
        let document = try await PatientSummary.build(patient: id, repository: guarded, base: base, now: clock.now(), documentID: UUID())
        return FHIRResponse.json(.ok, document)
    }

    /// `Patient/$match` (https://hl7.org/fhir/R4/patient-operation-match.html), through the
    /// caller's guard; see `PatientMatch`.
    func match(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$match")
        let input = try PatientMatch.Input.parse(try await body(request))
        context.audit?.interaction = "$match"
        let guarded = try await guarded(context)
        let door = self.door, audit = context.audit
        let result = try await PatientMatch.run(input, repository: guarded) { identifiers in
            try await door.hiddenIdentifierMatch(identifiers.map { ($0.system, $0.value) }, for: guarded, audit: audit)
        }
        return FHIRResponse.json(.ok, try PatientMatch.bundle(result, base: base, requestAccessPath: "/solicitar-acceso"))
    }
}

extension FHIRAPI {
    /// `Patient/$merge` (https://hl7.org/fhir/R5/patient-operation-merge.html, usable on R4) and
    /// Enlace's `Patient/$unmerge`, through the caller's guard; see `PatientMerge`.
    func merge(_ request: Request, _ context: EnlaceRequestContext, undo: Bool) async throws -> Response {
        _ = try requireType(context, "Patient", operation: undo ? "$unmerge" : "$merge")
        let input = try PatientMerge.Input.parse(try await body(request), unmerge: undo)
        context.audit?.interaction = undo ? "$unmerge" : "$merge"
        let guarded = try await guarded(context)
        let result = undo ? try await PatientMerge.unmerge(input, repository: guarded, base: base, now: clock.now())
            : try await PatientMerge.merge(input, repository: guarded, base: base, now: clock.now())
        return FHIRResponse.json(.ok, result)
    }

    /// `GET Patient/$duplicates?grade=&count=`: the candidate pairs among the Patients the
    /// caller may see (`DuplicateWorklist`).
    func duplicates(_ request: Request, _ context: EnlaceRequestContext) async throws -> Response {
        _ = try requireType(context, "Patient", operation: "$duplicates")
        var grade = MatchGrade.possible, count = 100
        for (k, v) in try FHIRAPI.parseQuery(request.uri.query ?? "") where !["_format", "_pretty"].contains(k) {
            switch k {
            case "grade":
                guard let g = MatchGrade(rawValue: v) else {
                    throw FHIRError.badRequest("grade must be certain, probable or possible", "grade debe ser certain, probable o possible", code: "value")
                }
                grade = g
            case "count":
                guard let n = Int(v), (1...1000).contains(n) else {
                    throw FHIRError.badRequest("count must be an integer from 1 to 1000", "count debe ser un entero de 1 a 1000", code: "value")
                }
                count = n
            default:
                throw FHIRError.badRequest("unknown parameter '\(k)' ($duplicates takes grade, count)", "parámetro desconocido '\(k)' ($duplicates acepta grade, count)", code: "not-supported")
            }
        }
        context.audit?.interaction = "$duplicates"
        let guarded = try await guarded(context)
        let result = try await DuplicateWorklist.find(repository: guarded, minimum: grade, count: count)
        return FHIRResponse.json(.ok, DuplicateWorklist.parameters(result))
    }
}

extension Portal {
    func registerInteropPages(on router: Router<EnlaceRequestContext>) {}
    func interopNavigation(_ s: Session) -> [(String, String)] { [] }
    static var interopPrefixes: [String] { [] }
}

extension EnlaceServices {
    func interopConsumers() -> [any EventConsumer] { [] }
    /// One active Patient per CURP (docs/interop.md#curp-unique-per-active-patient).
    static func interopWriteRules() -> [any WriteRule] { [CURPUniqueness()] }
    func interopServices(_ logger: Logger) -> [any Service] {
        [ExportSweeper(root: configuration.dataDirectory + "/bulk-export", retention: configuration.bulkExportRetentionSeconds, clock: door.clock),
         ExportSweeper(root: configuration.dataDirectory + "/bulk-import", retention: configuration.bulkExportRetentionSeconds, clock: door.clock)]
    }
}

/// Removes expired Bulk Data exports from disk once a minute (they are also refused, and
/// removed, when polled or downloaded after they expired; docs/interop.md#bulk-data-export).
struct ExportSweeper: Service {
    let root: String
    let retention: Double
    let clock: any Clock

    func run() async throws {
        var tick = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if tick % 120 == 0 { BulkExport.sweepExpired(root: root, now: clock.now(), retention: retention) }
            tick += 1
            // short sleeps, so a graceful shutdown does not wait for the minute to end
            try? await Task.sleep(nanoseconds: 500_000_000)
        }
    }
}

extension CapabilityContribution {
    static var interop: CapabilityContribution {
        CapabilityContribution(operations: [
            "Patient": [(name: "match", definition: "http://hl7.org/fhir/OperationDefinition/Patient-match"),
                        (name: "merge", definition: "http://hl7.org/fhir/OperationDefinition/Patient-merge"),
                        (name: "unmerge", definition: "https://enlace.mx/fhir/OperationDefinition/Patient-unmerge"),
                        (name: "duplicates", definition: "https://enlace.mx/fhir/OperationDefinition/Patient-duplicates"),
                        (name: "summary", definition: "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"),
                        (name: "export", definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export")],
            "Group": [(name: "export", definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export")],
            "": [(name: "export", definition: "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"),
                 (name: "import", definition: "https://enlace.mx/fhir/OperationDefinition/import")],
            "CodeSystem": [(name: "lookup", definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup"),
                           (name: "validate-code", definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code"),
                           (name: "subsumes", definition: "http://hl7.org/fhir/OperationDefinition/CodeSystem-subsumes")],
            "ValueSet": [(name: "expand", definition: "http://hl7.org/fhir/OperationDefinition/ValueSet-expand"),
                         (name: "validate-code", definition: "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code")],
        ])
    }
}
