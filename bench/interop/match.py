#!/usr/bin/env python3
"""$match latency: N synthetic Patients (Spanish names, CURPs built by RENAPO's rules are not
needed here: demographics only) loaded with `enlace import`, then M Patient/$match requests with
a typo, swapped surnames or a dropped first name; prints p50 / p95 / max in milliseconds.

    swift build -c release   # or debug: ENLACE_BIN=.build/debug/enlace
    python3 bench/interop/match.py --patients 1000000 --requests 200

The issue's target is p50 <= 50 ms at 1 M patients on the 2-core machine. Figures taken on a busy
shared machine are not comparable (see BENCHMARKS.md)."""
import argparse, json, os, random, shutil, socket, subprocess, tempfile, time, urllib.request

GIVEN = ["María", "José", "Juan", "Guadalupe", "Luis", "Ana", "Carlos", "Sofía", "Miguel", "Rosa", "Jorge", "Laura", "Pedro", "Elena"]
SURNAMES = ["Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez", "Ramírez", "Cruz", "Flores",
            "Gómez", "Morales", "Vázquez", "Jiménez", "Reyes", "Díaz", "Torres", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def person(i, rng):
    g = rng.sample(GIVEN, rng.choice([1, 2]))
    p, m = rng.sample(SURNAMES, 2)
    born = f"{rng.randint(1940, 2020)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    return {"resourceType": "Patient", "id": f"p{i}", "name": [{"family": f"{p} {m}", "given": g}],
            "gender": rng.choice(["male", "female"]), "birthDate": born}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--patients", type=int, default=2000)
    ap.add_argument("--requests", type=int, default=50)
    args = ap.parse_args()
    binary = os.environ.get("ENLACE_BIN", ".build/debug/enlace")
    rng = random.Random(7)
    data = tempfile.mkdtemp(prefix="enlace-bench-match-")
    try:
        people = [person(i, rng) for i in range(args.patients)]
        path = os.path.join(data, "Patient.ndjson")
        with open(path, "w") as f:
            for p in people:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        subprocess.run([binary, "import", "--data", data, path], check=True, capture_output=True)
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
            times = []
            for k in range(args.requests):
                p = dict(rng.choice(people))
                name = dict(p["name"][0])
                fam = name["family"].split(" ")
                variant = k % 3
                if variant == 0:
                    name["family"] = f"{fam[1]} {fam[0]}"           # swapped surnames
                elif variant == 1:
                    name["family"] = fam[0][:-1] + " " + fam[1]    # a typo
                else:
                    name["given"] = name["given"][-1:]             # first given name dropped
                p["name"] = [name]
                p.pop("id")
                body = json.dumps({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": p}]}).encode()
                req = urllib.request.Request(f"http://127.0.0.1:{port}/fhir/Patient/$match", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"})
                t = time.perf_counter()
                with urllib.request.urlopen(req, timeout=60) as r:
                    r.read()
                times.append((time.perf_counter() - t) * 1000)
            for v, what in enumerate(["swapped surnames", "a typo", "first given name dropped"]):
                mine = sorted(times[v::3])
                print(f"  {what}: p50 {mine[len(mine) // 2]:.1f} ms, max {mine[-1]:.1f} ms")
            times.sort()
            print(f"$match: {args.patients} patients, {args.requests} requests: p50 {times[len(times) // 2]:.1f} ms, "
                  f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
