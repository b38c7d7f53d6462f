#!/usr/bin/env python3
"""External data for the import benchmark: US Core 6.1 NDJSON from `carebundle` (PyPI, Apache-2.0;
synthetic, clinically coherent FHIR R4 that nobody here wrote — ≈ 1.2 kB per resource, like the
US Core exports the issue measured).

    python3 -m venv /tmp/cb && /tmp/cb/bin/pip install carebundle==0.5.0
    /tmp/cb/bin/python bench/profile/carebundle-ndjson.py --patients 60 --seed 42 --out /tmp/cb60

Writes OUT/TYPE.ndjson (one file per type, ids from the Bundle's uuids, references rewritten to
Type/id by carebundle's own `to_ndjson`) and prints the files in the order to import them
(referenced types first).
"""
import argparse
from pathlib import Path

from carebundle import generate_cohort, to_ndjson

ORDER = ["Patient", "Practitioner", "Organization", "Location", "Encounter", "Condition", "AllergyIntolerance",
         "MedicationRequest", "Observation", "DiagnosticReport"]

p = argparse.ArgumentParser()
p.add_argument("--patients", type=int, default=60)
p.add_argument("--seed", type=int, default=42)
p.add_argument("--out", required=True)
a = p.parse_args()
out = Path(a.out)
out.mkdir(parents=True, exist_ok=True)
files = {}
for resource_type, lines in to_ndjson(generate_cohort(count=a.patients, seed=a.seed)).items():
    if not lines.endswith("\n"):
        lines += "\n"
    (out / f"{resource_type}.ndjson").write_text(lines, encoding="utf-8")
    files[resource_type] = out / f"{resource_type}.ndjson"
names = sorted(files, key=lambda t: (ORDER.index(t) if t in ORDER else len(ORDER), t))
print(" ".join(str(files[t]) for t in names))
