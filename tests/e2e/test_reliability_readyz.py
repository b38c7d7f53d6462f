"""`/readyz` as a load balancer sees it (docs/reliability.md, "Health and readiness"): on its
own throwaway PostgreSQL cluster, the probe says ready, answers 503 within its deadline while
PostgreSQL is paused (SIGSTOP on the postmaster and every backend) or stopped, and says ready
again by itself once PostgreSQL is back. SQLite: ready, and not audited.
Needs PostgreSQL's binaries (scripts/pg-cluster); skipped without them."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

from conftest import ROOT, Server, free_port

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
HAVE_PG = bool(os.environ.get("ENLACE_RELIABILITY")) and bool(os.path.exists(os.path.join(PG_BIN, "initdb")) or shutil.which("initdb"))


def readyz(port, timeout=10):
    start = time.time()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=timeout) as r:
            return r.status, json.loads(r.read()), time.time() - start
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}"), time.time() - start


def test_readyz_on_sqlite_is_not_audited(server):
    token = server.token()
    status, _, body = server.request("GET", "/Patient?_count=1", token=token)
    assert status == 200
    s, first, _ = readyz(server.port)
    assert s == 200 and first["status"] == "ready" and first["migrations"] == "applied"
    for _ in range(5):
        s, again, _ = readyz(server.port)
        assert s == 200
    assert again["auditEntries"] == first["auditEntries"], "probes add no audit entries"


def postgres_processes(cluster):
    """The postmaster and its children (backends, background workers)."""
    master = int(open(os.path.join(cluster, "data", "postmaster.pid")).readline())
    pids = [master]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ppid = int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(d))
    return pids


@pytest.mark.skipif(not HAVE_PG, reason="PostgreSQL binaries not installed, or ENLACE_RELIABILITY not set")
def test_readyz_follows_postgres_paused_stopped_and_back(data_dir):
    cluster = tempfile.mkdtemp(prefix="pg-reliability-readyz-")
    url = subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "start", cluster], check=True, capture_output=True, text=True).stdout.strip()
    # the background services' queries on connections PostgreSQL dropped end within this, so the
    # node stops within the test's 30 s (with the default 30 s + 2 a SIGTERM can wait longer)
    url += ("&" if "?" in url else "?") + "query_timeout=5"
    server = None
    paused = []
    try:
        server = Server(data_dir, free_port(), database=url).start()
        s, body, _ = readyz(server.port)
        assert s == 200 and body["status"] == "ready", body
        # paused: every PostgreSQL process stopped; the probe answers on time, 503
        paused = postgres_processes(cluster)
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        s, body, elapsed = readyz(server.port)
        assert s == 503 and body["reason"] == "database-timeout", body
        assert elapsed < 4, f"the probe took {elapsed:.1f} s while PostgreSQL was paused"
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
        paused = []
        deadline = time.time() + 20
        while time.time() < deadline and readyz(server.port)[0] != 200:
            time.sleep(0.5)
        assert readyz(server.port)[0] == 200, "ready again after SIGCONT"
        # stopped: 503 quickly; started again: ready again without restarting Enlace
        pg_ctl = os.path.join(PG_BIN, "pg_ctl")
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(as_postgres + [pg_ctl, "-D", os.path.join(cluster, "data"), "-m", "fast", "-w", "stop"], check=True, capture_output=True, cwd="/")
        s, body, elapsed = readyz(server.port)
        assert s == 503 and body["reason"] in ("database-unreachable", "database-timeout"), body
        assert elapsed < 4, f"{elapsed:.1f} s"
        assert "password" not in json.dumps(body) and url.split("@")[0].split(":")[-1] not in json.dumps(body)
        subprocess.run(as_postgres + [pg_ctl, "-D", os.path.join(cluster, "data"), "-l", os.path.join(cluster, "server.log"), "-w", "start"],
                       check=True, capture_output=True, cwd="/")
        deadline = time.time() + 30
        while time.time() < deadline and readyz(server.port)[0] != 200:
            time.sleep(0.5)
        s, body, _ = readyz(server.port)
        assert s == 200, f"not ready 30 s after PostgreSQL came back: {body}"
    finally:
        for pid in paused:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        if server:
            server.stop()
        subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "stop", cluster], capture_output=True)


@pytest.mark.skipif(not HAVE_PG, reason="PostgreSQL binaries not installed, or ENLACE_RELIABILITY not set")
def test_api_fails_fast_while_postgres_is_paused(data_dir):
    """While every PostgreSQL process is stopped (SIGSTOP), reads and writes of the API answer
    within seconds with 503 and an OperationOutcome — no request hangs past the URL's
    `query_timeout` (5 s here) plus the client-side margin — and once PostgreSQL continues the
    same node serves again."""
    cluster = tempfile.mkdtemp(prefix="pg-reliability-pause-")
    url = subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "start", cluster], check=True, capture_output=True, text=True).stdout.strip()
    url += ("&" if "?" in url else "?") + "query_timeout=5"  # docs/scaling.md: how long a statement may take
    server = None
    paused = []
    try:
        server = Server(data_dir, free_port(), database=url).start()
        token = server.token()
        status, _, body = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Antes"}]}, token)
        assert status == 201
        before = body["id"]
        paused = postgres_processes(cluster)
        for pid in paused:
            os.kill(pid, signal.SIGSTOP)
        for method, path, body in [("GET", f"/Patient/{before}", None), ("GET", "/Patient?name=Antes", None),
                                   ("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Durante"}]})]:
            started = time.time()
            status, _, outcome = server.request(method, path, body, token)
            elapsed = time.time() - started
            assert status == 503 and outcome["resourceType"] == "OperationOutcome", (method, path, status, outcome)
            assert elapsed < 15, f"{method} {path} took {elapsed:.1f} s while PostgreSQL was paused"
        # the circuit breaker is open by now (3 timed-out attempts in a row): requests fail at
        # once with Retry-After instead of each waiting out query_timeout; an occasional request
        # is the breaker's probe and waits
        fast = []
        for _ in range(6):
            started = time.time()
            status, headers, outcome = server.request("GET", f"/Patient/{before}", token=token)
            elapsed = time.time() - started
            assert status == 503 and outcome["resourceType"] == "OperationOutcome", (status, outcome)
            if elapsed < 1:
                assert int({k.lower(): v for k, v in headers.items()}.get("retry-after", "0")) >= 1, (headers, outcome)
                assert "not answering" in json.dumps(outcome) and "no responde" in json.dumps(outcome), outcome
                fast.append(elapsed)
        assert len(fast) >= 3, f"only {len(fast)} of 6 requests failed fast with the breaker open"
        for pid in paused:
            os.kill(pid, signal.SIGCONT)
        paused = []
        deadline = time.time() + 30
        while True:
            status, _, body = server.request("GET", f"/Patient/{before}", token=token)
            if status == 200:
                break
            assert time.time() < deadline, f"not serving 30 s after PostgreSQL continued: {status}"
            time.sleep(0.5)
        status, _, _ = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Despues"}]}, token)
        assert status == 201
    finally:
        for pid in paused:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        if server:
            server.stop()
        subprocess.run([os.path.join(ROOT, "scripts", "pg-cluster"), "stop", cluster], capture_output=True)
