"""The soak (issue 20, item 10; docs/reliability.md, "Soak"): `enlace serve --demo` under a steady
mixed workload — FHIR reads, searches, history, `$everything`, creates, updates and transaction
Bundles, and the patient portal's pages signed in as a demo patient — for
`ENLACE_SOAK_SECONDS` (default 40: the cheap version `scripts/test` runs; the issue's soak is
`ENLACE_SOAK_SECONDS=1800`), at `ENLACE_SOAK_RATE` requests a second (default 30) over
`ENLACE_SOAK_CONNECTIONS` keep-alive connections (default 6).

Always checked: no 5xx, no failed connection, open file descriptors flat after the warm-up.
Checked only on a run of 10 minutes or more (and said so when not): the asked rate kept (90 %),
p99 of the last 5 minutes within 1.5x of the first 5 (after a minute of warm-up), and resident
memory growth <= 10 % after the warm-up. `ENLACE_SOAK_REPORT=path.json` writes the figures, minute by minute.
`ENLACE_SOAK_WRITES=0` leaves out the creates, updates and transactions (reads only: the data does not
grow), to tell growth with the data from growth of the server; the report also carries the server's
`/proc/PID/smaps_rollup` after the warm-up and at the end, its thread count and the machine's load."""
import http.client
import http.cookiejar
import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from test_portal import DemoServer
from conftest import enlace_binary
import subprocess

SECONDS = float(os.environ.get("ENLACE_SOAK_SECONDS", "40"))
RATE = float(os.environ.get("ENLACE_SOAK_RATE", "30"))
CONNECTIONS = int(os.environ.get("ENLACE_SOAK_CONNECTIONS", "6"))
LONG = SECONDS >= 600
WRITES = os.environ.get("ENLACE_SOAK_WRITES", "1") != "0"
WRITE_OPS = {"create", "transaction", "update"}


