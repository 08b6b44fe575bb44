"""The attack corpus (attacks.py) against `veto verify` and against `/v1/check` of a running
`veto serve` with a real redis-server, over real HTTP: the Authorization header and the JSON body.
Every answer must carry the exact reason code; the controls must be allowed."""
import http.client
import json
import subprocess

import pytest

from attacks import ATTACKS, AUD, ISS, ISS_PEM, SKIP, Keys, unb64
from services import JWKSServer, Redis, VetoServer, json_body, request

BY_ID = {attack.id: attack for attack in ATTACKS}
assert len(BY_ID) == len(ATTACKS), "attack names must be unique"


@pytest.fixture(scope="module")
def attacker():
    """An attacker's JWKS server that jku/x5u headers point at; it must never be asked."""
    server = JWKSServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, attacker):
    keys = Keys(tmp_path_factory.mktemp("attack-keys"))
    keys.attacker_url = attacker.url
    return keys


@pytest.fixture(scope="module")
def target(veto_bin, corpus):
    (corpus.dir / "veto.yaml").write_text(f"""
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [keys.jwks]
  - issuer: {ISS_PEM}
    audiences: [{AUD}]
    keys: [RS256:rsa.pem, ES256:ec.pem]
""")
    redis = Redis()
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--redis", redis.url], cwd=corpus.dir)
    yield server
    server.stop()
    redis.stop()
    logs = server.logs()
    # A token never reaches the logs, whatever it contains; and when the binary is built with
    # AddressSanitizer (Scripts/test-asan), the whole corpus leaves no finding, leaks included.
    assert corpus.es().split(".")[0] not in logs
    assert "Sanitizer" not in logs, logs[logs.find("Sanitizer") - 200:][:3000]


def verify(veto_bin, corpus, token):
    """`veto verify --json` with the token on stdin (no argv length limit, any byte)."""
    arguments = [veto_bin, "verify", "-", "--json", "--require", "jti", "--aud", AUD]
    # The issuer decides the keys, exactly as the service routes by iss: try the PEM issuer's
    # keys when the token says so, the JWKS otherwise.
    if ISS_PEM.encode() in _payload_bytes(token):
        arguments += ["--iss", ISS_PEM, "--key", "RS256:rsa.pem", "--key", "ES256:ec.pem"]
    else:
        arguments += ["--iss", ISS, "--jwks", "keys.jwks"]
    return subprocess.run(arguments, input=token.encode(), capture_output=True, timeout=60, cwd=corpus.dir,
                          env={"NO_COLOR": "1", "PATH": "/usr/bin:/bin"})


def _payload_bytes(token):
    parts = token.split(".")
    if len(parts) < 2:
        return b""
    try:
        return unb64(parts[1].strip())
    except Exception:
        return b""


def expected_http(attack, transport):
    override = getattr(attack, transport)
    if override is not None:
        return override
    return (200, None) if attack.code is None else (401, attack.code)


@pytest.mark.parametrize("attack_id", list(BY_ID))
def test_cli(veto_bin, corpus, attacker, attack_id):
    attack = BY_ID[attack_id]
    before = attacker.requests
    token = attack.build(corpus)
    process = verify(veto_bin, corpus, token)
    expected = attack.cli or attack.code
    assert process.returncode in (0, 1), process.stderr.decode()[-2000:]
    report = json.loads(process.stdout)
    codes = [error["code"] for error in report["errors"]]
    if expected is None:
        assert process.returncode == 0 and report["valid"] is True and codes == [], codes
    else:
        assert process.returncode == 1 and report["valid"] is False
        assert codes and codes[0] == expected, codes
    if attack.fetch_guard:
        assert attacker.requests == before, "veto verify fetched a key named by the token header"


# A token with a newline cannot travel inside an HTTP header field: those pairs are not generated.
SERVICE_CASES = [(attack.id, transport) for attack in ATTACKS for transport in ("header", "body")
                 if getattr(attack, transport) != SKIP]


@pytest.mark.parametrize("attack_id,transport", SERVICE_CASES, ids=[f"{a}-{t}" for a, t in SERVICE_CASES])
def test_service(target, corpus, attacker, attack_id, transport):
    attack = BY_ID[attack_id]
    status_expected, code_expected = expected_http(attack, transport)
    before = attacker.requests
    token = attack.build(corpus)
    if transport == "header":
        status, headers, body = send(target.port, "GET", "/v1/check", headers={"Authorization": f"Bearer {token}"})
    else:
        status, headers, body = send(target.port, "POST", "/v1/check", body=json.dumps({"token": token}).encode(),
                                     headers={"Content-Type": "application/json"})
    assert status == status_expected, (status, body[:300])
    if status == 200:
        assert json_body(body)["active"] is True
    elif code_expected is not None:
        document = json_body(body)
        assert document["active"] is False and document["error"] == code_expected, document
        if status == 401:
            assert headers.get("x-veto-error") == code_expected
            challenge = headers.get("www-authenticate", "")
            assert challenge.startswith("Bearer ") and 'error="invalid_token"' in challenge, challenge
    if attack.fetch_guard:
        assert attacker.requests == before, "veto serve fetched a key named by the token header"
    # The service is still answering after every attack.
    assert request(target.port, "GET", "/healthz")[0] == 200


def send(port, method, path, body=None, headers=None):
    """One request; a server that answers early and closes while a large body is still being sent
    is read, not treated as a failure."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(method, path)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        if body is not None:
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def test_configuring_a_public_key_as_an_hmac_secret_is_refused(veto_bin, corpus):
    """The key-confusion family at load time: a public key (PEM, DER, JWK) can never become an HMAC key."""
    (corpus.dir / "rsa.der").write_bytes(corpus.rsa_der)
    (corpus.dir / "rsa.jwk").write_text(json.dumps(corpus.rsa_jwk))
    token = corpus.token({"alg": "HS256"}, corpus.claims("pem"), corpus.hs(corpus.rsa_pem))
    for key in ("HS256:rsa.pem", "HS256:rsa.der", "HS256:rsa.jwk", "HS256:keys.jwks"):
        process = subprocess.run([veto_bin, "verify", token, "--key", key], capture_output=True, text=True, cwd=corpus.dir, timeout=60)
        assert process.returncode == 2, (key, process.stdout, process.stderr)
    process = subprocess.run([veto_bin, "serve", "--listen", "127.0.0.1:0", "--issuer", ISS_PEM, "--key", "HS256:rsa.pem",
                              "--data-dir", str(corpus.dir / "data")], capture_output=True, text=True, cwd=corpus.dir, timeout=60)
    assert process.returncode != 0 and "key-confusion" in (process.stdout + process.stderr), process.stderr
