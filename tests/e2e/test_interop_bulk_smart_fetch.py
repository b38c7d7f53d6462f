"""Bulk Data export by a client nobody here wrote: SMART Fetch (`smart-fetch` on PyPI, Apache-2.0,
from the SMART Health IT team, https://github.com/smart-on-fhir/smart-fetch), unmodified, against
the real binary. It discovers the token endpoint from `.well-known/smart-configuration`,
authenticates with SMART Backend Services (a private_key_jwt signed with its own key, RS384 or
ES384), kicks off `$export`, polls, downloads the NDJSON files and writes them to a directory
(docs/interop.md, "Bulk Data export")."""
import gzip
import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
import jwt

from conftest import enlace_binary


def smart_fetch():
    path = os.path.join(os.path.dirname(sys.executable), "smart-fetch")
    if not os.path.exists(path):
        pytest.fail("smart-fetch is not installed: it is in tests/requirements.txt (scripts/test installs it)")
    return path


def read_ndjson(directory):
    """Every resource in the NDJSON files (gzip or not) under `directory`, by type."""
    found = {}
    for root, _, files in os.walk(directory):
        for name in files:
            full = os.path.join(root, name)
            if name.endswith(".ndjson.gz"):
                text = gzip.open(full, "rt", encoding="utf-8").read()
            elif name.endswith(".ndjson"):
                text = open(full, encoding="utf-8").read()
            else:
                continue
            for line in text.splitlines():
                if line.strip():
                    r = json.loads(line)
                    if "resourceType" in r:  # smart-fetch's own log.ndjson sits beside the data
                        found.setdefault(r["resourceType"], set()).add(r["id"])
    return found


def log_events(directory):
    """smart-fetch's log of the export (its `log.ndjson`): the event ids, and their details."""
    events = []
    for root, _, files in os.walk(directory):
        if "log.ndjson" in files:
            with open(os.path.join(root, "log.ndjson"), encoding="utf-8") as f:
                events += [json.loads(line) for line in f if line.strip()]
    return events


def test_smart_fetch_exports_with_backend_services(server, tmp_path):
    op = server.token()
    for i in range(12):
        assert server.request("PUT", f"/Patient/sf{i}", {"resourceType": "Patient", "id": f"sf{i}", "name": [{"family": f"Fetch{i}"}]}, op)[0] == 201
        assert server.request("PUT", f"/Condition/c{i}", {"resourceType": "Condition", "id": f"c{i}", "subject": {"reference": f"Patient/sf{i}"},
                                                          "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}]}}, op)[0] == 201
    # the backend client's key pair: the public half registered with Enlace, the private half given to smart-fetch
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    for k in (public, private):
        k.update(kid="fetch-1", alg="RS384")
    public_file, private_file = tmp_path / "public.jwks", tmp_path / "private.jwks"
    public_file.write_text(json.dumps({"keys": [public]}))
    private_file.write_text(json.dumps({"keys": [dict(private, key_ops=["sign"])]}))
    r = subprocess.run([enlace_binary(), "clients", "add", "--data", server.data_dir, *server.store_args, "--client-id", "smart-fetch",
                        "--name", "SMART Fetch", "--jwks-file", str(public_file), "--scope", "system/*.rs"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "export"
    r = subprocess.run([smart_fetch(), "export", "--fhir-url", f"http://127.0.0.1:{server.port}/fhir",
                        "--smart-client-id", "smart-fetch", "--smart-key", str(private_file),
                        "--type", "Patient,Condition", "--export-mode", "bulk", "--hydration-tasks", "none", "--no-compression",
                        str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, f"smart-fetch failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    found = read_ndjson(out)
    assert {f"sf{i}" for i in range(12)} <= found.get("Patient", set()), (found, r.stdout[-2000:])
    assert {f"c{i}" for i in range(12)} <= found.get("Condition", set()), found
    # it really was a Bulk Data export (kick-off, status, files), not a crawl by search
    events = log_events(out)
    kickoff = next(e for e in events if e["eventId"] == "kickoff")
    assert kickoff["eventDetail"]["errorCode"] is None and "$export" in kickoff["eventDetail"]["exportUrl"], kickoff
    assert kickoff["eventDetail"]["softwareName"] == "Enlace"
    assert any(e["eventId"] == "status_complete" for e in events), [e["eventId"] for e in events]
    # an incremental export (`--since auto`: `_since` = the first export's transactionTime) brings
    # only what changed, and the deletion in the manifest's `deleted` list
    assert server.request("PUT", "/Patient/sf1", {"resourceType": "Patient", "id": "sf1", "name": [{"family": "Fetch1", "given": ["Nueva"]}]}, op)[0] == 200
    assert server.request("DELETE", "/Condition/c2", token=op)[0] in (200, 204)
    r = subprocess.run([smart_fetch(), "export", "--fhir-url", f"http://127.0.0.1:{server.port}/fhir",
                        "--smart-client-id", "smart-fetch", "--smart-key", str(private_file), "--since", "auto",
                        "--type", "Patient,Condition", "--export-mode", "bulk", "--hydration-tasks", "none", "--no-compression",
                        str(out)], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert r.returncode == 0, f"smart-fetch failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    second = sorted(d for d in os.listdir(out) if d.startswith("002."))
    assert second, os.listdir(out)
    changed = read_ndjson(out / second[0])
    assert changed.get("Patient") == {"sf1"}, changed
    deleted = [e for e in log_events(out / second[0]) if e["eventId"] == "status_page_complete"]
    assert deleted and deleted[-1]["eventDetail"]["deletedFileCount"] >= 1, log_events(out / second[0])
    # the export is in the audit log like every read: one entry names the client
    audit = json.dumps(server.request("GET", "/AuditEvent?_count=200&_sort=-_lastUpdated", token=op)[2])
    assert "smart-fetch" in audit
