#!/usr/bin/env python3
"""Bulk Data $import rate: N synthetic Patients and N Observations written as two NDJSON files,
served by Python's http.server on 127.0.0.1, imported into a fresh Enlace with POST $import;
prints the resources stored per second (kick-off to complete manifest) and the same files
through `enlace import` for comparison (the same pipeline, no HTTP).

    swift build -c release   # or debug: ENLACE_BIN=.build/debug/enlace
    python3 bench/interop/import.py --patients 5000

Figures taken on a busy shared machine or a debug build are not comparable (see BENCHMARKS.md)."""
import argparse, functools, http.server, json, os, shutil, socket, subprocess, tempfile, threading, time, urllib.error, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(method, url, token, body=None, headers=None):
    h = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    if body is not None:
        h["Content-Type"] = "application/fhir+json"
    h.update(headers or {})
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method, headers=h)
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read()
        return r.status, dict(r.headers), (json.loads(raw) if raw else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=5000)
    args = ap.parse_args()
    binary = os.environ.get("ENLACE_BIN", ".build/debug/enlace")
    work = tempfile.mkdtemp(prefix="enlace-bench-import-")
    files = os.path.join(work, "files")
    os.makedirs(files)
    with open(os.path.join(files, "Patient.ndjson"), "w") as f:
        for i in range(args.patients):
            f.write(json.dumps({"resourceType": "Patient", "id": f"p{i}", "name": [{"family": f"Familia{i}", "given": ["Ana"]}],
                                "gender": "female", "birthDate": "1980-01-01"}) + "\n")
    with open(os.path.join(files, "Observation.ndjson"), "w") as f:
        for i in range(args.patients):
            f.write(json.dumps({"resourceType": "Observation", "id": f"o{i}", "status": "final",
                                "code": {"coding": [{"system": "http://loinc.org", "code": "2339-0"}]},
                                "subject": {"reference": f"Patient/p{i}"}, "valueQuantity": {"value": 5.5, "unit": "mmol/L"}}) + "\n")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=files)
    handler.log_message = lambda *a: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    source = f"http://127.0.0.1:{httpd.server_address[1]}"
    port = free_port()
    data = os.path.join(work, "data")
    server = subprocess.Popen([binary, "serve", "--data", data, "--port", str(port), "--import-allow", source.split("//")[1]],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except Exception:
                time.sleep(0.1)
        token = subprocess.run([binary, "token", "--data", data, "--scope", "system/*.cruds"], check=True, capture_output=True, text=True).stdout.strip()
        base = f"http://127.0.0.1:{port}/fhir"
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "inputFormat", "valueCode": "application/fhir+ndjson"}, {"name": "inputSource", "valueUri": "urn:bench"}] + [
            {"name": "input", "part": [{"name": "type", "valueCode": t}, {"name": "url", "valueUrl": f"{source}/{t}.ndjson"}]}
            for t in ("Patient", "Observation")]}
        start = time.time()
        _, headers, _ = request("POST", base + "/$import", token, body, {"Prefer": "respond-async"})
        status_url = headers["Content-Location"]
        while True:
            try:
                status, _, manifest = request("GET", status_url, token)
            except urllib.error.HTTPError as e:
                if e.code == 429:
                    time.sleep(1)
                    continue
                raise
            if status == 200:
                break
            time.sleep(1)
        seconds = time.time() - start
        stored = sum(o["count"] for o in manifest["output"])
        print(f"$import: {stored} resources in {seconds:.1f} s = {stored / seconds:.0f} resources/s (polled once a second)")
    finally:
        # the outbox consumers (care gaps, risk scores, alert rules) still work through the new
        # versions; a graceful stop lets them reach a batch boundary
        stop = time.time()
        server.terminate()
        try:
            server.wait(timeout=300)
            print(f"graceful stop after the import: {time.time() - stop:.1f} s")
        except subprocess.TimeoutExpired:
            print("graceful stop took more than 300 s; killed")
            server.kill()
        httpd.shutdown()
    cli = os.path.join(work, "cli")
    start = time.time()
    subprocess.run([binary, "import", "--data", cli, os.path.join(files, "Patient.ndjson"), os.path.join(files, "Observation.ndjson")],
                   check=True, capture_output=True)
    seconds = time.time() - start
    print(f"enlace import: {2 * args.patients} resources in {seconds:.1f} s = {2 * args.patients / seconds:.0f} resources/s (with process start)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
