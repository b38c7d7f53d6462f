"""Shared pieces of the Enlace benchmarks: the server under test, a small asyncio HTTP/1.1 load
generator, wrk, /proc sampling (CPU, peak RSS) and the results file."""
import asyncio
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
WORK = os.environ.get("BENCH_WORK", "/tmp/enlace-bench")
RESULTS = os.environ.get("BENCH_RESULTS", os.path.join(WORK, "results.jsonl"))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("[bench %s]" % time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def enlace_binary():
    return os.environ.get("ENLACE_BIN") or os.path.join(ROOT, ".build", "release", "enlace")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record(scenario, **fields):
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    row = dict(scenario=scenario, at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **fields)
    with open(RESULTS, "a") as f:
        f.write(json.dumps(row) + "\n")
    log("RESULT", json.dumps(row))
    return row


# --------------------------------------------------------------------------------------------
# process sampling

def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def proc_peak_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def dir_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for n in files:
            if n.endswith(".log"):
                continue
            try:
                total += os.path.getsize(os.path.join(dirpath, n))
            except OSError:
                pass
    return total


class CPUWindow:
    """CPU seconds used by a process (and optionally this process) over a window."""

    def __init__(self, pid):
        self.pid = pid

    def __enter__(self):
        self.t0 = time.perf_counter()
        self.c0 = proc_cpu_seconds(self.pid)
        self.s0 = os.times()
        return self

    def __exit__(self, *a):
        self.wall = time.perf_counter() - self.t0
        self.cpu = proc_cpu_seconds(self.pid) - self.c0
        s1 = os.times()
        self.client_cpu = (s1.user - self.s0.user) + (s1.system - self.s0.system) + \
            (s1.children_user - self.s0.children_user) + (s1.children_system - self.s0.children_system)

    def fields(self):
        return {"wall_s": round(self.wall, 3), "server_cpu_s": round(self.cpu, 2),
                "server_cores": round(self.cpu / self.wall, 2) if self.wall else None,
                "client_cpu_s": round(self.client_cpu, 2)}


# --------------------------------------------------------------------------------------------
# the server under test

class Server:
    def __init__(self, data_dir=None, port=None, binary=None):
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="enlace-bench-", dir=_ensure(WORK))
        self.port = port or free_port()
        self.binary = binary or enlace_binary()
        self.proc = None
        self.base = "http://127.0.0.1:%d/fhir" % self.port

    def start(self):
        self.logf = open(os.path.join(self.data_dir, "serve.log"), "w")
        self.proc = subprocess.Popen([self.binary, "serve", "--data", self.data_dir, "--port", str(self.port)],
                                     stdout=self.logf, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port, timeout=1).read()
                break
            except Exception:
                if self.proc.poll() is not None:
                    raise RuntimeError("enlace serve exited early; see %s/serve.log" % self.data_dir)
                time.sleep(0.1)
        else:
            raise RuntimeError("enlace serve did not become healthy")
        out = subprocess.run([self.binary, "token", "--data", self.data_dir, "--port", str(self.port),
                              "--scope", "system/*.*", "--ttl", "86400"], check=True, capture_output=True, text=True)
        self.token = out.stdout.strip()
        return self

    @property
    def pid(self):
        return self.proc.pid

    def peak_rss(self):
        return proc_peak_rss(self.proc.pid)

    def db_bytes(self):
        return dir_bytes(self.data_dir)

    def headers(self):
        return {"Authorization": "Bearer " + self.token, "Accept": "application/fhir+json",
                "Content-Type": "application/fhir+json"}

    def request(self, method, path, body=None, extra=None):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        h = self.headers()
        h.update(extra or {})
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=600) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as e:
            raw = e.read()
            return e.code, (json.loads(raw) if raw else None)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.logf.close()
        if not os.environ.get("BENCH_KEEP"):
            self.remove()

    def remove(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _ensure(d):
    os.makedirs(d, exist_ok=True)
    return d


# --------------------------------------------------------------------------------------------
# latency statistics

def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))
    return s[k]


def latency_fields(lat_s):
    ms = [x * 1000 for x in lat_s]
    return {"p50_ms": _r(pct(ms, 50)), "p95_ms": _r(pct(ms, 95)), "p99_ms": _r(pct(ms, 99)),
            "max_ms": _r(max(ms) if ms else None)}


