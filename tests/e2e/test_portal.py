"""Browser tests of the portal: the real `enlace serve --demo` binary, headless Chromium at 360 px.

Each step saves a screenshot under tests/artifacts/, and every page is checked for: no console
errors, no horizontal scroll at 360 px, and an accessibility check of the rendered DOM (html
lang, landmarks, one h1, labelled controls, image alt text, named links and buttons, and WCAG AA
text contrast computed from the final styles).
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import ROOT, enlace_binary, free_port

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
WIDTH = 360

A11Y_CHECK = r"""
const problems = [];
const html = document.documentElement;
if (!html.getAttribute('lang')) problems.push('html has no lang');
for (const tag of ['header', 'main']) if (!document.querySelector(tag)) problems.push('no <' + tag + '> landmark');
if (document.querySelectorAll('h1').length !== 1) problems.push('expected exactly one h1');
if (!document.title.trim()) problems.push('empty <title>');
function visible(el) { const s = getComputedStyle(el); return s.display !== 'none' && s.visibility !== 'hidden' && el.getClientRects().length > 0; }
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (el.type === 'hidden') continue;
  const labelled = (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') || el.closest('label');
  if (!labelled) problems.push('unlabelled control ' + (el.name || el.id || el.type));
}
for (const img of document.querySelectorAll('img')) if (!img.hasAttribute('alt')) problems.push('img without alt ' + img.src);
for (const el of document.querySelectorAll('a, button')) {
  if (!visible(el)) continue;
  const name = (el.innerText || el.getAttribute('aria-label') || el.getAttribute('title') || '').trim();
  if (!name) problems.push('control without accessible name: ' + el.outerHTML.slice(0, 80));
}
function rgb(c) { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(',').map(x => parseFloat(x)); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; }
function lum(c) { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); }
function background(el) {
  for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; }
  return {r: 255, g: 255, b: 255, a: 1};
}
const seen = new Set();
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
while (walker.nextNode()) {
  const node = walker.currentNode;
  if (!node.textContent.trim()) continue;
  const el = node.parentElement;
  if (!el || seen.has(el) || !visible(el)) continue;
  seen.add(el);
  const s = getComputedStyle(el);
  const fg = rgb(s.color), bg = background(el);
  if (!fg) continue;
  const l1 = lum(fg), l2 = lum(bg);
  const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
  const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  if (ratio < (large ? 3 : 4.5)) problems.push('low contrast ' + ratio.toFixed(2) + ' on "' + node.textContent.trim().slice(0, 30) + '"');
}
return problems;
"""


class DemoServer:
    def __init__(self):
        self.data_dir = tempfile.mkdtemp(prefix="enlace-portal-")
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(self.data_dir, "serve.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([enlace_binary(), "serve", "--demo", "--data", self.data_dir, "--port", str(self.port)],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("enlace serve --demo exited early:\n" + open(self.log_path).read()[-3000:])
                time.sleep(0.2)
        else:
            raise RuntimeError("enlace serve --demo did not become healthy")
        self.users = {}
        for line in open(self.log_path, encoding="utf-8"):
            m = re.match(r"\s+demo-user (\S+) (\S+) (\S+)", line)
            if m:
                self.users[m.group(1)] = m.group(2)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def demo():
    s = DemoServer()
    yield s
    s.stop()


# helpers of the browser tests that drive the demo (test_care_*.py and others)
def api(demo, path):
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--scope", "system/*.rs"],
                           check=True, capture_output=True, text=True).stdout.strip()
    req = urllib.request.Request(demo.base + "/fhir" + path, headers={"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def resources(demo, path):
    return [e["resource"] for e in api(demo, path).get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]


def fill(d, field, value):
    el = d.find_element(By.ID, field)
    el.clear()
    el.send_keys(value)


def chromium_paths():
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    if not binary or not os.path.exists(driver):
        pytest.skip("chromium and chromium-driver are not installed (scripts/test installs them)")
    return binary, driver


@pytest.fixture
def browser():
    binary, driver_path = chromium_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ["--headless=new", "--no-sandbox", f"--window-size={WIDTH},800", "--disable-gpu", "--disable-dev-shm-usage"]:
        options.add_argument(arg)
    # Headless Chromium keeps windows at least 500 px wide; emulate a 360 px phone viewport on top.
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": WIDTH, "height": 800, "pixelRatio": 1.0}})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(driver_path), options=options)
    d.set_page_load_timeout(60)
    yield d
    d.quit()


class Steps:
    """Screenshots, console, width and accessibility checks after each step."""

    def __init__(self, driver, name):
        self.driver = driver
        self.name = name
        self.n = 0
        os.makedirs(ARTIFACTS, exist_ok=True)

    def check(self, step, allow_console=()):
        d = self.driver
        self.n += 1
        d.save_screenshot(os.path.join(ARTIFACTS, f"portal-{self.name}-{self.n:02d}-{step}.png"))
        errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE" and not any(a in e["message"] for a in allow_console)]
        assert not errors, f"console errors on {step}: {errors}"
        width = d.execute_script("return document.documentElement.scrollWidth")
        assert width <= WIDTH, f"{step}: page is {width}px wide at {WIDTH}px (horizontal scroll)"
        problems = d.execute_script(A11Y_CHECK)
        assert not problems, f"accessibility problems on {step}: {problems}"


def replaced(element):
    """True once `element`'s page has been replaced. Chromium sometimes answers a check made
    while the old document is torn down with "Node … does not belong to the document" instead
    of a stale-element error (a flake seen in CI); both mean the same here."""
    def predicate(_driver):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as e:
            if "does not belong to the document" in str(e) or "No node with given id" in str(e):
                return True
            raise
    return predicate


def click_and_wait(d, element, accept_confirm=False):
    """Clicks and waits until the next page has replaced this one."""
    page = d.find_element(By.TAG_NAME, "html")
    element.click()
    if accept_confirm:
        WebDriverWait(d, 10).until(expected_conditions.alert_is_present())
        d.switch_to.alert.accept()
    WebDriverWait(d, 30).until(replaced(page))
    WebDriverWait(d, 30).until(lambda drv: drv.execute_script("return document.readyState") == "complete")


def sign_in(d, base, username, password):
    d.get(base + "/entrar")
    d.find_element(By.ID, "username").send_keys(username)
    d.find_element(By.ID, "password").send_keys(password)
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/entrar'] button[type=submit]"))


def sign_out(d):
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form[action='/salir'] button"))


def test_demo_prints_sign_ins(demo):
    assert {"ana", "lucia", "dr.hernandez", "dra.castillo", "dr.aguilar", "privacidad"} <= set(demo.users)
    assert all(len(p) >= 12 for p in demo.users.values())


def test_patient_signs_in_and_sees_timeline(demo, browser):
    d, steps = browser, Steps(browser, "patient")
    d.get(demo.base + "/")
    assert d.current_url.endswith("/entrar")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es-MX"
    steps.check("sign-in")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    assert d.current_url.endswith("/expediente")
    body = d.find_element(By.TAG_NAME, "main").text
    assert "Ana María Torres Jiménez" in body
    assert re.search(r"\bTOJA\d{6}M", body), "the CURP is shown"
    assert "Diabetes mellitus tipo 2" in body and "Hemoglobina glucosilada" in body
    assert "Rango de referencia" in body and "Fuera de rango" in body
    assert "IMSS Unidad de Medicina Familiar No. 20" in body, "each entry says where it came from"
    assert len(d.find_elements(By.CSS_SELECTOR, "ol.timeline li")) > 20
    steps.check("mi-expediente")
    d.get(demo.base + "/accesos")
    assert len(d.find_elements(By.CSS_SELECTOR, "li.entry.btg")) >= 1, "break-the-glass is highlighted"
    assert d.find_elements(By.CSS_SELECTOR, ".badge.ok[title]"), "entries carry the verified mark"
    steps.check("quien-vio")
    d.get(demo.base + "/decisiones")
    assert "En nombre de" in d.find_element(By.TAG_NAME, "main").text
    steps.check("decisiones")
    d.get(demo.base + "/permisos")
    steps.check("permisos")
    d.get(demo.base + "/resumen")
    assert "Metformina" in d.find_element(By.TAG_NAME, "main").text
    steps.check("resumen")
    # The whole record as a FHIR Bundle, with the session cookie.
    cookie = d.get_cookie("enlace_portal")
    assert cookie and cookie.get("httpOnly"), "the session cookie is HttpOnly"
    req = urllib.request.Request(demo.base + "/descargar", headers={"Cookie": f"enlace_portal={cookie['value']}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        assert r.headers["Content-Type"].startswith("application/fhir+json")
        bundle = json.loads(r.read())
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert bundle["resourceType"] == "Bundle" and {"Patient", "Condition", "Observation", "Organization", "Practitioner"} <= types
    sign_out(d)
    assert d.current_url.endswith("/entrar")
    d.get(demo.base + "/expediente")
    assert "/entrar" in d.current_url, "signed out: the record needs a new sign-in"


def hernandez_accesses(d, base):
    d.get(base + "/accesos")
    return [e for e in d.find_elements(By.CSS_SELECTOR, "ol.accesses li") if "Juan Carlos Hernández" in e.text]


def test_clinician_opens_patient_and_appears_in_access_log(demo, browser):
    d, steps = browser, Steps(browser, "clinician")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    before = len(hernandez_accesses(d, demo.base))
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    assert d.current_url.endswith("/pacientes")
    steps.check("mis-pacientes")
    links = d.find_elements(By.LINK_TEXT, "Ana María Torres Jiménez")
    assert links, "Ana is one of Dr. Hernández's patients (treating relationship)"
    assert not d.find_elements(By.LINK_TEXT, "Lucía Fernanda Ramírez Soto"), "a patient of another institution is not listed"
    click_and_wait(d, links[0])
    assert d.current_url.endswith("/pacientes/demo-p001")
    assert "Diabetes mellitus tipo 2" in d.find_element(By.TAG_NAME, "main").text
    steps.check("paciente")
    d.get(demo.base + "/pacientes/demo-p002")
    assert "Acceso no permitido" in d.find_element(By.TAG_NAME, "h1").text
    assert "Lucía" not in d.find_element(By.TAG_NAME, "main").text
    steps.check("negado", allow_console=("403",))
    sign_out(d)

    sign_in(d, demo.base, "ana", demo.users["ana"])
    after = hernandez_accesses(d, demo.base)
    assert len(after) > before, "the clinician's visit is in the patient's access log"
    newest = after[0]
    assert "IMSS Unidad de Medicina Familiar No. 20" in newest.text
    assert newest.find_elements(By.CSS_SELECTOR, ".badge.ok"), "the new entry's inclusion proof was verified"
    steps.check("quien-vio-despues")


def test_language_switch(demo, browser):
    d, steps = browser, Steps(browser, "language")
    d.get(demo.base + "/entrar")
    assert d.find_element(By.TAG_NAME, "h1").text == "Iniciar sesión"
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "a.lang"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert d.find_element(By.TAG_NAME, "h1").text == "Sign in"
    steps.check("sign-in-en")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    assert d.find_element(By.TAG_NAME, "h1").text == "My record"
    assert "Reference range" in d.find_element(By.TAG_NAME, "main").text
    steps.check("record-en")
    d.get(demo.base + "/accesos")
    assert d.find_element(By.TAG_NAME, "h1").text == "Who saw my data?"
    steps.check("access-en")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "a.lang"))
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "es-MX"
    assert d.find_element(By.TAG_NAME, "h1").text == "¿Quién vio mis datos?"
    steps.check("access-es")


def test_patient_revokes_a_consent(demo, browser):
    d, steps = browser, Steps(browser, "revoke")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/permisos")
    forms = d.find_elements(By.CSS_SELECTOR, "form[action='/permisos/revocar']")
    assert len(forms) >= 2
    # one of the demo's institution-sharing permissions (the access-request tests below use the others)
    sharing = [f for f in forms if f.find_element(By.NAME, "consent").get_attribute("value").startswith("demo-p001-consent-")]
    assert sharing
    click_and_wait(d, sharing[0].find_element(By.TAG_NAME, "button"), accept_confirm=True)
    assert "revocado=1" in d.current_url
    assert d.find_element(By.CSS_SELECTOR, ".notice").text == "Permiso retirado."
    assert len(d.find_elements(By.CSS_SELECTOR, "form[action='/permisos/revocar']")) == len(forms) - 1
    steps.check("revocado")
    d.get(demo.base + "/decisiones")
    assert "Permisos" in d.find_element(By.TAG_NAME, "main").text, "the revocation has its own Provenance"
    steps.check("decisiones")


def test_wrong_password_and_csrf(demo, browser):
    d, steps = browser, Steps(browser, "errors")
    sign_in(d, demo.base, "ana", "not-the-password")
    assert "incorrectos" in d.find_element(By.CSS_SELECTOR, "[role=alert]").text
    steps.check("wrong-password", allow_console=("401",))
    # A POST without the form's CSRF token is refused.
    req = urllib.request.Request(demo.base + "/entrar", data=b"username=ana&password=x", method="POST",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        urllib.request.urlopen(req, timeout=10)
        assert False, "expected 403"
    except urllib.error.HTTPError as e:
        assert e.code == 403
    # Security headers.
    with urllib.request.urlopen(demo.base + "/entrar", timeout=10) as r:
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Frame-Options"] == "DENY"


def refused(d):
    return "Acceso no permitido" in d.find_element(By.TAG_NAME, "h1").text


def test_consent_based_clinician_loses_access_when_patient_revokes(demo, browser):
    """Dra. Castillo sees Ana only through the Consent Ana approved; once Ana withdraws it, the
    next page load is refused."""
    d, steps = browser, Steps(browser, "consent-clinician")
    sign_in(d, demo.base, "dra.castillo", demo.users["dra.castillo"])
    assert d.current_url.endswith("/pacientes")
    links = d.find_elements(By.LINK_TEXT, "Ana María Torres Jiménez")
    assert links, "Ana is listed: she gave Dra. Castillo permission"
    assert len(d.find_elements(By.CSS_SELECTOR, "ul.patients li")) == 1, "no other patient: no care relationship anywhere"
    steps.check("mis-pacientes")
    click_and_wait(d, links[0])
    assert "Diabetes mellitus tipo 2" in d.find_element(By.TAG_NAME, "main").text
    steps.check("paciente")
    sign_out(d)

    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/permisos")
    cards = [c for c in d.find_elements(By.CSS_SELECTOR, "li.card") if "Dra. Mariana Castillo Vega" in c.text
             and c.find_elements(By.CSS_SELECTOR, "form[action='/permisos/revocar']")]
    assert len(cards) == 1, "the approved request is an active permission naming the cardiologist"
    assert "Su expediente general" in cards[0].text
    steps.check("permisos")
    click_and_wait(d, cards[0].find_element(By.CSS_SELECTOR, "form[action='/permisos/revocar'] button"), accept_confirm=True)
    assert d.find_element(By.CSS_SELECTOR, ".notice").text == "Permiso retirado."
    assert not [c for c in d.find_elements(By.CSS_SELECTOR, "li.card") if "Dra. Mariana Castillo Vega" in c.text]
    steps.check("revocado")
    sign_out(d)

    sign_in(d, demo.base, "dra.castillo", demo.users["dra.castillo"])
    assert not d.find_elements(By.LINK_TEXT, "Ana María Torres Jiménez"), "Ana is no longer listed"
    d.get(demo.base + "/pacientes/demo-p001")
    assert refused(d), "a clear refusal page, not an error"
    main = d.find_element(By.TAG_NAME, "main").text
    assert "retiró su permiso" in main and "Diabetes" not in main
    steps.check("negado", allow_console=("403",))


def test_patient_approves_a_pending_request(demo, browser):
    """Dr. Aguilar asked for access; Ana approves it on Mis permisos (for 30 days instead of
    180) and from then on he can open her record."""
    d, steps = browser, Steps(browser, "approve")
    sign_in(d, demo.base, "dr.aguilar", demo.users["dr.aguilar"])
    d.get(demo.base + "/pacientes/demo-p001")
    assert refused(d), "asking grants nothing"
    steps.check("antes", allow_console=("403",))
    sign_out(d)

    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/permisos")
    card = d.find_element(By.ID, "request-demo-p001-request-aguilar")
    text = card.text
    for expected in ["Dr. Tomás Aguilar Núñez", "Centro de Especialidades Coyoacán", "Atención médica", "Salud mental", "180 días"]:
        assert expected in text, f"the request says {expected!r}"
    steps.check("solicitud")
    card.find_element(By.CSS_SELECTOR, "details.narrowing summary").click()
    Select(card.find_element(By.NAME, "dias")).select_by_value("30")
    assert card.find_element(By.NAME, "categoria-MH").is_selected(), "categories asked are ticked by default"
    steps.check("acotar")
    click_and_wait(d, card.find_element(By.CSS_SELECTOR, "form[action='/permisos/solicitudes/aprobar'] button[type=submit]"))
    assert "aprobada=1" in d.current_url
    assert d.find_element(By.CSS_SELECTOR, ".notice").text.startswith("Solicitud aprobada.")
    assert not d.find_elements(By.ID, "request-demo-p001-request-aguilar"), "no longer pending"
    granted = [c for c in d.find_elements(By.CSS_SELECTOR, "li.card") if "Dr. Tomás Aguilar Núñez" in c.text]
    assert granted and "Salud mental" in granted[0].text
    steps.check("aprobada")
    sign_out(d)

    sign_in(d, demo.base, "dr.aguilar", demo.users["dr.aguilar"])
    links = d.find_elements(By.LINK_TEXT, "Ana María Torres Jiménez")
    assert links, "Ana is now one of his patients, by her permission"
    click_and_wait(d, links[0])
    assert "Diabetes mellitus tipo 2" in d.find_element(By.TAG_NAME, "main").text
    steps.check("paciente")


def test_patient_denies_a_request(demo, browser):
    """A request made through the FHIR API is denied on the portal; nothing is granted."""
    token = subprocess.run([enlace_binary(), "token", "--data", demo.data_dir, "--port", str(demo.port), "--user", "dr.hernandez",
                            "--scope", "user/Task.cr"], check=True, capture_output=True, text=True).stdout.strip()
    task = {"resourceType": "Task", "status": "requested", "intent": "proposal",
            "code": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/privacy-task", "code": "consent-request"}]},
            "for": {"reference": "Patient/demo-p002"}, "requester": {"reference": "Practitioner/dr-hernandez"},
            "input": [{"type": {"text": "purpose"}, "valueCode": "TREAT"},
                      {"type": {"text": "duration"}, "valueDuration": {"value": 7, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}}]}
    req = urllib.request.Request(demo.base + "/fhir/Task", data=json.dumps(task).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json",
                                          "Accept": "application/fhir+json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 201
        task_id = json.loads(r.read())["id"]

    d, steps = browser, Steps(browser, "deny")
    sign_in(d, demo.base, "lucia", demo.users["lucia"])
    d.get(demo.base + "/permisos")
    card = d.find_element(By.ID, f"request-{task_id}")
    assert "Dr. Juan Carlos Hernández Ruiz" in card.text and "IMSS Unidad de Medicina Familiar No. 20" in card.text
    assert "7 días" in card.text
    steps.check("solicitud")
    click_and_wait(d, card.find_element(By.CSS_SELECTOR, "form[action='/permisos/solicitudes/rechazar'] button"), accept_confirm=True)
    assert d.find_element(By.CSS_SELECTOR, ".notice").text == "Solicitud rechazada. No se compartió nada."
    assert not d.find_elements(By.ID, f"request-{task_id}")
    steps.check("rechazada")
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/pacientes/demo-p002")
    assert refused(d), "a denied request grants nothing"
    steps.check("sigue-negado", allow_console=("403",))


def test_verified_mark_is_explained(demo, browser):
    d, steps = browser, Steps(browser, "verified")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/accesos")
    assert d.find_elements(By.CSS_SELECTOR, ".badge.ok")
    explain = d.find_element(By.CSS_SELECTOR, "details#verificado")
    summary = explain.find_element(By.TAG_NAME, "summary")
    assert summary.text == "¿Qué significa «✓ verificado»?"
    summary.click()
    text = explain.text
    assert "encabezado de árbol firmado" in text and "prueba de inclusión" in text, "the mark is explained in words, not only in a tooltip"
    steps.check("explicado")
    btg = d.find_elements(By.CSS_SELECTOR, "li.entry.btg")
    assert any("Registro de acceso de emergencia Task/" in e.text for e in btg), "the emergency access names its break-the-glass record"


def test_clinician_requests_access_by_curp(demo, browser):
    """Dra. Morales (no patients) asks Lucía for access by her CURP from the portal; Lucía approves
    it on Mis permisos; then Dra. Morales opens Lucía's record."""
    d, steps = browser, Steps(browser, "request-access")
    sign_in(d, demo.base, "lucia", demo.users["lucia"])
    curp = d.find_element(By.CSS_SELECTOR, "#patient-name + dl.facts dd.mono").text.strip()
    assert re.fullmatch(r"[A-Z]{4}\d{6}[HM][A-Z]{5}[A-Z0-9]\d", curp), curp
    sign_out(d)

    sign_in(d, demo.base, "dra.morales", demo.users["dra.morales"])
    assert d.current_url.endswith("/pacientes")
    assert not d.find_elements(By.CSS_SELECTOR, "ul.patients li"), "no patients yet"
    assert d.find_elements(By.CSS_SELECTOR, "main a[href='/solicitar-acceso']"), "the patients list offers the request form"
    steps.check("mis-pacientes")
    d.get(demo.base + "/pacientes/demo-p002")
    assert refused(d)
    assert "Lucía" not in d.find_element(By.TAG_NAME, "main").text
    steps.check("negado", allow_console=("403",))
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "main a[href='/solicitar-acceso']"))
    assert d.find_element(By.TAG_NAME, "h1").text == "Solicitar acceso"
    steps.check("formulario")

    # A mistyped CURP is a clear form error; what was typed is kept.
    d.find_element(By.ID, "curp").send_keys(curp[:-1] + ("1" if curp.endswith("0") else "0"))
    d.find_element(By.ID, "motivo").send_keys("Valoración de su embarazo, enviada por su ginecóloga")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form#solicitud button[type=submit]"))
    assert "Esa CURP no es válida" in d.find_element(By.CSS_SELECTOR, ".error-summary").text
    assert d.find_element(By.ID, "curp").get_attribute("aria-invalid") == "true"
    steps.check("curp-invalida", allow_console=("422",))

    field = d.find_element(By.ID, "curp")
    field.clear()
    field.send_keys(curp.lower())
    d.find_element(By.NAME, "categoria-SEX").click()
    Select(d.find_element(By.ID, "dias")).select_by_value("90")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form#solicitud button[type=submit]"))
    assert "enviada=1" in d.current_url
    notice = d.find_element(By.CSS_SELECTOR, ".notice").text
    assert "Si la CURP corresponde a un paciente registrado, recibirá su solicitud" in notice
    steps.check("enviada")
    sign_out(d)

    sign_in(d, demo.base, "lucia", demo.users["lucia"])
    d.get(demo.base + "/permisos")
    cards = [c for c in d.find_elements(By.CSS_SELECTOR, "li.card.request") if "Dra. Elena Morales Rivas" in c.text]
    assert len(cards) == 1, "the request reached Lucía"
    text = cards[0].text
    for expected in ["Centro de Especialidades Coyoacán", "Atención médica", "Salud sexual y reproductiva", "90 días", "enviada por su ginecóloga"]:
        assert expected in text, f"the request says {expected!r}"
    steps.check("solicitud")
    click_and_wait(d, cards[0].find_element(By.CSS_SELECTOR, "form[action='/permisos/solicitudes/aprobar'] button[type=submit]"))
    assert d.find_element(By.CSS_SELECTOR, ".notice").text.startswith("Solicitud aprobada.")
    steps.check("aprobada")
    sign_out(d)

    sign_in(d, demo.base, "dra.morales", demo.users["dra.morales"])
    links = d.find_elements(By.LINK_TEXT, "Lucía Fernanda Ramírez Soto")
    assert links, "Lucía is now her patient, by Lucía's permission"
    click_and_wait(d, links[0])
    assert d.current_url.endswith("/pacientes/demo-p002")
    assert "Supervisión de primer embarazo normal" in d.find_element(By.TAG_NAME, "main").text
    steps.check("paciente")


