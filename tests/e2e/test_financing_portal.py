"""The Financing portal pages in headless Chromium at 360 px on the demo (docs/financing.md,
"Portal"): screenshots in tests/artifacts/, no horizontal scroll, no console errors, the
accessibility checks of test_portal.Steps.

- Ana: *Mi cobertura* (her IMSS coverage with her NSS, her private plan with its deductible);
- Seguros Vida Plena: the claims worklist and the detail of Ana's emergency claim (the denied
  genetic panel with its reason, the rules with versions);
- IMSS as payer: last quarter's settlement statement with ISSSTE and its CSV link;
- Dr. Hernández: the quality dashboard (six SVG charts).
"""
from test_portal import Steps, browser, demo, sign_in, sign_out  # noqa: F401 (fixtures)


def test_financing_pages_at_360px(demo, browser):
    d = browser
    steps = Steps(d, "financing-pages")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/cobertura")
    steps.check("mi-cobertura")
    text = d.find_element("tag name", "main").text
    assert "Mi cobertura" in d.title and "32987654321" in text and "$1,500.00" in text
    sign_out(d)

    sign_in(d, demo.base, "vidaplena", demo.users["vidaplena"])
    d.get(demo.base + "/reclamaciones")
    steps.check("reclamaciones")
    links = d.find_elements("css selector", "li.claim h3 a")
    assert len(links) == 1
    d.get(links[0].get_attribute("href"))
    steps.check("reclamacion")
    text = d.find_element("tag name", "main").text
    assert "Servicio no cubierto por el plan" in text and "InsurancePlan/vida-plena-gmm-basico|" in text
    sign_out(d)

    sign_in(d, demo.base, "imss.pagos", demo.users["imss.pagos"])
    d.get(demo.base + "/liquidacion")
    steps.check("liquidacion")
    assert d.find_elements("css selector", "a[href^='/liquidacion.csv?periodo=']")
    assert d.find_elements("css selector", "section.settlement-pair p.net")
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/calidad")
    steps.check("calidad")
    assert len(d.find_elements("css selector", "svg.chart")) == 6


