"""Regression tests for what the outsider attack on the security fixes (issue 12, before resolving)
found, named after the attack: identity headers that altered a subject, Redis eviction, instances
with different rules on one Redis, a revocation expiring while Redis was slow, trickled bodies on
the control plane, private keys in a JWKS, look-alike loopback names, discovery downgrades,
non-string client_id, kid twins in a JWKS, and a deleted journal."""
import json
import os
import signal
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from conftest import AUD, ISS
from services import JWKSServer, Redis, json_body, request, wait_for
from test_security_findings import admin, basic, check, error_of, issuer_config, serve, sign  # noqa: F401 (fixture)


def test_attack_identity_headers_never_alter_a_subject(veto_bin, keyring, tmp_path, admin):
    """sub "admin " reached the upstream as X-Auth-Subject: admin, and a cut-off of "admin" did not
    cover it. Such identifiers are now refused; a mapped claim that cannot travel unaltered is dropped."""
    config = "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path, extra="    headers: {X-Auth-Email: email}\n")
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        for sub in ("admin ", " admin", "admin\t", "admin\u0000", "ad\nmin", "admin\x7f"):
            status, code, body = error_of(check(server, sign(keyring, sub=sub)))
            assert (status, code) == (401, "malformed_claim"), (repr(sub), body)
        assert error_of(check(server, sign(keyring, jti="j\r\n1")))[:2] == (401, "malformed_claim")
        status, headers, _ = check(server, sign(keyring, sub="admin", email="a@example.com "))
        assert status == 200 and headers["x-auth-subject"] == "admin"
        assert "x-auth-email" not in headers and headers["x-veto-headers-dropped"] == "X-Auth-Email"
    finally:
        server.stop()


def test_attack_an_evicting_redis_is_not_ready(veto_bin, keyring, tmp_path):
    """With maxmemory-policy volatile-ttl, users logging out many tokens pushed other users'
    revocations out of Redis. Veto now says so at start and in /readyz."""
    redis = Redis(args=["--maxmemory", "64mb", "--maxmemory-policy", "volatile-ttl"])
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path), "--redis", redis.url)
    try:
        wait_for(lambda: "maxmemory_policy" in server.logs(), what="the eviction warning")
        status, _, body = request(server.port, "GET", "/readyz")
        assert status == 503 and b"may evict revocations" in body, body
        redis.cli("config", "set", "maxmemory-policy", "noeviction")
        assert request(server.port, "GET", "/readyz")[0] == 200
    finally:
        server.stop()
        redis.stop()


def test_attack_instances_with_different_rules_share_the_longest(veto_bin, keyring, tmp_path, admin):
    """Instance A (max_token_lifetime 20) wrote a cut-off that expired after 20 s, while instance B
    (24 h) still accepted the token. Every write now takes the largest published rules."""
    redis = Redis()
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("a", "b"):
        (tmp_path / name / "admin.token").write_text(admin)
    a = serve(veto_bin, tmp_path / "a", "admin_token_file: admin.token\nmax_token_lifetime: 20\n" + issuer_config(keyring, tmp_path / "a"),
              "--redis", redis.url)
    b = serve(veto_bin, tmp_path / "b", "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path / "b"), "--redis", redis.url)
    try:
        wait_for(lambda: redis.cli("hget", "veto:rules", "max_token_lifetime") == "86400", what="both rules published")
        status, _, body = request(a.port, "POST", "/v1/admin/subjects", admin, body={"iss": ISS, "sub": "dave"})
        assert status == 200, body
        pttl = int(redis.cli("pttl", f"veto:s:{len(ISS)}:{ISS}:dave"))
        assert pttl > (86_400 + 60 - 10) * 1000, pttl
        status, _, body = request(a.port, "POST", "/v1/admin/revocations", admin, body={"iss": ISS, "jti": "no-exp"})
        assert status == 200 and json_body(body)["expires_at_unix"] >= int(time.time()) + 86_400, body
    finally:
        a.stop()
        b.stop()
        redis.stop()


def test_attack_a_revocation_expiring_during_a_slow_lookup_is_not_an_allow(veto_bin, keyring, tmp_path):
    """The check judged the token valid, then Redis (paused) answered after exp + leeway, when the
    entry had expired: 200 for a revoked token. The answer is now judged at the time it arrives."""
    redis = Redis()
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path, extra="    leeway: 0\n"), "--redis", redis.url)
    try:
        end = int(time.time()) + 3
        token = sign(keyring, exp=end)
        assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
        while time.time() < end - 0.35:
            time.sleep(0.01)
        answer = {}
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            thread = threading.Thread(target=lambda: answer.update(r=check(server, token, timeout=10)))
            thread.start()
            time.sleep(0.7)
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        thread.join(10)
        status, code, body = error_of(answer["r"])
        assert status != 200, body
        assert (status, code) in ((401, "token_expired"), (401, "token_revoked"), (503, "store_unavailable")), body
    finally:
        server.stop()
        redis.stop()


