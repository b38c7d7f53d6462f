#!/usr/bin/env python3
"""Turns results.jsonl into the Markdown table of BENCHMARKS.md: each Enlace figure beside its
floor from the same run (the last row of each scenario wins)."""
import json
import sys


def main(path):
    last = {}
    for line in open(path):
        r = json.loads(line)
        key = r["scenario"]
        if key == "floor-http" or key == "read":
            key += ":%d" % r["connections"]
        if key == "search":
            key += ":" + r["query"]
        last[key] = r

    def g(k, *path, default=None):
        v = last.get(k)
        for p in path:
            if v is None:
                return default
            v = v.get(p)
        return v if v is not None else default

    def ratio(a, b):
        return "%.2f" % (a / b) if a and b else "–"

    def mb(x):
        return "%.0f MiB" % (x / 2 ** 20) if x else "–"

    rows = []
    fs = last.get("floor-storage", {})
    fh_kind = g("floor-http:64", "kind", default="?")
    b = last.get("bulk")
    if b:
        rows.append(("Bulk load (transaction Bundles, %d conns)" % b["connections"],
                     "%.0f res/s" % b["resources_per_s"],
                     "bundle p50/p95/p99 %s/%s/%s ms" % (b["bundle_latency"]["p50_ms"], b["bundle_latency"]["p95_ms"], b["bundle_latency"]["p99_ms"]),
                     "%.2f cores" % b["server_cores"], mb(b["peak_rss_bytes"]),
                     "SQLite inserts %.0f rows/s" % fs.get("insert_rows_per_s", 0),
                     ratio(b["resources_per_s"], fs.get("insert_rows_per_s"))))
        rows.append(("Bytes on disk per resource", "%.0f B" % b["bytes_per_resource"], "db %s, NDJSON %s (×%.2f)" % (mb(b["db_bytes"]), mb(b["ndjson_bytes"]), b["db_over_ndjson"]),
                     "", "", "SQLite raw rows %.0f B/row" % fs.get("bytes_per_row", 0), ratio(b["bytes_per_resource"], fs.get("bytes_per_row"))))
    im = last.get("import")
    if im:
        rows.append(("NDJSON import (`enlace import`, batches of 500)", "%.0f res/s" % im["resources_per_s"],
                     "%d resources in %.0f s; %.0f B/resource (×%.2f NDJSON)" % (im["resources"], im["wall_s"], im["bytes_per_resource"], im["db_over_ndjson"]),
                     "", "", "SQLite inserts %.0f rows/s" % fs.get("insert_rows_per_s", 0),
                     ratio(im["resources_per_s"], fs.get("insert_rows_per_s"))))
    c = last.get("crud")
    if c:
        f = g("floor-http:32", "rps")
        rows.append(("CRUD chain, 9 types, %d conns" % c["connections"], "%.0f req/s" % c["rps"],
                     "%s/%s/%s ms" % (c["p50_ms"], c["p95_ms"], c["p99_ms"]), "%.2f cores" % c["server_cores"], mb(c["peak_rss_bytes"]),
                     "HTTP %s @32: %.0f req/s" % (fh_kind, f or 0), ratio(c["rps"], f)))
    for n in (1, 8, 64):
        r = last.get("read:%d" % n)
        if r:
            f = g("floor-http:%d" % n, "rps")
            rows.append(("Read Patient/{id}, %d conn" % n, "%.0f req/s" % r["rps"], "%s/%s/%s ms" % (r["p50_ms"], r["p95_ms"], r["p99_ms"]),
                         "%.2f cores" % r.get("server_cores", 0), mb(r.get("peak_rss_bytes")),
                         "HTTP %s @%d: %.0f req/s" % (fh_kind, n, f or 0), ratio(r["rps"], f)))
    for q in ("token", "date", "count", "count_all", "include"):
        s = last.get("search:" + q)
        if not s:
            continue
        if "error" in s:
            rows.append(("Search %s" % q, "HTTP %s" % s["error"], "", "", "", "", ""))
            continue
        one, many = s["single"], s["loaded"]
        if one.get("errors") or many.get("errors"):
            rows.append(("Search %s" % q, "%.1f req/s @%d (%d errors)" % (many["rps"], many["connections"], many["errors"] + one.get("errors", 0)),
                         "@%d p50 %s ms" % (many["connections"], many["p50_ms"]), "", "", "", ""))
            continue
        floor = {"token": ("SQLite indexed select p50 %.2f ms" % g("floor-storage", "token_select", "p50_ms", default=0), g("floor-storage", "token_select", "p50_ms")),
                 "count_all": ("SQLite count(*) %.2f ms" % g("floor-storage", "count_ms", default=0), g("floor-storage", "count_ms"))}.get(q, ("HTTP @8: %.0f req/s" % (g("floor-http:8", "rps") or 0), None))
        rat = ratio(one["p50_ms"], floor[1]) if floor[1] else ratio(many["rps"], g("floor-http:8", "rps"))
        rows.append(("Search %s (%s of %s res)" % (q, s["first_result_total"], s["resources"]),
                     "%.0f req/s @%d" % (many["rps"], many["connections"]),
                     "1 conn p50/p99 %s/%s ms; @%d p99 %s ms" % (one["p50_ms"], one["p99_ms"], many["connections"], many["p99_ms"]),
                     "%.2f cores" % many.get("server_cores", 0), mb(s.get("peak_rss_bytes")), floor[0], rat))
    w = last.get("wearable")
    if w:
        rows.append(("Wearable ingest (%d devices, %d obs/batch, %d conns)" % (w["devices"], w["batch"], w["connections"]),
                     "%.0f obs/s" % w["observations_per_s"], "batch %s/%s/%s ms" % (w["p50_ms"], w["p95_ms"], w["p99_ms"]),
                     "%.2f cores" % w["server_cores"], mb(w["peak_rss_bytes"]),
                     "SQLite inserts %.0f rows/s" % fs.get("insert_rows_per_s", 0), ratio(w["observations_per_s"], fs.get("insert_rows_per_s"))))
    e = last.get("everything")
    if e:
        floor_ms = e["returned"] / fs["select_per_s"] * 1000 if fs.get("select_per_s") else None
        rows.append(("Patient/$everything (%d resources, %d pages)" % (e["returned"], e["pages"]),
                     "%.0f res/s" % e["resources_per_s"], "whole p50 %s ms, page p50 %s ms" % (e["whole"]["p50_ms"], e["page"]["p50_ms"]),
                     "%.2f cores" % e["server_cores"], mb(e["peak_rss_bytes"]),
                     "SQLite %d point selects %.0f ms" % (e["returned"], floor_ms or 0),
                     "%.1f× slower" % (e["whole"]["p50_ms"] / floor_ms) if floor_ms else "–"))
    print("| Scenario | Enlace | Latency | Server CPU | Peak RSS | Floor (same run) | Enlace / floor |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print("| " + " | ".join(str(x) for x in r) + " |")
    s = last.get("summary")
    if s:
        print("\nServer peak RSS over the whole run: %s; database: %s; run took %.0f s." % (mb(s["peak_rss_bytes"]), mb(s["db_bytes"]), s["total_s"]))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/enlace-bench/results.jsonl")
