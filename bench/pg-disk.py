#!/usr/bin/env python3
"""Bytes on disk per resource of a PostgreSQL database (issue 19), reproducibly:

    python3 bench/pg-disk.py --database postgres://… [--patients 300] [--schema bench_disk] [--label before]

Generates `bench/generate.py --patients N --seed 42` (once, into $BENCH_WORK/data-N), drops and
recreates SCHEMA, runs `enlace import --database URL?schema=SCHEMA` of the NDJSON files (the
binary: $ENLACE_BIN, else .build/debug/enlace), then `VACUUM (ANALYZE)` of every table and reads
per table `pg_relation_size` (heap), the TOAST relation with its index, and `pg_indexes_size`.
Prints a table and appends one JSON line to $BENCH_RESULTS (scenario "pg-disk"). Needs `psql`.

Bytes per resource divide by the NDJSON's resources (as bench.py's SQLite figures do); the
per-resource Provenances the import writes are in the bytes, and in the "versions" count.
`--reindex` also measures after `REINDEX SCHEMA` (the B-trees rebuilt full, as after a restore).
`--keep` leaves the schema in place (to look at it, or to try a migration on it: `--only-measure`
measures an existing schema without importing, e.g. after `VACUUM FULL`).
CHECKPOINT is not run: it needs a superuser, and the sizes read here are the relations' files,
which do not wait for a checkpoint.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as gen  # noqa: E402
from lib import ROOT, WORK, log, record  # noqa: E402


def psql(url, sql):
    p = subprocess.run(["psql", url, "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("psql: %s\n%s" % (sql[:200], p.stderr))
    return [line.split("\t") for line in p.stdout.splitlines() if line]


def with_schema(url, schema):
    return url + ("&" if "?" in url else "?") + "schema=" + schema


def measure(url, schema):
    tables = [r[0] for r in psql(url, "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                                      "WHERE n.nspname = '%s' AND c.relkind = 'r' ORDER BY 1" % schema)]
    for t in tables:
        psql(url, "VACUUM (ANALYZE) %s.%s" % (schema, t))
    rows = psql(url, """
        SELECT c.relname, pg_relation_size(c.oid), COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
               pg_indexes_size(c.oid), pg_total_relation_size(c.oid), c.reltuples::bigint
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC""" % schema)
    per_table = [dict(table=r[0], heap=int(r[1]), toast=int(r[2]), indexes=int(r[3]), total=int(r[4]), rows=int(r[5]))
                 for r in rows]
    indexes = [dict(index=r[0], table=r[1], bytes=int(r[2])) for r in psql(url, """
        SELECT i.relname, t.relname, pg_relation_size(i.oid)
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = '%s' ORDER BY 3 DESC""" % schema)]
    b = psql(url, """
        SELECT count(*), COALESCE(sum(octet_length(body)), 0), COALESCE(sum(pg_column_size(body)), 0),
               count(*) FILTER (WHERE pg_column_compression(body) IS NOT NULL),
               COALESCE(percentile_disc(0.5) WITHIN GROUP (ORDER BY octet_length(body)), 0),
               count(*) FILTER (WHERE octet_length(body) > 2000)
        FROM %s.resource_version""" % schema)[0]
    bodies = dict(versions=int(b[0]), plain_bytes=int(b[1]), stored_bytes=int(b[2]), compressed=int(b[3]),
                  median_plain=int(b[4]), over_2000=int(b[5]))
    settings = psql(url, """
        SELECT c.relname, COALESCE(array_to_string(c.reloptions, ','), ''),
               COALESCE((SELECT a.attcompression::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'body'), '')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relname = 'resource_version'""" % schema)
    return per_table, indexes, bodies, (settings[0][1:] if settings else ["", ""])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", default=os.environ.get("ENLACE_TEST_DATABASE_URL") or os.environ.get("ENLACE_DATABASE_URL"))
    ap.add_argument("--patients", type=int, default=int(os.environ.get("BENCH_PATIENTS", "300")))
    ap.add_argument("--schema", default="bench_disk")
    ap.add_argument("--label", default="")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--reindex", action="store_true")
    ap.add_argument("--only-measure", action="store_true")
    a = ap.parse_args()
    if not a.database:
        raise SystemExit("pg-disk: --database URL (or ENLACE_TEST_DATABASE_URL)")
    if not re.fullmatch(r"[a-z0-9_]+", a.schema):
        raise SystemExit("pg-disk: the schema must be lowercase letters, digits and _")
    data = os.path.join(WORK, "data-%d" % a.patients)
    if not os.path.exists(os.path.join(data, "manifest.json")):
        log("generating %d patients into %s" % (a.patients, data))
        gen.generate(data, a.patients, seed=42, per_bundle=4)
    m = json.load(open(os.path.join(data, "manifest.json")))
    files = sorted(os.path.join(data, "ndjson", f) for f in os.listdir(os.path.join(data, "ndjson")) if f.endswith(".ndjson"))
    ndjson = sum(os.path.getsize(f) for f in files)
    binary = os.environ.get("ENLACE_BIN") or os.path.join(ROOT, ".build", "debug", "enlace")
    wall, imported = 0.0, None
    if not a.only_measure:
        psql(a.database, "DROP SCHEMA IF EXISTS %s CASCADE" % a.schema)
        log("import: %d files, %d resources, %d bytes of NDJSON, into schema %s" % (len(files), m["resources"], ndjson, a.schema))
        t0 = time.time()
        p = subprocess.run([binary, "import", "--database", with_schema(a.database, a.schema)] + files,
                           capture_output=True, text=True)
        wall = time.time() - t0
        if p.returncode != 0:
            raise SystemExit("import failed (%d): %s %s" % (p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        found = re.search(r"imported (\d+) resources", p.stdout)
        imported = int(found.group(1)) if found else None
    versions = int(psql(a.database, "SELECT count(*) FROM %s.resource" % a.schema)[0][0])
    resources = imported or m["resources"]
    rows = []
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    for phase in (["as imported", "reindexed"] if a.reindex else ["as imported"]):
        if phase == "reindexed":
            psql(a.database, "REINDEX SCHEMA %s" % a.schema)
        per_table, indexes, bodies, settings = measure(a.database, a.schema)
        total = sum(t["total"] for t in per_table)
        print("== %s%s" % (phase, (" (" + a.label + ")") if a.label else ""))
        print("%-18s %12s %12s %12s %12s %10s" % ("table", "heap", "toast", "indexes", "total", "rows"))
        for t in per_table:
            print("%-18s %12d %12d %12d %12d %10d" % (t["table"], t["heap"], t["toast"], t["indexes"], t["total"], t["rows"]))
        print("%-18s %12d %12d %12d %12d" % ("all", sum(t["heap"] for t in per_table), sum(t["toast"] for t in per_table),
                                              sum(t["indexes"] for t in per_table), total))
        print("bodies: %d versions, %d bytes plain, %d stored (%d compressed), median %d, %d over 2,000 bytes"
              % (bodies["versions"], bodies["plain_bytes"], bodies["stored_bytes"], bodies["compressed"], bodies["median_plain"], bodies["over_2000"]))
        print("resource_version: reloptions [%s], body compression '%s'" % tuple(settings))
        print("%d resources (%d versions with the Provenances), NDJSON %d bytes: %.0f bytes per resource, %.2f x the NDJSON (import %.1f s)"
              % (resources, versions, ndjson, total / resources, total / ndjson, wall))
        rows.append(record("pg-disk", label=a.label, phase=phase, commit=commit, binary=binary, patients=a.patients, resources=resources, versions=versions,
                           ndjson_bytes=ndjson, db_bytes=total, bytes_per_resource=round(total / resources, 1),
                           db_over_ndjson=round(total / ndjson, 3), import_wall_s=round(wall, 1), tables=per_table,
                           indexes=indexes, bodies=bodies, reloptions=settings[0], body_compression=settings[1]))
    if not a.keep and not a.only_measure:
        psql(a.database, "DROP SCHEMA %s CASCADE" % a.schema)


if __name__ == "__main__":
    main()
