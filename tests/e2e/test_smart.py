"""SMART App Launch over real HTTP against the real binary: users and clients made with the CLI,
then the authorization-code + PKCE flow a browser-based app would drive (sign-in form with its
CSRF token, approval, code exchange), a FHIR request with the token, introspection, refresh
rotation and revocation."""
import base64
import hashlib
import os
import re
import secrets
import subprocess
import urllib.parse

import requests

from conftest import enlace_binary

REDIRECT = "https://app.example/callback"


def cli(*args, input=None):
    return subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)


def pkce():
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden(html, name):
    m = re.search(r'name="%s" value="([^"]*)"' % name, html)
    assert m, f"no hidden {name} in page"
    return m.group(1)


def setup_identity(server):
    r = cli("users", "add", "--data", server.data_dir, "--username", "ana", "--role", "patient",
            "--patient", "Patient/p1", "--password-stdin", input="una-contraseña-larga\n")
    assert r.returncode == 0, r.stderr
    assert "una-contraseña-larga" not in r.stdout + r.stderr
    r = cli("clients", "add", "--data", server.data_dir, "--client-id", "mi-app", "--name", "Mi App", "--public",
            "--redirect-uri", REDIRECT, "--scope", "openid fhirUser launch/patient offline_access patient/*.rs")
    assert r.returncode == 0, r.stderr


def authorize(server, session, verifier_challenge, password="una-contraseña-larga"):
    origin = f"http://127.0.0.1:{server.port}"
    verifier, challenge = verifier_challenge
    params = {"response_type": "code", "client_id": "mi-app", "redirect_uri": REDIRECT, "state": "abc123",
              "scope": "launch/patient openid fhirUser offline_access patient/*.rs", "aud": server.base,
              "code_challenge": challenge, "code_challenge_method": "S256"}
    page = session.get(origin + "/oauth/authorize", params=params, allow_redirects=False)
    assert page.status_code == 200 and "Iniciar sesión" in page.text
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "HttpOnly" in page.headers["Set-Cookie"] and "SameSite=Lax" in page.headers["Set-Cookie"]
    approval = session.post(origin + "/oauth/authorize/login", allow_redirects=False,
                            data={"csrf": hidden(page.text, "csrf"), "username": "ana", "password": password})
    assert approval.status_code == 200, approval.text
    assert "Mi App" in approval.text and "patient/*.rs" in approval.text
    done = session.post(origin + "/oauth/authorize/approve", allow_redirects=False,
                        data={"csrf": hidden(approval.text, "csrf"), "decision": "approve"})
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(location).query)
    assert query["state"] == ["abc123"]
    return query["code"][0]


