"""Bulk Data $import (ping and pull, docs/interop.md#bulk-import) against the real binary: one
Enlace exports ($export), the NDJSON files are served over 127.0.0.1 by a plain HTTP server, a
second Enlace imports them ($import) and holds the same resources; bad input gets precise
OperationOutcomes; cancel."""
import http.server
import json
import os
import threading
import time
import urllib.error
import urllib.request

import pytest

from conftest import Server, free_port
from test_interop_bulk_export import BulkClient, seed


class Files:
    """NDJSON files over HTTP on 127.0.0.1 (what an institution's file server would be), with a
    few paths that misbehave: /slow/ (a line every 20 ms), /redirect-off (a 302 to a host that
    is not allowed), /redirect-on/NAME (a 302 to /NAME)."""

    def __init__(self, directory):
        self.directory = directory
        files = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=files.directory, **kwargs)

            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.startswith("/slow/"):
                    self.send_response(200)
                    self.send_header("Content-Type", "application/fhir+ndjson")
                    self.end_headers()
                    try:
                        for i in range(400):
                            line = {"resourceType": "Patient", "id": f"lento{i}", "name": [{"family": f"Lento{i}"}]}
                            self.wfile.write((json.dumps(line) + "\n").encode())
                            self.wfile.flush()
                            time.sleep(0.02)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if self.path == "/redirect-off":
                    self.send_response(302)
                    self.send_header("Location", f"http://127.0.0.2:{files.port}/Patient.ndjson")
                    self.end_headers()
                    return
                if self.path.startswith("/redirect-on/"):
                    self.send_response(302)
                    self.send_header("Location", "/" + self.path[len("/redirect-on/"):])
                    self.end_headers()
                    return
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def write(self, name, lines):
        with open(os.path.join(self.directory, name), "w") as f:
            for line in lines:
                f.write(line if isinstance(line, str) else json.dumps(line))
                f.write("\n")
        return f"{self.base}/{name}"

    def close(self):
        self.httpd.shutdown()


def kick_off(server, token, inputs, source="https://hospital-a.example.mx/fhir", extra=None, headers=None, plain=False):
    """plain: the import draft's own body (import.md: a JSON object, Content-Type application/json)."""
    if plain:
        body = {"inputFormat": "application/fhir+ndjson", "inputSource": source, "storageDetail": {"type": "https"},
                "input": [{"type": t, "url": u} for t, u in inputs]}
    else:
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "inputFormat", "valueCode": "application/fhir+ndjson"},
            {"name": "inputSource", "valueUri": source},
            {"name": "storageDetail", "part": [{"name": "type", "valueCode": "https"}]},
        ] + [{"name": "input", "part": [{"name": "type", "valueCode": t}, {"name": "url", "valueUrl": u}]} for t, u in inputs] + (extra or [])}
    h = {"Prefer": "respond-async"}
    if plain:
        h.update({"Content-Type": "application/json", "Accept": "application/fhir+json"})
    h.update(headers or {})
    return server.request("POST", "/$import", body, token=token, headers=h)


def spanish(outcome):
    return " ".join(i.get("details", {}).get("text", "") for i in outcome["issue"])


@pytest.fixture
def files(tmp_path):
    f = Files(str(tmp_path))
    yield f
    f.close()


@pytest.fixture
def importer(tmp_path, files):
    d = tmp_path / "importer"
    d.mkdir()
    s = Server(str(d), free_port(), extra=["--import-allow", f"127.0.0.1:{files.port}"]).start()
    yield s
    s.stop()


