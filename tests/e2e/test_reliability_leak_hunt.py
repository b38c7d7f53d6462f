"""The generated leak hunt (docs/reliability.md, "Leak hunt"): thousands of random but valid
read requests — searches with every kind of parameter, chains, `_has`, `_include`/`_revinclude`
(`:iterate`), `_summary`, `_elements`, `_total`, sorts, paging links replayed with another
principal's token, compartment searches, reads, vreads, histories, `$everything`, batches — sent
with the tokens of patients, practitioners, a payer and a pharmacy against a population with
treating relationships, a consent, sensitive labels and a right-not-to-know choice. Every
resource in every answer is checked against an oracle computed here, from the data, of whose
record each resource is and who may see that record: 0 resources outside it, 0 totals that
count more than the caller can page through, and hidden resources answer like missing ones.

ENLACE_LEAK_QUERIES sets the number of generated requests (default 1500 in scripts/test, seed
ENLACE_LEAK_SEED=2026; the figure in docs/reliability.md is from 10000)."""
import json
import os
import random
import re
import subprocess
import time
import urllib.parse

from conftest import Server, enlace_binary, free_port

QUERIES = int(os.environ.get("ENLACE_LEAK_QUERIES", "1500"))
SEED = int(os.environ.get("ENLACE_LEAK_SEED", "2026"))
LOINC = "http://loinc.org"
PATIENTS = [f"p{i}" for i in range(8)]
# who treats whom (the oracle's input, and what the population below writes)
TREATS = {"dra": {"p0", "p1"}, "drb": {"p2", "p3"}}
CONSENT_TO = {"dra": {"p4"}}  # p4 grants Dra. A her whole record by Consent
PAYER_OF = {"aseg": {"p0", "p2", "p4"}}
PHARMACY_OF = {"farm": {"p6"}}  # p6 has a prescription naming the pharmacy
SENSITIVE = {"p1", "p3"}  # an HIV test result each
NOT_TO_KNOW = {"p0": "2339-0"}  # p0 chose not to be told her glucose results
# Encounter: in outline only (PrivacyPolicy.payerMinimal: who, when, where, what kind)
PAYER_TYPES = {"Encounter", "Coverage", "Claim", "ClaimResponse", "ExplanationOfBenefit", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "Patient"}
PHARMACY_TYPES = {"Patient", "MedicationRequest", "MedicationDispense", "AllergyIntolerance", "Medication"}
# not checked: shared data, the server's own records about access, and consumers' bookkeeping
UNCHECKED = {"Organization", "Practitioner", "PractitionerRole", "Location", "Medication", "Device", "Provenance", "AuditEvent",
             "OperationOutcome", "PlanDefinition", "ActivityDefinition", "Measure", "HealthcareService", "InsurancePlan",
             "ValueSet", "CodeSystem", "Questionnaire", "Endpoint", "Library", "SubscriptionTopic", "Basic"}


def ref(r):
    return {"reference": r}


