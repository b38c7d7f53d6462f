import FHIR
import Foundation
import Storage
import Trust

/// `Patient/$merge` after the R5 OperationDefinition (https://hl7.org/fhir/R5/patient-operation-merge.html),
/// usable on R4, and Enlace's `Patient/$unmerge` that undoes it exactly
/// (docs/interop.md#patientmerge-and-patientunmerge).
///
/// A merge is one transaction through the caller's guard: every resource of the source's
/// compartment that refers to the source gets a new version referring to the target (every old
/// version is kept), the source a new version with `active` false and `link` `replaced-by`, the
/// target one with `link` `replaces` (and the source's identifiers as `old` ones, or the
/// `result-patient` given), and one Provenance records the decision: who, the pre-merge version
/// of everything changed (`entity` `revision`) and the evidence (the `$match` score of the pair).
/// An unmerge writes each of those resources back with its pre-merge content, reading the
/// merge's Provenance, and records its own.
public enum PatientMerge {
    /// ISO 21089 lifecycle events (http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle): `merge`, `unmerge`.
    public static let lifecycle = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
    /// The evidence of a merge on its Provenance: the `$match` score, grade and basis of the pair.
    public static let evidenceURL = "https://enlace.mx/fhir/StructureDefinition/merge-evidence"
    /// At most this many resources refer to the source (a larger merge is refused, 422 `too-costly`).
    public static let maxResources = 5000
    /// Types whose references to the source are never rewritten: the records of what happened.
    public static let keptTypes: Set<String> = ["Provenance", "AuditEvent"]

    /// A patient named by reference or by identifier.
    public enum PatientRef: Sendable, Equatable {
        case id(String)
        case identifier(system: String?, value: String)
    }

    /// The operation's input parameters.
    public struct Input: Sendable {
        public var source: [PatientRef]
        public var target: [PatientRef]
        public var resultPatient: JSON?
        public var preview: Bool
        /// The `Parameters` received (echoed as the output `input`).
        public var parameters: JSON

        /// Reads a `Parameters` resource: `source-patient` / `source-patient-identifier`,
        /// `target-patient` / `target-patient-identifier` (one of each side), `result-patient`,
        /// `preview`. Unknown parameters and wrong value types are a 400.
        public static func parse(_ parameters: JSON, unmerge: Bool = false) throws -> Input {
            guard parameters["resourceType"]?.stringValue == "Parameters" else {
                throw FHIRError.badRequest("the body must be a Parameters resource", "el cuerpo debe ser un recurso Parameters", code: "invalid")
            }
            var input = Input(source: [], target: [], resultPatient: nil, preview: false, parameters: parameters)
            for p in parameters["parameter"]?.arrayValue ?? [] {
                let name = p["name"]?.stringValue ?? ""
                switch name {
                case "source-patient", "target-patient":
                    guard let ref = p["valueReference"]?["reference"]?.stringValue, let id = PatientMerge.patientID(ref) else {
                        throw FHIRError.badRequest("\(name) must be a valueReference to a Patient (Patient/[id])",
                                                   "\(name) debe ser un valueReference a un Patient (Patient/[id])", code: "invalid")
                    }
                    if name == "source-patient" { input.source.append(.id(id)) } else { input.target.append(.id(id)) }
                case "source-patient-identifier", "target-patient-identifier":
                    let identifiers = p["valueIdentifier"].map { [$0] } ?? []
                    guard let i = identifiers.first, let value = i["value"]?.stringValue, !value.isEmpty else {
                        throw FHIRError.badRequest("\(name) must be a valueIdentifier with a value", "\(name) debe ser un valueIdentifier con valor", code: "invalid")
                    }
                    var system = i["system"]?.stringValue
                    var v = value
                    if CURP.isCURPIdentifier(i) || system.map({ CURP.systems.contains($0.lowercased()) }) == true {
                        guard let c = CURP.normalized(value) else {
                            throw FHIRError(status: 422, code: "value", english: "\(name): '\(value)' is not a valid CURP", spanish: "\(name): '\(value)' no es una CURP válida")
                        }
                        v = c
                        system = CURP.system
                    }
                    if name == "source-patient-identifier" { input.source.append(.identifier(system: system, value: v)) } else { input.target.append(.identifier(system: system, value: v)) }
                case "result-patient" where !unmerge:
                    guard let r = p["resource"], r["resourceType"]?.stringValue == "Patient" else {
                        throw FHIRError.badRequest("result-patient must be a Patient resource", "result-patient debe ser un recurso Patient", code: "invalid")
                    }
                    input.resultPatient = r
                case "preview":
                    guard let b = p["valueBoolean"]?.boolValue else {
                        throw FHIRError.badRequest("preview must be a valueBoolean", "preview debe ser un valueBoolean", code: "invalid")
                    }
                    input.preview = b
                default:
                    throw FHIRError.badRequest("unknown parameter '\(name)' (\(unmerge ? "$unmerge" : "$merge") takes \(unmerge ? "source-patient, source-patient-identifier, target-patient, target-patient-identifier, preview" : "source-patient, source-patient-identifier, target-patient, target-patient-identifier, result-patient, preview"))",
                                               "parámetro desconocido '\(name)'", code: "not-supported")
                }
            }
            guard !input.source.isEmpty else {
                throw FHIRError.badRequest("source-patient or source-patient-identifier is required", "se requiere source-patient o source-patient-identifier", code: "required")
            }
            guard unmerge || !input.target.isEmpty else {
                throw FHIRError.badRequest("target-patient or target-patient-identifier is required", "se requiere target-patient o target-patient-identifier", code: "required")
            }
            return input
        }
    }

