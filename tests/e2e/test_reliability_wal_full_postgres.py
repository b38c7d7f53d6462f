"""The WAL volume full on PostgreSQL (docs/reliability.md, "Disk full"): PostgreSQL's write-ahead
log (`initdb --waldir`) on a small tmpfs, filled up while Enlace serves. PostgreSQL cannot write
WAL and stops itself (a PANIC; it may come back by itself or stay down until an operator frees
space and starts it). What Enlace must do, whichever it is: every request answers within a
bounded time (`query_timeout=5`), with 201 or a clear 503/507 OperationOutcome — never a 500, a
hang or a half-applied write; the node serves again by itself once PostgreSQL is back, without a
restart; every acknowledged write is there with its exact content, and `enlace audit verify`
passes.

The cluster is the test's own (tests/e2e/pg_throwaway.py) with 1 MiB WAL segments and WAL
recycling off, so the full volume is met within a few hundred writes. Needs root; skipped with a
warning otherwise."""
import os
import subprocess
import time
import urllib.error

import pytest

from conftest import enlace_binary
from pg_throwaway import require_root_and_initdb, small_tmpfs, throwaway_cluster
from test_reliability_disk_full import serve_postgres_and_fill

TEST = "PostgreSQL WAL-full test"
# the longest a request may take while PostgreSQL cannot write: query_timeout (5 s), the client
# margin (2 s) and slack for a busy 2-core machine
BOUND_SECONDS = 15


@pytest.fixture
def wal_on_small_volume():
    require_root_and_initdb(TEST)
    with small_tmpfs("12m", TEST, prefix="enlace-pg-wal-full-") as mount:
        waldir = os.path.join(mount, "wal")
        settings = ("min_wal_size = 2MB\nmax_wal_size = 4MB\nwal_recycle = off\nwal_init_zero = on\n"
                    "restart_after_crash = on\ncheckpoint_timeout = 30s\n")
        with throwaway_cluster(initdb_args=(f"--waldir={waldir}", "--wal-segsize=1"), settings=settings) as cluster:
            cluster.psql("CREATE ROLE enlace LOGIN PASSWORD 'enlace'")
            cluster.psql("CREATE DATABASE enlace OWNER enlace ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
            yield f"postgres://enlace:enlace@127.0.0.1:{cluster.port}/enlace?sslmode=disable&query_timeout=5", mount, cluster


def timed(server, method, path, body=None, token=None):
    start = time.time()
    try:
        status, _, answer = server.request(method, path, body, token)
    except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
        pytest.fail(f"{method} {path} got no answer after {time.time() - start:.1f} s: {e}")
    elapsed = time.time() - start
    assert elapsed < BOUND_SECONDS, f"{method} {path} took {elapsed:.1f} s (answered {status})"
    return status, answer


def test_postgres_wal_full_fails_clearly_and_recovers(tmp_path, wal_on_small_volume):
    url, mount, cluster = wal_on_small_volume
    server, data, token, stored, filler = serve_postgres_and_fill(tmp_path, url, mount, 256 * 1024)
    try:

        # write until PostgreSQL cannot: every answer bounded, 201 or a clear 503/507
        refusals = []
        deadline = time.time() + 180
        for i in range(3000):
            family = f"WAL-{i}-" + "x" * 4000
            status, body = timed(server, "POST", "/Patient", {"resourceType": "Patient", "name": [{"family": family}]}, token)
            if status == 201:
                stored[body["id"]] = family
            else:
                assert status in (503, 507), f"a write without WAL space answered {status}: {str(body)[:300]}"
                assert body["resourceType"] == "OperationOutcome" and body["issue"][0].get("diagnostics"), body
                assert body["issue"][0].get("details", {}).get("text"), "the Spanish text is there"
                refusals.append(status)
                if len(refusals) >= 5:
                    break
            assert time.time() < deadline, "the WAL volume never filled up within 3 minutes"
        assert refusals, "the WAL volume never filled up"
        assert "No space left on device" in cluster.log(), "PostgreSQL never ran out of WAL space: the test did not test a full WAL"
        # reads fail as clearly (or answer, if PostgreSQL came back meanwhile)
        status, _ = timed(server, "GET", f"/Patient/{next(iter(stored))}", token=token)
        assert status in (200, 503, 507), status

        # the operator frees space and, if PostgreSQL stayed down, starts it; Enlace recovers by itself
        os.remove(filler)
        time.sleep(2)
        restarted_by_operator = not cluster.running()
        if restarted_by_operator:
            cluster.start()
        deadline = time.time() + 60
        while True:
            status, body = timed(server, "POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Despues"}]}, token)
            if status == 201:
                stored[body["id"]] = "Despues"
                break
            assert status in (503, 507) and time.time() < deadline, f"writes did not resume after the WAL had space again: {status}"
            time.sleep(0.5)
        what = [line.split(" ", 4)[-1][:160] for line in cluster.log().splitlines() if "PANIC" in line or "No space left" in line][:4]
        print(f"\nWAL full: {len(stored)} writes acknowledged, refusals {refusals}, "
              f"PostgreSQL {'started again by the operator' if restarted_by_operator else 'came back by itself'}; its log: {what}")
        # every acknowledged write is there, exactly
        for pid, family in stored.items():
            status, body = timed(server, "GET", f"/Patient/{pid}", token=token)
            assert status == 200 and body["name"][0]["family"] == family, pid
    finally:
        server.stop()
    verify = subprocess.run([enlace_binary(), "audit", "verify", "--data", data, "--database", url], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0 and "OK:" in verify.stdout, verify.stdout + verify.stderr
