"""`veto serve` operations over real HTTP with a real redis-server: health, readiness and metrics,
what the logs hold, a store outage, limits, the embedded store, configuration errors, and several
requests on one connection. The stack and helpers are test_service.py's."""
import json
import re
import subprocess
import time

import pytest

from conftest import AUD, ISS
from services import Redis, VetoServer, json_body, request, wait_for
from test_service import admin_token, assert_denied, check, stack  # noqa: F401 (fixtures)


# -- operations -------------------------------------------------------------------------------------

def test_health_readiness_and_metrics(stack, keyring):
    assert request(stack["a"].port, "GET", "/healthz")[0] == 200
    status, _, body = request(stack["a"].port, "GET", "/readyz")
    assert status == 200 and json_body(body)["ready"] is True
    check(stack, keyring.token(aud="wrong"))
    status, headers, body = request(stack["a"].port, "GET", "/metrics")
    text = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/plain")
    assert re.search(r'veto_requests_total\{.*route="check".*\} [1-9]', text), text[:2000]
    assert re.search(r'veto_rejections_total\{reason="audience_mismatch"\} [1-9]', text)
    assert "veto_request_duration_seconds_bucket" in text
    assert re.search(r'veto_revocations_total\{kind="logout"\}', text)


def test_logs_never_contain_a_token(stack, keyring):
    token = keyring.token("ES256", aud="wrong-audience")
    check(stack, token)
    request(stack["a"].port, "POST", "/v1/revoke", keyring.token("ES256"))
    time.sleep(0.2)
    for server in (stack["a"], stack["b"]):
        logs = server.logs()
        assert "eyJ" not in logs, "a token (or a piece of one) was logged"
    assert "audience_mismatch" in stack["a"].logs()


def test_store_outage_fails_closed_and_recovers(stack, keyring):
    redis = stack["redis"]
    revoked = keyring.token()
    assert request(stack["a"].port, "POST", "/v1/revoke", revoked)[0] == 200
    live = keyring.token()
    redis.kill()
    try:
        for _ in range(20):
            for token in (revoked, live):
                status, headers, body = check(stack, token)
                assert status == 503, (status, body)
                assert headers["retry-after"] == "1" and json_body(body)["error"] == "store_unavailable"
        status, _, _ = request(stack["a"].port, "GET", "/readyz")
        assert status == 503
    finally:
        redis.start()
    started = time.monotonic()
    wait_for(lambda: check(stack, live)[0] == 200, timeout=10, what="recovery after redis restart")
    recovery = time.monotonic() - started
    assert recovery < 5, recovery
    # The revocation was in the old process's memory only (no persistence in this test redis),
    # so what matters here is that no check answered 200 during the outage.


def test_fail_open_is_explicit_and_marked(veto_bin, keyring, tmp_path):
    for alg in ("RS256",):
        (tmp_path / keyring.files[alg]).write_bytes((keyring.dir / keyring.files[alg]).read_bytes())
    redis = Redis()
    server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.flag("RS256"), "--redis", redis.url, "--fail-open"], cwd=tmp_path)
    try:
        redis.kill()
        status, headers, body = request(server.port, "GET", "/v1/check", keyring.token())
        assert status == 200 and headers["x-veto-degraded"] == "store_unavailable"
        assert re.search(r"veto_fail_open_total \d*[1-9]", request(server.port, "GET", "/metrics")[2].decode())
        assert "fail-open" in server.logs()
    finally:
        server.stop()
        redis.stop()


def test_limits(stack, keyring):
    port = stack["a"].port
    status, _, body = request(port, "POST", "/v1/check", body=json.dumps({"token": "x" * 70000}), headers={"Content-Type": "application/json"})
    assert status == 413 and json_body(body)["error"] == "body_too_large"
    status, _, _ = request(port, "GET", "/v1/check", headers={"X-Huge": "h" * 20000})
    assert status in (400, 431), status
    assert request(port, "GET", "/healthz")[0] == 200, "the service stays up"


