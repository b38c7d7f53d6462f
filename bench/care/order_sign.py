#!/usr/bin/env python3
"""Care latency probe (docs/care.md, docs/prescribing.md): CDS Hooks order-sign (duplicate study +
interaction + allergy) on one patient with N resources, and prescription look-up by code + dispense.

    python3 bench/care/order_sign.py --resources 5000 --calls 200 [--bin .build/release/enlace]

Starts its own server on a temporary data directory (SQLite), seeds the patient through the API, makes
the users with the CLI, then times sequential calls and prints p50 / p99 / max in milliseconds. The
figures depend on the machine's load: see BENCHMARKS.md for how the committed ones were taken."""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--resources", type=int, default=5000)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--bin", default=os.environ.get("ENLACE_BIN") or os.path.join(ROOT, ".build", "release", "enlace"))
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="enlace-bench-care-")
    port = free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    proc = subprocess.Popen([a.bin, "serve", "--data", data, "--port", str(port), "--no-totp-for-staff"], stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except Exception:
                time.sleep(0.1)

        def cli(*args, input=None):
            return subprocess.run([a.bin, *args], capture_output=True, text=True, input=input, check=True).stdout.strip()

        def token(user=None, scope="system/*.*"):
            extra = ["--user", user] if user else []
            return cli("token", "--data", data, "--port", str(port), "--scope", scope, *extra)

        def call(method, path, body, tok):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode() if body is not None else None,
                                         method=method, headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=60) as r:
                    return r.status, json.loads(r.read() or b"null")
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read() or b"null")

        op = token()
        subject = {"reference": "Patient/p1"}
        base = [{"resourceType": "Patient", "id": "p1", "name": [{"family": "Prueba"}]},
                {"resourceType": "Encounter", "id": "e1", "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "subject": subject,
                 "participant": [{"individual": {"reference": "Practitioner/dra"}}]},
                {"resourceType": "MedicationRequest", "id": "warf", "status": "active", "intent": "order",
                 "medicationCodeableConcept": {"text": "Warfarina 5 mg"}, "subject": subject},
                {"resourceType": "AllergyIntolerance", "id": "pen", "code": {"text": "Penicilina"}, "patient": subject}]
        codes = ["4548-4", "2345-7", "2093-3", "2160-0", "718-7", "8480-6", "8462-4", "29463-7"]
        started = time.time()
        batch = []
        for i in range(a.resources):
            day = f"2026-{(i % 11) + 1:02d}-{(i % 27) + 1:02d}"
            batch.append({"resourceType": "Observation", "id": f"o{i}", "status": "final", "subject": subject, "effectiveDateTime": day,
                          "code": {"coding": [{"system": "http://loinc.org", "code": codes[i % len(codes)]}]},
                          "valueQuantity": {"value": 5 + i % 7, "unit": "u"}})
        entries = base + batch
        for k in range(0, len(entries), 500):
            bundle = {"resourceType": "Bundle", "type": "transaction",
                      "entry": [{"resource": r, "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}} for r in entries[k:k + 500]]}
            status, body = call("POST", "/fhir", bundle, op)
            assert status == 200, body
        print(f"seeded {len(entries)} resources in {time.time() - started:.1f} s")
        cli("users", "add", "--data", data, "--username", "dra", "--role", "practitioner", "--practitioner", "Practitioner/dra",
            "--organization", "Organization/umf", "--password-stdin", input="una-contraseña-muy-larga\n")
        cli("users", "add", "--data", data, "--username", "roma", "--role", "pharmacy", "--organization", "Organization/roma",
            "--password-stdin", input="una-contraseña-muy-larga\n")
        dra, roma = token("dra", "user/*.cruds"), token("roma", "user/*.cruds")
        drafts = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "ServiceRequest", "id": "d1", "status": "draft", "intent": "order", "subject": subject,
                          "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}}},
            {"resource": {"resourceType": "MedicationRequest", "id": "d2", "status": "draft", "intent": "order", "subject": subject,
                          "medicationCodeableConcept": {"text": "Amoxicilina 500 mg"}}},
            {"resource": {"resourceType": "MedicationRequest", "id": "d3", "status": "draft", "intent": "order", "subject": subject,
                          "medicationCodeableConcept": {"text": "Ibuprofeno 400 mg"}}}]}

        def timed(f):
            out = []
            for _ in range(a.calls):
                t = time.perf_counter()
                f()
                out.append((time.perf_counter() - t) * 1000)
            return out

        def order_sign():
            hook = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "context": {"patientId": "p1", "userId": "Practitioner/dra", "draftOrders": drafts}}
            status, body = call("POST", "/cds-services/enlace-order-sign", hook, dra)
            assert status == 200 and len(body["cards"]) >= 3, body

        rx = {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "Losartán 50 mg"},
              "subject": subject, "dispenseRequest": {"quantity": {"value": a.calls * 2, "unit": "tabletas"}, "numberOfRepeatsAllowed": 0}}
        status, rx = call("POST", "/fhir/MedicationRequest/$prescribe", rx, dra)
        assert status == 201, rx
        code = rx["identifier"][0]["value"]

        def find_and_dispense():
            s1, _ = call("POST", "/fhir/MedicationRequest/$find-by-code", {"resourceType": "Parameters", "parameter": [{"name": "code", "valueString": code}]}, roma)
            s2, body = call("POST", "/fhir/MedicationRequest/$dispense", {"resourceType": "Parameters", "parameter": [
                {"name": "code", "valueString": code}, {"name": "quantity", "valueQuantity": {"value": 1, "unit": "tabletas"}}]}, roma)
            assert s1 == 200 and s2 == 201, body

        for name, f in [("order-sign", order_sign), ("find-by-code + dispense", find_and_dispense)]:
            ms = sorted(timed(f))
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            print(f"{name}: {len(ms)} calls, p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms ({a.resources} resources)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
