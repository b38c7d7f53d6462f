import FHIR
import Foundation
@_spi(Unguarded) import Storage
import StoragePostgres
import Testing

/// Bytes on disk on PostgreSQL (docs/performance.md, "Bytes on disk (PostgreSQL)"): migration 6
/// drops the `(type, id)` indexes of the index tables that no PostgreSQL query reads; a database
/// from before upgrades and answers as before, and the bodies' storage is what it was.
@Suite("PostgreSQL bytes on disk", .enabled(if: Backend.postgresURL != nil, "needs ENLACE_TEST_DATABASE_URL"))
struct PostgresDiskTests {
    /// The indexes migration 6 drops (Migrations.droppedResourceIndexes), named here as the spec.
    static let dropped = ["search_string_resource", "search_token_resource", "search_date_resource",
                          "search_number_resource", "search_quantity_resource", "search_uri_resource",
                          "search_composite_resource", "compartment_resource"]

    static func indexes(_ store: PostgresStore) async throws -> Set<String> {
        Set(try await store.rows(unsafeSQL: "SELECT indexname FROM pg_indexes WHERE schemaname = '\(store.endpoint.schema!)'")
            .compactMap { $0[0] })
    }

    @Test func aFreshSchemaHasNoIndexThatNoQueryReads() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let names = try await Self.indexes(store)
        #expect(names.isDisjoint(with: Self.dropped), "\(names.intersection(Self.dropped).sorted())")
        // what the queries do read stays: the primary keys (patient_key first) and the references by source
        for kept in ["search_token_pkey", "compartment_pkey", "search_reference_resource", "search_token_value", "resource_type_id"] {
            #expect(names.contains(kept), "\(kept)")
        }
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6])
    }

    /// A schema migrated before version 6 (the indexes there, version 6 not applied) upgrades:
    /// the indexes go, the rows and their answers stay, and an old body reads back byte for byte.
    @Test func aDatabaseFromBeforeUpgradesAndAnswersTheSame() async throws {
        let store = try await PostgresTestDatabase.make()
        defer { PostgresTestDatabase.drop(store) }
        let validator = Validator()
        let f = SearchFixture(Repository(store: store, clock: SystemClock(), ids: UUIDGenerator(), validate: { validator.validate($0) }))
        try await CompactIndexTests.load(f)
        let body = try await store.read { try $0.current("Observation", "panel") }?.body
        #expect(body?.first == UInt8(ascii: "{"), "bodies are stored as the JSON itself")
        for kind in ["string", "token", "date", "number", "quantity", "uri", "composite"] {
            try store.executeBlocking(unsafeSQL: "CREATE INDEX search_\(kind)_resource ON search_\(kind) (type, id)")
        }
        try store.executeBlocking(unsafeSQL: "CREATE INDEX compartment_resource ON compartment (type, id)")
        try store.executeBlocking(unsafeSQL: "DELETE FROM schema_migrations WHERE version = 6")
        #expect(try await Self.indexes(store).isSuperset(of: Self.dropped))
        try await store.migrate()
        #expect(try await store.appliedMigrations() == [1, 2, 3, 4, 5, 6])
        #expect(try await Self.indexes(store).isDisjoint(with: Self.dropped))
        try await CompactIndexTests.expectSameAnswers(f)
        #expect(try await store.read { try $0.current("Observation", "panel") }?.body == body)
        let content = try await f.search("Observation", "_content=presi")
        #expect(content == ["panel"], "the _content search reads the bodies in SQL")
    }
}
