"""Bulk Data $export (FHIR Bulk Data IG v2) from a client written from the IG, against the real
binary: kick-off with Prefer: respond-async, status polling that honours Retry-After, the
manifest, NDJSON files fetched with the access token, _type, cancel (docs/interop.md)."""
import json
import time
import urllib.request

import pytest


class BulkClient:
    """A minimal Bulk Data client, after https://hl7.org/fhir/uv/bulkdata/export.html."""

    def __init__(self, server, token):
        self.server, self.token = server, token

    def kick_off(self, path="/Patient/$export", query=""):
        status, headers, body = self.server.request("GET", path + query, token=self.token,
                                                    headers={"Prefer": "respond-async", "Accept": "application/fhir+json"})
        return status, headers, body

    def poll(self, status_url, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            req = urllib.request.Request(status_url, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    raw = r.read()
                    if r.status == 202:
                        assert r.headers.get("X-Progress"), "a 202 status response carries X-Progress"
                        time.sleep(min(float(r.headers.get("Retry-After", "1")), 2))
                        continue
                    return r.status, json.loads(raw)
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")
        pytest.fail("the export did not finish in time")

    def download(self, url, with_token=True):
        h = {"Accept": "application/fhir+ndjson"}
        if with_token:
            h["Authorization"] = f"Bearer {self.token}"
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=h), timeout=30) as r:
                return r.status, [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]
        except urllib.error.HTTPError as e:
            return e.code, None


def seed(server, token):
    for i in range(30):
        pid = f"p{i}"
        assert server.request("PUT", f"/Patient/{pid}", {"resourceType": "Patient", "id": pid, "name": [{"family": f"Familia{i}", "given": ["Ana"]}]}, token)[0] == 201
        obs = {"resourceType": "Observation", "id": f"o{i}", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
               "subject": {"reference": f"Patient/{pid}"}, "valueQuantity": {"value": 5.0 + i / 10, "unit": "mmol/L"}}
        assert server.request("PUT", f"/Observation/o{i}", obs, token)[0] == 201