def test_export_from_one_enlace_import_into_another(server, importer, files):
    """The round trip: $export from `server`, the files over HTTP, $import into `importer`;
    the same counts and the same resources; importing again duplicates nothing."""
    token = server.token()
    seed(server, token)
    exporter = BulkClient(server, token)
    status, headers, _ = exporter.kick_off(query="?_type=Patient,Observation")
    assert status == 202, headers
    status, manifest = exporter.poll(headers["Content-Location"])
    assert status == 200, manifest
    inputs = []
    for output in manifest["output"]:
        code, resources = exporter.download(output["url"])
        assert code == 200
        inputs.append((output["type"], files.write(f"{output['type']}.ndjson", resources)))
    assert sorted(t for t, _ in inputs) == ["Observation", "Patient"]

    itoken = importer.token("system/*.cruds")
    status, headers, outcome = kick_off(importer, itoken, inputs)
    assert status == 202, outcome
    status_url = headers["Content-Location"]
    assert "/$import-status/" in status_url
    client = BulkClient(importer, itoken)
    status, result = client.poll(status_url)
    assert status == 200, result
    assert result["requiresAccessToken"] is True and result["request"].endswith("/$import") and result["transactionTime"]
    assert result["error"] == [], result
    counts = {o["type"]: o["count"] for o in result["output"]}
    assert counts == {"Patient": 30, "Observation": 30}
    assert {o["inputUrl"] for o in result["output"]} == {u for _, u in inputs}

    for type_ in ("Patient", "Observation"):
        a = server.request("GET", f"/{type_}?_summary=count", token=token)[2]["total"]
        b = importer.request("GET", f"/{type_}?_summary=count", token=itoken)[2]["total"]
        assert a == b == 30
    for pid in ("p0", "p17", "p29"):
        original = server.request("GET", f"/Patient/{pid}", token=token)[2]
        copy = importer.request("GET", f"/Patient/{pid}", token=itoken)[2]
        assert copy["name"] == original["name"] and copy["id"] == pid
        assert copy["meta"]["source"] == "https://hospital-a.example.mx/fhir"
    original = server.request("GET", "/Observation/o5", token=token)[2]
    copy = importer.request("GET", "/Observation/o5", token=itoken)[2]
    assert copy["subject"] == original["subject"] and copy["valueQuantity"] == original["valueQuantity"]
    # searches work on what was imported (it was indexed like any write)
    found = importer.request("GET", "/Observation?subject=Patient/p5", token=itoken)[2]
    assert found["total"] == 1 and found["entry"][0]["resource"]["id"] == "o5"
    # each imported patient finds the import in their access log: the writes were audited
    log = importer.request("GET", "/AuditEvent?patient=p3&_count=100", token=itoken)
    assert log[0] == 200, log
    imports = [e["resource"] for e in log[2]["entry"] if "POST /fhir/$import" in e["resource"].get("outcomeDesc", "")
               and e["resource"]["subtype"][0]["code"] == "transaction"]
    assert imports and any(x["what"].get("reference") == "Patient/p3" for x in imports[0]["entity"])

    # the same import again: nothing duplicated (resources are stored by id) and nothing written
    # again (each is already its current version): no second version, counted as unchanged —
    # this time with the draft's plain JSON body
    time.sleep(1.1)
    status, headers, outcome = kick_off(importer, itoken, inputs, plain=True)
    assert status == 202, outcome
    status, again = client.poll(headers["Content-Location"])
    assert status == 200 and {o["type"]: o["count"] for o in again["output"]} == {"Patient": 30, "Observation": 30}
    assert {o["type"]: o["extension"]["unchanged"] for o in again["output"]} == {"Patient": 30, "Observation": 30}, again
    assert importer.request("GET", "/Patient?_summary=count", token=itoken)[2]["total"] == 30
    assert importer.request("GET", "/Patient/p3/_history", token=itoken)[2]["total"] == 1


def patient(pid, family):
    return {"resourceType": "Patient", "id": pid, "name": [{"family": family}]}