    /// `Patient/[id]`, `Patient/[id]/_history/[v]` or an absolute URL ending so → id.
    static func patientID(_ reference: String) -> String? {
        var parts = reference.split(separator: "/").map(String.init)
        if parts.count >= 4, parts[parts.count - 2] == "_history" { parts.removeLast(2) }
        guard parts.count >= 2, parts[parts.count - 2] == "Patient", Repository.isValidID(parts[parts.count - 1]) else { return nil }
        return parts[parts.count - 1]
    }

    /// Only a platform operator merges and unmerges records (an operator who may see both: the
    /// guard reads each side); 403 for any other role, whatever the data.
    static func requireOperator(_ repository: GuardedRepository, _ op: String) throws {
        guard repository.principal.effectiveRole == .platformOperator else {
            throw FHIRError(status: 403, code: "forbidden", english: "only a platform operator may \(op) patient records",
                            spanish: "solo un operador de la plataforma puede \(op == "merge" ? "fusionar" : "separar") expedientes de pacientes")
        }
    }

    /// Resolves one side: every reference and identifier given must name the same live Patient
    /// the caller may see (404 as for a read otherwise; 422 when an identifier names none or several).
    static func resolve(_ refs: [PatientRef], side: String, repository: GuardedRepository) async throws -> StoredResource {
        var found: StoredResource?
        for ref in refs {
            let r: StoredResource
            switch ref {
            case .id(let id):
                r = try await repository.read("Patient", id)
            case .identifier(let system, let value):
                let token = system == CURP.system ? value : (system.map { "\($0)|\(value)" } ?? value)
                let matches = try await repository.searchAll("Patient", [("identifier", token)], limit: 5).filter { s in
                    guard let json = try? s.json() else { return false }
                    return (json["identifier"]?.arrayValue ?? []).contains { i in
                        guard i["use"]?.stringValue != "old", let v = i["value"]?.stringValue else { return false }
                        if system == CURP.system { return CURP.isCURPIdentifier(i) && CURP.normalize(v) == value }
                        return v == value && (system == nil || i["system"]?.stringValue == system)
                    }
                }
                guard matches.count == 1 else {
                    throw FHIRError(status: 422, code: matches.isEmpty ? "not-found" : "multiple-matches",
                                    english: "\(side)-patient-identifier names \(matches.isEmpty ? "no Patient you may see" : "more than one Patient")",
                                    spanish: "\(side)-patient-identifier \(matches.isEmpty ? "no corresponde a ningún Patient que usted pueda ver" : "corresponde a más de un Patient")")
                }
                r = matches[0]
            }
            if let f = found, f.id != r.id {
                throw FHIRError(status: 422, code: "invalid", english: "the \(side) reference and identifier name different Patients",
                                spanish: "la referencia y el identificador de \(side) corresponden a Patients distintos")
            }
            found = r
        }
        return found!
    }

