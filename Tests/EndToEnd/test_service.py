"""`veto serve` over real HTTP with a real redis-server: every route, status code and reason code.
Operations (health, logs, outages, limits, connections) are in test_service_operations.py."""
import base64
import json
import os
import signal
import time

import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from conftest import AUD, ISS
from services import Redis, VetoServer, json_body, request

ISS2 = "https://login.partner.example.org"
AUD2 = "api://orders"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def admin_token():
    return os.urandom(16).hex()


@pytest.fixture(scope="module")
def stack(veto_bin, keyring, admin_token, tmp_path_factory):
    """A redis-server and two `veto serve` instances sharing it, configured with two issuers."""
    workdir = tmp_path_factory.mktemp("service")
    (workdir / "admin.token").write_text(admin_token + "\n")
    (workdir / "client.secret").write_text("s3cret-of-the-gateway\n")
    (workdir / "web.secret").write_text("s3cret-of-the-web-app\n")
    jwk = json.loads(RSAAlgorithm.to_jwk(keyring.private["RS256"].public_key()))
    (workdir / "partner.jwks").write_text(json.dumps({"keys": [dict(jwk, kid="p-2024", alg="RS256", use="sig")]}))
    for alg in ("RS256", "ES256", "HS256", "EdDSA"):
        (workdir / keyring.files[alg]).write_bytes((keyring.dir / keyring.files[alg]).read_bytes())
    (workdir / "veto.yaml").write_text(f"""
admin_token_file: admin.token
clients:
  - id: gateway
    secret_file: client.secret
    revoke_any: true
  - id: web
    secret_file: web.secret
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [RS256:{keyring.files['RS256']}, ES256:{keyring.files['ES256']}, HS256:{keyring.files['HS256']}, {keyring.files['EdDSA']}]
    headers: {{X-Auth-Email: email, X-Auth-Roles: roles}}
  - issuer: {ISS2}
    audiences: [{AUD2}]
    keys: [partner.jwks]
    typ: at+jwt
    max_lifetime: 3600
""")
    redis = Redis()
    servers = []
    try:
        for _ in range(2):
            servers.append(VetoServer(veto_bin, ["--config", "veto.yaml", "--redis", redis.url], cwd=workdir))
        yield {"redis": redis, "a": servers[0], "b": servers[1], "dir": workdir}
    finally:
        for server in servers:
            server.stop()
        redis.stop()


def partner_token(keyring, kid="p-2024", typ="at+jwt", **claims):
    now = int(time.time())
    body = {"iss": ISS2, "aud": AUD2, "sub": "p_1", "iat": now, "exp": now + 600, "jti": os.urandom(6).hex()}
    body.update(claims)
    return jwt.encode(body, keyring.private["RS256"], algorithm="RS256", headers={"kid": kid, "typ": typ})


def forged(header, claims, signature=b"sig"):
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


def check(stack, token, server="a", method="GET", path="/v1/check"):
    return request(stack[server].port, method, path, token)


def assert_denied(response, code, *mentions):
    status, headers, body = response
    assert status == 401, (status, body)
    challenge = headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    assert headers.get("x-veto-error") == code
    document = json_body(body)
    assert document["active"] is False and document["error"] == code, document
    for mention in mentions:
        assert mention in document["message"], (mention, document["message"])
    return document


# -- allow ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("alg", ["RS256", "ES256", "HS256", "EdDSA"])
def test_allow_is_exactly_200_with_identity_headers(stack, keyring, alg):
    token = keyring.token(alg, email="ada@example.com", roles=["admin", "ops"], sub="user_482")
    status, headers, body = check(stack, token)
    assert status == 200, body
    claims = jwt.decode(token, options={"verify_signature": False})
    assert headers["x-auth-subject"] == "user_482"
    assert headers["x-auth-issuer"] == ISS
    assert headers["x-auth-jti"] == claims["jti"]
    assert headers["x-auth-expires"] == str(claims["exp"])
    assert headers["x-auth-email"] == "ada@example.com"
    assert headers["x-auth-roles"] == "admin,ops"
    assert json_body(body)["active"] is True


def test_check_takes_any_method_and_path_suffix(stack, keyring):
    token = keyring.token()
    for method, path in (("POST", "/v1/check/api/orders"), ("PUT", "/v1/check"), ("DELETE", "/v1/check/x?y=1"), ("HEAD", "/v1/check")):
        assert check(stack, token, method=method, path=path)[0] == 200, (method, path)


def test_post_check_with_a_json_body(stack, keyring):
    status, _, body = request(stack["a"].port, "POST", "/v1/check", body={"token": keyring.token("ES256")})
    assert status == 200 and json_body(body)["active"] is True
    denied = request(stack["a"].port, "POST", "/v1/check", body={"token": keyring.token("ES256", aud="nope")})
    assert_denied(denied, "audience_mismatch", "nope", AUD)