def proc_status(pid):
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) * 1024
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def smaps_rollup(pid):
    """The server's memory by kind, in MiB (Rss, Anonymous, Private_Dirty, Shared_Clean …), and its threads."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    out[parts[0].rstrip(":")] = round(int(parts[1]) / 1024, 1)
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    out["Threads"] = int(line.split()[1])
    except OSError:
        pass
    return out


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


class Portal:
    """A patient signed in to the portal: the login form's CSRF token (double-submit cookie),
    then the session cookie, kept in a cookie jar; signs in again if the session ends."""

    def __init__(self, base, username, password):
        self.base, self.username, self.password = base, username, password
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())
        self.sign_in()

    def sign_in(self):
        with self.opener.open(self.base + "/entrar", timeout=30) as r:
            page = r.read().decode()
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": self.username, "password": self.password, "csrf": csrf}).encode()
        req = urllib.request.Request(self.base + "/entrar", data=form, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            self.opener.open(req, timeout=30)
        except urllib.error.HTTPError as e:
            assert e.code in (302, 303), f"sign-in answered {e.code}"

    def get(self, path):
        try:
            with self.opener.open(self.base + path, timeout=60) as r:
                r.read()
                return r.status
        except urllib.error.HTTPError as e:
            e.read()
            if e.code in (302, 303) and "/entrar" in (e.headers.get("Location") or ""):
                self.sign_in()
                return self.get(path)
            return e.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


def workload(demo, token, patients):
    """The operations and their weights: (name, weight, fn(conn, rnd) -> status)."""
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    write = dict(auth, **{"Content-Type": "application/fhir+json"})
    lock = threading.Lock()
    counter = [0]

    def call(conn, method, path, body=None, headers=auth):
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        r.read()
        return r.status

    def observation(rnd, pid):
        with lock:
            counter[0] += 1
            n = counter[0]
        return {"resourceType": "Observation", "status": "final",
                "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}]}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Frecuencia cardiaca"}]},
                "subject": {"reference": f"Patient/{pid}"},
                "identifier": [{"system": "urn:enlace:soak", "value": f"{os.getpid()}-{n}"}],
                "effectiveDateTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "valueQuantity": {"value": rnd.randint(55, 110), "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}

    def transaction(conn, rnd):
        pid = rnd.choice(patients)
        entries = [{"resource": observation(rnd, pid), "request": {"method": "POST", "url": "Observation"}} for _ in range(5)]
        return call(conn, "POST", "/fhir", json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}), write)

    def update(conn, rnd):
        body = {"resourceType": "Patient", "id": "soak-patient", "name": [{"family": "Soak", "given": [str(rnd.randint(0, 10 ** 6))]}]}
        return call(conn, "PUT", "/fhir/Patient/soak-patient", json.dumps(body), write)

    ops = [
        ("read", 25, lambda c, r: call(c, "GET", f"/fhir/Patient/{r.choice(patients)}")),
        ("search", 15, lambda c, r: call(c, "GET", f"/fhir/Observation?patient=Patient/{r.choice(patients)}&_count=20")),
        ("search-date", 10, lambda c, r: call(c, "GET", f"/fhir/Observation?patient=Patient/{r.choice(patients)}&date=ge2025-01-01&_sort=-date&_count=10")),
        ("search-terminology", 5, lambda c, r: call(c, "GET", "/fhir/Condition?code:below=http://hl7.org/fhir/sid/icd-10|E11&_count=20")),
        ("history", 3, lambda c, r: call(c, "GET", f"/fhir/Patient/{r.choice(patients)}/_history")),
        ("everything", 3, lambda c, r: call(c, "GET", f"/fhir/Patient/{r.choice(patients)}/$everything?_count=50")),
        ("create", 12, lambda c, r: call(c, "POST", "/fhir/Observation", json.dumps(observation(r, r.choice(patients))), write)),
        ("transaction", 5, transaction),
        ("update", 5, update),
        ("metadata", 2, lambda c, r: call(c, "GET", "/fhir/metadata")),
    ]
    portal_pages = [("portal-record", 6, "/expediente"), ("portal-access-log", 4, "/accesos"),
                    ("portal-summary", 3, "/resumen"), ("portal-decisions", 2, "/decisiones")]
    return ops, portal_pages


def test_soak():
    demo = DemoServer()
    try:
        token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.*",
                                "--ttl", str(int(SECONDS) + 3600)], check=True, capture_output=True, text=True).stdout.strip()
        req = urllib.request.Request(demo.base + "/fhir/Patient?_count=50&_elements=id",
                                     headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            patients = [e["resource"]["id"] for e in json.loads(r.read()).get("entry", [])]
        assert len(patients) >= 5, patients
        ops, portal_pages = workload(demo, token, patients)
        if not WRITES:
            ops = [op for op in ops if op[0] not in WRITE_OPS]
        choices = [(name, w, fn, None) for name, w, fn in ops] + [(name, w, None, path) for name, w, path in portal_pages]
        weights = [c[1] for c in choices]
        samples = []  # (t, op, status, seconds)
        failures = []
        memory = []  # (t, rss, fds, load1)
        rollups = {}
        start = time.monotonic()
        stop_at = start + SECONDS
        interval = CONNECTIONS / RATE

        def worker(k):
            rnd = random.Random(k)
            conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=60)
            portal = Portal(demo.base, "ana", demo.users["ana"])
            due = time.monotonic() + rnd.random() * interval
            while True:
                now = time.monotonic()
                if now >= stop_at:
                    break
                if due > now:
                    time.sleep(due - now)
                due += interval
                name, _, fn, path = rnd.choices(choices, weights)[0]
                t = time.monotonic()
                try:
                    status = fn(conn, rnd) if fn else portal.get(path)
                except Exception as e:  # a failed connection is a finding: counted, then a new connection
                    failures.append((round(t - start, 1), name, repr(e)))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=60)
                    continue
                samples.append((t - start, name, status, time.monotonic() - t))
            conn.close()

        def sampler():
            while time.monotonic() < stop_at:
                rss, fds = proc_status(demo.proc.pid)
                now = time.monotonic() - start
                memory.append((now, rss, fds, os.getloadavg()[0]))
                if "after_warm_up" not in rollups and now >= min(60.0, SECONDS * 0.25):
                    rollups["after_warm_up"] = smaps_rollup(demo.proc.pid)
                time.sleep(min(5.0, max(1.0, SECONDS / 40)))
            rollups["end"] = smaps_rollup(demo.proc.pid)

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(CONNECTIONS)] + [threading.Thread(target=sampler)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 600)
        assert not any(t.is_alive() for t in threads), "the soak did not stop by itself"

        # the figures
        warm = min(60.0, SECONDS * 0.25)
        window = 300.0 if LONG else max(5.0, (SECONDS - warm) / 3)
        first = [s[3] for s in samples if warm <= s[0] < warm + window]
        last = [s[3] for s in samples if s[0] >= SECONDS - window]
        p99_first, p99_last = pct(first, 99), pct(last, 99)
        after = [m for m in memory if m[0] >= warm] or memory
        rss_growth = (after[-1][1] - after[0][1]) / after[0][1]
        fds = [m[2] for m in after]
        statuses = {}
        for s in samples:
            statuses[s[2]] = statuses.get(s[2], 0) + 1
        per_op = {}
        for s in samples:
            per_op.setdefault(s[1], []).append(s[3])
        minutes = []
        for m in range(int(SECONDS // 60) + 1):
            lat = [s[3] for s in samples if m * 60 <= s[0] < (m + 1) * 60]
            mem = [x for x in memory if m * 60 <= x[0] < (m + 1) * 60]
            if lat:
                minutes.append({"minute": m, "requests": len(lat), "p50_ms": round(pct(lat, 50) * 1000, 1), "p99_ms": round(pct(lat, 99) * 1000, 1),
                                "rss_mib": round(mem[-1][1] / 2 ** 20, 1) if mem else None, "fds": mem[-1][2] if mem else None,
                                "load1": round(mem[-1][3], 2) if mem else None})
        report = {
            "seconds": SECONDS, "writes": WRITES, "malloc_arena_max": os.environ.get("MALLOC_ARENA_MAX"), "rate_asked": RATE, "connections": CONNECTIONS, "requests": len(samples),
            "rate_achieved": round(len(samples) / SECONDS, 1), "statuses": statuses, "failed_connections": failures[:20],
            "p99_first_window_ms": round(p99_first * 1000, 1), "p99_last_window_ms": round(p99_last * 1000, 1),
            "p99_ratio": round(p99_last / p99_first, 2), "window_s": window, "warm_up_s": warm,
            "rss_after_warm_up_mib": round(after[0][1] / 2 ** 20, 1), "rss_end_mib": round(after[-1][1] / 2 ** 20, 1),
            "rss_growth": round(rss_growth, 3), "fds_min": min(fds), "fds_max": max(fds),
            "per_operation_p99_ms": {k: round(pct(v, 99) * 1000, 1) for k, v in sorted(per_op.items())},
            "load1_min": round(min(m[3] for m in memory), 2), "load1_max": round(max(m[3] for m in memory), 2),
            "smaps_rollup_mib": rollups,
            "minutes": minutes,
        }
        print("\nSOAK " + json.dumps(report))
        if os.environ.get("ENLACE_SOAK_REPORT"):
            with open(os.environ["ENLACE_SOAK_REPORT"], "w") as f:
                json.dump(report, f, indent=1)

        server_errors = {s: n for s, n in statuses.items() if s >= 500}
        assert not server_errors, f"5xx answers: {server_errors}"
        assert not failures, f"failed connections: {failures[:5]}"
        assert max(fds) - min(fds) <= 24, f"open file descriptors grew after warm-up: {min(fds)} → {max(fds)}"
        if LONG:
            assert len(samples) >= 0.9 * RATE * SECONDS, f"only {len(samples)} requests in {SECONDS} s (asked {RATE}/s): the server fell behind"
            assert p99_last <= 1.5 * p99_first, f"p99 of the last 5 minutes {p99_last * 1000:.0f} ms > 1.5 × the first {p99_first * 1000:.0f} ms"
            assert rss_growth <= 0.10, f"resident memory grew {rss_growth:.1%} after warm-up"
        else:
            print(f"SOAK NOTE: a {SECONDS:.0f} s run: the steady-rate, p99-stability and memory-growth criteria are reported, not asserted "
                  f"(they are asserted from 600 s on; the issue's soak is ENLACE_SOAK_SECONDS=1800)")
    finally:
        demo.stop()
