@_spi(Unguarded) import Storage

/// Versioned schema migrations, recorded in `schema_migrations`. Applied at start and by
/// `enlace migrate`; several nodes starting together serialize on an advisory lock per schema.
///
/// Layout (see docs/scaling.md): every patient-compartment table has `patient_key` (the first
/// patient of the resource's compartments, "" for shared data) first in its primary key and in
/// every unique index, so it can be a Citus distributed table; `resource_key` maps (type, id)
/// to the patient key for reads by id. Text columns use `COLLATE "C"` so ordering and range
/// comparisons are bytewise, exactly as in SQLite.
enum Migrations {
    /// The advisory lock's class (`pg_advisory_xact_lock(int4, int4)`): "enla".
    static let lockClass: Int32 = 0x656E_6C61

    /// Each migration is a list of single statements (the extended query protocol runs one at a time).
    static let all: [(version: Int, name: String, statements: [String])] = [
        (1, "resources-and-search", v1),
        (2, "audit-ledger", v2),
        (3, "labels-chain-records", v3),
        (4, "outbox-transaction-order", v4),
        (5, "compact-index", IndexCompaction.statements),
        (6, "drop-unused-resource-indexes", v6),
    ]

    /// The `(type, id)` indexes of the index tables that no PostgreSQL query reads
    /// (docs/performance.md, "Bytes on disk (PostgreSQL)"): every query that finds a resource's
    /// rows in these tables also names its `patient_key` (the deletes of a write, `_sort`, the
    /// aggregates, `inIndex`, the visibility rules), so the primary key `(patient_key, type, id,
    /// ord)` serves it. They were 7 % of a database's bytes. `search_reference_resource` stays
    /// (`_include` and `_has` read references by source without the patient key), as does every
    /// index SQLite's correlated `INDEXED BY` probes use there (SQLite's schema is its own).
    static let droppedResourceIndexes = ["search_string_resource", "search_token_resource", "search_date_resource",
                                         "search_number_resource", "search_quantity_resource", "search_uri_resource",
                                         "search_composite_resource", "compartment_resource"]
    static let v6 = droppedResourceIndexes.map { "DROP INDEX IF EXISTS \($0)" }

    /// The event outbox is the version log; each version records the id of the transaction that
    /// wrote it, so consumers list versions in an order no later commit can fall behind
    /// (`Transaction.events(after:limit:)`).
    static let v4 = [
        "ALTER TABLE resource_version ADD COLUMN tx bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)",
        "CREATE INDEX resource_version_outbox ON resource_version (tx, seq)",
    ]

    /// Security labels per version (for hidden-label filtering of history), the audit hash
    /// chain, and keyed records (credentials, clients, codes).
    static let v3 = [
        "ALTER TABLE resource_version ADD COLUMN labels text COLLATE \"C\" NOT NULL DEFAULT ''",
        "ALTER TABLE audit_entry ADD COLUMN chain bytea NOT NULL DEFAULT ''::bytea",
        "CREATE TABLE record (kind \(t), key \(t), value bytea NOT NULL, PRIMARY KEY (kind, key))",
    ]

    static let t = "text COLLATE \"C\" NOT NULL"