def test_requests_are_routed_by_issuer(stack, keyring):
    assert check(stack, partner_token(keyring))[0] == 200
    # The partner's key is not trusted for the first issuer, even though it is the same RSA key pair here:
    # keys are scoped per issuer, so a JWKS kid only matches tokens of its own issuer.
    assert check(stack, keyring.token("RS256", aud=AUD2, iss=ISS2), "a")[0] == 401


# -- deny: one per reason code ----------------------------------------------------------------------

def test_missing_token_gets_a_plain_bearer_challenge(stack):
    status, headers, body = request(stack["a"].port, "GET", "/v1/check")
    assert status == 401
    assert headers["www-authenticate"] == 'Bearer realm="veto"'
    assert json_body(body)["error"] == "missing_token"
    status, headers, _ = request(stack["a"].port, "GET", "/v1/check", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert status == 401 and "error=" not in headers["www-authenticate"]


def test_reason_codes_over_http(stack, keyring):
    now = int(time.time())
    cases = [
        ("malformed_token", "not-a-jwt", ["1 segment"]),
        ("encrypted_token_unsupported", "a.b.c.d.e", ["JWE"]),
        ("token_too_large", "a" * 9000, ["9000 bytes", "8192"]),
        ("unsupported_critical_header", keyring.token(headers={"crit": ["x-ext"], "x-ext": 1}), ["x-ext"]),
        ("algorithm_not_allowed", forged({"alg": "none"}, {"iss": ISS, "aud": AUD}, b""), ["none"]),
        ("algorithm_not_allowed", forged({"alg": "RS512"}, {"iss": ISS, "aud": AUD}), ["RS512", "RS256"]),
        ("unknown_key_id", partner_token(keyring, kid="p-2025"), ['"p-2025"']),
        ("signature_invalid", keyring.token("RS256")[:-6] + "AAAAAA", ["does not verify"]),
        ("token_expired", keyring.token(exp=now - 7200, iat=now - 9000), ["expired at", "2 h ago"]),
        ("token_not_yet_valid", keyring.token(nbf=now + 3600), ["not valid before", "from now"]),
        ("issuer_unknown", keyring.token(iss="https://evil.example"), ["https://evil.example"]),
        ("audience_mismatch", keyring.token(aud="https://api-staging.example.com"), ["https://api-staging.example.com", AUD]),
        ("token_type_mismatch", partner_token(keyring, typ="JWT"), ['"JWT"', '"at+jwt"']),
        ("lifetime_too_long", partner_token(keyring, exp=now + 7200), ["2 h", "1 h"]),
        ("missing_claim", keyring.token(jti=None), ['"jti"']),
        ("malformed_claim", keyring.token(exp="tomorrow"), ['"exp"', "NumericDate"]),
    ]
    for code, token, mentions in cases:
        assert_denied(check(stack, token), code, *mentions)


def test_a_bad_token_never_causes_a_5xx(stack):
    for token in ["", " ", ".", "..", "a.b.", "\u00e9.\u00e9.\u00e9", "eyJ.eyJ.eyJ", "x" * 8192, "a.b.c.d", "%00.%00.%00"]:
        status, _, _ = request(stack["a"].port, "GET", "/v1/check", headers={"Authorization": f"Bearer {token}".encode().decode("latin-1")})
        assert status == 401, repr(token)


# -- revocation -----------------------------------------------------------------------------------

def test_logout_then_check_on_both_instances(stack, keyring):
    token = keyring.token("ES256")
    assert check(stack, token, "a")[0] == 200 and check(stack, token, "b")[0] == 200
    status, _, body = request(stack["a"].port, "POST", "/v1/revoke", token)
    assert status == 200, body
    reply = json_body(body)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert reply["revoked"] is True and reply["jti"] == claims["jti"] and reply["iss"] == ISS
    assert reply["expires_at_unix"] == claims["exp"] + 60, "the entry lives until exp + leeway"
    assert_denied(check(stack, token, "a"), "token_revoked", claims["jti"], "logout")
    assert_denied(check(stack, token, "b"), "token_revoked")
    pttl = int(stack["redis"].cli("pttl", f"veto:j:{len(ISS)}:{ISS}:{claims['jti']}"))
    assert abs(pttl - (claims["exp"] + 60 - time.time()) * 1000) < 3000
    # Logging out again is fine, and does not shorten the entry.
    assert request(stack["b"].port, "POST", "/v1/revoke", token)[0] == 200


def test_logout_needs_a_valid_token(stack, keyring):
    assert_denied(request(stack["a"].port, "POST", "/v1/revoke", keyring.token(aud="elsewhere")), "audience_mismatch")
    assert request(stack["a"].port, "POST", "/v1/revoke")[0] == 401


def test_subject_revocation(stack, keyring, admin_token):
    now = int(time.time())
    older = keyring.token(sub="user_sub", iat=now - 10)
    assert check(stack, older)[0] == 200
    status, _, body = request(stack["a"].port, "POST", "/v1/admin/subjects", admin_token,
                              body={"iss": ISS, "sub": "user_sub", "reason": "password reset"})
    assert status == 200, body
    assert_denied(check(stack, older, "b"), "subject_revoked", "user_sub", "password reset")
    newer = keyring.token(sub="user_sub", iat=int(time.time()) + 2)
    assert check(stack, newer, "b")[0] == 200
    assert check(stack, keyring.token(sub="someone_else"))[0] == 200
    status, _, body = request(stack["a"].port, "GET", f"/v1/admin/subjects?iss={ISS}&sub=user_sub", admin_token)
    assert status == 200 and json_body(body)["reason"] == "password reset"


def test_admin_api(stack, keyring, admin_token):
    port = stack["a"].port
    assert request(port, "POST", "/v1/admin/revocations", body={"iss": ISS, "jti": "x"})[0] == 401
    assert request(port, "POST", "/v1/admin/revocations", "wrong-token", body={"iss": ISS, "jti": "x"})[0] == 401
    exp = int(time.time()) + 600
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token,
                              body={"iss": ISS, "jti": "adm: 1 é", "exp": exp, "reason": "compromised"})
    assert status == 200, body
    assert json_body(body)["expires_at_unix"] == exp + 60
    token = keyring.token(jti="adm: 1 é")
    assert_denied(check(stack, token), "token_revoked", "compromised")
    status, _, body = request(port, "GET", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)
    assert status == 200 and json_body(body)["reason"] == "compromised"
    status, _, body = request(port, "GET", f"/v1/admin/revocations?iss={ISS}&reason=compromised&limit=10", admin_token)
    assert status == 200 and any(e["jti"] == "adm: 1 é" for e in json_body(body)["entries"])
    assert request(port, "DELETE", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)[0] == 200
    assert check(stack, token)[0] == 200
    assert request(port, "DELETE", f"/v1/admin/revocations?iss={ISS}&jti=adm:%201%20%C3%A9", admin_token)[0] == 404
    # Revoke by token, and refuse bad input with a clear message.
    by_token = keyring.token("HS256")
    assert request(port, "POST", "/v1/admin/revocations", admin_token, body={"token": by_token})[0] == 200
    assert_denied(check(stack, by_token, "b"), "token_revoked")
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token, body={"iss": "https://nope", "jti": "1"})
    assert status == 400 and "https://nope" in json_body(body)["message"]
    status, _, body = request(port, "POST", "/v1/admin/revocations", admin_token, body="{not json")
    assert status == 400 and json_body(body)["error"] == "invalid_request"


