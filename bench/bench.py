#!/usr/bin/env python3
"""Enlace benchmark scenarios. `bench/run` calls this; each scenario also runs alone:

    python3 bench/bench.py floor-http | floor-storage | bulk | import | crud | read | search | wearable | everything | all

Sizes and durations come from environment variables (defaults in parentheses):
  BENCH_PATIENTS (2000)    patients generated and bulk-loaded (~65 resources each)
  BENCH_BULK_CONNS (2)     concurrent transaction uploads
  BENCH_SECONDS (15)       seconds per wrk / steady-state run
  BENCH_CRUD_CONNS (32)    connections of the CRUD chain
  BENCH_DEVICES (10000)    simulated wearable devices, BENCH_WEARABLE_BATCH (20) Observations per batch
  BENCH_EVERYTHING (5000)  resources in the $everything patient's compartment
  BENCH_FLOOR (hummingbird|healthz) which HTTP floor
Results are appended to $BENCH_RESULTS (default /tmp/enlace-bench/results.jsonl).
"""
import asyncio
import glob
import json
import os
import random
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate as gen  # noqa: E402
from lib import (BENCH, WORK, CPUWindow, Server, drive, latency_fields, log, record, timed, wrk,  # noqa: E402
                 duration, free_port, proc_peak_rss, proc_cpu_seconds, dir_bytes, pct)

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "2000"))
SECONDS = int(duration("BENCH_SECONDS", 15))
DATA = os.path.join(WORK, "data-%d" % PATIENTS)


def dataset():
    if not os.path.exists(os.path.join(DATA, "manifest.json")):
        log("generating %d patients into %s" % (PATIENTS, DATA))
        gen.generate(DATA, PATIENTS, seed=42, per_bundle=4)
    return json.load(open(os.path.join(DATA, "manifest.json")))


# ============================================================================================
# floors

