"""Monitoring against the real binary (docs/monitoring.md): Open mHealth readings posted to
`Observation/$ingest-omh` are stored once, and the alert rules running in the server raise one
Flag and one Task per out-of-range episode and close them when readings return to range."""
import time
import uuid


def point(value, when, meal=None):
    body = {"blood_glucose": {"value": value, "unit": "mg/dL"}, "effective_time_frame": {"date_time": when}}
    if meal:
        body["temporal_relationship_to_meal"] = meal
    return {"header": {"id": str(uuid.uuid4()), "schema_id": {"namespace": "omh", "name": "blood-glucose", "version": "2.0"},
                       "acquisition_provenance": {"source_name": "Accu-Chek Guide"}},
            "body": body}


def search(server, token, query):
    status, _, bundle = server.request("GET", query, token=token)
    assert status == 200, bundle
    return [e["resource"] for e in bundle.get("entry", [])]


def wait_for(predicate, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_ingest_is_idempotent_and_alerts_once_per_episode(server):
    token = server.token()
    status, _, _ = server.request("PUT", "/Patient/p-mon", {"resourceType": "Patient", "id": "p-mon"}, token=token)
    assert status in (200, 201)
    server.request("PUT", "/CareTeam/p-mon-team", {"resourceType": "CareTeam", "id": "p-mon-team", "status": "active",
                                                    "subject": {"reference": "Patient/p-mon"}}, token=token)
    readings = [point(120, "2026-01-10T13:00:00Z"), point(342, "2026-01-11T13:00:00Z"), point(290, "2026-01-12T13:00:00Z"),
                point(260, "2026-01-13T13:00:00Z")]
    status, _, bundle = server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-mon", readings, token=token)
    assert status == 200, bundle
    assert [e["response"]["status"] for e in bundle["entry"]] == ["201 Created"] * 4
    # a retry stores nothing new
    status, _, again = server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-mon", readings, token=token)
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK"] * 4
    assert len(search(server, token, "/Observation?subject=Patient/p-mon&_count=100")) == 4

    # one episode (342, 290, 260): one Flag, one Task for the care team
    tasks = wait_for(lambda: search(server, token, "/Task?patient=Patient/p-mon&status=requested"))
    flags = search(server, token, "/Flag?patient=Patient/p-mon")
    assert len(tasks) == 1 and len(flags) == 1
    assert tasks[0]["owner"]["reference"] == "CareTeam/p-mon-team"
    assert tasks[0]["priority"] == "urgent"  # 342 mg/dL is beyond the critical limit
    assert flags[0]["status"] == "active"

    # back in range: the episode closes; a new high opens exactly one more
    server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-mon", [point(140, "2026-01-14T13:00:00Z")], token=token)
    assert wait_for(lambda: search(server, token, "/Flag?patient=Patient/p-mon&status=inactive"))
    assert wait_for(lambda: search(server, token, "/Task?patient=Patient/p-mon&status=cancelled"))
    server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-mon",
                   [point(150, "2026-01-15T13:00:00Z", meal="fasting"), point(155, "2026-01-16T13:00:00Z", meal="fasting")], token=token)
    assert wait_for(lambda: len(search(server, token, "/Flag?patient=Patient/p-mon")) == 2)
    time.sleep(1.5)  # the rules run at least every second: nothing more comes
    assert len(search(server, token, "/Flag?patient=Patient/p-mon")) == 2
    assert len(search(server, token, "/Task?patient=Patient/p-mon")) == 2


def test_stats_and_bad_readings(server):
    token = server.token()
    readings = [point(v, f"2026-02-0{d}T13:00:00Z") for d, v in [(1, 100), (2, 110), (3, 120)]]
    server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-stats", readings, token=token)
    status, _, params = server.request("GET", "/Observation/$stats?subject=Patient/p-stats&code=2339-0&statistic=average,count", token=token)
    assert status == 200, params
    stats = [p["resource"] for p in params["parameter"] if p["name"] == "statistics"][0]
    by = {c["code"]["coding"][0]["code"]: c for c in stats["component"]}
    assert by["average"]["valueQuantity"]["value"] == 110
    assert by["count"]["valueInteger"] == 3
    bad = {"header": {"schema_id": "omh:oxygen-saturation:2.0"},
           "body": {"oxygen_saturation": {"value": 140, "unit": "%"}, "effective_time_frame": {"date_time": "2026-02-01T13:00:00Z"}}}
    status, _, outcome = server.request("POST", "/Observation/$ingest-omh?patient=Patient/p-stats", bad, token=token)
    assert status == 422
    assert outcome["issue"][0]["expression"] == ["body.oxygen_saturation.value"]
