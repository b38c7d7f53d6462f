"""A decision counts, end to end against the real binary (docs/prevention.md, "A decision counts"): a
clinician records in the portal that a woman declined her mammography; `$care-gaps` then reports that
gap closed with the decision as the DetectedIssue's `mitigation` (what, who, when, why) and the
computed explanation unchanged; the panel no longer counts it; the woman sees it on *Mi prevención*
under *Decidido con su médico*, beside her BMI trend; and the FHIR operation records a BCG done
elsewhere the same way."""
import time

import pytest

from selenium.webdriver.common.by import By

from conftest import Server, free_port
from test_portal import Steps, browser, sign_in  # noqa: F401  (the `browser` fixture: Chromium at 360 px)
from test_prevention import cli, practitioner, put
from test_security_phi_logs import Browser

PASSWORD = "una-contraseña-muy-larga"


@pytest.fixture
def server(data_dir):
    # the clinician signs in to the portal with a password only (no TOTP enrolled), as in test_care
    s = Server(data_dir, free_port(), extra=["--no-totp-for-staff"]).start()
    yield s
    s.stop()


def gap(server, token, patient, item, status=None):
    q = f"/Patient/{patient}/$care-gaps" + (f"?status={status}" if status else "")
    code, _, body = server.request("GET", q, token=token)
    assert code == 200, body
    bundle = body["parameter"][0]["resource"]
    return next((e["resource"] for e in bundle["entry"] if e["resource"].get("id") == item), None)


def gap_status(issue):
    return issue["modifierExtension"][0]["valueCodeableConcept"]["coding"][0]["code"] if issue else None


