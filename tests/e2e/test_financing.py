"""Financing end to end (docs/financing.md): the real binary over real sockets.

- a claim submitted six times at once (threads, real HTTP) is one Claim, one ClaimResponse, one EOB;
- a settlement statement nets two institutions' services exactly (checked by hand);
- on the demo: an encounter of Ana's is claimed, adjudicated, and its EOB is what Ana sees on
  *Mis gastos* in headless Chromium (screenshot), with the denied item and its reason.
"""
import json
import os
import subprocess
import threading

import pytest

from conftest import enlace_binary
from test_portal import DemoServer, Steps, browser, sign_in  # noqa: F401 (fixtures)

TARIFF = "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio"


def claim(ident, patient, provider, coverage, date, items):
    return {
        "resourceType": "Claim", "identifier": [{"system": "https://enlace.mx/e2e/claims", "value": ident}], "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]}, "use": "claim",
        "patient": {"reference": f"Patient/{patient}"}, "created": date, "provider": {"reference": f"Organization/{provider}"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{coverage}"}}],
        "item": [{"sequence": i + 1, "productOrService": {"coding": [{"system": TARIFF, "code": code}]}, "servicedDate": date,
                  "quantity": {"value": q}} for i, (code, q) in enumerate(items)],
    }


def set_up(server, token):
    all_plan = {"coverage": [{"type": {"text": "todo"}, "benefit": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/benefit-scope", "code": "all"}]}}]}]}
    resources = [
        {"resourceType": "Organization", "id": "imss", "active": True, "name": "IMSS"},
        {"resourceType": "Organization", "id": "issste", "active": True, "name": "ISSSTE"},
        {"resourceType": "Organization", "id": "umf", "active": True, "name": "IMSS UMF", "partOf": {"reference": "Organization/imss"}},
        {"resourceType": "Organization", "id": "cmf", "active": True, "name": "ISSSTE CMF", "partOf": {"reference": "Organization/issste"}},
        {"resourceType": "InsurancePlan", "id": "imss-regimen-obligatorio", "status": "active", "ownedBy": {"reference": "Organization/imss"}, **all_plan},
        {"resourceType": "InsurancePlan", "id": "issste", "status": "active", "ownedBy": {"reference": "Organization/issste"}, **all_plan},
    ]
    for p, payer, plan in [("a", "issste", "issste"), ("b", "imss", "imss-regimen-obligatorio")]:
        resources.append({"resourceType": "Patient", "id": p, "active": True})
        resources.append({"resourceType": "Coverage", "id": f"cov-{p}", "status": "active", "beneficiary": {"reference": f"Patient/{p}"},
                          "payor": [{"reference": f"Organization/{payer}"}],
                          "class": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "plan"}]}, "value": plan}]})
    for r in resources:
        status, _, body = server.request("PUT", f"/{r['resourceType']}/{r['id']}", r, token=token)
        assert status in (200, 201), body


def count(server, token, t):
    return server.request("GET", f"/{t}?_summary=count", token=token)[2]["total"]


def test_the_same_claim_submitted_six_times_at_once_is_one_claim(server):
    token = server.token()
    set_up(server, token)
    body = claim("same-claim", "a", "umf", "cov-a", "2026-08-14", [("01.001", 1), ("03.001", 1)])
    results = []

    def submit():
        results.append(server.request("POST", "/Claim/$submit", body, token=token))

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(s in (200, 201) for s, _, _ in results), results
    assert len({b["id"] for _, _, b in results}) == 1
    assert [s for s, _, _ in results].count(201) <= 1
    assert count(server, token, "Claim") == 1
    assert count(server, token, "ClaimResponse") == 1
    assert count(server, token, "ExplanationOfBenefit") == 1


def test_a_settlement_nets_two_institutions_exactly(server):
    token = server.token()
    set_up(server, token)
    # IMSS saw ISSSTE's beneficiary: 3 × 826.00 = 2,478.00; ISSSTE saw IMSS's: 1,485.00 + 290.00 = 1,775.00.
    # Net by hand: ISSSTE pays IMSS 703.00.
    assert server.request("POST", "/Claim/$submit", claim("n1", "a", "umf", "cov-a", "2026-07-01", [("01.001", 3)]), token=token)[0] == 201
    assert server.request("POST", "/Claim/$submit", claim("n2", "b", "cmf", "cov-b", "2026-09-30", [("02.001", 1), ("03.004", 1)]), token=token)[0] == 201
    # a Q4 service is not in Q3
    assert server.request("POST", "/Claim/$submit", claim("n3", "b", "cmf", "cov-b", "2026-10-01", [("02.001", 1)]), token=token)[0] == 201
    status, _, bundle = server.request("POST", "/PaymentReconciliation/$settle?period=2026-Q3", token=token)
    assert status == 201, bundle
    resources = [e["resource"] for e in bundle["entry"]]
    rec = next(r for r in resources if r["resourceType"] == "PaymentReconciliation")
    assert rec["paymentAmount"] == {"value": 703.00, "currency": "MXN"}
    assert rec["paymentIssuer"]["reference"] == "Organization/issste"
    assert [d["amount"]["value"] for d in rec["detail"]] == [2478.00, 1775.00]
    notice = next(r for r in resources if r["resourceType"] == "PaymentNotice")
    assert notice["recipient"]["reference"] == "Organization/imss" and notice["amount"]["value"] == 703.00
    # settling again is the same settlement
    status, _, again = server.request("POST", "/PaymentReconciliation/$settle?period=2026-Q3", token=token)
    assert status == 200
    assert count(server, token, "PaymentReconciliation") == 1


