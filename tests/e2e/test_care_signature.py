"""The prescriber's digital signature through the API (docs/prescribing.md, "The prescriber's
signature"), by a client written here with Python's `cryptography` and nothing of Enlace: it
makes its own P-256 key, registers the public JWK, prepares the prescription, computes FHIR
canonical JSON itself (and checks the server's payload is the same bytes), signs a detached ES256
JWS, and the counter finds it verified — until the prescription is changed. A wrong or missing
signature is a bilingual OperationOutcome and stores nothing. On SQLite, and on PostgreSQL when
ENLACE_TEST_DATABASE_URL is set."""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from test_care import BASE, seed, server, user  # noqa: F401 (fixtures)

RECETA = "https://enlace.mx/fhir/sid/receta"


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def canonical(resource):
    """FHIR canonical JSON (json.html#canonical): properties sorted, no whitespace, UTF-8; method
    #static (no text, no meta) and no id, as docs/prescribing.md says a prescription is signed."""
    kept = {k: v for k, v in resource.items() if k not in ("id", "meta", "text")}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Prescriber:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        n = self.key.public_key().public_numbers()
        self.jwk = {"crv": "P-256", "kty": "EC", "x": b64url(n.x.to_bytes(32, "big")), "y": b64url(n.y.to_bytes(32, "big"))}
        # RFC 7638 thumbprint: the required members in lexicographic order, no whitespace
        self.kid = b64url(hashlib.sha256(json.dumps(self.jwk, sort_keys=True, separators=(",", ":")).encode()).digest())

    def sign(self, payload, unencoded=False):
        header = {"alg": "ES256", "kid": self.kid}
        if unencoded:  # RFC 7797
            header.update(b64=False, crit=["b64"])
        h = b64url(json.dumps(header).encode())
        data = h.encode() + b"." + (payload if unencoded else b64url(payload).encode())
        r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
        return h + ".." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def parameters(*pairs):
    return {"resourceType": "Parameters", "parameter": [dict(name=n, **v) for n, v in pairs]}


def signed(preparation, jws):
    return parameters(("preparation", {"valueString": preparation}),
                      ("signature", {"valueSignature": {
                          "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": "1.2.840.10065.1.12.1.1"}],
                          "when": "2026-12-03T10:00:00Z", "who": {"reference": "Practitioner/dra"},
                          "sigFormat": "application/jose", "data": base64.b64encode(jws.encode()).decode()}}))


def value(params, name):
    return next((p for p in params.get("parameter", []) if p["name"] == name), None)


def signature_status(found):
    return next(p["valueCode"] for p in value(found, "signature")["part"] if p["name"] == "status")


RX = {"resourceType": "MedicationRequest", "status": "active", "intent": "order", "medicationCodeableConcept": {"text": "Metformina 850 mg"},
      "subject": {"reference": "Patient/ana"}, "requester": {"reference": "Practitioner/dra"},
      "dosageInstruction": [{"text": "1 tableta cada 12 horas, con alimentos"}],
      "dispenseRequest": {"quantity": {"value": 60, "unit": "tabletas"}, "numberOfRepeatsAllowed": 0}}


