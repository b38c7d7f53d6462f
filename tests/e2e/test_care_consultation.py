"""Browser test of the consultation (docs/care.md#the-consultation): the real `enlace serve
--demo`, headless Chromium at 360 px. Dr. Hernández records a telemedicine visit for Ana —
a diagnosis chosen from the CIE-10 suggestions by typing, vital signs, a SOAP note — first with
mistakes (no reason, a blood pressure of 400, an unknown code: refused with the reasons, nothing
stored), then right, signed in the browser with its own key; the visit appears on Ana's
timeline at once with "Firma verificada", the finished Encounter becomes
a Claim (financing.claims), and the note is corrected as a new version with its reason. A
clinician of another institution is refused."""
import os
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from test_portal import api, demo, fill, resources, ARTIFACTS, Steps, browser, click_and_wait, refused, sign_in, sign_out  # noqa: F401 (fixtures)

ANA = "demo-p001"


def test_clinician_records_a_visit_and_corrects_its_note(demo, browser):
    d, steps = browser, Steps(browser, "consultation")
    before = {t: len(resources(demo, f"/{t}?patient=Patient/{ANA}&_count=1000")) for t in ["Encounter", "Composition", "Condition"]}
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + f"/pacientes/{ANA}")
    click_and_wait(d, d.find_element(By.ID, "registrar-consulta"))
    assert d.current_url.endswith(f"/pacientes/{ANA}/consulta")
    steps.check("formulario")

    # a diagnosis chosen by typing part of its name (accents optional): the suggestions come from the terminology service
    d.find_element(By.ID, "diagnostico1").send_keys("no insulinodependiente sin mención")
    WebDriverWait(d, 10).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, "#diagnostico1-sugerencias button[data-code='E11.9']"))
    steps.check("sugerencias")
    d.find_element(By.CSS_SELECTOR, "#diagnostico1-sugerencias button[data-code='E11.9']").click()
    assert d.find_element(By.ID, "diagnostico1").get_attribute("value") == "E11.9"
    assert "Diabetes" in d.find_element(By.ID, "diagnostico1-elegido").text

    # mistakes: no reason, an impossible blood pressure, an unknown code
    d.find_element(By.CSS_SELECTOR, "input[name=modalidad][value=VR]").click()
    fill(d, "subjetivo", "Refiere sed y poliuria desde hace un mes.")
    fill(d, "objetivo", "Sin edema. Pulsos presentes.")
    fill(d, "analisis", "Diabetes tipo 2 descontrolada.")
    fill(d, "plan", "Ajustar metformina; control en 4 semanas.")
    fill(d, "peso", "71,8")
    fill(d, "sistolica", "400")
    fill(d, "diastolica", "85")
    fill(d, "glucosa", "182")
    fill(d, "diagnostico2", "X99.99")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#consulta button[type=submit]"))
    main = d.find_element(By.TAG_NAME, "main").text
    assert "No se guardó nada" in main
    assert "el motivo de la consulta es obligatorio" in main
    assert "Presión sistólica 400 mmHg es imposible: debe estar entre 40 y 300 mmHg" in main
    assert "X99.99 no es un código del catálogo CIE-10" in main
    assert d.find_element(By.ID, "sistolica").get_attribute("aria-invalid") == "true"
    assert d.find_element(By.ID, "subjetivo").get_attribute("value") == "Refiere sed y poliuria desde hace un mes.", "what was typed is kept"
    steps.check("errores", allow_console=("422",))
    assert {t: len(resources(demo, f"/{t}?patient=Patient/{ANA}&_count=1000")) for t in before} == before, "nothing stored"

    # right this time
    fill(d, "motivo", "Control de diabetes por teleconsulta")
    fill(d, "sistolica", "130")
    fill(d, "diagnostico2", "I10")
    # the suggestions for I10 arrive and push the form down: choose from them as a clinician
    # would, so the click on "save" is not dispatched to where a suggestion has just appeared
    # (CI once timed out here: the click chose a suggestion instead of submitting)
    WebDriverWait(d, 10).until(lambda drv: drv.find_elements(By.CSS_SELECTOR, "#diagnostico2-sugerencias button[data-code='I10']"))
    d.find_element(By.CSS_SELECTOR, "#diagnostico2-sugerencias button[data-code='I10']").click()
    WebDriverWait(d, 10).until(lambda drv: not drv.find_elements(By.CSS_SELECTOR, "#diagnostico2-sugerencias button"))
    assert d.find_element(By.ID, "diagnostico2").get_attribute("value") == "I10"
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#consulta button[type=submit]"))
    assert d.current_url.endswith(f"/pacientes/{ANA}?consulta=registrada")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Consulta registrada y firmada." in main
    assert "Nota de consulta: Control de diabetes por teleconsulta" in main
    assert "Subjetivo: Refiere sed y poliuria desde hace un mes." in main
    # signed in the browser (/static/firma.js: WebCrypto, this browser's key) and verified again on the timeline
    assert "Firma verificada" in main and "NO se verifica" not in main
    steps.check("registrada")
    d.save_screenshot(os.path.join(ARTIFACTS, "care-consultation-timeline.png"))

    encounters = resources(demo, f"/Encounter?patient=Patient/{ANA}&class=VR&status=finished&_sort=-_lastUpdated&_count=1")
    assert encounters, "the finished telemedicine Encounter"
    encounter = encounters[0]
    assert encounter["participant"][0]["individual"]["reference"] == "Practitioner/dr-hernandez"
    eid = encounter["id"]
    conditions = resources(demo, f"/Condition?encounter=Encounter/{eid}")
    assert sorted(c["code"]["coding"][0]["code"] for c in conditions) == ["E11.9", "I10"]
    vitals = resources(demo, f"/Observation?encounter=Encounter/{eid}&category=vital-signs")
    assert len(vitals) == 3, "weight, glucose and the blood pressure panel"
    notes = resources(demo, f"/Composition?encounter=Encounter/{eid}")
    assert len(notes) == 1 and notes[0]["type"]["coding"][0]["code"] == "34108-1"
    nid = notes[0]["id"]

    # the finished Encounter triggers financing.claims: a Claim made from this visit
    identifier = f"https://enlace.mx/fhir/sid/claim-from-care|Encounter/{eid}/_history/1"
    deadline = time.time() + 30
    claims = []
    while time.time() < deadline and not claims:
        claims = resources(demo, "/Claim?identifier=" + urllib.request.quote(identifier, safe=""))
        if not claims:
            time.sleep(0.5)
    assert claims, "the claims consumer made a Claim of the visit"
    assert any(dx.get("diagnosisCodeableConcept", {}).get("coding", [{}])[0].get("code") == "E11.9" for dx in claims[0].get("diagnosis", []))

    # correct the note: refused without a reason, then a new version with it
    link = d.find_element(By.CSS_SELECTOR, f"a[href='/pacientes/{ANA}/consulta/{nid}/corregir']")
    click_and_wait(d, link)
    steps.check("corregir")
    fill(d, "plan", "Metformina 850 mg cada 12 horas; control en 4 semanas.")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#corregir button[type=submit]"))
    assert "el motivo de la corrección es obligatorio" in d.find_element(By.TAG_NAME, "main").text
    steps.check("corregir-sin-motivo", allow_console=("422",))
    fill(d, "razon", "Faltaba la dosis en el plan.")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#corregir button[type=submit]"))
    assert d.current_url.endswith(f"/pacientes/{ANA}?nota=corregida")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Nota corregida: se guardó una nueva versión con su motivo." in main
    assert "Metformina 850 mg cada 12 horas" in main
    assert "Firma verificada" in main and "NO se verifica" not in main, "the correction is signed too"
    steps.check("corregida")
    history = api(demo, f"/Composition/{nid}/_history")
    assert history["total"] == 2, "the earlier version stays in the history"
    provenance = resources(demo, f"/Provenance?target=Composition/{nid}&_count=50")
    assert any(p.get("reason", [{}])[0].get("text") == "Faltaba la dosis en el plan." and p["activity"]["coding"][0]["code"] == "UPDATE"
               for p in provenance)
    sign_out(d)

    # the patient sees the visit on her timeline at once
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/expediente")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Nota de consulta: Control de diabetes por teleconsulta" in main and "Nota corregida" in main
    assert "Firma verificada" in main, "the patient sees the signature verified"
    assert not d.find_elements(By.CSS_SELECTOR, "a[href$='/corregir']"), "a patient cannot correct the note"
    steps.check("paciente")
    sign_out(d)


def test_a_clinician_without_a_relationship_is_refused(demo, browser):
    d, steps = browser, Steps(browser, "consultation-refused")
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/pacientes/demo-p002/consulta")
    assert refused(d), "Lucía is a patient of another institution"
    assert "Lucía" not in d.find_element(By.TAG_NAME, "main").text
    steps.check("negado", allow_console=("403",))
    sign_out(d)
