"""Prevention's accountable actions end to end against the real binary (docs/prevention.md): the in-server
consumer writes the WHO 2019 cardiovascular RiskAssessment whose Provenance names the chart, its region and
version; a clinician overrides it with a reason (`$record-decision`, a Provenance the patient reads); reminders
(`Patient/$send-reminders`) are Communications with their channel, never to the patient who opposed contact;
and `enlace serve --knowledge FILE` serves a replacement Cartilla or refuses a bad one with a clear error."""
import json
import os
import pathlib
import re
import subprocess
import time

from conftest import Server, enlace_binary, free_port
from test_prevention import cli, practitioner, put, wait_for

ROOT = pathlib.Path(__file__).resolve().parents[2]


def obs(patient, code, value=None, unit=None, concept=None):
    o = {"resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
         "subject": {"reference": f"Patient/{patient}"}, "effectiveDateTime": "2026-10-01"}
    if concept:
        o["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct", "code": concept}]}
    else:
        o["valueQuantity"] = {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}
    return o


def params(*parts):
    return {"resourceType": "Parameters", "parameter": [dict(name=n, **{k: v}) for n, k, v in parts]}


def test_cardiovascular_risk_decision_and_reminders(server):
    op = server.token()
    born = f"{int(time.strftime('%Y', time.gmtime())) - 56}-01-15"  # 55–59 all year
    for r in [{"resourceType": "Organization", "id": "imss", "name": "IMSS UMF 20"}, {"resourceType": "Practitioner", "id": "dra-imss"},
              {"resourceType": "Patient", "id": "jorge", "gender": "male", "birthDate": born},
              {"resourceType": "Patient", "id": "marta", "gender": "female", "birthDate": "1990-01-01"},
              {"resourceType": "Patient", "id": "otro", "gender": "male", "birthDate": "1980-01-01", "name": [{"family": "Oculto"}]}]:
        put(server, op, r)
    for pt in ("jorge", "marta"):
        put(server, op, {"resourceType": "Encounter", "id": f"e-{pt}", "status": "finished",
                         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                         "subject": {"reference": f"Patient/{pt}"}, "participant": [{"individual": {"reference": "Practitioner/dra-imss"}}],
                         "serviceProvider": {"reference": "Organization/imss"}})
    dra = practitioner(server, "dra-imss", "imss")

    # a non-diabetic male smoker of 55–59, 150 mmHg, 6.2 mmol/L: the Central Latin America chart says 12 %
    for o in [obs("jorge", "8480-6", 150, "mm[Hg]"), obs("jorge", "2093-3", 240, "mg/dL"), obs("jorge", "72166-2", concept="449868002")]:
        status, _, out = server.request("POST", "/Observation", o, token=dra)
        assert status == 201, out

    def risk():
        status, _, body = server.request("GET", "/RiskAssessment/cvd-jorge", token=dra)
        return body if status == 200 and body.get("status") == "final" else None
    ra = wait_for(risk)
    assert ra["prediction"][0]["probabilityDecimal"] == 0.12, ra["prediction"]
    assert {s["code"] for s in ra["meta"]["security"]} >= {"AIAST", "risk-cardiovascular"}
    version = ra["meta"]["versionId"]
    status, _, provs = server.request("GET", "/Provenance?target=RiskAssessment/cvd-jorge", token=dra)
    prov = next(e["resource"] for e in provs["entry"] if e["resource"]["target"][0]["reference"] == f"RiskAssessment/cvd-jorge/_history/{version}")
    device = prov["contained"][0]
    assert device["resourceType"] == "Device" and "Central Latin America" in device["deviceName"][0]["name"]
    assert device["version"][0]["value"] == "2019.1"

    # the clinician overrides it, with a reason; the patient reads the decision
    status, _, dec = server.request("POST", "/RiskAssessment/cvd-jorge/$record-decision",
                                    params(("decision", "valueCode", "override"), ("reason", "valueString", "Dejó de fumar la semana pasada")), token=dra)
    assert status == 201, dec
    assert dec["agent"][0]["who"]["reference"] == "Practitioner/dra-imss" and dec["agent"][0]["type"]["coding"][0]["code"] == "verifier"
    assert dec["entity"][0]["what"]["reference"] == f"RiskAssessment/cvd-jorge/_history/{version}"
    cli("users", "add", "--data", server.data_dir, "--username", "jorge", "--role", "patient", "--patient", "Patient/jorge", "--password-stdin",
        input="una-contraseña-muy-larga\n")
    jorge = cli("token", "--data", server.data_dir, "--port", str(server.port), "--user", "jorge", "--scope", "patient/*.rs")
    status, _, mine = server.request("GET", "/Provenance?patient=jorge", token=jorge)
    assert status == 200 and "Dejó de fumar la semana pasada" in json.dumps(mine, ensure_ascii=False)
    # refusals are bilingual OperationOutcomes
    status, _, bad = server.request("POST", "/RiskAssessment/cvd-jorge/$record-decision", params(("decision", "valueCode", "override")), token=dra)
    assert status == 400 and bad["issue"][0]["code"] == "required" and "motivo" in bad["issue"][0]["details"]["text"]
    status, _, _ = server.request("POST", "/RiskAssessment/cvd-jorge/$record-decision",
                                  params(("decision", "valueCode", "accept"), ("reason", "valueString", "yo")), token=jorge)
    assert status == 403

    # Marta opposed contact: the reminder goes to Jorge only; the stranger is not found
    put(server, op, {"resourceType": "Consent", "id": "no-contactar-marta", "status": "active",
                     "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                     "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}], "patient": {"reference": "Patient/marta"},
                     "provision": {"type": "deny", "action": [{"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/consent-action", "code": "contact"}]}]}})
    ask = {"resourceType": "Parameters", "parameter": [{"name": "patient", "valueReference": {"reference": f"Patient/{p}"}} for p in ("jorge", "marta", "otro")]
           + [{"name": "medium", "valueCode": "sms"}]}
    status, _, out = server.request("POST", "/Patient/$send-reminders", ask, token=dra)
    assert status == 200, out
    result = {next(x["valueReference"]["reference"] for x in r["part"] if x["name"] == "patient"):
              next(x["valueCode"] for x in r["part"] if x["name"] == "status") for r in out["parameter"]}
    assert result == {"Patient/jorge": "sent", "Patient/marta": "opposed", "Patient/otro": "not-found"}, result
    assert "Oculto" not in json.dumps(out)
    status, _, comms = server.request("GET", "/Communication?subject=Patient/jorge", token=op)
    comm = comms["entry"][0]["resource"]
    assert comm["medium"][0]["coding"][0]["code"] == "SMSWRIT" and comm["category"][0]["coding"][0]["code"] == "reminder"
    status, _, none = server.request("GET", "/Communication?subject=Patient/marta", token=op)
    assert not none.get("entry")


