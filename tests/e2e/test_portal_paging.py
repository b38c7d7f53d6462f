"""A long record in the portal, in headless Chromium at 360 px (docs/portal.md, "Long records"):
*Mi expediente* shows the newest window, *Ver más* opens the next page, and every entry is reached.
Its own demo server (the module's `demo` fixture), so the other portal tests see the demo as made."""
import json
import re
import subprocess
import urllib.request

from selenium.webdriver.common.by import By

from conftest import enlace_binary
from test_portal import demo, browser, Steps, click_and_wait, sign_in  # noqa: F401 (fixtures)

WINDOW = 150  # Portal.timelineWindow
EXTRA = WINDOW + 12


def add_results(demo, patient, n):
    """`n` Observations with their own titles, dated after everything in the demo, in one transaction."""
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.*"],
                           check=True, capture_output=True, text=True).stdout.strip()
    entries = [{"resource": {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{patient}"},
                             "code": {"text": f"Paginación {k}"}, "effectiveDateTime": f"2099-01-01T{k // 60:02d}:{k % 60:02d}:00Z",
                             "valueQuantity": {"value": 70, "unit": "/min"}},
                "request": {"method": "POST", "url": "Observation"}} for k in range(n)]
    req = urllib.request.Request(demo.base + "/fhir", data=json.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries}).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json",
                                                         "Accept": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status == 200


def titles(d):
    found = []
    for h in d.find_elements(By.CSS_SELECTOR, "ol.timeline li h3"):
        m = re.fullmatch(r"Paginación (\d+)", h.text.strip())
        if m:
            found.append(int(m.group(1)))
    return found


def test_long_record_is_paged_and_every_entry_reached(demo, browser):
    add_results(demo, "demo-p002", EXTRA)
    d, steps = browser, Steps(browser, "paging")
    sign_in(d, demo.base, "lucia", demo.users["lucia"])
    assert d.current_url.endswith("/expediente")
    first = titles(d)
    assert len(first) == WINDOW and first == sorted(first, reverse=True) and first[0] == EXTRA - 1, "the newest window, newest first"
    assert "registros en esta página" in d.find_element(By.TAG_NAME, "main").text
    steps.check("expediente-pagina-1")
    seen, pages = list(first), 1
    while True:
        more = d.find_elements(By.CSS_SELECTOR, "nav.pages a.more[rel=next]")
        if not more:
            break
        assert more[0].text == "Ver más"
        click_and_wait(d, more[0])
        pages += 1
        assert "desde=" in d.current_url
        seen += titles(d)
        assert d.find_elements(By.LINK_TEXT, "Volver a los más recientes"), "a later page links back to the newest"
        steps.check(f"expediente-pagina-{pages}")
        assert pages < 10
    assert pages >= 2
    assert sorted(seen) == list(range(EXTRA)), "every added entry on exactly one page"
    assert "Supervisión de primer embarazo normal" in d.find_element(By.TAG_NAME, "main").text, "the demo's oldest entries on the last page"
    click_and_wait(d, d.find_element(By.LINK_TEXT, "Volver a los más recientes"))
    assert d.current_url.endswith("/expediente") and titles(d) == first
