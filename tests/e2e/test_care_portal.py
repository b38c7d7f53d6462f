"""Browser tests of continuity of care through the portal (docs/care.md#portal,
docs/prescribing.md#recetar): the real `enlace serve --demo`, headless Chromium at 360 px,
screenshots in tests/artifacts/portal-care-*.png.

- a referral: Dr. Hernández (IMSS UMF 20) refers Ana to Hospital Santa Fe from her record with
  a result attached (refused first without a reason); Dr. Ramírez at the hospital sees it arrive
  in *Referencias recibidas* and accepts it; Ana sees it on *Mis referencias*;
- a booking: Ana books a free slot on *Mis citas* and sees her appointment;
- a prescription and its dispense: Dr. Hernández writes an over-dose on *Recetar*, sees the
  dose card inline, signs over it with a reason (recorded as Provenance on the prescription) —
  and signs it digitally: the page makes her key pair with WebCrypto the first time (private key
  not extractable, kept in IndexedDB), registers the public key and signs the prescription's
  canonical JSON (docs/prescribing.md, "The prescriber's signature"); Farmacia Roma finds it by
  its code at the counter, sees "Firma verificada" and dispenses part of it; Ana sees where, and
  the verified signature; changed afterwards, the counter says the signature does not verify.
"""

import json
import subprocess
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import enlace_binary
from test_portal import api, demo, fill, resources, Steps, browser, click_and_wait, sign_in, sign_out  # noqa: F401 (fixtures)

ANA = "demo-p001"


def main_text(d):
    return d.find_element(By.TAG_NAME, "main").text


def write_metformin(d, dose, frequency, quantity):
    """Fills *Recetar* with metformin 850 mg tablets at `dose` mg, `frequency` (a GTS code), `quantity` tablets."""
    Select(d.find_element(By.ID, "medicamento")).select_by_value("metformin")
    fill(d, "presentacion", "850 mg tabletas")
    fill(d, "dosis", dose)
    Select(d.find_element(By.ID, "frecuencia")).select_by_value(frequency)
    fill(d, "cantidad", quantity)


REASON = "Retinopatía diabética a descartar: fondo de ojo y valoración (prueba e2e)"


def test_a_referral_arrives_at_the_receiving_hospital(demo, browser):
    d, steps = browser, Steps(browser, "care-referral")
    before = len(resources(demo, f"/Task?patient=Patient/{ANA}&code=https://enlace.mx/fhir/CodeSystem/care-task|referral&_count=100"))
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + f"/pacientes/{ANA}")
    click_and_wait(d, d.find_element(By.ID, "referir"))
    assert d.current_url.endswith(f"/pacientes/{ANA}/referir")
    steps.check("formulario")

    # refused: no institution and no reason; nothing stored
    fill(d, "servicio", "Oftalmología")
    click_and_wait(d, d.find_element(By.ID, "enviar-referencia"))
    main = main_text(d)
    assert "No se guardó nada" in main
    assert "elija a dónde referir al paciente" in main and "el motivo de la referencia es obligatorio" in main
    assert d.find_element(By.ID, "servicio").get_attribute("value") == "Oftalmología", "what was typed is kept"
    assert d.find_element(By.ID, "motivo").get_attribute("aria-invalid") == "true"
    steps.check("errores", allow_console=("422",))
    assert len(resources(demo, f"/Task?patient=Patient/{ANA}&code=https://enlace.mx/fhir/CodeSystem/care-task|referral&_count=100")) == before

    Select(d.find_element(By.ID, "destino")).select_by_value("Organization/hospital-santa-fe")
    fill(d, "motivo", REASON)
    d.find_element(By.CSS_SELECTOR, "input[name=prioridad][value=urgent]").click()
    document = d.find_element(By.ID, "documento-0")
    attached = document.get_attribute("value")
    document.click()
    click_and_wait(d, d.find_element(By.ID, "enviar-referencia"))
    assert "/referir?enviada=" in d.current_url
    assert "Referencia enviada a Hospital Santa Fe" in d.find_element(By.ID, "referencia-enviada").text
    steps.check("enviada")
    tasks = resources(demo, f"/Task?patient=Patient/{ANA}&code=https://enlace.mx/fhir/CodeSystem/care-task|referral&status=requested&_count=100")
    task = next(t for t in tasks if REASON in t.get("description", ""))
    assert task["owner"]["reference"] == "Organization/hospital-santa-fe" and task["requester"]["reference"] == "Practitioner/dr-hernandez"
    assert task["input"][0]["valueReference"]["reference"] == attached
    sign_out(d)

    # the receiving side sees it arrive and accepts it
    sign_in(d, demo.base, "dr.ramirez", demo.users["dr.ramirez"])
    d.get(demo.base + "/referencias-recibidas")
    card = d.find_element(By.ID, f"recibida-{task['id']}")
    assert REASON in card.text and "Enviada, en espera" in card.text
    d.execute_script("arguments[0].scrollIntoView()", card)
    steps.check("recibida")
    click_and_wait(d, card.find_element(By.CSS_SELECTOR, "button[value=accepted]"))
    assert "Aceptada" in d.find_element(By.ID, f"recibida-{task['id']}").text
    steps.check("aceptada")
    assert api(demo, f"/Task/{task['id']}")["status"] == "accepted"
    sign_out(d)

    # the patient sees where it stands
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/mis-referencias")
    assert REASON in main_text(d)
    steps.check("paciente")
    sign_out(d)