def embedded_cartilla():
    text = (ROOT / "Sources/Prevention/Knowledge/CartillaNacionalDeSalud2024.json.swift").read_text()
    return json.loads(text[text.index('#"""') + 4:text.rindex('"""#')])


def test_knowledge_file_at_start(tmp_path):
    # a malformed file: the server refuses to start and says why
    bad = tmp_path / "bad.json"
    bad.write_text('{"resourceType": "Bundle", "type": "collection", "entry": [')
    port = free_port()
    r = subprocess.run([enlace_binary(), "serve", "--data", str(tmp_path / "d1"), "--port", str(port), "--knowledge", str(bad)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "--knowledge" in r.stderr and "not JSON" in r.stderr, r.stderr
    wrong = embedded_cartilla()
    # an action pointing at an ActivityDefinition the file does not hold
    plan = next(e["resource"] for e in wrong["entry"] if e["resource"]["resourceType"] == "PlanDefinition")
    plan["action"][0]["definitionCanonical"] = "https://enlace.mx/fhir/ActivityDefinition/no-existe"
    (tmp_path / "wrong.json").write_text(json.dumps(wrong))
    r = subprocess.run([enlace_binary(), "serve", "--data", str(tmp_path / "d2"), "--port", str(port), "--knowledge", str(tmp_path / "wrong.json")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "--knowledge" in r.stderr, r.stderr
    # a replacement edition: served, and named in the care-gaps report
    good = embedded_cartilla()
    good["meta"]["versionId"] = "2099.1-operador"
    (tmp_path / "good.json").write_text(json.dumps(good))
    (tmp_path / "d3").mkdir()
    s = Server(str(tmp_path / "d3"), free_port(), extra=["--knowledge", str(tmp_path / "good.json")])
    s.start()
    try:
        op = s.token()
        put(s, op, {"resourceType": "Patient", "id": "nina", "gender": "female", "birthDate": "2026-01-10"})
        status, _, body = s.request("GET", "/Patient/nina/$care-gaps", token=op)
        assert status == 200, body
        composition = body["parameter"][0]["resource"]["entry"][0]["resource"]
        assert "2099.1-operador" in composition["author"][0]["display"], composition["author"]
    finally:
        s.stop()