def test_bad_input_gets_precise_outcomes_and_good_lines_are_kept(importer, files, server):
    token = importer.token("system/*.cruds")
    # something stored before the import: a bad line with its id must not damage it
    assert importer.request("PUT", "/Patient/keep", patient("keep", "Original"), token)[0] == 201
    good = files.write("Patient.ndjson", [patient(f"g{i}", f"Bueno{i}") for i in range(3)])

    # not Parameters, no Prefer, an unknown type, a bad inputFormat: 400 before any job
    status, _, oo = importer.request("POST", "/$import", {"resourceType": "Patient"}, token=token, headers={"Prefer": "respond-async"})
    assert status == 400 and oo["resourceType"] == "OperationOutcome" and "Parameters" in json.dumps(oo) and "recibe" in spanish(oo)
    status, _, oo = kick_off(importer, token, [("Patient", good)], headers={"Prefer": "return=minimal"})
    assert status == 400 and "respond-async" in json.dumps(oo)
    status, _, oo = kick_off(importer, token, [("Paciente", good)])
    assert status == 400 and "Paciente" in json.dumps(oo) and "no es un tipo" in spanish(oo)
    # the same refusal in the draft's plain JSON form names the JSON path
    status, _, oo = kick_off(importer, token, [("Patient", good), ("Paciente", good)], plain=True)
    assert status == 400 and oo["issue"][0]["expression"] == ["input[1].type"] and "no es un tipo" in spanish(oo), oo
    status, _, oo = kick_off(importer, token, [("Patient", good)], extra=[{"name": "inputFormat", "valueCode": "text/csv"}])
    assert status == 400 and "more than once" in json.dumps(oo)
    # a host (here: another port) that is not on the allow list: 403 saying how to allow it
    status, _, oo = kick_off(importer, token, [("Patient", f"http://127.0.0.1:{files.port + 1}/Patient.ndjson")])
    assert status == 403 and "--import-allow" in json.dumps(oo) and "permitida" in spanish(oo)
    # a server that allows no source at all
    status, _, oo = kick_off(server, server.token("system/*.cruds"), [("Patient", good)])
    assert status == 403 and "--import-allow" in json.dumps(oo) and "ninguna fuente" in spanish(oo)
    # a token that may only read: 403 naming the scopes needed
    status, _, oo = kick_off(importer, importer.token("system/*.rs"), [("Patient", good)])
    assert status == 403 and "system/Patient.cu" in json.dumps(oo)
    # no token
    assert kick_off(importer, None, [("Patient", good)])[0] == 401

    # one job: a file with bad lines, a 404, a redirect off the list, a redirect on it
    mixed = files.write("Mixed.ndjson", [
        patient("m1", "Mezcla"),
        '{"resourceType": "Patient",',                                         # line 2: broken JSON
        {"resourceType": "Patient", "id": "keep", "gender": "sometimes"},       # line 3: invalid code, existing id
        {"resourceType": "Observation", "id": "o-x", "status": "final", "code": {"text": "x"}},  # line 4: another type
        "",
        patient("m2", "Mezcla"),
    ])
    missing = files.base + "/missing.ndjson"
    off = files.base + "/redirect-off"
    on = files.base + "/redirect-on/Patient.ndjson"
    status, headers, oo = kick_off(importer, token, [("Patient", mixed), ("Patient", missing), ("Patient", off), ("Patient", on)])
    assert status == 202, oo
    client = BulkClient(importer, token)
    status, result = client.poll(headers["Content-Location"])
    assert status == 200, result
    assert [o["count"] for o in result["output"]] == [2, 0, 0, 3]
    errors = {e["inputUrl"]: e for e in result["error"]}
    assert set(errors) == {mixed, missing, off}
    assert errors[mixed]["count"] == 3 and errors[mixed]["type"] == "OperationOutcome"
    code, outcomes = client.download(errors[mixed]["url"])
    assert code == 200 and all(o["resourceType"] == "OperationOutcome" for o in outcomes)
    text = json.dumps(outcomes, ensure_ascii=False)
    assert "line 2: not valid JSON" in text and "línea 2: no es JSON válido" in text
    assert "line 3:" in text and "gender" in text
    assert "line 4: a Observation in a file of type Patient" in text
    code, outcomes = client.download(errors[missing]["url"])
    assert "HTTP 404" in json.dumps(outcomes) and outcomes[0]["issue"][0]["code"] == "not-found"
    code, outcomes = client.download(errors[off]["url"])
    assert "127.0.0.2" in json.dumps(outcomes) and "not followed" in json.dumps(outcomes)
    # the error files need the token of whoever started the import
    assert client.download(errors[mixed]["url"], with_token=False)[0] == 401
    # the good lines are stored, the existing resource is untouched
    for pid in ("m1", "m2", "g0", "g2"):
        assert importer.request("GET", f"/Patient/{pid}", token=token)[0] == 200
    kept = importer.request("GET", "/Patient/keep", token=token)[2]
    assert kept["meta"]["versionId"] == "1" and kept["name"] == [{"family": "Original"}] and "gender" not in kept
    assert importer.request("GET", "/Observation/o-x", token=token)[0] == 404