def test_declined_mammography_is_closed_with_who_and_why(server, browser):
    op = server.token()
    year = int(time.strftime("%Y", time.gmtime()))
    for r in [{"resourceType": "Organization", "id": "imss", "name": "IMSS UMF 20"},
              {"resourceType": "Practitioner", "id": "dra-gap", "name": [{"family": "Salas", "given": ["Irma"]}]},
              {"resourceType": "Patient", "id": "irene", "gender": "female", "birthDate": f"{year - 50}-03-01", "name": [{"family": "Ortega", "given": ["Irene"]}]},
              {"resourceType": "Patient", "id": "bebe", "gender": "male", "birthDate": f"{year - 1}-01-10", "name": [{"family": "Ortega", "given": ["Leo"]}]}]:
        put(server, op, r)
    for pt in ("irene", "bebe"):
        put(server, op, {"resourceType": "Encounter", "id": f"e-{pt}", "status": "finished",
                         "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                         "subject": {"reference": f"Patient/{pt}"}, "participant": [{"individual": {"reference": "Practitioner/dra-gap"}}],
                         "serviceProvider": {"reference": "Organization/imss"}})
    for k, (date, value) in enumerate([(f"{year - 2}-05-10", 27.5), (f"{year - 1}-05-10", 29.4), (f"{year}-01-15", 31.2)]):
        put(server, op, {"resourceType": "Observation", "id": f"bmi-irene-{k}", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": "39156-5"}]}, "subject": {"reference": "Patient/irene"},
                         "effectiveDateTime": date, "valueQuantity": {"value": value, "unit": "kg/m2", "system": "http://unitsofmeasure.org", "code": "kg/m2"}})
    dra = practitioner(server, "dra-gap", "imss")
    before = gap(server, dra, "irene", "mujer-mastografia")
    assert gap_status(before) == "open-gap" and "mitigation" not in before

    # the clinician records it in the portal (the patient's prevention page, the gap form)
    b = Browser(server.base.rsplit("/fhir", 1)[0])
    status, _ = b.sign_in("dra-gap", PASSWORD)
    assert status == 200
    status, page = b.open("/prevencion/paciente/irene")
    assert status == 200 and "data-gap-decision" in page and 'value="mujer-mastografia"' in page, page[:500]
    # her BMI trend is on the clinician's page too, worded for the clinician
    assert 'data-bmi-trend="3"' in page and "Índice de masa corporal (IMC)" in page and "Su índice" not in page
    status, page = b.open("/prevencion/decision", {"csrf": b.csrf(page), "tipo": "Patient", "id": "irene", "item": "mujer-mastografia",
                                                    "decision": "declined", "motivo": "Prefiere hacerla en el ISSSTE"})
    assert status == 200 and "Decisión registrada" in page, page[:500]
    assert "Brechas decididas" in page and "Prefiere hacerla en el ISSSTE" in page

    after = gap(server, dra, "irene", "mujer-mastografia")
    assert gap_status(after) == "closed-gap"
    m = after["mitigation"][0]
    assert m["action"]["coding"][0]["code"] == "gap-declined" and "Prefiere hacerla en el ISSSTE" in m["action"]["text"]
    assert m["author"]["reference"] == "Practitioner/dra-gap"
    assert after["detail"] == before["detail"], "the computed explanation stays beside the decision"
    assert gap(server, dra, "irene", "mujer-mastografia", status="open-gap") is None
    assert gap_status(gap(server, dra, "irene", "mujer-glucosa")) == "open-gap"

    # the panel no longer lists the mammography for her
    status, csv = b.open("/prevencion/panel?formato=csv")
    assert status == 200 and "irene" in csv and "mujer-glucosa" in csv
    assert not any("irene" in line and "mujer-mastografia" in line for line in csv.splitlines()), csv

    # she sees it decided on Mi prevención, with who and why
    cli("users", "add", "--data", server.data_dir, "--username", "irene", "--role", "patient", "--patient", "Patient/irene", "--password-stdin",
        input=PASSWORD + "\n")
    me = Browser(server.base.rsplit("/fhir", 1)[0])
    me.sign_in("irene", PASSWORD)
    status, mine = me.open("/prevencion")
    assert status == 200 and "Decidido con su médico" in mine and "Prefiere hacerla en el ISSSTE" in mine, mine[:800]
    assert 'data-status="decided"' in mine and 'data-decision="declined"' in mine
    # and her BMI trend: three points, the WHO adult limits, the values as a table
    assert 'data-bmi-trend="3"' in mine and mine.count("<circle") == 3 and "stroke-dasharray" in mine
    assert "31.2" in mine and "obesidad" in mine and "sobrepeso" in mine
    # in Chromium at 360 px: the page (decided gap and chart) fits, passes the portal's accessibility checks
    d = browser
    steps = Steps(d, "prevention-gap-decision")
    sign_in(d, server.base.rsplit("/fhir", 1)[0], "irene", PASSWORD)
    d.get(server.base.rsplit("/fhir", 1)[0] + "/prevencion")
    chart = d.find_element(By.CSS_SELECTOR, "svg[data-bmi-trend]")
    assert chart.size["width"] <= 360 and chart.size["height"] > 60, chart.size
    d.execute_script("arguments[0].scrollIntoView()", d.find_element(By.ID, "p-decided"))
    steps.check("decidido")
    d.execute_script("arguments[0].scrollIntoView()", chart)
    steps.check("imc")

    # through FHIR: the baby's BCG was done elsewhere
    assert gap_status(gap(server, dra, "bebe", "bcg")) == "open-gap"
    code, _, prov = server.request("POST", "/Patient/bebe/$record-decision", {"resourceType": "Parameters", "parameter": [
        {"name": "decision", "valueCode": "done-elsewhere"}, {"name": "item", "valueString": "bcg"},
        {"name": "reason", "valueString": "Cartilla en papel: BCG al nacer"}]}, token=dra)
    assert code == 201 and prov["resourceType"] == "Provenance", prov
    assert gap_status(gap(server, dra, "bebe", "bcg")) == "closed-gap"
    code, _, bad = server.request("POST", "/Patient/bebe/$record-decision", {"resourceType": "Parameters", "parameter": [
        {"name": "decision", "valueCode": "declined"}, {"name": "reason", "valueString": "x"}]}, token=dra)
    assert code == 400 and bad["issue"][0]["code"] == "required" and "item" in bad["issue"][0]["details"]["text"]
