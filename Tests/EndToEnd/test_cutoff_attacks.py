"""Cut-offs attacked through `veto serve` over real HTTP, with a JWKS of two keys (k1 leaked, k2 good):
a cut-off of a key must hold whatever kid the token's header claims, and rules of several kinds must
never excuse one another."""
import json
import os
import time

import jwt
import pytest
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from conftest import AUD, ISS
from services import JWKSServer, VetoServer, json_body, request

ADMIN = "cutoff-attacks-admin-token-0123456789"


def jwk(keyring, alg, kid):
    algorithm = RSAAlgorithm if alg.startswith("RS") else ECAlgorithm
    return dict(json.loads(algorithm.to_jwk(keyring.private[alg].public_key())), kid=kid, alg=alg, use="sig")


def token(keyring, alg, headers=None, iat=None, **claims):
    now = int(time.time()) if iat is None else iat
    body = {"iss": ISS, "aud": AUD, "sub": "mallory", "iat": now, "exp": now + 600, "jti": os.urandom(6).hex()}
    body.update(claims)
    return jwt.encode(body, keyring.private[alg], algorithm=alg, headers=headers or {})


@pytest.fixture(scope="module")
def stack(veto_bin, keyring, tmp_path_factory):
    directory = tmp_path_factory.mktemp("cutoff-attacks")
    jwks = JWKSServer()
    jwks.document = {"keys": [jwk(keyring, "RS256", "k1"), jwk(keyring, "ES256", "k2")]}
    (directory / "admin.token").write_text(ADMIN + "\n")
    (directory / "veto.yaml").write_text(f"""
admin_token_file: admin.token
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    jwks_url: {jwks.url}
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data"], cwd=directory)
    try:
        yield server
    finally:
        server.stop()
        jwks.stop()


def admin(server, method, path, body=None):
    return request(server.port, method, path, body=body, headers={"Authorization": f"Bearer {ADMIN}"})


def check(server, tok):
    status, headers, _ = request(server.port, "GET", "/v1/check", tok)
    return status, headers.get("x-veto-error", "")


def test_a_key_cutoff_holds_whatever_kid_the_header_claims(stack, keyring):
    issued = int(time.time()) - 5
    status, _, body = admin(stack, "POST", "/v1/admin/cutoffs", {"iss": ISS, "by": "kid", "value": "k1"})
    assert status == 201, body
    assert json_body(body)["by"] == "kid" and json_body(body)["created_by"] == "admin"
    # Minted with the leaked key: with its kid, without any kid (every key is then a candidate), and
    # with a kid no key has (RS256 then picks the keys without a kid: none here, so it is unknown_key_id).
    assert check(stack, token(keyring, "RS256", {"kid": "k1"}, iat=issued)) == (401, "key_revoked")
    assert check(stack, token(keyring, "RS256", {}, iat=issued)) == (401, "key_revoked")
    assert check(stack, token(keyring, "RS256", {"kid": "k2"}, iat=issued))[0] == 401
    # The good key still works, with or without its kid.
    assert check(stack, token(keyring, "ES256", {"kid": "k2"}, iat=issued)) == (200, "")
    assert check(stack, token(keyring, "ES256", {}, iat=issued)) == (200, "")
    # A token of the leaked key issued after the cut-off passes (the issuer may keep using it).
    assert check(stack, token(keyring, "RS256", {"kid": "k1"}, iat=int(time.time()) + 2)) == (200, "")
    assert admin(stack, "DELETE", "/v1/admin/cutoffs?iss=" + ISS + "&by=kid&value=k1")[0] == 204


def test_an_older_rule_of_one_kind_never_excuses_a_newer_rule_of_another(stack, keyring):
    now = int(time.time())
    tok = token(keyring, "ES256", {"kid": "k2"}, iat=now - 100, sid="sess-9", azp="spa", client_id="gateway", sub="victim")
    assert check(stack, tok) == (200, "")
    assert admin(stack, "POST", "/v1/admin/cutoffs", {"iss": ISS, "by": "sub", "value": "victim", "before": now - 1000})[0] == 201
    assert check(stack, tok) == (200, "")
    assert admin(stack, "POST", "/v1/admin/cutoffs", {"iss": ISS, "by": "client", "value": "gateway", "before": now - 50})[0] == 201
    assert check(stack, tok) == (401, "client_revoked")
    # A cut-off never moves backwards: an earlier `before` for the same rule keeps the later one.
    status, _, body = admin(stack, "POST", "/v1/admin/cutoffs", {"iss": ISS, "by": "client", "value": "gateway", "before": now - 5000})
    assert status == 201 and json_body(body)["cutoff_unix"] == now - 50
    assert check(stack, tok) == (401, "client_revoked")
    for by, value in (("sub", "victim"), ("client", "gateway")):
        assert admin(stack, "DELETE", f"/v1/admin/cutoffs?iss={ISS}&by={by}&value={value}")[0] == 204
    assert check(stack, tok) == (200, "")


def test_claims_of_the_wrong_type_or_spelling_are_not_a_way_around(stack, keyring):
    now = int(time.time())
    assert admin(stack, "POST", "/v1/admin/cutoffs", {"iss": ISS, "by": "issuer", "before": now - 10})[0] == 201
    # Every token of the issuer up to the cut-off, whatever its other claims; no iat at all is refused too.
    assert check(stack, token(keyring, "ES256", {"kid": "k2"}, iat=now - 20, sid=12345)) == (401, "issuer_cutoff")
    no_iat = jwt.encode({"iss": ISS, "aud": AUD, "sub": "x", "exp": now + 600, "jti": "no-iat"}, keyring.private["ES256"],
                        algorithm="ES256", headers={"kid": "k2"})
    assert check(stack, no_iat)[0] == 401
    assert check(stack, token(keyring, "ES256", {"kid": "k2"}, iat=now + 1)) == (200, "")
    assert admin(stack, "DELETE", f"/v1/admin/cutoffs?iss={ISS}&by=issuer")[0] == 204
    # Bad rules are refused with a sentence and store nothing.
    for body in ({"iss": ISS, "by": "sid"}, {"iss": ISS, "by": "issuer", "value": "x"}, {"iss": ISS, "by": "nonsense", "value": "x"},
                 {"iss": "https://elsewhere.example", "by": "sub", "value": "x"}, {"iss": ISS, "by": "sub", "value": "x", "before": "yesterday"}):
        status, _, answer = admin(stack, "POST", "/v1/admin/cutoffs", body)
        assert status == 400 and json_body(answer)["message"], (body, answer)
    status, _, answer = admin(stack, "GET", "/v1/admin/cutoffs")
    assert status == 200 and json_body(answer) == {"cutoffs": []}