def population():
    res = [
        {"resourceType": "Organization", "id": "umf", "name": "UMF 10"},
        {"resourceType": "Organization", "id": "hosp", "name": "Hospital"},
        {"resourceType": "Organization", "id": "aseg", "name": "Aseguradora"},
        {"resourceType": "Organization", "id": "farm", "name": "Farmacia"},
        {"resourceType": "Practitioner", "id": "dra", "name": [{"family": "Alvarado"}]},
        {"resourceType": "Practitioner", "id": "drb", "name": [{"family": "Benitez"}]},
        {"resourceType": "Medication", "id": "metformina", "code": {"text": "metformina"}},
    ]
    for i, p in enumerate(PATIENTS):
        res.append({"resourceType": "Patient", "id": p, "identifier": [{"system": "urn:enlace:test:mrn", "value": f"MRN{i}"}],
                    "name": [{"family": f"Fam{i}", "given": [f"Nom{i}"]}], "gender": "female" if i % 2 == 0 else "male",
                    "birthDate": f"19{60 + i}-0{1 + i % 9}-1{i % 9}", "managingOrganization": ref("Organization/umf")})
        res.append({"resourceType": "Observation", "id": f"glu-{p}", "status": "final",
                    "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
                    "code": {"coding": [{"system": LOINC, "code": "2339-0"}]}, "subject": ref(f"Patient/{p}"),
                    "effectiveDateTime": f"2026-0{1 + i % 9}-01T10:00:00Z", "valueQuantity": {"value": 342 if p == "p0" else 95, "unit": "mg/dL",
                                                                                              "system": "http://unitsofmeasure.org", "code": "mg/dL"},
                    "performer": [ref("Practitioner/dra" if i % 2 == 0 else "Practitioner/drb")]})
        res.append({"resourceType": "Observation", "id": f"sys-{p}", "status": "final", "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                    "subject": ref(f"Patient/{p}"), "effectiveDateTime": "2026-03-01T10:00:00Z",
                    "valueQuantity": {"value": 120 + i, "unit": "mmHg", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}})
        res.append({"resourceType": "Condition", "id": f"cond-{p}", "subject": ref(f"Patient/{p}"),
                    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "E11.9"}], "text": "diabetes"}})
        res.append({"resourceType": "AllergyIntolerance", "id": f"alg-{p}", "patient": ref(f"Patient/{p}"), "code": {"text": "penicilina"}})
        res.append({"resourceType": "MedicationRequest", "id": f"rx-{p}", "status": "active", "intent": "order",
                    "medicationReference": ref("Medication/metformina"), "subject": ref(f"Patient/{p}"),
                    **({"performer": ref("Organization/farm")} if p in PHARMACY_OF["farm"] else {})})
        payer = "aseg" if p in PAYER_OF["aseg"] else "hosp"
        res.append({"resourceType": "Coverage", "id": f"cov-{p}", "status": "active", "beneficiary": ref(f"Patient/{p}"),
                    "payor": [ref(f"Organization/{payer}")]})
        res.append({"resourceType": "Claim", "id": f"claim-{p}", "status": "active", "use": "claim", "created": "2026-03-02",
                    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
                    "patient": ref(f"Patient/{p}"), "provider": ref("Organization/umf"), "priority": {"coding": [{"code": "normal"}]},
                    "insurance": [{"sequence": 1, "focal": True, "coverage": ref(f"Coverage/cov-{p}")}],
                    "insurer": ref(f"Organization/{payer}")})
        if p in SENSITIVE:
            res.append({"resourceType": "Observation", "id": f"hiv-{p}", "status": "final", "code": {"coding": [{"system": LOINC, "code": "7917-8"}]},
                        "subject": ref(f"Patient/{p}"), "effectiveDateTime": "2026-02-01T10:00:00Z", "valueString": "positivo"})
    for p in TREATS["dra"]:
        res.append({"resourceType": "Encounter", "id": f"enc-{p}", "status": "finished",
                    "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}, "subject": ref(f"Patient/{p}"),
                    "participant": [{"individual": ref("Practitioner/dra")}], "serviceProvider": ref("Organization/umf")})
    for p in TREATS["drb"]:
        res.append({"resourceType": "CareTeam", "id": f"team-{p}", "status": "active", "subject": ref(f"Patient/{p}"),
                    "participant": [{"member": ref("Practitioner/drb")}]})
    res.append({"resourceType": "Consent", "id": "grant-p4", "status": "active",
                "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}], "patient": ref("Patient/p4"),
                "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}]},
                "provision": {"type": "permit", "actor": [{"role": {"text": "médica tratante"}, "reference": ref("Practitioner/dra")}]}})
    for p, code in NOT_TO_KNOW.items():
        res.append({"resourceType": "Consent", "id": f"rntk-{p}", "status": "active",
                    "scope": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "patient-privacy"}]},
                    "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}], "patient": ref(f"Patient/{p}"),
                    "policyRule": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTOUT"}]},
                    "provision": {"type": "deny", "actor": [{"role": {"text": "paciente"}, "reference": ref(f"Patient/{p}")}],
                                  "code": [{"coding": [{"system": LOINC, "code": code}]}]}})
    return res


