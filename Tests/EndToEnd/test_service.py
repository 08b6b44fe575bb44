"""`veto serve` over real HTTP with a real redis-server: every route, status code and reason code."""
import base64
import json
import os
import re
import signal
import subprocess
import time

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from conftest import AUD, ISS
from services import Redis, VetoServer, json_body, request, wait_for

ISS2 = "https://login.partner.example.org"
AUD2 = "api://orders"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def admin_token():
    return os.urandom(16).hex()


@pytest.fixture(scope="module")
def stack(veto_bin, keyring, admin_token, tmp_path_factory):
    """A redis-server and two `veto serve` instances sharing it, configured with two issuers."""
    workdir = tmp_path_factory.mktemp("service")
    (workdir / "admin.token").write_text(admin_token + "\n")
    (workdir / "client.secret").write_text("s3cret-of-the-gateway\n")
    (workdir / "web.secret").write_text("s3cret-of-the-web-app\n")
    jwk = json.loads(RSAAlgorithm.to_jwk(keyring.private["RS256"].public_key()))
    (workdir / "partner.jwks").write_text(json.dumps({"keys": [dict(jwk, kid="p-2024", alg="RS256", use="sig")]}))
    for alg in ("RS256", "ES256", "HS256", "EdDSA"):
        (workdir / keyring.files[alg]).write_bytes((keyring.dir / keyring.files[alg]).read_bytes())
    (workdir / "veto.yaml").write_text(f"""
admin_token_file: admin.token
clients:
  - id: gateway
    secret_file: client.secret
    revoke_any: true
  - id: web
    secret_file: web.secret
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [RS256:{keyring.files['RS256']}, ES256:{keyring.files['ES256']}, HS256:{keyring.files['HS256']}, {keyring.files['EdDSA']}]
    headers: {{X-Auth-Email: email, X-Auth-Roles: roles}}
  - issuer: {ISS2}
    audiences: [{AUD2}]
    keys: [partner.jwks]
    typ: at+jwt
    max_lifetime: 3600
""")
    redis = Redis()
    servers = []
    try:
        for _ in range(2):
            servers.append(VetoServer(veto_bin, ["--config", "veto.yaml", "--redis", redis.url], cwd=workdir))
        yield {"redis": redis, "a": servers[0], "b": servers[1], "dir": workdir}
    finally:
        for server in servers:
            server.stop()
        redis.stop()


def partner_token(keyring, kid="p-2024", typ="at+jwt", **claims):
    now = int(time.time())
    body = {"iss": ISS2, "aud": AUD2, "sub": "p_1", "iat": now, "exp": now + 600, "jti": os.urandom(6).hex()}
    body.update(claims)
    return jwt.encode(body, keyring.private["RS256"], algorithm="RS256", headers={"kid": kid, "typ": typ})


def forged(header, claims, signature=b"sig"):
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def check(stack, token, server="a", method="GET", path="/v1/check"):
    return request(stack[server].port, method, path, token)


def assert_denied(response, code, *mentions):
    status, headers, body = response
    assert status == 401, (status, body)
    challenge = headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    assert headers.get("x-veto-error") == code
    document = json_body(body)
    assert document["active"] is False and document["error"] == code, document
    for mention in mentions:
        assert mention in document["message"], (mention, document["message"])
    return document


# -- allow ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256", "HS256", "EdDSA"])
def test_allow_is_exactly_200_with_identity_headers(stack, keyring, alg):
    token = keyring.token(alg, email="ada@example.com", roles=["admin", "ops"], sub="user_482")
    status, headers, body = check(stack, token)
    assert status == 200, body
    claims = jwt.decode(token, options={"verify_signature": False})
    assert headers["x-auth-subject"] == "user_482"
    assert headers["x-auth-issuer"] == ISS
    assert headers["x-auth-jti"] == claims["jti"]
    assert headers["x-auth-expires"] == str(claims["exp"])
    assert headers["x-auth-email"] == "ada@example.com"
    assert headers["x-auth-roles"] == "admin,ops"
    assert json_body(body)["active"] is True


def test_check_takes_any_method_and_path_suffix(stack, keyring):
    token = keyring.token()
    for method, path in (("POST", "/v1/check/api/orders"), ("PUT", "/v1/check"), ("DELETE", "/v1/check/x?y=1"), ("HEAD", "/v1/check")):
        assert check(stack, token, method=method, path=path)[0] == 200, (method, path)


