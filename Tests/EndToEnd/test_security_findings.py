"""Regression tests for the adversarial audit of 0c7f891 (issue 12), one or more per finding, named
after it. Each runs the built `veto` as an attacker would meet it: real sockets, real tokens signed by
an independent implementation (PyJWT), crafted input. The pure halves are in
Tests/VetoValidationTests/SecurityFindingTests.swift; the journal (finding 1), log and terminal
escaping (7, 13) and the refusal flood have files of their own, and findings 11 to 15 are in
test_security_findings_11_to_15.py."""
import base64
import json
import os
import socket
import time

import jwt
import pytest
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import AUD, ISS
from services import JWKSServer, VetoServer, json_body, request, wait_for


def serve(veto_bin, directory, config, *args):
    (directory / "veto.yaml").write_text(config)
    return VetoServer(veto_bin, ["--config", "veto.yaml", *args], cwd=directory)


def copy_key(keyring, directory, alg):
    (directory / keyring.files[alg]).write_bytes((keyring.dir / keyring.files[alg]).read_bytes())
    return keyring.files[alg]


def issuer_config(keyring, directory, issuer=ISS, audience=AUD, extra=""):
    key = copy_key(keyring, directory, "RS256")
    return f"""
issuers:
  - issuer: {json.dumps(issuer)}
    audiences: [{json.dumps(audience)}]
    keys: [RS256:{key}]
{extra}"""


def sign(keyring, alg="RS256", headers=None, **claims):
    now = int(time.time())
    body = {"iss": ISS, "aud": AUD, "sub": "user_1", "iat": now, "exp": now + 600, "jti": os.urandom(8).hex()}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, keyring.private[alg], algorithm=alg, headers=headers)


def check(server, token, **kwargs):
    return request(server.port, "GET", "/v1/check", token, **kwargs)


def error_of(response):
    status, headers, body = response
    return status, headers.get("x-veto-error"), json_body(body) if body else None


@pytest.fixture
def admin(tmp_path):
    token = os.urandom(16).hex()
    (tmp_path / "admin.token").write_text(token)
    return token


# -- Finding 2: rules expire while the tokens they cover are still valid -----------------------------

def test_finding_02_a_token_outliving_max_token_lifetime_is_refused_not_readmitted(veto_bin, keyring, tmp_path, admin):
    """0c7f891: with max_token_lifetime 4 and leeway 0, a token with exp = now + 3600 issued before a
    subject cut-off got 401, then 200 again 5.5 s later, when the cut-off expired."""
    config = "admin_token_file: admin.token\nmax_token_lifetime: 4\n" + issuer_config(keyring, tmp_path, extra="    leeway: 0\n")
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        now = int(time.time())
        long_lived = sign(keyring, sub="alice", iat=now - 1, exp=now + 3600)
        short_lived = sign(keyring, sub="bob", iat=now - 1, exp=now + 3)
        status, code, body = error_of(check(server, long_lived))
        assert (status, code) == (401, "lifetime_too_long"), body
        assert check(server, short_lived)[0] == 200
        assert request(server.port, "POST", "/v1/admin/subjects", admin, body={"iss": ISS, "sub": "alice"})[0] == 200
        deadline = time.time() + 6.5
        while time.time() < deadline:
            assert check(server, long_lived)[0] == 401, "a token issued before the cut-off came back"
            time.sleep(0.25)
    finally:
        server.stop()


def test_finding_02_an_issuer_max_lifetime_cannot_exceed_max_token_lifetime(veto_bin, keyring, tmp_path):
    config = "max_token_lifetime: 600\n" + issuer_config(keyring, tmp_path, extra="    max_lifetime: 86400\n")
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        now = int(time.time())
        assert error_of(check(server, sign(keyring, iat=now, exp=now + 3600)))[:2] == (401, "lifetime_too_long")
        assert check(server, sign(keyring, iat=now, exp=now + 600))[0] == 200
    finally:
        server.stop()


# -- Finding 3: quadratic JSON parsing ---------------------------------------------------------------

def decomposed_names_body(size=64 * 1024):
    members, length, index = [], 2, 0
    while True:
        member = f'"e\u0301{index}":0'
        if length + len(member.encode()) + 1 > size:
            break
        members.append(member)
        length += len(member.encode()) + 1
        index += 1
    return ("{" + ",".join(members) + "}").encode(), index


def test_finding_03_a_body_of_thousands_of_names_is_refused_before_the_work_grows(veto_bin, keyring, tmp_path):
    """0c7f891 parsed all 5,500 names (about 280 ms of event-loop time), then said the body had no
    token. The reader now stops at a member cap; duplicate detection is linear anyway (Swift tests),
    and the cost is measured by Scripts/bench's 64 KiB row."""
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path), "--data-dir", tmp_path / "data")
    try:
        body, count = decomposed_names_body()
        assert count > 5000
        status, code, document = error_of(request(server.port, "POST", "/v1/check", body=body,
                                                  headers={"Content-Type": "application/json"}))
        assert (status, code) == (401, "malformed_token"), document
        assert "not a JSON object" in document["message"]
        # A header token means the body is never parsed at all.
        assert request(server.port, "POST", "/v1/check", sign(keyring), body=body,
                       headers={"Content-Type": "application/json"})[0] == 200
        # The control plane's JSON bodies have the same cap.
        status, _, reply = request(server.port, "POST", "/v1/admin/revocations", "x" * 32, body=body,
                                   headers={"Content-Type": "application/json"})
        assert status in (401, 404), reply
    finally:
        server.stop()


