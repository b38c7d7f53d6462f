"""A SMART standalone launch with PKCE by an unmodified third-party client library: the SMART
Health IT Python client `fhirclient` (PyPI), against the real binary. It finds the
authorization and token endpoints the way it always does — the `oauth-uris` extension on
`CapabilityStatement.rest.security` (it parses the whole CapabilityStatement with its own R4
models) — sends PKCE S256, exchanges the code, reads the launch patient and searches. Only the
user's part (the sign-in form and the approval, which a browser would show) is driven here."""
import re
import subprocess
import urllib.parse

import pytest
import requests

from conftest import enlace_binary

fhirclient = pytest.importorskip("fhirclient", reason="fhirclient is in tests/requirements.txt; scripts/test installs it")
from fhirclient import client  # noqa: E402
from fhirclient.models.observation import Observation  # noqa: E402
from fhirclient.server import FHIRPermissionDeniedException  # noqa: E402

REDIRECT = "http://127.0.0.1:1/callback"
PASSWORD = "una-contraseña-larga"


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    assert m, f"no hidden {name} in the page"
    return m.group(1)


def cli(*args, input=None):
    r = subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def test_fhirclient_standalone_launch_with_pkce_reads_the_patient_and_searches(server):
    token = server.token()
    status, _, _ = server.request("PUT", "/Patient/p1", {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ruiz", "given": ["Marta"]}],
                                                         "gender": "female", "birthDate": "1980-05-04"}, token)
    assert status in (200, 201)
    for i, value in enumerate([5.4, 6.1]):
        status, _, _ = server.request("POST", "/Observation", {
            "resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0", "display": "Glucosa"}]},
            "effectiveDateTime": f"2026-11-2{i}T08:00:00Z", "valueQuantity": {"value": value, "unit": "mmol/L"}}, token)
        assert status == 201
    # someone else's data, which the launch must not reach
    server.request("PUT", "/Patient/p2", {"resourceType": "Patient", "id": "p2"}, token)
    server.request("POST", "/Observation", {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p2"},
                                            "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]}}, token)
    cli("users", "add", "--data", server.data_dir, "--username", "marta", "--role", "patient", "--patient", "Patient/p1",
        "--password-stdin", input=PASSWORD + "\n")
    cli("clients", "add", "--data", server.data_dir, "--client-id", "py-app", "--name", "Python App", "--public",
        "--redirect-uri", REDIRECT, "--scope", "openid fhirUser launch/patient offline_access patient/*.rs")

    smart = client.FHIRClient(settings={"app_id": "py-app", "api_base": server.base, "redirect_uri": REDIRECT,
                                        "scope": "openid fhirUser patient/*.rs"})
    assert not smart.ready
    url = smart.authorize_url  # reads /metadata: the endpoints come from the oauth-uris extension
    origin = f"http://127.0.0.1:{server.port}"
    parts = urllib.parse.urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == origin + "/oauth/authorize", url
    asked = urllib.parse.parse_qs(parts.query)
    assert asked["code_challenge_method"] == ["S256"] and asked["aud"] == [server.base]
    assert "launch/patient" in asked["scope"][0]

    # the person's part: sign in and approve in the page the browser shows
    browser = requests.Session()
    page = browser.get(url, allow_redirects=False)
    assert page.status_code == 200, page.text[:300]
    approval = browser.post(origin + "/oauth/authorize/login", allow_redirects=False,
                            data={"csrf": hidden(page.text, "csrf"), "username": "marta", "password": PASSWORD})
    assert approval.status_code == 200, approval.text[:300]
    done = browser.post(origin + "/oauth/authorize/approve", allow_redirects=False,
                        data={"csrf": hidden(approval.text, "csrf"), "decision": "approve"})
    assert done.status_code == 302
    callback = done.headers["Location"]
    assert callback.startswith(REDIRECT + "?")

    smart.handle_callback(callback)  # checks the state, exchanges the code with its PKCE verifier
    assert smart.ready and smart.patient_id == "p1"
    patient = smart.patient  # reads Patient/p1 with the access token
    assert patient.name[0].family == "Ruiz" and patient.gender == "female"
    found = list(Observation.where(struct={"patient": "p1", "code": "2339-0"}).perform_resources_iter(smart.server))
    assert sorted(o.valueQuantity.value for o in found) == [5.4, 6.1]
    # the launch is the patient's: another patient's data stays out of reach
    try:
        others = list(Observation.where(struct={"patient": "p2"}).perform_resources_iter(smart.server))
    except FHIRPermissionDeniedException:
        others = []
    assert others == []
    assert smart.human_name(patient.name[0]) == "Marta Ruiz"
