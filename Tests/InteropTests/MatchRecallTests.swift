import FHIR
import Foundation
@testable import Interop
@_spi(Unguarded) import Storage
import StorageSQLite
import Testing
@_spi(Unguarded) @testable import Trust

/// Blocking's recall: the match table's scores are right only if `PatientMatch.run`'s blocks
/// find the record in the first place. Every case of the table that is a match (by demographics:
/// identifiers are found by their own block) is stored among 600 people who share its surnames,
/// given names and birth years, and `$match` must return it with the table's grade.
@Suite struct MatchRecallTests {
    static let service = Principal(subject: "client:registry", scopes: ScopeSet("system/*.cruds"), tokenID: "t", role: .service, clientID: "registry")

    /// People made of the same parts as the table (so every block has company), never equal to
    /// a stored case: their birth dates fall on the 28th, no case's does.
    static func crowd(_ n: Int) -> [JSON] {
        let given = ["María Guadalupe", "Guadalupe", "Juan", "Pedro", "Sofía", "Carlos", "Rosa", "Laura", "Andrés", "Jimena", "José", "Ana Lucía", "Roberto"]
        let surnames = ["Hernández", "López", "Ramírez", "Soto", "Jiménez", "Vázquez", "Ortega", "Ruiz", "Cruz", "Méndez", "Muñoz", "Yáñez", "Díaz", "Luna", "Pérez", "García"]
        let years = [1960, 1972, 1978, 1983, 1985, 1990, 1995, 1999, 2001]
        // strides prime to each list's length walk every combination without a generator
        return (0..<n).map { i in
            person(given[i % given.count], surnames[(i * 7) % surnames.count] + " " + surnames[(i * 5 + 3) % surnames.count],
                   born: "\(years[(i * 4) % years.count])-\(String(format: "%02d", (i * 5) % 12 + 1))-28", gender: i % 2 == 0 ? "female" : "male")
        }
    }

    @Test func everyMatchOfTheTableIsFoundAmongACrowd() async throws {
        let dir = NSTemporaryDirectory() + "enlace-match-recall-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let door = Door(store: try SQLiteStore(), key: try SigningKey.loadOrCreate(in: dir))
        let repository = try await door.open(Self.service, audit: nil)
        for (i, p) in Self.crowd(600).enumerated() {
            _ = try await repository.update("Patient", "crowd-\(i)", p.setting("id", .string("crowd-\(i)")), ifMatch: nil)
        }
        let cases = matchTable.enumerated().filter { $0.element.grade != nil && $0.element.stored["identifier"] == nil }
        #expect(cases.count >= 20)
        for (i, c) in cases {
            _ = try await repository.update("Patient", "case-\(i)", c.stored.setting("id", .string("case-\(i)")), ifMatch: nil)
        }
        for (i, c) in cases {
            let input = try PatientMatch.Input.parse(.object([("resourceType", .string("Parameters")), ("parameter", .array([
                .object([("name", .string("resource")), ("resource", c.asked)]),
                .object([("name", .string("count")), ("valueInteger", .number("100"))]),
            ]))]))
            let result = try await PatientMatch.run(input, repository: repository) { _ in false }
            let found = result.candidates.first { $0.resource.id == "case-\(i)" }
            #expect(found?.score.grade == c.grade, "\(c.name): \(found.map { "\($0.score.grade.map { "\($0)" } ?? "-")" } ?? "not found")")
        }
    }
}
