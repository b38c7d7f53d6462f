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
        assert prov["total"] == 1200
    finally:
        server.stop()
    ok = subprocess.run([enlace_binary(), "audit", "verify", "--data", data_dir], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout
    missing = subprocess.run([enlace_binary(), "import", "--data", data_dir, "/nonexistent.ndjson"], capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "cannot read" in missing.stderr
