"""Consent (docs/consent.md) end to end over real HTTP against the real binary: users made with the CLI, their
tokens from `enlace token --user`, and every step of consent the issue lists — refused without a
relationship, approved request, revocation, break-the-glass that ends by itself, and a withheld
genetic result that no response to the patient betrays until an accompanied disclosure."""
import json
import subprocess
import time

import pytest

from conftest import Server, enlace_binary, free_port

TASKS = "https://enlace.mx/fhir/CodeSystem/privacy-task"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
BTG_MINUTES = 0.1  # six seconds, so the test sees the grant end


def cli(*args, input=None):
    r = subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture
def server(data_dir):
    s = Server(data_dir, free_port(), extra=["--break-the-glass-minutes", str(BTG_MINUTES), "--no-totp-for-staff"]).start()
    yield s
    s.stop()


def user(server, name, role, *context):
    cli("users", "add", "--data", server.data_dir, *server.store_args, "--username", name, "--role", role, *context,
        "--password-stdin", input="una-contraseña-muy-larga\n")
    scope = "patient/*.cruds" if role == "patient" else "user/*.cruds"
    return cli("token", "--data", server.data_dir, *server.store_args, "--port", str(server.port), "--user", name, "--scope", scope)


def consent(patient, provision):
    return {"resourceType": "Consent", "status": "active",
            "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
            "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
            "patient": {"reference": f"Patient/{patient}"},
            "policyRule": {"coding": [{"system": ACT, "code": "OPTIN"}]}, "provision": provision}


def actor(ref):
    return [{"role": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "code": "IRCP"}]},
             "reference": {"reference": ref}}]


def total(body):
    return body.get("total") if isinstance(body, dict) else None