def test_a_client_nobody_here_wrote_signs_and_the_counter_verifies(server):
    op = server.token()
    seed(server, op, BASE)
    dra = user(server, "dra", "practitioner", "--practitioner", "Practitioner/dra", "--organization", "Organization/umf")
    roma = user(server, "roma", "pharmacy", "--organization", "Organization/roma")
    me = Prescriber()

    status, _, reg = server.request("POST", "/Practitioner/$register-signing-key", parameters(("key", {"valueString": json.dumps(me.jwk)})), token=dra)
    assert status == 200, reg
    assert value(reg, "kid")["valueString"] == me.kid

    # with a key registered, an unsigned prescription is refused, in Spanish and English, and nothing is stored
    status, _, refused = server.request("POST", "/MedicationRequest/$prescribe", RX, token=dra)
    assert status == 422 and refused["resourceType"] == "OperationOutcome", refused
    assert "firma" in refused["issue"][0]["details"]["text"] and "sign" in refused["issue"][0]["diagnostics"]

    status, _, prep = server.request("POST", "/MedicationRequest/$prescribe",
                                     parameters(("mode", {"valueCode": "prepare"}), ("resource", {"resource": RX})), token=dra)
    assert status == 200, prep
    prepared = value(prep, "resource")["resource"]
    payload = base64.b64decode(value(prep, "payload")["valueBase64Binary"])
    assert payload == canonical(prepared), "the server's canonical JSON is the one computed here"
    code = next(i["value"] for i in prepared["identifier"] if i["system"] == RECETA)
    preparation = value(prep, "preparation")["valueString"]

    # a signature by another key, or over other bytes: 422, nothing stored
    status, _, bad = server.request("POST", "/MedicationRequest/$prescribe", signed(preparation, Prescriber().sign(payload)), token=dra)
    assert status == 422 and bad["issue"][0]["details"]["text"] and bad["issue"][0]["diagnostics"], bad
    tampered = canonical(dict(prepared, dispenseRequest=dict(prepared["dispenseRequest"], quantity={"value": 600, "unit": "tabletas"})))
    assert server.request("POST", "/MedicationRequest/$prescribe", signed(preparation, me.sign(tampered)), token=dra)[0] == 422
    _, _, none = server.request("GET", f"/MedicationRequest?identifier={RECETA}|{code}", token=op)
    assert not none.get("entry"), none

    status, _, rx = server.request("POST", "/MedicationRequest/$prescribe", signed(preparation, me.sign(payload)), token=dra)
    assert status == 201, rx
    assert canonical(rx) == payload
    _, _, prov = server.request("GET", f"/Provenance?target=MedicationRequest/{rx['id']}", token=op)
    [sig] = [s for e in prov.get("entry", []) for s in e["resource"].get("signature", [])]
    assert sig["sigFormat"] == "application/jose" and sig["type"][0]["code"] == "1.2.840.10065.1.12.1.1"
    assert base64.b64decode(sig["data"]).decode().split(".")[1] == "", "a detached payload"

    status, _, found = server.request("POST", "/MedicationRequest/$find-by-code", parameters(("code", {"valueString": code})), token=roma)
    assert status == 200 and signature_status(found) == "verified", found

    # RFC 7797 (unencoded payload) works too
    _, _, prep2 = server.request("POST", "/MedicationRequest/$prescribe",
                                 parameters(("mode", {"valueCode": "prepare"}), ("resource", {"resource": RX})), token=dra)
    payload2 = base64.b64decode(value(prep2, "payload")["valueBase64Binary"])
    status, _, rx2 = server.request("POST", "/MedicationRequest/$prescribe",
                                    signed(value(prep2, "preparation")["valueString"], me.sign(payload2, unencoded=True)), token=dra)
    assert status == 201, rx2

    # cancelled later (a PUT of its status, the normal way): the signature Provenance names the
    # version signed, which still verifies; the counter is told only the status changed since
    _, _, prov2 = server.request("GET", f"/Provenance?target=MedicationRequest/{rx2['id']}", token=op)
    [signed_target] = [t["reference"] for e in prov2.get("entry", []) if e["resource"].get("signature")
                       for t in e["resource"]["target"] if t["reference"].startswith("MedicationRequest/")]
    assert signed_target == f"MedicationRequest/{rx2['id']}/_history/1", prov2
    code2 = next(i["value"] for i in rx2["identifier"] if i["system"] == RECETA)
    cancelled = dict(rx2, status="cancelled", statusReason={"text": "cambio de tratamiento"})
    cancelled.pop("meta", None)
    assert server.request("PUT", f"/MedicationRequest/{rx2['id']}", cancelled, token=op)[0] == 200
    _, _, later = server.request("POST", "/MedicationRequest/$find-by-code", parameters(("code", {"valueString": code2})), token=roma)
    assert signature_status(later) == "verified", later
    parts = {p["name"]: p for p in value(later, "signature")["part"]}
    assert parts["statusNow"]["valueCode"] == "cancelled", later
    assert "Firmada; cambió después (cancelada)" in parts["reason"]["valueString"], later
    assert "Signed; changed later (cancelled)" in parts["reason"]["valueString"], later

    # changed after signing: the counter sees it no longer verifies
    changed = dict(rx, dispenseRequest=dict(rx["dispenseRequest"], quantity={"value": 600, "unit": "tabletas"}))
    changed.pop("meta", None)
    assert server.request("PUT", f"/MedicationRequest/{rx['id']}", changed, token=op)[0] == 200
    _, _, after = server.request("POST", "/MedicationRequest/$find-by-code", parameters(("code", {"valueString": code})), token=roma)
    assert signature_status(after) == "failed", after
    reason = next(p["valueString"] for p in value(after, "signature")["part"] if p["name"] == "reason")
    assert "no se verifica" in reason and "does not verify" in reason


def test_an_operator_can_require_every_prescription_signed(data_dir):
    """`enlace serve --require-prescriber-signature`: even a prescriber without a key may not prescribe unsigned."""
    from conftest import Server, free_port
    s = Server(data_dir, free_port(), extra=["--no-totp-for-staff", "--require-prescriber-signature"]).start()
    try:
        op = s.token()
        seed(s, op, BASE)
        dra = user(s, "dra", "practitioner", "--practitioner", "Practitioner/dra", "--organization", "Organization/umf")
        status, _, refused = s.request("POST", "/MedicationRequest/$prescribe", RX, token=dra)
        assert status == 422 and "firma" in refused["issue"][0]["details"]["text"], refused
        # preparing needs no key, but storing does: without a registered key the signature is refused
        _, _, prep = s.request("POST", "/MedicationRequest/$prescribe", parameters(("mode", {"valueCode": "prepare"}), ("resource", {"resource": RX})), token=dra)
        payload = base64.b64decode(value(prep, "payload")["valueBase64Binary"])
        status, _, nokey = s.request("POST", "/MedicationRequest/$prescribe", signed(value(prep, "preparation")["valueString"], Prescriber().sign(payload)), token=dra)
        assert status == 422 and "llave" in nokey["issue"][0]["details"]["text"], nokey
        _, _, none = s.request("GET", "/MedicationRequest?patient=Patient/ana", token=op)
        assert not none.get("entry"), none
    finally:
        s.stop()
