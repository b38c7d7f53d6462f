"""A graceful stop in the middle of a consumers' backlog (docs/reliability.md, "SIGTERM after a
bulk write"): a bulk write leaves thousands of events for the outbox consumers; SIGTERM while
they work through them must stop the node promptly (they look at the shutdown between batches),
and a restart must pick up where their cursors stopped — every alert raised, none twice.

The backlog is written on an API-only node (`--no-event-consumers`, docs/scaling.md), so that it
is certainly there when the consumers start: on a fast machine a node running them while the
readings arrive could keep up and leave nothing to interrupt."""
import signal
import subprocess
import time
import uuid

from conftest import Server, enlace_binary, free_port

PATIENTS = 20
BACKLOG = 4000          # in-range readings ahead of the high ones
CENSUS = 1500           # Patients ahead of them (each one a plan for the prevention consumer)
STOP_WITHIN = 15        # seconds; the systemd unit gives 30 (docs/reliability.md, "Deployment")


def point(value, when):
    return {"header": {"id": str(uuid.uuid4()), "schema_id": {"namespace": "omh", "name": "blood-glucose", "version": "2.0"}},
            "body": {"blood_glucose": {"value": value, "unit": "mg/dL"}, "effective_time_frame": {"date_time": when}}}


def count(server, token, query):
    status, _, bundle = server.request("GET", query + "&_summary=count", token=token)
    assert status == 200, bundle
    return bundle["total"]


def test_sigterm_in_a_consumers_backlog_stops_promptly_and_loses_nothing(data_dir):
    writer = Server(data_dir, free_port(), extra=["--no-event-consumers"]).start()
    try:
        token = writer.token()
        for p in range(PATIENTS):
            status, _, body = writer.request("PUT", f"/Patient/bulk-{p}", {"resourceType": "Patient", "id": f"bulk-{p}"}, token=token)
            assert status in (200, 201), body
            writer.request("PUT", f"/CareTeam/bulk-{p}-team", {"resourceType": "CareTeam", "id": f"bulk-{p}-team", "status": "active",
                                                              "subject": {"reference": f"Patient/bulk-{p}"}}, token=token)
        # a census load, as an import brings: every new Patient gets its prevention plan computed
        for start in range(0, CENSUS, 500):
            entries = [{"resource": {"resourceType": "Patient", "id": f"census-{i}", "gender": "female" if i % 2 else "male",
                                     "birthDate": f"{1940 + i % 80}-0{1 + i % 9}-15"},
                        "request": {"method": "PUT", "url": f"Patient/census-{i}"}} for i in range(start, min(start + 500, CENSUS))]
            status, _, bundle = writer.request("POST", "", {"resourceType": "Bundle", "type": "transaction", "entry": entries}, token=token)
            assert status == 200, bundle
        per_patient = BACKLOG // PATIENTS
        for p in range(PATIENTS):
            readings = [point(100 + i % 40, f"2026-03-{1 + i // 1440:02d}T{(i // 60) % 24:02d}:{i % 60:02d}:00Z") for i in range(per_patient)]
            status, _, bundle = writer.request("POST", f"/Observation/$ingest-omh?patient=Patient/bulk-{p}", readings, token=token)
            assert status == 200, bundle
        for p in range(PATIENTS):
            status, _, bundle = writer.request("POST", f"/Observation/$ingest-omh?patient=Patient/bulk-{p}", [point(342, "2026-04-01T08:00:00Z")], token=token)
            assert status == 200, bundle
        assert count(writer, token, "/Flag?status=active") == 0, "an API-only node ran the alert rules"
    finally:
        writer.stop()

    worker = Server(data_dir, free_port()).start()
    token = worker.token()
    time.sleep(1.0)  # the consumers are in the backlog
    before = count(worker, token, "/Flag?status=active")
    assert before < PATIENTS, f"the backlog was done in a second ({before} alerts): nothing was interrupted"
    sent = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    code = worker.proc.wait(timeout=60)
    took = time.monotonic() - sent
    worker.log.close()
    print(f"SIGTERM with a backlog: stopped in {took:.2f} s ({before} of {PATIENTS} alerts raised before it)")
    assert code == 0, f"exit {code}"
    assert took < STOP_WITHIN, f"SIGTERM took {took:.1f} s with a backlog"

    again = Server(data_dir, free_port()).start()
    try:
        token = again.token()
        deadline = time.time() + 240
        while time.time() < deadline and count(again, token, "/Flag?status=active") < PATIENTS:
            time.sleep(0.5)
        # every patient's high reading raised its alert exactly once, and each care team got one Task
        for p in range(PATIENTS):
            assert count(again, token, f"/Flag?patient=Patient/bulk-{p}") == 1, f"bulk-{p}"
        assert count(again, token, "/Task?status=requested") == PATIENTS
    finally:
        again.stop()
    verify = subprocess.run([enlace_binary(), "audit", "verify", "--data", data_dir], capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stdout + verify.stderr