def test_a_patient_books_an_appointment(demo, browser):
    d, steps = browser, Steps(browser, "care-booking")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/mis-citas")
    steps.check("agenda")
    before = len(resources(demo, f"/Appointment?patient=Patient/{ANA}&status=booked&_count=200"))
    slot_button = d.find_element(By.CSS_SELECTOR, "form[action='/mis-citas/reservar'] button")
    slot = slot_button.find_element(By.XPATH, "..").find_element(By.NAME, "horario").get_attribute("value")
    click_and_wait(d, slot_button)
    assert "reservada=1" in d.current_url
    steps.check("reservada")
    booked = resources(demo, f"/Appointment?patient=Patient/{ANA}&status=booked&_count=200")
    assert len(booked) == before + 1
    assert any(s["reference"] == f"Slot/{slot}" for a in booked for s in a.get("slot", []))
    assert api(demo, f"/Slot/{slot}")["status"] == "busy"
    sign_out(d)


def test_a_prescription_with_its_cards_is_dispensed_by_code(demo, browser):
    d, steps = browser, Steps(browser, "care-prescription")
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + f"/pacientes/{ANA}")
    click_and_wait(d, d.find_element(By.ID, "recetar"))
    assert d.current_url.endswith(f"/pacientes/{ANA}/recetar")
    steps.check("formulario")
    write_metformin(d, dose="1000", frequency="QID", quantity="120")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#recetar button[value=revisar]"))
    main = main_text(d)
    assert "Dosis diaria mayor a la máxima: Metformina 850 mg tabletas, 4,000 mg/día (máximo 2,550 mg/día)" in main
    d.execute_script("document.getElementById('alertas').scrollIntoView()")
    steps.check("alertas")

    # signing without deciding is refused; nothing stored
    before = len(resources(demo, f"/MedicationRequest?patient=Patient/{ANA}&_count=200"))
    click_and_wait(d, d.find_element(By.ID, "firmar"))
    assert "No se firmó nada" in main_text(d)
    assert d.find_elements(By.CSS_SELECTOR, "#alertas fieldset p.error"), "the undecided warning says so beside it"
    steps.check("sin-decidir", allow_console=("422",))
    assert len(resources(demo, f"/MedicationRequest?patient=Patient/{ANA}&_count=200")) == before

    # every warning gets a reason; the dose one "intended dose"
    for fieldset in d.find_elements(By.CSS_SELECTOR, "#alertas fieldset"):
        choice = fieldset.find_elements(By.CSS_SELECTOR, "input[value=intended-dose]") or fieldset.find_elements(By.CSS_SELECTOR, "input[type=radio]")
        choice[0].click()
    comments = d.find_elements(By.CSS_SELECTOR, "#alertas textarea")
    comments[0].send_keys("Indicación de endocrinología, con control de función renal")
    click_and_wait(d, d.find_element(By.ID, "firmar"))
    assert "emitida=" in d.current_url
    code = d.find_element(By.CSS_SELECTOR, "#receta-emitida .rx-code").text.strip()
    assert code.startswith("RX-") and len(code) == 17
    assert d.find_element(By.ID, "firma").text.startswith("Firma verificada"), d.find_element(By.ID, "firma").text
    steps.check("emitida")
    rx_id = d.current_url.split("emitida=")[1]
    rx = api(demo, f"/MedicationRequest/{rx_id}")
    assert rx["status"] == "active" and rx["dispenseRequest"]["quantity"]["value"] == 120
    # the key was made in this browser: kept in IndexedDB, its private half not extractable
    kept = d.execute_async_script("""
        var who = "Practitioner/" + arguments[0], done = arguments[arguments.length - 1];
        var open = indexedDB.open("enlace-firma", 1);
        open.onsuccess = function () {
          var r = open.result.transaction("llaves").objectStore("llaves").get(who);
          r.onsuccess = function () {
            var p = r.result;
            done(p ? [p.privateKey.extractable, p.privateKey.algorithm.namedCurve, p.publicKey.type] : null);
          };
        };
        open.onerror = function () { done(null); };
    """, rx["requester"]["reference"].split("/")[1])
    assert kept == [False, "P-256", "public"], kept
    practitioner = api(demo, "/" + rx["requester"]["reference"])
    assert any(e["url"] == "https://enlace.mx/fhir/StructureDefinition/practitioner-signing-key" for e in practitioner["extension"])
    signatures = [s for p in resources(demo, f"/Provenance?target=MedicationRequest/{rx_id}&_count=50") for s in p.get("signature", [])]
    assert [s["sigFormat"] for s in signatures] == ["application/jose"], signatures
    overrides = [p for p in resources(demo, f"/Provenance?target=MedicationRequest/{rx_id}&_count=50")
                 if p.get("activity", {}).get("coding", [{}])[0].get("code") == "overridden"]
    assert any(p["reason"][0]["coding"][0]["code"] == "intended-dose" for p in overrides), overrides
    sign_out(d)

    # the pharmacy finds it by its code only and dispenses part of it
    sign_in(d, demo.base, "farmacia.roma", demo.users["farmacia.roma"])
    d.get(demo.base + "/farmacia")
    steps.check("mostrador")
    fill(d, "codigo", code)
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/farmacia'] button[type=submit]"))
    assert "Metformina 850 mg tabletas" in main_text(d)
    assert d.find_element(By.ID, "por-surtir").text.startswith("120")
    assert d.find_element(By.ID, "firma").text.startswith("Firma verificada"), d.find_element(By.ID, "firma").text
    steps.check("encontrada")
    fill(d, "cantidad", "60")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "#surtir button[type=submit]"))
    assert d.find_element(By.ID, "por-surtir").text.startswith("60")
    steps.check("surtida")
    dispenses = resources(demo, f"/MedicationDispense?prescription=MedicationRequest/{rx_id}")
    assert len(dispenses) == 1 and dispenses[0]["quantity"]["value"] == 60
    sign_out(d)

    # the patient sees the code and where it was dispensed
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/mis-recetas")
    main = main_text(d)
    assert code in main and "Farmacia Roma" in main
    assert "Firma verificada" in d.find_element(By.ID, f"receta-{rx_id}").text
    qr = d.find_element(By.CSS_SELECTOR, f"svg.qr[aria-label='Código QR de la receta {code}']")
    assert qr.size["width"] <= 360
    steps.check("paciente")
    sign_out(d)

    # changed after it was signed (more tablets): the counter no longer verifies the signature
    changed = dict(api(demo, f"/MedicationRequest/{rx_id}"))
    changed.pop("meta", None)
    changed["dispenseRequest"] = dict(changed["dispenseRequest"], quantity=dict(changed["dispenseRequest"]["quantity"], value=1200))
    put(demo, f"/MedicationRequest/{rx_id}", changed)
    sign_in(d, demo.base, "farmacia.roma", demo.users["farmacia.roma"])
    d.get(demo.base + "/farmacia")
    fill(d, "codigo", code)
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/farmacia'] button[type=submit]"))
    assert d.find_element(By.ID, "firma").text.startswith("La firma NO se verifica"), d.find_element(By.ID, "firma").text
    steps.check("firma-alterada")
    sign_out(d)


