"""The audit ledger seen from outside: proofs checked by an independent RFC 9162 implementation,
and `enlace audit verify` / `export` on the real data directory."""
import base64
import hashlib
import json
import sqlite3
import subprocess
import time
import urllib.request

import os

from conftest import Server, enlace_binary, free_port


# --- RFC 9162 §2.1, written from the RFC text, independent of the Swift code ---------------
def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf, index, size, path, root):
    """RFC 9162 §2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, proof):
    """RFC 9162 §2.1.4.2."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0 or first > second or not proof:
        return False
    if first & (first - 1) == 0:  # a power of two
        proof = [first_root] + proof
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


def get_json(server, path, token):
    req = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def b64(s):
    return base64.b64decode(s)


def test_rfc9162_vectors_in_this_verifier():
    # the published CT test leaves; roots of sizes 1 and 8
    leaves = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]
    assert leaf_hash(leaves[0]).hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"

    def mth(hs):
        if len(hs) == 1:
            return hs[0]
        k = 1
        while k * 2 < len(hs):
            k *= 2
        return node_hash(mth(hs[:k]), mth(hs[k:]))
    assert mth([leaf_hash(x) for x in leaves]).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


def test_proofs_from_the_api_verify_independently(server):
    token = server.token()
    for i in range(30):
        server.request("PUT", f"/Patient/p{i}", {"resourceType": "Patient", "id": f"p{i}"}, token)
    head1 = get_json(server, "/audit/tree-head", token)
    for i in range(30, 41):
        server.request("GET", f"/Patient/p{i % 30}", token=token)
    head2 = get_json(server, "/audit/tree-head", token)
    n1, n2 = head1["treeSize"], head2["treeSize"]
    assert n2 > n1 > 0
    r1, r2 = b64(head1["rootHash"]), b64(head2["rootHash"])
    # `end` is inclusive (RFC 9162 §5.6): the last leaf of the second tree is n2 - 1
    entries = get_json(server, f"/audit/entries?start=0&end={min(n2, 1000) - 1}", token)["entries"]
    assert entries and all(e["index"] < n2 for e in entries)
    for e in entries[:: max(1, len(entries) // 12)] + [entries[-1]]:
        idx = e["index"]
        proof = get_json(server, f"/audit/proof/inclusion?index={idx}&treeSize={n2}", token)
        assert verify_inclusion(leaf_hash(b64(e["leaf"])), idx, n2, [b64(p) for p in proof["auditPath"]], r2), idx
        assert e["auditEvent"]["resourceType"] == "AuditEvent"
        # a tampered leaf does not verify
        assert not verify_inclusion(leaf_hash(b64(e["leaf"]) + b" "), idx, n2, [b64(p) for p in proof["auditPath"]], r2)
    cons = get_json(server, f"/audit/proof/consistency?first={n1}&second={n2}", token)
    assert verify_consistency(n1, n2, r1, r2, [b64(p) for p in cons["proof"]])
    assert not verify_consistency(n1, n2, r2, r1, [b64(p) for p in cons["proof"]])


def test_cli_verify_export_and_witness(server, data_dir):
    token = server.token()
    for i in range(25):
        server.request("POST", "/Patient", {"resourceType": "Patient", "active": True}, token)
    time.sleep(1.5)  # a tree head is signed at least every second
    server.stop()
    witness = f"{data_dir}/witness.jsonl"
    ok = subprocess.run([enlace_binary(), "audit", "verify", "--data", data_dir, "--witness", witness], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "OK:" in ok.stdout
    subprocess.run([enlace_binary(), "token", "--data", data_dir, "--scope", "system/Patient.rs"], check=True, capture_output=True, timeout=60)
    export = subprocess.run([enlace_binary(), "audit", "export", "--data", data_dir], capture_output=True, text=True, timeout=120)
    lines = [json.loads(l) for l in export.stdout.splitlines()]
    # a token made at the command line is audited too
    assert any(l.get("outcomeDesc") == "HTTP 200 CLI enlace token" for l in lines)
    assert len(lines) >= 26 and all(l["resourceType"] == "AuditEvent" for l in lines)
    assert [int(l["id"]) for l in lines] == list(range(len(lines)))
    # change one byte of entry 7 behind the server's back
    db = sqlite3.connect(f"{data_dir}/enlace.sqlite")
    db.execute("UPDATE audit_entry SET bytes = CAST(replace(CAST(bytes AS TEXT), 'AuditEvent', 'AuditEvenT') AS BLOB) WHERE idx = 7")
    db.commit()
    db.close()
    bad = subprocess.run([enlace_binary(), "audit", "verify", "--data", data_dir, "--witness", witness], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "entry 7 " in bad.stdout, bad.stdout


def test_serve_publishes_tree_heads_to_a_witness_file(tmp_path):
    """`enlace serve --witness PATH --witness-interval 1` appends signed tree heads as the log
    grows (docs/audit.md, "Verifying"); `audit verify --witness` then checks the ledger against them."""
    import subprocess
    from conftest import enlace_binary
    data, witness = str(tmp_path / "data"), str(tmp_path / "witness.jsonl")
    os.makedirs(data)
    server = Server(data, free_port(), extra=["--witness", witness, "--witness-interval", "1"]).start()
    try:
        token = server.token()
        sizes = []
        for round_ in range(3):
            for i in range(3):
                assert server.request("POST", "/Patient", {"resourceType": "Patient", "active": True}, token)[0] == 201
            deadline = time.time() + 20
            while time.time() < deadline:
                lines = open(witness).read().splitlines() if os.path.exists(witness) else []
                if lines and (not sizes or json.loads(lines[-1])["treeSize"] > sizes[-1]):
                    sizes.append(json.loads(lines[-1])["treeSize"])
                    break
                time.sleep(0.3)
            else:
                raise AssertionError(f"no new witness line after round {round_}")
    finally:
        server.stop()
    assert sizes == sorted(sizes) and len(set(sizes)) == 3
    r = subprocess.run([enlace_binary(), "audit", "verify", "--data", data, "--witness", witness], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "OK:" in r.stdout, r.stdout + r.stderr
