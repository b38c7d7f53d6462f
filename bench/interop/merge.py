#!/usr/bin/env python3
"""Patient/$duplicates, $merge and $unmerge timings: N synthetic Patients (demographics only, as in
match.py) loaded with `enlace import`, plus one duplicate pair whose source has K Observations;
then one `$duplicates` scan, one `$merge` (K + 2 versions and the Provenance in one transaction)
and one `$unmerge`; prints each in milliseconds.

    swift build -c release   # or debug: ENLACE_BIN=.build/debug/enlace
    python3 bench/interop/merge.py --patients 2000 --observations 500

Figures taken on a busy shared machine are not comparable (see BENCHMARKS.md)."""
import argparse, json, os, random, shutil, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from match import free_port, person  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--observations", type=int, default=500)
    ap.add_argument("--settle", type=float, default=0, help="seconds to wait after start (the outbox consumers catch up)")
    args = ap.parse_args()
    binary = os.environ.get("ENLACE_BIN", ".build/debug/enlace")
    rng = random.Random(11)
    data = tempfile.mkdtemp(prefix="enlace-bench-merge-")
    try:
        path = os.path.join(data, "Patient.ndjson")
        with open(path, "w") as f:
            for i in range(args.patients):
                f.write(json.dumps(person(i, rng), ensure_ascii=False) + "\n")
            for pid, given in (("tgt", ["María", "Guadalupe"]), ("src", ["Ma.", "Guadalupe"])):
                f.write(json.dumps({"resourceType": "Patient", "id": pid, "name": [{"family": "Hernández López", "given": given}],
                                    "gender": "female", "birthDate": "1985-07-21"}, ensure_ascii=False) + "\n")
        obs = os.path.join(data, "Observation.ndjson")
        with open(obs, "w") as f:
            for k in range(args.observations):
                f.write(json.dumps({"resourceType": "Observation", "id": f"o{k}", "status": "final", "code": {"text": "glucosa"},
                                    "subject": {"reference": "Patient/src"}, "valueQuantity": {"value": 90 + k % 50, "unit": "mg/dL"}}) + "\n")
        subprocess.run([binary, "import", "--data", data, path, obs], check=True, capture_output=True)
        port = free_port()
        log = open(os.path.join(data, "serve.log"), "w")
        proc = subprocess.Popen([binary, "serve", "--data", data, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                    break
                except Exception:
                    time.sleep(0.1)
            token = subprocess.run([binary, "token", "--data", data, "--port", str(port)], check=True, capture_output=True, text=True).stdout.strip()

            def call(method, path, body=None):
                req = urllib.request.Request(f"http://127.0.0.1:{port}/fhir/{path}", method=method,
                                             data=json.dumps(body).encode() if body else None,
                                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
                t = time.perf_counter()
                with urllib.request.urlopen(req, timeout=600) as r:
                    out = json.loads(r.read())
                return (time.perf_counter() - t) * 1000, out

            time.sleep(args.settle)
            ms, work = call("GET", "Patient/$duplicates?count=1000")
            pairs = sum(1 for p in work["parameter"] if p["name"] == "pair")
            print(f"$duplicates: {args.patients + 2} patients: {ms:.0f} ms, {pairs} pairs")
            params = {"resourceType": "Parameters", "parameter": [{"name": "source-patient", "valueReference": {"reference": "Patient/src"}},
                                                                  {"name": "target-patient", "valueReference": {"reference": "Patient/tgt"}}]}
            ms, _ = call("POST", "Patient/$merge", params)
            print(f"$merge: {args.observations} resources repointed: {ms:.0f} ms")
            ms, _ = call("POST", "Patient/$unmerge", {"resourceType": "Parameters", "parameter": params["parameter"][:1]})
            print(f"$unmerge: {args.observations + 2} resources restored: {ms:.0f} ms")
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
