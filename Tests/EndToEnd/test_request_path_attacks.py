"""Attacks on the request path after it became a state machine in our own HTTP/1 channel (issue 13), on
raw sockets against the running service: request smuggling, a body that looks like a request behind an
early control-plane answer, a pipelined logout followed by a check of the same token, and a hundred
pipelined checks in one write."""
import socket

import pytest

from conftest import AUD, ISS
from services import VetoServer
from test_wire import get, read_responses


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("request-path")
    (workdir / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"], "--data-dir", "data",
                                 "--threads", "1"], cwd=workdir, env={"VETO_ADMIN_TOKEN": "admin-token-for-tests-0123456789"})
    yield veto
    veto.stop()


def read_until_closed(sock, timeout=5.0):
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_content_length_with_chunked_is_refused_and_the_smuggled_check_never_answered(server, keyring):
    smuggled = get("/v1/check", keyring.token("ES256"))
    payload = (b"POST /v1/check HTTP/1.1\r\nHost: veto\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
               + smuggled)
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(payload)
        data = read_until_closed(sock)
    assert data.count(b"HTTP/1.1 ") == 1, data[:500]
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert b"x-auth-subject" not in data.lower()


def test_a_body_behind_an_early_answer_is_not_read_as_a_request(server, keyring):
    # The admin route answers 401 on the head; the body, a complete check of a good token, stays a body.
    body = get("/v1/check", keyring.token("ES256"))
    head = (b"POST /v1/admin/revocations HTTP/1.1\r\nHost: veto\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body + get("/healthz"))
        (first, second), rest = read_responses(sock, 2)
    assert first[0] == 401 and second[0] == 200 and b"ok" in second[2], (first, second)
    assert "x-auth-subject" not in first[1] and rest == b""


def test_a_pipelined_logout_is_seen_by_the_check_behind_it(server, keyring):
    token = keyring.token("ES256", sub="pipelined-logout")
    logout = f"POST /v1/revoke HTTP/1.1\r\nHost: veto\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(logout + get("/v1/check", token))
        (revoked, checked), _ = read_responses(sock, 2)
    assert revoked[0] == 200 and checked[0] == 401
    assert checked[1]["x-veto-error"] == ["token_revoked"]


def test_a_hundred_pipelined_checks_are_answered_in_order(server, keyring):
    tokens = [keyring.token("ES256", sub=f"user-{n}") for n in range(100)]
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"".join(get("/v1/check", token) for token in tokens))
        responses, rest = read_responses(sock, 100, timeout=20)
    assert rest == b""
    assert [headers["x-auth-subject"][0] for _, headers, _ in responses] == [f"user-{n}" for n in range(100)]
