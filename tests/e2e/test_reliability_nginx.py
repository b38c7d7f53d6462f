"""Enlace behind nginx terminating TLS, as deploy/ configures it (docs/reliability.md,
"Deployment"): a self-signed certificate, deploy/nginx-enlace.conf with only ports and paths
changed, `--base-url` the https one. Through the proxy: /readyz, HSTS and the security headers,
the portal's cookies `Secure`, the sign-in throttle keyed by the client's address, and a SMART
authorization-code launch with PKCE whose token reads the record.
Skipped when nginx or openssl is missing (apt-get install nginx-light openssl)."""
import os
import re
import shutil
import ssl
import subprocess
import time
import urllib.parse

import pytest
import requests

from conftest import ROOT, Server, enlace_binary, free_port
from test_smart import REDIRECT, cli, hidden, pkce

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
pytestmark = [pytest.mark.skipif(not NGINX or not shutil.which("openssl"), reason="nginx or openssl not installed"),
              pytest.mark.skipif(not os.environ.get("ENLACE_RELIABILITY"), reason="set ENLACE_RELIABILITY=1 to run (docs/reliability.md)")]


def nginx_config(prefix, tls_port, http_port, upstream_port, cert, key):
    site = open(os.path.join(ROOT, "deploy", "nginx-enlace.conf")).read()
    log_format = open(os.path.join(ROOT, "deploy", "nginx-log-format.conf")).read()
    site = (site.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{tls_port} ssl http2;")
                .replace("listen [::]:443 ssl http2;", "")
                .replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen [::]:80;", "")
                .replace("server 127.0.0.1:8080;", f"server 127.0.0.1:{upstream_port};")
                .replace("/etc/ssl/enlace/fullchain.pem", cert).replace("/etc/ssl/enlace/privkey.pem", key)
                .replace("/var/log/nginx/enlace.access.log", os.path.join(prefix, "access.log"))
                .replace("server_name enlace.example.mx;", "server_name 127.0.0.1 localhost;"))
    assert f"127.0.0.1:{tls_port}" in site and cert in site, "deploy/nginx-enlace.conf changed shape; update this test"
    return f"""
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {log_format}
    {site}
}}
"""


