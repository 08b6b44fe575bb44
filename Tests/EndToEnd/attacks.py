"""The attack corpus: tokens from the JWT-attack playbooks, each with the answer Veto must give.

One table, two runners (test_attacks.py): `veto verify --json` and `/v1/check` of a running
`veto serve` (Authorization header and JSON body). Each entry names the advisory it guards
against where there is one; the identifiers were checked against public advisories:

- CVE-2015-9235   node-jsonwebtoken < 4.2.2: an HS* token verified with an RSA/EC public key as the secret.
- CVE-2016-10555  jwt-simple <= 0.3.0: alg not enforced, RSA public key used as an HMAC secret.
- CVE-2017-11424  PyJWT <= 1.5.0: a PKCS#1 "RSA PUBLIC KEY" PEM slipped past the HMAC key check.
- CVE-2018-0114   node-jose < 0.11.0: the `jwk` header's embedded key used to verify the token.
- CVE-2020-26160  jwt-go < 4.0.0-preview1: audience check bypassed through the type of `aud`.
- CVE-2020-28042  ServiceStack <= 5.9.1: an empty signature compared as equal.
- CVE-2022-21449  Java 15-18 "psychic signatures": ECDSA r = s = 0 accepted.
- CVE-2023-1370   json-smart (Nimbus JOSE+JWT): stack exhaustion on deeply nested JSON.
- CVE-2026-32597  PyJWT < 2.12.0: unknown `crit` extensions accepted.
- McLean 2015     "Critical vulnerabilities in JSON Web Token libraries" (Auth0): alg "none".

Expected answers: `code` is the reason code (None: the token is valid and must be allowed, a
control). `header`/`body` override the HTTP outcome per transport as (status, code), or SKIP
where the token cannot travel that way (a newline inside an Authorization header); those pairs are
not generated. The keys, signers and token surgery the entries use are in attack_kit.py."""
import hashlib
import itertools
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from attack_kit import (AUD, P256_ORDER, SKIP, Attack, _nested_array_header, _nested_object_payload, _non_canonical_tail,
                        _none, _one_mebibyte, _padded_header, _raw, _replace_signature, _signature, _split,
                        _standard_alphabet_token, _time, _with_raw_claims, b64, compact)
from attack_kit import ISS, ISS_PEM, Keys, unb64  # noqa: F401 (test_attacks.py imports them from here)

NONE_CASES = ["".join(c) for c in itertools.product(*[(ch.lower(), ch.upper()) for ch in "none"])]
HTTP_TOO_LARGE_HEADER = (400, None)  # the HTTP decoder refuses the head (over max_header_bytes) before Veto sees it
HTTP_TOO_LARGE_BODY = (413, "body_too_large")

