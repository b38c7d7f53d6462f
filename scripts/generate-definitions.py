#!/usr/bin/env python3
"""Compile the official FHIR R4 definitions into Enlace.

Reads ../shared/fhir-r4/ (StructureDefinitions, SearchParameters, JSON Schema, Patient
compartment) and writes Sources/FHIR/Generated/CompiledDefinitions.swift: one compact JSON
document embedded as a Swift string literal, so the binary carries all of R4 and a fresh clone
builds without ../shared.

Usage: python3 scripts/generate-definitions.py [--shared ../shared/fhir-r4]
The output is deterministic (sorted keys); commit it together with this script.
"""
import argparse, gzip, json, os, sys

FHIR_TYPE_EXT = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
SYSTEM_TYPES = {
    "http://hl7.org/fhirpath/System.String": "string",
    "http://hl7.org/fhirpath/System.Boolean": "boolean",
    "http://hl7.org/fhirpath/System.Date": "date",
    "http://hl7.org/fhirpath/System.DateTime": "dateTime",
    "http://hl7.org/fhirpath/System.Decimal": "decimal",
    "http://hl7.org/fhirpath/System.Integer": "integer",
    "http://hl7.org/fhirpath/System.Time": "time",
}


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


def type_code(t, path, is_resource):
    code = t["code"]
    if code.startswith("http://hl7.org/fhirpath/System."):
        for ext in t.get("extension", []):
            if ext.get("url") == FHIR_TYPE_EXT:
                code = ext.get("valueUrl") or ext.get("valueUri") or code
                break
        else:
            code = SYSTEM_TYPES[code]
        # Resource.id is of type id in R4 (http://hl7.org/fhir/R4/resource.html#id)
        if is_resource and path.count(".") == 1 and path.endswith(".id") and code == "string":
            return "id"
    return code


def schema_enum(schema_defs, path):
    """Walk the JSON schema by the element path and return the enum at its end, if any."""
    segments = path.split(".")
    current = schema_defs.get(segments[0])
    if current is None:
        return None
    prop = None
    for i, seg in enumerate(segments[1:]):
        props = current.get("properties", {})
        prop = props.get(seg)
        if prop is None:
            return None
        if i == len(segments) - 2:
            break
        ref = prop.get("$ref") or prop.get("items", {}).get("$ref")
        if not ref:
            return None
        current = schema_defs.get(ref.split("/")[-1])
        if current is None:
            return None
    if prop is None:
        return None
    if "enum" in prop:
        return prop["enum"]
    if "items" in prop and "enum" in prop["items"]:
        return prop["items"]["enum"]
    return None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(root, "..", "shared", "fhir-r4"))
    ap.add_argument("--out", default=os.path.join(root, "Sources", "FHIR", "Generated", "CompiledDefinitions.swift"))
    args = ap.parse_args()

    sds = [e["resource"] for e in load(os.path.join(args.shared, "structure-definitions.json.gz"))["entry"]]
    sps = [e["resource"] for e in load(os.path.join(args.shared, "search-parameters.json.gz"))["entry"]]
    schema = load(os.path.join(args.shared, "fhir.schema.json.gz"))["definitions"]
    compartment = load(os.path.join(args.shared, "compartmentdefinition-patient.json"))

    types = {}
    for sd in sds:
        if sd["kind"] == "logical":
            continue
        elements = []
        for el in sd["snapshot"]["element"]:
            path = el["path"]
            if "." not in path:
                continue  # the root element itself
            entry = {"path": path, "min": el.get("min", 0), "max": el.get("max", "*")}
            if "contentReference" in el:
                entry["contentReference"] = el["contentReference"].lstrip("#")
            else:
                codes = []
                targets = []
                for t in el.get("type", []):
                    c = type_code(t, path, sd["kind"] == "resource")
                    if c not in codes:
                        codes.append(c)
                    if c in ("Reference", "canonical"):
                        for p in t.get("targetProfile", []):
                            name = p.rsplit("/", 1)[-1]
                            if name not in targets:
                                targets.append(name)
                entry["types"] = codes
                if targets:
                    entry["targets"] = targets
            binding = el.get("binding")
            if binding and binding.get("strength") == "required":
                entry["valueSet"] = binding.get("valueSet", "")
                codes = schema_enum(schema, path)
                if codes is not None and any(t in ("code",) for t in entry.get("types", [])):
                    entry["codes"] = codes
            if el.get("isSummary"):
                entry["summary"] = True
            if el.get("isModifier"):
                entry["modifier"] = True
            elements.append(entry)
        types[sd["id"]] = {
            "kind": sd["kind"],
            "abstract": bool(sd.get("abstract", False)),
            "base": (sd.get("baseDefinition") or "").rsplit("/", 1)[-1] or None,
            "elements": elements,
        }

    params = []
    for sp in sps:
        p = {
            "url": sp["url"],
            "code": sp["code"],
            "base": sp["base"],
            "type": sp["type"],
        }
        for key in ("expression", "target", "comparator", "modifier", "multipleOr", "multipleAnd"):
            if key in sp:
                p[key] = sp[key]
        if "component" in sp:
            p["component"] = [{"definition": c["definition"], "expression": c["expression"]} for c in sp["component"]]
        params.append(p)
    params.sort(key=lambda p: (p["url"]))

    comp = {r["code"]: r.get("param", []) for r in compartment["resource"]}

    doc = {"fhirVersion": "4.0.1", "types": types, "searchParameters": params, "patientCompartment": comp}
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert '"#' not in text
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("// GENERATED by scripts/generate-definitions.py from the official FHIR R4 (4.0.1) definitions.\n")
        f.write("// Do not edit by hand: rerun the script. HL7 FHIR definitions are CC0.\n\n")
        f.write("/// The compiled R4 definitions (types, elements, required bindings, search parameters,\n")
        f.write("/// Patient compartment) as one compact JSON document.\n")
        f.write("let compiledDefinitionsJSON: String = #\"\"\"\n")
        # split the long JSON into lines so editors and diffs stay usable; the loader strips newlines
        for i in range(0, len(text), 4000):
            f.write(text[i:i + 4000] + "\n")
        f.write("\"\"\"#\n")
    resources = [k for k, v in types.items() if v["kind"] == "resource" and not v["abstract"]]
    print(f"wrote {args.out}: {len(resources)} resource types, {len(types)} types, {len(params)} search parameters, {len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
