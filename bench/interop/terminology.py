#!/usr/bin/env python3
"""`ValueSet/$expand` with a `filter` as a clinician types it (the consultation form's diagnosis
field asks after every key): for each of a set of CIE-10 displays, every prefix of its first one
or two words ("d", "di", "dia", … "diabetes in", …), against the whole CIE-10 (14,505 concepts),
one request at a time over 127.0.0.1. The floor, measured in the same run on the same
connection type, is `CodeSystem/$lookup` of one code (a dictionary hit: the cost of the request
itself); the report gives both and their ratio.

    swift build -c release   # or debug: ENLACE_BIN=.build/debug/enlace
    python3 bench/interop/terminology.py --rounds 3

The issue's target is p50 <= 20 ms for the filter (docs/interop.md#terminology)."""
import argparse, os, sys, time, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from lib import ROOT, Server, latency_fields, log, record  # noqa: E402

ICD = "http://hl7.org/fhir/sid/icd-10"
TYPED = ["diabetes mellitus no insulinodependiente", "hipertension esencial", "infeccion de vias urinarias",
         "obesidad", "asma", "episodio depresivo", "tumor maligno de la mama", "neumonia", "gastroenteritis",
         "lumbago", "embarazo", "fractura del femur", "covid", "rinofaringitis aguda", "dermatitis atopica"]


def typed_prefixes(text):
    """What the field holds after each key, from two letters on, up to the first two words."""
    words = text.split()[:2]
    target = " ".join(words)
    return [target[:n] for n in range(2, len(target) + 1) if not target[:n].endswith(" ")]


def timed(server, path):
    req = urllib.request.Request(server.base + path, headers=server.headers())
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        r.read()
        assert r.status == 200, r.status
    return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3, help="times the whole typing list is replayed")
    args = ap.parse_args()
    if not os.environ.get("ENLACE_BIN") and not os.path.exists(os.path.join(ROOT, ".build", "release", "enlace")):
        os.environ["ENLACE_BIN"] = os.path.join(ROOT, ".build", "debug", "enlace")  # no release build: say so in the result
    server = Server().start()
    try:
        filters = [p for t in TYPED for p in typed_prefixes(t)]
        lookup = "/CodeSystem/$lookup?" + urllib.parse.urlencode({"system": ICD, "code": "E11.9"})
        for f in filters[:5]:  # warm the process (the system is loaded on first use)
            timed(server, "/ValueSet/$expand?" + urllib.parse.urlencode({"url": ICD + "?fhir_vs", "filter": f, "count": 15}))
        expand, floor = [], []
        for r in range(args.rounds):
            log(f"round {r + 1}/{args.rounds}: {len(filters)} filters")
            for f in filters:
                expand.append(timed(server, "/ValueSet/$expand?" + urllib.parse.urlencode({"url": ICD + "?fhir_vs", "filter": f, "count": 15})))
                floor.append(timed(server, lookup))
        e, fl = latency_fields(expand), latency_fields(floor)
        record("terminology-expand-filter", binary=server.binary, requests=len(expand), expand=e, lookup_floor=fl,
               p50_ratio=round(e["p50_ms"] / fl["p50_ms"], 2) if fl["p50_ms"] else None)
        print(f"$expand filter ({len(expand)} requests, 15 per page): p50 {e['p50_ms']} ms, p95 {e['p95_ms']} ms, max {e['max_ms']} ms; "
              f"floor $lookup p50 {fl['p50_ms']} ms; ratio p50 {e['p50_ms'] / fl['p50_ms']:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
