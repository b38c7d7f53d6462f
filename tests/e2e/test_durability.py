"""A write that was acknowledged survives kill -9; the database stays sound."""
import signal
import sqlite3
import threading
import time
import os

from conftest import Server, free_port


def test_acknowledged_writes_survive_sigkill(data_dir):
    server = Server(data_dir, free_port()).start()
    token = server.token()
    acknowledged = []  # (type, id, versionId, family)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n):
        i = 0
        while not stop.is_set():
            family = f"Durable-{n}-{i}"
            try:
                status, _, body = server.request("POST", "/Patient", {"resourceType": "Patient", "name": [{"family": family}]}, token)
            except Exception:
                return  # the server died mid-request: this write was not acknowledged
            if status == 201:
                with lock:
                    acknowledged.append((body["id"], family))
            i += 1

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(3)
    server.proc.send_signal(signal.SIGKILL)  # in the middle of the stream
    server.proc.wait()
    stop.set()
    for t in threads:
        t.join()
    server.log.close()
    assert len(acknowledged) > 20, "too few writes were acknowledged to make the test meaningful"

    restarted = Server(data_dir, free_port()).start()
    try:
        token = restarted.token()
        missing = []
        for pid, family in acknowledged:
            status, _, body = restarted.request("GET", f"/Patient/{pid}", token=token)
            if status != 200 or body["name"][0]["family"] != family:
                missing.append(pid)
        assert missing == [], f"{len(missing)} acknowledged writes lost after kill -9"
        status, _, bundle = restarted.request("GET", "/Patient/_history?_count=0", token=token)
        assert status == 200 and bundle["total"] >= len(acknowledged)
    finally:
        restarted.stop()
    db = sqlite3.connect(os.path.join(data_dir, "enlace.sqlite"))
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()


def test_graceful_shutdown_on_sigterm(data_dir):
    server = Server(data_dir, free_port()).start()
    token = server.token()
    status, _, body = server.request("POST", "/Patient", {"resourceType": "Patient", "active": True}, token)
    assert status == 201
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=20) == 0
    server.log.close()
