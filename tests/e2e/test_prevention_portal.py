"""*Mi prevención* and the clinician's gap panel in headless Chromium at 360 px (docs/prevention.md), on the
demo: Ana sees what is due, overdue and done with what each item is for; Dr. Hernández's panel lists the
demo's prevention patients (Mateo, Rosa María, Ernesto) and only his own patients, filters by gap, and the CSV
has the same rows; his summary of a patient carries the gaps. Screenshots in tests/artifacts/."""
import urllib.error
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


def status_of(base, path, cookie):
    req = urllib.request.Request(base + path, headers={"Cookie": cookie})
    try:
        return urllib.request.urlopen(req, timeout=30).status
    except urllib.error.HTTPError as e:
        return e.code


def test_decisions_and_reminders(demo, browser):
    """Dr. Hernández overrides an algorithm's result for Ana with a reason and reminds two patients from his
    panel (Rosa opposed contact: not sent); Ana reads the decision on *Decisiones*; another doctor's patient's
    prevention page answers like a missing one, and a patient cannot open it."""
    from test_portal import click_and_wait
    d = browser
    steps = Steps(d, "prevention-decisions")
    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/prevencion/paciente/demo-p001")
    wait_text(d, "data-decide")
    item = d.find_elements(By.CSS_SELECTOR, "li[data-decide]")[0]
    item.find_element(By.CSS_SELECTOR, "textarea[name=motivo]").send_keys("Ya se vacunó en otra clínica; traerá su Cartilla")
    steps.check("paciente")
    click_and_wait(d, item.find_element(By.CSS_SELECTOR, "button[value=override]"))
    assert "Decisión registrada." in d.page_source
    # the panel: remind Mateo (a gap, no opposition) and Rosa (opposed contact)
    d.get(demo.base + "/prevencion/panel?orden=nombre")
    wait_text(d, "Mateo")
    for pid in ("demo-prev-mateo", "demo-prev-rosa"):
        d.find_element(By.ID, f"p-{pid}").click()
    d.find_element(By.CSS_SELECTOR, "#medio option[value=portal]").click()
    steps.check("panel-recordatorio")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/prevencion/recordatorios'] button[type=submit]"))
    assert "Recordatorios enviados: 1." in d.page_source and "se opuso a ser contactada: 1." in d.page_source, d.page_source[:2000]
    steps.check("panel-enviados")
    # the leak matrix, on the new page: another doctor's patient answers like a missing one
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    hidden, missing = status_of(demo.base, "/prevencion/paciente/demo-p002", cookie), status_of(demo.base, "/prevencion/paciente/nadie", cookie)
    assert hidden == missing and hidden in (403, 404), (hidden, missing)
    sign_out(d)

    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/decisiones")
    assert "Su médico rechazó el resultado del algoritmo" in d.page_source
    assert "Ya se vacunó en otra clínica; traerá su Cartilla" in d.page_source
    steps.check("decisiones")
    # a patient cannot open the clinician's page
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in d.get_cookies())
    assert status_of(demo.base, "/prevencion/paciente/demo-p001", cookie) == 403
    sign_out(d)