@pytest.fixture
def proxied(data_dir):
    prefix = os.path.join(data_dir, "nginx")
    os.makedirs(prefix)
    cert, key = os.path.join(prefix, "cert.pem"), os.path.join(prefix, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    tls_port, http_port, upstream = free_port(), free_port(), free_port()
    conf = os.path.join(prefix, "nginx.conf")
    open(conf, "w").write(nginx_config(prefix, tls_port, http_port, upstream, cert, key))
    test = subprocess.run([NGINX, "-t", "-c", conf, "-p", prefix], capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    proxy = subprocess.Popen([NGINX, "-c", conf, "-p", prefix, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"https://127.0.0.1:{tls_port}"
    server = Server(data_dir, upstream, base_url=origin + "/fhir").start()
    try:
        yield server, origin, cert, http_port, prefix
    finally:
        server.stop()
        proxy.terminate()
        proxy.wait(timeout=10)


def test_behind_nginx_with_tls(proxied):
    server, origin, cert, http_port, prefix = proxied
    s = requests.Session()
    s.verify = cert
    s.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would override verify
    # plain http redirects to https
    r = requests.get(f"http://127.0.0.1:{http_port}/entrar", allow_redirects=False)
    assert r.status_code == 301 and r.headers["Location"].startswith("https://")
    r = s.get(origin + "/readyz")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    # headers and the portal's cookies through TLS
    r = s.get(origin + "/entrar")
    assert r.status_code == 200
    assert "max-age=" in r.headers["Strict-Transport-Security"]
    assert r.headers["X-Content-Type-Options"] == "nosniff" and "unsafe-inline" not in r.headers["Content-Security-Policy"]
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite" in cookie, cookie
    # a patient user and a SMART app, made with the CLI against the same data directory
    assert cli("users", "add", "--data", server.data_dir, "--username", "ana", "--role", "patient", "--patient", "Patient/p1",
               "--password-stdin", input="una-contraseña-larga\n").returncode == 0
    assert cli("clients", "add", "--data", server.data_dir, "--client-id", "mi-app", "--name", "Mi App", "--public", "--redirect-uri", REDIRECT,
               "--scope", "openid fhirUser launch/patient offline_access patient/*.rs").returncode == 0
    token = server.token()
    st = s.put(origin + "/fhir/Patient/p1", json={"resourceType": "Patient", "id": "p1", "name": [{"family": "Ruiz"}]},
               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
    assert st.status_code in (200, 201), st.text
    # the portal's session cookie is Secure too
    page = s.get(origin + "/entrar")
    signed = s.post(origin + "/entrar", data={"csrf": hidden(page.text, "csrf"), "next": "/", "username": "ana",
                                              "password": "una-contraseña-larga"}, allow_redirects=False)
    assert signed.status_code == 303, signed.text[:300]
    session_cookie = [c for c in signed.raw.headers.getlist("Set-Cookie") if c.startswith("enlace_portal=")]
    assert session_cookie and "Secure" in session_cookie[0] and "HttpOnly" in session_cookie[0], session_cookie
    # SMART: discovery names the https endpoints; authorize → sign in → approve → code → token → read
    conf = s.get(origin + "/fhir/.well-known/smart-configuration").json()
    assert conf["token_endpoint"] == origin + "/oauth/token" and conf["authorization_endpoint"].startswith(origin)
    verifier, challenge = pkce()
    app = requests.Session()
    app.verify = cert
    app.trust_env = False
    params = {"response_type": "code", "client_id": "mi-app", "redirect_uri": REDIRECT, "state": "xyz",
              "scope": "launch/patient openid fhirUser offline_access patient/*.rs", "aud": origin + "/fhir",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    login = app.get(origin + "/oauth/authorize", params=params, allow_redirects=False)
    assert login.status_code == 200, login.text[:300]
    approval = app.post(origin + "/oauth/authorize/login", allow_redirects=False,
                        data={"csrf": hidden(login.text, "csrf"), "username": "ana", "password": "una-contraseña-larga"})
    assert approval.status_code == 200, approval.text[:300]
    done = app.post(origin + "/oauth/authorize/approve", allow_redirects=False, data={"csrf": hidden(approval.text, "csrf"), "decision": "approve"})
    assert done.status_code == 302
    code = urllib.parse.parse_qs(urllib.parse.urlparse(done.headers["Location"]).query)["code"][0]
    tokens = app.post(conf["token_endpoint"], data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                                                    "code_verifier": verifier, "client_id": "mi-app"})
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access_token"]
    read = app.get(origin + "/fhir/Patient/p1", headers={"Authorization": f"Bearer {access}", "Accept": "application/fhir+json"})
    assert read.status_code == 200 and read.json()["id"] == "p1", read.text[:300]
    # the throttle sees the client's address through the proxy, not the proxy's: failures from
    # "another client" (X-Real-IP set by nginx from the socket, so the same here) still count per address
    statuses = []
    for n in range(25):
        page = requests.get(origin + "/entrar", verify=cert)
        csrf = hidden(page.text, "csrf")
        r = requests.post(origin + "/entrar", verify=cert, cookies=page.cookies, allow_redirects=False,
                          data={"csrf": csrf, "next": "/", "username": f"nadie{n}", "password": "x"})
        statuses.append(r.status_code)
    assert 429 in statuses[20:], statuses
    # the access log has no query strings
    time.sleep(0.5)
    log = open(os.path.join(prefix, "access.log")).read()
    assert "/oauth/authorize" in log and "code_challenge" not in log and "state=xyz" not in log