def test_progress_one_import_at_a_time_and_cancel(importer, files):
    token = importer.token("system/*.cruds")
    slow = files.base + "/slow/Patient.ndjson"
    status, headers, oo = kick_off(importer, token, [("Patient", slow)])
    assert status == 202, oo
    status_url = headers["Content-Location"]
    # a second import while the first runs is told to wait
    status, headers2, oo = kick_off(importer, token, [("Patient", slow)])
    assert status == 429 and headers2.get("Retry-After") and oo["issue"][0]["code"] == "throttled"
    req = urllib.request.Request(status_url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 202 and "archivos" in r.headers["X-Progress"] and len(r.headers["X-Progress"]) < 100
        assert r.headers["Retry-After"]
    # another token's subject does not see the job
    other = importer.token("system/*.cruds")
    assert other != token
    time.sleep(1)
    req = urllib.request.Request(status_url, method="DELETE", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 202
    try:
        urllib.request.urlopen(urllib.request.Request(status_url, headers={"Authorization": f"Bearer {token}"}), timeout=30)
        after = 200
    except urllib.error.HTTPError as e:
        after = e.code
        assert json.loads(e.read())["resourceType"] == "OperationOutcome"
    assert after == 404
    # the slow file would have ended after 8 s: nothing of it is stored after the cancel
    time.sleep(8)
    assert importer.request("GET", "/Patient?_summary=count", token=token)[2]["total"] == 0
    # and a new import may start
    status, _, oo = kick_off(importer, token, [("Patient", files.write("One.ndjson", [patient("uno", "Uno")]))])
    assert status == 202, oo


def test_each_file_is_bounded_in_size_and_time(tmp_path, files):
    """The real fetcher's bounds: a file larger than --import-max-file-bytes and one slower than
    --import-file-timeout each get an OperationOutcome; what arrived in time is kept; the other
    inputs go on."""
    d = tmp_path / "bounded"
    d.mkdir()
    s = Server(str(d), free_port(), extra=["--import-allow", f"127.0.0.1:{files.port}",
                                           "--import-max-file-bytes", "9000", "--import-file-timeout", "2"]).start()
    try:
        token = s.token("system/*.cruds")
        big = files.write("Big.ndjson", [patient(f"grande{i}", "Grande" * 10) for i in range(200)])
        assert os.path.getsize(os.path.join(files.directory, "Big.ndjson")) > 9000
        small = files.write("Small.ndjson", [patient("chico", "Chico")])
        slow = files.base + "/slow/Patient.ndjson"
        status, headers, oo = kick_off(s, token, [("Patient", big), ("Patient", slow), ("Patient", small)])
        assert status == 202, oo
        client = BulkClient(s, token)
        status, result = client.poll(headers["Content-Location"])
        assert status == 200, result
        counts = [o["count"] for o in result["output"]]
        assert counts[0] == 0 and counts[2] == 1, result
        # the slow file sends a line every 20 ms: about 100 arrive in the 2 s allowed, far from its 400
        assert 1 <= counts[1] < 400, result
        errors = {e["inputUrl"]: e for e in result["error"]}
        assert set(errors) == {big, slow}
        code, outcomes = client.download(errors[big]["url"])
        assert outcomes[0]["issue"][0]["code"] == "too-costly" and "--import-max-file-bytes" in json.dumps(outcomes)
        code, outcomes = client.download(errors[slow]["url"])
        assert outcomes[0]["issue"][0]["code"] == "timeout" and "--import-file-timeout" in json.dumps(outcomes), outcomes
        assert s.request("GET", "/Patient?_summary=count", token=token)[2]["total"] == counts[1] + 1
        assert s.request("GET", "/Patient/grande0", token=token)[0] == 404
    finally:
        s.stop()