    /// The JSON with every `reference` to `Patient/from` (also versioned or absolute) pointing to
    /// `Patient/to`, and how many it changed.
    static func repoint(_ json: JSON, from: String, to: String) -> (JSON, Int) {
        switch json {
        case .object(let members):
            var n = 0
            var out: [(String, JSON)] = []
            for (k, v) in members {
                if k == "meta" { out.append((k, v)); continue }
                if k == "reference", case .string(let r) = v, patientID(r) == from, r.hasPrefix("Patient/") || r.contains("/Patient/") {
                    out.append((k, .string("Patient/\(to)")))
                    n += 1
                } else {
                    let (nv, c) = repoint(v, from: from, to: to)
                    out.append((k, nv))
                    n += c
                }
            }
            return (.object(out), n)
        case .array(let items):
            var n = 0
            let out = items.map { item -> JSON in
                let (nv, c) = repoint(item, from: from, to: to)
                n += c
                return nv
            }
            return (.array(out), n)
        default:
            return (json, 0)
        }
    }

    /// The content without what the server sets on each version (`meta.versionId`,
    /// `meta.lastUpdated`): what an unmerge restores and the round-trip compares.
    public static func content(_ json: JSON) -> JSON {
        guard let meta = json["meta"] else { return json }
        let m = meta.setting("versionId", nil).setting("lastUpdated", nil)
        return json.setting("meta", (m.objectValue ?? []).isEmpty ? nil : m)
    }

    static func ref(_ r: StoredResource, version: Int? = nil) -> String { "\(r.type)/\(r.id)/_history/\(version ?? r.version)" }

    static func coding(_ code: String, _ display: String) -> JSON {
        .object([("coding", .array([.object([("system", .string(lifecycle)), ("code", .string(code)), ("display", .string(display))])]))])
    }

    static func link(_ other: String, _ type: String) -> JSON {
        .object([("other", .object([("reference", .string("Patient/\(other)"))])), ("type", .string(type))])
    }

    static func agent(_ principal: Principal) -> JSON {
        let who: JSON = principal.fhirUser.map { .object([("reference", .string($0))]) }
            ?? .object([("identifier", .object([("system", .string("urn:enlace:subject")), ("value", .string(principal.subject))]))])
        return .object([
            ("type", .object([("coding", .array([.object([("system", .string("http://terminology.hl7.org/CodeSystem/provenance-participant-type")), ("code", .string("author"))])]))])),
            ("who", who),
        ])
    }

    static func put(_ type: String, _ id: String, _ resource: JSON, ifMatch: Int) -> JSON {
        .object([
            ("resource", resource),
            ("request", .object([("method", .string("PUT")), ("url", .string("\(type)/\(id)")), ("ifMatch", .string("W/\"\(ifMatch)\""))])),
        ])
    }

    static func information(_ english: String, _ spanish: String) -> Issue {
        Issue(.information, code: "informational", english: english, spanish: spanish)
    }

    static func output(_ input: JSON, outcome issues: [Issue], result: JSON?) -> JSON {
        var parameters: [JSON] = [
            .object([("name", .string("input")), ("resource", input)]),
            .object([("name", .string("outcome")), ("resource", .object([("resourceType", .string("OperationOutcome")), ("issue", .array(issues.map(\.json)))]))]),
        ]
        if let result { parameters.append(.object([("name", .string("result")), ("resource", result)])) }
        return .object([("resourceType", .string("Parameters")), ("parameter", .array(parameters))])
    }

    /// The merge (or, with `preview`, what it would change): the output `Parameters` (`input`,
    /// `outcome` listing every resource changed, `result` the target as it is or would be).
    public static func merge(_ input: Input, repository: GuardedRepository, base: String, now: Timestamp) async throws -> JSON {
        try await retryingConflicts("merge") { try await mergeOnce(input, repository: repository, base: base, now: now) }
    }

