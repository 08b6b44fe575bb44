"""The verification cache through `veto serve`: a cached token is still looked up in the blocklist on
every check, never outlives exp + leeway, and `--verify-cache-size 0` / `verify_cache_size` turn it off."""
import os
import re
import subprocess
import time

import pytest

from conftest import AUD, ISS
from services import VetoServer, json_body, request


def cache_counts(server):
    text = request(server.port, "GET", "/metrics")[2].decode()
    counts = {}
    for result in ("hit", "miss"):
        match = re.search(r'veto_verify_cache_total\{result="%s"\} (\d+)' % result, text)
        counts[result] = int(match.group(1)) if match else 0
    return counts


@pytest.fixture
def serve(veto_bin, keyring, tmp_path):
    started = []
    admin = os.urandom(16).hex()
    (tmp_path / "admin.token").write_text(admin)
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())

    def start(*extra):
        # One event loop: caches are per loop, and each request here comes on a new connection.
        server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.files["ES256"],
                                       "--data-dir", f"data{len(started)}", "--admin-token-file", "admin.token", "--threads", "1", *extra],
                            cwd=tmp_path)
        server.admin = admin
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def check(server, token):
    return request(server.port, "GET", "/v1/check", token)


def test_a_cached_token_is_still_checked_against_the_blocklist(serve, keyring):
    server = serve()
    token = keyring.token("ES256")
    before = cache_counts(server)
    assert check(server, token)[0] == 200
    assert check(server, token)[0] == 200
    after = cache_counts(server)
    assert after["miss"] - before["miss"] >= 1 and after["hit"] - before["hit"] >= 1, (before, after)
    assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
    status, headers, body = check(server, token)
    assert status == 401 and json_body(body)["error"] == "token_revoked", body
    assert cache_counts(server)["hit"] > after["hit"], "the refusal came from a cache hit plus the blocklist"


def test_a_subject_cutoff_applies_to_cached_tokens(serve, keyring):
    server = serve()
    token = keyring.token("ES256", sub="cached_user", iat=int(time.time()) - 5)
    assert check(server, token)[0] == 200
    status, _, body = request(server.port, "POST", "/v1/admin/subjects", server.admin,
                              body={"iss": ISS, "sub": "cached_user", "reason": "password reset"})
    assert status == 200, body
    status, _, body = check(server, token)
    assert status == 401 and json_body(body)["error"] == "subject_revoked", body


def test_a_cached_token_expires_at_exp_plus_leeway(serve, keyring):
    server = serve("--leeway", "0")
    exp = int(time.time()) + 2
    token = keyring.token("ES256", exp=exp)
    assert check(server, token)[0] == 200
    assert check(server, token)[0] == 200
    time.sleep(max(0.0, exp - time.time()) + 0.2)
    status, _, body = check(server, token)
    assert status == 401 and json_body(body)["error"] == "token_expired", body


def test_size_zero_turns_the_cache_off(serve, keyring):
    server = serve("--verify-cache-size", "0")
    token = keyring.token("ES256")
    for _ in range(3):
        assert check(server, token)[0] == 200
    assert cache_counts(server) == {"hit": 0, "miss": 0}


def test_the_config_file_sets_the_size(veto_bin, keyring, tmp_path):
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    (tmp_path / "veto.yaml").write_text(f"""
verify_cache_size: 0
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [{keyring.files['ES256']}]
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data"], cwd=tmp_path)
    try:
        token = keyring.token("ES256")
        assert check(server, token)[0] == 200 and check(server, token)[0] == 200
        assert cache_counts(server) == {"hit": 0, "miss": 0}
    finally:
        server.stop()
    # The flag overrides the file.
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data", "--threads", "1", "--verify-cache-size", "10"],
                        cwd=tmp_path)
    try:
        assert check(server, token)[0] == 200 and check(server, token)[0] == 200
        assert cache_counts(server) == {"hit": 1, "miss": 1}
    finally:
        server.stop()


@pytest.mark.parametrize("setting, field", [
    (["--verify-cache-size=-1"], "--verify-cache-size"),
    (["--verify-cache-size", "20000000"], "--verify-cache-size"),
    ("verify_cache_size: -5", "verify_cache_size"),
    ("verify_cache_size: many", "verify_cache_size"),
    ("verify_cache_size: 1.5", "verify_cache_size"),
    ("verify_cache_size: true", "verify_cache_size"),
])
def test_bad_sizes_name_the_field(veto_bin, keyring, tmp_path, setting, field):
    (tmp_path / keyring.files["ES256"]).write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    args = ["--issuer", ISS, "--key", keyring.files["ES256"]]
    if isinstance(setting, str):
        (tmp_path / "veto.yaml").write_text(setting + "\n")
        args += ["--config", "veto.yaml"]
    else:
        args += setting
    p = subprocess.run([veto_bin, "serve", *args], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, (p.stdout, p.stderr)
    assert field in p.stderr, p.stderr
