"""Remote keys through `veto serve`: a JWKS served by a local HTTP server, rotated, flooded,
taken down and trimmed, while tokens are checked over real HTTP."""
import json
import os
import time

import jwt
import pytest
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from conftest import AUD, ISS
from services import JWKSServer, VetoServer, json_body, request, wait_for


def jwk(keyring, alg, kid):
    algorithm = RSAAlgorithm if alg.startswith("RS") else ECAlgorithm
    return dict(json.loads(algorithm.to_jwk(keyring.private[alg].public_key())), kid=kid, alg=alg, use="sig")


def token(keyring, alg, kid, **claims):
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "sub": "u", "iat": now, "exp": now + 600, "jti": os.urandom(6).hex()}
    body.update(claims)
    return jwt.encode(body, keyring.private[alg], algorithm=alg, headers={"kid": kid})


@pytest.fixture
def remote(veto_bin, keyring, tmp_path):
    jwks = JWKSServer()
    jwks.document = {"keys": [jwk(keyring, "RS256", "k1")]}
    (tmp_path / "veto.yaml").write_text(f"""
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    jwks_url: {jwks.url}
    jwks_refresh_interval: 1
    jwks_refetch_interval: 30
    jwks_timeout: 2
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data"], cwd=tmp_path)
    try:
        yield jwks, server
    finally:
        server.stop()
        jwks.stop()


def check(server, tok):
    return request(server.port, "GET", "/v1/check", tok)


def test_rotation_is_picked_up_on_the_first_token(remote, keyring):
    jwks, server = remote
    assert check(server, token(keyring, "RS256", "k1"))[0] == 200
    jwks.document = {"keys": [jwk(keyring, "RS256", "k1"), jwk(keyring, "ES256", "k2")]}
    status, _, body = check(server, token(keyring, "ES256", "k2"))
    assert status == 200, body


def test_a_flood_of_random_kids_fetches_at_most_once_per_window(remote, keyring):
    jwks, server = remote
    time.sleep(1.2)  # let the background refresh settle, then count only what the flood causes
    before = jwks.requests
    for _ in range(60):
        status, _, body = check(server, token(keyring, "RS256", os.urandom(8).hex()))
        assert status == 401 and json_body(body)["error"] == "unknown_key_id"
    caused = jwks.requests - before
    # Background refreshes continue once a second; the flood itself adds at most one fetch.
    elapsed_refreshes = 3
    assert caused <= 1 + elapsed_refreshes, caused


def test_provider_down_keeps_the_cached_keys(remote, keyring):
    jwks, server = remote
    assert check(server, token(keyring, "RS256", "k1"))[0] == 200
    jwks.status = 503
    time.sleep(1.5)
    assert check(server, token(keyring, "RS256", "k1"))[0] == 200
    jwks.stop()
    time.sleep(1.5)
    assert check(server, token(keyring, "RS256", "k1"))[0] == 200
    assert request(server.port, "GET", "/readyz")[0] == 200


def test_a_removed_key_stops_verifying(remote, keyring):
    jwks, server = remote
    k1 = token(keyring, "RS256", "k1")
    assert check(server, k1)[0] == 200
    jwks.document = {"keys": [jwk(keyring, "ES256", "k2")]}
    wait_for(lambda: check(server, k1)[0] == 401, timeout=10, what="k1 to be dropped after a refresh")
    assert json_body(check(server, k1)[2])["error"] == "unknown_key_id"
    assert check(server, token(keyring, "ES256", "k2"))[0] == 200


def test_keys_are_never_fetched_from_the_token(remote, keyring):
    jwks, server = remote
    attacker = JWKSServer()
    try:
        attacker.document = {"keys": [jwk(keyring, "ES256", "evil")]}
        forged = token(keyring, "ES256", "evil")
        header = jwt.get_unverified_header(forged)
        forged = jwt.encode(jwt.decode(forged, options={"verify_signature": False}), keyring.private["ES256"], algorithm="ES256",
                            headers={"kid": "evil", "jku": attacker.url, "x5u": attacker.url})
        assert check(server, forged)[0] == 401
        assert attacker.requests == 0
    finally:
        attacker.stop()
