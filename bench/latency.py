#!/usr/bin/env python3
"""Single-connection latency of the search shapes that matter, on a data directory already
loaded (e.g. by `enlace import` of bench/generate.py's NDJSON):

    python3 bench/generate.py --patients 2000 --out /tmp/pop
    .build/release/enlace import --data /tmp/lat /tmp/pop/ndjson/*.ndjson
    python3 bench/latency.py --data /tmp/lat [--bin .build/release/enlace] [--requests 30]
    python3 bench/latency.py --data /tmp/key --database postgres://… --patient ID   # on PostgreSQL

It starts `enlace serve` on that directory, picks the patient with the most Observations (read
from the SQLite file), sends each query --requests times one after another with an operator
token, and prints p50/p90 in milliseconds (and appends them to $BENCH_RESULTS).
"""
import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import enlace_binary, free_port, record  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--bin", default=enlace_binary())
    ap.add_argument("--requests", type=int, default=30)
    ap.add_argument("--database", help="PostgreSQL URL (the data directory then only holds the signing key)")
    ap.add_argument("--patient", help="the patient id to query (default: the one with most Observations, from the SQLite file)")
    a = ap.parse_args()
    pid = a.patient
    if pid is None:
        db = sqlite3.connect(os.path.join(a.data, "enlace.sqlite"))
        pid = db.execute("SELECT value FROM search_reference WHERE type = 'Observation' AND param = 'patient' "
                         "GROUP BY value ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        db.close()
    port = str(free_port())
    extra = ["--database", a.database] if a.database else []
    server = subprocess.Popen([a.bin, "serve", "--data", a.data, "--port", port] + extra, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except Exception:
                time.sleep(0.1)
        token = subprocess.run([a.bin, "token", "--data", a.data, "--port", port] + extra, capture_output=True, text=True, check=True).stdout.strip()
        queries = {
            "token code+patient": f"/Observation?code=http://loinc.org|8867-4&patient=Patient/{pid}",
            "date range+patient": f"/Observation?patient=Patient/{pid}&date=ge2024-01-01&date=lt2025-07-01",
            "compartment+code": f"/Patient/{pid}/Observation?code=http://loinc.org|8867-4",
            "include x2": f"/Encounter?patient=Patient/{pid}&_include=Encounter:participant&_include=Encounter:service-provider",
            "count with a code": "/Observation?code=http://loinc.org|8867-4&_summary=count",
            "code only, page of 20": "/Observation?code=http://loinc.org|8867-4&_count=20",
        }
        print(f"{'query':24s} {'total':>7s} {'p50 ms':>8s} {'p90 ms':>8s}")
        for name, q in queries.items():
            lat, total = [], None
            for _ in range(a.requests):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/fhir{q}",
                                             headers={"Authorization": "Bearer " + token, "Accept": "application/fhir+json"})
                t = time.perf_counter()
                with urllib.request.urlopen(req) as r:
                    total = json.loads(r.read()).get("total")
                lat.append((time.perf_counter() - t) * 1000)
            lat.sort()
            p50, p90 = statistics.median(lat), lat[int(len(lat) * 0.9)]
            print(f"{name:24s} {str(total):>7s} {p50:8.1f} {p90:8.1f}")
            record("latency", query=name, url=q, total=total, p50_ms=round(p50, 2), p90_ms=round(p90, 2), requests=a.requests)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
