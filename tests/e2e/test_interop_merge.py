"""One person across institutions against the real binary (docs/interop.md): one active Patient per
CURP, also when eight clients create it at once; Patient/$duplicates finds the pair, $merge moves the
source's record to the survivor, the patient sees the merge on their record (its Provenance and the
access log), and $unmerge restores both compartments exactly."""
import http.cookiejar
import json
import re
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest

from conftest import Server, enlace_binary, free_port

CURP_SYSTEM = "http://www.renapo.gob.mx/curp"
CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"


def with_check_digit(first17):
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return first17 + str((10 - total % 10) % 10)


CURP = with_check_digit("HELG850721MDFRPD0")


def cli(*args, input=None):
    r = subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def server(data_dir):
    s = Server(data_dir, free_port(), extra=["--no-totp-for-staff"]).start()
    yield s
    s.stop()


def patient(pid, given, curp=None, nss=None):
    ids = []
    if curp:
        ids.append({"system": CURP_SYSTEM, "value": curp})
    if nss:
        ids.append({"system": "http://www.imss.gob.mx/nss", "value": nss})
    p = {"resourceType": "Patient", "id": pid, "name": [{"family": "Hernández López", "given": given.split()}],
         "gender": "female", "birthDate": "1985-07-21"}
    if ids:
        p["identifier"] = ids
    return p


def compartment(server, token, pid):
    status, _, body = server.request("GET", f"/Patient/{pid}/$everything?_count=500", token=token)
    assert status == 200, body
    out = {}
    for e in body.get("entry", []):
        r = e["resource"]
        # Provenance and AuditEvent are never rewritten; what the prevention consumers derive
        # (recommendations, risk scores) is recomputed on their own schedule after each write
        if r["resourceType"] in ("Provenance", "AuditEvent", "ImmunizationRecommendation", "RiskAssessment"):
            continue
        meta = {k: v for k, v in r.get("meta", {}).items() if k not in ("versionId", "lastUpdated")}
        r = {k: v for k, v in r.items() if k != "meta"}
        if meta:
            r["meta"] = meta
        out[f"{r['resourceType']}/{r['id']}"] = json.dumps(r, sort_keys=True)
    return out


def portal_page(server, username, password, path):
    """Signs in to the portal (its form, CSRF cookie and session cookie) and returns the page's HTML."""
    root = server.base[: -len("/fhir")]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(root + "/entrar", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"csrf": csrf, "next": "/", "username": username, "password": password}).encode()
    opener.open(urllib.request.Request(root + "/entrar", data=form, method="POST",
                                       headers={"Content-Type": "application/x-www-form-urlencoded"}), timeout=30).read()
    return opener.open(root + path, timeout=30).read().decode()


def params(*parameters):
    return {"resourceType": "Parameters", "parameter": list(parameters)}


def ref(name, pid):
    return {"name": name, "valueReference": {"reference": f"Patient/{pid}"}}


def test_curp_unique_under_concurrent_creates(server):
    token = server.token()
    statuses = []

    def create(i):
        statuses.append(server.request("PUT", f"/Patient/r{i}", patient(f"r{i}", "Ana", curp=CURP), token)[0])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7, statuses
    status, _, body = server.request("POST", "/Patient", patient("x", "Ana", curp=CURP), token)
    assert status == 409 and body["issue"][0]["code"] == "duplicate"
    assert CURP in body["issue"][0]["diagnostics"] and "CURP" in body["issue"][0]["details"]["text"]
    status, _, found = server.request("GET", f"/Patient?identifier={CURP_SYSTEM}|{CURP}", token=token)
    assert len(found.get("entry", [])) == 1


def test_merge_visible_to_the_patient_and_unmerge_round_trips(server):
    token = server.token()
    for path, body in [
        ("Patient/tgt", patient("tgt", "María Guadalupe", curp=CURP)),
        ("Patient/src", patient("src", "Ma. Guadalupe", nss="12345678903")),
        ("Observation/o-src", {"resourceType": "Observation", "id": "o-src", "status": "final", "code": {"text": "glucosa"},
                               "subject": {"reference": "Patient/src"}}),
        ("Condition/c-tgt", {"resourceType": "Condition", "id": "c-tgt", "subject": {"reference": "Patient/tgt"}, "code": {"text": "hipertensión"}}),
    ]:
        assert server.request("PUT", "/" + path, body, token)[0] == 201, path
    before = {pid: compartment(server, token, pid) for pid in ("src", "tgt")}

    # the worklist has the pair
    status, _, work = server.request("GET", "/Patient/$duplicates", token=token)
    assert status == 200
    pairs = [p for p in work["parameter"] if p["name"] == "pair"]
    assert [[x["valueReference"]["reference"] for x in p["part"] if x["name"] == "patient"] for p in pairs] == [["Patient/src", "Patient/tgt"]]

    status, _, out = server.request("POST", "/Patient/$merge", params(ref("source-patient", "src"), ref("target-patient", "tgt")), token)
    assert status == 200, out
    status, _, obs = server.request("GET", "/Observation/o-src", token=token)
    assert obs["subject"]["reference"] == "Patient/tgt"

    # the patient (the survivor) sees the merge: its Provenance and the access log
    ana = (cli("users", "add", "--data", server.data_dir, "--username", "gpe", "--role", "patient", "--patient", "Patient/tgt",
               "--password-stdin", input="una-contraseña-muy-larga\n"),
           cli("token", "--data", server.data_dir, "--port", str(server.port), "--user", "gpe", "--scope", "patient/*.rs"))[1]
    status, _, prov = server.request("GET", "/Provenance?patient=Patient/tgt&_count=200", token=ana)
    assert status == 200
    merges = [e["resource"] for e in prov.get("entry", []) if e["resource"].get("entity")
              and e["resource"]["activity"]["coding"][0]["code"] == "merge"]
    assert len(merges) == 1 and "Fusión" in merges[0]["reason"][0]["text"]
    status, _, log = server.request("GET", "/AuditEvent?_count=200", token=ana)
    assert status == 200
    assert any("$merge" in json.dumps(e["resource"]) for e in log.get("entry", [])), "the merge request is on the patient's access log"
    # and on the portal's *Decisiones* page, in Spanish
    html = portal_page(server, "gpe", "una-contraseña-muy-larga", "/decisiones")
    assert "Fusión de expedientes" in html and "duplicate records merged" in html

    status, _, out = server.request("POST", "/Patient/$unmerge", params(ref("source-patient", "src")), token)
    assert status == 200, out
    after = {pid: compartment(server, token, pid) for pid in ("src", "tgt")}
    assert after == before