# -- OAuth endpoints --------------------------------------------------------------------------------

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def test_introspection_rfc7662(stack, keyring):
    client = basic("gateway", "s3cret-of-the-gateway")
    token = keyring.token(scope="read write", client_id="web")
    status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=client)
    document = json_body(body)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert status == 200 and document["active"] is True
    for name in ("scope", "client_id", "exp", "iat", "sub", "aud", "iss", "jti"):
        assert document[name] == claims[name], name
    for bad in ("garbage", keyring.token(exp=int(time.time()) - 3600), keyring.token(aud="x")):
        status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={bad}", headers=client)
        assert status == 200 and json_body(body) == {"active": False}
    status, headers, body = request(stack["a"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=basic("gateway", "wrong"))
    assert status == 401 and json_body(body)["error"] == "invalid_client" and headers["www-authenticate"].startswith("Basic")
    status, _, body = request(stack["a"].port, "POST", "/oauth2/introspect", body="", headers=client)
    assert status == 400


def test_token_revocation_rfc7009(stack, keyring):
    client = basic("gateway", "s3cret-of-the-gateway")
    for unknown in ("unknown-token", keyring.token(aud="x")):
        assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={unknown}", headers=client)[0] == 200
    token = keyring.token()
    assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={token}&token_type_hint=access_token", headers=client)[0] == 200
    assert_denied(check(stack, token, "b"), "token_revoked", "oauth_revoke")
    status, _, body = request(stack["b"].port, "POST", "/oauth2/introspect", body=f"token={token}", headers=client)
    assert json_body(body) == {"active": False}
    assert request(stack["a"].port, "POST", "/oauth2/revoke", body=f"token={token}", headers=basic("x", "y"))[0] == 401
