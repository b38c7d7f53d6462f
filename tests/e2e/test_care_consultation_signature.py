"""The consultation's digital signature end to end (docs/care.md#the-consultation, "The author's
signature"): the real binary, a portal session over plain HTTP, and a signer written here with
Python's `cryptography` (the helpers of test_care_signature.py) instead of the browser's
WebCrypto. The practitioner registers a key; an unsigned visit is then refused; the visit is
prepared, its payload checked to be FHIR canonical JSON computed here, signed with a detached
ES256 JWS and stored with the JWS in its Provenance; a wrong signature, a forged preparation and
a replay are refused in Spanish and English and store nothing; the timeline says "Firma
verificada", the correction is signed the same way, and a resource changed after signing — a
new version, or (SQLite) a stored version altered in place — reads "La firma NO se verifica". On SQLite, and on PostgreSQL when ENLACE_TEST_DATABASE_URL is set."""
import base64
import json
import os
import sqlite3

from test_care import BASE, cli, seed, server  # noqa: F401 (fixtures)
from test_care_signature import Prescriber, canonical, parameters, value
from test_security_phi_logs import Browser

VISIT = {"motivo": "Control de diabetes", "modalidad": "AMB", "subjetivo": "Refiere sed", "plan": "Ajustar metformina",
         "peso": "72,5", "sistolica": "130", "diastolica": "85", "diagnostico1": "E11.9"}


