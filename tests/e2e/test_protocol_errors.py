"""Requests the HTTP parser refuses before any route runs — a request line or headers over the
80 KiB limit, a malformed request line, a bad Content-Length — still get an OperationOutcome
(431 or 400) on real sockets, and the server keeps serving."""
import json
import socket

import pytest


def raw(server, request: bytes):
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        try:
            s.sendall(request)
        except OSError:
            pass  # the server may answer and close before reading it all
        data = b""
        try:
            while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < content_length(data):
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        return data
    finally:
        s.close()


def content_length(data):
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return int(line.split(":", 1)[1])
    return 1 << 30


CASES = [
    ("request line of 100 KiB", b"GET /fhir/Patient?name=" + b"a" * (100 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "too-long"),
    ("request line of 1 MiB", b"GET /fhir/Patient?name=" + b"a" * (1024 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n", 431, "too-long"),
    ("a 90 KiB header", b"GET /fhir/Patient HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * (90 * 1024) + b"\r\n\r\n", 431, "too-long"),
    ("not HTTP", b"GARBAGE\r\n\r\n", 400, "structure"),
    ("bad Content-Length", b"POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}", 400, "structure"),
]


@pytest.mark.parametrize("name,request_bytes,status,code", CASES, ids=[c[0].replace(" ", "-") for c in CASES])
def test_parser_refusals_are_operation_outcomes(server, name, request_bytes, status, code):
    data = raw(server, request_bytes)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status}".encode()), (name, head[:200])
    assert b"application/fhir+json" in head
    outcome = json.loads(body)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == code
    assert outcome["issue"][0]["diagnostics"] and outcome["issue"][0]["details"]["text"]
    # the server is fine afterwards
    status_after, _, _ = server.request("GET", "/metadata")
    assert status_after == 200
