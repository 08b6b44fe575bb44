"""TLS to Redis (rediss://) with certificates made by the test with the openssl CLI: the right CA
works for `veto serve` and `veto blocklist`, a wrong CA, a wrong name or an expired certificate fails
with a sentence saying which, and mutual TLS works with --redis-cert/--redis-key or config keys."""
import time

import pytest

from conftest import AUD, ISS
from services import VetoServer, json_body, request
from topologies import Certificates, TLSRedis


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    certs = Certificates(tmp_path_factory.mktemp("pki"))
    return {
        "ca": certs.ca("veto-test-ca"),
        "other_ca": certs.ca("other-ca"),
        "server": certs.issue("veto-test-ca", "redis-server", "DNS:localhost,IP:127.0.0.1"),
        "client": certs.issue("veto-test-ca", "veto-client", "DNS:veto-client", client=True),
        "dns_only": certs.issue("veto-test-ca", "redis-dns-only", "DNS:redis.internal.example"),
        "expired": certs.issue_expired("veto-test-ca", "redis-expired", "DNS:localhost,IP:127.0.0.1"),
    }


@pytest.fixture(scope="module")
def tls_redis(pki):
    redis = TLSRedis(*pki["server"], pki["ca"])
    yield redis
    redis.stop()


@pytest.fixture(scope="module")
def mtls_redis(pki):
    redis = TLSRedis(*pki["server"], pki["ca"], auth_clients=True)
    yield redis
    redis.stop()


def add(veto, url, jti, *flags):
    return veto("blocklist", "add", "--redis", url, "--iss", ISS, "--jti", jti, "--exp", str(int(time.time()) + 3600),
                "--reason", "tls test", *flags)


def serve(veto_bin, keyring, *args):
    return VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.flag("RS256"), *args], cwd=keyring.dir)


def test_right_ca_works_for_blocklist_and_serve(tls_redis, pki, veto, veto_bin, keyring):
    url = f"rediss://127.0.0.1:{tls_redis.port}/0"
    result = add(veto, url, "tls-cli-1", "--redis-ca", pki["ca"])
    assert result.returncode == 0, result.stderr
    # A DNS name in the URL is checked against the certificate's DNS names.
    listed = veto("blocklist", "ls", "--redis", f"rediss://localhost:{tls_redis.port}/0", "--redis-ca", pki["ca"], "--json")
    assert listed.returncode == 0, listed.stderr
    assert "tls-cli-1" in [entry["jti"] for entry in json_body(listed.stdout)["entries"]]
    assert tls_redis.cli("EXISTS", f"veto:j:{len(ISS)}:{ISS}:tls-cli-1") == "1"

    server = serve(veto_bin, keyring, "--redis", url, "--redis-ca", str(pki["ca"]))
    try:
        assert request(server.port, "GET", "/readyz")[0] == 200
        token = keyring.token("RS256")
        assert request(server.port, "GET", "/v1/check", token)[0] == 200
        assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
        status, headers, _ = request(server.port, "GET", "/v1/check", token)
        assert status == 401 and headers["x-veto-error"] == "token_revoked"
    finally:
        server.stop()


def test_wrong_ca_fails_with_unknown_ca(tls_redis, pki, veto, veto_bin, keyring):
    url = f"rediss://127.0.0.1:{tls_redis.port}/0"
    result = veto("blocklist", "ls", "--redis", url, "--redis-ca", pki["other_ca"])
    assert result.returncode == 3, result.stdout + result.stderr
    assert "unknown CA" in result.stderr and "other-ca.pem" in result.stderr, result.stderr
    # The system's CAs do not know the test CA either.
    result = veto("blocklist", "ls", "--redis", url)
    assert result.returncode == 3 and "unknown CA" in result.stderr, result.stderr

    server = serve(veto_bin, keyring, "--redis", url, "--redis-ca", str(pki["other_ca"]))
    try:
        status, _, body = request(server.port, "GET", "/readyz")
        # Anyone may learn that the store is unavailable, not where it is or why (SECURITY.md); the log says.
        assert status == 503 and b"blocklist store unavailable" in body and b"127.0.0.1" not in body, body
        assert request(server.port, "GET", "/v1/check", keyring.token("RS256"))[0] == 503, "fail closed"
        assert "unknown CA" in server.logs()
    finally:
        server.stop()


def test_wrong_name_fails_with_name_mismatch(pki, veto):
    # A certificate that names only redis.internal.example (no IP address), served on 127.0.0.1.
    redis = TLSRedis(*pki["dns_only"], pki["ca"])
    try:
        url = f"rediss://127.0.0.1:{redis.port}/0"
        for name, expected in ((None, "127.0.0.1"), ("redis.wrong.example", "redis.wrong.example")):
            flags = ["--redis-tls-server-name", name] if name else []
            result = veto("blocklist", "ls", "--redis", url, "--redis-ca", pki["ca"], *flags)
            assert result.returncode == 3, result.stdout + result.stderr
            assert "name mismatch" in result.stderr and f"'{expected}'" in result.stderr, result.stderr
        # The name the certificate carries passes.
        result = veto("blocklist", "ls", "--redis", url, "--redis-ca", pki["ca"], "--redis-tls-server-name", "redis.internal.example")
        assert result.returncode == 0, result.stderr
    finally:
        redis.stop()


def test_expired_certificate_is_named(pki, veto):
    redis = TLSRedis(*pki["expired"], pki["ca"])
    try:
        result = veto("blocklist", "ls", "--redis", f"rediss://127.0.0.1:{redis.port}/0", "--redis-ca", pki["ca"])
        assert result.returncode == 3, result.stdout + result.stderr
        assert "certificate expired" in result.stderr, result.stderr
    finally:
        redis.stop()


def test_mutual_tls(mtls_redis, pki, veto, veto_bin, keyring, tmp_path):
    url = f"rediss://127.0.0.1:{mtls_redis.port}/0"
    refused = veto("blocklist", "ls", "--redis", url, "--redis-ca", pki["ca"])
    assert refused.returncode == 3 and "TLS" in refused.stderr, refused.stderr
    certificate, key = pki["client"]
    result = add(veto, url, "mtls-cli-1", "--redis-ca", pki["ca"], "--redis-cert", certificate, "--redis-key", key)
    assert result.returncode == 0, result.stderr
    assert mtls_redis.cli("EXISTS", f"veto:j:{len(ISS)}:{ISS}:mtls-cli-1", cert=certificate, key=key) == "1"

    # The same through the config file's redis: keys.
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    (tmp_path / "veto.yaml").write_text(f"""
redis:
  url: {url}
  ca_file: {pki['ca']}
  cert_file: {certificate}
  key_file: {key}
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [RS256:rsa.pem]
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml"], cwd=tmp_path)
    try:
        assert request(server.port, "GET", "/readyz")[0] == 200
        token = keyring.token("RS256")
        assert request(server.port, "POST", "/v1/revoke", token)[0] == 200
        assert request(server.port, "GET", "/v1/check", token)[0] == 401
    finally:
        server.stop()


def test_tls_settings_need_a_tls_url(veto, pki):
    result = veto("blocklist", "ls", "--redis", "redis://127.0.0.1:6390/0", "--redis-ca", pki["ca"])
    assert result.returncode == 2 and "rediss://" in result.stderr, result.stderr
    result = veto("blocklist", "ls", "--redis", "rediss://127.0.0.1:6390/0", "--redis-cert", pki["client"][0])
    assert result.returncode == 2 and "--redis-key" in result.stderr, result.stderr
