"""Issue 16's end-to-end kit: a simulated OpenID provider, the keys and HTTP servers it and the
Shared Signals transmitter (ssf_kit.py) are built from, and `veto serve` with its admin API and checks.

The simulators are independent of Veto: keys are made here with `cryptography`, tokens are signed
here (the JWS compact form, no JOSE library), and each serves HTTP on loopback.
`OpenIDProvider` publishes its JWKS at /jwks, mints access tokens (iss, sub, sid, aud, iat, exp, jti,
and azp, client_id, email as asked) and logout tokens (OIDC Back-Channel Logout 1.0 §2.4), and POSTs
them to Veto (§2.5). Every simulator can be stopped and started again on the same port."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import textwrap
import threading
import time
import types
import urllib.parse
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from replica_kit import metric, metrics
from services import VetoServer, request, wait_for

BCL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
CAEP = "https://schemas.openid.net/secevent/caep/event-type/"
RISC = "https://schemas.openid.net/secevent/risc/event-type/"
SESSION_REVOKED = CAEP + "session-revoked"
CREDENTIAL_CHANGE = CAEP + "credential-change"
TOKEN_CLAIMS_CHANGE = CAEP + "token-claims-change"
ACCOUNT_DISABLED = RISC + "account-disabled"
ACCOUNT_PURGED = RISC + "account-purged"
SESSIONS_REVOKED = RISC + "sessions-revoked"
CREDENTIAL_COMPROMISE = RISC + "credential-compromise"
VERIFICATION = "https://schemas.openid.net/secevent/ssf/event-type/verification"
EVENTS = [SESSION_REVOKED, CREDENTIAL_CHANGE, TOKEN_CLAIMS_CHANGE, ACCOUNT_DISABLED, ACCOUNT_PURGED, SESSIONS_REVOKED,
          CREDENTIAL_COMPROMISE, VERIFICATION]
PUSH_METHOD, POLL_METHOD = "urn:ietf:rfc:8935", "urn:ietf:rfc:8936"
OMIT = object()  # a claim or header member left out
ADMIN_TOKEN = "admin-token-for-signal-tests-0123456789"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unique(prefix):
    return f"{prefix}-{os.urandom(5).hex()}"


def claims_of(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _clean(members):
    return {k: v for k, v in members.items() if v is not OMIT}


class Key:
    """An RSA key pair with a kid; `sign` makes a JWS compact serialization of any header and claims."""

    def __init__(self, kid):
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self):
        numbers = self.private.public_key().public_numbers()
        raw = lambda n: n.to_bytes((n.bit_length() + 7) // 8, "big")
        return {"kty": "RSA", "kid": self.kid, "alg": "RS256", "use": "sig", "n": b64(raw(numbers.n)), "e": b64(raw(numbers.e))}

    def sign(self, header, claims, alg="RS256"):
        header = _clean({"alg": alg, "kid": self.kid, **header})
        body = claims if isinstance(claims, (bytes, str)) else json.dumps(_clean(claims))
        body = body.encode() if isinstance(body, str) else body
        signing_input = f"{b64(json.dumps(header).encode())}.{b64(body)}".encode()
        if alg == "none":
            signature = b""
        elif alg.startswith("HS"):
            signature = hmac.new(os.urandom(32), signing_input, getattr(hashlib, "sha" + alg[2:])).digest()
        else:
            digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
            signature = self.private.sign(signing_input, padding.PKCS1v15(), digest)
        return f"{signing_input.decode()}.{b64(signature)}"


class Stub:
    """A loopback HTTP server whose `route(method, path, query, headers, body)` answers
    (status, headers, body); `stop()` then `start()` serves again on the same port."""

    def __init__(self):
        self.port, self.server = None, None

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _serve(self):
                parsed = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = dict(urllib.parse.parse_qsl(parsed.query))
                status, headers, data = outer.route(self.command, parsed.path, query, self.headers, body)
                data = json.dumps(data).encode() if isinstance(data, (dict, list)) else (data or b"")
                self.send_response(status)
                fields = {"Content-Type": "application/json"} if data else {}
                fields.update(headers)
                for name, value in fields.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"


class OpenIDProvider(Stub):
    """Publishes two RS256 keys (kids op-1, op-2) at /jwks; `rogue` has kid op-1 but is not published."""

    def __init__(self, issuer="https://op.test"):
        super().__init__()
        self.issuer = issuer
        self.keys = [Key("op-1"), Key("op-2")]
        self.rogue = Key("op-1")
        self.start()

    @property
    def jwks_url(self):
        return self.base + "/jwks"

    def route(self, method, path, query, headers, body):
        if method == "GET" and path == "/jwks":
            return 200, {}, {"keys": [key.jwk() for key in self.keys]}
        if method == "GET" and path == "/.well-known/openid-configuration":
            return 200, {}, {"issuer": self.issuer, "jwks_uri": self.jwks_url, "backchannel_logout_supported": True,
                             "backchannel_logout_session_supported": True}
        return 404, {}, {"error": "not_found"}

    def access_token(self, sub, *, sid=None, aud="api", iat=None, exp=None, jti=None, key=None, **extra):
        """`extra` adds claims such as azp, client_id, email; OMIT leaves out iat, exp or jti."""
        now = int(time.time())
        iat = now if iat is None else iat
        claims = {"iss": self.issuer, "sub": sub, "aud": aud, "iat": iat,
                  "exp": (now + 600) if exp is None else exp, "jti": jti or os.urandom(8).hex()}
        if sid is not None:
            claims["sid"] = sid
        claims.update(extra)
        return (key or self.keys[0]).sign({"typ": "JWT"}, claims)

    def logout_token(self, *, sub=None, sid=None, aud="client-a", iat=None, exp=None, jti=None, events=None,
                     typ="logout+jwt", key=None, alg="RS256", iss=None, kid=None, **extra):
        """A logout token as §2.4 describes it; `extra` adds claims (nonce), OMIT removes iat, exp, jti, events."""
        now = int(time.time())
        iat = now if iat is None else iat
        claims = {"iss": iss or self.issuer, "aud": aud, "iat": iat, "exp": (now + 120) if exp is None else exp,
                  "jti": jti or os.urandom(8).hex(), "events": {BCL_EVENT: {}} if events is None else events}
        if sub is not None:
            claims["sub"] = sub
        if sid is not None:
            claims["sid"] = sid
        claims.update(extra)
        header = {"typ": typ} if kid is None else {"typ": typ, "kid": kid}
        return (key or self.keys[0]).sign(header, claims, alg=alg)

    @staticmethod
    def send_logout(port, token=None, form=None):
        """POSTs the logout token as the OP does (§2.5): form-encoded `logout_token`."""
        body = form if form is not None else urllib.parse.urlencode({"logout_token": token})
        return request(port, "POST", "/oidc/backchannel-logout", body=body,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})


def check(port, token):
    """(status, X-Veto-Error) of GET /v1/check."""
    status, headers, _ = request(port, "GET", "/v1/check", token, timeout=10)
    return status, headers.get("x-veto-error", "")


def cutoffs_written(port, kind, created_by):
    """veto_cutoffs_written_total{kind, created_by} (0 when absent)."""
    samples = metrics(types.SimpleNamespace(port=port))
    return metric(samples, "veto_cutoffs_written_total", kind=kind, created_by=created_by) or 0


def signal_events(port, **labels):
    """The sum of veto_signal_events_total samples whose labels include `labels` (0 when none)."""
    return metric(metrics(types.SimpleNamespace(port=port)), "veto_signal_events_total", **labels) or 0


def start_veto(veto_bin, workdir, config, store, redis=None, port=None, command_timeout=0.5):
    """Writes veto.yaml (the admin token, the store: `redis` or the embedded `data_dir`, then `config`)
    in `workdir` and starts `veto serve --config veto.yaml` there."""
    workdir = Path(workdir)
    (workdir / "admin.token").write_text(ADMIN_TOKEN + "\n")
    head = "admin_token_file: admin.token\n"
    if store == "redis":
        head += f"redis:\n  url: {redis.url}\n  command_timeout: {command_timeout}\n"
    else:
        head += "data_dir: data\n"
    (workdir / "veto.yaml").write_text(head + textwrap.dedent(config))
    return VetoServer(veto_bin, ["--config", "veto.yaml"], workdir, port=port)


def admin(port, method, path, body=None, **query):
    """(status, JSON document or raw body) of an admin API call."""
    if query:
        path += "?" + urllib.parse.urlencode(query)
    status, _, data = request(port, method, path, ADMIN_TOKEN, body=body)
    try:
        return status, json.loads(data) if data else None
    except ValueError:
        return status, data


def eventually(predicate, timeout, what):
    """`wait_for`, with the message `what()` made when it fails, so that it shows the state then."""
    try:
        wait_for(predicate, timeout=timeout, what="")
    except AssertionError:
        raise AssertionError(f"not within {timeout} s: {what()}") from None


def cutoff(port, iss, by, value):
    """(status, document) of GET /v1/admin/cutoffs for one rule."""
    return admin(port, "GET", "/v1/admin/cutoffs", iss=iss, by=by, value=value)
