import FHIR
import Foundation
import Storage
import Trust

/// `Patient/$match` (https://hl7.org/fhir/R4/patient-operation-match.html): the records that
/// may be the person described, scored and graded (docs/interop.md#patientmatch).
///
/// Candidates come only from the caller's guarded repository — identifiers first, then blocks
/// on birth date, each surname and the first distinctive given name — so nothing the caller may
/// not see is scored or returned. Whether an identifier names a record the caller may not see
/// is asked of the door (`hiddenIdentifierMatch`), and said, without any content, as an
/// OperationOutcome entry telling how to request access.
public struct PatientMatch: Sendable {
    /// The operation's input (the `Parameters` of the R4 definition).
    public struct Input: Sendable {
        public var patient: JSON
        public var onlyCertainMatches: Bool
        public var count: Int

        public init(patient: JSON, onlyCertainMatches: Bool = false, count: Int = 10) {
            self.patient = patient
            self.onlyCertainMatches = onlyCertainMatches
            self.count = count
        }

        /// Reads a `Parameters` resource: `resource` (a Patient, required), `onlyCertainMatches`
        /// (boolean), `count` (1…100). Throws a precise 400 for anything else.
        public static func parse(_ parameters: JSON) throws -> Input {
            guard parameters["resourceType"]?.stringValue == "Parameters" else {
                throw FHIRError.badRequest("$match takes a Parameters resource with a 'resource' parameter holding a Patient",
                                           "$match recibe un recurso Parameters con un parámetro 'resource' que contenga un Patient")
            }
            var patient: JSON?
            var onlyCertain = false
            var count = 10
            for p in parameters["parameter"]?.arrayValue ?? [] {
                switch p["name"]?.stringValue {
                case "resource":
                    guard let r = p["resource"], r["resourceType"]?.stringValue == "Patient" else {
                        throw FHIRError.badRequest("the 'resource' parameter of $match must hold a Patient resource",
                                                   "el parámetro 'resource' de $match debe contener un recurso Patient", code: "structure")
                    }
                    patient = r
                case "onlyCertainMatches":
                    guard let b = p["valueBoolean"]?.boolValue else {
                        throw FHIRError.badRequest("onlyCertainMatches must be a valueBoolean", "onlyCertainMatches debe ser un valueBoolean", code: "structure")
                    }
                    onlyCertain = b
                case "count":
                    guard case let .number(n)? = p["valueInteger"], let c = Int(n), (1...100).contains(c) else {
                        throw FHIRError.badRequest("count must be a valueInteger from 1 to 100", "count debe ser un valueInteger de 1 a 100", code: "value")
                    }
                    count = c
                case let other:
                    throw FHIRError.badRequest("unknown $match parameter '\(other ?? "")'; known: resource, onlyCertainMatches, count",
                                               "parámetro desconocido de $match '\(other ?? "")'; se admiten: resource, onlyCertainMatches, count", code: "not-supported")
                }
            }
            guard let patient else {
                throw FHIRError.badRequest("$match needs the 'resource' parameter (the Patient to match)",
                                           "$match necesita el parámetro 'resource' (el Patient a buscar)", code: "required")
            }
            for identifier in patient["identifier"]?.arrayValue ?? [] where CURP.isCURPIdentifier(identifier) {
                let value = CURP.normalize(identifier["value"]?.stringValue ?? "")
                if let problem = CURP.problem(value) {
                    throw FHIRError(status: 422, code: "value", english: "the CURP '\(value)' to match is not valid: \(problem.english)",
                                    spanish: "la CURP '\(value)' a buscar no es válida: \(problem.spanish)", expression: ["Patient.identifier"])
                }
            }
            let d = Demographics.of(patient)
            let names = d.name.map { !$0.given.isEmpty && !$0.surnames.isEmpty } ?? false
            guard d.curp != nil || !d.identifiers.isEmpty || (names && d.birthDate != nil) else {
                throw FHIRError(status: 422, code: "required",
                                english: "$match needs a CURP or another identifier with a system, or a name (given and family) and a birth date",
                                spanish: "$match necesita una CURP u otro identificador con sistema, o un nombre (nombre y apellidos) y la fecha de nacimiento")
            }
            return Input(patient: patient, onlyCertainMatches: onlyCertain, count: count)
        }
    }

    /// One result.
    public struct Candidate: Sendable {
        public var resource: StoredResource
        public var score: MatchScore
    }

    /// What `$match` answers: the candidates the caller may see, best first, and whether an
    /// identifier also named a record the caller may not see.
    public struct Result: Sendable {
        public var candidates: [Candidate]
        public var hiddenMatch: Bool
    }

