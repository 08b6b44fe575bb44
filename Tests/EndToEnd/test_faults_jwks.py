"""Fault injection on the issuer's JWKS endpoint, through `veto serve --config` with `jwks_url`:
an endpoint that is slow, trickles its body, answers garbage, or answers a huge (or endless) body.
The cached keys keep serving throughout, a fetch is cut off by its timeout and its size limit,
and the service picks up good keys again once the endpoint recovers."""
import http.server
import json
import os
import re
import threading
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from conftest import AUD, ISS
from load import Load, record
from services import VetoServer, json_body, request

JWKS_TIMEOUT = 1.0
MAX_DOCUMENT = 1 << 20       # RemoteKeyConfiguration.maxDocumentSize


class FaultyJWKS:
    """A JWKS endpoint whose behaviour the test switches: ok, slow, trickle, garbage, huge, endless."""

    def __init__(self, document):
        self.document, self.mode = document, "ok"
        self.requests, self.bytes_sent = 0, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.requests += 1
                mode, body = outer.mode, json.dumps(outer.document).encode()
                sent = 0
                try:
                    if mode == "slow":
                        time.sleep(10)
                    if mode == "garbage":
                        body = b"<html><body>502 Bad Gateway</body></html>\x00\xff"
                    if mode == "garbage-json":
                        body = b'{"keys": "all of them", "keys2": [1, 2]}'
                    if mode in ("huge", "endless"):
                        self.send_response(200)
                        self.send_header("Content-Type", "application/json")
                        if mode == "huge":
                            self.send_header("Content-Length", str(64 << 20))
                        else:
                            self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        chunk = b'{"keys":[' + b" " * ((1 << 16) - 9)
                        for _ in range(1024):   # at most 64 MiB, whatever the client does
                            if mode == "endless":
                                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            else:
                                self.wfile.write(chunk)
                            sent += len(chunk)
                            chunk = b" " * (1 << 16)
                        return
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if mode == "trickle":
                        for byte in body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            sent += 1
                            time.sleep(0.05)
                    else:
                        self.wfile.write(body)
                        sent = len(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    outer.bytes_sent.append((mode, sent))

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def jwk(private, kid):
    return dict(json.loads(ECAlgorithm.to_jwk(private.public_key())), kid=kid, alg="ES256", use="sig")


def token(private, kid):
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": AUD, "sub": "u", "iat": now, "exp": now + 600, "jti": os.urandom(6).hex()},
                      private, algorithm="ES256", headers={"kid": kid})


@pytest.fixture
def remote(veto_bin, tmp_path):
    k1, k2 = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    jwks = FaultyJWKS({"keys": [jwk(k1, "k1")]})
    (tmp_path / "veto.yaml").write_text(f"""
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    jwks_url: {jwks.url}
    jwks_refresh_interval: 1
    jwks_refetch_interval: 1
    jwks_timeout: {JWKS_TIMEOUT}
""")
    server = VetoServer(veto_bin, ["--config", "veto.yaml", "--data-dir", "data"], cwd=tmp_path)
    try:
        assert request(server.port, "GET", "/v1/check", token(k1, "k1"))[0] == 200
        yield {"jwks": jwks, "veto": server, "k1": k1, "k2": k2}
    finally:
        server.stop()
        jwks.stop()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def failed_fetches(port):
    text = request(port, "GET", "/metrics")[2].decode()
    return sum(float(v) for v in re.findall(r'veto_jwks_fetches_total\{[^}]*outcome="error"[^}]*\} ([0-9.e+]+)', text))


@pytest.mark.parametrize("mode", ["slow", "trickle", "garbage", "garbage-json", "huge", "endless"])
def test_jwks_fault_keeps_cached_keys_and_bounds_the_fetch(remote, mode):
    jwks, veto, k1, k2 = remote["jwks"], remote["veto"], remote["k1"], remote["k2"]
    rss_before = rss_kib(veto.process.pid)
    errors_before = failed_fetches(veto.port)
    jwks.mode = mode
    cached = [("valid", token(k1, "k1")) for _ in range(8)]
    with Load(veto.port, cached, threads=3, limit_seconds=20) as load:
        # An unknown kid forces a refetch right now, against the faulty endpoint.
        started = time.monotonic()
        status, _, body = request(veto.port, "GET", "/v1/check", token(k2, "k2"), timeout=15)
        unknown_kid_latency = time.monotonic() - started
        assert status == 401 and json_body(body)["error"] == "unknown_key_id", (status, body)
        assert unknown_kid_latency <= JWKS_TIMEOUT + 1.5, unknown_kid_latency
        time.sleep(2.5)   # background refreshes hit the fault too
    answers = load.snapshot()
    assert len(answers) >= 20
    assert all(a.status == 200 for a in answers), [a for a in answers if a.status != 200][:3]
    slowest_cached = max(a.latency for a in answers)
    assert slowest_cached <= 1.0, f"a check with a cached key waited {slowest_cached:.2f} s on the JWKS fetch"
    assert failed_fetches(veto.port) > errors_before, "the faulty fetch was not counted as an error"
    rss_growth = (rss_kib(veto.process.pid) - rss_before) / 1024
    assert rss_growth < 64, f"RSS grew by {rss_growth:.0f} MiB"
    if mode in ("huge", "endless"):
        largest = max(sent for m, sent in jwks.bytes_sent if m == mode)
        # The client stops reading at the limit; the kernel's socket buffers hold a few MiB more.
        assert largest < 64 << 20, f"the whole {largest} bytes were read: no size limit"
    # Recovery: the endpoint is good again and now publishes k2; the next refetch picks it up.
    jwks.document = {"keys": [jwk(k1, "k1"), jwk(k2, "k2")]}
    jwks.mode = "ok"
    time.sleep(1.1)       # past the refetch rate limit
    recovered_at = time.monotonic()
    deadline = recovered_at + 10
    while time.monotonic() < deadline:
        if request(veto.port, "GET", "/v1/check", token(k2, "k2"))[0] == 200:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the new key was never picked up after the endpoint recovered")
    recovery = time.monotonic() - recovered_at
    record(f"jwks_{mode}", unknown_kid_latency_s=round(unknown_kid_latency, 3), cached_checks=len(answers),
           slowest_cached_check_s=round(slowest_cached, 3), rss_growth_mib=round(rss_growth, 1), recovery_s=round(recovery, 3),
           bytes_sent_per_fetch=[sent for m, sent in jwks.bytes_sent if m == mode][:4])
