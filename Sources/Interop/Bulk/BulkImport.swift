import FHIR
import Foundation
import Storage
import Trust

/// FHIR Bulk Data import, the server side of the ping-and-pull `$import` proposal of the Bulk
/// Data IG's authors (https://github.com/smart-on-fhir/bulk-import, `import.md`), in its
/// `Parameters` form (docs/interop.md#bulk-import): a client names NDJSON files by URL, the
/// server fetches them — only from the sources its operator allowed (`AllowList`) — and stores
/// every line through the kick-off principal's guard with the same pipeline as `enlace import`
/// (`BulkImport.Loader`).
public enum BulkImport {
    /// The input formats accepted (`inputFormat`); the first is the IG's.
    public static let formats = ["application/fhir+ndjson", "application/ndjson", "ndjson"]
    /// Most `input` files one kick-off may name.
    public static let maxInputs = 1000
    /// Resources per database transaction of a server import.
    public static let batchSize = 500

    /// One `input`: an NDJSON file of resources of `type` at `url`.
    public struct Input: Sendable, Equatable {
        public var type: String
        public var url: String
        public init(type: String, url: String) {
            self.type = type
            self.url = url
        }
    }

    /// A parsed kick-off.
    public struct Request: Sendable, Equatable {
        public var inputFormat: String
        /// Where the data comes from (a FHIR base, an institution's URI): `meta.source` of each
        /// resource that has none.
        public var inputSource: String
        public var inputs: [Input]
        /// `storageDetail.type`: only `https` (files fetched with an HTTP GET).
        public var storageType: String
    }

    static func bad(_ english: String, _ spanish: String, code: String = "invalid", at: String? = nil) -> FHIRError {
        FHIRError(status: 400, code: code, english: english, spanish: spanish, expression: at.map { [$0] } ?? [])
    }

    /// The value of a `Parameters.parameter` (or part) of a string-like type.
    static func scalar(_ p: JSON) -> String? {
        for key in ["valueString", "valueCode", "valueUri", "valueUrl", "valueCanonical", "valueId"] {
            if let v = p[key]?.stringValue { return v }
        }
        return nil
    }

    /// Parses the kick-off body, in either form: a FHIR `Parameters` (as Enlace's other
    /// operations take, `parseParameters`) or the plain JSON object of the Bulk Data import
    /// draft (`import.md`, `Content-Type: application/json`, `parsePlain`). A body that is
    /// neither — a resource of another type, an array, a string — is a 400 naming what it is.
    public static func parse(_ body: JSON) throws -> Request {
        if let type = body["resourceType"] {
            guard type.stringValue == "Parameters" else {
                throw bad("$import takes a Parameters resource or the import draft's JSON object (inputFormat, inputSource, input, storageDetail), not \(type.stringValue ?? "a resourceType that is not a string")",
                          "$import recibe un recurso Parameters o el objeto JSON del borrador de importación (inputFormat, inputSource, input, storageDetail), no \(type.stringValue ?? "un resourceType que no es texto")")
            }
            return try parseParameters(body)
        }
        return try parsePlain(body)
    }

    /// The `Parameters` form: `inputFormat` (1..1), `inputSource` (1..1, an absolute URI),
    /// `input` (1..*, parts `type` — an R4 resource type — and `url` — an absolute http or
    /// https URL) and `storageDetail` (0..1, part `type` = `https`; a `contentEncoding` part
    /// only `identity`). Anything else, a repeated 1..1 parameter, a parameter without a name or
    /// value is a 400 naming it (`expression`: `Parameters.parameter[i]`).
    public static func parseParameters(_ body: JSON) throws -> Request {
        var format: String?, source: String?, storage: String?
        var inputs: [Input] = []
        for (i, p) in (body["parameter"]?.arrayValue ?? []).enumerated() {
            let at = "Parameters.parameter[\(i)]"
            guard let name = p["name"]?.stringValue else {
                throw bad("\(at) has no name", "\(at) no tiene nombre", code: "required", at: at)
            }
            func once(_ current: String?) throws -> String {
                guard current == nil else {
                    throw bad("'\(name)' is given more than once (it is 1..1)", "'\(name)' aparece más de una vez (es 1..1)", at: at)
                }
                guard let v = scalar(p), !v.isEmpty else {
                    throw bad("the parameter '\(name)' has no value", "el parámetro '\(name)' no tiene valor", code: "required", at: at)
                }
                return v
            }
            switch name {
            case "inputFormat": format = try checkFormat(try once(format), at: at)
            case "inputSource": source = try checkSource(try once(source), at: at)
            case "input":
                guard inputs.count < maxInputs else { throw tooManyInputs(at) }
                inputs.append(try input(p, at: at))
            case "storageDetail":
                guard storage == nil else {
                    throw bad("'storageDetail' is given more than once (it is 0..1)", "'storageDetail' aparece más de una vez (es 0..1)", at: at)
                }
                storage = try storageDetail(p, at: at)
            default:
                throw bad("the $import parameter '\(name)' is not supported (supported: inputFormat, inputSource, input, storageDetail)",
                          "el parámetro de $import '\(name)' no se admite (se admiten: inputFormat, inputSource, input, storageDetail)", code: "not-supported", at: at)
            }
        }
        return try complete(format, source, inputs, storage, inputHint: "parts type and url")
    }

