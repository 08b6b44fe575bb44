"""`veto serve --cache-hint N`: an allow says `Cache-Control: private, max-age=N` (capped by the token's
remaining lifetime and, with bounded consistency, by max_staleness), and a real nginx with
auth_request + proxy_cache (Docker/nginx/veto-cached.conf, the README's recipe) honours it: it asks Veto
once per N seconds per credential, and a revoked token passes for at most N + 1 s. Without the hint
nothing is cached."""
import subprocess
import time
from pathlib import Path

import pytest

from conftest import AUD, ISS
from services import EchoUpstream, Nginx, Redis, VetoServer, free_port, wait_for
from services import request as call

ROOT = Path(__file__).resolve().parents[2]
HINT = 2


def checks_allowed(veto):
    metrics = call(veto.port, "GET", "/metrics")[2].decode()
    line = next(line for line in metrics.splitlines() if line.startswith('veto_requests_total{route="check",outcome="allowed"}'))
    return float(line.split()[-1])


@pytest.fixture(scope="module", params=[HINT, 0], ids=["cache-hint-2", "no-hint"])
def gateway(request, veto_bin, keyring, tmp_path_factory):
    hint = request.param
    workdir = tmp_path_factory.mktemp("nginx-cache")
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url,
                                 "--cache-hint", str(hint)], cwd=workdir)
    upstream = EchoUpstream()
    port = free_port()
    site = (ROOT / "Docker/nginx/veto-cached.conf").read_text()
    for word, value in {"VETO_UPSTREAM": f"127.0.0.1:{veto.port}", "API_UPSTREAM": f"127.0.0.1:{upstream.port}",
                        "LISTEN_ADDRESS": f"127.0.0.1:{port}", "CACHE_DIRECTORY": str(workdir / "cache")}.items():
        assert word in site, f"Docker/nginx/veto-cached.conf no longer contains {word}; update this test"
        site = site.replace(word, value)
    nginx = Nginx(workdir, site)
    try:
        wait_for(lambda: call(port, "GET", "/")[0] == 401, what="nginx")
        yield {"port": port, "veto": veto, "hint": hint}
    finally:
        nginx.stop()
        upstream.stop()
        veto.stop()
        redis.stop()


def test_the_hint_is_capped_by_the_token_lifetime_and_refusals_are_never_cacheable(gateway, keyring):
    hint = gateway["hint"]
    _, headers, _ = call(gateway["veto"].port, "GET", "/v1/check", keyring.token("RS256"))
    expected = f"private, max-age={hint}" if hint else "no-store"
    assert headers["cache-control"] == expected
    assert headers.get("x-accel-expires") == (str(hint) if hint else None)
    short = keyring.token("RS256", exp=int(time.time()) + 1)  # less than a whole second left, or one
    assert call(gateway["veto"].port, "GET", "/v1/check", short)[1]["cache-control"] in ("no-store", "private, max-age=1")
    _, headers, _ = call(gateway["veto"].port, "GET", "/v1/check", keyring.token("RS256", aud="nope"))
    assert headers["cache-control"] == "no-store"


def test_nginx_asks_veto_once_per_hint_per_credential(gateway, keyring):
    token = keyring.token("RS256", sub="cached_user")
    before = checks_allowed(gateway["veto"])
    for _ in range(5):
        assert call(gateway["port"], "GET", "/", token)[0] == 200
    asked = checks_allowed(gateway["veto"]) - before
    assert asked == (1 if gateway["hint"] else 5), asked


def test_a_revoked_token_passes_for_at_most_the_hint_plus_one_second(gateway, keyring):
    token = keyring.token("RS256")
    assert call(gateway["port"], "GET", "/", token)[0] == 200
    assert call(gateway["veto"].port, "POST", "/v1/revoke", token)[0] == 200
    revoked = time.monotonic()
    last_pass = None
    while time.monotonic() - revoked < gateway["hint"] + 3:
        sent = time.monotonic() - revoked  # when the request left: nginx judged it after that
        status, headers, _ = call(gateway["port"], "GET", "/", token)
        if status == 200:
            last_pass = sent
        else:
            assert status == 401 and headers["x-veto-error"] == "token_revoked"
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the revoked token still passed {gateway['hint'] + 3} s after its revocation")
    longest = last_pass or 0.0
    print(f"cache hint {gateway['hint']} s: the revoked token passed for {longest:.2f} s")
    assert longest <= gateway["hint"] + 1
    if gateway["hint"] == 0:
        assert last_pass is None, "without a hint nothing is cached: the first request after the revocation is refused"


def test_bounded_consistency_caps_the_hint_at_max_staleness(veto_bin, keyring, tmp_path):
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    redis = Redis()
    veto = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", redis.url,
                                 "--consistency", "bounded", "--max-staleness", "1", "--cache-hint", "30"], cwd=tmp_path)
    try:
        token = keyring.token("RS256")
        wait_for(lambda: call(veto.port, "GET", "/v1/check", token)[0] == 200, what="the replica")
        assert call(veto.port, "GET", "/v1/check", token)[1]["cache-control"] == "private, max-age=1"
    finally:
        veto.stop()
        redis.stop()


def test_a_bad_cache_hint_names_the_flag(veto_bin, keyring):
    p = subprocess.run([veto_bin, "serve", "--issuer", ISS, "--key", "ES256:es256.pem", "--cache-hint", "7200"], cwd=keyring.dir,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and "--cache-hint" in p.stderr, p.stderr