def test_a_settlement_dispute_is_resolved_on_the_disputes_page(demo, browser):
    """/disputas end to end (docs/financing.md, "Disputes"; docs/access.md, "Finance"): a line of
    the demo's IMSS–ISSSTE settlement is disputed over FHIR by the paying institution; the paying
    institution's office sees it open without a form; the institution owed signs in, accepts it
    with a note in Chromium at 360 px (screenshots), and the Task is then accepted with its
    correction in the first open period after the settled one."""
    import json
    import subprocess
    import urllib.error
    import urllib.request

    from conftest import enlace_binary
    from selenium.webdriver.common.by import By
    from test_portal import click_and_wait

    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.*"],
                           check=True, capture_output=True, text=True).stdout.strip()

    def fhir(method, path, body=None):
        req = urllib.request.Request(demo.base + "/fhir" + path, data=json.dumps(body).encode() if body else None, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    status, recs = fhir("GET", "/PaymentReconciliation?identifier=https://enlace.mx/fhir/settlement|&_count=50")
    assert status == 200 and recs.get("entry"), recs
    # the demo settles IMSS with ISSSTE and, for the quality incentive, IMSS with its own clinic
    # (no claim lines): take the IMSS–ISSSTE one, whatever order the search returns them in
    rec = next((e["resource"] for e in recs["entry"]
                if any(i.get("value", "").endswith("~Organization.imss~Organization.issste") for i in e["resource"].get("identifier", []))), None)
    assert rec is not None, [e["resource"].get("identifier") for e in recs["entry"]]
    status, responses = fhir("GET", "/ClaimResponse?_count=500")
    assert status == 200
    task = None
    for entry in responses.get("entry", []):
        params = {"resourceType": "Parameters", "parameter": [
            {"name": "line", "valueReference": {"reference": "ClaimResponse/" + entry["resource"]["id"]}},
            {"name": "reason", "valueString": "Servicio no autorizado por la institución"}]}
        status, body = fhir("POST", f"/PaymentReconciliation/{rec['id']}/$dispute", params)
        if status == 201:
            task = body
            break
        assert status == 422, body  # not a line of this settlement
    assert task is not None, "the demo settlement has no line to dispute"
    users = {"Organization/imss": "imss.pagos", "Organization/issste": "issste.pagos"}
    requester, owner = users[task["requester"]["reference"]], users[task["owner"]["reference"]]
    settled = next(e for e in rec["extension"] if e["url"] == "https://enlace.mx/fhir/StructureDefinition/journal-entry")
    period = next(x["valueString"] for x in settled["extension"] if x["url"] == "period")

    d = browser
    steps = Steps(d, "financing-disputes")
    sign_in(d, demo.base, requester, demo.users[requester])
    d.get(demo.base + "/disputas")
    steps.check("disputa-abierta-pagador")
    item = d.find_element(By.CSS_SELECTOR, f"li.dispute[data-dispute='{task['id']}']")
    assert item.get_attribute("data-status") == "open"
    assert "Servicio no autorizado por la institución" in item.text
    assert not item.find_elements(By.CSS_SELECTOR, "form.resolve"), (requester, owner, task)  # the payer is not owed: no form
    sign_out(d)

    sign_in(d, demo.base, owner, demo.users[owner])
    d.get(demo.base + "/disputas")
    steps.check("disputa-abierta-acreedor")
    item = d.find_element(By.CSS_SELECTOR, f"li.dispute[data-dispute='{task['id']}']")
    item.find_element(By.CSS_SELECTOR, "input[name=nota]").send_keys("Procede: el servicio no se autorizó")
    click_and_wait(d, item.find_element(By.CSS_SELECTOR, "button[value=accepted]"))
    steps.check("disputa-aceptada")
    assert d.current_url.endswith("/disputas?resuelta=1")
    item = d.find_element(By.CSS_SELECTOR, f"li.dispute[data-dispute='{task['id']}']")
    assert item.get_attribute("data-status") == "accepted"
    assert "Procede: el servicio no se autorizó" in item.text
    assert not item.find_elements(By.CSS_SELECTOR, "form.resolve")
    sign_out(d)

    status, stored = fhir("GET", f"/Task/{task['id']}")
    assert status == 200 and stored["status"] == "completed"
    assert stored["businessStatus"]["coding"][0]["code"] == "accepted"
    corrected_in = stored["output"][0]["valueString"]
    assert corrected_in > period, (corrected_in, period)  # never the settled period
    # a second resolution over FHIR is a conflict: it was resolved once
    status, again = fhir("POST", f"/Task/{task['id']}/$resolve", {"resourceType": "Parameters", "parameter": [{"name": "outcome", "valueCode": "rejected"}]})
    assert status == 409, again

    # a quality incentive IMSS paid its clinic in the same settlement (the first the statement
    # lists), disputed whole by its Measure and accepted over FHIR: reversed in the first open period, shown as an incentive
    # dispute on /disputas (docs/financing.md, "Incentives")
    incentive_rec = next((e["resource"] for e in recs["entry"]
                          if any(i.get("value", "").endswith("~Organization.imss~Organization.imss-umf-20") for i in e["resource"].get("identifier", []))), None)
    assert incentive_rec is not None, "the demo's IMSS unit earns no incentive in the settled quarter"
    earned = [e for x in incentive_rec["detail"] for e in x.get("extension", []) if e["url"].endswith("incentive-total")]
    assert earned, incentive_rec
    measure = next(p["valueCanonical"] for p in earned[0]["extension"] if p["url"] == "measure").rsplit("/", 1)[-1]
    dispute = {"resourceType": "Parameters", "parameter": [
        {"name": "line", "valueReference": {"reference": "Measure/" + measure}},
        {"name": "amount", "valueMoney": {"value": 1, "currency": "MXN"}},
        {"name": "reason", "valueString": "Consultas capturadas dos veces"}]}
    status, partial = fhir("POST", f"/PaymentReconciliation/{incentive_rec['id']}/$dispute", dispute)
    assert status == 422 and "completo" in json.dumps(partial, ensure_ascii=False), partial
    dispute["parameter"].pop(1)
    status, itask = fhir("POST", f"/PaymentReconciliation/{incentive_rec['id']}/$dispute", dispute)
    assert status == 201, itask
    assert itask["requester"]["reference"] == "Organization/imss" and itask["owner"]["reference"] == "Organization/imss-umf-20"
    status, done = fhir("POST", f"/Task/{itask['id']}/$resolve", {"resourceType": "Parameters", "parameter": [{"name": "outcome", "valueCode": "accepted"}]})
    assert status == 200 and done["businessStatus"]["coding"][0]["code"] == "accepted", done
    assert done["output"][0]["valueString"] > period
    reversal = next(e for e in done["extension"] if e["url"] == "https://enlace.mx/fhir/StructureDefinition/journal-entry")
    assert any(x["url"] == "reverses" and x["valueString"].startswith("incentive:") for x in reversal["extension"]), reversal
    sign_in(d, demo.base, "imss.pagos", demo.users["imss.pagos"])
    d.get(demo.base + "/disputas")
    item = d.find_element(By.CSS_SELECTOR, f"li.dispute[data-dispute='{itask['id']}']")
    assert item.get_attribute("data-status") == "accepted" and "Incentivo de calidad" in item.text, item.text
    assert "Measure/" not in item.text, item.text  # the measure by its title
    steps.check("disputa-incentivo")
