"""`serve --port N` records its base URL in the data directory, so `enlace token --data DIR`
makes a token that server accepts without repeating `--port`; a token for another audience is
refused with a message naming the audience expected and how to get a token for it."""
import json
import os
import subprocess

from conftest import enlace_binary


def cli(*args):
    return subprocess.run([enlace_binary(), *args], capture_output=True, text=True, timeout=120)


def test_token_without_port_is_for_the_server_serving_the_data_directory(server):
    recorded = json.load(open(os.path.join(server.data_dir, "served.json")))
    assert recorded["fhirBase"] == server.base, recorded
    assert server.port != 8080
    r = cli("token", "--data", server.data_dir, "--scope", "system/*.rs")
    assert r.returncode == 0, r.stderr
    status, _, bundle = server.request("GET", "/Patient?_summary=count", token=r.stdout.strip())
    assert status == 200 and bundle["total"] == 0
    # a user's token too (`users` and `token --user` reach the same server's records)
    r = subprocess.run([enlace_binary(), "users", "add", "--data", server.data_dir, "--username", "ana", "--role", "patient",
                        "--patient", "Patient/p1", "--password-stdin"], input="una-contraseña-larga\n", capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = cli("token", "--data", server.data_dir, "--user", "ana", "--scope", "patient/*.rs")
    assert r.returncode == 0, r.stderr
    status, _, _ = server.request("GET", "/Patient/p1", token=r.stdout.strip())
    assert status == 404  # accepted (not 401); the patient does not exist yet
    # explicit flags still win: a token for another port is refused, and the refusal says what to do
    other = cli("token", "--data", server.data_dir, "--port", "1", "--scope", "system/*.rs")
    assert other.returncode == 0, other.stderr
    status, headers, outcome = server.request("GET", "/Patient", token=other.stdout.strip())
    assert status == 401
    text = outcome["issue"][0]["diagnostics"]
    assert "another audience" in text and server.base in text and "enlace token --data" in text, text
    assert server.base in outcome["issue"][0]["details"]["text"]
    # `clients add` prints the URLs of the same server
    r = cli("clients", "add", "--data", server.data_dir, "--client-id", "app", "--name", "App", "--public",
            "--redirect-uri", "https://app.example/cb", "--scope", "launch/patient patient/*.rs")
    assert r.returncode == 0, r.stderr
    assert f"aud: {server.base}" in r.stdout, r.stdout
