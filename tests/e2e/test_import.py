"""`enlace import`: Bulk Data NDJSON through validation, indexing, Provenance and audit."""
import json
import subprocess

from conftest import Server, enlace_binary, free_port


def test_import_ndjson_reports_bad_lines_and_keeps_the_good(data_dir, tmp_path):
    path = tmp_path / "Patient.ndjson"
    with open(path, "w") as f:
        for i in range(1200):
            f.write(json.dumps({"resourceType": "Patient", "id": f"p{i}", "name": [{"family": f"Familia{i}"}], "gender": "female"}) + "\n")
            if i == 700:
                f.write('{"resourceType":"Patient","gender":"sometimes"}\n')   # line 702: invalid code
            if i == 900:
                f.write('{"resourceType": "Patient",\n')                        # line 903: broken JSON
        f.write("\n")
    r = subprocess.run([enlace_binary(), "import", "--data", data_dir, "--batch", "250", str(path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "imported 1200 resources" in r.stdout, r.stdout
    assert f"{path}:702:" in r.stderr and "gender" in r.stderr
    assert f"{path}:903: not valid JSON" in r.stderr
    server = Server(data_dir, free_port()).start()
    try:
        token = server.token()
        status, _, bundle = server.request("GET", "/Patient?_summary=count", token=token)
        assert status == 200 and bundle["total"] == 1200
        status, _, p = server.request("GET", "/Patient?family=familia1199", token=token)
        assert p["total"] == 1
        status, _, prov = server.request("GET", "/Provenance?_summary=count", token=token)
        # one per imported Patient, plus those of what the server writes at start (the SubscriptionTopics as Basic)
        status, _, basic = server.request("GET", "/Basic?_summary=count", token=token)
        assert prov["total"] - basic["total"] == 1200
    finally:
        server.stop()
    ok = subprocess.run([enlace_binary(), "audit", "verify", "--data", data_dir], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout
    missing = subprocess.run([enlace_binary(), "import", "--data", data_dir, "/nonexistent.ndjson"], capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "cannot read" in missing.stderr
    # the same file again: every good line is already stored exactly so, and is not written again
    again = subprocess.run([enlace_binary(), "import", "--data", data_dir, "--batch", "250", str(path)], capture_output=True, text=True, timeout=600)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "imported 1200 resources" in again.stdout and "1200 unchanged" in again.stdout and "1200 sin cambios" in again.stdout, again.stdout


def test_import_lenient_drops_only_empty_arrays_and_objects_and_reports_each(data_dir, tmp_path):
    path = tmp_path / "Legacy.ndjson"
    with open(path, "w") as f:
        f.write(json.dumps({"resourceType": "Patient", "id": "l1", "extension": [], "name": [{"family": "Legado", "given": []}]}) + "\n")
        f.write(json.dumps({"resourceType": "Patient", "id": "l2", "meta": {}, "gender": "male"}) + "\n")
        f.write(json.dumps({"resourceType": "Patient", "id": "l3", "extension": [], "apodo": "Lupe"}) + "\n")  # unknown element
    strict = subprocess.run([enlace_binary(), "import", "--data", data_dir, str(path)], capture_output=True, text=True, timeout=300)
    assert strict.returncode == 1
    assert f"{path}:1:" in strict.stderr and f"{path}:2:" in strict.stderr and "imported 0 resources" in strict.stdout, strict.stdout + strict.stderr
    r = subprocess.run([enlace_binary(), "import", "--data", data_dir, "--lenient", str(path)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, r.stdout + r.stderr  # line 3 still fails: unknown elements are never dropped
    assert "imported 2 resources" in r.stdout, r.stdout
    assert f"{path}:1: warning: lenient mode: dropped the empty array Patient.extension" in r.stderr, r.stderr
    assert f"{path}:1: warning: lenient mode: dropped the empty array Patient.name[0].given" in r.stderr
    assert f"{path}:2: warning: lenient mode: dropped the empty object Patient.meta" in r.stderr
    assert f"{path}:3:" in r.stderr and "apodo" in r.stderr
    assert "4 empty arrays or objects dropped" in r.stderr  # line 3's repair counts too, though the line failed
    server = Server(data_dir, free_port()).start()
    try:
        status, _, p = server.request("GET", "/Patient/l1", token=server.token())
        assert status == 200 and "extension" not in p and p["name"] == [{"family": "Legado"}]
        status, _, _ = server.request("GET", "/Patient/l3", token=server.token())
        assert status == 404
    finally:
        server.stop()