def floor_http_server():
    """The HTTP floor: bench/floor (bare Hummingbird hello) if built, else the server's /healthz."""
    which = os.environ.get("BENCH_FLOOR", "hummingbird")
    binary = os.path.join(BENCH, "floor", ".build", "release", "floor")
    if which == "hummingbird" and os.path.exists(binary):
        port = free_port()
        p = subprocess.Popen([binary, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                import urllib.request
                urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=1).read()
                break
            except Exception:
                time.sleep(0.1)
        return "hummingbird-hello", "http://127.0.0.1:%d/" % port, p
    return None, None, None


def floor_http(conns_list=(1, 8, 32, 64)):
    kind, url, p = floor_http_server()
    out = {}
    try:
        if p is None:
            s = Server().start()
            kind, url, p = "enlace-healthz", "http://127.0.0.1:%d/healthz" % s.port, s.proc
        for c in conns_list:
            r = wrk(url, c, SECONDS, pid=p.pid)
            r["peak_rss_bytes"] = proc_peak_rss(p.pid)
            out[c] = record("floor-http", kind=kind, **r)
    finally:
        p.terminate()
        p.wait()
    return out


def floor_storage():
    """The storage floor: the same NDJSON rows straight into SQLite (WAL, synchronous=FULL), one
    transaction per bundle's worth of rows; then point selects, an indexed token select and a count."""
    m = dataset()
    path = os.path.join(WORK, "floor-%d.sqlite" % os.getpid())
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE resource(type TEXT, id TEXT, version INT, patient TEXT, code TEXT, date TEXT, json BLOB, PRIMARY KEY(type, id))")
    db.execute("CREATE INDEX obs_code ON resource(patient, code, date)")
    rows = []
    for f in sorted(glob.glob(os.path.join(DATA, "ndjson", "*.ndjson"))):
        for line in open(f, encoding="utf-8"):
            r = json.loads(line)
            subj = (r.get("subject") or r.get("patient") or r.get("beneficiary") or {}).get("reference")
            code = ((r.get("code") or {}).get("coding") or [{}])[0].get("code")
            rows.append((r["resourceType"], r["id"], 1, subj, code, r.get("effectiveDateTime"), line.encode()))
    per = max(1, m["resources"] // max(1, m["bundles"]))
    t0 = time.perf_counter()
    for i in range(0, len(rows), per):
        db.execute("BEGIN")
        db.executemany("INSERT INTO resource VALUES (?,?,?,?,?,?,?)", rows[i:i + per])
        db.execute("COMMIT")
    ins = time.perf_counter() - t0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
    ids = [(r[0], r[1]) for r in rows]
    rnd = random.Random(1)
    lat = []
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < min(SECONDS, 5):
        t = time.perf_counter()
        db.execute("SELECT json FROM resource WHERE type=? AND id=?", rnd.choice(ids)).fetchone()
        lat.append(time.perf_counter() - t)
        n += 1
    sel = time.perf_counter() - t0
    obs = [(r[3], r[4]) for r in rows if r[0] == "Observation"]
    tok = []
    for _ in range(500):
        p, c = rnd.choice(obs)
        t = time.perf_counter()
        db.execute("SELECT json FROM resource WHERE patient=? AND code=?", (p, c)).fetchall()
        tok.append(time.perf_counter() - t)
    t = time.perf_counter()
    db.execute("SELECT count(*) FROM resource WHERE type='Observation'").fetchone()
    count_ms = (time.perf_counter() - t) * 1000
    db.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return record("floor-storage", rows=len(rows), rows_per_txn=per, insert_rows_per_s=round(len(rows) / ins, 1),
                  bytes_per_row=round(size / len(rows), 1), db_bytes=size, ndjson_bytes=m["ndjsonBytes"],
                  select_per_s=round(n / sel, 1), select=latency_fields(lat),
                  token_select=latency_fields(tok), count_ms=round(count_ms, 3))


# ============================================================================================
# bulk load

async def _post_bundles(server, files, conns):
    h = server.headers()
    patient_ids = []

    async def worker(c, i):
        if i >= len(files):
            return []
        body = open(files[i], "rb").read()
        lat, status, _, data = await timed(c, "POST", "/fhir", body, h)
        if status != 200:
            raise RuntimeError("bundle %s: %d %s" % (files[i], status, data[:2000]))
        for e in json.loads(data)["entry"]:
            loc = e["response"].get("location", "")
            if loc.startswith("Patient/"):
                patient_ids.append(loc.split("/")[1])
        return [(lat, status)]

    lat, st, done, wall = await drive(server.port, conns, worker, total=len(files))
    return lat, st, wall, patient_ids


def bulk(server=None):
    m = dataset()
    own = server is None
    server = server or Server().start()
    status, _ = server.request("POST", "", open(os.path.join(DATA, "shared.json"), "rb").read())
    assert status == 200, status
    files = sorted(glob.glob(os.path.join(DATA, "bundles", "*.json")))
    conns = int(os.environ.get("BENCH_BULK_CONNS", "2"))
    db0 = server.db_bytes()
    log("bulk: %d bundles, %d resources, %d connections" % (len(files), m["resources"], conns))
    with CPUWindow(server.pid) as w:
        lat, st, wall, pids = asyncio.run(_post_bundles(server, files, conns))
    resources = m["resources"] - m["counts"].get("Organization", 0) - m["counts"].get("Practitioner", 0)
    # durable size: what is on disk after the run (WAL included), per resource stored
    db = server.db_bytes()
    main_db = sum(os.path.getsize(f) for f in glob.glob(os.path.join(server.data_dir, "**", "*.sqlite"), recursive=True))
    row = record("bulk", db_main_file_bytes=main_db, patients=PATIENTS, bundles=len(files), resources=resources, connections=conns,
                 resources_per_s=round(resources / w.wall, 1), bundle_latency=latency_fields(lat), statuses=st,
                 db_bytes=db, db_bytes_empty=db0, bytes_per_resource=round(db / m["resources"], 1),
                 ndjson_bytes=m["ndjsonBytes"], db_over_ndjson=round(db / m["ndjsonBytes"], 2),
                 peak_rss_bytes=server.peak_rss(), **w.fields())
    with open(os.path.join(WORK, "patients.json"), "w") as f:
        json.dump(pids, f)
    if own:
        server.stop()
    return row, pids


def ndjson_import():
    """`enlace import` of the generated Bulk Data NDJSON into an empty data directory (same
    validation, indexing, Provenance and audit as the API; transactions of 500 resources)."""
    import re
    import tempfile
    from lib import enlace_binary
    m = dataset()
    d = tempfile.mkdtemp(prefix="enlace-import-", dir=WORK)
    files = sorted(glob.glob(os.path.join(DATA, "ndjson", "*.ndjson")))
    log("import: %d NDJSON files, %d resources" % (len(files), m["resources"]))
    t0 = time.time()
    p = subprocess.run([enlace_binary(), "import", "--data", d] + files, capture_output=True, text=True)
    wall = time.time() - t0
    found = re.search(r"imported (\d+) resources", p.stdout)
    n = int(found.group(1)) if found else 0
    db = dir_bytes(d)
    return record("import", patients=PATIENTS, files=len(files), resources=n, exit_status=p.returncode, wall_s=round(wall, 1),
                  resources_per_s=round(n / wall, 1) if wall else 0, db_bytes=db, bytes_per_resource=round(db / max(n, 1), 1),
                  ndjson_bytes=m["ndjsonBytes"], db_over_ndjson=round(db / m["ndjsonBytes"], 2))


def loaded_server():
    s = Server().start()
    _, pids = bulk(s)
    return s, pids


# ============================================================================================
# CRUD chain: create -> read -> update -> delete over 9 types

def crud_templates(patient_id):
    pref = {"reference": "Patient/" + patient_id}
    r = random.Random(7)
    pop = gen.Population(7)
    p = pop.patient(wearable_days=0)
    kinds = {}
    for _, res in p:
        kinds.setdefault(res["resourceType"], res)
    when = gen.NOW
    t = {
        "Patient": kinds["Patient"],
        "Practitioner": pop.shared()[20],
        "Organization": pop.shared()[5],
        "Encounter": kinds["Encounter"],
        "Condition": {"resourceType": "Condition", "code": gen.codeable(gen.ICD10, "E11.9", "Diabetes mellitus tipo 2"),
                      "clinicalStatus": gen.codeable("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                      "subject": pref, "onsetDateTime": gen.iso(when)},
        "Observation": gen.wearable_obs(r, pref, None, when, gen.WEARABLE[0]),
        "MedicationRequest": {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                              "medicationCodeableConcept": gen.codeable(gen.CNIS_MEDS, "010.000.5165.00", "Metformina 850 mg tableta"),
                              "subject": pref, "authoredOn": gen.iso(when)},
        "Procedure": gen.procedure(pref, "80146002", "Apendicectomía", when),
        "AllergyIntolerance": gen.allergy(pref, "764146007", "Penicilina"),
    }
    t["Observation"].pop("device")
    out = {}
    for k, v in t.items():
        v = json.loads(json.dumps(v).replace("urn:uuid:", "Patient/") if k != "Patient" else json.dumps(v))
        v.pop("id", None)
        for key in ("subject", "patient"):
            if key in v:
                v[key] = pref
        v.pop("encounter", None)
        v.pop("serviceProvider", None)
        v.pop("participant", None)
        v.pop("partOf", None)
        if k == "Patient":
            # one active Patient per CURP (docs/interop.md): 32 chains creating the same CURP at
            # once collided (409) — the chain's Patients carry none
            v["identifier"] = [i for i in v.get("identifier", []) if "curp" not in i.get("system", "").lower()]
            if not v["identifier"]:
                del v["identifier"]
        out[k] = v
    return out


def crud(server=None, pids=None):
    own = server is None
    if own:
        server = Server().start()
        st, body = server.request("POST", "/Patient", crud_templates("x")["Patient"])
        if st != 201:
            sys.exit("bench crud: creating its Patient failed: %s %s" % (st, json.dumps(body)[:500]))
        pids = [body["id"]]
    conns = int(os.environ.get("BENCH_CRUD_CONNS", "32"))
    h = server.headers()
    templates = crud_templates(pids[0])
    types = list(templates)
    bodies = {k: json.dumps(v).encode() for k, v in templates.items()}
    per_op = {"create": [], "read": [], "update": [], "delete": []}
    bad = []

    async def worker(c, i):
        t = types[i % len(types)]
        out = []
        lat, s, hd, data = await timed(c, "POST", "/fhir/" + t, bodies[t], h)
        if s != 201:
            bad.append((t, "create", s, data[:300]))
            return [(lat, s)]
        per_op["create"].append(lat)
        out.append((lat, s))
        rid = json.loads(data)["id"]
        lat, s, hd, data = await timed(c, "GET", "/fhir/%s/%s" % (t, rid), b"", h)
        per_op["read"].append(lat)
        out.append((lat, s))
        upd = json.loads(data)
        upd.setdefault("meta", {})
        upd["language"] = "es-MX"
        lat, s, hd, data = await timed(c, "PUT", "/fhir/%s/%s" % (t, rid), json.dumps(upd).encode(), h)
        if s != 200:
            bad.append((t, "update", s, data[:300]))
        per_op["update"].append(lat)
        out.append((lat, s))
        lat, s, hd, data = await timed(c, "DELETE", "/fhir/%s/%s" % (t, rid), b"", h)
        per_op["delete"].append(lat)
        out.append((lat, s))
        return out

    with CPUWindow(server.pid) as w:
        lat, st, chains, wall = asyncio.run(drive(server.port, conns, worker, duration=SECONDS))
    if bad:
        log("crud failures (first 3):", bad[:3])
    row = record("crud", connections=conns, chains=chains, requests=len(lat), rps=round(len(lat) / wall, 1),
                 statuses=st, failures=len(bad), **latency_fields(lat),
                 per_op={k: latency_fields(v) for k, v in per_op.items()},
                 peak_rss_bytes=server.peak_rss(), db_bytes=server.db_bytes(), **w.fields())
    if own:
        server.stop()
    return row


# ============================================================================================
# single-resource read at 1, 8, 64 connections (wrk)

def read(server=None, pids=None):
    own = server is None
    if own:
        server, pids = loaded_server()
    ids = pids[:2000]
    with open(os.path.join(WORK, "read-ids.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    rows = {}
    for c in (1, 8, 64):
        r = wrk(server.base + "/Patient/" + ids[0], c, SECONDS, lua="read.lua",
                headers={"Authorization": "Bearer " + server.token, "Accept": "application/fhir+json"},
                env={"BENCH_IDS": os.path.join(WORK, "read-ids.txt")}, pid=server.pid)
        r["peak_rss_bytes"] = server.peak_rss()
        rows[c] = record("read", **r)
    if own:
        server.stop()
    return rows


# ============================================================================================
# search

def search(server=None, pids=None):
    own = server is None
    if own:
        server, pids = loaded_server()
    st, b = server.request("GET", "/Observation?_summary=count")
    total_obs = b.get("total")
    # a heavy patient makes the data set larger: the default scales 1 M down, see BENCHMARKS.md
    queries = {
        "token": "/Observation?code=http://loinc.org|8867-4&patient=Patient/{pid}",
        "date": "/Observation?patient=Patient/{pid}&date=ge2024-01-01&date=lt2025-07-01",
        "count": "/Observation?code=http://loinc.org|8867-4&_summary=count",
        "count_all": "/Observation?_summary=count",
        "include": "/Encounter?patient=Patient/{pid}&_include=Encounter:participant&_include=Encounter:service-provider",
    }
    rows = {}
    with open(os.path.join(WORK, "read-ids.txt"), "w") as f:
        f.write("\n".join(pids[:2000]) + "\n")
    for name, q in queries.items():
        st, b = server.request("GET", q.format(pid=pids[0]))
        if st != 200:
            log("search %s failed: %s %s" % (name, st, json.dumps(b)[:500]))
            rows[name] = record("search", query=name, error=st)
            continue
        n = b.get("total", len(b.get("entry", [])))
        conns = int(os.environ.get("BENCH_SEARCH_CONNS", "8"))
        r = wrk(server.base + q.format(pid=pids[0]), conns, max(5, SECONDS // 2), lua="search.lua",
                headers={"Authorization": "Bearer " + server.token, "Accept": "application/fhir+json"},
                env={"BENCH_IDS": os.path.join(WORK, "read-ids.txt"), "BENCH_QUERY": q}, pid=server.pid)
        # unloaded latency: 1 connection
        r1 = wrk(server.base + q.format(pid=pids[0]), 1, max(3, SECONDS // 4), lua="search.lua",
                 headers={"Authorization": "Bearer " + server.token, "Accept": "application/fhir+json"},
                 env={"BENCH_IDS": os.path.join(WORK, "read-ids.txt"), "BENCH_QUERY": q}, pid=server.pid)
        rows[name] = record("search", query=name, url=q, first_result_total=n, observations=total_obs,
                            resources=_total(server), loaded=r, single=r1, peak_rss_bytes=server.peak_rss())
    if own:
        server.stop()
    return rows


def _total(server):
    n = 0
    for t in ("Patient", "Observation", "Encounter", "Condition", "Immunization", "MedicationRequest", "Coverage", "Device"):
        st, b = server.request("GET", "/%s?_summary=count" % t)
        n += (b or {}).get("total", 0)
    return n


# ============================================================================================
# wearable ingest: batches of Observations from many devices

def wearable(server=None, pids=None):
    own = server is None
    if own:
        server, pids = loaded_server()
    devices = int(os.environ.get("BENCH_DEVICES", "10000"))
    batch = int(os.environ.get("BENCH_WEARABLE_BATCH", "20"))
    conns = int(os.environ.get("BENCH_WEARABLE_CONNS", "16"))
    h = server.headers()
    r = random.Random(3)
    dev_patients = [pids[i % len(pids)] for i in range(devices)]
    seq = [0] * devices

    def body(d):
        pref = {"reference": "Patient/" + dev_patients[d]}
        t0 = gen.NOW + __import__("datetime").timedelta(minutes=5 * seq[d])
        seq[d] += 1
        entries = []
        for k in range(batch):
            o = gen.wearable_obs(r, pref, None, t0 + __import__("datetime").timedelta(seconds=15 * k), gen.WEARABLE[k % 4])
            o.pop("device")
            o["identifier"] = [{"system": "urn:enlace:device:WR-%06d" % d, "value": "%d-%d" % (seq[d], k)}]
            entries.append({"resource": o, "request": {"method": "POST", "url": "Observation"}})
        return json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}).encode()

    bodies = []

    async def worker(c, i):
        d = i % devices
        lat, s, _, data = await timed(c, "POST", "/fhir", body(d), h)
        if s != 200:
            raise RuntimeError("wearable batch: %d %s" % (s, data[:1000]))
        return [(lat, s)]

    with CPUWindow(server.pid) as w:
        lat, st, done, wall = asyncio.run(drive(server.port, conns, worker, duration=SECONDS))
    row = record("wearable", devices=devices, batch=batch, connections=conns, batches=done,
                 observations_per_s=round(done * batch / wall, 1), batches_per_s=round(done / wall, 1),
                 statuses=st, **latency_fields(lat), peak_rss_bytes=server.peak_rss(), db_bytes=server.db_bytes(), **w.fields())
    if own:
        server.stop()
    return row


# ============================================================================================
# Patient/$everything for a patient with thousands of resources

def everything(server=None, pids=None):
    own = server is None
    if own:
        server = Server().start()
        server.request("POST", "", open(os.path.join(dataset() and DATA, "shared.json"), "rb").read())
    n = int(os.environ.get("BENCH_EVERYTHING", "5000"))
    pop = gen.Population(99)
    days = max(1, n // (24 * 4))
    items = pop.patient(wearable_days=days)
    # load in transactions of <= 1000 entries: the first holds the Patient (and its Device)
    head = [x for x in items if x[1]["resourceType"] in ("Patient", "Device", "Encounter")]
    st, b = server.request("POST", "", gen.transaction(head))
    assert st == 200, (st, json.dumps(b)[:800])
    ids = {}
    for (rid, res), e in zip(head, b["entry"]):
        ids[rid] = e["response"]["location"].split("/_history")[0]
    rest = [x for x in items if x not in head]
    for i in range(0, len(rest), 900):
        chunk = rest[i:i + 900]
        bundle = json.dumps(gen.transaction(chunk))
        for rid, ref in ids.items():
            bundle = bundle.replace('"urn:uuid:%s"' % rid, json.dumps(ref))
        st, b = server.request("POST", "", bundle.encode())
        assert st == 200, (st, json.dumps(b)[:800])
    pid = [v for v in ids.values() if v.startswith("Patient/")][0]
    st, b = server.request("GET", "/%s/$everything?_summary=count" % pid)
    h = server.headers()
    sizes = []

    async def worker(c, i):
        out = []
        url = "/fhir/%s/$everything?_count=1000" % pid
        got = 0
        t_all = time.perf_counter()
        while url:
            lat, s, _, data = await timed(c, "GET", url, b"", h)
            if s != 200:
                raise RuntimeError("$everything: %d %s" % (s, data[:500]))
            out.append((lat, s))
            j = json.loads(data)
            got += len(j.get("entry", []))
            nxt = [l["url"] for l in j.get("link", []) if l["relation"] == "next"]
            if nxt:
                u = __import__("urllib.parse").parse.urlsplit(nxt[0])
                url = u.path + ("?" + u.query if u.query else "")
            else:
                url = None
        sizes.append((got, time.perf_counter() - t_all))
        return out

    runs = int(os.environ.get("BENCH_EVERYTHING_RUNS", "5"))
    with CPUWindow(server.pid) as w:
        lat, st, done, wall = asyncio.run(drive(server.port, 1, worker, total=runs))
    whole = [s[1] for s in sizes]
    row = record("everything", resources=len(items), returned=sizes[0][0], runs=runs, pages=len(lat) // runs,
                 whole=latency_fields(whole), page=latency_fields(lat),
                 resources_per_s=round(sizes[0][0] / pct(whole, 50), 1),
                 peak_rss_bytes=server.peak_rss(), **w.fields())
    if own:
        server.stop()
    return row


# ============================================================================================

def all_scenarios():
    t0 = time.time()
    floor_http()
    floor_storage()
    ndjson_import()
    server = Server().start()
    try:
        _, pids = bulk(server)
        read(server, pids)
        search(server, pids)
        everything(server, pids)
        crud(server, pids)
        wearable(server, pids)
        record("summary", peak_rss_bytes=server.peak_rss(), db_bytes=server.db_bytes(), total_s=round(time.time() - t0, 1))
    finally:
        server.stop()


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    fns = {"floor-http": floor_http, "floor-storage": floor_storage, "bulk": bulk, "import": ndjson_import, "crud": crud, "read": read,
           "search": search, "wearable": wearable, "everything": everything, "all": all_scenarios}
    if what not in fns:
        sys.exit("usage: bench.py " + "|".join(fns))
    fns[what]()


if __name__ == "__main__":
    main()
