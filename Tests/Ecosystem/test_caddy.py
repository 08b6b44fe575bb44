"""A real Caddy (apt's `caddy`) with forward_auth to Veto's /v1/check, in front of a small upstream.
The configuration is Docker/caddy/Caddyfile, the one the README shows; only its three addresses
are replaced, and a global block turns off Caddy's admin endpoint and automatic HTTPS."""
import json
import os
import shutil
import subprocess

import pytest

from conftest import AUD, ISS, ROOT
from services import EchoUpstream, Redis, VetoServer, free_port, request, wait_for


def caddy_binary():
    path = shutil.which("caddy")
    if not path:
        pytest.fail("caddy is not installed: Scripts/bootstrap installs it from apt")
    return path


@pytest.fixture(scope="module")
def gateway(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("caddy")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url], cwd=workdir)
    upstream = EchoUpstream()
    port = free_port()
    recipe = (ROOT / "Docker/caddy/Caddyfile").read_text()
    for original in ("127.0.0.1:8080", "127.0.0.1:9000", ":8000 {"):
        assert original in recipe, f"the Caddyfile no longer contains {original!r}; update this test"
    site = (recipe.replace("127.0.0.1:8080", f"127.0.0.1:{veto.port}")
            .replace("127.0.0.1:9000", f"127.0.0.1:{upstream.port}")
            .replace(":8000 {", f"http://127.0.0.1:{port} {{"))
    config = workdir / "Caddyfile"
    config.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + site)
    env = dict(os.environ, HOME=str(workdir), XDG_DATA_HOME=str(workdir / "data"), XDG_CONFIG_HOME=str(workdir / "config"))
    log = (workdir / "caddy.log").open("w")
    caddy = subprocess.Popen([caddy_binary(), "run", "--config", str(config), "--adapter", "caddyfile"],
                             stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        wait_for(lambda: caddy.poll() is None and request(port, "GET", "/")[0] == 401, what="caddy")
        yield {"port": port, "veto": veto, "upstream": upstream, "workdir": workdir}
    finally:
        caddy.terminate()
        try:
            caddy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            caddy.kill()
        upstream.stop()
        veto.stop()
        redis.stop()


def test_allow_copies_identity_headers_and_replaces_forged_ones(gateway, keyring):
    token = keyring.token("RS256", sub="user_482")
    status, _, body = request(gateway["port"], "GET", "/orders/7", token, headers={"X-Auth-Subject": "admin", "X-Auth-Jti": "forged"})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["x-auth-subject"] == "user_482"
    assert seen["x-auth-issuer"] == ISS
    assert seen["x-auth-jti"] != "forged" and len(seen["x-auth-jti"]) == 16
    assert int(seen["x-auth-expires"]) > 0
    assert seen["authorization"] == f"Bearer {token}", "the API still gets the token itself"


def test_a_token_without_sub_never_passes_a_forged_subject(gateway, keyring):
    token = keyring.token("RS256", sub=None)
    status, _, body = request(gateway["port"], "GET", "/", token, headers={"X-Auth-Subject": "admin"})
    assert status == 200, body
    subject = json.loads(body).get("x-auth-subject", "")
    assert subject == "", f"the API must not see a subject Veto did not vouch for, got {subject!r}"


def test_deny_returns_veto_401_with_the_challenge(gateway, keyring):
    before = gateway["upstream"].requests
    status, headers, body = request(gateway["port"], "GET", "/orders/7", keyring.token("RS256", aud="https://api-staging.example.com"))
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"] and "api-staging" in headers["www-authenticate"]
    assert headers["x-veto-error"] == "audience_mismatch"
    assert json.loads(body)["error"] == "audience_mismatch"
    status, headers, _ = request(gateway["port"], "GET", "/orders/7")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="veto"'
    assert gateway["upstream"].requests == before, "a denied request must not reach the API"


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
    before = gateway["upstream"].requests
    for _ in range(3):
        status = request(gateway["port"], "GET", "/", token)[0]
        assert 500 <= status < 600, status
    assert gateway["upstream"].requests == before