def references(node, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference" and isinstance(v, str):
                out.add(v.split("/_history")[0])
            else:
                references(v, out)
    elif isinstance(node, list):
        for v in node:
            references(v, out)
    return out


class Oracle:
    """Whose record each stored resource is, and who may see which record — from the data."""

    def __init__(self, everything, fetch):
        self.by_key, self.owners, self.sensitive, self.withheld = {}, {}, set(), {p: set() for p in NOT_TO_KNOW}
        self.fetch = fetch  # reads a resource the snapshot did not have (a consumer's later output) with the system token
        # resources first, then what refers to them (a Flag on a withheld Observation is withheld too)
        for r in sorted(everything, key=lambda r: r["resourceType"] in ("Flag", "Task", "DetectedIssue", "RiskAssessment")):
            self.add(r)

    def add(self, r):
        key = f"{r['resourceType']}/{r['id']}"
        refs = references(r, set())
        owners = {x.split("/")[1] for x in refs if x.startswith("Patient/")}
        if r["resourceType"] == "Patient":
            owners.add(r["id"])
        self.by_key[key], self.owners[key] = r, owners
        labels = {l.get("code") for l in r.get("meta", {}).get("security", [])}
        if labels & {"HIV", "ETH", "SUD", "MH", "STD", "SEX", "GDIS", "R", "V"} or refs & self.sensitive:
            self.sensitive.add(key)
        for p, code in NOT_TO_KNOW.items():
            direct = r["resourceType"] == "Observation" and p in owners and any(c.get("code") == code for c in r.get("code", {}).get("coding", []))
            if direct or refs & self.withheld[p]:
                self.withheld[p].add(key)

    def may_see(self, who, key, rtype):
        if rtype in UNCHECKED:
            return True
        if key not in self.by_key:
            r = self.fetch(key)
            if r is None:
                return False  # the system cannot read it, yet someone else could
            self.add(r)
        owners = self.owners[key]
        if not owners:
            return True  # not about any patient
        kind, name = who
        if kind == "patient":
            return name in owners and key not in self.withheld.get(name, set())
        if kind == "practitioner":
            allowed = TREATS.get(name, set()) | CONSENT_TO.get(name, set())
            return owners <= allowed and key not in self.sensitive
        if kind == "payer":
            return rtype in PAYER_TYPES and owners <= PAYER_OF[name] and key not in self.sensitive
        if kind == "pharmacy":
            return rtype in PHARMACY_TYPES and owners <= PHARMACY_OF[name] and key not in self.sensitive
        raise AssertionError(who)


SEARCHES = {
    "Patient": ["name=Fam{i}", "family=Fam{i}", "identifier=MRN{i}", "gender=female", "birthdate=ge1965-01-01", "_id=p{i}",
                "_has:Observation:patient:code=2339-0", "_has:Observation:patient:code=7917-8", "organization=Organization/umf",
                "_revinclude=Observation:subject", "_revinclude=Condition:subject", "_revinclude:iterate=Provenance:target", "name:contains=am"],
    "Observation": ["code=2339-0", "code=http://loinc.org|7917-8", "code=8480-6", "subject=Patient/p{i}", "patient=p{i}",
                    "subject:Patient.name=Fam{i}", "subject.identifier=MRN{i}", "value-quantity=gt100", "date=ge2026-01-01",
                    "_include=Observation:subject", "_include=Observation:performer", "_include=Observation:subject&_include:iterate=Patient:organization",
                    "performer=Practitioner/dra", "category=laboratory", "_id=glu-p{i}", "_id=hiv-p{i}", "code:text=glu"],
    "Condition": ["subject=Patient/p{i}", "code=E11.9", "patient.name=Fam{i}", "_include=Condition:subject"],
    "MedicationRequest": ["subject=Patient/p{i}", "status=active", "_include=MedicationRequest:medication", "_include=MedicationRequest:subject"],
    "AllergyIntolerance": ["patient=p{i}", "_include=AllergyIntolerance:patient"],
    "Coverage": ["beneficiary=Patient/p{i}", "payor=Organization/aseg", "_include=Coverage:beneficiary"],
    "Claim": ["patient=p{i}", "_include=Claim:patient", "insurer=Organization/aseg"],
    "Encounter": ["subject=Patient/p{i}", "participant=Practitioner/dra", "_include=Encounter:subject"],
    "CareTeam": ["subject=Patient/p{i}", "participant=Practitioner/drb"],
    "Consent": ["patient=p{i}"],
    "Flag": ["subject=Patient/p{i}"],
    "Task": ["patient=p{i}", "status=requested"],
    "ImmunizationRecommendation": ["patient=p{i}"],
    "RiskAssessment": ["subject=Patient/p{i}"],
    "Practitioner": ["_revinclude=Observation:performer", "_revinclude=Encounter:participant"],
    "Organization": ["_revinclude=Patient:organization", "_revinclude=Coverage:payor"],
}
# the domain operations (their answers are not searches: every resource and every patient a
# reference names in them is checked, and a payer's measure counts can never exceed its beneficiaries)
OPERATIONS = ["/Measure/diabetes-hba1c-control/$evaluate-measure?periodStart=2025-01-01&periodEnd=2026-12-31",
              "/Measure/diabetes-hba1c-control/$evaluate-measure?periodStart=2025-01-01&periodEnd=2026-12-31&reportType=subject-list",
              "/Measure/hypertension-control/$evaluate-measure?periodStart=2025-01-01&periodEnd=2026-12-31&reportType=individual&subject=Patient/p{i}",
              "/Measure/continuity-of-care/$evaluate-measure?periodStart=2025-01-01&periodEnd=2026-12-31&organization=Organization/umf",
              "/Patient/p{i}/$summary", "/Patient/p{i}/$care-gaps", "/Patient/$care-gaps?periodStart=2026-01-01&periodEnd=2026-12-31&subject=Patient/p{i}&status=open-gap"]
RESULT = ["_summary=count", "_total=accurate", "_count=2", "_count=1", "_sort=-_lastUpdated", "_sort=_id", "_elements=id,subject",
          "_summary=true", "_count=3&_total=accurate"]


class Hunt:
    def __init__(self, server, tokens, oracle, rng):
        self.server, self.tokens, self.oracle, self.rng = server, tokens, oracle, rng
        self.requests = 0
        self.resources_checked = 0
        self.leaks = []
        self.next_links = []

    def get(self, who, path):
        self.requests += 1
        return self.server.request("GET", path, token=self.tokens[who])

    def check_resources(self, who, what, body):
        if not isinstance(body, dict):
            return
        resources = []
        if body.get("resourceType") == "Bundle":
            for e in body.get("entry", []):
                r = e.get("resource")
                if isinstance(r, dict) and r.get("resourceType") == "Bundle":  # batch-response entries
                    resources += [x.get("resource") for x in r.get("entry", [])]
                else:
                    resources.append(r)
        else:
            resources.append(body)
        for r in resources:
            if not isinstance(r, dict) or "id" not in r:
                continue
            self.resources_checked += 1
            key = f"{r['resourceType']}/{r['id']}"
            if not self.oracle.may_see(who, key, r["resourceType"]):
                self.leaks.append(f"{who} {what} → {key}")

    def search(self, who, path):
        status, _, body = self.get(who, path)
        assert status < 500, f"{who} GET {path}: {status} {json.dumps(body)[:300]}"
        if status != 200:
            return
        self.check_resources(who, path, body)
        for link in body.get("link", []):
            if link.get("relation") == "next":
                self.next_links.append((who, link["url"]))
        # a total never counts what the caller cannot page through
        has_next = any(l.get("relation") == "next" for l in body.get("link", []))
        if "_total=accurate" in path and "_cursor=" not in path and "total" in body and not has_next:
            matches = [e for e in body.get("entry", []) if e.get("search", {}).get("mode", "match") == "match"]
            if body["total"] != len(matches):
                self.leaks.append(f"{who} {path}: total {body['total']} but {len(matches)} matches")
        if "_summary=count" in path:
            visible = self.count_by_paging(who, path.replace("_summary=count", "_count=50"))
            if visible is not None and body.get("total", 0) > visible:
                self.leaks.append(f"{who} {path}: total {body.get('total')} but only {visible} can be read")

    def operation(self, who, path):
        """A domain operation's answer: each stored resource embedded in it (not a contained one,
        which lives in its parent; a resource the operation made, like an IPS Composition or a
        care gap's DetectedIssue, is judged by the patients it names) through the oracle, each
        `Patient/x` a reference names visible to the caller — except the `subject` the caller
        itself asked about, whose answer must then be that of a patient who does not exist — and
        a payer's population counts within its beneficiaries."""
        status, _, body = self.get(who, path)
        assert status < 500, f"{who} GET {path}: {status} {json.dumps(body)[:300]}"
        if status != 200:
            return
        asked = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).get("subject", [None])[0]

        def walk(node, contained):
            if isinstance(node, dict):
                if not contained and node is not body and "resourceType" in node and "id" in node:
                    key = f"{node['resourceType']}/{node['id']}"
                    stored = key in self.oracle.by_key or self.oracle.fetch(key) is not None
                    if stored:
                        self.resources_checked += 1
                        if not self.oracle.may_see(who, key, node["resourceType"]):
                            self.leaks.append(f"{who} {path} → {key}")
                for k, v in node.items():
                    if k == "reference" and isinstance(v, str) and v.startswith("Patient/"):
                        key = "/".join(v.split("/")[:2])
                        if key != asked and not self.oracle.may_see(who, key, "Patient"):
                            self.leaks.append(f"{who} {path} names {key}")
                    walk(v, contained or k == "contained")
            elif isinstance(node, list):
                for x in node:
                    walk(x, contained)
        walk(body, False)
        if asked and body.get("resourceType") == "MeasureReport" and not self.oracle.may_see(who, asked, "Patient"):
            # a hidden subject answers like a missing one: the same populations
            missing = path.replace(f"subject={asked}", f"subject=Patient/no-such-{self.rng.randrange(10**6)}")
            m_status, _, m_body = self.get(who, missing)
            counts = lambda r: [[(p.get("count"), p.get("_count")) for p in g.get("population", [])] for g in r.get("group", [])]
            if m_status != status or counts(m_body or {}) != counts(body):
                self.leaks.append(f"{who} {path}: a hidden subject answers {counts(body)}, a missing one {m_status} {counts(m_body or {})}")
        if who[0] == "payer" and body.get("resourceType") == "MeasureReport":
            for g in body.get("group", []):
                for pop in g.get("population", []):
                    if pop.get("count", 0) > len(PAYER_OF[who[1]]) and "continuity" not in path:
                        self.leaks.append(f"{who} {path}: counts {pop['count']} of {len(PAYER_OF[who[1]])} beneficiaries")

    def count_by_paging(self, who, path):
        count, pages = 0, 0
        while path and pages < 20:
            status, _, body = self.get(who, path)
            if status != 200:
                return None
            self.check_resources(who, path, body)
            count += sum(1 for e in body.get("entry", []) if e.get("search", {}).get("mode", "match") == "match")
            nxt = [l["url"] for l in body.get("link", []) if l.get("relation") == "next"]
            path = self.relative(nxt[0]) if nxt else None
            pages += 1
        return count

    def relative(self, url):
        return url.split("/fhir", 1)[1] if "/fhir" in url else url

    def random_request(self, who):
        rng = self.rng
        i = rng.randrange(len(PATIENTS))
        roll = rng.random()
        if roll < 0.55:
            rtype = rng.choice(list(SEARCHES))
            params = [rng.choice(SEARCHES[rtype]).format(i=i)]
            if rng.random() < 0.3:
                params.append(rng.choice(SEARCHES[rtype]).format(i=rng.randrange(len(PATIENTS))))
            if rng.random() < 0.6:
                params.append(rng.choice(RESULT))
            self.search(who, f"/{rtype}?" + "&".join(params))
        elif roll < 0.65:
            rtype = rng.choice(["Observation", "Condition", "MedicationRequest", "AllergyIntolerance", "Coverage", "Claim", "Encounter", "Flag", "Task"])
            self.search(who, f"/Patient/p{i}/{rtype}" + rng.choice(["", "?_summary=count", "?_count=1", "?_total=accurate"]))
        elif roll < 0.8:
            key = rng.choice(list(self.oracle.by_key))
            suffix = rng.choice(["", "/_history", "/_history/1"])
            status, _, body = self.get(who, f"/{key}{suffix}")
            assert status < 500, f"{who} GET /{key}{suffix}: {status}"
            rtype = key.split("/")[0]
            if status == 200:
                self.check_resources(who, key + suffix, body)
            elif not self.oracle.may_see(who, key, rtype) and status not in (403, 404):
                self.leaks.append(f"{who} GET /{key}{suffix}: {status} for a hidden resource")
            if status == 404 or status == 403:
                # hidden answers exactly like missing
                missing_status, _, _ = self.get(who, f"/{rtype}/no-such-{rng.randrange(10**6)}{suffix}")
                if missing_status != status:
                    self.leaks.append(f"{who} GET /{key}{suffix}: {status}, a missing {rtype} answers {missing_status}")
        elif roll < 0.87:
            self.search(who, rng.choice([f"/Patient/p{i}/$everything", f"/Observation/$lastn?patient=p{i}", "/Patient/_history",
                                         "/Observation/_history?_count=5", "/_history?_count=10", f"/Patient/p{i}/_history",
                                         "/?_type=Patient,Observation", f"/Observation?_has:Patient:link:x=y"]))
        elif roll < 0.91:
            self.operation(who, rng.choice(OPERATIONS).format(i=i))
        elif roll < 0.95 and self.next_links:
            # a paging link obtained by one principal, replayed with another's token
            _, url = rng.choice(self.next_links)
            self.search(who, self.relative(url))
        else:
            entries = [{"request": {"method": "GET", "url": rng.choice([f"Observation?patient=p{rng.randrange(8)}", f"Patient/p{rng.randrange(8)}",
                                                                         f"Condition/cond-p{rng.randrange(8)}", "Coverage?_summary=count"])}}
                       for _ in range(rng.randrange(1, 4))]
            self.requests += 1
            status, _, body = self.server.request("POST", "", {"resourceType": "Bundle", "type": "batch", "entry": entries}, self.tokens[who])
            assert status < 500, f"{who} batch: {status}"
            if status == 200:
                for e in body.get("entry", []):
                    self.check_resources(who, "batch", e.get("resource"))


