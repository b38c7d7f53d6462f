import FHIR
import Foundation
import GRDB
@_spi(Unguarded) import Storage
import StoragePostgres
import StorageSQLite
import Testing

/// The compact index (docs/performance.md, "Index rows that say nothing new"): Observation's
/// `combo-*` parameters answered from their parts' rows, reference rows without a redundant
/// text, the token `:text` index partial — same answers as before, on every backend, and a
/// database written before the change migrated to exactly what is written now.
@Suite("Compact index")
struct CompactIndexTests {
    // MARK: the unions are their parts

    static func definition(_ code: String) -> SearchParameterDefinition {
        Definitions.r4.searchParametersByType["Observation"]![code]!
    }

    /// Two Observations exercising every element a combo parameter reads, at the top level and in
    /// components (a SampledData value, concepts, absent reasons).
    static let samples = [
        #"""
        {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"},{"system":"http://snomed.info/sct","code":"75367002"}]},
         "valueQuantity":{"value":1,"unit":"1"},"dataAbsentReason":{"coding":[{"code":"asked-unknown"}]},
         "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":150,"unit":"mm[Hg]"}},
                      {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueCodeableConcept":{"coding":[{"code":"high"}]}},
                      {"code":{"text":"sampled"},"valueSampledData":{"origin":{"value":0},"period":1,"dimensions":1}},
                      {"code":{"text":"absent"},"dataAbsentReason":{"coding":[{"code":"not-performed"}]}}]}
        """#,
        #"""
        {"resourceType":"Observation","status":"final","code":{"text":"concept"},"valueCodeableConcept":{"coding":[{"code":"260385009"}]},
         "valueSampledData":{"origin":{"value":0},"period":1,"dimensions":1}}
        """#,
    ]

    /// The nodes an expression finds, as comparable text (FHIRPath's `|` removes duplicates, so
    /// unions are compared as sets).
    static func nodes(_ expression: String, _ resource: JSON) throws -> Set<String> {
        Set(try FHIRPathExpression(expression).evaluate(resource).map { "\($0.type) \($0.value)" })
    }

    @Test func everyUnionFindsWhatItsPartsFind() throws {
        for (union, parts) in UnionParameters.parts.sorted(by: { $0.key < $1.key }) {
            let u = Self.definition(union)
            #expect(parts.count == 2)
            let defs = parts.map(Self.definition)
            #expect(defs.allSatisfy { $0.type == u.type }, "\(union): its parts have its type")
            var foundAny = false
            for sample in Self.samples {
                let resource = try JSONParser.parse(sample)
                let found = try Self.nodes(u.expression!, resource)
                let fromParts = try defs.reduce(into: Set<String>()) { $0.formUnion(try Self.nodes($1.expression!, resource)) }
                foundAny = foundAny || !found.isEmpty
                #expect(found == fromParts, "\(union) = \(parts.joined(separator: " | "))")
            }
            #expect(foundAny, "\(union) finds something in the samples")
            if u.type == .composite {
                // same components, evaluated on the nodes each finds
                for d in defs {
                    #expect(d.component.map(\.expression) == u.component.map(\.expression), "\(union) and \(d.code): same component expressions")
                    let types = d.component.map { c in Definitions.r4.searchParameters.first { $0.url == c.definition }?.type }
                    let unionTypes = u.component.map { c in Definitions.r4.searchParameters.first { $0.url == c.definition }?.type }
                    #expect(types == unionTypes)
                }
            }
        }
    }

    // MARK: the same answers on every backend

    static let observations = [
        #"{"resourceType":"Observation","id":"top","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"valueQuantity":{"value":130,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}"#,
        #"{"resourceType":"Observation","id":"panel","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Presión sistólica"}]},"valueQuantity":{"value":150,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"valueQuantity":{"value":95,"unit":"mm[Hg]","system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}"#,
        #"{"resourceType":"Observation","id":"concept","status":"final","code":{"coding":[{"system":"http://example.mx/cs","code":"12345"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]},"component":[{"code":{"coding":[{"system":"http://example.mx/cs","code":"999"}]},"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"10828004"}]}}]}"#,
        #"{"resourceType":"Observation","id":"absent","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},"dataAbsentReason":{"coding":[{"code":"asked-unknown"}]},"component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8462-4"}]},"dataAbsentReason":{"coding":[{"code":"not-performed"}]}}],"performer":[{"reference":"urn:uuid:0f6c2a9e-0000-4000-8000-000000000001"}]}"#,
        #"{"resourceType":"QuestionnaireResponse","id":"qr1","status":"completed","questionnaire":"http://x.mx/forms/q1|2.0"}"#,
        #"{"resourceType":"QuestionnaireResponse","id":"qr2","status":"completed","questionnaire":"http://x.mx/forms/q2"}"#,
        #"{"resourceType":"QuestionnaireResponse","id":"qr3","status":"completed","questionnaire":"http://x.mx/fhir/Questionnaire/phq9"}"#,
        #"{"resourceType":"QuestionnaireResponse","id":"qr4","status":"completed","questionnaire":"http://x.mx/fhir/Questionnaire/phq9|2.0"}"#,
    ]

    static func load(_ f: SearchFixture) async throws {
        for o in observations { try await f.put(o) }
    }

    /// Every query here has the answer the combo parameter's own definition gives (the
    /// expectations were worked out from the R4 expressions, not from the implementation).
    static func expectSameAnswers(_ f: SearchFixture) async throws {
        #expect(try await f.search("Observation", "combo-code=http://loinc.org|8480-6") == ["absent", "panel", "top"])
        #expect(try await f.search("Observation", "combo-code=8462-4,85354-9") == ["absent", "panel"])
        #expect(try await f.search("Observation", "combo-code=999") == ["concept"])
        #expect(try await f.search("Observation", "combo-code:text=presion") == ["panel"])
        #expect(try await f.search("Observation", "combo-code:missing=false") == ["absent", "concept", "panel", "top"])
        #expect(try await f.search("Observation", "combo-code:missing=true") == [])
        #expect(try await f.search("Observation", "combo-code-value-quantity=8480-6$gt140") == ["panel"])
        #expect(try await f.search("Observation", "combo-code-value-quantity=http://loinc.org|8480-6$gt100") == ["panel", "top"])
        // one composite row: the top-level code with a component's value does not match
        #expect(try await f.search("Observation", "combo-code-value-quantity=85354-9$gt100") == [])
        #expect(try await f.search("Observation", "combo-value-quantity=gt140") == ["panel"])
        #expect(try await f.search("Observation", "combo-value-quantity=lt100") == ["panel"])
        #expect(try await f.search("Observation", "combo-value-concept=260385009") == ["concept"])
        #expect(try await f.search("Observation", "combo-value-concept=10828004") == ["concept"])
        #expect(try await f.search("Observation", "combo-code-value-concept=999$10828004") == ["concept"])
        #expect(try await f.search("Observation", "combo-code-value-concept=12345$10828004") == [])
        #expect(try await f.search("Observation", "combo-data-absent-reason=not-performed") == ["absent"])
        #expect(try await f.search("Observation", "combo-data-absent-reason=asked-unknown") == ["absent"])
        #expect(try await f.search("Observation", "combo-data-absent-reason:missing=true") == ["concept", "panel", "top"])
        // sorted by the least code of the resource or its components: 12345 < 8462-4 < 8480-6
        let sorted = try await f.result("Observation", "_sort=combo-code,_id").matches.map(\.id)
        #expect(sorted == ["concept", "absent", "panel", "top"])
        // and by the greatest: 999 > 85354-9 > 8480-6 (text order)
        let descending = try await f.result("Observation", "_sort=-combo-code,_id").matches.map(\.id)
        #expect(descending == ["concept", "panel", "absent", "top"])
        // what was written, where text says more than system and value or nothing at all
        #expect(try await f.search("Observation", "performer=urn:uuid:0f6c2a9e-0000-4000-8000-000000000001") == ["absent"])
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/forms/q1|2.0") == ["qr1"])
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/forms/q2") == ["qr2"])
        // a canonical without `|version` matches every version (R4 search, "canonical"), with it that version
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/forms/q1") == ["qr1"])
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/forms/q1|1.0") == [])
        // a canonical that looks like a RESTful URL is found by it (it is indexed as written, not by id)
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/fhir/Questionnaire/phq9") == ["qr3", "qr4"])
        #expect(try await f.search("QuestionnaireResponse", "questionnaire=http://x.mx/fhir/Questionnaire/phq9|2.0") == ["qr4"])
    }

    @Test(arguments: Backend.allCases)
    func unionsAndReferencesAnswerAsTheirDefinitions(_ backend: Backend) async throws {
        let f = try await SearchFixture(backend)
        defer { f.cleanup() }
        try await Self.load(f)
        try await Self.expectSameAnswers(f)
    }

    // MARK: a database from before the change

    /// What the Indexer wrote before: a `combo-*` row beside each of its parts' rows, reference
    /// text `Type/id` or the URL itself, and the two full text indexes.
    static func before(postgres: Bool) -> [String] {
        let (ord, newOrd) = postgres ? (", ord", ", ord + 1000") : ("", "")
        return [
        "DROP INDEX search_token_text",
        "CREATE INDEX search_token_text ON search_token (type, param, text)",
        "CREATE INDEX search_reference_text ON search_reference (type, param, text)",
        "UPDATE search_reference SET text = system || '/' || value WHERE text = '' AND system <> ''",
        "UPDATE search_reference SET text = value WHERE text = '' AND system = ''",
        "INSERT INTO search_token (type, id, param, system, value, text, low, high, patient_key\(ord)) SELECT type, id, 'combo-code', system, value, text, low, high, patient_key\(newOrd) FROM search_token WHERE type = 'Observation' AND param IN ('code', 'component-code')",
        "INSERT INTO search_quantity (type, id, param, system, value, text, low, high, patient_key\(ord)) SELECT type, id, 'combo-value-quantity', system, value, text, low, high, patient_key\(newOrd) FROM search_quantity WHERE type = 'Observation' AND param IN ('value-quantity', 'component-value-quantity')",
        ]
    }

    /// Rows of the combo parameters (token, quantity, composite) and reference rows with a text.
    static func counts(as type: String = "INTEGER") -> String {
        "SELECT " + ["search_token WHERE param LIKE 'combo-%'", "search_quantity WHERE param LIKE 'combo-%'",
         "search_composite WHERE param LIKE 'combo-%'", "search_reference WHERE text <> ''"]
            .map { "CAST((SELECT COUNT(*) FROM \($0)) AS \(type))" }.joined(separator: ", ")
    }

    @Test func sqliteDatabaseFromBeforeIsMigratedToWhatIsWrittenNow() async throws {
        let dir = NSTemporaryDirectory() + "enlace-compact-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/db.sqlite"
        let validator = Validator()
        do {
            let store = try SQLiteStore(path: path)
            let f = SearchFixture(Repository(store: store, clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) }))
            try await Self.load(f)
        }
        let written: [Int] = try await DatabaseQueue(path: path).read { db in
            try Row.fetchOne(db, sql: Self.counts()).map { r in (0..<4).map { r[$0] as Int } } ?? []
        }
        #expect(written == [0, 0, 0, 2], "combo rows and redundant texts are not written (the two texts: the |2.0 of q1 and phq9)")
        try await DatabaseQueue(path: path).write { db in
            for s in Self.before(postgres: false) { try db.execute(sql: s) }
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v5-compact-index'")
            let old = try Row.fetchOne(db, sql: Self.counts()).map { r in (0..<4).map { r[$0] as Int } } ?? []
            #expect(old[0] > 0 && old[1] > 0 && old[3] > 1, "the old form is there before the migration: \(old)")
        }
        let store = try SQLiteStore(path: path)
        let f = SearchFixture(Repository(store: store, clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) }))
        try await Self.expectSameAnswers(f)
        let (migrated, indexes): ([Int], [String]) = try await DatabaseQueue(path: path).read { db in
            (try Row.fetchOne(db, sql: Self.counts()).map { r in (0..<4).map { r[$0] as Int } } ?? [],
             try String.fetchAll(db, sql: "SELECT name || ': ' || sql FROM sqlite_schema WHERE name IN ('search_token_text', 'search_reference_text')"))
        }
        #expect(migrated == written)
        #expect(indexes == ["search_token_text: CREATE INDEX search_token_text ON search_token (type, param, text) WHERE text <> ''"])
    }

    @Test(.enabled(if: Backend.postgresURL != nil, "needs ENLACE_TEST_DATABASE_URL"))
    func postgresDatabaseFromBeforeIsMigratedToWhatIsWrittenNow() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let validator = Validator()
        let f = SearchFixture(Repository(store: store, clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) }))
        try await Self.load(f)
        func counts() async throws -> [Int] { try await store.rows(unsafeSQL: Self.counts(as: "text")).first!.map { Int($0 ?? "") ?? -1 } }
        let written = try await counts()
        #expect(written == [0, 0, 0, 2])
        for s in Self.before(postgres: true) { try store.executeBlocking(unsafeSQL: s) }
        try store.executeBlocking(unsafeSQL: "DELETE FROM schema_migrations WHERE version = 5")
        #expect(try await counts()[0] > 0)
        try await store.migrate()
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6])
        #expect(try await counts() == written)
        try await Self.expectSameAnswers(f)
        let schema = store.endpoint.schema!
        let indexes = try await store.rows(unsafeSQL: "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = '\(schema)' AND indexname IN ('search_token_text', 'search_reference_text')")
        #expect(indexes.count == 1)
        #expect(indexes.first?[1]?.contains("WHERE (text <> ''") == true, "\(indexes)")
    }
}

extension SearchFixture {
    /// A fixture over a repository the test opened itself (nothing to clean up).
    init(_ repository: Repository) {
        self.repository = repository
        cleanup = {}
    }
}
