"""PHI never in the logs (docs/reliability.md, "PHI in logs"): `enlace serve --demo`, a session
that touches the demo patients every way a client can — FHIR reads and searches by name and
CURP, bad requests that echo values, portal sign-ins and pages, an access request by CURP,
failed sign-ins with a patient's name as the username — then the server's stdout and stderr are
searched for every demo patient's name and CURP: 0 hits.
"""
import http.cookiejar
import json
import os
import re
import subprocess
import time
import unicodedata
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import enlace_binary, free_port

# slower than scripts/test's budget for these checks (< 60 s in all): run with ENLACE_RELIABILITY=1
SLOW = pytest.mark.skipif(not (os.environ.get("ENLACE_RELIABILITY") or os.environ.get("ENLACE_RELIABILITY_FULL")),
                          reason="set ENLACE_RELIABILITY=1 to run (docs/reliability.md)")


def fold(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c)).lower()


class Browser:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def open(self, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data=data, timeout=30) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def csrf(self, page):
        m = re.search(r'name="csrf" value="([^"]+)"', page)
        return m.group(1) if m else ""

    def sign_in(self, user, password):
        _, page = self.open("/entrar")
        return self.open("/entrar", {"csrf": self.csrf(page), "next": "/", "username": user, "password": password})


@SLOW
def test_no_patient_name_or_curp_in_the_server_output(data_dir):
    port = free_port()
    log_path = os.path.join(data_dir, "serve.log")
    log = open(log_path, "w")
    proc = subprocess.Popen([enlace_binary(), "serve", "--demo", "--data", data_dir, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=1).read()
                break
            except Exception:
                assert proc.poll() is None, open(log_path).read()[-3000:]
                time.sleep(0.2)
        passwords = {}
        for line in open(log_path, encoding="utf-8"):
            m = re.match(r"\s+demo-user (\S+) (\S+) (\S+)", line)
            if m:
                passwords[m.group(1)] = m.group(2)
        assert "ana" in passwords, open(log_path).read()[-2000:]
        token = subprocess.run([enlace_binary(), "token", "--data", data_dir, "--port", str(port), "--scope", "system/*.*"],
                               check=True, capture_output=True, text=True).stdout.strip()

        def fhir(method, path, body=None, headers=None):
            h = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
            h.update(headers or {})
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            if data is not None:
                h.setdefault("Content-Type", "application/fhir+json")
            req = urllib.request.Request(base + "/fhir" + path, data=data, method=method, headers=h)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                raw = e.read()
                try:
                    return e.code, json.loads(raw or b"null")
                except ValueError:
                    return e.code, None

        status, bundle = fhir("GET", "/Patient?_count=200")
        assert status == 200
        patients = [e["resource"] for e in bundle.get("entry", [])]
        assert len(patients) >= 50
        names, curps = set(), set()
        for p in patients:
            for n in p.get("name", []):
                given = " ".join(n.get("given", []))
                family = n.get("family", "")
                names.add(f"{given} {family}".strip())
            for i in p.get("identifier", []):
                v = i.get("value", "")
                if re.fullmatch(r"[A-Z]{4}\d{6}[HM][A-Z]{5}[0-9A-Z]\d", v):
                    curps.add(v)
        assert len(curps) >= 50, curps
        # the session: every way a request can carry a patient's name or CURP
        for p in patients[:12]:
            n = p["name"][0]
            curp = next(iter(i["value"] for i in p.get("identifier", []) if "value" in i), "")
            fam = n.get("family", "")
            given = (n.get("given") or [""])[0]
            for q in [f"name={urllib.parse.quote(given + ' ' + fam)}", f"family={urllib.parse.quote(fam)}", f"identifier={curp}",
                      f"identifier=urn:oid:2.16.840.1.113883.4.629|{curp}", f"name:exact={urllib.parse.quote(fam)}",
                      f"birthdate={urllib.parse.quote(fam)}", f"_sort={urllib.parse.quote(fam)}", f"name={urllib.parse.quote(fam)}&_count={curp}"]:
                fhir("GET", "/Patient?" + q)
            fhir("POST", "/Patient/_search", f"identifier={curp}".encode(), {"Content-Type": "application/x-www-form-urlencoded"})
            fhir("GET", f"/Patient/{p['id']}")
            fhir("GET", f"/Patient/{p['id']}/$everything")
            # invalid writes that carry the name and CURP (422 / 400 with details)
            fhir("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": fam, "given": [given]}], "gender": curp,
                                      "identifier": [{"value": curp}], "birthDate": fam})
            fhir("POST", "/Patient", b'{"resourceType":"Patient","name":[{"family":"' + fam.encode() + b'"}]')  # truncated JSON
            fhir("PUT", f"/Patient/{p['id']}", {"resourceType": "Observation", "id": p["id"], "status": curp})
            fhir("POST", "/", {"resourceType": "Bundle", "type": "transaction", "entry": [
                {"request": {"method": "POST", "url": "Patient"}, "resource": {"resourceType": "Patient", "name": [{"family": fam}], "gender": curp}}]})
            fhir("GET", f"/Patient?identifier={curp}", headers={"X-Provenance": json.dumps({"resourceType": "Provenance", "agent": [{"who": {"display": given + " " + fam}}]})})
        # the portal: patients, clinicians, the privacy officer; failed sign-ins named like patients
        b = Browser(base)
        for user in ["ana", "lucia"]:
            b = Browser(base)
            b.sign_in(user, passwords[user])
            for page in ["/", "/expediente", "/accesos", "/decisiones", "/permisos", "/resumen", "/descargar"]:
                b.open(page)
        b = Browser(base)
        b.sign_in("dr.hernandez", passwords["dr.hernandez"])
        _, listing = b.open("/pacientes")
        for pid in re.findall(r'href="/pacientes/([^"/]+)"', listing)[:5]:
            b.open(f"/pacientes/{pid}")
        b = Browser(base)
        b.sign_in("dra.morales", passwords["dra.morales"])
        for curp in list(curps)[:3]:
            _, page = b.open("/solicitar-acceso")
            b.open("/solicitar-acceso", {"csrf": b.csrf(page), "curp": curp, "motivo": "continuidad de la atención", "reason": "continuity"})
        b = Browser(base)
        b.sign_in("privacidad", passwords["privacidad"])
        b.open("/revisiones")
        for name in list(names)[:5]:
            Browser(base).sign_in(name, "wrong")
            Browser(base).sign_in(sorted(curps)[0], "wrong")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    text = open(log_path, encoding="utf-8").read()
    folded = fold(text)
    hits = [n for n in names if len(n) >= 5 and fold(n) in folded] + [c for c in curps if c in text]
    assert not hits, f"{len(hits)} demo patient names or CURPs in the server output, e.g. {hits[:10]}:\n" + "\n".join(
        l for l in text.splitlines() if any(h in l or fold(h) in fold(l) for h in hits[:5]))[:3000]
