"""The attacker's kit behind the attack corpus (attacks.py): the victim's and the attacker's keys,
token building and signing, and the token surgery the table's entries use."""
import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISS = "https://auth.example.com"            # judged by keys.jwks (kids rsa-1 RS256, ec-1 ES256)
ISS_PEM = "https://pem.example.com"         # judged by RS256:rsa.pem and ES256:ec.pem (no kids)
AUD = "https://api.example.com"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SKIP = "skip"
MIB = 1 << 20


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def compact(value):
    """A dict as compact JSON bytes; bytes and str pass unchanged (hand-written JSON)."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":")).encode()
    return value.encode() if isinstance(value, str) else value


class Keys:
    """The victim's keys (written as the files Veto is configured with) and the attacker's."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.attacker_ec = ec.generate_private_key(ec.SECP256R1())
        self.attacker_rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = self.rsa.public_key()
        self.rsa_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.rsa_pkcs1_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        self.rsa_der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.ec_pem = self.ec.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.rsa_jwk = dict(json.loads(RSAAlgorithm.to_jwk(public)), kid="rsa-1", alg="RS256", use="sig")
        self.ec_jwk = dict(json.loads(ECAlgorithm.to_jwk(self.ec.public_key())), kid="ec-1", alg="ES256", use="sig")
        self.jwks = {"keys": [self.rsa_jwk, self.ec_jwk]}
        (self.dir / "rsa.pem").write_bytes(self.rsa_pem)
        (self.dir / "ec.pem").write_bytes(self.ec_pem)
        (self.dir / "keys.jwks").write_text(json.dumps(self.jwks))
        self.attacker_url = "http://127.0.0.1:9/jwks.json"  # replaced by the runner's attacker server

    # -- signers: each takes the signing input and returns the signature bytes --------------------

    def es256(self, key=None):
        key = key or self.ec

        def sign(message):
            r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return sign

    def rs256(self, key=None, digest=hashes.SHA256):
        key = key or self.rsa
        return lambda message: key.sign(message, padding.PKCS1v15(), digest())

    def ps256(self):
        return lambda message: self.rsa.sign(message, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())

    @staticmethod
    def hs(secret, digest=hashlib.sha256):
        return lambda message: hmac.new(secret, message, digest).digest()

    def self_signed_attacker_certificate(self):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "auth.example.com")])
        now = time.time()
        import datetime
        certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                       .public_key(self.attacker_ec.public_key()).serial_number(x509.random_serial_number())
                       .not_valid_before(datetime.datetime.fromtimestamp(now - 60, datetime.timezone.utc))
                       .not_valid_after(datetime.datetime.fromtimestamp(now + 3600, datetime.timezone.utc))
                       .sign(self.attacker_ec, hashes.SHA256()))
        return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()

    # -- tokens ------------------------------------------------------------------------------------

    def claims(self, profile="jwks", **changes):
        now = int(time.time())
        body = {"iss": ISS if profile == "jwks" else ISS_PEM, "aud": AUD, "sub": "attacker", "iat": now,
                "exp": now + 600, "jti": os.urandom(8).hex()}
        body.update(changes)
        return {k: v for k, v in body.items() if v is not None}

    def token(self, header, payload, signer=None, signature=None):
        """header.payload.signature, with `signer` over the real signing input, or a fixed `signature`."""
        signing_input = f"{b64(compact(header))}.{b64(compact(payload))}"
        if signature is None:
            signature = signer(signing_input.encode()) if signer else b""
        return f"{signing_input}.{b64(signature)}"

    def es(self, profile="jwks", header=None, payload=None, **claims):
        """A genuine ES256 token from the victim's key (kid ec-1 in the jwks profile)."""
        head = {"alg": "ES256", "typ": "JWT"}
        if profile == "jwks":
            head["kid"] = "ec-1"
        head.update(header or {})
        return self.token(head, payload if payload is not None else self.claims(profile, **claims), self.es256())

    def rs(self, profile="pem", header=None, **claims):
        head = {"alg": "RS256", "typ": "JWT"}
        if profile == "jwks":
            head["kid"] = "rsa-1"
        head.update(header or {})
        return self.token(head, self.claims(profile, **claims), self.rs256())


@dataclass
class Attack:
    name: str
    build: object              # Keys -> token (str)
    code: str | None           # expected reason code; None: must be allowed (a control)
    advisory: str | None = None
    header: object = None      # HTTP override for the Authorization-header transport: (status, code) or SKIP
    body: object = None        # HTTP override for the JSON-body transport
    cli: object = None         # CLI override: a different expected code
    fetch_guard: bool = False  # the attacker's JWKS server must see no request

    @property
    def id(self):
        return f"{self.advisory}:{self.name}" if self.advisory else self.name


def _split(token):
    return token.split(".")


def _replace_signature(token, signature):
    h, p, _ = _split(token)
    return f"{h}.{p}.{b64(signature)}"


def _signature(token):
    return unb64(_split(token)[2])


def _raw(r, s):
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _standard_alphabet_token(keys):
    # Re-mint until the signature has a '-' or '_', so the standard alphabet really differs.
    for _ in range(200):
        token = keys.es()
        signature = _split(token)[2]
        if "-" in signature or "_" in signature:
            h, p, _ = _split(token)
            return f"{h}.{p}.{signature.replace('-', '+').replace('_', '/')}"
    raise AssertionError("no signature with '-' or '_' in 200 tries")


def _non_canonical_tail(token):
    # ES256: 64 bytes = 86 symbols whose last carries 4 unused bits; set one of them.
    h, p, s = _split(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(s[-1])
    return f"{h}.{p}.{s[:-1]}{alphabet[last | 0x01]}"


def _padded_header(keys):
    # Pad the kid until the header's base64url needs '=' padding, then add it.
    for extra in range(3):
        header = compact({"alg": "ES256", "typ": "JWT", "kid": "ec-1", "x": "y" * extra})
        if len(header) % 3:
            token = keys.token(header, keys.claims(), keys.es256())
            h, p, s = _split(token)
            return f"{h}{'=' * (-len(h) % 4)}.{p}.{s}"
    raise AssertionError("unreachable")


def _nested_array_header(depth):
    return b'{"alg":"ES256","kid":"ec-1","x":' + b"[" * depth + b"]" * depth + b"}"


def _nested_object_payload(keys, depth):
    inner = b"1"
    for _ in range(depth):
        inner = b'{"a":' + inner + b"}"
    claims = compact(keys.claims())
    return claims[:-1] + b',"deep":' + inner + b"}"


def _with_raw_claims(keys, text, profile="jwks"):
    """A genuinely signed token whose payload is hand-written JSON (`text` holds the members)."""
    now = int(time.time())
    base = f'"iss":"{ISS if profile == "jwks" else ISS_PEM}","aud":"{AUD}","sub":"attacker","jti":"{os.urandom(8).hex()}"'
    payload = ("{" + base + "," + text + "}").encode() if isinstance(text, str) else b"{" + base.encode() + b"," + text + b"}"
    payload = payload.replace(b"NOW", str(now).encode()).replace(b"LATER", str(now + 600).encode())
    return keys.es(payload=payload)


def _time(name, value_json):
    """exp/nbf/iat set to a raw JSON value, the others well-formed."""
    members = {"exp": "LATER", "iat": "NOW"}
    members[name] = value_json
    return ",".join(f'"{k}":{v}' for k, v in members.items())


def _one_mebibyte(keys):
    return keys.es(pad="x" * (MIB))


def _none(variant):
    return lambda keys: keys.token({"alg": variant, "typ": "JWT"}, keys.claims())