def test_embedded_store_is_the_default_and_survives_restart(veto_bin, keyring, tmp_path):
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    args = ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"], "--data-dir", "data"]
    token = keyring.token("ES256")
    server = VetoServer(veto_bin, args, cwd=tmp_path)
    try:
        assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
    finally:
        assert server.stop() == 0, server.logs()
    server = VetoServer(veto_bin, args, cwd=tmp_path)
    try:
        assert_denied(request(server.port, "GET", "/v1/check", token), "token_revoked")
    finally:
        server.stop()


@pytest.mark.parametrize("args, field", [
    (["--issuer", ISS], "keys"),
    (["--issuer", ISS, "--key", "RS256:missing.pem"], "keys[0]"),
    (["--issuer", ISS, "--key", "rsa.pem"], "RS256"),
    (["--audience", AUD], "--issuer"),
    (["--issuer", ISS, "--key", "ES256:es256.pem", "--listen", "nowhere"], "--listen"),
    (["--issuer", ISS, "--key", "ES256:es256.pem", "--redis", "redis://user:pw@127.0.0.1:1/0"], "--redis"),
])
def test_bad_configuration_names_the_field(veto_bin, keyring, args, field):
    p = subprocess.run([veto_bin, "serve", *args], cwd=keyring.dir, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert field in p.stderr, p.stderr
    assert "pw" not in p.stderr.replace("password", "")


def test_keep_alive_and_pipelined_requests_are_answered_in_order(stack, keyring):
    """Several requests on one connection, sent back to back before reading: data-plane and
    control-plane answers must come back complete and in request order (HTTP/1.1 pipelining)."""
    import socket
    good, bad = keyring.token(), keyring.token(aud="nope")
    requests = [
        f"GET /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
        f"HEAD /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\n\r\n",
        f"GET /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {bad}\r\n\r\n",
        "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n",
        f"GET /v1/check/x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\nConnection: close\r\n\r\n",
    ]
    with socket.create_connection(("127.0.0.1", stack["a"].port), timeout=10) as s:
        s.sendall("".join(requests).encode())
        reader = s.makefile("rb")
        statuses = []
        for request_text in requests:
            status_line = reader.readline()
            assert status_line.startswith(b"HTTP/1.1 "), status_line
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if not request_text.startswith("HEAD"):
                reader.read(length)
            statuses.append(int(status_line.split(b" ")[1]))
        assert reader.read() == b"", "the connection closes after the Connection: close request"
    assert statuses == [200, 200, 200, 200, 401, 200, 200]


def test_head_on_either_plane_frames_the_answers_that_follow(stack, keyring):
    """HEAD answers carry no body on both planes, and do not change how later answers on the same
    connection are framed. NIO's response encoder learns each request's method from the decoder;
    data-plane answers bypass the encoder, so once it took the method of a HEAD check for a later
    control-plane answer and dropped that answer's body (and kept a method per check forever)."""
    import socket
    good = keyring.token()
    requests = [
        ("HEAD", f"HEAD /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\n\r\n"),
        ("GET", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("HEAD", "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("GET", f"GET /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {good}\r\n\r\n"),
        ("HEAD", "HEAD /no/such/route HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("GET", "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ]
    with socket.create_connection(("127.0.0.1", stack["a"].port), timeout=10) as s:
        s.sendall("".join(text for _, text in requests).encode())
        reader = s.makefile("rb")
        answers = []
        for method, _ in requests:
            status_line = reader.readline()
            assert status_line.startswith(b"HTTP/1.1 "), (status_line, answers)
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            body = reader.read(length) if method == "GET" else b""
            answers.append((int(status_line.split(b" ")[1]), length, body))
        # Nothing may follow the last answer: a HEAD answer that carried a body would show up here.
        assert reader.read() == b"", answers
    statuses = [status for status, _, _ in answers]
    assert statuses == [200, 200, 200, 200, 404, 200], answers
    for (method, _), (status, length, body) in zip(requests, answers):
        if method == "GET":
            assert length > 0 and len(body) == length, (method, status, length, body)