def put(demo, path, body):
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.cruds"],
                           check=True, capture_output=True, text=True).stdout.strip()
    req = urllib.request.Request(demo.base + "/fhir" + path, data=json.dumps(body).encode(), method="PUT",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200


def test_a_revoked_browser_key_signs_nothing_and_is_replaced(demo, browser):
    """docs/prescribing.md, "Revoking a key": Dr. Hernández revokes her browser's key on *Mis
    llaves de firma* (a lost device); at her next signature on *Recetar* the page's script is
    refused that key and makes a new one, and what the old key signed still verifies."""
    d, steps = browser, Steps(browser, "care-signing-keys")
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])

    def prescribe():
        d.get(demo.base + f"/pacientes/{ANA}/recetar")
        write_metformin(d, dose="850", frequency="BID", quantity="60")
        click_and_wait(d, d.find_element(By.ID, "firmar"))
        if "emitida=" not in d.current_url:  # cards to decide (Ana's other medicines): a reason each
            for fieldset in d.find_elements(By.CSS_SELECTOR, "#alertas fieldset"):
                fieldset.find_elements(By.CSS_SELECTOR, "input[type=radio]")[0].click()
            click_and_wait(d, d.find_element(By.ID, "firmar"))
        assert "emitida=" in d.current_url, main_text(d)
        assert d.find_element(By.ID, "firma").text.startswith("Firma verificada"), d.find_element(By.ID, "firma").text
        return d.current_url

    first = prescribe()
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "a[href='/firma/llaves']"))
    steps.check("llaves")
    while d.find_elements(By.CSS_SELECTOR, "form[action='/firma/llaves/revocar']"):
        form = d.find_elements(By.CSS_SELECTOR, "form[action='/firma/llaves/revocar']")[0]
        form.find_element(By.CSS_SELECTOR, "input[name=motivo]").send_keys("Perdí el teléfono (prueba e2e)")
        click_and_wait(d, form.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert "Llave revocada" in main_text(d)
    revoked = len(d.find_elements(By.CSS_SELECTOR, "#llaves .sig-bad"))
    assert revoked >= 1 and "Perdí el teléfono (prueba e2e)" in main_text(d)
    steps.check("revocada")

    prescribe()  # the script is refused the revoked key (422) and makes a new one
    d.get(demo.base + "/firma/llaves")
    assert len(d.find_elements(By.CSS_SELECTOR, "#llaves .sig-ok")) == 1, main_text(d)
    assert len(d.find_elements(By.CSS_SELECTOR, "#llaves .sig-bad")) == revoked
    steps.check("nueva", allow_console=("/firma/llave - Failed to load resource: the server responded with a status of 422",))  # the refusal the script answered
    d.get(first)  # signed before the revocation: still verified
    assert d.find_element(By.ID, "firma").text.startswith("Firma verificada"), d.find_element(By.ID, "firma").text
    sign_out(d)