    /// The plain JSON form of `import.md`: `{"inputFormat": …, "inputSource": …, "storageDetail":
    /// {"type": "https", "contentEncoding": ["identity"]}, "input": [{"type": …, "url": …}]}`,
    /// with the same rules as the `Parameters` form; `expression` names the JSON path
    /// (`input[1].url`). A member given twice or not known is a 400 too.
    public static func parsePlain(_ body: JSON) throws -> Request {
        guard case .object(let members) = body else {
            throw bad("$import takes a JSON object (inputFormat, inputSource, input, storageDetail) or a Parameters resource",
                      "$import recibe un objeto JSON (inputFormat, inputSource, input, storageDetail) o un recurso Parameters", code: "structure")
        }
        var format: String?, source: String?, storage: String?
        var inputs: [Input]?
        var seen: Set<String> = []
        for (key, value) in members {
            guard seen.insert(key).inserted else {
                throw bad("'\(key)' is given more than once", "'\(key)' aparece más de una vez", at: key)
            }
            func text() throws -> String {
                guard let v = value.stringValue, !v.isEmpty else {
                    throw bad("'\(key)' must be a non-empty string", "'\(key)' debe ser un texto no vacío", code: "required", at: key)
                }
                return v
            }
            switch key {
            case "inputFormat": format = try checkFormat(try text(), at: key)
            case "inputSource": source = try checkSource(try text(), at: key)
            case "input":
                guard let items = value.arrayValue else {
                    throw bad("'input' must be an array of {type, url} objects", "'input' debe ser un arreglo de objetos {type, url}", code: "structure", at: key)
                }
                guard items.count <= maxInputs else { throw tooManyInputs(key) }
                inputs = try items.enumerated().map { i, item in try plainInput(item, at: "input[\(i)]") }
            case "storageDetail":
                storage = try plainStorageDetail(value, at: key)
            default:
                throw bad("'\(key)' is not a member of the $import request (inputFormat, inputSource, input, storageDetail)",
                          "'\(key)' no es un miembro de la solicitud de $import (inputFormat, inputSource, input, storageDetail)", code: "not-supported", at: key)
            }
        }
        return try complete(format, source, inputs ?? [], storage, inputHint: "objects with type and url")
    }

    static func complete(_ format: String?, _ source: String?, _ inputs: [Input], _ storage: String?, inputHint: String) throws -> Request {
        guard let format else {
            throw bad("inputFormat is required (application/fhir+ndjson)", "inputFormat es obligatorio (application/fhir+ndjson)", code: "required")
        }
        guard let source else {
            throw bad("inputSource is required (an absolute URI: where the data comes from)", "inputSource es obligatorio (un URI absoluto: de dónde vienen los datos)",
                      code: "required")
        }
        guard !inputs.isEmpty else {
            throw bad("at least one input (\(inputHint)) is required", "se requiere al menos un input (con type y url)", code: "required")
        }
        return Request(inputFormat: format, inputSource: source, inputs: inputs, storageType: storage ?? "https")
    }

    static func tooManyInputs(_ at: String) -> FHIRError {
        bad("more than \(maxInputs) input files in one import", "más de \(maxInputs) archivos input en una importación", code: "too-costly", at: at)
    }

    static func checkFormat(_ v: String, at: String) throws -> String {
        guard formats.contains(v) else {
            throw bad("inputFormat '\(v)' is not supported; use application/fhir+ndjson", "inputFormat '\(v)' no se admite; use application/fhir+ndjson",
                      code: "not-supported", at: at)
        }
        return v
    }