def test_post_check_with_a_json_body(stack, keyring):
    status, _, body = request(stack["a"].port, "POST", "/v1/check", body={"token": keyring.token("ES256")})
    assert status == 200 and json_body(body)["active"] is True
    denied = request(stack["a"].port, "POST", "/v1/check", body={"token": keyring.token("ES256", aud="nope")})
    assert_denied(denied, "audience_mismatch", "nope", AUD)


def test_requests_are_routed_by_issuer(stack, keyring):
    assert check(stack, partner_token(keyring))[0] == 200
    # The partner's key is not trusted for the first issuer, even though it is the same RSA key pair here:
    # keys are scoped per issuer, so a JWKS kid only matches tokens of its own issuer.
    assert check(stack, keyring.token("RS256", aud=AUD2, iss=ISS2), "a")[0] == 401


# -- deny: one per reason code ----------------------------------------------------------------------

def test_missing_token_gets_a_plain_bearer_challenge(stack):
    status, headers, body = request(stack["a"].port, "GET", "/v1/check")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="veto"'
    assert json_body(body)["error"] == "missing_token"
    status, headers, _ = request(stack["a"].port, "GET", "/v1/check", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401 and "error=" not in headers["www-authenticate"]


def test_reason_codes_over_http(stack, keyring):
    now = int(time.time())
    cases = [
        ("malformed_token", "not-a-jwt", ["1 segment"]),
        ("encrypted_token_unsupported", "a.b.c.d.e", ["JWE"]),
        ("token_too_large", "a" * 9000, ["9000 bytes", "8192"]),
        ("unsupported_critical_header", keyring.token(headers={"crit": ["x-ext"], "x-ext": 1}), ["x-ext"]),
        ("algorithm_not_allowed", forged({"alg": "none"}, {"iss": ISS, "aud": AUD}, b""), ["none"]),
        ("algorithm_not_allowed", forged({"alg": "RS512"}, {"iss": ISS, "aud": AUD}), ["RS512", "RS256"]),
        ("unknown_key_id", partner_token(keyring, kid="p-2025"), ['"p-2025"']),
        ("signature_invalid", keyring.token("RS256")[:-6] + "AAAAAA", ["does not verify"]),
        ("token_expired", keyring.token(exp=now - 7200, iat=now - 9000), ["expired at", "2 h ago"]),
        ("token_not_yet_valid", keyring.token(nbf=now + 3600), ["not valid before", "from now"]),
        ("issuer_unknown", keyring.token(iss="https://evil.example"), ["https://evil.example"]),
        ("audience_mismatch", keyring.token(aud="https://api-staging.example.com"), ["https://api-staging.example.com", AUD]),
        ("token_type_mismatch", partner_token(keyring, typ="JWT"), ['"JWT"', '"at+jwt"']),
        ("lifetime_too_long", partner_token(keyring, exp=now + 7200), ["2 h", "1 h"]),
        ("missing_claim", keyring.token(jti=None), ['"jti"']),
        ("malformed_claim", keyring.token(exp="tomorrow"), ['"exp"', "NumericDate"]),
    ]
    for code, token, mentions in cases:
        assert_denied(check(stack, token), code, *mentions)


def test_a_bad_token_never_causes_a_5xx(stack):
    for token in ["", " ", ".", "..", "a.b.", "\u00e9.\u00e9.\u00e9", "eyJ.eyJ.eyJ", "x" * 8192, "a.b.c.d", "%00.%00.%00"]:
        status, _, _ = request(stack["a"].port, "GET", "/v1/check", headers={"Authorization": f"Bearer {token}".encode().decode("latin-1")})
        assert status == 401, repr(token)


# -- revocation -----------------------------------------------------------------------------------

def test_logout_then_check_on_both_instances(stack, keyring):
    token = keyring.token("ES256")
    assert check(stack, token, "a")[0] == 200 and check(stack, token, "b")[0] == 200
    status, _, body = request(stack["a"].port, "POST", "/v1/revoke", token)
    assert status == 200, body
    reply = json_body(body)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert reply["revoked"] is True and reply["jti"] == claims["jti"] and reply["iss"] == ISS
    assert reply["expires_at_unix"] == claims["exp"] + 60, "the entry lives until exp + leeway"
    assert_denied(check(stack, token, "a"), "token_revoked", claims["jti"], "logout")
    assert_denied(check(stack, token, "b"), "token_revoked")
    pttl = int(stack["redis"].cli("pttl", f"veto:j:{len(ISS)}:{ISS}:{claims['jti']}"))
    assert abs(pttl - (claims["exp"] + 60 - time.time()) * 1000) < 3000
    # Logging out again is fine, and does not shorten the entry.
    assert request(stack["b"].port, "POST", "/v1/revoke", token)[0] == 200


def test_logout_needs_a_valid_token(stack, keyring):
    assert_denied(request(stack["a"].port, "POST", "/v1/revoke", keyring.token(aud="elsewhere")), "audience_mismatch")
    assert request(stack["a"].port, "POST", "/v1/revoke")[0] == 401


def test_subject_revocation(stack, keyring, admin_token):
    now = int(time.time())
    older = keyring.token(sub="user_sub", iat=now - 10)
    assert check(stack, older)[0] == 200
    status, _, body = request(stack["a"].port, "POST", "/v1/admin/subjects", admin_token,
                              body={"iss": ISS, "sub": "user_sub", "reason": "password reset"})
    assert status == 200, body
    assert_denied(check(stack, older, "b"), "subject_revoked", "user_sub", "password reset")
    newer = keyring.token(sub="user_sub", iat=int(time.time()) + 2)
    assert check(stack, newer, "b")[0] == 200
    assert check(stack, keyring.token(sub="someone_else"))[0] == 200
    status, _, body = request(stack["a"].port, "GET", f"/v1/admin/subjects?iss={ISS}&sub=user_sub", admin_token)
    assert status == 200 and json_body(body)["reason"] == "password reset"


def test_admin_api(stack, keyring, admin_token):
    port = stack["a"].port
    assert request(port, "POST", "/v1/admin/revocations", body={"iss": ISS, "jti": "x"})[0] == 401
    assert request(port, "POST", "/v1/admin/revocations", "wrong-token", body={"iss": ISS, "jti": "x"})[0] == 401
    exp = int(time.time()) + 600
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token,
                              body={"iss": ISS, "jti": "adm: 1 é", "exp": exp, "reason": "compromised"})
    assert status == 200, body
    assert json_body(body)["expires_at_unix"] == exp + 60
    token = keyring.token(jti="adm: 1 é")
    assert_denied(check(stack, token), "token_revoked", "compromised")
    status, _, body = request(port, "GET", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)
    assert status == 200 and json_body(body)["reason"] == "compromised"
    status, _, body = request(port, "GET", f"/v1/admin/revocations?iss={ISS}&reason=compromised&limit=10", admin_token)
    assert status == 200 and any(e["jti"] == "adm: 1 é" for e in json_body(body)["entries"])
    assert request(port, "DELETE", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)[0] == 200
    assert check(stack, token)[0] == 200
    assert request(port, "DELETE", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)[0] == 404
    # Revoke by token, and refuse bad input with a clear message.
    by_token = keyring.token("HS256")
    assert request(port, "POST", "/v1/admin/revocations", admin_token, body={"token": by_token})[0] == 200
    assert_denied(check(stack, by_token, "b"), "token_revoked")
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token, body={"iss": "https://nope", "jti": "1"})
    assert status == 400 and "https://nope" in json_body(body)["message"]
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token, body="{not json")
    assert status == 400 and json_body(body)["error"] == "invalid_request"