def test_clinician_breaks_the_glass(demo, browser):
    """Dra. Morales breaks the glass for Ana with a reason and a confirmation; the record opens;
    Ana's ¿Quién vio mis datos? shows the emergency access at the top and in the log."""
    reason = "Paciente inconsciente en urgencias de obstetricia, sin acompañante"
    d, steps = browser, Steps(browser, "break-the-glass")
    sign_in(d, demo.base, "dra.morales", demo.users["dra.morales"])
    d.get(demo.base + "/pacientes/demo-p001")
    assert refused(d)
    section = d.find_element(By.CSS_SELECTOR, "section.emergency")
    assert "Acceso de emergencia (romper el cristal)" in section.text
    assert "4 horas" in section.text and "oficina de privacidad" in section.text and "aviso" in section.text
    steps.check("negado", allow_console=("403",))
    d.find_element(By.ID, "motivo-emergencia").send_keys(reason)
    click_and_wait(d, section.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert d.find_element(By.TAG_NAME, "h1").text == "Confirme el acceso de emergencia"
    assert reason in d.find_element(By.CSS_SELECTOR, "blockquote.reason").text
    steps.check("confirmar")
    click_and_wait(d, d.find_element(By.CSS_SELECTOR, "form input[name=confirmar]").find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "button"))
    assert d.current_url.endswith("/pacientes/demo-p001?emergencia=1")
    main = d.find_element(By.TAG_NAME, "main").text
    assert "Acceso de emergencia activo hasta" in main and "Diabetes mellitus tipo 2" in main
    steps.check("paciente")
    sign_out(d)

    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/accesos")
    notices = d.find_element(By.CSS_SELECTOR, "section.btg-notices")
    first = d.find_element(By.CSS_SELECTOR, "main > *:not(h1)")
    assert first == notices, "the emergency notice is at the top of the page"
    mine = [n for n in notices.find_elements(By.CSS_SELECTOR, "li.btg-notice") if "Dra. Elena Morales Rivas" in n.text]
    assert len(mine) == 1 and reason in mine[0].text
    assert "pendiente de revisión" in mine[0].text
    entries = d.find_elements(By.CSS_SELECTOR, "ol.accesses li.entry.btg")
    assert any("Dra. Elena Morales Rivas" in e.text for e in entries), "her accesses are highlighted as emergency access"
    steps.check("quien-vio")
    link = mine[0].find_element(By.PARTIAL_LINK_TEXT, "Ver la entrada")
    target = link.get_attribute("href").split("#", 1)[1]
    entry = d.find_element(By.ID, target)
    assert "btg" in entry.get_attribute("class") and "Dra. Elena Morales Rivas" in entry.text
    link.click()
    assert d.current_url.endswith("#" + target)
    steps.check("entrada")


def test_privacy_officer_reviews_an_emergency_access(demo, browser):
    """The privacy officer's queue lists the break-the-glass accesses waiting for review; one is
    marked justified with a note and moves to the reviewed list."""
    d, steps = browser, Steps(browser, "privacy-review")
    sign_in(d, demo.base, "privacidad", demo.users["privacidad"])
    assert d.current_url.endswith("/revisiones")
    pending = d.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=h-pending] li.card")
    assert pending, "the demo's break-the-glass waits for review"
    card = pending[0]
    card_id = card.get_attribute("id")
    assert "Acceso de emergencia de" in card.text
    steps.check("cola")
    card.find_element(By.TAG_NAME, "textarea").send_keys("Urgencia documentada en la nota de ingreso")
    click_and_wait(d, card.find_element(By.CSS_SELECTOR, "button[value=justificado]"))
    assert "Revisión guardada" in d.find_element(By.TAG_NAME, "main").text
    done = d.find_element(By.CSS_SELECTOR, "section[aria-labelledby=h-done]")
    reviewed = done.find_element(By.ID, card_id)
    assert "Justificado" in reviewed.text and "Urgencia documentada en la nota de ingreso" in reviewed.text
    steps.check("revisado")
    sign_out(d)