    /// How many candidates each block reads at most.
    public static let blockSize = 200

    /// Finds and scores the candidates. `hiddenIdentifierMatch` asks the door whether one of the
    /// identifiers names a live Patient the caller cannot see.
    public static func run(_ input: Input, repository: GuardedRepository,
                           hiddenIdentifierMatch: @Sendable ([Demographics.Identifier]) async throws -> Bool) async throws -> Result {
        let wanted = Demographics.of(input.patient)
        var blocks: [[(String, String)]] = []
        var identifiers = wanted.identifiers
        if let curp = wanted.curp {
            blocks.append([("identifier", curp)])
            identifiers.append(Demographics.Identifier(system: CURP.system, value: curp))
        }
        for i in wanted.identifiers { blocks.append([("identifier", "\(i.system)|\(i.value)")]) }
        if !input.onlyCertainMatches, let name = wanted.name {
            // Blocks of two fields each, so that a block stays small in a large population and
            // any two of (birth date, a surname, the given name) agreeing find the record: the
            // birth date; each surname within the birth year; the given name with the first
            // surname (a wrong birth year). docs/interop.md, "Finding candidates".
            let birth = wanted.birthDate.flatMap { $0.count == 10 ? $0 : nil }
            if let birth { blocks.append([("birthdate", birth)]) }
            let surnames = name.surnames.filter { $0.count >= 3 }
            for surname in surnames {
                blocks.append([("family:contains", surname)] + (birth.map { [("birthdate", String($0.prefix(4)))] } ?? []))
            }
            if let given = name.given.first(where: { !SpanishName.commonFirst.contains($0) }) ?? name.given.first, given.count >= 2 {
                blocks.append([("given", given)] + (surnames.first.map { [("family:contains", $0)] } ?? []))
            }
        }
        var seen = Set<String>()
        var candidates: [Candidate] = []
        let parser = SearchParser(options: { var o = SearchParser.Options(); o.maxCount = blockSize; return o }())
        for block in blocks {
            let (query, _) = try parser.parse(types: ["Patient"], parameters: block + [("_count", String(blockSize)), ("_total", "none")])
            for r in try await repository.search(query).matches where !r.deleted && seen.insert(r.id).inserted {
                let score = MatchScorer.score(wanted, Demographics.of(try r.json()))
                guard let grade = score.grade, !input.onlyCertainMatches || grade == .certain else { continue }
                candidates.append(Candidate(resource: r, score: score))
            }
        }
        candidates.sort { ($0.score.score, $1.resource.id) > ($1.score.score, $0.resource.id) }
        let certainFound = candidates.contains { $0.score.basis.first == "curp" || $0.score.basis.first == "identifier" }
        let hidden = identifiers.isEmpty || certainFound ? false : try await hiddenIdentifierMatch(identifiers)
        return Result(candidates: Array(candidates.prefix(input.count)), hiddenMatch: hidden)
    }

    /// The result as the searchset Bundle the operation returns: each entry with `search.mode`
    /// `match`, `search.score` and the `match-grade` extension; an OperationOutcome entry
    /// (`search.mode` `outcome`) when an identifier names a record the caller may not see.
    public static func bundle(_ result: Result, base: String, requestAccessPath: String) throws -> JSON {
        var entries: [JSON] = []
        for c in result.candidates {
            entries.append(.object([
                ("fullUrl", .string("\(base)/Patient/\(c.resource.id)")),
                ("resource", try c.resource.json()),
                ("search", .object([
                    ("extension", .array([.object([("url", .string("http://hl7.org/fhir/StructureDefinition/match-grade")),
                                                   ("valueCode", .string(c.score.grade?.rawValue ?? "possible"))])])),
                    ("mode", .string("match")),
                    ("score", .number(String(c.score.score))),
                ])),
            ]))
        }
        if result.hiddenMatch {
            let issue = Issue(.information, code: "suppressed",
                              english: "a record with this identifier exists that you may not see; ask the patient for access at \(requestAccessPath) (the patient decides, and sees that you asked)",
                              spanish: "existe un expediente con este identificador que usted no puede ver; solicite acceso al paciente en \(requestAccessPath) (el paciente decide y ve que usted lo pidió)")
            entries.append(.object([
                ("resource", .object([("resourceType", .string("OperationOutcome")), ("issue", .array([issue.json]))])),
                ("search", .object([("mode", .string("outcome"))])),
            ]))
        }
        var bundle: JSON = .object([
            ("resourceType", .string("Bundle")),
            ("type", .string("searchset")),
            ("total", .number(String(result.candidates.count))),
        ])
        if !entries.isEmpty { bundle = bundle.setting("entry", .array(entries)) }
        return bundle
    }
}
