"""Regression tests for the adversarial audit of 0c7f891 (issue 12), findings 11 to 15; findings 2
to 10 and the helpers are in test_security_findings.py, whose docstring says how they run."""
import datetime
import socket
import time

import pytest

from conftest import ISS
from services import json_body, request, wait_for
from test_security_findings import admin, check, error_of, issuer_config, serve, sign  # noqa: F401 (fixture)


# -- Finding 11: an empty jti --------------------------------------------------------------------------

def test_finding_11_an_empty_jti_is_malformed_not_unrevocable(veto_bin, keyring, tmp_path):
    """0c7f891: "jti": "" passed the check, and logout answered 503 store_unavailable."""
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path), "--data-dir", tmp_path / "data")
    try:
        token = sign(keyring, jti="")
        assert error_of(check(server, token))[:2] == (401, "malformed_claim")
        assert error_of(request(server.port, "POST", "/v1/revoke", token))[:2] == (401, "malformed_claim")
    finally:
        server.stop()


# -- Finding 12: a token minted in the cut-off's own second --------------------------------------------

def test_finding_12_the_cutoff_second_is_refused_the_next_second_accepted(veto_bin, keyring, tmp_path, admin):
    """The rule (README, Revocation): a cut-off refuses iat <= cut-off. A whole-second iat in the
    cut-off's own second cannot prove it came after, so it is refused; the answer names the second from
    which replacement tokens are accepted (reissue_at)."""
    config = "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        status, _, body = request(server.port, "POST", "/v1/admin/subjects", admin, body={"iss": ISS, "sub": "carol"})
        assert status == 200, body
        reply = json_body(body)
        cutoff = reply["cutoff_unix"]
        second = int(cutoff)
        same_second = sign(keyring, sub="carol", iat=second)
        assert error_of(check(server, same_second))[:2] == (401, "subject_revoked")
        reissue = datetime.datetime.fromisoformat(reply["reissue_at"].replace("Z", "+00:00"))
        assert reissue.timestamp() == second + 1
        while time.time() < second + 1:
            time.sleep(0.05)
        assert check(server, sign(keyring, sub="carol", iat=second + 1))[0] == 200
    finally:
        server.stop()


# -- Finding 14: claim headers shadowing Veto's own ----------------------------------------------------

@pytest.mark.parametrize("mapping", ["X-Auth-Subject=email", "x-auth-jti=email", "X-Veto-Error=email", "X-Veto-Anything=email"])
def test_finding_14_a_claim_header_cannot_shadow_vetos_own(kveto, keyring, mapping):
    """0c7f891 started with --claim-header X-Auth-Subject=email and sent two X-Auth-Subject headers."""
    result = kveto("serve", "--listen", "127.0.0.1:0", "--issuer", ISS, "--key", keyring.flag("RS256"),
                   "--claim-header", mapping, timeout=20)
    assert result.returncode == 2, result.stderr
    assert "reserved" in result.stderr


# -- Finding 15: smaller items -------------------------------------------------------------------------

def test_finding_15_plain_http_jwks_needs_an_explicit_switch(kveto):
    """0c7f891 accepted a plain-http jwks_url on any host silently."""
    result = kveto("serve", "--listen", "127.0.0.1:0", "--issuer", ISS, "--jwks-url", "http://idp.example.com/jwks.json", timeout=20)
    assert result.returncode == 2 and "allow_insecure_jwks" in result.stderr, result.stderr


def test_finding_15_connections_beyond_max_connections_are_closed(veto_bin, keyring, tmp_path):
    """0c7f891 had no cap on open connections."""
    config = "limits:\n  max_connections: 8\n" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    held = []
    try:
        # serve() asked /healthz on a connection of its own: until the server has seen it close, it holds
        # a slot, and the eighth connection below would be refused in its place (then the ninth admitted).
        time.sleep(0.3)
        for _ in range(8):
            connection = socket.create_connection(("127.0.0.1", server.port))
            held.append(connection)
        time.sleep(0.3)
        extra = socket.create_connection(("127.0.0.1", server.port))
        extra.settimeout(5)
        try:
            extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = extra.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            answer = b""
        assert answer == b"", "the ninth connection was served"
        extra.close()
        # The eight admitted connections are served.
        for connection in held:
            connection.settimeout(5)
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.recv(100).startswith(b"HTTP/1.1 200"), "one of the first eight connections was not served"
        for connection in held:
            connection.close()
        wait_for(lambda: request(server.port, "GET", "/healthz")[0] == 200, what="a slot freed")
        # At least the ninth; a probe above may also have come before the server saw the closes.
        metrics = request(server.port, "GET", "/metrics")[2].decode()
        refused = [line for line in metrics.splitlines() if line.startswith("veto_connections_refused_total ")]
        assert refused and int(refused[0].split()[1]) >= 1, metrics[:400]
    finally:
        for connection in held:
            connection.close()
        server.stop()


def test_finding_15_cli_entries_on_redis_live_as_long_as_the_services_rules(veto_bin, keyring, tmp_path, veto):
    """0c7f891: `veto blocklist add` sized entries with its own --leeway (60), so under a service with
    leeway 300 a CLI revocation expired 4 minutes before the token stopped being accepted."""
    from services import Redis
    redis = Redis()
    config = issuer_config(keyring, tmp_path, extra="    leeway: 300\n")
    server = serve(veto_bin, tmp_path, config, "--redis", redis.url)
    try:
        try:
            wait_for(lambda: redis.cli("hget", "veto:rules", "leeway") == "300", timeout=5, what="rules published")
        except AssertionError:
            pass  # the PTTL below says what the CLI wrote
        exp = int(time.time()) + 600
        result = veto("blocklist", "add", "--redis", redis.url, "--iss", ISS, "--jti", "cli-1", "--exp", exp)
        assert result.returncode == 0, result.stderr
        pttl = int(redis.cli("pttl", f"veto:j:{len(ISS)}:{ISS}:cli-1"))
        assert abs(pttl - (exp + 300 - time.time()) * 1000) < 3000, pttl
    finally:
        server.stop()
        redis.stop()


def test_finding_15_embedded_entries_written_by_the_cli_are_stretched_to_the_services_rules(veto_bin, keyring, tmp_path, veto, admin):
    data = tmp_path / "data"
    exp = int(time.time()) + 600
    result = veto("blocklist", "add", "--data-dir", data, "--iss", ISS, "--jti", "cli-2", "--exp", exp)
    assert result.returncode == 0, result.stderr
    config = "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path, extra="    leeway: 300\n")
    server = serve(veto_bin, tmp_path, config, "--data-dir", data)
    try:
        status, _, body = request(server.port, "GET", f"/v1/admin/revocations?iss={ISS}&jti=cli-2", admin)
        assert status == 200 and json_body(body)["expires_at_unix"] == exp + 300, body
    finally:
        server.stop()