def add_user(data_dir, username, role, **context):
    args = [enlace_binary(), "users", "add", "--data", data_dir, "--username", username, "--role", role, "--password-stdin"]
    for k, v in context.items():
        args += [f"--{k.replace('_', '-')}", v]
    subprocess.run(args, input="contraseña-larga-de-prueba\n", check=True, capture_output=True, text=True)


def test_generated_queries_leak_nothing(data_dir):
    server = Server(data_dir, free_port()).start()
    try:
        system = server.token()
        for r in population():
            status, _, body = server.request("PUT", f"/{r['resourceType']}/{r['id']}", r, system)
            assert status in (200, 201), f"{r['resourceType']}/{r['id']}: {status} {json.dumps(body)[:300]}"
        # let the outbox consumers (alerts, prevention) write what they derive, then snapshot it all
        time.sleep(3)
        everything, seen = [], set()
        for rtype in set(SEARCHES) | {"Flag", "Task", "ImmunizationRecommendation", "RiskAssessment", "DetectedIssue", "Goal"}:
            status, _, bundle = server.request("GET", f"/{rtype}?_count=1000", token=system)
            for e in (bundle or {}).get("entry", []):
                key = f"{e['resource']['resourceType']}/{e['resource']['id']}"
                if key not in seen:
                    seen.add(key)
                    everything.append(e["resource"])
        def fetch(key):
            status, _, body = server.request("GET", f"/{key}", token=system)
            return body if status == 200 else None
        oracle = Oracle(everything, fetch)
        tokens = {}
        specs = [(("patient", p), dict(role="patient", patient=f"Patient/{p}"), "patient/*.rs") for p in ("p0", "p1", "p5")]
        specs += [(("practitioner", d), dict(role="practitioner", practitioner=f"Practitioner/{d}", organization=f"Organization/{org}"), "user/*.rs")
                  for d, org in (("dra", "umf"), ("drb", "hosp"))]
        specs += [(("payer", "aseg"), dict(role="payer", organization="Organization/aseg"), "user/*.rs"),
                  (("pharmacy", "farm"), dict(role="pharmacy", organization="Organization/farm"), "user/*.rs")]
        for who, context, scope in specs:
            username = f"{who[0]}-{who[1]}"
            add_user(data_dir, username, **context)
            out = subprocess.run([enlace_binary(), "token", "--data", data_dir, "--port", str(server.port), "--user", username, "--scope", scope],
                                 check=True, capture_output=True, text=True)
            tokens[who] = out.stdout.strip()
        # the oracle is not vacuous: each principal sees something of its own
        assert oracle.may_see(("practitioner", "dra"), "Observation/glu-p4", "Observation")
        assert not oracle.may_see(("practitioner", "dra"), "Observation/hiv-p1", "Observation")
        assert not oracle.may_see(("patient", "p0"), "Observation/glu-p0", "Observation")
        for who, key in [(("patient", "p1"), "/Observation/glu-p1"), (("practitioner", "dra"), "/Observation/glu-p4"),
                         (("practitioner", "drb"), "/Condition/cond-p3"), (("payer", "aseg"), "/Coverage/cov-p2"),
                         (("pharmacy", "farm"), "/MedicationRequest/rx-p6")]:
            status, _, _ = server.request("GET", key, token=tokens[who])
            assert status == 200, f"{who} cannot read {key} ({status}): the population is not what the oracle assumes"
        # found by this hunt: a payer, who sees Encounters only in outline, learned who took part
        # in one by following `participant` in a revinclude; now refused (403) like a search on it
        status, _, body = server.request("GET", "/Practitioner?_revinclude=Encounter:participant", token=tokens[("payer", "aseg")])
        assert status == 403 and "participant" in json.dumps(body), (status, json.dumps(body)[:400])
        status, _, body = server.request("GET", "/Encounter?_include=Encounter:participant", token=tokens[("payer", "aseg")])
        assert status == 403, status
        rng = random.Random(SEED)
        hunt = Hunt(server, tokens, oracle, rng)
        whos = list(tokens)
        while hunt.requests < QUERIES:
            hunt.random_request(rng.choice(whos))
        assert hunt.leaks == [], f"{len(hunt.leaks)} leaks (seed {SEED}): " + "; ".join(hunt.leaks[:15])
        print(f"\nleak hunt: {hunt.requests} requests by {len(whos)} principals, {hunt.resources_checked} resources checked "
              f"against the oracle, 0 leaks (seed {SEED})")
    finally:
        server.stop()
