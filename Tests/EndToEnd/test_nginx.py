"""A real nginx (from apt) with auth_request to Veto's /v1/check, in front of a small upstream.
The nginx configuration is Docker/nginx/veto.conf, the one the README shows."""
import json
from pathlib import Path

import pytest

from conftest import AUD, ISS
from services import EchoUpstream, Nginx, Redis, VetoServer, free_port, request, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gateway(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("nginx")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url], cwd=workdir)
    upstream = EchoUpstream()
    port = free_port()
    site = (ROOT / "Docker/nginx/veto.conf").read_text()
    site = site.replace("VETO_UPSTREAM", f"127.0.0.1:{veto.port}").replace("API_UPSTREAM", f"127.0.0.1:{upstream.port}")
    site = site.replace("LISTEN_ADDRESS", f"127.0.0.1:{port}")
    nginx = Nginx(workdir, site)
    try:
        wait_for(lambda: request(port, "GET", "/")[0] == 401, what="nginx")
        yield {"port": port, "veto": veto, "workdir": workdir, "redis": redis}
    finally:
        nginx.stop()
        upstream.stop()
        veto.stop()
        redis.stop()


def test_allow_passes_identity_headers_upstream(gateway, keyring):
    token = keyring.token("RS256", sub="user_482")
    status, _, body = request(gateway["port"], "GET", "/orders/7", token, headers={"X-Auth-Subject": "spoofed"})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["x-auth-subject"] == "user_482", "the client's spoofed header must be replaced"
    assert seen["x-auth-issuer"] == ISS
    assert seen["x-auth-jti"] and seen["x-auth-expires"]


def test_deny_returns_401_with_the_challenge(gateway, keyring):
    status, headers, _ = request(gateway["port"], "GET", "/orders/7", keyring.token("RS256", aud="https://api-staging.example.com"))
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"] and "api-staging" in headers["www-authenticate"]
    assert headers["x-veto-error"] == "audience_mismatch"
    status, headers, _ = request(gateway["port"], "GET", "/orders/7")
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")


def test_revoked_tokens_are_refused(gateway, keyring):
    token = keyring.token("RS256")
    assert request(gateway["port"], "GET", "/", token)[0] == 200
    assert request(gateway["veto"].port, "POST", "/v1/revoke", token)[0] == 200
    status, headers, _ = request(gateway["port"], "GET", "/", token)
    assert status == 401 and headers["x-veto-error"] == "token_revoked"


def test_veto_down_is_a_5xx_never_an_allow(gateway, keyring):
    token = keyring.token("RS256")
    assert request(gateway["port"], "GET", "/", token)[0] == 200
    gateway["veto"].stop()
    for _ in range(5):
        status = request(gateway["port"], "GET", "/", token)[0]
        assert 500 <= status < 600, status
