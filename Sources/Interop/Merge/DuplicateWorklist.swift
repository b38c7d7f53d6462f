import FHIR
import Foundation
import Storage
import Trust

/// `Patient/$duplicates` (Enlace's operation, docs/interop.md#patientduplicates): the pairs of
/// active Patients the caller may see that `$match`'s score grades as the same person, best
/// first — an operator's worklist of candidate merges.
///
/// Reads the visible active Patients through the caller's guard (at most `maxPatients`), puts
/// each in blocks (its CURP, each other identifier, its full birth date, its two surnames in
/// either order, each surname with the first given name that is not José / María — surnames and
/// names by their sound keys) and scores every pair that shares a block with `MatchScorer` — the same score and grades
/// as `$match`. Pairs already linked (`replaces`, `replaced-by`, `seealso`) are left out.
public enum DuplicateWorklist {
    public static let maxPatients = 20_000
    /// A block larger than this (a very common name) is not paired within (it would be
    /// quadratic); its members still pair through their other blocks.
    public static let maxBlock = 100

    public struct Pair: Sendable {
        public var a: String
        public var b: String
        public var score: MatchScore
    }

    /// The graded pairs, best first, at most `count`; `minimum` leaves out lower grades.
    public static func find(repository: GuardedRepository, minimum: MatchGrade = .possible, count: Int = 100) async throws -> (pairs: [Pair], scanned: Int, truncated: Bool) {
        let patients = try await repository.searchAll("Patient", [], limit: maxPatients)
        var people: [(id: String, demographics: Demographics, linked: Set<String>)] = []
        for r in patients.prefix(maxPatients) {
            let json = try r.json()
            guard CURPUniqueness.isActive(json) else { continue }
            let linked = Set((json["link"]?.arrayValue ?? []).compactMap { $0["other"]?["reference"]?.stringValue.flatMap(PatientMerge.patientID) })
            people.append((r.id, Demographics.of(json), linked))
        }
        var blocks: [String: [Int]] = [:]
        for (n, p) in people.enumerated() {
            var keys: Set<String> = []
            if let curp = p.demographics.curp { keys.insert("curp|" + curp) }
            for i in p.demographics.identifiers { keys.insert("id|\(i.system)|\(i.value)") }
            if let birth = p.demographics.birthDate, birth.count == 10 { keys.insert("birth|" + birth) }
            if let name = p.demographics.name {
                let surnames = name.surnames.filter { $0.count >= 2 }.map(SpanishName.soundKey)
                // both surnames in either order (swapped surnames meet)
                if surnames.count >= 2 { keys.insert("surnames|" + surnames.sorted().joined(separator: " ")) }
                // each surname with the first given name that is not José / María
                if let given = name.given.first(where: { !SpanishName.commonFirst.contains($0) }) ?? name.given.first {
                    for s in surnames { keys.insert("surname-given|\(s)|\(SpanishName.soundKey(given))") }
                }
            }
            for k in keys { blocks[k, default: []].append(n) }
        }
        var seen = Set<[Int]>()
        var pairs: [Pair] = []
        for (_, members) in blocks where members.count > 1 && members.count <= maxBlock {
            for i in 0..<members.count {
                for j in (i + 1)..<members.count {
                    let (x, y) = (min(members[i], members[j]), max(members[i], members[j]))
                    guard seen.insert([x, y]).inserted else { continue }
                    let a = people[x], b = people[y]
                    if a.linked.contains(b.id) || b.linked.contains(a.id) { continue }
                    let score = MatchScorer.score(a.demographics, b.demographics)
                    guard let grade = score.grade, grade >= minimum else { continue }
                    let (first, second) = a.id < b.id ? (a.id, b.id) : (b.id, a.id)
                    pairs.append(Pair(a: first, b: second, score: score))
                }
            }
        }
        pairs.sort { ($0.score.score, $1.a, $1.b) > ($1.score.score, $0.a, $0.b) }
        return (Array(pairs.prefix(count)), people.count, patients.count >= maxPatients)
    }

    /// The worklist as a `Parameters` resource: one `pair` per candidate (`patient` twice,
    /// `score`, `grade`, `basis`), then `scanned` (how many active Patients were compared).
    public static func parameters(_ result: (pairs: [Pair], scanned: Int, truncated: Bool)) -> JSON {
        var out: [JSON] = result.pairs.map { p in
            .object([("name", .string("pair")), ("part", .array([
                .object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/\(p.a)"))]))]),
                .object([("name", .string("patient")), ("valueReference", .object([("reference", .string("Patient/\(p.b)"))]))]),
                .object([("name", .string("score")), ("valueDecimal", .number(String(p.score.score)))]),
                .object([("name", .string("grade")), ("valueCode", .string(p.score.grade?.rawValue ?? "possible"))]),
                .object([("name", .string("basis")), ("valueString", .string(p.score.basis.joined(separator: ", ")))]),
            ]))])
        }
        out.append(.object([("name", .string("scanned")), ("valueInteger", .number(String(result.scanned)))]))
        if result.truncated { out.append(.object([("name", .string("truncated")), ("valueBoolean", .bool(true))])) }
        return .object([("resourceType", .string("Parameters")), ("parameter", .array(out))])
    }
}
