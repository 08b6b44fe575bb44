"""Shared fixtures for the end-to-end tests: they run the built `veto` binary as a user would.

Tokens are minted by an independent implementation (PyJWT on the `cryptography` package), so a
bug shared by Veto's signer and verifier cannot hide."""
import os
import subprocess
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

ISS = "https://auth.example.com"
AUD = "https://api.example.com"
SEED = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyXzQ4MiIsImlzcyI6Imh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbSIs"
        "ImF1ZCI6Imh0dHBzOi8vYXBpLmV4YW1wbGUuY29tIiwiaWF0IjoxNzEyNDAwMDAwLCJleHAiOjE3MTI0MDM2MDB9."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")


@pytest.fixture(scope="session")
def veto_bin():
    path = os.environ.get("VETO_BIN")
    if not path:
        root = Path(__file__).resolve().parents[2]
        path = str(root / ".build" / "debug" / "veto")
    assert Path(path).is_file(), f"veto binary not found at {path}: run `swift build` (Scripts/test does)"
    return path


class Veto:
    def __init__(self, binary, cwd):
        self.binary, self.cwd = binary, cwd

    def __call__(self, *args, input=None, env=None, timeout=60):
        full_env = dict(os.environ, NO_COLOR="1")
        full_env.update(env or {})
        return subprocess.run([self.binary, *map(str, args)], input=input, capture_output=True, text=True,
                              timeout=timeout, cwd=self.cwd, env=full_env)


@pytest.fixture
def veto(veto_bin, tmp_path):
    return Veto(veto_bin, tmp_path)


def pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def pem_private(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class KeyRing:
    """One key per algorithm, written to files in `directory`; `flag(alg)` is the --key argument."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.private, self.files = {}, {}
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        curves = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}
        for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
            self._add(alg, rsa_key, pem_public(rsa_key), "rsa.pem")
        for alg, curve in curves.items():
            key = ec.generate_private_key(curve)
            self._add(alg, key, pem_public(key), f"{alg.lower()}.pem")
        ed = ed25519.Ed25519PrivateKey.generate()
        self._add("EdDSA", ed, pem_public(ed), "ed25519.pem")
        for alg, size in (("HS256", 32), ("HS384", 48), ("HS512", 64)):
            secret = os.urandom(size)
            self._add(alg, secret, secret, f"{alg.lower()}.secret")

    def _add(self, alg, private, public_bytes, name):
        (self.dir / name).write_bytes(public_bytes)
        self.private[alg], self.files[alg] = private, name

    def flag(self, alg):
        return f"{alg}:{self.files[alg]}"

    def token(self, alg="RS256", headers=None, **claims):
        now = int(time.time())
        body = {"iss": ISS, "aud": AUD, "sub": "user_1", "iat": now, "exp": now + 3600, "jti": os.urandom(8).hex()}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, self.private[alg], algorithm=alg, headers=headers)


@pytest.fixture(scope="session")
def keyring(tmp_path_factory):
    return KeyRing(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def kveto(veto_bin, keyring):
    """`veto` run from the key directory, so --key flags can name files relatively."""
    return Veto(veto_bin, keyring.dir)
