"""The websocket channel of topic-based Subscriptions (R5 Backport IG STU 1.1 for R4, docs/subscriptions.md
"The websocket channel") against the real binary: a websocket client that binds with a token from
$get-ws-binding-token receives the same events, in the same order, as a rest-hook receiver of the same topic
and filter; a sensitive reading the subscriber has no consent for reaches neither; only the owner gets a token;
a bad, used or malformed command gets an OperationOutcome frame and a 1008 close; a reconnect catches up
with $events."""
import json
import os
import secrets
import time

import pytest
import websocket  # websocket-client

from test_subscriptions import Receiver, observation, start, subscription, user, URL, BACKENDS

BACKPORT = "http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/"


def params(resource):
    return {p["name"]: p for p in resource["parameter"]} if resource.get("resourceType") == "Parameters" else {}


class Client:
    """A websocket subscriber: the text frames (JSON) it received, and how the server closed."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=10)
        self.frames = []
        self.closed = None

    def send(self, text):
        self.ws.send(text)

    def read(self, until, seconds=30):
        """Reads frames until until(self) or the server closes; True when until(self) held."""
        deadline = time.time() + seconds
        while time.time() < deadline and self.closed is None:
            if until(self):
                return True
            try:
                opcode, data = self.ws.recv_data(control_frame=True)
            except websocket.WebSocketTimeoutException:
                continue
            except websocket.WebSocketConnectionClosedException:
                self.closed = self.closed or -1
                break
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self.frames.append(json.loads(data.decode()))
            elif opcode == websocket.ABNF.OPCODE_CLOSE:
                self.closed = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
        return until(self)

    def notifications(self):
        """(type, [(event number, focus Type/id)], events-since-subscription-start) per notification Bundle."""
        out = []
        for b in self.frames:
            if b.get("resourceType") != "Bundle":
                continue
            ps = b["entry"][0]["resource"]["parameter"]
            kind = next(p["valueCode"] for p in ps if p["name"] == "type")
            count = int(next(p["valueString"] for p in ps if p["name"] == "events-since-subscription-start"))
            events = []
            for p in ps:
                if p["name"] == "notification-event":
                    parts = {q["name"]: q for q in p["part"]}
                    focus = parts.get("focus", {}).get("valueReference", {}).get("reference", "")
                    events.append((int(parts["event-number"]["valueString"]), "/".join(focus.split("/")[-2:])))
            out.append((kind, events, count))
        return out

    def events(self):
        return [e for n in self.notifications() if n[0] == "event-notification" for e in n[1]]

    def outcomes(self):
        return [f for f in self.frames if f.get("resourceType") == "OperationOutcome"]

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass


def portal_page(server, username, path, password="una-contraseña-muy-larga"):
    """A portal page as `username` sees it, signed in with the password form."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    base = f"http://127.0.0.1:{server.port}"
    form = opener.open(base + "/entrar", timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf": csrf, "next": "/", "username": username, "password": password}).encode()
    opener.open(base + "/entrar", data=data, timeout=30).read()
    return opener.open(base + path, timeout=30).read().decode()


def websocket_subscription(criteria="Observation?patient=Patient/ana", content="id-only"):
    s = subscription("", criteria=criteria, content=content, channel="websocket")
    del s["channel"]["endpoint"], s["channel"]["header"]
    return s


@pytest.mark.parametrize("backend", BACKENDS)
def test_websocket_client_receives_what_a_rest_hook_receives(data_dir, backend):
    database = URL + ("&" if "?" in URL else "?") + "schema=e2e_subws_" + secrets.token_hex(6) if backend == "postgres" else None
    server = start(data_dir, database=database)
    receiver = Receiver()
    clients = []
    try:
        run(server, receiver, clients)
    finally:
        for c in clients:
            c.close()
        server.stop()
        receiver.http.shutdown()


def run(server, receiver, clients):
    op = server.token()
    for r in [{"resourceType": "Patient", "id": "ana"}, {"resourceType": "Patient", "id": "beto"},
              {"resourceType": "CareTeam", "id": "equipo-ana", "status": "active", "subject": {"reference": "Patient/ana"},
               "participant": [{"member": {"reference": "Practitioner/dr-lopez"}}]}]:
        assert server.request("PUT", f"/{r['resourceType']}/{r['id']}", r, op)[0] in (200, 201)
    lopez = user(server, "lopez", "practitioner", "--practitioner", "Practitioner/dr-lopez", "--organization", "Organization/clinica")
    otro = user(server, "otro", "practitioner", "--practitioner", "Practitioner/dr-otro", "--organization", "Organization/clinica")

    meta = server.request("GET", "/metadata")[2]
    entry = next(r for r in meta["rest"][0]["resource"] if r["type"] == "Subscription")
    assert "get-ws-binding-token" in {o["name"] for o in entry["operation"]}

    # the same topic and filter on both channels, created before any reading
    status, _, hook = server.request("POST", "/Subscription", subscription(receiver.url, content="id-only"), lopez)
    assert status == 201, hook
    status, _, ws_sub = server.request("POST", "/Subscription", websocket_subscription(), lopez)
    assert status == 201, ws_sub
    wid = ws_sub["id"]
    assert receiver.wait(lambda: server.request("GET", f"/Subscription/{wid}", token=lopez)[2]["status"] == "active", 10), \
        "a websocket Subscription is active without a handshake POST"

    # $get-ws-binding-token: the owner only, websocket channel only
    status, _, other = server.request("GET", f"/Subscription/{wid}/$get-ws-binding-token", token=otro)
    assert status == 404 and other["resourceType"] == "OperationOutcome", other
    status, _, wrong = server.request("POST", f"/Subscription/{hook['id']}/$get-ws-binding-token", token=lopez)
    assert status == 422 and "no websocket" in json.dumps(wrong, ensure_ascii=False), wrong
    status, _, none = server.request("GET", "/Subscription/$get-ws-binding-token", token=lopez)
    assert status == 400 and none["resourceType"] == "OperationOutcome", none
    status, _, issued = server.request("GET", f"/Subscription/{wid}/$get-ws-binding-token", token=lopez)
    assert status == 200, issued
    p = params(issued)
    assert set(p) == {"token", "expiration", "subscription", "websocket-url"}, issued
    assert p["subscription"]["valueString"].endswith(f"/Subscription/{wid}")
    url = p["websocket-url"]["valueUrl"]
    assert url == f"ws://127.0.0.1:{server.port}/fhir/websocket", url
    token = p["token"]["valueString"]

    client = Client(url)
    clients.append(client)
    client.send(f"bind-with-token {token}")
    assert client.read(lambda c: any(n[0] == "handshake" for n in c.notifications()), 10), client.frames
    assert client.notifications()[0][2] == 0

    # readings: Ana's (his patient), one sensitive (HIV, no consent for him), one of Beto's (not his patient)
    s, _, hidden = server.request("POST", "/Observation", observation(999, label="HIV"), op)
    assert s == 201
    beto = dict(observation(888), subject={"reference": "Patient/beto"})
    s, _, beto_obs = server.request("POST", "/Observation", beto, op)
    assert s == 201
    written = []
    for v in range(101, 113):
        s, _, body = server.request("POST", "/Observation", observation(v), op)
        assert s == 201
        written.append(f"Observation/{body['id']}")
    assert client.read(lambda c: len(c.events()) >= len(written), 60), client.notifications()
    assert receiver.wait(lambda: len(receiver.events()) >= len(written), 60), receiver.notifications()
    time.sleep(1.0)
    client.read(lambda c: False, 1)
    ws_events, hook_events = client.events(), receiver.events()
    assert [f for _, f in ws_events] == written, "in order, each once"
    assert [n for n, _ in ws_events] == list(range(1, len(written) + 1)), "events-since-subscription-start, monotonic"
    assert [f for _, f in hook_events] == [f for _, f in ws_events], "the same events as the rest-hook receiver"
    everything = json.dumps(client.frames)
    assert hidden["id"] not in everything, "nothing about the hidden reading"
    assert beto_obs["id"] not in everything, "nothing about Beto (not his patient)"
    assert client.notifications()[-1][2] == len(written)

    # the token was used; a bad token, a malformed command: an OperationOutcome, then 1008
    for text, spanish in [(f"bind-with-token {token}", "ya usado"), ("bind-with-token no-existe", "desconocido"),
                          ("hola", "comando desconocido"), ("bind-with-token a b", "exactamente un token")]:
        bad = Client(url)
        clients.append(bad)
        bad.send(text)
        assert bad.read(lambda c: c.closed is not None, 10), (text, bad.frames)
        assert bad.closed == 1008, (text, bad.closed)
        assert len(bad.outcomes()) == 1 and spanish in json.dumps(bad.outcomes()[0], ensure_ascii=False), (text, bad.frames)
        assert not bad.notifications()

    # connections racing with one token in the same instant: exactly one binds (the token is taken
    # from the database in one statement), the others get an OperationOutcome and 1008
    import threading
    token = params(server.request("POST", f"/Subscription/{wid}/$get-ws-binding-token", token=lopez)[2])["token"]["valueString"]
    racers = [Client(url) for _ in range(6)]
    clients.extend(racers)
    barrier = threading.Barrier(len(racers))

    def bind(c):
        barrier.wait()
        c.send(f"bind-with-token {token}")

    threads = [threading.Thread(target=bind, args=(c,)) for c in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in racers:
        c.read(lambda c: c.closed is not None or any(n[0] == "handshake" for n in c.notifications()), 15)
    bound = [c for c in racers if any(n[0] == "handshake" for n in c.notifications())]
    refused = [c for c in racers if c.closed == 1008]
    assert len(bound) == 1, [c.frames for c in racers]
    assert len(refused) == len(racers) - 1, [(c.closed, c.frames) for c in racers]
    assert all("ya usado" in json.dumps(c.outcomes(), ensure_ascii=False) for c in refused)
    bound[0].close()

    # the Subscription is its owner's: another practitioner neither reads nor finds it
    s, _, hidden_sub = server.request("GET", f"/Subscription/{wid}", token=otro)
    assert s == 404 and hidden_sub["resourceType"] == "OperationOutcome", hidden_sub
    s, _, found = server.request("GET", "/Subscription", token=otro)
    assert s == 200 and wid not in json.dumps(found), found
    s, _, mine = server.request("GET", "/Subscription", token=lopez)
    assert s == 200 and {e["resource"]["id"] for e in mine.get("entry", [])} >= {wid, hook["id"]}, mine

    # a plain GET of the websocket path (no upgrade) is an OperationOutcome, not a crash
    s, _, plain = server.request("GET", "/websocket", token=lopez)
    assert s in (400, 404) and plain["resourceType"] == "OperationOutcome", plain

    # the client goes away; readings meanwhile; it reconnects and catches up with $events
    client.close()
    missed = []
    for v in (121, 122):
        s, _, body = server.request("POST", "/Observation", observation(v), op)
        missed.append(f"Observation/{body['id']}")
    total = len(written) + 2
    assert receiver.wait(lambda: len(receiver.events()) >= total, 60)
    token = params(server.request("POST", f"/Subscription/{wid}/$get-ws-binding-token", token=lopez)[2])["token"]["valueString"]
    again = Client(url)
    clients.append(again)
    again.send(f"bind-with-token {token}")
    assert again.read(lambda c: any(n[0] == "handshake" for n in c.notifications()), 10)
    since = again.notifications()[0][2]
    assert since == total, "the handshake tells how many events there have been"
    s, _, replay = server.request("GET", f"/Subscription/{wid}/$events?eventsSinceNumber={len(written) + 1}&eventsUntilNumber={since}", token=lopez)
    assert s == 200, replay
    assert ["/".join(e["fullUrl"].split("/")[-2:]) for e in replay["entry"][1:]] == missed
    s, _, last = server.request("POST", "/Observation", observation(130), op)
    assert again.read(lambda c: [f for _, f in c.events()] == [f"Observation/{last['id']}"], 30), again.notifications()
    assert again.events()[0][0] == total + 1

    # $events out of range: a precise OperationOutcome, never a 500; count + 1 is "nothing missed"
    count = total + 1
    s, _, none = server.request("GET", f"/Subscription/{wid}/$events?eventsSinceNumber={count + 1}", token=lopez)
    assert s == 200 and len(none["entry"]) == 1, none
    for query, words in [(f"eventsSinceNumber={count + 5}", f"events 1–{count} exist"),
                         ("eventsSinceNumber=4&eventsUntilNumber=2", "below eventsSinceNumber 4"),
                         ("eventsSinceNumber=tres", "whole number")]:
        s, _, bad = server.request("GET", f"/Subscription/{wid}/$events?{query}", token=lopez)
        assert s == 400 and bad["resourceType"] == "OperationOutcome" and words in json.dumps(bad, ensure_ascii=False), (query, bad)
    assert server.request("GET", f"/Subscription/{wid}/$events?eventsSinceNumber=1", token=otro)[0] == 404, "the owner's only"

    # every notification is a disclosure in Ana's access log (rest-hook and websocket), none about what was hidden
    ana = user(server, "ana", "patient", "--patient", "Patient/ana")
    log = server.request("GET", "/AuditEvent?patient=ana&_count=500", token=ana)[2]
    exports = [e["resource"] for e in log.get("entry", []) if e["resource"]["type"].get("code") == "110106"]
    channels = {a["who"].get("display", "").split(" ")[0] for e in exports for a in e["agent"] if a["type"]["coding"][0]["code"] == "110152"}
    assert channels == {"rest-hook", "websocket"}, channels
    assert all(e["agent"][0]["who"].get("reference") == "Practitioner/dr-lopez" for e in exports)
    # the Subscription is its owner's: the operator's copy of the log names it
    full = server.request("GET", "/AuditEvent?patient=ana&_count=500", token=op)[2]
    named = {x.get("what", {}).get("reference") for e in full.get("entry", []) if e["resource"]["type"].get("code") == "110106"
             for x in e["resource"]["entity"]}
    assert {f"Subscription/{wid}", f"Subscription/{hook['id']}"} <= named, named
    assert hidden["id"] not in json.dumps(exports) and beto_obs["id"] not in json.dumps(exports), "nothing withheld is recorded as sent"
    page = portal_page(server, "ana", "/accesos")
    assert "Notificación a" in page and "enviada por websocket" in page and "enviada por rest-hook" in page, page[-3000:]

    # its owner turns it off: the client is told and the connection closes normally
    current = server.request("GET", f"/Subscription/{wid}", token=lopez)[2]
    current["status"] = "off"
    assert server.request("PUT", f"/Subscription/{wid}", current, lopez)[0] == 200
    assert again.read(lambda c: c.closed is not None, 15), again.frames
    assert again.closed == 1000
    assert "off" in json.dumps(again.outcomes()[-1])