def test_a_consultation_signed_by_a_client_nobody_here_wrote(server):
    op = server.token()
    seed(server, op, BASE)
    # the user in the server's own store (on PostgreSQL too: the portal signs in against it)
    cli("users", "add", "--data", server.data_dir, *server.store_args, "--username", "dra", "--role", "practitioner", "--practitioner", "Practitioner/dra",
        "--organization", "Organization/umf", "--password-stdin", input="una-contraseña-muy-larga\n")
    dra = cli("token", "--data", server.data_dir, *server.store_args, "--port", str(server.port), "--user", "dra", "--scope", "user/*.cruds")
    me = Prescriber()
    status, _, reg = server.request("POST", "/Practitioner/$register-signing-key", parameters(("key", {"valueString": json.dumps(me.jwk)})), token=dra)
    assert status == 200 and value(reg, "kid")["valueString"] == me.kid, reg

    b = Browser(server.base.rsplit("/fhir", 1)[0])
    assert b.sign_in("dra", "una-contraseña-muy-larga")[0] == 200
    status, page = b.open("/pacientes/ana/consulta")
    assert status == 200 and 'data-prescriber="Practitioner/dra"' in page, page[:500]
    csrf = b.csrf(page)

    def notes():
        _, _, bundle = server.request("GET", "/Composition?patient=Patient/ana", token=op)
        return len(bundle.get("entry", []))

    # with a key, an unsigned visit is refused and nothing is stored
    status, refused = b.open("/pacientes/ana/consulta", dict(VISIT, csrf=csrf, paso="firmar"))
    assert status == 422 and "Sus consultas llevan firma digital" in refused
    assert notes() == 0

    def prepare(path, fields):
        status, text = b.open(path, dict(fields, csrf=csrf, paso="preparar"))
        assert status == 200, text[:500]
        answer = json.loads(text)
        payload = base64.urlsafe_b64decode(answer["payload"] + "=" * (-len(answer["payload"]) % 4))
        return payload, answer["preparacion"]

    def send(path, fields, jws, preparation):
        return b.open(path, dict(fields, csrf=csrf, paso="firmar", firma=jws, preparacion=preparation))

    payload, preparation = prepare("/pacientes/ana/consulta", VISIT)
    content = json.loads(payload)
    assert payload == canonical(content), "the server's canonical JSON is the one computed here"
    assert [e["resource"]["resourceType"] for e in content["entry"]] == ["Encounter", "Condition", "Observation", "Observation", "Composition"]
    assert all("id" not in e["resource"] and e["fullUrl"].startswith("urn:uuid:") for e in content["entry"])

    # another key, other bytes, a forged preparation: 422 with the reason, nothing stored
    status, bad = send("/pacientes/ana/consulta", VISIT, Prescriber().sign(payload), preparation)
    assert status == 422 and "no es una de las llaves registradas del autor" in bad, bad[-2000:]
    status, bad = send("/pacientes/ana/consulta", VISIT, me.sign(payload + b" "), preparation)
    assert status == 422 and "no se verifica" in bad
    status, bad = send("/pacientes/ana/consulta", VISIT, me.sign(payload), preparation[:-2] + "xx")
    assert status == 422 and "no la emitió este servidor" in bad
    assert notes() == 0

    jws = me.sign(payload)
    status, record = send("/pacientes/ana/consulta", VISIT, jws, preparation)
    assert status == 200 and "Consulta registrada" in record, record[-2000:]
    assert "Firma verificada" in record and "NO se verifica" not in record
    _, _, found = server.request("GET", "/Composition?patient=Patient/ana", token=op)
    nid = found["entry"][0]["resource"]["id"]
    _, _, prov = server.request("GET", f"/Provenance?target=Composition/{nid}", token=op)
    [sig] = [s for e in prov.get("entry", []) for s in e["resource"].get("signature", []) if s.get("data")]
    assert sig["sigFormat"] == "application/jose" and sig["type"][0]["code"] == "1.2.840.10065.1.12.1.1"
    assert sig["who"]["reference"] == "Practitioner/dra" and sig["when"]
    assert base64.b64decode(sig["data"]).decode() == jws, "the JWS, detached"

    # a replay: 409, nothing more
    status, again = send("/pacientes/ana/consulta", VISIT, jws, preparation)
    assert status == 409 and "ya se firmó" in again
    assert notes() == 1

    # the correction, signed the same way
    fix = {"version": "1", "subjetivo": "Refiere sed", "plan": "Metformina 850 mg cada 12 h", "razon": "Dosis omitida"}
    correct = f"/pacientes/ana/consulta/{nid}/corregir"
    fix_payload, fix_preparation = prepare(correct, fix)
    amended = json.loads(fix_payload)["entry"][0]
    assert amended["fullUrl"] == f"Composition/{nid}" and amended["resource"]["status"] == "amended"
    status, record = send(correct, fix, me.sign(fix_payload), fix_preparation)
    assert status == 200 and "Nota corregida" in record and "Firma verificada" in record, record[-2000:]

    # SQLite: a stored version altered in place (no new version, behind the server's back): the
    # signature no longer verifies over it — the corrected note checks its visit's first signature
    path = os.path.join(server.data_dir, "enlace.sqlite")
    if not server.store_args:
        assert os.path.exists(path), path
        _, _, obs = server.request("GET", "/Observation?patient=Patient/ana&code=http://loinc.org|29463-7", token=op)
        weight = obs["entry"][0]["resource"]
        altered = dict(weight, valueQuantity=dict(weight["valueQuantity"], value=50))
        db = sqlite3.connect(path)
        changed = db.execute("UPDATE resource_version SET body = ? WHERE type = 'Observation' AND id = ? AND version = 1",
                             (json.dumps(altered).encode(), weight["id"])).rowcount
        db.commit()
        db.close()
        assert changed == 1
        status, record = b.open("/pacientes/ana")
        assert "La firma NO se verifica" in record and "la firma no se verifica sobre el JSON canónico de esta consulta" in record, record[-3000:]
        db = sqlite3.connect(path)
        db.execute("UPDATE resource_version SET body = ? WHERE type = 'Observation' AND id = ? AND version = 1", (json.dumps(weight).encode(), weight["id"]))
        db.commit()
        db.close()
        status, record = b.open("/pacientes/ana")
        assert "Firma verificada" in record and "NO se verifica" not in record, "put back, it verifies again"

    # a second visit, signed, then its Encounter changed behind the author's back: the timeline says it fails
    payload2, preparation2 = prepare("/pacientes/ana/consulta", dict(VISIT, motivo="Revisión de presión"))
    status, _ = send("/pacientes/ana/consulta", dict(VISIT, motivo="Revisión de presión"), me.sign(payload2), preparation2)
    assert status == 200
    _, _, enc = server.request("GET", "/Encounter?patient=Patient/ana&_count=10", token=op)
    second = next(e["resource"] for e in enc["entry"] if e["resource"].get("reasonCode", [{}])[0].get("text") == "Revisión de presión")
    changed = dict(second, reasonCode=[{"text": "Otra cosa"}])
    changed.pop("meta", None)
    assert server.request("PUT", f"/Encounter/{second['id']}", changed, token=op)[0] == 200
    status, record = b.open("/pacientes/ana")
    assert "La firma NO se verifica" in record and "se cambió después de firmarse" in record, record[-3000:]
    assert "Firma verificada" in record, "the corrected first note still verifies"