    static func checkSource(_ v: String, at: String) throws -> String {
        guard let u = URLComponents(string: v), let scheme = u.scheme, !scheme.isEmpty else {
            throw bad("inputSource '\(v)' must be an absolute URI (where the data comes from, e.g. https://otro-hospital.example.mx/fhir)",
                      "inputSource '\(v)' debe ser un URI absoluto (de dónde vienen los datos, p. ej. https://otro-hospital.example.mx/fhir)", at: at)
        }
        return v
    }

    static func checkType(_ v: String, at: String) throws -> String {
        guard Definitions.r4.isResourceType(v) else {
            throw bad("input type '\(v)' is not an R4 resource type", "el tipo de input '\(v)' no es un tipo de recurso R4", code: "not-supported", at: at)
        }
        guard v != "AuditEvent" else {
            throw bad("AuditEvents cannot be imported: the audit log is written only by the server (docs/audit.md)",
                      "los AuditEvent no se pueden importar: solo el servidor escribe la bitácora (docs/audit.md)", code: "not-supported", at: at)
        }
        return v
    }

    static func checkURL(_ v: String, at: String) throws -> String {
        guard let u = URLComponents(string: v), ["http", "https"].contains(u.scheme?.lowercased() ?? ""), !(u.host ?? "").isEmpty else {
            throw bad("input url '\(v)' must be an absolute http or https URL", "la url de input '\(v)' debe ser una URL http o https absoluta", at: at)
        }
        return v
    }

    static func checkStorageType(_ v: String, at: String) throws -> String {
        guard v == "https" else {
            throw bad("storageDetail type '\(v)' is not supported; Enlace fetches files over HTTP(S): use https",
                      "el tipo de storageDetail '\(v)' no se admite; Enlace obtiene los archivos por HTTP(S): use https", code: "not-supported", at: at)
        }
        return v
    }

    static func checkEncoding(_ v: String, at: String) throws {
        guard v == "identity" else {
            throw bad("contentEncoding '\(v)' is not supported (files are read as sent, uncompressed)",
                      "contentEncoding '\(v)' no se admite (los archivos se leen tal como llegan, sin comprimir)", code: "not-supported", at: at)
        }
    }

    static func input(_ p: JSON, at: String) throws -> Input {
        var type: String?, url: String?
        for (j, part) in (p["part"]?.arrayValue ?? []).enumerated() {
            let here = "\(at).part[\(j)]"
            let name = part["name"]?.stringValue ?? ""
            guard let v = scalar(part), !v.isEmpty else {
                throw bad("input part '\(name)' has no value", "la parte '\(name)' de input no tiene valor", code: "required", at: here)
            }
            switch name {
            case "type":
                guard type == nil else { throw bad("input has two types", "input tiene dos tipos", at: here) }
                type = try checkType(v, at: here)
            case "url":
                guard url == nil else { throw bad("input has two urls", "input tiene dos url", at: here) }
                url = try checkURL(v, at: here)
            default:
                throw bad("input part '\(name)' is not supported (an input has type and url)", "la parte '\(name)' de input no se admite (un input tiene type y url)",
                          code: "not-supported", at: here)
            }
        }
        guard let type, let url else {
            throw bad("an input needs both parts, type and url", "un input necesita ambas partes, type y url", code: "required", at: at)
        }
        return Input(type: type, url: url)
    }

    static func plainInput(_ item: JSON, at: String) throws -> Input {
        guard case .object(let members) = item else {
            throw bad("\(at) must be an object with type and url", "\(at) debe ser un objeto con type y url", code: "structure", at: at)
        }
        var type: String?, url: String?
        for (key, value) in members {
            let here = "\(at).\(key)"
            guard key == "type" || key == "url" else {
                throw bad("'\(key)' is not supported in an input (an input has type and url)", "'\(key)' no se admite en un input (un input tiene type y url)",
                          code: "not-supported", at: here)
            }
            guard let v = value.stringValue, !v.isEmpty else {
                throw bad("\(here) must be a non-empty string", "\(here) debe ser un texto no vacío", code: "required", at: here)
            }
            guard (key == "type" ? type : url) == nil else { throw bad("\(here) is given twice", "\(here) aparece dos veces", at: here) }
            if key == "type" { type = try checkType(v, at: here) } else { url = try checkURL(v, at: here) }
        }
        guard let type, let url else {
            throw bad("\(at) needs both type and url", "\(at) necesita type y url", code: "required", at: at)
        }
        return Input(type: type, url: url)
    }