def _r(x):
    return None if x is None else round(x, 2)


# --------------------------------------------------------------------------------------------
# a minimal asyncio HTTP/1.1 keep-alive client (one per connection)

class Conn:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.reader = self.writer = None

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method, path, body=b"", headers=None):
        if self.writer is None:
            await self.open()
        h = "%s %s HTTP/1.1\r\nHost: %s:%d\r\n" % (method, path, self.host, self.port)
        for k, v in (headers or {}).items():
            h += "%s: %s\r\n" % (k, v)
        if body or method in ("POST", "PUT"):
            h += "Content-Length: %d\r\n" % len(body)
        self.writer.write(h.encode() + b"\r\n" + body)
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("closed")
        status = int(line.split()[1])
        length, chunked, hdrs = None, False, {}
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").partition(":")
            k = k.strip().lower()
            hdrs[k] = v.strip()
            if k == "content-length":
                length = int(v)
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readline()
                    break
                parts.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(parts)
        elif length is not None:
            data = await self.reader.readexactly(length)
        else:
            data = b""
        return status, hdrs, data

    def close(self):
        if self.writer:
            self.writer.close()


async def drive(server_port, conns, worker, duration=None, total=None):
    """Runs `worker(conn, i)` (an async function doing one unit of work and returning a list of
    (latency_s, status)) on `conns` connections until `duration` seconds pass or `total` units
    are done. Returns (latencies, statuses, units, wall)."""
    lat, statuses = [], {}
    done = 0
    stop_at = time.perf_counter() + duration if duration else None
    counter = iter(range(10 ** 12))

    async def one(ci):
        nonlocal done
        c = Conn("127.0.0.1", server_port)
        await c.open()
        try:
            while True:
                if stop_at and time.perf_counter() >= stop_at:
                    return
                i = next(counter)
                if total is not None and i >= total:
                    return
                for l, s in await worker(c, i):
                    lat.append(l)
                    statuses[s] = statuses.get(s, 0) + 1
                done += 1
        finally:
            c.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(conns)))
    return lat, statuses, done, time.perf_counter() - t0


async def timed(conn, method, path, body=b"", headers=None):
    t = time.perf_counter()
    status, hdrs, data = await conn.request(method, path, body, headers)
    return time.perf_counter() - t, status, hdrs, data


# --------------------------------------------------------------------------------------------
# wrk

WRK_DONE = r"""
done = function(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format('WRKJSON {"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, errs, summary.errors.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def wrk(url, conns, seconds, lua=None, headers=None, threads=None, env=None, pid=None):
    """Runs wrk; returns dict with rps and latency percentiles (ms), plus server CPU if pid."""
    threads = threads or min(2, conns)
    script = os.path.join(WORK, "wrk-%d.lua" % os.getpid())
    body = open(os.path.join(BENCH, "lua", lua)).read() if lua else ""
    with open(script, "w") as f:
        f.write(body + "\n" + WRK_DONE)
    # a 30 s timeout, so that slow requests are measured rather than dropped as wrk's 2 s timeouts
    args = ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds, "--timeout", "30s", "--latency", "-s", script]
    for k, v in (headers or {}).items():
        args += ["-H", "%s: %s" % (k, v)]
    args.append(url)
    c0 = proc_cpu_seconds(pid) if pid else 0
    t0 = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    wall = time.perf_counter() - t0
    m = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not m:
        raise RuntimeError("wrk failed: %s %s" % (out.stdout, out.stderr))
    j = json.loads(m.group(1))
    dur = j["duration_us"] / 1e6
    res = {"connections": conns, "requests": j["requests"], "errors": j["errors"], "status_errors": j["status_errors"],
           "rps": round(j["requests"] / dur, 1), "p50_ms": j["p50_us"] / 1000, "p95_ms": j["p95_us"] / 1000,
           "p99_ms": j["p99_us"] / 1000, "max_ms": j["max_us"] / 1000, "seconds": seconds}
    if pid:
        res["server_cores"] = round((proc_cpu_seconds(pid) - c0) / wall, 2)
    return res


def duration(name, default):
    return float(os.environ.get(name, default))