# -- Finding 4: issuers[].algorithms on JWKS keys -----------------------------------------------------

def test_finding_04_the_algorithm_allow_list_binds_every_jwks_key(veto_bin, keyring, tmp_path):
    """0c7f891: with algorithms [RS256, ES256], a PS256 token and an ES384 token (EC P-384 key without
    alg, algorithm inferred from the curve) both got 200."""
    rsa_key = keyring.private["RS256"]
    ps_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p384 = ec.generate_private_key(ec.SECP384R1())
    jwks = JWKSServer()
    jwks.document = {"keys": [
        dict(json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key())), kid="rs", alg="RS256"),
        dict(json.loads(RSAAlgorithm.to_jwk(ps_key.public_key())), kid="ps", alg="PS256"),
        dict(json.loads(ECAlgorithm.to_jwk(p384.public_key())), kid="p384"),
    ]}
    config = f"""
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    jwks_url: {jwks.url}
    algorithms: [RS256, ES256]
"""
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        wait_for(lambda: request(server.port, "GET", "/readyz")[0] == 200, what="JWKS loaded")
        now = int(time.time())
        claims = {"iss": ISS, "aud": AUD, "sub": "s", "iat": now, "exp": now + 600, "jti": "j1"}
        assert check(server, jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "rs"}))[0] == 200
        ps = jwt.encode(claims, ps_key, algorithm="PS256", headers={"kid": "ps"})
        es384 = jwt.encode(claims, p384, algorithm="ES384", headers={"kid": "p384"})
        for token in (ps, es384):
            status, code, body = error_of(check(server, token))
            assert status == 401 and code in ("unknown_key_id", "algorithm_not_allowed"), body
        assert "not in the issuer's algorithms" in server.logs()
    finally:
        server.stop()
        jwks.stop()


# -- Findings 5 and 6: identifiers compare by bytes ---------------------------------------------------

CAFE_NFC = "https://auth.example.com/tenants/caf\u00e9"
CAFE_NFD = "https://auth.example.com/tenants/cafe\u0301"


def test_finding_05_issuer_and_audience_twins_are_refused_over_http(veto_bin, keyring, tmp_path):
    """0c7f891: with issuer …/café (precomposed), a token with a decomposed é got 200; with audience
    Kelvin-api, a token whose audience starts with U+212A KELVIN SIGN got 200."""
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path, issuer=CAFE_NFC, audience="Kelvin-api"), "--data-dir", tmp_path / "data")
    try:
        assert check(server, sign(keyring, iss=CAFE_NFC, aud="Kelvin-api"))[0] == 200
        assert error_of(check(server, sign(keyring, iss=CAFE_NFD, aud="Kelvin-api")))[:2] == (401, "issuer_unknown")
        assert error_of(check(server, sign(keyring, iss=CAFE_NFC, aud="\u212aelvin-api")))[:2] == (401, "audience_mismatch")
    finally:
        server.stop()


def test_finding_06_admin_revocation_under_a_twin_issuer_is_a_400(veto_bin, keyring, tmp_path, admin):
    """0c7f891 answered 200 and stored the twin spelling, which no check ever reads."""
    config = "admin_token_file: admin.token\n" + issuer_config(keyring, tmp_path, issuer=CAFE_NFC)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        status, _, body = request(server.port, "POST", "/v1/admin/revocations", admin, body={"iss": CAFE_NFD, "jti": "j-twin"})
        assert status == 400 and json_body(body)["error"] == "issuer_unknown", body
        token = sign(keyring, iss=CAFE_NFC, jti="j-exact")
        assert check(server, token)[0] == 200
        status, _, body = request(server.port, "POST", "/v1/admin/revocations", admin, body={"iss": CAFE_NFC, "jti": "j-exact"})
        assert status == 200 and json_body(body)["iss"] == CAFE_NFC
        assert error_of(check(server, token))[:2] == (401, "token_revoked")
        status, _, body = request(server.port, "POST", "/v1/admin/subjects", admin, body={"iss": CAFE_NFD, "sub": "user_1"})
        assert status == 400 and json_body(body)["error"] == "issuer_unknown"
    finally:
        server.stop()


# -- Finding 8: a body token wins over the Authorization header ---------------------------------------