def test_authorization_code_with_pkce_from_login_to_fhir_read(server):
    setup_identity(server)
    origin = f"http://127.0.0.1:{server.port}"
    conf = requests.get(server.base + "/.well-known/smart-configuration").json()
    assert conf["token_endpoint"] == origin + "/oauth/token"
    assert conf["code_challenge_methods_supported"] == ["S256"]

    # the data the app will read, written by the operator
    status, _, patient = server.request("PUT", "/Patient/p1", {"resourceType": "Patient", "id": "p1", "name": [{"family": "Ruiz"}]}, server.token())
    assert status in (200, 201)

    session = requests.Session()
    vc = pkce()
    code = authorize(server, session, vc)
    tokens = requests.post(conf["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                         "code_verifier": vc[0], "client_id": "mi-app"})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["patient"] == "p1" and body["fhirUser"] == server.base + "/Patient/p1"
    access, refresh = body["access_token"], body["refresh_token"]

    # the code is single use
    replay = requests.post(conf["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                         "code_verifier": vc[0], "client_id": "mi-app"})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # ... and replaying it revoked what it had issued
    assert requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {access}"}).status_code == 401

    # a fresh flow: read with the token (what a patient may see is the guard's rule; the token is accepted)
    vc = pkce()
    code = authorize(server, requests.Session(), vc)
    body = requests.post(conf["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                       "code_verifier": vc[0], "client_id": "mi-app"}).json()
    access, refresh = body["access_token"], body["refresh_token"]
    read = requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {access}", "Accept": "application/fhir+json"})
    assert read.status_code != 401, read.text
    if read.status_code == 200:
        assert read.json()["id"] == "p1"
    intro = requests.post(origin + "/oauth/introspect", data={"token": access}, headers={"Authorization": f"Bearer {access}"}).json()
    assert intro["active"] is True and intro["patient"] == "Patient/p1" and intro["role"] == "patient" and intro["client_id"] == "mi-app"

    # refresh with rotation: the old refresh and access tokens stop working
    rotated = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "mi-app"})
    assert rotated.status_code == 200
    assert requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    again = requests.post(conf["token_endpoint"], data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "mi-app"})
    assert again.status_code == 400
    access2 = rotated.json()["access_token"]
    assert requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {access2}"}).status_code != 401

    # revocation is honoured on the next request
    assert requests.post(origin + "/oauth/revoke", data={"token": access2, "client_id": "mi-app"}).status_code == 200
    assert requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {access2}"}).status_code == 401


def test_plain_pkce_and_foreign_redirects_are_refused(server):
    setup_identity(server)
    origin = f"http://127.0.0.1:{server.port}"
    verifier, challenge = pkce()
    params = {"response_type": "code", "client_id": "mi-app", "redirect_uri": REDIRECT, "state": "s", "scope": "patient/*.rs",
              "aud": server.base, "code_challenge": verifier, "code_challenge_method": "plain"}
    r = requests.get(origin + "/oauth/authorize", params=params, allow_redirects=False)
    assert r.status_code == 302 and "error=invalid_request" in r.headers["Location"]
    params.update(code_challenge=challenge, code_challenge_method="S256", redirect_uri="https://evil.example/callback")
    r = requests.get(origin + "/oauth/authorize", params=params, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


def test_cli_users_and_user_tokens(server):
    setup_identity(server)
    r = cli("users", "add", "--data", server.data_dir, "--username", "dra", "--role", "practitioner",
            "--practitioner", "Practitioner/7", "--organization", "Organization/umf-10", "--totp", "--password-stdin",
            input="otra-contraseña-larga\n")
    assert r.returncode == 0, r.stderr
    assert "otpauth://totp/Enlace:dra?secret=" in r.stdout
    # passwords only from stdin
    r = cli("users", "add", "--data", server.data_dir, "--username", "x", "--role", "auditor")
    assert r.returncode != 0 and "--password-stdin" in r.stderr
    r = cli("users", "add", "--data", server.data_dir, "--username", "ana", "--role", "patient", "--patient", "Patient/p1",
            "--password-stdin", input="una-contraseña-larga\n")
    assert r.returncode != 0 and "already exists" in r.stderr
    listing = cli("users", "list", "--data", server.data_dir).stdout
    assert "ana\tpatient" in listing and "dra\tpractitioner" in listing and "pbkdf2" not in listing
    # a user token from the CLI carries the user's context
    r = cli("token", "--data", server.data_dir, "--port", str(server.port), "--user", "dra", "--scope", "user/*.rs")
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    intro = requests.post(f"http://127.0.0.1:{server.port}/oauth/introspect", data={"token": token},
                          headers={"Authorization": f"Bearer {server.token()}"}).json()
    assert intro["active"] and intro["role"] == "practitioner" and intro["org"] == "Organization/umf-10" and intro["fhirUser"] == "Practitioner/7"
    r = cli("token", "--data", server.data_dir, "--user", "ana", "--scope", "system/*.*")
    assert r.returncode != 0 and "grants nothing" in r.stderr
    # disabling a user stops their tokens at once
    assert cli("users", "disable", "--data", server.data_dir, "--username", "dra").returncode == 0
    assert requests.get(server.base + "/Patient/p1", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # the operator token still reads everything
    assert server.request("GET", "/Patient/nope", token=server.token())[0] == 404


def totp_code(secret_b32, at=None):
    """RFC 6238: HMAC-SHA1, 30-second steps, 6 digits (an independent implementation)."""
    import hmac
    import struct
    import time
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    step = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", step), "sha1").digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000)


def test_totp_enrolled_by_the_cli_works_on_the_server_and_is_sealed_at_rest(server):
    """The CLI seals the TOTP seed with the data directory's key; the server reads it back to
    check a code; the database file holds no usable seed."""
    import sqlite3
    r = cli("users", "add", "--data", server.data_dir, "--username", "dr.totp", "--role", "practitioner",
            "--practitioner", "Practitioner/9", "--organization", "Organization/umf-10", "--totp", "--password-stdin",
            input="contraseña-del-doctor\n")
    assert r.returncode == 0, r.stderr
    secret = re.search(r"secret=([A-Z2-7]+)", r.stdout).group(1)
    db = sqlite3.connect(os.path.join(server.data_dir, "enlace.sqlite"))
    stored = b"".join(bytes(v) if not isinstance(v, str) else v.encode() for (v,) in db.execute("SELECT value FROM record"))
    db.close()
    assert secret.encode() not in stored, "the TOTP seed is not stored in clear"
    assert b"enc1:" in stored
    origin = f"http://127.0.0.1:{server.port}"
    s = requests.Session()
    page = s.get(origin + "/entrar")
    form = {"csrf": hidden(page.text, "csrf"), "next": "/", "username": "dr.totp", "password": "contraseña-del-doctor"}
    wrong = s.post(origin + "/entrar", data=dict(form, totp="000000" if totp_code(secret) != "000000" else "111111"), allow_redirects=False)
    assert wrong.status_code in (401, 403) and "enlace_portal=" not in wrong.headers.get("Set-Cookie", "")
    page = s.get(origin + "/entrar")
    ok = s.post(origin + "/entrar", data=dict(form, csrf=hidden(page.text, "csrf"), totp=totp_code(secret)), allow_redirects=False)
    assert ok.status_code in (302, 303), ok.text[:300]
    assert "enlace_portal=" in ok.headers.get("Set-Cookie", "")
