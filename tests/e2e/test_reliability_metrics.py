"""`GET /metrics` (docs/reliability.md, "Metrics"): Prometheus text format with request counts
and latencies per interaction and status, the audit ledger's size and tree-head age, the outbox
lag per consumer and (on PostgreSQL) the pool's connections; labels bounded whatever a client
sends, and no patient data in it."""
import os
import re
import secrets
import time
import urllib.request

import pytest

from conftest import Server, free_port

PG_URL = os.environ.get("ENLACE_TEST_DATABASE_URL", "")


def scrape(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/metrics", timeout=30) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def value(text, name, **labels):
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+)(\{(.*)\})? (\S+)$", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(4))
    return None


def exercise(server):
    token = server.token()
    before = scrape(server)
    created0 = value(before, "enlace_http_requests_total", method="POST", route="create", type="Patient", status="201") or 0
    for i in range(3):
        status, _, _ = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Zacarías-Métrica", "given": ["Ximena"]}],
                                                          "identifier": [{"system": "urn:test", "value": "SECRETO-123"}]}, token)
        assert status == 201
    server.request("GET", "/Patient?name=Zacar%C3%ADas", token=token)
    server.request("GET", "/Patient/no-such-id", token=token)
    for _ in range(5):  # attacker-chosen names must not become series of their own
        server.request("GET", f"/{secrets.token_hex(4)}/x", token=token)
        server.request("POST", f"/Patient/${secrets.token_hex(4)}", {}, token)
    text = scrape(server)
    assert value(text, "enlace_http_requests_total", method="POST", route="create", type="Patient", status="201") == created0 + 3
    assert value(text, "enlace_http_requests_total", method="GET", route="read", type="Patient", status="404") >= 1
    assert value(text, "enlace_http_requests_total", route="search-type", type="Patient", status="200") >= 1
    assert value(text, "enlace_http_request_duration_seconds_count", route="create", type="Patient") >= 3
    assert value(text, "enlace_http_requests_total", route="read", type="unknown") >= 5
    assert value(text, "enlace_http_requests_total", route="$other", type="Patient") >= 5
    assert value(text, "enlace_database_up") == 1
    assert value(text, "enlace_audit_ledger_entries") >= 10
    # the outbox consumers are listed and catch up
    deadline = time.time() + 30
    while value(text, "enlace_outbox_lag_events", consumer="monitoring.alerts") != 0 and time.time() < deadline:
        time.sleep(0.5)
        text = scrape(server)
    assert value(text, "enlace_outbox_lag_events", consumer="monitoring.alerts") == 0
    # a tree head is signed within a few seconds and its age is reported
    deadline = time.time() + 30
    while value(text, "enlace_audit_tree_head_age_seconds") is None and time.time() < deadline:
        time.sleep(0.5)
        text = scrape(server)
    assert 0 <= value(text, "enlace_audit_tree_head_age_seconds") < 120
    # nothing a patient wrote, and no path beyond the bounded labels
    for secret in ("Zacar", "Ximena", "SECRETO", "no-such-id"):
        assert secret not in text
    series = [l for l in text.splitlines() if l.startswith("enlace_http_requests_total")]
    assert len(series) < 20, series
    return text


def test_metrics_on_sqlite(server):
    text = exercise(server)
    assert value(text, "enlace_db_pool_connections", state="max") is None


@pytest.mark.skipif(not PG_URL, reason="ENLACE_TEST_DATABASE_URL is not set (scripts/test sets it)")
def test_metrics_on_postgres(data_dir):
    database = PG_URL + ("&" if "?" in PG_URL else "?") + "schema=metrics_" + secrets.token_hex(6)
    server = Server(data_dir, free_port(), database=database).start()
    try:
        text = exercise(server)
        assert value(text, "enlace_db_pool_connections", state="max") >= 1
        assert value(text, "enlace_db_pool_connections", state="open") >= 1
    finally:
        server.stop()