    static func storageDetail(_ p: JSON, at: String) throws -> String {
        var type = "https"
        for (j, part) in (p["part"]?.arrayValue ?? []).enumerated() {
            let here = "\(at).part[\(j)]"
            let name = part["name"]?.stringValue ?? ""
            let v = scalar(part) ?? ""
            switch name {
            case "type": type = try checkStorageType(v, at: here)
            case "contentEncoding": try checkEncoding(v, at: here)
            default:
                throw bad("storageDetail part '\(name)' is not supported (type, contentEncoding)", "la parte '\(name)' de storageDetail no se admite (type, contentEncoding)",
                          code: "not-supported", at: here)
            }
        }
        return type
    }

    /// `storageDetail` of the plain form: `type` (a string) and `contentEncoding` (an array of
    /// strings, as `import.md` defines it; a single string is taken too).
    static func plainStorageDetail(_ value: JSON, at: String) throws -> String {
        guard case .object(let members) = value else {
            throw bad("storageDetail must be an object ({\"type\": \"https\"})", "storageDetail debe ser un objeto ({\"type\": \"https\"})", code: "structure", at: at)
        }
        var type = "https"
        for (key, v) in members {
            let here = "\(at).\(key)"
            switch key {
            case "type":
                guard let t = v.stringValue else { throw bad("\(here) must be a string", "\(here) debe ser un texto", code: "structure", at: here) }
                type = try checkStorageType(t, at: here)
            case "contentEncoding":
                let values = v.arrayValue ?? [v]
                for (i, e) in values.enumerated() {
                    guard let text = e.stringValue else {
                        throw bad("\(here) must hold strings", "\(here) debe contener textos", code: "structure", at: "\(here)[\(i)]")
                    }
                    try checkEncoding(text, at: v.arrayValue == nil ? here : "\(here)[\(i)]")
                }
            default:
                throw bad("storageDetail '\(key)' is not supported (type, contentEncoding)", "storageDetail '\(key)' no se admite (type, contentEncoding)",
                          code: "not-supported", at: here)
            }
        }
        return type
    }
}

extension BulkImport {
    /// The sources an operator allows the server to fetch import files from
    /// (`enlace serve --import-allow`): each entry is `host:port` (that host and port, http or
    /// https), `host` (ports 80 and 443) or a URL prefix `http(s)://host[:port]/path` (URLs
    /// under that path). Empty: nothing is allowed. A URL with user information, a path with
    /// `.` or `..` segments (or their percent-encodings) or a scheme other than http(s) is never
    /// allowed, whatever the list says.
    public struct AllowList: Sendable, Equatable {
        public let entries: [String]

        /// Throws a readable error (English / Spanish) for an entry that is none of the forms.
        public init(_ entries: [String]) throws {
            let cleaned = entries.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for e in cleaned where AllowList.entry(e) == nil {
                throw FHIRError.badRequest("import source '\(e)' is not host:port, host or an http(s) URL prefix",
                                           "la fuente de importación '\(e)' no es host:puerto, host ni un prefijo de URL http(s)")
            }
            self.entries = cleaned
        }

        public var isEmpty: Bool { entries.isEmpty }

        struct Entry {
            var scheme: String?
            var host: String
            var ports: Set<Int>
            var path: String?
        }