# -- OAuth endpoints --------------------------------------------------------------------------------

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def test_introspection_rfc7662(stack, keyring):
    client = basic("gateway", "s3cret-of-the-gateway")
    token = keyring.token(scope="read write", client_id="web")
    status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=client)
    document = json_body(body)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert status == 200 and document["active"] is True
    for name in ("scope", "client_id", "exp", "iat", "sub", "aud", "iss", "jti"):
        assert document[name] == claims[name], name
    for bad in ("garbage", keyring.token(exp=int(time.time()) - 3600), keyring.token(aud="x")):
        status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={bad}", headers=client)
        assert status == 200 and json_body(body) == {"active": False}
    status, headers, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=basic("gateway", "wrong"))
    assert status == 401 and json_body(body)["error"] == "invalid_client" and headers["www-authenticate"].startswith("Basic")
    status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body="", headers=client)
    assert status == 400


def test_token_revocation_rfc7009(stack, keyring):
    client = basic("gateway", "s3cret-of-the-gateway")
    for unknown in ("unknown-token", keyring.token(aud="x")):
        assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={unknown}", headers=client)[0] == 200
    token = keyring.token()
    assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={token}&token_type_hint=access_token", headers=client)[0] == 200
    assert_denied(check(stack, token, "b"), "token_revoked", "oauth_revoke")
    status, _, body = request(stack["b"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=client)
    assert json_body(body) == {"active": False}
    assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={token}", headers=basic("x", "y"))[0] == 401


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
