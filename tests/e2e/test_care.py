"""Continuity of care (docs/care.md, docs/prescribing.md) end to end: the real binary, real sockets, users
made with the CLI. A duplicate HbA1c caught at CDS Hooks order-sign with the earlier value (and hidden from a
clinician who may not see it), feedback stored as Provenance; a referral through its states with the scoped
access it grants and its withdrawal by the patient; eight racing dispenses on a prescription of 30. On SQLite,
and on PostgreSQL when ENLACE_TEST_DATABASE_URL is set."""
import json
import os
import secrets
import subprocess
import threading
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import Server, enlace_binary, free_port

URL = os.environ.get("ENLACE_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgres"] if URL else [])
REFERRAL = {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/care-task", "code": "referral"}]}


def cli(*args, input=None):
    r = subprocess.run([enlace_binary(), *args], capture_output=True, text=True, input=input, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(params=BACKENDS)
def server(request, data_dir):
    extra = ["--no-totp-for-staff"]
    if request.param == "postgres":
        extra += ["--database", URL + ("&" if "?" in URL else "?") + "schema=e2e_care_" + secrets.token_hex(5)]
    s = Server(data_dir, free_port(), extra=extra).start()
    yield s
    s.stop()


def user(server, name, role, *context):
    cli("users", "add", "--data", server.data_dir, "--username", name, "--role", role, *context,
        "--password-stdin", input="una-contraseña-muy-larga\n")
    scope = "patient/*.cruds" if role == "patient" else "user/*.cruds"
    return cli("token", "--data", server.data_dir, "--port", str(server.port), "--user", name, "--scope", scope)


def call(server, method, path, body=None, token=None, content_type="application/json"):
    """A request to a path under the server's root (not /fhir)."""
    h = {"Accept": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = content_type
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, (json.loads(raw) if raw else None)


def seed(server, op, resources):
    for r in resources:
        status, _, body = server.request("PUT", f"/{r['resourceType']}/{r['id']}", r, token=op)
        assert status in (200, 201), body


ENC = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"}
BASE = [
    {"resourceType": "Organization", "id": "umf", "name": "UMF 20 IMSS"},
    {"resourceType": "Organization", "id": "hsf", "name": "Hospital Santa Fe"},
    {"resourceType": "Patient", "id": "ana", "name": [{"family": "López", "given": ["Ana"]}]},
    {"resourceType": "Encounter", "id": "e-ana", "status": "finished", "class": ENC, "subject": {"reference": "Patient/ana"},
     "participant": [{"individual": {"reference": "Practitioner/dra"}}]},
    {"resourceType": "Observation", "id": "a1c-ana", "status": "final",
     "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}], "text": "HbA1c"}, "subject": {"reference": "Patient/ana"},
     "effectiveDateTime": "2020-01-01", "valueQuantity": {"value": 7.8, "unit": "%"}, "performer": [{"reference": "Organization/hsf"}]},
]


def recent_a1c(server, op):
    """The HbA1c dated three weeks before now (the server's clock is the real one)."""
    import datetime
    day = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=21)).strftime("%Y-%m-%d")
    obs = dict(BASE[4], effectiveDateTime=day)
    seed(server, op, [obs])
    return day


def test_duplicate_hba1c_is_caught_at_order_sign_and_hidden_from_who_may_not_see_it(server):
    op = server.token()
    seed(server, op, BASE)
    day = recent_a1c(server, op)
    dra = user(server, "dra", "practitioner", "--practitioner", "Practitioner/dra", "--organization", "Organization/umf")
    otro = user(server, "otro", "practitioner", "--practitioner", "Practitioner/otro", "--organization", "Organization/otra")
    status, discovery = call(server, "GET", "/cds-services")
    assert status == 200 and {s["hook"] for s in discovery["services"]} == {"order-select", "order-sign", "patient-view"}
    draft = {"resourceType": "ServiceRequest", "id": "draft-1", "status": "draft", "intent": "order",
             "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "subject": {"reference": "Patient/ana"}}
    hook = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "fhirServer": server.base,
            "context": {"userId": "Practitioner/dra", "patientId": "ana",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}}}
    status, body = call(server, "POST", "/cds-services/enlace-order-sign", hook, token=dra)
    assert status == 200, body
    [card] = body["cards"]
    assert card["indicator"] == "warning" and card["source"]["topic"]["code"] == "duplicate-study"
    assert "7.8 %" in card["detail"] and day in card["detail"] and "Hospital Santa Fe" in card["detail"]
    assert card["suggestions"][0]["actions"][0] == {"type": "delete", "description": "Quitar la orden repetida", "resourceId": ["ServiceRequest/draft-1"]}
    # who may not see Ana learns only that a result may exist
    status, hidden = call(server, "POST", "/cds-services/enlace-order-sign", hook, token=otro)
    assert status == 200
    text = json.dumps(hidden, ensure_ascii=False)
    assert [c["source"]["topic"]["code"] for c in hidden["cards"]] == ["duplicate-study-unknown"]
    for secret in ["7.8", day, "Santa Fe", "a1c-ana"]:
        assert secret not in text, secret
    # no token, no cards
    assert call(server, "POST", "/cds-services/enlace-order-sign", hook)[0] == 401
    # feedback: overridden with a reason, stored as Provenance in Ana's record
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-24T12:00:00Z",
                              "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "Cambio clínico"}}]}
    status, _ = call(server, "POST", "/cds-services/enlace-order-sign/feedback", feedback, token=dra)
    assert status == 200
    _, _, prov = server.request("GET", "/Provenance?patient=Patient/ana&_count=100", token=op)
    mine = [e["resource"] for e in prov.get("entry", []) if e["resource"].get("policy") == ["urn:enlace:cds-service:enlace-order-sign"]]
    assert len(mine) == 1 and mine[0]["activity"]["coding"][0]["code"] == "overridden"
    assert mine[0]["reason"][0]["text"] == "Cambio clínico" and mine[0]["agent"][0]["who"]["reference"] == "Practitioner/dra"


