#!/usr/bin/env python3
"""Writes the committed seed corpus under Fuzz/Corpus/<target>/ (run once; the files are in git).
Seeds are small, valid examples of each input format, so the fuzzer starts inside the format."""
import base64
import hashlib
import json
import sys
from pathlib import Path

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
import datetime

root = Path(__file__).resolve().parent / "Corpus"


def write(target, name, data):
    folder = root / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ec_key = ec.generate_private_key(ec.SECP256R1())
ed_key = ed25519.Ed25519PrivateKey.generate()
claims = {"iss": "https://fuzz.example", "aud": "api", "sub": "s", "iat": 1712400000, "exp": 1712403600, "jti": "j1"}

# token: mode byte (even: a token to validate; odd: a payload to sign) + bytes
for n, (alg, key) in enumerate([("ES256", ec_key), ("RS256", rsa_key), ("EdDSA", ed_key), ("HS256", b"s" * 32)]):
    write("token", f"token-{alg}", b"\x00" + jwt.encode(claims, key, algorithm=alg, headers={"kid": "k"}).encode())
write("token", "token-none", b"\x00" + jwt.encode(claims, None, algorithm="none").encode())
write("token", "token-jwe", b"\x02" + b"eyJhbGciOiJkaXIiLCJlbmMiOiJBMTI4R0NNIn0..AAAA.BBBB.CCCC")
write("token", "token-crit", b"\x04" + jwt.encode(claims, ec_key, algorithm="ES256", headers={"crit": ["x"], "x": 1}).encode())
for n in range(6):
    write("token", f"payload-{n}", bytes([2 * n + 1]) + json.dumps(dict(claims, n=n)).encode())
write("token", "payload-aud-array", b"\x03" + json.dumps(dict(claims, aud=["api", "x"], nbf=1712400000.5)).encode())

# json
for name, text in {
    "object": '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    "numbers": '[0,-0,1.5e10,-2E-5,123456789012345678901234567890,0.000001]',
    "escapes": '{"s":"\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/"}',
    "unicode": '{"名":"値","emoji":"😀"}',
    "nested": "[[[[[[[[{}]]]]]]]]",
    "claims": json.dumps(claims),
    "whitespace": ' \t\n{ "a" : [ 1 , 2 ] } \r\n',
}.items():
    write("json", name, text.encode())

# jwk: selector byte (algorithm pin) + file
rsa_jwk = dict(json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key())), kid="r", alg="RS256", use="sig")
ec_jwk = dict(json.loads(ECAlgorithm.to_jwk(ec_key.public_key())), kid="e", alg="ES256")
ed_jwk = dict(json.loads(OKPAlgorithm.to_jwk(ed_key.public_key())), kid="o")
oct_jwk = {"kty": "oct", "k": base64.urlsafe_b64encode(b"k" * 32).rstrip(b"=").decode(), "alg": "HS256", "kid": "h"}
write("jwk", "jwk-rsa", b"\x00" + json.dumps(rsa_jwk).encode())
write("jwk", "jwk-ec", b"\x00" + json.dumps(ec_jwk).encode())
write("jwk", "jwk-okp", b"\x0d" + json.dumps(ed_jwk).encode())
write("jwk", "jwk-oct", b"\x01" + json.dumps(oct_jwk).encode())
write("jwk", "jwks", b"\x00" + json.dumps({"keys": [rsa_jwk, ec_jwk, ed_jwk, {"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]}).encode())
write("jwk", "jwks-x5c", b"\x00" + json.dumps({"keys": [dict(ec_jwk, x5c=["MIIB"])]}).encode())
write("jwk", "pem-public", b"\x04" + rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
write("jwk", "secret", b"\x01" + b"0123456789abcdef0123456789abcdef")
# A secret JWK may carry PEM armour in any string member; it is still a declared secret.
write("jwk", "jwk-oct-pem-text", b"\x00" + json.dumps(dict(oct_jwk, kid="-----BEGIN PUBLIC KEY-----")).encode())
# PEM armour inside a raw-secret file: refused for HS*, never an HMAC key.
write("jwk", "secret-pem-text", b"\x01" + b"0123456789abcdef0123456789abcdef-----BEGIN PUBLIC KEY-----")

# pem: label byte, algorithm byte, DER body (label byte >= 0x80: the whole file raw)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fuzz")])
now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ec_key.public_key())
               .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1)).sign(ec_key, hashes.SHA256()))
spki = serialization.PublicFormat.SubjectPublicKeyInfo
der = serialization.Encoding.DER
write("pem", "spki-rsa", b"\x00\x01" + rsa_key.public_key().public_bytes(der, spki))
write("pem", "spki-ec", b"\x00\x03" + ec_key.public_key().public_bytes(der, spki))
write("pem", "spki-ed25519", b"\x00\x06" + ed_key.public_key().public_bytes(der, spki))
write("pem", "pkcs1-rsa-public", b"\x01\x01" + rsa_key.public_key().public_bytes(der, serialization.PublicFormat.PKCS1))
write("pem", "certificate-ec", b"\x02\x03" + certificate.public_bytes(der))
write("pem", "pkcs8-ec", b"\x03\x03" + ec_key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
write("pem", "sec1-ec", b"\x05\x03" + ec_key.private_bytes(der, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))
write("pem", "raw-pem-file", b"\x80\x00" + certificate.public_bytes(serialization.Encoding.PEM) + ec_key.public_key().public_bytes(serialization.Encoding.PEM, spki))

# resp: chunk-size byte + a stream of replies
for n, stream in enumerate([
    b"+OK\r\n", b"-ERR wrong number of arguments\r\n", b":1712400000\r\n", b"$-1\r\n", b"*-1\r\n",
    b"$5\r\nhello\r\n$0\r\n\r\n",
    b"*2\r\n$-1\r\n$66\r\n" + json.dumps({"iss": "i", "jti": "j", "revoked_at": 1.5, "reason": "logout"}).encode()[:66].ljust(66) + b"\r\n",
    b"*3\r\n:1\r\n*2\r\n+a\r\n-ERR inner\r\n$1\r\nx\r\n",
    b"*1\r\n*1\r\n*1\r\n*1\r\n:0\r\n",
]):
    write("resp", f"reply-{n}", bytes([n * 5]) + stream)
print(f"seeds written under {root}", file=sys.stderr)