def test_finding_08_the_authorization_header_always_wins(veto_bin, keyring, tmp_path):
    """0c7f891: a revoked token in the header plus a valid token in a JSON body got 200 with the body
    token's identity. Documented rule: the header wins and the body is not read."""
    server = serve(veto_bin, tmp_path, issuer_config(keyring, tmp_path), "--data-dir", tmp_path / "data")
    try:
        revoked = sign(keyring, sub="revoked-user")
        valid = sign(keyring, sub="other-user")
        assert request(server.port, "POST", "/v1/revoke", revoked)[0] == 200
        status, code, body = error_of(request(server.port, "POST", "/v1/check", revoked, body={"token": valid}))
        assert (status, code) == (401, "token_revoked"), body
        status, headers, _ = request(server.port, "POST", "/v1/check", valid, body={"token": revoked})
        assert status == 200 and headers["x-auth-subject"] == "other-user"
        # Without a header, a JSON body still works.
        assert request(server.port, "POST", "/v1/check", body={"token": valid})[0] == 200
    finally:
        server.stop()


# -- Finding 9: answers disclose configuration ---------------------------------------------------------

def test_finding_09_http_answers_name_no_key_files_issuers_kids_or_store_addresses(veto_bin, keyring, tmp_path):
    """0c7f891 listed every configured issuer, the key file paths and every kid in 401s, and /readyz
    echoed the Redis address."""
    second = copy_key(keyring, tmp_path, "ES256")
    config = issuer_config(keyring, tmp_path) + f"""  - issuer: https://secret-tenant.example
    keys: [ES256:{second}]
"""
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    dead_redis = f"redis://127.0.0.1:{port.getsockname()[1]}/0"
    port.close()
    server = serve(veto_bin, tmp_path, config, "--redis", dead_redis)
    try:
        tokens = [sign(keyring, iss="https://attacker.example"), sign(keyring)[:-8] + "AAAAAAAA",
                  sign(keyring, headers={"kid": "guess"})]
        for token in tokens:
            status, headers, body = check(server, token)
            text = body.decode() + json.dumps(headers)
            assert status in (401, 503), text
            for secret in ("secret-tenant", keyring.files["RS256"], keyring.files["ES256"], str(tmp_path), ".pem"):
                assert secret not in text, (secret, text)
        status, _, body = request(server.port, "GET", "/readyz")
        assert status == 503 and "127.0.0.1" not in body.decode() and dead_redis not in body.decode(), body
        assert "blocklist store unavailable" in body.decode()
    finally:
        server.stop()


def test_finding_09_veto_verify_keeps_full_detail_on_the_terminal(kveto, keyring):
    token = sign(keyring)[:-8] + "AAAAAAAA"
    result = kveto("verify", token, "--key", keyring.flag("RS256"), "--iss", ISS)
    assert result.returncode != 0
    assert "signature" in result.stdout and keyring.files["RS256"] in result.stdout, result.stdout


# -- Finding 10: RFC 7009 revocation binds by client -------------------------------------------------

def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded"}


def test_finding_10_a_client_revokes_only_its_own_tokens(veto_bin, keyring, tmp_path):
    """0c7f891: any authenticated OAuth client could revoke any client's token."""
    (tmp_path / "web.secret").write_text("web-secret-0123456789")
    (tmp_path / "evil.secret").write_text("evil-secret-0123456789")
    config = """clients:
  - id: web
    secret_file: web.secret
  - id: evil
    secret_file: evil.secret
""" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        web_token = sign(keyring, client_id="web")
        status, _, body = request(server.port, "POST", "/oauth2/revoke", body=f"token={web_token}",
                                  headers=basic("evil", "evil-secret-0123456789"))
        assert status == 400 and json_body(body)["error"] == "unauthorized_client", (status, body)
        assert check(server, web_token)[0] == 200, "another client's refused revocation must not take effect"
        azp_token = sign(keyring, azp="web")
        assert request(server.port, "POST", "/oauth2/revoke", body=f"token={azp_token}", headers=basic("web", "web-secret-0123456789"))[0] == 200
        assert error_of(check(server, azp_token))[:2] == (401, "token_revoked")
        ownerless = sign(keyring)
        assert request(server.port, "POST", "/oauth2/revoke", body=f"token={ownerless}", headers=basic("web", "web-secret-0123456789"))[0] == 400
    finally:
        server.stop()


def test_finding_10_revoke_any_is_explicit(veto_bin, keyring, tmp_path):
    (tmp_path / "gw.secret").write_text("gateway-secret-0123456789")
    config = "clients:\n  - id: gateway\n    secret_file: gw.secret\n    revoke_any: true\n" + issuer_config(keyring, tmp_path)
    server = serve(veto_bin, tmp_path, config, "--data-dir", tmp_path / "data")
    try:
        web_token = sign(keyring, client_id="web")
        assert request(server.port, "POST", "/oauth2/revoke", body=f"token={web_token}", headers=basic("gateway", "gateway-secret-0123456789"))[0] == 200
        assert error_of(check(server, web_token))[:2] == (401, "token_revoked")
    finally:
        server.stop()
