"""The data plane writes its answers as bytes itself, in front of Hummingbird: HTTP/1.1 framing over a
raw socket, pipelining across both planes in order, `Connection: close`, absolute-form targets and
ambiguous Authorization headers."""
import socket
import time

import pytest

from conftest import AUD, ISS
from services import VetoServer, request


@pytest.fixture(scope="module")
def server(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("wire")
    (workdir / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"], "--data-dir", "data",
                                 "--threads", "1"], cwd=workdir)
    yield veto
    veto.stop()


def read_responses(sock, count, timeout=5.0):
    """Reads `count` HTTP/1.1 responses (Content-Length or chunked bodies) from one connection."""
    sock.settimeout(timeout)
    data = b""
    responses = []

    def more():
        nonlocal data
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed after {len(responses)} responses: {data[:300]!r}")
        data += chunk

    while len(responses) < count:
        while b"\r\n\r\n" not in data:
            more()
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if "content-length" in headers:
            length = int(headers["content-length"][0])
            while len(data) < length:
                more()
            body, data = data[:length], data[length:]
        elif headers.get("transfer-encoding") == ["chunked"]:
            body = b""
            while True:
                while b"\r\n" not in data:
                    more()
                size_line, data = data.split(b"\r\n", 1)
                size = int(size_line, 16)
                while len(data) < size + 2:
                    more()
                body, data = body + data[:size], data[size + 2:]
                if size == 0:
                    break
        else:
            body = b""
        responses.append((status, headers, body))
    return responses, data


def get(path, token=None, extra=""):
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: veto\r\n{auth}{extra}\r\n".encode()


def test_pipelined_requests_of_both_planes_are_answered_in_order(server, keyring):
    good = keyring.token("ES256", sub="first")
    other = keyring.token("ES256", sub="second")
    payload = (get("/v1/check", good) + get("/healthz") + get("/v1/check", "not-a-token") + get("/metrics")
               + get("/v1/check/suffix?x=1", other) + get("/v1/check"))
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(payload)
        responses, rest = read_responses(sock, 6)
    assert rest == b""
    statuses = [status for status, _, _ in responses]
    assert statuses == [200, 200, 401, 200, 200, 401], statuses
    assert responses[0][1]["x-auth-subject"] == ["first"]
    assert responses[4][1]["x-auth-subject"] == ["second"]
    assert responses[2][1]["x-veto-error"] == ["malformed_token"]
    assert responses[5][1]["x-veto-error"] == ["missing_token"]
    assert b"veto_requests_total" in responses[3][2]
    for status, headers, body in responses:
        assert len(headers.get("content-length", [])) <= 1


def test_connection_close_is_honoured(server, keyring):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(get("/v1/check", keyring.token("ES256"), extra="Connection: close\r\n"))
        (response,), rest = read_responses(sock, 1)
        assert response[0] == 200 and response[1]["connection"] == ["close"]
        sock.settimeout(3)
        assert rest == b"" and sock.recv(100) == b"", "the server closes the connection after the answer"


def test_absolute_form_targets_reach_the_data_plane(server, keyring):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(get("http://veto.internal:8080/v1/check", keyring.token("ES256")) + get("http://veto.internal/v1/check"))
        responses, _ = read_responses(sock, 2)
    assert [status for status, _, _ in responses] == [200, 401]
    assert responses[1][1]["x-veto-error"] == ["missing_token"]


def test_two_authorization_headers_are_refused(server, keyring):
    token = keyring.token("ES256")
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(get("/v1/check", token, extra=f"Authorization: Bearer {token}\r\n"))
        (response,), _ = read_responses(sock, 1)
    assert response[0] == 401


def test_http_1_0_is_answered(server, keyring):
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(f"GET /v1/check HTTP/1.0\r\nAuthorization: Bearer {keyring.token('ES256')}\r\n\r\n".encode())
        (response,), _ = read_responses(sock, 1)
    assert response[0] == 200 and response[1]["content-length"] == [str(len(response[2]))]


def test_a_claim_cannot_add_headers_or_split_the_answer(veto_bin, keyring, tmp_path):
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"], "--data-dir", "data",
                                 "--claim-header", "X-Team=team", "--threads", "1"], cwd=tmp_path)
    try:
        evil = "ops\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nX-Injected: yes"
        # A claim that a header cannot carry byte for byte is dropped (and named), never altered; a sub
        # or jti like that is refused outright, since X-Auth-Subject must be the token's exact subject.
        token = keyring.token("ES256", sub="user_1", team=evil)
        bad_sub = keyring.token("ES256", sub="x\r\nX-Injected: sub")
        for _ in range(2):  # fresh, then from the verification cache
            with socket.create_connection(("127.0.0.1", veto.port)) as sock:
                sock.sendall(get("/v1/check", token) + get("/v1/check", bad_sub) + get("/healthz"))
                responses, rest = read_responses(sock, 3)
            (status, headers, body), (refused, refused_headers, _), (third, _, _) = responses
            assert status == 200 and refused == 401 and third == 200 and rest == b""
            assert "x-injected" not in headers and "x-injected" not in refused_headers
            assert "x-team" not in headers and headers["x-veto-headers-dropped"] == ["X-Team"]
            assert headers["x-auth-subject"] == ["user_1"]
            assert refused_headers["x-veto-error"] == ["malformed_claim"]
    finally:
        veto.stop()


@pytest.mark.parametrize("name", ["Content-Length", "transfer-encoding", "Connection", "Content-Type"])
def test_claim_headers_cannot_take_framing_names(veto_bin, keyring, name):
    import subprocess
    p = subprocess.run([veto_bin, "serve", "--issuer", ISS, "--key", keyring.files["ES256"], "--claim-header", f"{name}=sub"],
                       cwd=keyring.dir, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "set by Veto itself" in p.stderr, p.stderr