def test_an_ehr_calls_cds_hooks_as_a_cds_client_with_a_jwt_made_by_pyjwt(server):
    """CDS Hooks 2.0, "Trusting CDS Clients": the EHR signs each call (PyJWT, ES384) and passes its
    user's Enlace token in fhirAuthorization; feedback signed by the EHR is the user's decision."""
    import time
    import jwt  # PyJWT
    from cryptography.hazmat.primitives.asymmetric import ec
    op = server.token()
    seed(server, op, BASE)
    day = recent_a1c(server, op)
    key = ec.generate_private_key(ec.SECP384R1())
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    public.update(kid="ehr-1", alg="ES384", use="sig")
    jwks = os.path.join(server.data_dir, "ehr-jwks.json")
    with open(jwks, "w") as f:
        json.dump({"keys": [public]}, f)
    # the client registry is the server's database (on PostgreSQL, not the data directory's SQLite)
    database = server.extra[server.extra.index("--database"):][:2] if "--database" in server.extra else []
    cli("clients", "add", "--data", server.data_dir, *database, "--client-id", "ehr", "--name", "Expediente del hospital",
        "--jwks-file", jwks, "--scope", "user/*.cruds")
    cli("users", "add", "--data", server.data_dir, *database, "--username", "dra", "--role", "practitioner", "--practitioner", "Practitioner/dra",
        "--organization", "Organization/umf", "--password-stdin", input="una-contraseña-muy-larga\n")
    dra = cli("token", "--data", server.data_dir, *database, "--port", str(server.port), "--user", "dra", "--client", "ehr", "--scope", "user/*.cruds")
    root = f"http://127.0.0.1:{server.port}"

    def signed(aud):
        now = int(time.time())
        return jwt.encode({"iss": "ehr", "sub": "ehr", "aud": aud, "iat": now, "exp": now + 60, "jti": str(uuid.uuid4())},
                          key, algorithm="ES384", headers={"kid": "ehr-1", "typ": "JWT"})

    draft = {"resourceType": "ServiceRequest", "id": "draft-1", "status": "draft", "intent": "order",
             "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]}, "subject": {"reference": "Patient/ana"}}
    hook = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "fhirServer": server.base,
            "fhirAuthorization": {"access_token": dra, "token_type": "Bearer", "expires_in": 300, "scope": "user/*.rs", "subject": "enlace-cds"},
            "context": {"userId": "Practitioner/dra", "patientId": "ana",
                        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}}}
    token = signed(f"{root}/cds-services/enlace-order-sign")
    status, body = call(server, "POST", "/cds-services/enlace-order-sign", hook, token=token)
    assert status == 200, body
    [card] = body["cards"]
    assert card["source"]["topic"]["code"] == "duplicate-study" and "7.8 %" in card["detail"] and day in card["detail"]
    # the same JWT again, one for another service, and no user token: 401 OperationOutcomes
    status, again = call(server, "POST", "/cds-services/enlace-order-sign", hook, token=token)
    assert status == 401 and again["resourceType"] == "OperationOutcome" and "jti" in json.dumps(again)
    assert call(server, "POST", "/cds-services/enlace-order-sign", hook, token=signed(f"{root}/cds-services/enlace-patient-view"))[0] == 401
    anonymous = {k: v for k, v in hook.items() if k != "fhirAuthorization"}
    status, why = call(server, "POST", "/cds-services/enlace-order-sign", anonymous, token=signed(f"{root}/cds-services/enlace-order-sign"))
    assert status == 401 and "fhirAuthorization" in json.dumps(why)
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-24T12:00:00Z"}]}
    status, ok = call(server, "POST", "/cds-services/enlace-order-sign/feedback", feedback,
                      token=signed(f"{root}/cds-services/enlace-order-sign/feedback"))
    assert status == 200, ok
    _, _, prov = server.request("GET", "/Provenance?patient=Patient/ana&_count=100", token=op)
    mine = [e["resource"] for e in prov.get("entry", []) if e["resource"].get("policy") == ["urn:enlace:cds-service:enlace-order-sign"]]
    assert len(mine) == 1 and mine[0]["activity"]["coding"][0]["code"] == "accepted"
    assert mine[0]["agent"][0]["who"]["reference"] == "Practitioner/dra"


