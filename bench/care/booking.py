#!/usr/bin/env python3
"""Racing slot bookings (docs/care.md, "Appointments"; issue 16's speed target: 200 concurrent
clients racing for 50 slots make 50 bookings, 0 double bookings, p99 <= 200 ms).

    python3 bench/care/booking.py --clients 200 --slots 50 [--bin .build/debug/enlace] [--database postgres://...]

Starts its own server on a temporary data directory (SQLite, or the PostgreSQL database given),
generates the slots with `Schedule/$generate-slots`, makes one Patient per client, then releases
all clients at once (a barrier), each POSTing `Appointment/$book` for slot `i % slots`. Prints
how many bookings succeeded (201) and were refused (409), the latency p50 / p99 / max of all
requests, and checks through the API that every slot holds exactly one booked Appointment."""
import argparse
import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--slots", type=int, default=50)
    ap.add_argument("--bin", default=os.environ.get("ENLACE_BIN") or os.path.join(ROOT, ".build", "release", "enlace"))
    ap.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite in the data directory)")
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="enlace-bench-booking-")
    port = free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    args = [a.bin, "serve", "--data", data, "--port", str(port)] + (["--database", a.database] if a.database else [])
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except Exception:
                if proc.poll() is not None:
                    raise SystemExit("enlace serve exited early:\n" + open(os.path.join(data, "serve.log")).read()[-2000:])
                time.sleep(0.1)
        token = subprocess.run([a.bin, "token", "--data", data, "--port", str(port), "--scope", "system/*.*"],
                               capture_output=True, text=True, check=True).stdout.strip()

        def call(method, path, body):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode() if body is not None else None,
                                         method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
            try:
                with urllib.request.urlopen(req, timeout=120) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")

        day = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
        minutes = 10
        end = 8 * 60 + a.slots * minutes
        seed = [{"resourceType": "Practitioner", "id": "dra", "name": [{"family": "Hernández"}]},
                {"resourceType": "Schedule", "id": "agenda", "active": True, "actor": [{"reference": "Practitioner/dra"}]}]
        seed += [{"resourceType": "Patient", "id": f"p{i}", "name": [{"family": f"Paciente {i}"}]} for i in range(a.clients)]
        for k in range(0, len(seed), 500):
            bundle = {"resourceType": "Bundle", "type": "transaction",
                      "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in seed[k:k + 500]]}
            status, body = call("POST", "/fhir", bundle)
            assert status == 200, body
        status, body = call("POST", "/fhir/Schedule/agenda/$generate-slots", {"resourceType": "Parameters", "parameter": [
            {"name": "start", "valueDate": day}, {"name": "days", "valueInteger": 1}, {"name": "minutes", "valueInteger": minutes},
            {"name": "session", "valueString": f"08:00-{end // 60:02d}:{end % 60:02d}"}]})
        assert status in (200, 201), body
        status, found = call("GET", f"/fhir/Slot?schedule=Schedule/agenda&status=free&_count=500", None)
        slots = [e["resource"]["id"] for e in found.get("entry", []) if e["resource"]["resourceType"] == "Slot"]
        assert len(slots) == a.slots, f"{len(slots)} slots generated"

        barrier = threading.Barrier(a.clients)
        results = [None] * a.clients

        def client(i):
            body = {"resourceType": "Parameters", "parameter": [
                {"name": "slot", "valueReference": {"reference": f"Slot/{slots[i % len(slots)]}"}},
                {"name": "patient", "valueReference": {"reference": f"Patient/p{i}"}}]}
            barrier.wait()
            t = time.perf_counter()
            status, _ = call("POST", "/fhir/Appointment/$book", body)
            results[i] = (status, (time.perf_counter() - t) * 1000)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        statuses = [s for s, _ in results]
        ms = sorted(m for _, m in results)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        status, booked = call("GET", "/fhir/Appointment?status=booked&_count=1000", None)
        held = [s["reference"] for e in booked.get("entry", []) if e["resource"]["resourceType"] == "Appointment" for s in e["resource"].get("slot", [])]
        double = len(held) - len(set(held))
        print(f"{a.clients} clients, {a.slots} slots ({'PostgreSQL' if a.database else 'SQLite'}): {statuses.count(201)} booked (201), "
              f"{statuses.count(409)} refused (409), other {sorted(set(s for s in statuses if s not in (201, 409)))}; "
              f"{len(held)} booked Appointments over {len(set(held))} slots, {double} double bookings; "
              f"latency p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms; all in {wall:.2f} s")
        assert statuses.count(201) == a.slots and double == 0 and len(set(held)) == a.slots
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
