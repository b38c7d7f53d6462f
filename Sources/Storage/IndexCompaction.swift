/// The schema change both backends apply as "compact-index" (SQLite migration `v5-compact-index`,
/// PostgreSQL version 5), bringing a database written before it to what the `Indexer` writes
/// now (docs/performance.md, "Index rows that say nothing new"):
///
/// - reference rows keep `text` only when it says more than `system`/`value`; the index on it
///   goes (`referenceURL` searches use `search_reference_value`);
/// - the token `:text` index covers only rows with a text (`WHERE text <> ''`, half of them);
/// - the rows of the union parameters (`UnionParameters`: Observation's `combo-*`) go — queries
///   read their parts' rows.
///
/// Plain SQL both databases run alike. The freed pages are reused by later writes; `VACUUM`
/// (SQLite) or `VACUUM FULL` (PostgreSQL) returns them to the file system.
public enum IndexCompaction {
    public static let statements: [String] = [
        "DROP INDEX search_reference_text",
        "UPDATE search_reference SET text = '' WHERE text <> '' AND (text = value OR text = system || '/' || value)",
        "DROP INDEX search_token_text",
        "CREATE INDEX search_token_text ON search_token (type, param, text) WHERE text <> ''",
        // UnionParameters.parts, by the table their rows were in
        "DELETE FROM search_token WHERE type = 'Observation' AND param IN ('combo-code', 'combo-data-absent-reason', 'combo-value-concept')",
        "DELETE FROM search_quantity WHERE type = 'Observation' AND param = 'combo-value-quantity'",
        "DELETE FROM search_composite WHERE type = 'Observation' AND param IN ('combo-code-value-concept', 'combo-code-value-quantity')",
    ]
}
