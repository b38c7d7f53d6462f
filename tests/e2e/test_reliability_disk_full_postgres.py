"""Disk full on PostgreSQL (docs/reliability.md, "Disk full"): the database's tablespace on a small
tmpfs, filled up while Enlace serves from it. Writes then get 507 with an OperationOutcome that
says the storage is full (PostgreSQL's SQLSTATE 53100 disk_full) — never a 500, a hang or a
half-applied write; what was stored stays sound; and once space is freed the same process accepts
writes again, with no restart; `enlace audit verify` passes.

Only the data files are on the small volume: the WAL stays on the cluster's own disk (a full WAL
volume makes PostgreSQL itself stop, which is the "PostgreSQL stopped" round of
test_reliability_*). The test runs its own throwaway cluster (initdb as `postgres`, trust
authentication on 127.0.0.1, stopped and removed at the end), because creating a tablespace
needs a superuser. Mounting a tmpfs and initdb as `postgres` need root (scripts/test runs as root
in CI); without them the test is skipped with a warning printed in the summary."""
import os
import shutil
import subprocess
import time

import pytest

from conftest import enlace_binary
from pg_throwaway import require_root_and_initdb, small_tmpfs, throwaway_cluster
from test_reliability_disk_full import serve_postgres_and_fill

TEST = "PostgreSQL disk-full test"


@pytest.fixture
def small_tablespace_database():
    require_root_and_initdb(TEST)
    with small_tmpfs("16m", TEST, prefix="enlace-pg-disk-full-") as mount, throwaway_cluster() as cluster:
        tablespace = os.path.join(mount, "ts")
        os.makedirs(tablespace)
        shutil.chown(tablespace, "postgres", "postgres")
        sql = (f"CREATE TABLESPACE small LOCATION '{tablespace}'; CREATE ROLE enlace LOGIN PASSWORD 'enlace'; "
               "CREATE DATABASE enlace OWNER enlace TABLESPACE small ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;")
        for statement in sql.split("; "):
            cluster.psql(statement.rstrip(";"))
        yield f"postgres://enlace:enlace@127.0.0.1:{cluster.port}/enlace?sslmode=disable", mount, cluster


def test_postgres_disk_full_refuses_writes_clearly_and_recovers(tmp_path, small_tablespace_database):
    url, mount, cluster = small_tablespace_database
    server, data, token, stored, filler = serve_postgres_and_fill(tmp_path, url, mount, 512 * 1024)
    try:

        # write until the tablespace refuses; every answer is 201 or a clear 507, nothing else
        refused = None
        deadline = time.time() + 120
        for i in range(4000):
            family = f"Lleno-{i}-" + "x" * 4000
            status, _, body = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": family}]}, token)
            if status == 201:
                stored[body["id"]] = family
                assert time.time() < deadline, "the tablespace never filled up within 2 minutes"
                continue
            refused = (status, body)
            break
        assert refused is not None, "the tablespace never filled up"
        status, outcome = refused
        assert status == 507, f"a write on a full tablespace answered {status}: {str(outcome)[:300]}"
        assert outcome["resourceType"] == "OperationOutcome"
        assert "storage is full" in outcome["issue"][0]["diagnostics"]
        assert "almacenamiento" in outcome["issue"][0]["details"]["text"]
        # a transaction is refused as a whole, with the same clear answer
        bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
            {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-00000000000{k}",
             "resource": {"resourceType": "Patient", "name": [{"family": "Tx-" + "y" * 4000}]},
             "request": {"method": "POST", "url": "Patient"}} for k in range(3)]}
        status, _, outcome = server.request("POST", "", bundle, token)
        assert status in (200, 507), status
        if status == 507:
            assert outcome["resourceType"] == "OperationOutcome"
        else:
            for e in outcome["entry"]:
                stored[e["response"]["location"].split("/")[1]] = "Tx-" + "y" * 4000
        # reads answer, or say clearly that they cannot be audited: never a 500
        status, _, _ = server.request("GET", f"/Patient/{next(iter(stored))}", token=token)
        assert status in (200, 507), status

        # space returns: the same process writes again, within a few seconds
        os.remove(filler)
        deadline = time.time() + 20
        while True:
            status, _, body = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Despues"}]}, token)
            if status == 201:
                stored[body["id"]] = "Despues"
                break
            assert status in (503, 507) and time.time() < deadline, f"writes did not resume after space was freed: {status}"
            time.sleep(0.5)
        # every acknowledged write is there, exactly
        for pid, family in stored.items():
            status, _, body = server.request("GET", f"/Patient/{pid}", token=token)
            assert status == 200 and body["name"][0]["family"] == family, pid
    finally:
        server.stop()
    assert "No space left on device" in cluster.log(), "PostgreSQL never ran out of space: the test did not test a full disk"
    verify = subprocess.run([enlace_binary(), "audit", "verify", "--data", data, "--database", url], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0 and "OK:" in verify.stdout, verify.stdout + verify.stderr
