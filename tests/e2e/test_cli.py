"""The command line a newcomer and an operator use: serve, token, --help, --version."""
import subprocess

from conftest import enlace_binary


def run(*args, input=None):
    return subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=60)


def test_help_and_version():
    r = run("--help")
    assert r.returncode == 0 and "serve" in r.stdout and "token" in r.stdout
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip().count(".") == 2


def test_token_refuses_scopes_that_grant_nothing(data_dir):
    r = run("token", "--data", data_dir, "--scope", "openid")
    assert r.returncode != 0 and "grants nothing" in r.stderr
    r = run("token", "--data", data_dir, "--ttl", "0")
    assert r.returncode != 0 and "--ttl" in r.stderr


def test_curl_style_walkthrough(server):
    """The README's walk-through: create, read, update, delete and history of a Patient and an Observation."""
    token = server.token()
    status, headers, patient = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": "Hernández", "given": ["Lucía"]}],
                                                                   "identifier": [{"system": "http://www.renapo.gob.mx/curp", "value": "HELL900215MDFRRC07"}]}, token)
    assert status == 201 and headers["ETag"] == 'W/"1"'
    pid = patient["id"]
    status, _, obs = server.request("POST", "/Observation", {"resourceType": "Observation", "status": "final",
                                                             "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
                                                             "subject": {"reference": f"Patient/{pid}"},
                                                             "effectiveDateTime": "2026-11-24T10:00:00-06:00",
                                                             "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}, token)
    assert status == 201
    oid = obs["id"]
    obs["valueQuantity"]["value"] = 75
    status, _, obs2 = server.request("PUT", f"/Observation/{oid}", obs, token, headers={"If-Match": 'W/"1"'})
    assert status == 200 and obs2["meta"]["versionId"] == "2"
    status, _, _ = server.request("DELETE", f"/Observation/{oid}", token=token)
    assert status == 200
    status, _, _ = server.request("GET", f"/Observation/{oid}", token=token)
    assert status == 410
    status, _, hist = server.request("GET", f"/Observation/{oid}/_history", token=token)
    assert status == 200 and [e["request"]["method"] for e in hist["entry"]] == ["DELETE", "PUT", "POST"]
    status, _, p = server.request("GET", f"/Patient/{pid}", token=token)
    assert status == 200 and p["name"][0]["family"] == "Hernández"
    status, _, _ = server.request("GET", f"/Patient/{pid}")
    assert status == 401
