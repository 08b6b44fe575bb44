"""Each limit of `veto serve`, with a server whose limits are set small: token size, header size,
body size, the request (body) timeout and the idle timeout."""
import json
import socket
import time

import pytest

from conftest import AUD, ISS
from services import VetoServer, json_body, request


@pytest.fixture(scope="module")
def small(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("limits")
    (workdir / "ec.pem").write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    (workdir / "veto.yaml").write_text(f"""
limits:
  max_token_bytes: 2048
  max_body_bytes: 4096
  max_header_bytes: 8192
  request_timeout: 1
  idle_timeout: 2
  identity_header_bytes: 64
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [ec.pem]
    headers: {{X-Auth-Email: email}}
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data"], cwd=workdir)
    yield server
    server.stop()


def raw(port, payload, wait=3.0):
    """Sends raw bytes and returns everything the server sends back until it closes or `wait` passes."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(payload)
        started = time.monotonic()
        received = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return received, True, time.monotonic() - started
                received += chunk
        except socket.timeout:
            return received, False, time.monotonic() - started


def test_token_size(small, keyring):
    big = keyring.token("ES256", pad="x" * 3000)
    status, _, body = request(small.port, "GET", "/v1/check", big)
    assert status == 401 and json_body(body)["error"] == "token_too_large" and "2048" in json_body(body)["message"]
    assert request(small.port, "GET", "/v1/check", keyring.token("ES256"))[0] == 200


def test_body_size(small):
    status, _, body = request(small.port, "POST", "/v1/check", body=json.dumps({"token": "x" * 5000}), headers={"Content-Type": "application/json"})
    assert status == 413 and json_body(body)["error"] == "body_too_large"


def test_header_size(small):
    status, _, _ = request(small.port, "GET", "/v1/check", headers={"X-Big": "b" * 9000})
    assert status in (400, 431)
    assert request(small.port, "GET", "/healthz")[0] == 200


def test_request_timeout_for_a_trickled_body(small):
    head = b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    received, closed, elapsed = raw(small.port, head, wait=5)
    assert b" 408 " in received.split(b"\r\n")[0], received[:200]
    assert closed and elapsed < 4


def test_idle_connections_are_closed(small):
    received, closed, elapsed = raw(small.port, b"", wait=5)
    assert closed and received == b"" and elapsed < 4


def test_identity_headers_survive_a_small_header_budget(small, keyring):
    """The budget drops mapped claims, never the identity headers: a dropped X-Auth-Subject would
    let a client's forged one through gateways that copy only what Veto sends."""
    sub = "s" * 400
    status, headers, _ = request(small.port, "GET", "/v1/check", keyring.token("ES256", sub=sub, email="a@example.com"))
    assert status == 200
    assert headers["x-auth-subject"] == sub and headers["x-auth-issuer"] == ISS
    assert "x-auth-email" not in headers and headers["x-veto-headers-dropped"] == "X-Auth-Email"
