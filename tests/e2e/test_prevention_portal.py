"""*Mi prevención* and the clinician's gap panel in headless Chromium at 360 px (docs/prevention.md), on the
demo: Ana sees what is due, overdue and done with what each item is for; Dr. Hernández's panel lists the
demo's prevention patients (Mateo, Rosa María, Ernesto) and only his own patients, filters by gap, and the CSV
has the same rows; his summary of a patient carries the gaps. Screenshots in tests/artifacts/."""
import urllib.request

from selenium.webdriver.common.by import By

from test_portal import Steps, browser, demo, sign_in, sign_out  # noqa: F401  (fixtures)


def wait_text(d, text, seconds=30):
    import time
    deadline = time.time() + seconds
    while time.time() < deadline:
        if text in d.page_source:
            return
        time.sleep(0.5)
        d.refresh()
    raise AssertionError(f"{text!r} never appeared")


def test_mi_prevencion_and_panel(demo, browser):
    d = browser
    steps = Steps(d, "prevention")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/prevencion")
    assert d.find_element(By.TAG_NAME, "h1").text == "Mi prevención"
    items = d.find_elements(By.CSS_SELECTOR, "li[data-item]")
    assert items, "Ana has Cartilla items"
    statuses = {i.get_attribute("data-status") for i in items}
    assert statuses & {"due", "overdue", "done"}
    assert "Para qué sirve" in d.page_source
    steps.check("mi-prevencion")
    d.get(demo.base + "/idioma?lang=en&next=%2Fprevencion")
    assert d.find_element(By.TAG_NAME, "h1").text == "My prevention"
    assert "What it is for" in d.page_source
    steps.check("my-prevention")
    d.get(demo.base + "/idioma?lang=es&next=%2Fprevencion")
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/prevencion/panel")
    wait_text(d, "Mateo")
    patients = {li.get_attribute("data-patient") for li in d.find_elements(By.CSS_SELECTOR, "li[data-patient]")}
    assert {"demo-prev-mateo", "demo-prev-rosa", "demo-prev-ernesto"} <= patients
    assert "demo-p002" not in patients  # Lucía is another doctor's patient
    steps.check("panel")
    # the clinician's summary of Mateo carries his gaps
    d.get(demo.base + "/pacientes/demo-prev-mateo")
    gaps = d.find_element(By.CSS_SELECTOR, "section[data-prevention-gaps]")
    assert int(gaps.get_attribute("data-prevention-gaps")) >= 1
    steps.check("summary-gaps")
    # filter by a gap and download the CSV with the session cookie
    d.get(demo.base + "/prevencion/panel?brecha=mujer-mastografia&orden=nombre")
    filtered = {li.get_attribute("data-patient") for li in d.find_elements(By.CSS_SELECTOR, "li[data-patient]")}
    assert "demo-prev-rosa" in filtered and "demo-prev-mateo" not in filtered
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    req = urllib.request.Request(demo.base + "/prevencion/panel?formato=csv", headers={"Cookie": cookie})
    csv = urllib.request.urlopen(req, timeout=30).read().decode()
    assert csv.startswith("patient,name,gap,status,due_since") and "demo-prev-mateo" in csv
    sign_out(d)
