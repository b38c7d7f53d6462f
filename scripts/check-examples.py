#!/usr/bin/env python3
"""Check the round-trip examples in Tests/ServerTests/Examples/.

For every concrete FHIR R4 resource type there must be exactly one file <Type>.json, and each file
must:
  * validate against the official R4 JSON Schema (definition of its own type);
  * carry every element with min >= 1, at every level we descend into (resource root,
    BackboneElements, complex data types, contained/nested resources), per the
    StructureDefinition snapshots;
  * have no `id` and no `meta` at the root (the server assigns them);
  * contain no empty strings, arrays or objects.

Usage: python3 scripts/check-examples.py [--shared ../shared/fhir-r4] [--examples DIR]
Needs the PyPI package `jsonschema`. Exits non-zero if anything fails, otherwise prints
"N passed, 0 failed".
"""
import argparse, gzip, json, os, sys

try:
    import jsonschema
except ImportError:
    sys.exit("error: the PyPI package `jsonschema` is required (pip install jsonschema)")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return json.load(f)


class Definitions:
    def __init__(self, bundle):
        self.sds = {}
        for entry in bundle["entry"]:
            sd = entry["resource"]
            if sd.get("resourceType") == "StructureDefinition" and sd.get("derivation") != "constraint":
                self.sds[sd["type"]] = sd
        self.resources = sorted(t for t, sd in self.sds.items()
                                if sd.get("kind") == "resource" and not sd.get("abstract"))
        # per type: element path -> element definition
        self.elements = {t: {e["path"]: e for e in sd["snapshot"]["element"]} for t, sd in self.sds.items()}
        # per type: parent path -> [child element definitions]
        self.children = {}
        for t, els in self.elements.items():
            kids = {}
            for path, e in els.items():
                if "." in path:
                    kids.setdefault(path.rsplit(".", 1)[0], []).append(e)
            self.children[t] = kids

    def child(self, typ, parent, key):
        """Element definition and concrete type name for JSON key `key` under `parent`."""
        els = self.elements[typ]
        e = els.get(parent + "." + key)
        if e is not None:
            types = [x["code"] for x in e.get("type", [])]
            return e, (types[0] if len(types) == 1 else None)
        for e in self.children[typ].get(parent, []):
            name = e["path"].rsplit(".", 1)[1]
            if name.endswith("[x]"):
                base = name[:-3]
                for t in e.get("type", []):
                    code = t["code"]
                    if key == base + code[0].upper() + code[1:]:
                        return e, code
        return None, None


def check_required(defs, typ, path, obj, where, errors):
    """Check min >= 1 children of `path` (in StructureDefinition `typ`) are present in `obj`, then recurse."""
    for e in defs.children[typ].get(path, []):
        if e.get("min", 0) < 1:
            continue
        name = e["path"].rsplit(".", 1)[1]
        if name.endswith("[x]"):
            base = name[:-3]
            present = any(k.startswith(base) and k[len(base):len(base) + 1].isupper() for k in obj)
        else:
            present = name in obj or ("_" + name) in obj
        if not present:
            errors.append(f"{where}: missing required element '{name}' ({e['path']} min={e['min']})")
    for key, value in obj.items():
        if key.startswith("_") or key in ("resourceType", "extension", "modifierExtension"):
            continue
        e, code = defs.child(typ, path, key)
        if e is None:
            continue  # unknown keys are reported by the JSON schema
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            sub = f"{where}.{key}" + (f"[{i}]" if isinstance(value, list) else "")
            if not isinstance(item, dict):
                continue
            if "contentReference" in e:
                check_required(defs, typ, e["contentReference"].lstrip("#"), item, sub, errors)
            elif code in ("BackboneElement", "Element"):
                check_required(defs, typ, e["path"], item, sub, errors)
            elif code == "Resource" and item.get("resourceType") in defs.sds:
                rt = item["resourceType"]
                check_required(defs, rt, rt, item, sub, errors)
            elif code and code in defs.sds and defs.sds[code].get("kind") == "complex-type":
                check_required(defs, code, code, item, sub, errors)


def check_empty(value, where, errors):
    if value == "" or value == [] or value == {}:
        errors.append(f"{where}: empty value")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_empty(v, f"{where}.{k}", errors)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            if v is None:
                continue  # null placeholders are legal in primitive arrays with _element
            check_empty(v, f"{where}[{i}]", errors)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(ROOT, "..", "shared", "fhir-r4"))
    ap.add_argument("--examples", default=os.path.join(ROOT, "Tests", "ServerTests", "Examples"))
    args = ap.parse_args()

    defs = Definitions(load(os.path.join(args.shared, "structure-definitions.json.gz")))
    schema = load(os.path.join(args.shared, "fhir.schema.json.gz"))
    Validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft6Validator)

    validators = {}

    def validator_for(typ):
        if typ not in validators:
            sub = dict(schema)
            sub.pop("oneOf", None)
            sub.pop("discriminator", None)
            sub["$ref"] = "#/definitions/" + typ
            validators[typ] = Validator(sub)
        return validators[typ]

    def schema_errors(validator, instance, where):
        out = []
        for err in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
            loc = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
            inner = err.instance
            if (err.validator == "oneOf" and isinstance(inner, dict)
                    and inner.get("resourceType") in schema["definitions"]):
                # a nested resource (contained, Bundle.entry.resource, Parameters): report the
                # errors against its own type instead of the unhelpful oneOf summary
                out += schema_errors(validator_for(inner["resourceType"]), inner, loc)
                continue
            msg = err.message if len(err.message) < 300 else err.message[:300] + "..."
            out.append(f"{loc}: schema: {msg}")
        return out

    files = sorted(f for f in os.listdir(args.examples) if f.endswith(".json")) if os.path.isdir(args.examples) else []
    names = {f[:-5] for f in files}
    failures = {}

    for extra in sorted(names - set(defs.resources)):
        failures[extra] = [f"{extra}.json: not a concrete FHIR R4 resource type"]
    for missing in sorted(set(defs.resources) - names):
        failures[missing] = [f"{missing}.json: missing example"]

    passed = 0
    for typ in defs.resources:
        if typ not in names:
            continue
        errors = []
        path = os.path.join(args.examples, typ + ".json")
        try:
            with open(path, encoding="utf-8") as f:
                res = json.load(f)
        except (OSError, ValueError) as exc:
            failures[typ] = [f"{typ}.json: cannot parse: {exc}"]
            continue
        if not isinstance(res, dict):
            failures[typ] = [f"{typ}.json: top level is not a JSON object"]
            continue
        if res.get("resourceType") != typ:
            errors.append(f"{typ}: resourceType is {res.get('resourceType')!r}, expected {typ!r}")
        for k in ("id", "meta"):
            if k in res:
                errors.append(f"{typ}: root element '{k}' must be absent (the server assigns it)")
        errors += schema_errors(validator_for(typ), res, typ)
        check_required(defs, typ, typ, res, typ, errors)
        check_empty(res, typ, errors)
        if errors:
            failures[typ] = errors
        else:
            passed += 1

    for typ in sorted(failures):
        for line in failures[typ]:
            print("FAIL " + line)
    failed = len(failures)
    print(f"{passed} passed, {failed} failed")
    if failed or passed != len(defs.resources):
        print(f"expected {len(defs.resources)} examples, one per concrete resource type", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