@pytest.fixture(scope="module")
def demo():
    s = DemoServer()
    yield s
    s.stop()


def test_encounter_claim_adjudication_eob_seen_by_the_patient(demo, browser):
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.*"],
                           check=True, capture_output=True, text=True).stdout.strip()
    import urllib.request
    encounter = json.loads(urllib.request.urlopen(urllib.request.Request(
        demo.base + "/fhir/Encounter/demo-p001-enc-3", headers={"Authorization": f"Bearer {token}"})).read())
    date = encounter["period"]["start"][:10]
    body = claim("e2e-ana-visit", "demo-p001", "hospital-santa-fe", "demo-p001-cov", date, [("02.001", 1), ("01.004", 1)])
    body["item"][0]["encounter"] = [{"reference": "Encounter/demo-p001-enc-3"}]
    req = urllib.request.Request(demo.base + "/fhir/Claim/$submit", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req) as r:
        response = json.loads(r.read())
    assert response["resourceType"] == "ClaimResponse" and response["outcome"] == "partial"  # nutrition is not covered
    d = browser
    steps = Steps(d, "financing")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/gastos")
    steps.check("mis-gastos")
    text = d.find_element("tag name", "main").text
    assert "Mis gastos" in d.title
    assert "Servicio no cubierto por el plan" in text
    assert "Consulta de nutrición" in text
    assert "$907.20" in text  # the emergency visit the demo claimed: what the insurer paid