def test_attack_a_trickled_control_plane_body_is_cut_off(veto_bin, keyring, tmp_path):
    """A control-plane request whose body trickled in held its connection (and a max_connections
    slot) forever: request_timeout now applies to both planes."""
    import socket
    config = "limits:\n  request_timeout: 1\n" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        connection = socket.create_connection(("127.0.0.1", server.port))
        connection.sendall(b"POST /oauth2/revoke HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n\r\ntoken=")
        started = time.monotonic()
        connection.settimeout(0.5)
        closed = False
        while time.monotonic() - started < 6 and not closed:
            try:
                connection.sendall(b"a")
                data = connection.recv(65536)
                closed = data == b""
            except socket.timeout:
                pass
            except (ConnectionResetError, BrokenPipeError):
                closed = True
        assert closed, "the trickling connection was still open after 6 s"
        connection.close()
    finally:
        server.stop()


def test_attack_a_jwks_with_private_keys_is_refused(veto_bin, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    jwks = JWKSServer()
    jwks.document = {"keys": [dict(json.loads(ECAlgorithm.to_jwk(key)), kid="leaked", alg="ES256")]}
    assert "d" in jwks.document["keys"][0]
    config = f"issuers:\n  - issuer: {ISS}\n    audiences: [{AUD}]\n    jwks_url: {jwks.url}\n"
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        now = int(time.time())
        token = jwt.encode({"iss": ISS, "aud": AUD, "sub": "s", "iat": now, "exp": now + 60, "jti": "j"}, key,
                           algorithm="ES256", headers={"kid": "leaked"})
        wait_for(lambda: "private key material" in server.logs(), what="the refusal in the log")
        assert check(server, token)[0] == 401
    finally:
        server.stop()
        jwks.stop()


@pytest.mark.parametrize("url", ["http://127.evil.example.com/jwks.json", "http://127.0.0.1.example.com/jwks.json", "http://0.0.0.0/jwks.json"])
def test_attack_only_numeric_loopback_counts_as_loopback(kveto, url):
    result = kveto("serve", "--listen", "127.0.0.1:0", "--issuer", ISS, "--jwks-url", url, timeout=20)
    assert result.returncode == 2 and "allow_insecure_jwks" in result.stderr, result.stderr


def test_attack_discovery_cannot_downgrade_to_remote_plain_http(veto_bin, tmp_path):
    discovery = JWKSServer()  # serves its document on every path, the discovery path included
    issuer = f"http://127.0.0.1:{discovery.port}"
    discovery.document = {"issuer": issuer, "jwks_uri": "http://0.0.0.0:1/jwks.json"}
    server = serve(veto_bin, tmp_path, f"issuers:\n  - issuer: {issuer}\n    discovery: true\n", "--data-dir", tmp_path / "data")
    try:
        wait_for(lambda: "jwks_uri" in server.logs() and "plain http" in server.logs(), what="the discovery refusal")
        assert request(server.port, "GET", "/readyz")[0] == 503
    finally:
        server.stop()
        discovery.stop()


def test_attack_a_non_string_client_id_owns_nothing(veto_bin, keyring, tmp_path):
    (tmp_path / "svc.secret").write_text("svc-secret-0123456789")
    config = "clients:\n  - id: svc\n    secret_file: svc.secret\n" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        for client_id in (["other"], 5, None):
            token = sign(keyring, azp="svc", client_id=client_id) if client_id is not None else \
                jwt.encode({"iss": ISS, "aud": AUD, "sub": "s", "iat": int(time.time()), "exp": int(time.time()) + 60,
                            "jti": os.urandom(4).hex(), "azp": "svc", "client_id": None}, keyring.private["RS256"], algorithm="RS256")
            status, _, body = request(server.port, "POST", "/oauth2/revoke", body=f"token={token}", headers=basic("svc", "svc-secret-0123456789"))
            assert status == 400 and json_body(body)["error"] == "unauthorized_client", (client_id, body)
    finally:
        server.stop()


def test_attack_kid_twins_in_a_jwks_are_two_keys(veto_bin, tmp_path):
    """A JWKS with kids "café" (NFC) and "café" (NFD) was refused whole as ambiguous."""
    first, second = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    jwks = JWKSServer()
    jwks.document = {"keys": [dict(json.loads(ECAlgorithm.to_jwk(first.public_key())), kid="caf\u00e9", alg="ES256"),
                              dict(json.loads(ECAlgorithm.to_jwk(second.public_key())), kid="cafe\u0301", alg="ES256")]}
    config = f"issuers:\n  - issuer: {ISS}\n    audiences: [{AUD}]\n    jwks_url: {jwks.url}\n"
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        wait_for(lambda: request(server.port, "GET", "/readyz")[0] == 200, what="keys loaded")
        now = int(time.time())
        claims = {"iss": ISS, "aud": AUD, "sub": "s", "iat": now, "exp": now + 60, "jti": "j"}
        assert check(server, jwt.encode(claims, first, algorithm="ES256", headers={"kid": "caf\u00e9"}))[0] == 200
        assert check(server, jwt.encode(claims, second, algorithm="ES256", headers={"kid": "cafe\u0301"}))[0] == 200
        assert check(server, jwt.encode(claims, second, algorithm="ES256", headers={"kid": "caf\u00e9"}))[0] == 401
    finally:
        server.stop()
        jwks.stop()


@pytest.mark.parametrize("damage", ["deleted", "emptied"])
def test_attack_a_deleted_or_emptied_journal_refuses_to_start(veto_bin, keyring, tmp_path, damage):
    """A data dir whose journal was deleted, or emptied, started with an empty blocklist without a
    word: every acknowledged revocation forgotten."""
    import subprocess
    data = tmp_path / "data"
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path), "--data-dir", data)
    assert request(server.port, "POST", "/v1/revoke", sign(keyring))[0] == 200
    server.stop()
    journal = data / "blocklist.journal"
    journal.unlink() if damage == "deleted" else journal.write_bytes(b"")
    result = subprocess.run([veto_bin, "serve", "--config", "veto.yaml", "--listen", "127.0.0.1:0", "--data-dir", str(data)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=20)
    assert result.returncode != 0 and "journal" in result.stderr, result.stderr
    assert ("missing" if damage == "deleted" else "empty") in result.stderr, result.stderr


# -- The second attack pass, on the fixes above ----------------------------------------------------

def test_attack_huge_published_rules_neither_crash_nor_shorten(veto_bin, keyring, tmp_path, admin):
    """HSET veto:rules leeway 1e300 made the next revocation trap converting the TTL to Int64, on every
    instance sharing the Redis. Out-of-bounds published rules are now ignored, and TTLs are clamped."""
    redis = Redis()
    server = serve(veto_bin, tmp_path, "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path), "--redis", redis.url)
    try:
        wait_for(lambda: redis.cli("hget", "veto:rules", "leeway") == "60", what="rules published")
        redis.cli("hset", "veto:rules", "leeway", "1e300", "max_token_lifetime", "1e300")
        exp = int(time.time()) + 100
        status, _, body = request(server.port, "POST", "/v1/admin/revocations", admin, body={"iss": ISS, "jti": "huge", "exp": exp})
        assert status == 200, body
        assert abs(int(redis.cli("pttl", f"veto:j:{len(ISS)}:{ISS}:huge")) - (exp + 60 - time.time()) * 1000) < 3000
        assert request(server.port, "POST", "/v1/revoke", sign(keyring))[0] == 200
        redis.cli("del", "veto:rules")
        redis.cli("set", "veto:rules", "garbage")
        status, _, body = request(server.port, "GET", "/readyz")
        assert status == 503 and b"blocklist writes fail" in body, body
    finally:
        server.stop()
        redis.stop()


@pytest.mark.parametrize("flag", [["--leeway", "inf"], ["--leeway", "100000"]])
def test_attack_absurd_leeway_is_refused(kveto, keyring, flag):
    result = kveto("serve", "--listen", "127.0.0.1:0", "--issuer", ISS, "--key", keyring.flag("RS256"), *flag, timeout=20)
    assert result.returncode == 2 and "leeway" in result.stderr, result.stderr


def test_attack_fail_open_never_allows_an_expired_token(veto_bin, keyring, tmp_path):
    """With fail_open, a check whose lookup timed out after exp + leeway was a degraded 200."""
    redis = Redis()
    config = "fail_open: true\nredis:\n  command_timeout: 3\n" + issuer_config(keyring, tmp_path, extra="    leeway: 0\n")
    server = serve(veto_bin, tmp_path, config, "--redis", redis.url)
    try:
        token = sign(keyring, exp=int(time.time()) + 2)
        assert check(server, token)[0] == 200
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            status, code, body = error_of(check(server, token, timeout=10))
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        assert (status, code) == (401, "token_expired"), body
    finally:
        server.stop()
        redis.stop()


def test_attack_non_canonical_loopback_octets_are_not_loopback(kveto):
    result = kveto("serve", "--listen", "127.0.0.1:0", "--issuer", ISS, "--jwks-url", "http://127.0.0.08/jwks.json", timeout=20)
    assert result.returncode == 2 and "allow_insecure_jwks" in result.stderr, result.stderr