        static func entry(_ e: String) -> Entry? {
            if e.contains("://") {
                guard let u = URLComponents(string: e), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme),
                      let host = u.host?.lowercased(), !host.isEmpty, u.user == nil, u.password == nil, u.query == nil else { return nil }
                let port = u.port ?? (scheme == "https" ? 443 : 80)
                return Entry(scheme: scheme, host: host, ports: [port], path: u.path.isEmpty ? "/" : u.path)
            }
            let parts = e.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }) else { return nil }
            if parts.count == 1 { return Entry(scheme: nil, host: parts[0].lowercased(), ports: [80, 443], path: nil) }
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            return Entry(scheme: nil, host: parts[0].lowercased(), ports: [port], path: nil)
        }

        /// May `url` be fetched?
        public func allows(_ url: String) -> Bool {
            guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), ["http", "https"].contains(scheme),
                  let host = u.host?.lowercased(), !host.isEmpty, u.user == nil, u.password == nil else { return false }
            let rawPath = u.percentEncodedPath
            let segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).map { $0.lowercased() }
            if segments.contains(where: { [".", "..", "%2e", "%2e%2e", ".%2e", "%2e."].contains($0) }) || rawPath.lowercased().contains("%2f") { return false }
            let port = u.port ?? (scheme == "https" ? 443 : 80)
            let path = rawPath.isEmpty ? "/" : rawPath
            for e in entries {
                guard let entry = AllowList.entry(e), entry.host == host, entry.ports.contains(port) else { continue }
                if let s = entry.scheme, s != scheme { continue }
                guard let prefix = entry.path else { return true }
                if path == prefix || prefix.hasSuffix("/") && path.hasPrefix(prefix) || path.hasPrefix(prefix + "/") { return true }
            }
            return false
        }
    }
}

extension BulkImport {
    /// Splits a byte stream into NDJSON lines (`\n`-terminated; the last line may lack it),
    /// numbered from 1, whatever the chunk boundaries are.
    public struct LineSplitter: Sendable {
        var buffer: [UInt8] = []
        var line = 0

        public init() {}

        /// The complete lines `chunk` ends.
        public mutating func feed(_ chunk: some Collection<UInt8>) -> [(line: Int, bytes: [UInt8])] {
            var out: [(Int, [UInt8])] = []
            var start = buffer.count
            buffer.append(contentsOf: chunk)
            var lineStart = 0
            while let nl = buffer[start...].firstIndex(of: 0x0A) {
                line += 1
                out.append((line, Array(buffer[lineStart..<nl])))
                lineStart = nl + 1
                start = lineStart
            }
            if lineStart > 0 { buffer.removeFirst(lineStart) }
            return out
        }

        /// The last line, when the stream did not end with a newline.
        public mutating func finish() -> (line: Int, bytes: [UInt8])? {
            guard !buffer.isEmpty else { return nil }
            line += 1
            defer { buffer = [] }
            return (line, buffer)
        }
    }

    /// The one import pipeline of Enlace, shared by `enlace import` and `$import`: each NDJSON
    /// line is parsed, optionally repaired (`lenient`: empty arrays and objects dropped,
    /// `LenientRepair`), checked to be an R4 resource (of `expectedType`, when given), and
    /// stored through a guard `open` gives — in transactions of `batch` resources, each a
    /// transaction Bundle of `PUT Type/id` (update-as-create: importing the same file again
    /// never duplicates, and a resource equal to its current version is not written again —
    /// `BundleOptions.skipUnchanged`, counted in `unchanged`) or, for a resource without
    /// an id when `requireID` is false, `POST Type`. A batch that fails is retried resource by
    /// resource, so every invalid line is reported with its reason (`Note`) and nothing valid
    /// is lost; a server error (5xx) is thrown, leaving what earlier batches stored intact.
    public struct Loader {
        /// What happened to one line: an error (the line was not stored) or a warning (a repair).
        public struct Note: Sendable, Equatable {
            public var line: Int
            public var issue: Issue
        }

        public let batch: Int
        public let lenient: Bool
        public let base: String
        /// Lines of another type are refused (an `input` of a type holds resources of that type).
        public var expectedType: String?
        /// A resource without an id is refused (a server import must be idempotent).
        public var requireID = false
        /// Put into `meta.source` of a resource that has none (the kick-off's `inputSource`).
        public var source: String?
        let open: @Sendable () async throws -> GuardedRepository
        var pending: [(line: Int, json: JSON)] = []
        /// Resources written (a new resource or a new version).
        public private(set) var stored = 0
        /// Resources already stored exactly so (not written again).
        public private(set) var unchanged = 0
        public private(set) var failed = 0
        public private(set) var repairs = 0

        public init(batch: Int, lenient: Bool = false, base: String, open: @escaping @Sendable () async throws -> GuardedRepository) {
            self.batch = max(1, batch)
            self.lenient = lenient
            self.base = base
            self.open = open
        }

        static func error(_ line: Int, _ code: String, _ english: String, _ spanish: String) -> Note {
            Note(line: line, issue: Issue(.error, code: code, english: english, spanish: spanish))
        }