def test_a_finished_encounter_is_claimed_and_its_eob_seen_by_the_patient(demo, browser):
    """financing.claims: Ana's emergency visit at the private hospital, recorded and finished in one
    transaction, becomes a Claim (institutional, CIE-10 from its Condition, items from the visit, its
    glucose and its chest X-ray) adjudicated to her private insurer; its EOB is on *Mis gastos*."""
    import datetime
    import time
    import urllib.parse
    import urllib.request
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.*"],
                           check=True, capture_output=True, text=True).stdout.strip()

    def call(method, path, body=None):
        req = urllib.request.Request(demo.base + "/fhir" + path, data=json.dumps(body).encode() if body is not None else None, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
        with urllib.request.urlopen(req) as r:
            return json.loads(r.read())

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start, end = (now - datetime.timedelta(hours=3)).isoformat().replace("+00:00", "Z"), (now - datetime.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    enc = "urn:uuid:6f1c2a40-0000-4000-8000-00000000e2e1"
    ana = {"reference": "Patient/demo-p001"}
    lab = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}
    entries = [
        {"fullUrl": enc, "resource": {"resourceType": "Encounter", "status": "finished",
                                      "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EMER"},
                                      "subject": ana, "serviceProvider": {"reference": "Organization/hospital-santa-fe"},
                                      "period": {"start": start, "end": end}}},
        {"resource": {"resourceType": "Condition", "subject": ana, "encounter": {"reference": enc},
                      "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
                      "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "J18.9"}]}}},
        {"resource": {"resourceType": "Observation", "status": "final", "category": [lab], "subject": ana, "encounter": {"reference": enc},
                      "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}, "effectiveDateTime": start,
                      "valueQuantity": {"value": 180, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}}},
        {"resource": {"resourceType": "DiagnosticReport", "status": "final", "subject": ana, "encounter": {"reference": enc},
                      "code": {"coding": [{"system": "http://loinc.org", "code": "36643-5"}]}, "effectiveDateTime": start,
                      "conclusion": "Consolidación basal derecha"}},
    ]
    for e in entries:
        e["request"] = {"method": "POST", "url": e["resource"]["resourceType"]}
    reply = call("POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": entries})
    enc_id = reply["entry"][0]["response"]["location"].split("/")[1]
    ident = f"https://enlace.mx/fhir/sid/claim-from-care|Encounter/{enc_id}/_history/1"
    deadline = time.time() + 30
    while time.time() < deadline:
        found = call("GET", "/ExplanationOfBenefit?identifier=" + urllib.parse.quote(ident, safe=""))
        if found.get("entry"):
            break
        time.sleep(0.3)
    else:
        raise AssertionError("no claim was made from the finished encounter within 30 s")
    eob = found["entry"][0]["resource"]
    claim_ = call("GET", "/Claim?identifier=" + urllib.parse.quote(ident, safe=""))["entry"][0]["resource"]
    assert claim_["type"]["coding"][0]["code"] == "institutional"
    assert claim_["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] == "J18.9"
    assert [i["productOrService"]["coding"][0]["code"] for i in claim_["item"]] == ["01.002", "04.002", "03.002"]
    assert claim_["insurance"][0]["coverage"]["reference"] == "Coverage/demo-p001-cov"  # her private policy (order 1)
    totals = {t["category"]["coding"][0]["code"]: t["amount"]["value"] for t in eob["total"]}
    # by hand: 1,170.00 + 430.00 + 62.00 recognised; the insurer and Ana share it exactly
    assert totals["eligible"] == 1662.00
    assert round(totals["benefit"] + totals["patient-share"], 2) == 1662.00
    assert eob["payment"]["amount"]["value"] == totals["benefit"]
    assert len(call("GET", "/Claim?identifier=" + urllib.parse.quote(ident, safe=""))["entry"]) == 1
    d = browser
    steps = Steps(d, "financing-claims")
    d.get(demo.base + "/gastos")
    if "Mis gastos" not in d.title:
        sign_in(d, demo.base, "ana", demo.users["ana"])
        d.get(demo.base + "/gastos")
    steps.check("mis-gastos-claimed")
    text = d.find_element("tag name", "main").text
    assert "Radiografía de tórax" in text
    assert "Atención de urgencias en primer nivel" in text
    assert f"${totals['benefit']:,.2f}" in text


def test_a_disputed_settlement_line_is_corrected_in_the_next_period(server):
    """By hand: Q3, the IMSS unit saw ISSSTE's beneficiary (826.00 + 310.00 = 1,136.00), the ISSSTE
    clinic saw IMSS's (1,485.00): IMSS pays ISSSTE 349.00. ISSSTE disputes the HbA1c line (item 2,
    310.00), IMSS accepts: Q3 stays as settled; Q4 nets the correction, IMSS pays ISSSTE 310.00."""
    token = server.token()
    set_up(server, token)
    s, _, r1 = server.request("POST", "/Claim/$submit", claim("disp-1", "a", "umf", "cov-a", "2026-07-10", [("01.001", 1), ("03.001", 1)]), token=token)
    assert s == 201, r1
    s, _, _ = server.request("POST", "/Claim/$submit", claim("disp-2", "b", "cmf", "cov-b", "2026-08-10", [("02.001", 1)]), token=token)
    assert s == 201
    s, _, q3 = server.request("POST", "/PaymentReconciliation/$settle?period=2026-Q3", token=token)
    assert s == 201, q3
    rec = next(e["resource"] for e in q3["entry"] if e["resource"]["resourceType"] == "PaymentReconciliation")
    assert rec["paymentAmount"]["value"] == 349.00 and rec["paymentIssuer"]["reference"] == "Organization/imss"
    params = {"resourceType": "Parameters", "parameter": [
        {"name": "line", "valueReference": {"reference": f"ClaimResponse/{r1['id']}"}},
        {"name": "item", "valuePositiveInt": 2}, {"name": "reason", "valueString": "Estudio no solicitado / study not ordered"}]}
    s, _, task = server.request("POST", f"/PaymentReconciliation/{rec['id']}/$dispute", params, token=token)
    assert s == 201 and task["businessStatus"]["coding"][0]["code"] == "open", task
    s, _, again = server.request("POST", f"/PaymentReconciliation/{rec['id']}/$dispute", params, token=token)
    assert s == 200 and again["id"] == task["id"]
    # a bad resolution is a precise OperationOutcome
    s, _, bad = server.request("POST", f"/Task/{task['id']}/$resolve", {"resourceType": "Parameters", "parameter": [{"name": "outcome", "valueCode": "maybe"}]}, token=token)
    assert s == 400 and bad["resourceType"] == "OperationOutcome"
    accept = {"resourceType": "Parameters", "parameter": [{"name": "outcome", "valueCode": "accepted"}, {"name": "note", "valueString": "Procede"}]}
    s, _, done = server.request("POST", f"/Task/{task['id']}/$resolve", accept, token=token)
    assert s == 200 and done["status"] == "completed" and done["output"][0]["valueString"] == "2026-Q4", done
    s, _, twice = server.request("POST", f"/Task/{task['id']}/$resolve", accept, token=token)
    assert s == 409 and twice["resourceType"] == "OperationOutcome"
    # Q3 is as it was; Q4 nets the correction
    s, _, q3again = server.request("POST", "/PaymentReconciliation/$settle?period=2026-Q3", token=token)
    assert s == 200
    assert next(e["resource"] for e in q3again["entry"] if e["resource"]["resourceType"] == "PaymentReconciliation")["paymentAmount"]["value"] == 349.00
    s, _, q4 = server.request("POST", "/PaymentReconciliation/$settle?period=2026-Q4", token=token)
    assert s == 201, q4
    rec4 = next(e["resource"] for e in q4["entry"] if e["resource"]["resourceType"] == "PaymentReconciliation")
    assert rec4["paymentAmount"]["value"] == 310.00 and rec4["paymentIssuer"]["reference"] == "Organization/imss", rec4