def test_referral_states_scoped_access_and_withdrawal(server):
    op = server.token()
    seed(server, op, BASE)
    dra = user(server, "dra", "practitioner", "--practitioner", "Practitioner/dra", "--organization", "Organization/umf")
    drb = user(server, "drb", "practitioner", "--practitioner", "Practitioner/drb", "--organization", "Organization/hsf")
    ana = user(server, "ana", "patient", "--patient", "Patient/ana")
    sr = {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
          "category": [{"coding": [{"system": "http://snomed.info/sct", "code": "3457005"}]}], "code": {"text": "Endocrinología"},
          "subject": {"reference": "Patient/ana"}, "requester": {"reference": "Practitioner/dra"}, "performer": [{"reference": "Organization/hsf"}]}
    status, _, sr = server.request("POST", "/ServiceRequest", sr, token=dra)
    assert status == 201, sr
    task = {"resourceType": "Task", "status": "requested", "intent": "order", "code": REFERRAL,
            "focus": {"reference": f"ServiceRequest/{sr['id']}"}, "for": {"reference": "Patient/ana"},
            "requester": {"reference": "Practitioner/dra"}, "owner": {"reference": "Organization/hsf"}}
    status, _, task = server.request("POST", "/Task", task, token=dra)
    assert status == 201, task

    def move(status_, token, **extra):
        body = dict(task, status=status_, **extra)
        body.pop("meta", None)
        return server.request("PUT", f"/Task/{task['id']}", body, token=token)

    assert server.request("GET", f"/ServiceRequest/{sr['id']}", token=drb)[0] == 200
    assert server.request("GET", "/Observation/a1c-ana", token=drb)[0] == 404
    status, _, outcome = move("completed", drb)
    assert status == 422 and outcome["issue"][0]["code"] == "business-rule"
    assert move("accepted", dra)[0] == 422
    assert move("accepted", drb)[0] == 200
    assert server.request("GET", "/Observation/a1c-ana", token=drb)[0] == 200
    status, _, withdrawn = move("cancelled", ana, statusReason={"text": "Prefiero otro hospital"})
    assert status == 200, withdrawn
    assert server.request("GET", "/Observation/a1c-ana", token=drb)[0] == 404
    assert move("accepted", dra)[0] == 422


def test_racing_counters_dispense_exactly_what_was_prescribed(server):
    op = server.token()
    seed(server, op, BASE)
    dra = user(server, "dra", "practitioner", "--practitioner", "Practitioner/dra", "--organization", "Organization/umf")
    roma = user(server, "roma", "pharmacy", "--organization", "Organization/roma")
    valle = user(server, "valle", "pharmacy", "--organization", "Organization/valle")
    rx = {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "Losartán 50 mg"},
          "subject": {"reference": "Patient/ana"}, "requester": {"reference": "Practitioner/dra"},
          "dispenseRequest": {"quantity": {"value": 30, "unit": "tabletas"}, "numberOfRepeatsAllowed": 0}}
    status, _, rx = server.request("POST", "/MedicationRequest/$prescribe", rx, token=dra)
    assert status == 201, rx
    code = next(i["value"] for i in rx["identifier"] if i["system"] == "https://enlace.mx/fhir/sid/receta")
    # a pharmacy the prescription does not name cannot browse to it
    assert server.request("GET", f"/MedicationRequest/{rx['id']}", token=roma)[0] == 404
    results, lock = [], threading.Lock()

    def counter(token):
        body = {"resourceType": "Parameters", "parameter": [{"name": "code", "valueString": code},
                                                            {"name": "quantity", "valueQuantity": {"value": 10, "unit": "tabletas"}}]}
        status, _, _ = server.request("POST", "/MedicationRequest/$dispense", body, token=token)
        with lock:
            results.append(status)

    threads = [threading.Thread(target=counter, args=(roma if i % 2 else valle,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(201) == 3, results
    assert all(s in (201, 409, 422) for s in results), results
    _, _, stored = server.request("GET", f"/MedicationDispense?prescription=MedicationRequest/{rx['id']}&_count=50", token=op)
    assert sum(e["resource"]["quantity"]["value"] for e in stored.get("entry", [])) == 30