def test_patient_export_round_trip(server):
    token = server.token()
    seed(server, token)
    client = BulkClient(server, token)
    status, headers, _ = client.kick_off()
    assert status == 202, headers
    status_url = headers["Content-Location"]
    status, manifest = client.poll(status_url)
    assert status == 200, manifest
    assert manifest["requiresAccessToken"] is True
    assert manifest["transactionTime"] and manifest["request"].endswith("/Patient/$export")
    assert manifest["error"] == []
    by_type = {o["type"]: o for o in manifest["output"]}
    assert by_type["Patient"]["count"] == 30 and by_type["Observation"]["count"] == 30
    code, patients = client.download(by_type["Patient"]["url"])
    assert code == 200 and sorted(p["id"] for p in patients) == sorted(f"p{i}" for i in range(30))
    code, observations = client.download(by_type["Observation"]["url"])
    assert all(o["resourceType"] == "Observation" for o in observations) and len(observations) == 30
    # the files need the access token
    assert client.download(by_type["Patient"]["url"], with_token=False)[0] == 401
    # _type narrows the export; a bad parameter is a precise 400
    status, headers, _ = client.kick_off(query="?_type=Observation&_outputFormat=application/fhir%2Bndjson")
    assert status == 202
    status, manifest = client.poll(headers["Content-Location"])
    assert [o["type"] for o in manifest["output"]] == ["Observation"]
    status, _, outcome = client.kick_off(query="?_type=Practitioner")
    assert status == 400 and outcome["resourceType"] == "OperationOutcome"
    status, _, outcome = server.request("GET", "/Patient/$export", token=token)
    assert status == 400 and "respond-async" in json.dumps(outcome)
    # cancel: DELETE, then the job is gone
    status, headers, _ = client.kick_off()
    status_url = headers["Content-Location"]
    req = urllib.request.Request(status_url, method="DELETE", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            deleted = r.status
    except urllib.error.HTTPError as e:
        deleted = e.code
    assert deleted in (202, 404)  # 404 only if it had already finished and been removed
    assert client.poll(status_url)[0] == 404


def test_system_group_filters_deleted_and_throttling(server):
    """System and Group level, _typeFilter, _elements, deleted after _since, 429 when polled
    faster than Retry-After (docs/interop.md#bulk-data-export)."""
    token = server.token()
    seed(server, token)
    group = {"resourceType": "Group", "id": "cohorte", "type": "person", "actual": True,
             "member": [{"entity": {"reference": f"Patient/p{i}"}} for i in range(5)]}
    assert server.request("PUT", "/Group/cohorte", group, token)[0] == 201
    client = BulkClient(server, token)
    # Group level: the members' compartments only
    status, headers, _ = client.kick_off("/Group/cohorte/$export")
    assert status == 202, headers
    status, manifest = client.poll(headers["Content-Location"])
    by_type = {o["type"]: o for o in manifest["output"]}
    assert by_type["Patient"]["count"] == 5 and by_type["Observation"]["count"] == 5
    assert client.kick_off("/Group/nadie/$export")[0] == 404
    # system level with _typeFilter and _elements
    status, headers, _ = client.kick_off("/$export", "?_type=Patient,Observation&_typeFilter=Observation%3Fsubject%3DPatient%2Fp3"
                                         "&_elements=Patient.birthDate")
    assert status == 202, headers
    status_url = headers["Content-Location"]
    # polling at once, faster than any Retry-After, is a 429 while the job runs (or it already finished)
    first = urllib.request.urlopen(urllib.request.Request(status_url, headers={"Authorization": f"Bearer {token}"}), timeout=30)
    first.read()
    if first.status == 202:
        try:
            urllib.request.urlopen(urllib.request.Request(status_url, headers={"Authorization": f"Bearer {token}"}), timeout=30)
            second = 200
        except urllib.error.HTTPError as e:
            second = e.code
            if second == 429:
                assert e.headers.get("Retry-After") and json.loads(e.read())["resourceType"] == "OperationOutcome"
        assert second in (200, 429)
    time.sleep(1)
    status, manifest = client.poll(status_url)
    assert status == 200, manifest
    by_type = {o["type"]: o for o in manifest["output"]}
    code, observations = client.download(by_type["Observation"]["url"])
    assert [o["id"] for o in observations] == ["o3"]
    code, patients = client.download(by_type["Patient"]["url"])
    assert all("name" not in p and any(t["code"] == "SUBSETTED" for t in p["meta"]["tag"]) for p in patients)
    assert client.kick_off("/$export", "?_typeFilter=Observation%3Fkode%3D1")[0] == 400
    assert client.kick_off("/$export", "?_outputFormat=text%2Fcsv")[0] == 400
    # deleted after _since: transaction Bundles of DELETE requests
    time.sleep(1.1)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    time.sleep(1.1)
    assert server.request("DELETE", "/Observation/o7", token=token)[0] < 300
    status, headers, _ = client.kick_off(query=f"?_type=Observation&_since={since}")
    assert status == 202, headers
    status, manifest = client.poll(headers["Content-Location"])
    assert status == 200 and manifest["output"] == [], manifest
    [deleted] = manifest["deleted"]
    code, bundles = client.download(deleted["url"])
    assert code == 200 and bundles[0]["type"] == "transaction"
    assert [e["request"] for e in bundles[0]["entry"]] == [{"method": "DELETE", "url": "Observation/o7"}]


def test_files_expire(data_dir, monkeypatch):
    monkeypatch.setenv("ENLACE_BULK_EXPORT_RETENTION_SECONDS", "2")
    from conftest import Server, free_port
    s = Server(data_dir, free_port()).start()
    try:
        token = s.token()
        assert s.request("PUT", "/Patient/x", {"resourceType": "Patient", "id": "x"}, token)[0] == 201
        client = BulkClient(s, token)
        status, headers, _ = client.kick_off(query="?_type=Patient")
        status_url = headers["Content-Location"]
        status, manifest = client.poll(status_url)
        assert status == 200
        url = manifest["output"][0]["url"]
        assert client.download(url)[0] == 200
        time.sleep(3)
        assert client.poll(status_url)[0] == 404
        assert client.download(url)[0] == 404
    finally:
        s.stop()