    static var v1: [String] {
        var s = [
            "CREATE SEQUENCE resource_seq",
            """
            CREATE TABLE resource_version (
                patient_key \(t), type \(t), id \(t), version integer NOT NULL,
                seq bigint NOT NULL DEFAULT nextval('resource_seq'),
                last_updated bigint NOT NULL, deleted integer NOT NULL,
                compartments \(t), body bytea NOT NULL,
                PRIMARY KEY (patient_key, type, id, version),
                UNIQUE (patient_key, seq))
            """,
            "CREATE INDEX resource_version_seq ON resource_version (seq)",
            "CREATE INDEX resource_version_type ON resource_version (type, seq)",
            "CREATE INDEX resource_version_resource ON resource_version (type, id, version)",
            """
            CREATE TABLE resource (
                patient_key \(t), type \(t), id \(t), seq bigint NOT NULL, version integer NOT NULL,
                last_updated bigint NOT NULL, deleted integer NOT NULL,
                PRIMARY KEY (patient_key, type, id))
            """,
            "CREATE INDEX resource_type_id ON resource (type, id)",
            "CREATE INDEX resource_type_updated ON resource (type, last_updated)",
            // (type, id) → the patient key of the current version: reads by id find their shard here
            """
            CREATE TABLE resource_key (
                type \(t), id \(t), patient_key \(t), version integer NOT NULL,
                PRIMARY KEY (type, id))
            """,
            """
            CREATE TABLE compartment (
                patient_key \(t), type \(t), id \(t),
                PRIMARY KEY (patient_key, type, id))
            """,
            "CREATE INDEX compartment_resource ON compartment (type, id)",
        ]
        for kind in ["string", "token", "reference", "date", "number", "quantity", "uri"] {
            s.append("""
                CREATE TABLE search_\(kind) (
                    patient_key \(t), type \(t), id \(t), ord integer NOT NULL, param \(t),
                    system \(t), value \(t), text \(t), low double precision, high double precision,
                    PRIMARY KEY (patient_key, type, id, ord))
                """)
            s.append("CREATE INDEX search_\(kind)_resource ON search_\(kind) (type, id)")
        }
        s += [
            "CREATE INDEX search_string_value ON search_string (type, param, value)",
            "CREATE INDEX search_string_text ON search_string (type, param, text)",
            "CREATE INDEX search_token_value ON search_token (type, param, value, system)",
            "CREATE INDEX search_token_text ON search_token (type, param, text)",
            "CREATE INDEX search_reference_value ON search_reference (type, param, value, system)",
            "CREATE INDEX search_reference_target ON search_reference (system, value)",
            "CREATE INDEX search_reference_text ON search_reference (type, param, text)",
            "CREATE INDEX search_date_low ON search_date (type, param, low)",
            "CREATE INDEX search_date_high ON search_date (type, param, high)",
            "CREATE INDEX search_number_low ON search_number (type, param, low)",
            "CREATE INDEX search_quantity_value ON search_quantity (type, param, value, low)",
            "CREATE INDEX search_uri_value ON search_uri (type, param, value)",
            """
            CREATE TABLE search_composite (
                patient_key \(t), type \(t), id \(t), ord integer NOT NULL, param \(t),
                c0_system \(t), c0_value \(t), c0_text \(t), c0_low double precision, c0_high double precision,
                c1_system \(t), c1_value \(t), c1_text \(t), c1_low double precision, c1_high double precision,
                c2_system \(t), c2_value \(t), c2_text \(t), c2_low double precision, c2_high double precision,
                PRIMARY KEY (patient_key, type, id, ord))
            """,
            "CREATE INDEX search_composite_resource ON search_composite (type, id)",
            "CREATE INDEX search_composite_value ON search_composite (type, param, c0_value, c1_value)",
        ]
        return s
    }

    static let v2: [String] = [
        // the one gapless sequence of the ledger, shared by every node: a one-row counter
        // updated in the writing transaction (UPDATE … RETURNING)
        "CREATE TABLE audit_counter (id integer PRIMARY KEY CHECK (id = 1), next bigint NOT NULL)",
        "INSERT INTO audit_counter (id, next) VALUES (1, 0)",
        """
        CREATE TABLE audit_entry (
            idx bigint PRIMARY KEY, recorded bigint NOT NULL, patients \(t), bytes bytea NOT NULL)
        """,
        """
        CREATE TABLE audit_patient (
            patient_key \(t), idx bigint NOT NULL,
            PRIMARY KEY (patient_key, idx))
        """,
        """
        CREATE TABLE audit_tree_head (
            tree_size bigint PRIMARY KEY, root bytea NOT NULL, timestamp bigint NOT NULL, signature bytea NOT NULL)
        """,
    ]

    /// Tables holding patient-compartment rows: distributed by `patient_key` on Citus.
    public static let patientTables = ["resource_version", "resource", "compartment", "search_string", "search_token",
                                       "search_reference", "search_date", "search_number", "search_quantity", "search_uri",
                                       "search_composite", "audit_patient"]

    static func apply(_ session: Session, schema: String?) throws {
        try session.execute("BEGIN")
        do {
            // One lock per schema (class "enla", object the schema's hash): nodes sharing a schema
            // serialize; test schemas migrating side by side on one cluster do not.
            if let schema {
                try session.query("SELECT pg_advisory_xact_lock(\(lockClass), hashtext(?))", [.text(schema)])
            } else {
                try session.query("SELECT pg_advisory_xact_lock(\(lockClass), hashtext(current_schema()))")
            }
            // and the writers' lock, so no write is under way while tables change, and the outbox
            // barrier (`Transaction.outboxBarrier`) counts a migration that rewrites versions as a writer
            try session.query("SELECT pg_advisory_xact_lock(\(PostgresStore.writerLockClass), \(session.endpoint.writerLockObject))")
            if let schema { try session.execute("CREATE SCHEMA IF NOT EXISTS \(schema)") }
            try session.execute("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """)
            let applied = Set(try session.query("SELECT version FROM schema_migrations").map { try $0.int(0) })
            for m in all where !applied.contains(m.version) {
                for statement in m.statements { try session.execute(statement) }
                try session.query("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [.int(Int64(m.version)), .text(m.name)])
            }
            try session.execute("COMMIT")
        } catch {
            session.rollback()
            throw error
        }
    }
}