ATTACKS = [
    # -- controls: the setup must allow genuine tokens, or every "rejected" below proves nothing --
    Attack("control-valid-es256-jwks", lambda k: k.es(), None),
    Attack("control-valid-rs256-jwks", lambda k: k.rs("jwks"), None),
    Attack("control-valid-rs256-pem", lambda k: k.rs("pem"), None),
    Attack("control-valid-es256-pem", lambda k: k.es("pem"), None),

    # -- alg none, every capitalisation ------------------------------------------------------------
    *[Attack(f"alg-none-{case}", _none(case), "algorithm_not_allowed", "McLean2015") for case in NONE_CASES],
    Attack("alg-none-with-a-signature", lambda k: k.token({"alg": "none"}, k.claims(), signature=b"\x00" * 32),
           "algorithm_not_allowed", "McLean2015"),
    Attack("alg-none-with-a-known-kid", lambda k: k.token({"alg": "none", "kid": "ec-1"}, k.claims()),
           "algorithm_not_allowed", "McLean2015"),
    Attack("alg-none-two-segments", lambda k: k.token({"alg": "none"}, k.claims())[:-1], "malformed_token", "McLean2015"),
    Attack("alg-none-trailing-space", lambda k: k.token({"alg": "none "}, k.claims()), "algorithm_not_allowed"),
    Attack("alg-empty-string", lambda k: k.token({"alg": ""}, k.claims()), "algorithm_not_allowed"),
    Attack("alg-lowercase-es256", lambda k: k.es(header={"alg": "es256"}), "algorithm_not_allowed"),
    Attack("alg-missing", lambda k: k.token({"typ": "JWT", "kid": "ec-1"}, k.claims(), k.es256()), "malformed_token"),
    Attack("alg-null", lambda k: k.es(header={"alg": None}), "malformed_token"),
    Attack("alg-array", lambda k: k.es(header={"alg": ["ES256"]}), "malformed_token"),

    # -- key confusion: an HMAC token whose secret is the public key -------------------------------
    Attack("hs256-secret-is-rsa-pem", lambda k: k.token({"alg": "HS256", "typ": "JWT"}, k.claims("pem"), k.hs(k.rsa_pem)),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs256-secret-is-rsa-pem-jwt-simple", lambda k: k.token({"alg": "HS256"}, k.claims("pem"), k.hs(k.rsa_pem.strip())),
           "algorithm_not_allowed", "CVE-2016-10555"),
    Attack("hs256-secret-is-pkcs1-rsa-pem", lambda k: k.token({"alg": "HS256"}, k.claims("pem"), k.hs(k.rsa_pkcs1_pem)),
           "algorithm_not_allowed", "CVE-2017-11424"),
    Attack("hs256-secret-is-rsa-der", lambda k: k.token({"alg": "HS256"}, k.claims("pem"), k.hs(k.rsa_der)),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs256-secret-is-ec-pem", lambda k: k.token({"alg": "HS256"}, k.claims("pem"), k.hs(k.ec_pem)),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs384-secret-is-rsa-pem", lambda k: k.token({"alg": "HS384"}, k.claims("pem"), k.hs(k.rsa_pem, hashlib.sha384)),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs512-secret-is-rsa-pem", lambda k: k.token({"alg": "HS512"}, k.claims("pem"), k.hs(k.rsa_pem, hashlib.sha512)),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs256-secret-is-rsa-jwk-json-with-its-kid",
           lambda k: k.token({"alg": "HS256", "kid": "rsa-1"}, k.claims(), k.hs(compact(k.rsa_jwk))),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs256-secret-is-rsa-jwk-json-no-kid", lambda k: k.token({"alg": "HS256"}, k.claims(), k.hs(json.dumps(k.rsa_jwk).encode())),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("hs256-secret-is-the-jwks-document", lambda k: k.token({"alg": "HS256"}, k.claims(), k.hs((k.dir / "keys.jwks").read_bytes())),
           "algorithm_not_allowed", "CVE-2015-9235"),
    Attack("ps256-token-for-an-rs256-pinned-key",
           lambda k: k.token({"alg": "PS256", "kid": "rsa-1"}, k.claims(), k.ps256()), "algorithm_not_allowed"),
    Attack("rs512-token-for-an-rs256-pinned-key",
           lambda k: k.token({"alg": "RS512"}, k.claims("pem"), k.rs256(digest=hashes.SHA512)), "algorithm_not_allowed"),
    Attack("es384-header-on-an-es256-key", lambda k: k.es(header={"alg": "ES384"}), "algorithm_not_allowed"),

    # -- signature segment: empty, truncated, extra ------------------------------------------------
    Attack("empty-signature-rs256", lambda k: _replace_signature(k.rs(), b""), "signature_invalid", "CVE-2020-28042"),
    Attack("empty-signature-es256", lambda k: _replace_signature(k.es(), b""), "signature_invalid", "CVE-2020-28042"),
    Attack("empty-signature-es256-pem", lambda k: _replace_signature(k.es("pem"), b""), "signature_invalid", "CVE-2020-28042"),
    Attack("truncated-signature-rs256-half", lambda k: _replace_signature(k.rs(), _signature(k.rs())[:128]), "signature_invalid"),
    Attack("truncated-signature-rs256-one-symbol", lambda k: k.rs()[:-1], "malformed_token"),
    Attack("truncated-signature-es256-63-bytes", lambda k: _replace_signature(k.es(), _signature(k.es())[:63]), "signature_invalid"),
    Attack("signature-with-an-extra-byte", lambda k: (lambda t: _replace_signature(t, _signature(t) + b"\x00"))(k.es()),
           "signature_invalid"),
    Attack("extra-segment", lambda k: k.es() + ".AAAA", "malformed_token"),
    Attack("extra-empty-segment", lambda k: k.es() + ".", "malformed_token"),
    Attack("six-segments", lambda k: k.es() + ".AA.AA.AA", "malformed_token"),
    Attack("two-extra-empty-segments-look-like-jwe", lambda k: k.es() + "..", "encrypted_token_unsupported"),
    Attack("one-segment", lambda k: _split(k.es())[1], "malformed_token"),
    Attack("empty-header-segment", lambda k: "." + ".".join(_split(k.es())[1:]), "malformed_token"),
    Attack("only-dots", lambda k: "..", "malformed_token"),

    # -- ECDSA: r and s outside [1, n-1], and the wrong encoding -----------------------------------
    Attack("es256-r-s-zero-raw", lambda k: _replace_signature(k.es(), bytes(64)), "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-s-zero-raw-pem", lambda k: _replace_signature(k.es("pem"), bytes(64)), "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-s-zero-der", lambda k: _replace_signature(k.es(), encode_dss_signature(0, 0)), "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-s-zero-der-pem", lambda k: _replace_signature(k.es("pem"), encode_dss_signature(0, 0)), "signature_invalid",
           "CVE-2022-21449"),
    Attack("es256-r-equals-n", lambda k: (lambda t: _replace_signature(t, _raw(P256_ORDER, int.from_bytes(_signature(t)[32:], "big"))))(k.es()),
           "signature_invalid", "CVE-2022-21449"),
    Attack("es256-s-equals-n", lambda k: (lambda t: _replace_signature(t, _raw(int.from_bytes(_signature(t)[:32], "big"), P256_ORDER)))(k.es()),
           "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-s-equal-n", lambda k: _replace_signature(k.es(), _raw(P256_ORDER, P256_ORDER)), "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-all-ones", lambda k: (lambda t: _replace_signature(t, b"\xff" * 32 + _signature(t)[32:]))(k.es()),
           "signature_invalid", "CVE-2022-21449"),
    Attack("es256-r-zero-s-valid", lambda k: (lambda t: _replace_signature(t, bytes(32) + _signature(t)[32:]))(k.es()),
           "signature_invalid", "CVE-2022-21449"),
    Attack("es256-valid-signature-in-der-form",
           lambda k: (lambda t: _replace_signature(t, encode_dss_signature(int.from_bytes(_signature(t)[:32], "big"),
                                                                           int.from_bytes(_signature(t)[32:], "big"))))(k.es()),
           "signature_invalid"),

    # -- the header may not bring its own key ------------------------------------------------------
    Attack("jwk-header-attacker-key-no-kid",
           lambda k: k.token({"alg": "ES256", "jwk": json.loads(ECAlgorithm.to_jwk(k.attacker_ec.public_key()))}, k.claims(),
                             k.es256(k.attacker_ec)), "signature_invalid", "CVE-2018-0114"),
    Attack("jwk-header-attacker-key-victim-kid",
           lambda k: k.token({"alg": "ES256", "kid": "ec-1", "jwk": dict(json.loads(ECAlgorithm.to_jwk(k.attacker_ec.public_key())), kid="ec-1")},
                             k.claims(), k.es256(k.attacker_ec)), "signature_invalid", "CVE-2018-0114"),
    Attack("jwk-header-attacker-rsa-key-own-kid",
           lambda k: k.token({"alg": "RS256", "kid": "attacker", "jwk": dict(json.loads(RSAAlgorithm.to_jwk(k.attacker_rsa.public_key())), kid="attacker")},
                             k.claims(), k.rs256(k.attacker_rsa)), "unknown_key_id", "CVE-2018-0114"),
    Attack("jku-header-to-attacker-jwks", lambda k: k.token({"alg": "ES256", "kid": "attacker", "jku": k.attacker_url}, k.claims(),
                                                             k.es256(k.attacker_ec)), "unknown_key_id", fetch_guard=True),
    Attack("jku-header-with-victim-kid", lambda k: k.token({"alg": "ES256", "kid": "ec-1", "jku": k.attacker_url}, k.claims(),
                                                            k.es256(k.attacker_ec)), "signature_invalid", fetch_guard=True),
    Attack("x5u-header-to-attacker", lambda k: k.token({"alg": "ES256", "x5u": k.attacker_url}, k.claims(), k.es256(k.attacker_ec)),
           "signature_invalid", fetch_guard=True),
    Attack("x5c-self-signed-attacker-certificate",
           lambda k: k.token({"alg": "ES256", "x5c": [k.self_signed_attacker_certificate()]}, k.claims(), k.es256(k.attacker_ec)),
           "signature_invalid"),
    Attack("x5c-self-signed-with-victim-kid",
           lambda k: k.token({"alg": "ES256", "kid": "ec-1", "x5c": [k.self_signed_attacker_certificate()]}, k.claims(), k.es256(k.attacker_ec)),
           "signature_invalid"),

    # -- kid: a name, never a path, a query or a C string ------------------------------------------
    Attack("kid-path-traversal-dev-null-empty-hmac", lambda k: k.token({"alg": "HS256", "kid": "../../../../../../dev/null"}, k.claims(), k.hs(b"")),
           "unknown_key_id"),
    Attack("kid-absolute-path", lambda k: k.token({"alg": "HS256", "kid": "/proc/self/environ"}, k.claims(), k.hs(b"")), "unknown_key_id"),
    Attack("kid-path-traversal-to-the-key-file", lambda k: k.token({"alg": "HS256", "kid": str(k.dir / "rsa.pem")}, k.claims(), k.hs(k.rsa_pem)),
           "unknown_key_id"),
    Attack("kid-sql-injection", lambda k: k.token({"alg": "HS256", "kid": "x' UNION SELECT 'AAAA' -- "}, k.claims(), k.hs(b"AAAA")),
           "unknown_key_id"),
    Attack("kid-sql-injection-with-victim-alg", lambda k: k.es(header={"kid": "ec-1' OR '1'='1"}), "unknown_key_id"),
    Attack("kid-very-long", lambda k: k.es(header={"kid": "k" * 4000}), "unknown_key_id"),
    Attack("kid-nul-byte-after-a-known-kid", lambda k: k.es(header={"kid": "ec-1\u0000"}), "unknown_key_id"),
    Attack("kid-nul-byte-then-path", lambda k: k.es(header={"kid": "ec-1\u0000../../etc/passwd"}), "unknown_key_id"),
    Attack("kid-other-case", lambda k: k.es(header={"kid": "EC-1"}), "unknown_key_id"),
    Attack("kid-number", lambda k: k.es(header={"kid": 1}), "malformed_token"),
    Attack("kid-null", lambda k: k.es(header={"kid": None}), "malformed_token"),

    # -- crit ----------------------------------------------------------------------------------------
    Attack("crit-unknown-extension", lambda k: k.es(header={"crit": ["x-custom-policy"], "x-custom-policy": "require-mfa"}),
           "unsupported_critical_header", "CVE-2026-32597"),
    Attack("crit-b64-false", lambda k: k.es(header={"crit": ["b64"], "b64": False}), "unsupported_critical_header", "CVE-2026-32597"),
    Attack("crit-names-exp", lambda k: k.es(header={"crit": ["exp"], "exp": 1}), "unsupported_critical_header", "CVE-2026-32597"),
    Attack("crit-empty-array", lambda k: k.es(header={"crit": []}), "malformed_token"),
    Attack("crit-string", lambda k: k.es(header={"crit": "x-custom-policy"}), "malformed_token"),
    Attack("crit-number-member", lambda k: k.es(header={"crit": [1]}), "malformed_token"),

    # -- duplicate member names: two parsers must never disagree on which one counts ---------------
    Attack("duplicate-alg-es256-then-none", lambda k: k.token(b'{"alg":"ES256","kid":"ec-1","alg":"none"}', k.claims(), k.es256()),
           "malformed_token"),
    Attack("duplicate-alg-none-then-es256", lambda k: k.token(b'{"alg":"none","kid":"ec-1","alg":"ES256"}', k.claims(), k.es256()),
           "malformed_token"),
    Attack("duplicate-kid", lambda k: k.token(b'{"alg":"ES256","kid":"ec-1","kid":"attacker"}', k.claims(), k.es256()), "malformed_token"),
    Attack("duplicate-alg-via-escape", lambda k: k.token(b'{"alg":"ES256","kid":"ec-1","\\u0061lg":"none"}', k.claims(), k.es256()),
           "malformed_token"),
    Attack("duplicate-sub-claim", lambda k: _with_raw_claims(k, '"exp":LATER,"sub":"admin"'), "malformed_token"),
    Attack("duplicate-exp-claim", lambda k: _with_raw_claims(k, '"exp":LATER,"exp":99999999999'), "malformed_token"),
    Attack("duplicate-sub-claim-via-escape", lambda k: _with_raw_claims(k, '"exp":LATER,"\\u0073ub":"admin"'), "malformed_token"),

    # -- NumericDate claims of the wrong type: malformed, never "absent" ---------------------------
    *[Attack(f"{name}-{label}", (lambda n, v: lambda k: _with_raw_claims(k, _time(n, v)))(name, value), "malformed_claim")
      for name in ("exp", "nbf", "iat")
      for label, value in (("string", '"9999999999"'), ("null", "null"), ("true", "true"), ("false", "false"),
                           ("array", "[LATER]"), ("object", '{"t":LATER}'), ("huge", "1e20"), ("overflow-to-infinity", "1e400"),
                           ("negative-infinity", "-1e400"), ("past-year-9999", "253402300800"), ("nan-string", '"NaN"'),
                           ("iso-date-string", '"2099-01-01T00:00:00Z"'))],
    *[Attack(f"{name}-{label}", (lambda n, v: lambda k: _with_raw_claims(k, _time(n, v)))(name, value), "malformed_token")
      for name in ("exp", "nbf", "iat")
      for label, value in (("nan-literal", "NaN"), ("infinity-literal", "Infinity"), ("hex", "0x10"), ("leading-plus", "+1"),
                           ("leading-zero", "0123"))],

    # -- aud of the wrong type ---------------------------------------------------------------------
    Attack("aud-object", lambda k: k.es(aud={"aud": AUD}), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-number", lambda k: k.es(aud=1), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-true", lambda k: k.es(aud=True), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-array-with-a-number", lambda k: k.es(aud=[AUD, 1]), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-nested-array", lambda k: k.es(aud=[[AUD]]), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-null", lambda k: k.es(payload=compact(dict(k.claims(), aud=None))), "malformed_claim", "CVE-2020-26160"),
    Attack("aud-empty-string", lambda k: k.es(aud=""), "audience_mismatch", "CVE-2020-26160"),
    Attack("aud-empty-array", lambda k: k.es(aud=[]), "audience_mismatch", "CVE-2020-26160"),

    # -- base64url: exactly one spelling per token --------------------------------------------------
    Attack("padding-in-header", _padded_header, "malformed_token"),
    Attack("padding-in-signature", lambda k: k.es() + "==", "malformed_token"),
    Attack("standard-alphabet-plus-slash", _standard_alphabet_token, "malformed_token"),
    Attack("space-inside-payload", lambda k: (lambda h, p, s: f"{h}.{p[:10]} {p[10:]}.{s}")(*_split(k.es())), "malformed_token"),
    Attack("tab-inside-signature", lambda k: (lambda h, p, s: f"{h}.{p}.{s[:10]}\t{s[10:]}")(*_split(k.es())), "malformed_token"),
    Attack("newline-inside-payload", lambda k: (lambda h, p, s: f"{h}.{p[:10]}\n{p[10:]}.{s}")(*_split(k.es())), "malformed_token",
           header=SKIP),
    Attack("non-canonical-trailing-bits", lambda k: _non_canonical_tail(k.es()), "malformed_token"),
    Attack("percent-encoded-dot", lambda k: k.es().replace(".", "%2E", 1), "malformed_token"),

    # -- invalid UTF-8 and other bytes JSON does not allow -------------------------------------------
    Attack("invalid-utf8-in-header", lambda k: k.token(b'{"alg":"ES256","kid":"ec-1","x":"\xff"}', k.claims(), k.es256()), "malformed_token"),
    Attack("invalid-utf8-in-claim", lambda k: _with_raw_claims(k, b'"exp":LATER,"name":"\xc3\x28"'), "malformed_token"),
    Attack("overlong-utf8-slash", lambda k: _with_raw_claims(k, b'"exp":LATER,"name":"\xc0\xaf"'), "malformed_token"),
    Attack("utf8-encoded-surrogate", lambda k: _with_raw_claims(k, b'"exp":LATER,"name":"\xed\xa0\x80"'), "malformed_token"),
    Attack("lone-surrogate-escape", lambda k: _with_raw_claims(k, '"exp":LATER,"name":"\\ud800"'), "malformed_token"),
    Attack("byte-order-mark-before-header", lambda k: k.token(b'\xef\xbb\xbf{"alg":"ES256","kid":"ec-1"}', k.claims(), k.es256()),
           "malformed_token"),
    Attack("raw-nul-in-claim-string", lambda k: _with_raw_claims(k, b'"exp":LATER,"name":"a\x00b"'), "malformed_token"),
    Attack("payload-not-an-object", lambda k: k.es(payload=b'["iss","aud"]'), "malformed_token"),
    Attack("payload-trailing-garbage", lambda k: k.es(payload=compact(k.claims()) + b"x"), "malformed_token"),
    Attack("payload-with-comment", lambda k: k.es(payload=b"/*x*/" + compact(k.claims())), "malformed_token"),
    Attack("header-not-an-object", lambda k: k.token(b'["ES256"]', k.claims(), k.es256()), "malformed_token"),

    # -- deeply nested JSON: bounded depth, no recursion blow-up ------------------------------------
    Attack("deeply-nested-header-2500", lambda k: k.token(_nested_array_header(2500), k.claims(), k.es256()), "malformed_token",
           "CVE-2023-1370"),
    Attack("deeply-nested-claims-900", lambda k: k.es(payload=_nested_object_payload(k, 900)), "malformed_token", "CVE-2023-1370"),
    Attack("deeply-nested-claims-33", lambda k: k.es(payload=_nested_object_payload(k, 33)), "malformed_token", "CVE-2023-1370"),
    Attack("deeply-nested-header-300000", lambda k: k.token(_nested_array_header(300000), k.claims(), k.es256()), "malformed_token",
           "CVE-2023-1370", header=HTTP_TOO_LARGE_HEADER, body=HTTP_TOO_LARGE_BODY),

    # -- size --------------------------------------------------------------------------------------
    Attack("token-of-1-mib", _one_mebibyte, "token_too_large", header=HTTP_TOO_LARGE_HEADER, body=HTTP_TOO_LARGE_BODY),

    # -- JWE and nested JWT --------------------------------------------------------------------------
    Attack("jwe-five-segments", lambda k: ".".join([b64(compact({"alg": "RSA-OAEP", "enc": "A256GCM"})), b64(os.urandom(256)),
                                                    b64(os.urandom(12)), b64(os.urandom(64)), b64(os.urandom(16))]),
           "encrypted_token_unsupported"),
    Attack("jwe-five-segments-dir-none", lambda k: ".".join([b64(compact({"alg": "dir", "enc": "A128CBC-HS256", "zip": "DEF"})), "",
                                                             b64(os.urandom(16)), b64(os.urandom(48)), b64(os.urandom(16))]),
           "encrypted_token_unsupported"),
    Attack("nested-jwt-cty-JWT", lambda k: k.es(header={"cty": "JWT"}, payload=k.token({"alg": "none"}, k.claims(sub="admin")).encode()),
           "malformed_token"),
    Attack("nested-jwt-cty-jwt-lowercase", lambda k: k.es(header={"cty": "jwt"}, payload=k.es(sub="admin").encode()), "malformed_token"),
]
