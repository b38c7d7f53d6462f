"""Process-level tests: the real `enlace` binary, real sockets on 127.0.0.1, real signals."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def enlace_binary():
    path = os.environ.get("ENLACE_BIN") or os.path.join(ROOT, ".build", "debug", "enlace")
    if not os.path.exists(path):
        pytest.fail(f"the enlace binary is missing at {path}; run `swift build` first (scripts/test does)")
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, data_dir, port, database=None, base_url=None, extra=None):
        self.extra = extra or []
        self.data_dir = data_dir
        self.port = port
        self.database = database
        self.base_url = base_url
        self.proc = None
        self.base = f"http://127.0.0.1:{port}/fhir"

    @property
    def store_args(self):
        """`--database URL` for a CLI command that must reach this server's store (users, clients,
        tokens live there: on PostgreSQL not in the data directory's SQLite); [] on SQLite."""
        if self.database:
            return ["--database", self.database]
        if "--database" in self.extra:
            i = self.extra.index("--database")
            return self.extra[i:i + 2]
        return []

    def start(self):
        self.log = open(os.path.join(self.data_dir, f"serve-{time.time_ns()}.log"), "w")
        args = [enlace_binary(), "serve", "--data", self.data_dir, "--port", str(self.port)]
        if self.database:
            args += ["--database", self.database]
        if self.base_url:
            args += ["--base-url", self.base_url]
        args += self.extra
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1).read()
                return self
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("enlace serve exited early")
                time.sleep(0.1)
        raise RuntimeError("enlace serve did not become healthy in 30 s")

    def token(self, scope="system/*.*"):
        args = [enlace_binary(), "token", "--data", self.data_dir, "--port", str(self.port), "--scope", scope]
        if self.base_url:
            args += ["--base-url", self.base_url]
        out = subprocess.run(args, check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def request(self, method, path, body=None, token=None, headers=None):
        h = {"Accept": "application/fhir+json"}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode() if not isinstance(body, bytes) else body
            h["Content-Type"] = "application/fhir+json"
        h.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, dict(r.headers), (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, dict(e.headers), (json.loads(raw) if raw else None)

    def stop(self, sig=None):
        if self.proc and self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            self.proc.wait(timeout=30)
        self.log.close()


@pytest.fixture
def data_dir():
    d = tempfile.mkdtemp(prefix="enlace-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(data_dir):
    s = Server(data_dir, free_port()).start()
    yield s
    s.stop()