    /// Runs `body` again (reading everything afresh) when its transaction lost a race with a
    /// concurrent write of one of its resources (`ifMatch` failed: 412) — typically an
    /// outbox consumer recomputing derived data of the patient —; after 5 attempts, 409.
    static func retryingConflicts(_ op: String, _ body: () async throws -> JSON) async throws -> JSON {
        for attempt in 1...5 {
            do {
                return try await body()
            } catch let e as FHIRError where e.status == 412 && attempt < 5 {
                try await Task.sleep(nanoseconds: UInt64(attempt) * 50_000_000)
            } catch let e as FHIRError where e.status == 412 {
                throw FHIRError(status: 409, code: "conflict", english: "the records kept changing while the \(op) ran; try again",
                                spanish: "los expedientes siguieron cambiando mientras se ejecutaba la operación; intente de nuevo")
            }
        }
        throw FHIRError(status: 409, code: "conflict", english: "the records kept changing while the \(op) ran; try again",
                        spanish: "los expedientes siguieron cambiando mientras se ejecutaba la operación; intente de nuevo")
    }

    static func mergeOnce(_ input: Input, repository: GuardedRepository, base: String, now: Timestamp) async throws -> JSON {
        try requireOperator(repository, "merge")
        let source = try await resolve(input.source, side: "source", repository: repository)
        let target = try await resolve(input.target, side: "target", repository: repository)
        guard source.id != target.id else {
            throw FHIRError(status: 422, code: "invalid", english: "the source and the target are the same Patient", spanish: "el origen y el destino son el mismo Patient")
        }
        let s = try source.json(), t = try target.json()
        func replacedBy(_ p: JSON) -> String? {
            (p["link"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "replaced-by" }?["other"]?["reference"]?.stringValue
        }
        if let other = replacedBy(s) {
            throw FHIRError(status: 422, code: "business-rule", english: "the source Patient was already merged (replaced by \(other))",
                            spanish: "el Patient de origen ya fue fusionado (reemplazado por \(other))")
        }
        if let other = replacedBy(t) {
            throw FHIRError(status: 422, code: "business-rule", english: "the target Patient was merged into \(other); merge into that record instead",
                            spanish: "el Patient de destino fue fusionado en \(other); fusione en ese expediente")
        }
        if let result = input.resultPatient, result["id"]?.stringValue != target.id {
            throw FHIRError(status: 422, code: "invalid", english: "result-patient must have the target's id (\(target.id))",
                            spanish: "result-patient debe tener el id del destino (\(target.id))", expression: ["Parameters.parameter[result-patient].resource.id"])
        }

        // every resource that refers to the source, through the caller's guard
        var found: [ResourceKey: StoredResource] = [:]
        for (type, params) in Definitions.r4.patientCompartment.sorted(by: { $0.key < $1.key }) where !params.isEmpty && !keptTypes.contains(type) {
            for param in params {
                for r in try await repository.searchAll(type, [(param, "Patient/\(source.id)")], limit: maxResources + 1) {
                    if type == "Patient" && (r.id == source.id || r.id == target.id) { continue }
                    found[ResourceKey(type: r.type, id: r.id)] = r
                }
                if found.count > maxResources {
                    throw FHIRError(status: 422, code: "too-costly", english: "more than \(maxResources) resources refer to the source; merge them in steps",
                                    spanish: "más de \(maxResources) recursos se refieren al origen; fusione por partes")
                }
            }
        }
        var entries: [JSON] = []
        var issues: [Issue] = []
        var written: [(StoredResource, JSON)] = []
        for key in found.keys.sorted() {
            let r = found[key]!
            let (moved, n) = repoint(try r.json(), from: source.id, to: target.id)
            guard n > 0 else { continue }
            written.append((r, moved))
            issues.append(information("\(r.type)/\(r.id): \(n) reference\(n == 1 ? "" : "s") to Patient/\(source.id) → Patient/\(target.id)",
                                      "\(r.type)/\(r.id): \(n) referencia\(n == 1 ? "" : "s") a Patient/\(source.id) → Patient/\(target.id)"))
        }
        // the source: inactive, replaced by the target
        var newSource = s.setting("active", .bool(false))
        newSource = newSource.setting("link", .array((s["link"]?.arrayValue ?? []) + [link(target.id, "replaced-by")]))
        // the target: the result-patient given, or the target with the source's identifiers as old ones
        var newTarget: JSON
        if let result = input.resultPatient {
            newTarget = result.setting("meta", nil)
        } else {
            newTarget = t
            var identifiers = t["identifier"]?.arrayValue ?? []
            for i in s["identifier"]?.arrayValue ?? [] {
                let same = identifiers.contains { $0["system"] == i["system"] && $0["value"] == i["value"] }
                if !same { identifiers.append(i.setting("use", .string("old"))) }
            }
            if !identifiers.isEmpty { newTarget = newTarget.setting("identifier", .array(identifiers)) }
        }
        let links = (newTarget["link"]?.arrayValue ?? []).filter { $0["other"]?["reference"]?.stringValue != "Patient/\(source.id)" }
        newTarget = newTarget.setting("link", .array(links + [link(source.id, "replaces")]))
        if !CURPUniqueness.isActive(newTarget) {
            throw FHIRError(status: 422, code: "business-rule", english: "the surviving (target) Patient must be active", spanish: "el Patient que sobrevive (destino) debe estar activo")
        }
        written.append((source, newSource))
        written.append((target, newTarget))
        issues.insert(information("Patient/\(source.id) \(input.preview ? "would be" : "is") marked inactive, replaced-by Patient/\(target.id); Patient/\(target.id) replaces it; \(written.count - 2) resource\(written.count == 3 ? "" : "s") \(input.preview ? "would be" : "were") repointed",
                                  "Patient/\(source.id) \(input.preview ? "quedaría" : "queda") inactivo, reemplazado por Patient/\(target.id); \(written.count - 2) recurso\(written.count == 3 ? "" : "s") \(input.preview ? "se reasignarían" : "se reasignaron") al destino"), at: 0)

        let evidence = MatchScorer.score(Demographics.of(s), Demographics.of(t))
        if input.preview {
            issues.append(information("$match score of the pair: \(evidence.score) (\(evidence.grade?.rawValue ?? "no match")); nothing was written (preview)",
                                      "puntaje $match del par: \(evidence.score) (\(evidence.grade?.rawValue ?? "sin coincidencia")); no se escribió nada (vista previa)"))
            return output(input.parameters, outcome: issues, result: newTarget.setting("id", .string(target.id)))
        }

        for (r, json) in written { entries.append(put(r.type, r.id, json, ifMatch: r.version)) }
        let reason = "Fusión de expedientes duplicados / duplicate records merged: Patient/\(source.id) → Patient/\(target.id)"
        var evidenceParts: [JSON] = [
            .object([("url", .string("score")), ("valueDecimal", .number(String(evidence.score)))]),
            .object([("url", .string("basis")), ("valueString", .string(evidence.basis.joined(separator: ", ")))]),
        ]
        if let grade = evidence.grade { evidenceParts.append(.object([("url", .string("grade")), ("valueCode", .string(grade.rawValue))])) }
        let provenance: JSON = .object([
            ("resourceType", .string("Provenance")),
            ("extension", .array([.object([("url", .string(evidenceURL)), ("extension", .array(evidenceParts))])])),
            ("target", .array(written.map { (r, _) in .object([("reference", .string(ref(r, version: r.version + 1)))]) })),
            ("recorded", .string(now.description)),
            ("reason", .array([.object([("text", .string(reason))])])),
            ("activity", coding("merge", "Merge")),
            ("agent", .array([agent(repository.principal)])),
            ("entity", .array(written.map { (r, _) in .object([("role", .string("revision")), ("what", .object([("reference", .string(ref(r)))]))]) })),
        ])
        entries.append(.object([("resource", provenance), ("request", .object([("method", .string("POST")), ("url", .string("Provenance"))]))]))
        var guarded = repository
        guarded.provenanceTemplate = .object([("resourceType", .string("Provenance")), ("reason", .array([.object([("text", .string(reason))])])),
                                              ("activity", coding("merge", "Merge"))])
        let bundle: JSON = .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        let response = try await guarded.process(bundle: bundle, options: Repository.BundleOptions(base: base, maxEntries: entries.count + 1))
        let provenanceLocation = (response["entry"]?.arrayValue ?? []).last?["response"]?["location"]?.stringValue ?? ""
        issues.append(information("merge recorded in \(provenanceLocation) ($match score \(evidence.score), \(evidence.grade?.rawValue ?? "no match"))",
                                  "fusión registrada en \(provenanceLocation) (puntaje $match \(evidence.score), \(evidence.grade?.rawValue ?? "sin coincidencia"))"))
        let result = try await repository.read("Patient", target.id)
        return output(input.parameters, outcome: issues, result: try result.json())
    }

    /// Whether every one of `versions` was written by an outbox consumer (an algorithm: its
    /// Provenance names a `consumer:` subject or a Device as an agent) — derived data the consumer
    /// recomputes from the restored record, which an unmerge may therefore overwrite.
    static func onlyDerived(_ type: String, _ id: String, versions: ClosedRange<Int>, repository: GuardedRepository) async throws -> Bool {
        let provenances = try await repository.searchAll("Provenance", [("target", "\(type)/\(id)")], limit: 5000).map { try $0.json() }
        for n in versions {
            let mine = "\(type)/\(id)/_history/\(n)"
            let of = provenances.filter { p in (p["target"]?.arrayValue ?? []).contains { $0["reference"]?.stringValue == mine } }
            guard !of.isEmpty else { return false }
            let byAlgorithm = of.allSatisfy { p in
                (p["agent"]?.arrayValue ?? []).contains { a in
                    let who = a["who"]
                    return (who?["identifier"]?["system"]?.stringValue == "urn:enlace:subject" && who?["identifier"]?["value"]?.stringValue?.hasPrefix("consumer:") == true)
                        || who?["reference"]?.stringValue?.hasPrefix("Device/") == true
                }
            }
            if !byAlgorithm { return false }
        }
        return true
    }

    /// Undoes the last merge of `source-patient` (docs/interop.md): every resource the merge
    /// changed gets a new version whose content equals its pre-merge version, read from the
    /// merge's Provenance; refused (409) when any of them changed since the merge (restoring it
    /// would lose that change — the OperationOutcome lists which), unless every later version
    /// was written by an outbox consumer (derived data, recomputed after the unmerge).
    public static func unmerge(_ input: Input, repository: GuardedRepository, base: String, now: Timestamp) async throws -> JSON {
        try await retryingConflicts("unmerge") { try await unmergeOnce(input, repository: repository, base: base, now: now) }
    }

    static func unmergeOnce(_ input: Input, repository: GuardedRepository, base: String, now: Timestamp) async throws -> JSON {
        try requireOperator(repository, "unmerge")
        let source = try await resolve(input.source, side: "source", repository: repository)
        let s = try source.json()
        guard let other = (s["link"]?.arrayValue ?? []).first(where: { $0["type"]?.stringValue == "replaced-by" })?["other"]?["reference"]?.stringValue,
              let targetID = patientID(other) else {
            throw FHIRError(status: 422, code: "business-rule", english: "Patient/\(source.id) is not merged (it has no link replaced-by)",
                            spanish: "Patient/\(source.id) no está fusionado (no tiene link replaced-by)")
        }
        if !input.target.isEmpty {
            let target = try await resolve(input.target, side: "target", repository: repository)
            guard target.id == targetID else {
                throw FHIRError(status: 422, code: "invalid", english: "Patient/\(source.id) was merged into Patient/\(targetID), not Patient/\(target.id)",
                                spanish: "Patient/\(source.id) se fusionó en Patient/\(targetID), no en Patient/\(target.id)")
            }
        }
        // the merge's Provenance: activity merge, its targets include the source's current version
        let mine = ref(source)
        let provenances = try await repository.searchAll("Provenance", [("target", "Patient/\(source.id)")], limit: 10000)
        let merge = try provenances.map { try ($0, $0.json()) }.filter { _, p in
            p["activity"]?["coding"]?.arrayValue?.contains { $0["system"]?.stringValue == lifecycle && $0["code"]?.stringValue == "merge" } == true
                && !(p["entity"]?.arrayValue ?? []).isEmpty
                && (p["target"]?.arrayValue ?? []).contains { $0["reference"]?.stringValue == mine }
        }.last
        guard let (mergeRecord, mergeJSON) = merge else {
            throw FHIRError(status: 409, code: "conflict", english: "Patient/\(source.id) changed since it was merged (no merge record names its current version); it cannot be restored exactly",
                            spanish: "Patient/\(source.id) cambió después de la fusión (ningún registro de fusión nombra su versión actual); no se puede restaurar exactamente")
        }
        var entries: [JSON] = []
        var changed: [String] = []
        var restored: [(StoredResource, Int)] = []
        var issues: [Issue] = []
        for e in mergeJSON["entity"]?.arrayValue ?? [] {
            guard let what = e["what"]?["reference"]?.stringValue else { continue }
            let parts = what.split(separator: "/").map(String.init)
            guard parts.count == 4, let v = Int(parts[3]) else { continue }
            let current = try await repository.read(parts[0], parts[1])
            guard current.version > v else { changed.append("\(parts[0])/\(parts[1])"); continue }
            if current.version != v + 1 {
                guard try await onlyDerived(parts[0], parts[1], versions: (v + 2)...current.version, repository: repository) else {
                    changed.append("\(parts[0])/\(parts[1])")
                    continue
                }
            }
            let before = try await repository.vread(parts[0], parts[1], version: parts[3])
            entries.append(put(parts[0], parts[1], content(try before.json()), ifMatch: current.version))
            restored.append((current, v))
            issues.append(information("\(parts[0])/\(parts[1]) restored to the content of version \(v)", "\(parts[0])/\(parts[1]) restaurado al contenido de la versión \(v)"))
        }
        guard changed.isEmpty else {
            throw FHIRError(status: 409, code: "conflict", english: "these resources changed since the merge, so restoring them would lose those changes: \(changed.joined(separator: ", "))",
                            spanish: "estos recursos cambiaron después de la fusión y restaurarlos perdería esos cambios: \(changed.joined(separator: ", "))")
        }
        issues.insert(information("Patient/\(source.id) and Patient/\(targetID) \(input.preview ? "would be" : "are") separated again (\(restored.count) resources)",
                                  "Patient/\(source.id) y Patient/\(targetID) \(input.preview ? "se separarían" : "quedan separados") de nuevo (\(restored.count) recursos)"), at: 0)
        if input.preview { return output(input.parameters, outcome: issues, result: try content(try await repository.vread("Patient", source.id, version: String(source.version - 1)).json())) }
        let reason = "Separación de expedientes fusionados por error / records unmerged: Patient/\(source.id) ↔ Patient/\(targetID)"
        let provenance: JSON = .object([
            ("resourceType", .string("Provenance")),
            ("target", .array(restored.map { (r, _) in .object([("reference", .string(ref(r, version: r.version + 1)))]) })),
            ("recorded", .string(now.description)),
            ("reason", .array([.object([("text", .string(reason))])])),
            ("activity", coding("unmerge", "Unmerge")),
            ("agent", .array([agent(repository.principal)])),
            ("entity", .array([.object([("role", .string("source")), ("what", .object([("reference", .string("Provenance/\(mergeRecord.id)"))]))])]
                + restored.map { (r, v) in .object([("role", .string("revision")), ("what", .object([("reference", .string(ref(r, version: v)))]))]) })),
        ])
        entries.append(.object([("resource", provenance), ("request", .object([("method", .string("POST")), ("url", .string("Provenance"))]))]))
        var guarded = repository
        guarded.provenanceTemplate = .object([("resourceType", .string("Provenance")), ("reason", .array([.object([("text", .string(reason))])])),
                                              ("activity", coding("unmerge", "Unmerge"))])
        let bundle: JSON = .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(entries))])
        let response = try await guarded.process(bundle: bundle, options: Repository.BundleOptions(base: base, maxEntries: entries.count + 1))
        let location = (response["entry"]?.arrayValue ?? []).last?["response"]?["location"]?.stringValue ?? ""
        issues.append(information("unmerge recorded in \(location)", "separación registrada en \(location)"))
        return output(input.parameters, outcome: issues, result: try (try await repository.read("Patient", source.id)).json())
    }
}
