"""Issue 12, "a flood of invalid tokens": at the default --log-level info, Veto logged one line per
refusal (22 MB of log in 8 s, a third of the throughput). Refusals are counted in /metrics always,
and logged at most N per reason per second (per event loop), the rest summed up in one
"suppressed N refusal log lines for reason …" line."""
import http.client
import math
import os
import re
import time

import jwt

from conftest import AUD, ISS
from services import VetoServer, request, wait_for

SUPPRESSED = re.compile(r"suppressed (\d+) refusal log lines for reason signature_invalid in 1 s")


def bad_signature_tokens(count):
    now = int(time.time())
    secret = os.urandom(32)
    return [jwt.encode({"iss": ISS, "aud": AUD, "sub": f"user-{index}", "jti": f"flood-{index}", "iat": now, "exp": now + 600},
                       secret, algorithm="HS256") for index in range(count)]


def send_all(port, tokens):
    """Every token on one keep-alive connection, as a gateway would; returns the seconds it took."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for token in tokens:
        connection.request("GET", "/v1/check", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        assert response.status == 401, response.status
        assert response.getheader("X-Veto-Error") == "signature_invalid"
    connection.close()
    return time.monotonic() - started


def metric(port, name, labels):
    text = request(port, "GET", "/metrics")[2].decode()
    match = re.search(re.escape(name) + r"\{" + re.escape(labels) + r"\} (\d+)", text)
    return int(match.group(1)) if match else 0


def serve(veto_bin, keyring, tmp_path, *extra):
    return VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", f"HS256:{keyring.dir / keyring.files['HS256']}",
                                 "--data-dir", str(tmp_path / "data"), *extra], cwd=tmp_path)


def test_flood_of_invalid_tokens_is_counted_always_and_logged_a_few_lines_a_second(veto_bin, keyring, tmp_path):
    count = 2_000
    server = serve(veto_bin, keyring, tmp_path)   # default settings: --log-level info, 10 per reason per second
    try:
        seconds = send_all(server.port, bad_signature_tokens(count))

        def denied_lines():
            return [line for line in server.logs().splitlines() if line.endswith("[VetoServer] denied")]

        def suppressed_total():
            return sum(int(match.group(1)) for match in SUPPRESSED.finditer(server.logs()))

        # Each loop's timer writes the summary of the last second within about a second.
        wait_for(lambda: len(denied_lines()) + suppressed_total() >= count, timeout=10, what=f"{count} refusals logged or summed up")
        denied = denied_lines()
        loops = len(os.sched_getaffinity(0))   # by default veto serve runs one event loop per usable CPU (at most)
        assert len(denied) <= 10 * loops * (math.ceil(seconds) + 1), f"{len(denied)} denied lines for {count} refusals in {seconds:.1f} s"
        assert len(denied) >= 10, "the first refusals of a second are logged"
        assert suppressed_total() >= 1 and len(denied) + suppressed_total() == count, (len(denied), suppressed_total())
        assert all("code=signature_invalid" in line for line in denied)
        # Metrics count every refusal.
        assert metric(server.port, "veto_rejections_total", 'reason="signature_invalid"') == count
        assert len(server.logs().encode()) < 200 * 1024, "the log stays small"
    finally:
        server.stop()


def test_flood_refusal_logging_can_be_turned_off_by_configuration(veto_bin, keyring, tmp_path):
    (tmp_path / "veto.yaml").write_text("log:\n  refusals_per_second: 0\n")
    server = serve(veto_bin, keyring, tmp_path, "--config", "veto.yaml")
    try:
        send_all(server.port, bad_signature_tokens(200))
        time.sleep(1.5)
        assert "denied" not in server.logs() and "suppressed" not in server.logs(), server.logs()[-2000:]
        assert metric(server.port, "veto_rejections_total", 'reason="signature_invalid"') == 200
    finally:
        server.stop()


def test_flood_refusal_limit_flag(veto_bin, keyring, tmp_path):
    server = serve(veto_bin, keyring, tmp_path, "--log-refusals-per-second", "2", "--threads", "1")
    try:
        send_all(server.port, bad_signature_tokens(300))
        wait_for(lambda: SUPPRESSED.search(server.logs()), timeout=10, what="a summary line")
        denied = [line for line in server.logs().splitlines() if line.endswith("[VetoServer] denied")]
        assert 2 <= len(denied) <= 2 * 4, len(denied)
    finally:
        server.stop()