        /// Takes one line (blank lines are skipped); stores a batch when it is full. Returns what
        /// went wrong or was repaired, by line.
        public mutating func add(line: Int, bytes: [UInt8]) async throws -> [Note] {
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return [] }
            var notes: [Note] = []
            do {
                var json = try JSONParser.parse(bytes)
                if lenient {
                    let (repaired, warnings) = LenientRepair.dropEmpty(json)
                    notes += warnings.map { Note(line: line, issue: $0) }
                    repairs += warnings.count
                    json = repaired
                }
                guard let type = json["resourceType"]?.stringValue, Definitions.r4.isResourceType(type) else {
                    failed += 1
                    return notes + [Loader.error(line, "structure", "not a FHIR R4 resource (resourceType missing or unknown)",
                                                 "no es un recurso FHIR R4 (falta resourceType o no se conoce)")]
                }
                if let expectedType, type != expectedType {
                    failed += 1
                    return notes + [Loader.error(line, "invalid", "a \(type) in a file of type \(expectedType) (each input holds one type)",
                                                 "un \(type) en un archivo de tipo \(expectedType) (cada input contiene un solo tipo)")]
                }
                if requireID, (json["id"]?.stringValue ?? "").isEmpty {
                    failed += 1
                    return notes + [Loader.error(line, "required", "the \(type) has no id: an import stores each resource under its id, so that a retried import never duplicates it",
                                                 "el \(type) no tiene id: la importación guarda cada recurso con su id, para que repetirla nunca lo duplique")]
                }
                if let source, json["meta"]?["source"] == nil {
                    json = json.setting("meta", (json["meta"] ?? .object([])).setting("source", .string(source)))
                }
                pending.append((line, json))
            } catch {
                failed += 1
                return notes + [Loader.error(line, "structure", "not valid JSON: \(error)", "no es JSON válido: \(error)")]
            }
            if pending.count >= batch { notes += try await flush() }
            return notes
        }

        /// Stores what is pending.
        public mutating func flush() async throws -> [Note] {
            guard !pending.isEmpty else { return [] }
            let items = pending
            pending.removeAll(keepingCapacity: true)
            let (ok, same, notes) = try await store(items)
            stored += ok - same
            unchanged += same
            failed += items.count - ok
            return notes
        }

        func bundle(_ items: ArraySlice<(line: Int, json: JSON)>) -> JSON {
            .object([("resourceType", .string("Bundle")), ("type", .string("transaction")), ("entry", .array(items.map { item in
                let type = item.json["resourceType"]!.stringValue!
                let request: JSON = item.json["id"]?.stringValue.map { id in
                    .object([("method", .string("PUT")), ("url", .string("\(type)/\(id)"))])
                } ?? .object([("method", .string("POST")), ("url", .string(type))])
                return .object([("resource", item.json), ("request", request)])
            }))])
        }

        static func refusal(_ line: Int, _ e: FHIRError) -> Note {
            func clean(_ s: String) -> String { s.replacingOccurrences(of: "Bundle.entry[0]: ", with: "") }
            return error(line, e.issues.first?.code ?? "processing", e.issues.map { clean($0.english) }.joined(separator: "; "),
                         e.issues.map { clean($0.spanish) }.joined(separator: "; "))
        }

        /// One transaction; if it is refused, each resource on its own. Returns how many were
        /// stored (written or already so), how many of those were unchanged, and the refusals.
        func store(_ items: [(line: Int, json: JSON)]) async throws -> (Int, Int, [Note]) {
            var options = Repository.BundleOptions(base: base, maxEntries: max(items.count, 1))
            options.skipUnchanged = true
            func same(_ response: JSON) -> Int { (response["entry"]?.arrayValue ?? []).filter(Repository.isUnchanged).count }
            do {
                let response = try await open().process(bundle: bundle(items[...]), options: options)
                return (items.count, same(response), [])
            } catch let e as FHIRError where e.status < 500 {
                guard items.count > 1 else { return (0, 0, [Loader.refusal(items[0].line, e)]) }
                var ok = 0, unchanged = 0
                var notes: [Note] = []
                for i in items.indices {
                    do {
                        unchanged += same(try await open().process(bundle: bundle(items[i...i]), options: options))
                        ok += 1
                    } catch let e as FHIRError where e.status < 500 {
                        notes.append(Loader.refusal(items[i].line, e))
                    }
                }
                return (ok, unchanged, notes)
            }
        }
    }
}
