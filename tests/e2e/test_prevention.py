"""Prevention (docs/prevention.md) end to end against the real binary: a child's Immunizations written by
clinicians of two institutions close the right gaps of `Patient/$care-gaps`; the outbox consumers, running in
the server, write the ImmunizationRecommendation and — when an adult's new HbA1c arrives — a new FINDRISC
RiskAssessment whose Provenance names the algorithm and its version; the hidden patient stays hidden."""
import subprocess
import time

from conftest import enlace_binary

CVX = "http://hl7.org/fhir/sid/cvx"


def cli(*args, input=None):
    r = subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def practitioner(server, name, org):
    cli("users", "add", "--data", server.data_dir, "--username", name, "--role", "practitioner",
        "--practitioner", f"Practitioner/{name}", "--organization", f"Organization/{org}", "--password-stdin",
        input="una-contraseña-muy-larga\n")
    return cli("token", "--data", server.data_dir, "--port", str(server.port), "--user", name, "--scope", "user/*.cruds")


def put(server, token, resource):
    status, _, body = server.request("PUT", f"/{resource['resourceType']}/{resource['id']}", resource, token=token)
    assert status in (200, 201), body


def dose(patient, code, date, place):
    return {"resourceType": "Immunization", "status": "completed", "vaccineCode": {"coding": [{"system": CVX, "code": code}]},
            "patient": {"reference": f"Patient/{patient}"}, "occurrenceDateTime": date, "performer": [{"actor": {"display": place}}]}


def open_gaps(server, token, patient):
    status, _, body = server.request("GET", f"/Patient/$care-gaps?subject=Patient/{patient}&status=open-gap", token=token)
    assert status == 200, body
    bundle = body["parameter"][0]["resource"]
    return {e["resource"]["id"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DetectedIssue"}


def wait_for(fn, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_gaps_recommendations_and_risk(server):
    op = server.token()
    for r in [{"resourceType": "Organization", "id": "imss", "name": "IMSS UMF 20"},
              {"resourceType": "Organization", "id": "privada", "name": "Clínica privada"},
              {"resourceType": "Practitioner", "id": "dra-imss"}, {"resourceType": "Practitioner", "id": "dr-privado"},
              # a child born about 7 months ago (so 2-, 4- and 6-month doses are owed), an adult, and a stranger
              {"resourceType": "Patient", "id": "nino", "gender": "male", "birthDate": time.strftime("%Y-%m-%d", time.gmtime(time.time() - 213 * 86400))},
              {"resourceType": "Patient", "id": "adulta", "gender": "female", "birthDate": "1968-01-01"},
              {"resourceType": "Patient", "id": "otro", "gender": "male", "birthDate": "2020-01-01", "name": [{"family": "Oculto"}]}]:
        put(server, op, r)
    for pt, org, who in [("nino", "imss", "dra-imss"), ("nino", "privada", "dr-privado"), ("adulta", "imss", "dra-imss")]:
        put(server, op, {"resourceType": "Encounter", "id": f"e-{pt}-{org}", "status": "finished",
                         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                         "subject": {"reference": f"Patient/{pt}"}, "participant": [{"individual": {"reference": f"Practitioner/{who}"}}],
                         "serviceProvider": {"reference": f"Organization/{org}"}})
    imss = practitioner(server, "dra-imss", "imss")
    privado = practitioner(server, "dr-privado", "privada")

    before = open_gaps(server, imss, "nino")
    assert {"bcg", "hexavalente", "neumococica-conjugada"} <= before and "rotavirus" not in before  # past 15 weeks

    born = time.time() - 213 * 86400
    day = lambda d: time.strftime("%Y-%m-%d", time.gmtime(born + d * 86400))
    # BCG and rotavirus at the IMSS; hexavalent and pneumococcal 1–3 split between the two institutions
    writes = [(imss, dose("nino", "19", day(1), "IMSS UMF 20")),
              (imss, dose("nino", "119", day(61), "IMSS UMF 20")), (privado, dose("nino", "119", day(122), "Clínica privada"))]
    for code in ["146", "133"]:
        writes += [(imss, dose("nino", code, day(61), "IMSS UMF 20")), (privado, dose("nino", code, day(122), "Clínica privada"))]
    writes.append((imss, dose("nino", "146", day(183), "IMSS UMF 20")))
    for token, body in writes:
        status, _, out = server.request("POST", "/Immunization", body, token=token)
        assert status == 201, out
    after = open_gaps(server, privado, "nino")
    assert "bcg" not in after and "hexavalente" not in after and "rotavirus" not in after
    assert "neumococica-conjugada" not in after  # dose 3 is due at 12 months: not a gap yet

    # the consumer wrote the recommendation: hexavalent dose 4 next, backed by doses of both institutions
    def recommendation():
        status, _, body = server.request("GET", "/ImmunizationRecommendation/cns-nino", token=imss)
        if status != 200:
            return None
        hexa = next((r for r in body["recommendation"] if r["series"] == "hexavalente"), None)
        return hexa if hexa and hexa.get("doseNumberPositiveInt") == 4 else None
    hexa = wait_for(recommendation)
    assert len(hexa["supportingImmunization"]) == 3

    # the adult: BMI 31, waist 92 → FINDRISC; a new HbA1c of 8.4 % raises it by 5
    for oid, code, value, unit in [("bmi", "39156-5", 31, "kg/m2"), ("cintura", "8280-0", 92, "cm")]:
        status, _, out = server.request("POST", "/Observation", {
            "resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": "Patient/adulta"}, "effectiveDateTime": "2026-10-01",
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}, token=imss)
        assert status == 201, out

    def risk(version):
        status, _, body = server.request("GET", "/RiskAssessment/findrisc-adulta", token=imss)
        return body if status == 200 and body["meta"]["versionId"] == version else None
    age = int(time.strftime("%Y", time.gmtime())) - 1968
    base = (4 if age > 64 else 3 if age >= 55 else 2) + 3 + 4
    # the consumer may have run between the two writes (a first version with the BMI only): wait for both
    first = wait_for(lambda: next((b for b in [risk("1"), risk("2")] if b and f"FINDRISC {base}/26" in b["note"][0]["text"]), None))
    assert f"FINDRISC {base}/26" in first["note"][0]["text"], first["note"]
    status, _, _ = server.request("POST", "/Observation", {
        "resourceType": "Observation", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
        "subject": {"reference": "Patient/adulta"}, "effectiveDateTime": "2026-11-01",
        "valueQuantity": {"value": 8.4, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}, token=imss)
    assert status == 201
    second = wait_for(lambda: (lambda b: b if b and f"FINDRISC {base + 5}/26" in b["note"][0]["text"] else None)(
        server.request("GET", "/RiskAssessment/findrisc-adulta", token=imss)[2]))
    version = second["meta"]["versionId"]
    status, _, provs = server.request("GET", "/Provenance?target=RiskAssessment/findrisc-adulta", token=imss)
    assert status == 200
    prov = next(e["resource"] for e in provs["entry"]
                if e["resource"]["target"][0]["reference"] == f"RiskAssessment/findrisc-adulta/_history/{version}")
    device = prov["contained"][0]
    assert device["resourceType"] == "Device" and device["deviceName"][0]["name"] == "FINDRISC" and device["version"][0]["value"] == "2003.1"
    assert prov["agent"][0]["who"]["reference"] == "#algorithm"

    # the stranger stays hidden from both clinicians
    for token in (imss, privado):
        status, _, body = server.request("GET", "/Patient/$care-gaps?subject=Patient/otro", token=token)
        assert status == 404 and "Oculto" not in str(body)
