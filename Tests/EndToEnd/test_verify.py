"""`veto verify` against tokens minted by PyJWT (an independent implementation), and the five
failures a backend developer meets most, each explained on one line with both values."""
import base64
import json
import time

import pytest

from conftest import AUD, ISS

ALGORITHMS = ["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
              "ES256", "ES384", "ES512", "EdDSA"]
CHECKS = ["--iss", ISS, "--aud", AUD]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_pyjwt_tokens_verify_for_every_algorithm(kveto, keyring, alg):
    p = kveto("verify", keyring.token(alg), "--key", keyring.flag(alg), *CHECKS, "--require", "jti")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "VALID" in p.stdout and "✗" not in p.stdout


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_tampered_tokens_do_not_verify(kveto, keyring, alg):
    header, payload, signature = keyring.token(alg).split(".")
    claims = json.loads(unb64(payload))
    claims["sub"] = "admin"
    forged_payload = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    sig = bytearray(unb64(signature))
    sig[len(sig) // 2] ^= 0x01
    forged_signature = f"{header}.{payload}.{b64(bytes(sig))}"
    for forged in (forged_payload, forged_signature):
        p = kveto("verify", forged, "--key", keyring.flag(alg), *CHECKS)
        assert p.returncode == 1, p.stdout
        assert "[signature_invalid]" in p.stdout


def test_key_prefix_may_be_omitted_where_the_key_decides(kveto, keyring):
    for alg in ("ES256", "ES384", "ES512", "EdDSA"):
        p = kveto("verify", keyring.token(alg), "--key", keyring.files[alg], *CHECKS)
        assert p.returncode == 0, (alg, p.stdout, p.stderr)
    p = kveto("verify", keyring.token("RS256"), "--key", keyring.files["RS256"], *CHECKS)
    assert p.returncode == 2 and "RS256:" in p.stderr


def failed_lines(stdout):
    return [line for line in stdout.splitlines() if "✗" in line]


def test_expired_says_when_and_by_how_much(kveto, keyring):
    now = int(time.time())
    p = kveto("verify", keyring.token(exp=now - 3 * 3600 - 12 * 60, iat=now - 4 * 3600), "--key", keyring.flag("RS256"), *CHECKS)
    assert p.returncode == 1
    [line] = failed_lines(p.stdout)
    assert "exp" in line and "[token_expired]" in line and "3 h 12 min ago" in line and "expired at" in line


def test_wrong_audience_names_both_values(kveto, keyring):
    p = kveto("verify", keyring.token(aud="https://api-staging.example.com"), "--key", keyring.flag("RS256"), *CHECKS)
    assert p.returncode == 1
    [line] = failed_lines(p.stdout)
    assert "https://api-staging.example.com" in line and AUD in line and "[audience_mismatch]" in line
    assert "fix:" in p.stdout.split(line)[1].splitlines()[1] and "staging" in p.stdout.split(line)[1].splitlines()[1], "the fix hint follows the line"


def test_wrong_issuer_after_a_provider_migration(kveto, keyring):
    p = kveto("verify", keyring.token(iss="https://auth.legacy.example.com"), "--key", keyring.flag("RS256"), *CHECKS)
    assert p.returncode == 1
    [line] = failed_lines(p.stdout)
    assert "https://auth.legacy.example.com" in line and ISS in line and "[issuer_unknown]" in line


def test_algorithm_not_what_the_key_is_pinned_to(kveto, keyring):
    p = kveto("verify", keyring.token("ES256"), "--key", keyring.flag("RS256"), *CHECKS)
    assert p.returncode == 1
    [line] = failed_lines(p.stdout)
    assert "ES256" in line and "RS256" in line and "[algorithm_not_allowed]" in line


def test_unknown_kid_after_rotation_lists_known_kids(kveto, keyring, tmp_path):
    from jwt.algorithms import RSAAlgorithm
    jwk = json.loads(RSAAlgorithm.to_jwk(keyring.private["RS256"].public_key()))
    jwks = {"keys": [dict(jwk, kid="2024-01", alg="RS256", use="sig"), dict(jwk, kid="2024-02", alg="RS256", use="sig")]}
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    token = keyring.token("RS256", headers={"kid": "2024-03"})
    p = kveto("verify", token, "--jwks", str(tmp_path / "jwks.json"), *CHECKS)
    assert p.returncode == 1
    [line] = failed_lines(p.stdout)
    assert '"2024-03"' in line and '"2024-01"' in line and '"2024-02"' in line and "[unknown_key_id]" in line
    assert "rotated" in p.stdout
    ok = kveto("verify", keyring.token("RS256", headers={"kid": "2024-02"}), "--jwks", str(tmp_path / "jwks.json"), *CHECKS)
    assert ok.returncode == 0, ok.stdout


def test_every_failure_is_reported_not_just_the_first(kveto, keyring):
    now = int(time.time())
    token = keyring.token(aud="https://other", iss="https://elsewhere", exp=now - 7200, jti=None)
    p = kveto("verify", token, "--key", keyring.flag("RS256"), *CHECKS, "--require", "jti", "--json")
    assert p.returncode == 1
    codes = [e["code"] for e in json.loads(p.stdout)["errors"]]
    assert codes == ["token_expired", "issuer_unknown", "audience_mismatch", "missing_claim"]


def test_json_report_for_a_valid_token(kveto, keyring):
    p = kveto("verify", keyring.token("ES256"), "--key", keyring.flag("ES256"), *CHECKS, "--json")
    doc = json.loads(p.stdout)
    assert p.returncode == 0 and doc["valid"] is True and doc["errors"] == []
    assert doc["key"]["algorithm"] == "ES256"
    assert {c["check"]: c["status"] for c in doc["checks"]}["signature"] == "pass"


def test_alg_none_is_rejected(kveto, keyring):
    now = int(time.time())
    for alg in ("none", "None", "NONE", "nOnE"):
        header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
        payload = b64(json.dumps({"iss": ISS, "aud": AUD, "exp": now + 600}).encode())
        p = kveto("verify", f"{header}.{payload}.", "--key", keyring.flag("RS256"), *CHECKS)
        assert p.returncode == 1 and "[algorithm_not_allowed]" in p.stdout, alg


def test_cannot_run_is_exit_2(kveto, keyring):
    token = keyring.token()
    assert kveto("verify", token).returncode == 2
    missing = kveto("verify", token, "--key", "RS256:nope.pem")
    assert missing.returncode == 2 and "nope.pem" in missing.stderr and "no such file" in missing.stderr
    bad_alg = kveto("verify", token, "--key", "rs256:rsa.pem")
    assert bad_alg.returncode == 2 and "case-sensitive" in bad_alg.stderr
    confused = kveto("verify", token, "--key", "HS256:rsa.pem")
    assert confused.returncode == 2 and "rsa.pem" in confused.stderr


def test_verify_as_of_an_instant(kveto, keyring):
    token = keyring.token(iat=1712400000, exp=1712403600)
    assert kveto("verify", token, "--key", keyring.flag("RS256"), *CHECKS, "--at", "2024-04-06T11:00:00Z").returncode == 0
    assert kveto("verify", token, "--key", keyring.flag("RS256"), *CHECKS).returncode == 1