def test_consent_over_http(server):
    op = server.token()
    for r in [{"resourceType": "Patient", "id": "ana", "name": [{"family": "Torres", "given": ["Ana"]}]},
              {"resourceType": "Observation", "id": "glu", "status": "final",
               "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "subject": {"reference": "Patient/ana"}},
              {"resourceType": "CareTeam", "id": "genetica", "subject": {"reference": "Patient/ana"},
               "participant": [{"member": {"reference": "Practitioner/dr-gen"}}]}]:
        status, _, body = server.request("PUT", f"/{r['resourceType']}/{r['id']}", r, op)
        assert status == 201, body
    ana = user(server, "ana", "patient", "--patient", "Patient/ana")
    lopez = user(server, "lopez", "practitioner", "--practitioner", "Practitioner/dr-lopez", "--organization", "Organization/clinica")
    urg = user(server, "urg", "practitioner", "--practitioner", "Practitioner/dr-urg", "--organization", "Organization/hospital")
    gen = user(server, "gen", "practitioner", "--practitioner", "Practitioner/dr-gen", "--organization", "Organization/clinica")

    # 1. no treating relationship: refused exactly like a missing resource
    hidden = server.request("GET", "/Observation/glu", token=lopez)
    missing = server.request("GET", "/Observation/nunca", token=lopez)
    assert hidden[0] == missing[0] == 404
    assert hidden[2]["issue"][0]["code"] == missing[2]["issue"][0]["code"]
    assert total(server.request("GET", "/Observation?subject=Patient/ana", token=lopez)[2]) == 0

    # 2. he asks; she approves; the same read succeeds
    status, _, task = server.request("POST", "/Task", {
        "resourceType": "Task", "status": "requested", "intent": "proposal",
        "code": {"coding": [{"system": TASKS, "code": "consent-request"}]},
        "for": {"reference": "Patient/ana"}, "requester": {"reference": "Practitioner/dr-lopez"},
        "input": [{"type": {"text": "purpose"}, "valueCode": "TREAT"},
                  {"type": {"text": "duration"}, "valueDuration": {"value": 30, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}}]}, lopez)
    assert status == 201, task
    assert server.request("GET", "/Observation/glu", token=lopez)[0] == 404
    status, _, granted = server.request("POST", f"/Task/{task['id']}/$approve", token=ana)
    assert status == 201, granted
    assert server.request("GET", "/Observation/glu", token=lopez)[0] == 200

    # 3. she revokes; his very next read is refused
    status, _, _ = server.request("PUT", f"/Consent/{granted['id']}", dict(granted, status="inactive"), ana)
    assert status == 200
    assert server.request("GET", "/Observation/glu", token=lopez)[0] == 404

    # 4. break-the-glass: works, is visible to her, and ends after its time
    assert server.request("GET", "/Observation/glu", token=urg)[0] == 404
    status, _, btg = server.request("POST", "/Patient/ana/$break-the-glass",
                                    {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": "Paciente inconsciente en urgencias"}]}, urg)
    assert status == 201, btg
    started = time.time()
    assert server.request("GET", "/Observation/glu", token=urg)[0] == 200
    told = server.request("GET", "/Communication?subject=Patient/ana", token=ana)[2]
    assert total(told) == 1 and f"Task/{btg['id']}" in json.dumps(told)
    log = json.dumps(server.request("GET", "/AuditEvent?patient=ana&_count=100", token=ana)[2])
    assert "ETREAT" in log and "dr-urg" in log
    time.sleep(max(0.0, BTG_MINUTES * 60 + 1.5 - (time.time() - started)))
    assert server.request("GET", "/Observation/glu", token=urg)[0] == 404

    # 5. a genetic result she chose not to be told about
    status, _, _ = server.request("POST", "/Consent", consent("ana", {"type": "permit", "actor": actor("Practitioner/dr-gen"),
                                                                      "securityLabel": [{"system": ACT, "code": "GDIS"}]}), ana)
    assert status == 201
    ntk = consent("ana", {"type": "deny", "actor": actor("Patient/ana"), "securityLabel": [{"system": ACT, "code": "GDIS"}]})
    ntk["policyRule"] = {"coding": [{"system": ACT, "code": "OPTOUT"}]}
    assert server.request("POST", "/Consent", ntk, ana)[0] == 201
    status, _, result = server.request("POST", "/Observation", {
        "resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/ana"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "51969-4", "display": "Genetic analysis report"}]},
        "valueString": "Variante patogénica"}, gen)
    assert status == 201, result
    gid = result["id"]
    assert any(s["code"] == "GDIS" for s in result["meta"]["security"])
    team = server.request("GET", "/Observation?subject=Patient/ana", token=gen)[2]
    assert total(team) == 2 and "chose not to be told" in json.dumps(team)

    # a read answers exactly like an id that never existed
    for path in [f"/Observation/{gid}", f"/Observation/{gid}/_history", f"/Observation/{gid}/_history/1"]:
        status, _, body = server.request("GET", path, token=ana)
        other = server.request("GET", path.replace(gid, "nunca-existio"), token=ana)
        assert status == other[0] == 404, path
        assert json.dumps(body).replace(gid, "nunca-existio") == json.dumps(other[2]), path
    paths = ["/Observation?subject=Patient/ana",
             "/Observation?code=http://loinc.org|51969-4", "/Patient/ana/$everything", "/Patient/ana/Observation",
             "/Patient?_id=ana&_revinclude=Observation:subject", "/Observation?_summary=count", "/Observation/_history",
             "/Provenance", "/AuditEvent?patient=ana&_count=200"]
    for path in paths:
        status, _, body = server.request("GET", path, token=ana)
        assert status == 200, path
        text = json.dumps({k: v for k, v in body.items() if k != "link"})  # the self link repeats the query
        assert gid not in text and "51969-4" not in text and "Variante" not in text, path
    assert server.request("GET", f"/Observation/{gid}", token=ana)[0] == 404
    assert total(server.request("GET", "/Observation?_summary=count", token=ana)[2]) == 1
    assert total(server.request("GET", "/Patient?_has:Observation:subject:code=http://loinc.org|51969-4", token=ana)[2]) == 0

    # 6. the accompanied disclosure, recorded by the clinician, and then it appears
    disclosure = {"resourceType": "Task", "status": "completed", "intent": "order",
                  "code": {"coding": [{"system": TASKS, "code": "disclosure"}]}, "for": {"reference": "Patient/ana"},
                  "focus": {"reference": f"Observation/{gid}"}, "requester": {"reference": "Practitioner/dr-gen"}}
    assert server.request("POST", "/Task", disclosure, ana)[0] == 403
    assert server.request("POST", "/Task", disclosure, gen)[0] == 201
    assert server.request("GET", f"/Observation/{gid}", token=ana)[0] == 200
    assert total(server.request("GET", "/Observation?_summary=count", token=ana)[2]) == 2
    assert gid in json.dumps(server.request("GET", "/Patient/ana/$everything", token=ana)[2])

    # and the ledger behind all of it verifies
    server.stop()
    out = subprocess.run([enlace_binary(), "audit", "verify", "--data", server.data_dir], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    server.start()


def test_break_the_glass_minutes_is_checked(data_dir):
    r = subprocess.run([enlace_binary(), "serve", "--data", data_dir, "--port", str(free_port()), "--break-the-glass-minutes", "0"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert "--break-the-glass-minutes" in r.stderr


def test_a_consent_for_a_code_covers_its_descendants_and_search_expands_them(server):
    """A grant of CIE-10 E11 reaches a Condition coded E11.9 and nothing else; `:below`,
    `:above` and `:in` expand over the same hierarchy (docs/search.md, "Terminology modifiers")."""
    op = server.token()
    icd = "http://hl7.org/fhir/sid/icd-10"
    status, _, body = server.request("PUT", "/Patient/luz", {"resourceType": "Patient", "id": "luz", "name": [{"family": "Mora", "given": ["Luz"]}]}, op)
    assert status == 201, body
    for cid, code in [("dm2", "E11.9"), ("dm1", "E10.9"), ("hta", "I10")]:
        status, _, body = server.request("PUT", f"/Condition/{cid}", {
            "resourceType": "Condition", "id": cid, "subject": {"reference": "Patient/luz"},
            "code": {"coding": [{"system": icd, "code": code}]}}, op)
        assert status == 201, body
    luz = user(server, "luz", "patient", "--patient", "Patient/luz")
    dra = user(server, "dra.rios", "practitioner", "--practitioner", "Practitioner/dra-rios", "--organization", "Organization/clinica")

    def ids(path, token):
        status, _, bundle = server.request("GET", path, token=token)
        assert status == 200, bundle
        return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == "match")

    assert ids("/Condition?subject=Patient/luz", dra) == []
    status, _, body = server.request("POST", "/Consent", consent("luz", {"type": "permit", "actor": actor("Practitioner/dra-rios"),
                                                                         "code": [{"coding": [{"system": icd, "code": "E11"}]}]}), luz)
    assert status == 201, body
    # the grant names E11; the record says E11.9: covered. E10.9 and I10 are not
    assert ids("/Condition?subject=Patient/luz", dra) == ["dm2"]
    assert server.request("GET", "/Condition/dm1", token=dra)[0] == 404
    # search expands over the hierarchy, and the consent still narrows it
    assert ids(f"/Condition?subject=Patient/luz&code:below={icd}|E10-E14", op) == ["dm1", "dm2"]
    assert ids(f"/Condition?subject=Patient/luz&code:below={icd}|E10-E14", dra) == ["dm2"]
    assert ids(f"/Condition?subject=Patient/luz&code:above={icd}|E11.9", op) == ["dm2"]
    assert ids(f"/Condition?subject=Patient/luz&code:in={icd}?fhir_vs=isa/E10", op) == ["dm1"]
    assert ids(f"/Condition?subject=Patient/luz&code:not-in={icd}?fhir_vs=isa/E10-E14", op) == ["hta"]
    status, _, outcome = server.request("GET", "/Condition?code:below=http://loinc.org|2339-0", token=op)
    assert status == 400 and outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "not-supported", outcome
