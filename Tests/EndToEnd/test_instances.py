"""Veto as N stateless instances behind one nginx upstream (Docker/nginx/veto-instances.conf): three
`veto serve` processes share one redis-server; a revoke through any instance is refused by a check
through any other on its very next check."""
import re
from pathlib import Path

import pytest

from conftest import AUD, ISS
from services import Nginx, Redis, VetoServer, free_port, request, wait_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fleet(veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("instances")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    instances = []
    nginx = None
    try:
        for _ in range(3):
            instances.append(VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url,
                                                   "--threads", "1"], cwd=workdir))
        port = free_port()
        site = (ROOT / "Docker/nginx/veto-instances.conf").read_text().replace("LISTEN_ADDRESS", f"127.0.0.1:{port}")
        for index, instance in enumerate(instances, start=1):
            site = site.replace(f"VETO_{index}", f"127.0.0.1:{instance.port}")
        nginx = Nginx(workdir, site)
        wait_for(lambda: request(port, "GET", "/v1/check")[0] == 401, what="nginx in front of the instances")
        yield {"port": port, "instances": instances}
    finally:
        if nginx:
            nginx.stop()
        for instance in instances:
            instance.stop()
        redis.stop()


def checks_served(instance):
    """Checks this instance answered, from its own /metrics."""
    text = request(instance.port, "GET", "/metrics")[2].decode()
    return sum(float(value) for value in re.findall(r'^veto_requests_total\{[^}]*route="check"[^}]*\} (\S+)$', text, re.M))


@pytest.mark.parametrize("revoker", [0, 1, 2])
def test_revoke_through_one_is_seen_by_the_others(fleet, keyring, revoker):
    instances = fleet["instances"]
    token = keyring.token("RS256")
    for instance in instances:
        assert request(instance.port, "GET", "/v1/check", token)[0] == 200
    assert request(instances[revoker].port, "POST", "/v1/revoke", token)[0] == 200
    for index, instance in enumerate(instances):
        status, headers, _ = request(instance.port, "GET", "/v1/check", token)
        assert status == 401 and headers["x-veto-error"] == "token_revoked", f"instance {index} after a revoke on {revoker}"


def test_through_the_load_balancer(fleet, keyring):
    port, instances = fleet["port"], fleet["instances"]
    before = [checks_served(instance) for instance in instances]
    token = keyring.token("RS256")
    for _ in range(6):
        assert request(port, "GET", "/v1/check", token)[0] == 200
    # Logout through the balancer lands on some instance; every next check, wherever it lands, refuses.
    assert request(port, "POST", "/v1/revoke", token)[0] == 200
    for _ in range(9):
        status, headers, _ = request(port, "GET", "/v1/check", token)
        assert status == 401 and headers["x-veto-error"] == "token_revoked"
    after = [checks_served(instance) for instance in instances]
    assert all(a > b for a, b in zip(after, before)), f"round-robin should reach every instance: {before} -> {after}"
