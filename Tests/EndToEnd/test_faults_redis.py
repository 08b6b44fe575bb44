"""Fault injection on the store, under load, with a real redis-server and `veto serve` over real HTTP:
Redis killed with -9 and restarted, paused with SIGSTOP, slowed with DEBUG SLEEP. And SIGTERM on
Veto while requests are in flight, including requests still waiting on Redis.

What must hold in every case: no revoked token is ever allowed, a valid token is never denied
(only 503 while the store is unreadable), the 503s stop within a bounded time once Redis is back,
and every request gets an answer within a bounded time."""
import os
import signal
import threading
import time

import pytest

from conftest import AUD, ISS
from load import Load, record
from services import Redis, VetoServer, request

COMMAND_TIMEOUT = 0.5      # redis.command_timeout given to Veto
RECOVERY_BOUND = 3.0       # s from Redis answering again to Veto allowing again (backoff is capped at 1 s)
LATENCY_BOUND = 2 * COMMAND_TIMEOUT + 1.0   # no request waits longer than this, whatever Redis does


def start_veto(veto_bin, workdir, redis, command_timeout=COMMAND_TIMEOUT, extra=""):
    (workdir / "veto.yaml").write_text(f"""
redis:
  url: {redis.url}
  command_timeout: {command_timeout}
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [ec.pem]
{extra}""")
    return VetoServer(veto_bin, ["--config", "veto.yaml"], cwd=workdir)


@pytest.fixture
def stack(veto_bin, keyring, tmp_path):
    """Redis with an fsync-always append-only file (so a kill -9 loses no acknowledged revocation),
    and Veto in front of it, with 24 valid and 24 revoked tokens."""
    (tmp_path / "ec.pem").write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    redis = Redis(args=["--appendonly", "yes", "--appendfsync", "always", "--enable-debug-command", "yes"])
    server = start_veto(veto_bin, tmp_path, redis)
    valid = [("valid", keyring.token("ES256")) for _ in range(24)]
    revoked = [("revoked", keyring.token("ES256")) for _ in range(24)]
    for _, token in revoked:
        status, _, body = request(server.port, "POST", "/v1/revoke", token)
        assert status == 200, body
    tokens = [pair for both in zip(valid, revoked) for pair in both]
    try:
        yield {"redis": redis, "veto": server, "tokens": tokens, "dir": tmp_path}
    finally:
        server.stop()
        redis.stop()


def assert_fail_closed(answers):
    """The invariants of every store fault."""
    assert answers, "the load generator sent nothing"
    revoked_allowed = [a for a in answers if a.kind == "revoked" and a.status == 200]
    assert not revoked_allowed, f"{len(revoked_allowed)} revoked tokens were allowed"
    for answer in answers:
        if answer.kind == "revoked":
            assert answer.status in (401, 503), answer
            if answer.status == 401:
                assert answer.error == "token_revoked", answer
        else:
            assert answer.status in (200, 503), answer
            if answer.status == 503:
                assert answer.error == "store_unavailable", answer
    slowest = max(a.latency for a in answers)
    assert slowest <= LATENCY_BOUND, f"a request took {slowest:.2f} s"
    return slowest


def outage_summary(load, fault_at, back_at):
    """503 window and recovery, measured on the answers the clients saw."""
    answers = load.snapshot()
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "the fault produced no 503 at all"
    first_503 = min(a.sent for a in unavailable) - fault_at
    last_503 = max(a.sent + a.latency for a in unavailable) - back_at
    allowed_after = [a.sent + a.latency for a in answers if a.kind == "valid" and a.status == 200 and a.sent >= back_at]
    assert allowed_after, "Veto never allowed again after Redis came back"
    recovery = min(allowed_after) - back_at
    return {"requests": len(answers), "unavailable_503": len(unavailable), "first_503_after_fault_s": round(first_503, 3),
            "last_503_after_recovery_s": round(last_503, 3), "recovery_s": round(recovery, 3),
            "slowest_request_s": round(max(a.latency for a in answers), 3)}


def test_redis_killed_with_sigkill_and_restarted_under_load(stack):
    redis, veto = stack["redis"], stack["veto"]
    with Load(veto.port, stack["tokens"], threads=4, limit_seconds=30) as load:
        load.wait_for(lambda a: sum(x.status == 200 for x in a) >= 50, 10, "steady allows before the fault")
        killed_at = time.monotonic()
        redis.kill()
        time.sleep(2.0)
        redis.start()                 # same port and directory: the append-only file is replayed
        back_at = time.monotonic()
        load.wait_for(lambda a: any(x.status == 200 and x.sent > back_at for x in a), RECOVERY_BOUND, "allows after the restart")
        time.sleep(1.0)
    answers = load.snapshot()
    assert_fail_closed(answers)
    summary = outage_summary(load, killed_at, back_at)
    assert summary["recovery_s"] <= RECOVERY_BOUND, summary
    assert summary["last_503_after_recovery_s"] <= RECOVERY_BOUND, summary
    # Revocations acknowledged before the crash are still there after it. Each event loop has its
    # own Redis connection and reconnects on its own backoff: look once the last 503 is over.
    settled = back_at + summary["last_503_after_recovery_s"]
    late = [a for a in answers if a.kind == "revoked" and a.sent > settled]
    assert late and all(a.status == 401 for a in late), (summary, [a for a in late if a.status != 401][:3])
    record("redis_kill9_restart", **summary)


def test_redis_paused_with_sigstop_under_load(stack):
    redis, veto = stack["redis"], stack["veto"]
    with Load(veto.port, stack["tokens"], threads=4, limit_seconds=30) as load:
        load.wait_for(lambda a: sum(x.status == 200 for x in a) >= 50, 10, "steady allows before the fault")
        paused_at = time.monotonic()
        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            load.wait_for(lambda a: any(x.status == 503 and x.sent > paused_at for x in a), LATENCY_BOUND + 1, "503 while paused")
            time.sleep(2.0)
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        back_at = time.monotonic()
        load.wait_for(lambda a: any(x.status == 200 and x.sent > back_at for x in a), RECOVERY_BOUND, "allows after SIGCONT")
        time.sleep(1.0)
    assert_fail_closed(load.snapshot())
    summary = outage_summary(load, paused_at, back_at)
    assert summary["recovery_s"] <= RECOVERY_BOUND, summary
    record("redis_sigstop", **summary)


def test_redis_slowed_with_debug_sleep_under_load(stack):
    redis, veto = stack["redis"], stack["veto"]
    sleeps = []
    with Load(veto.port, stack["tokens"], threads=4, limit_seconds=30) as load:
        load.wait_for(lambda a: sum(x.status == 200 for x in a) >= 50, 10, "steady allows before the fault")
        slowed_at = time.monotonic()
        # Three stalls longer than the command timeout, and shorter ones Veto should ride out.
        for seconds in ("2", "0.2", "2", "0.1", "1.5"):
            sleeps.append(redis.cli("DEBUG", "SLEEP", seconds))
        back_at = time.monotonic()
        load.wait_for(lambda a: any(x.status == 200 and x.sent > back_at for x in a), RECOVERY_BOUND, "allows after the stalls")
        time.sleep(1.0)
    assert sleeps == ["OK"] * 5, sleeps
    assert_fail_closed(load.snapshot())
    summary = outage_summary(load, slowed_at, back_at)
    assert summary["recovery_s"] <= RECOVERY_BOUND, summary
    record("redis_debug_sleep", stalls_s=[2, 0.2, 2, 0.1, 1.5], **summary)


def test_sigterm_answers_requests_still_waiting_on_redis(veto_bin, keyring, tmp_path):
    """Requests inside Veto, waiting on a paused Redis, when SIGTERM arrives: every one is answered
    with its real verdict once Redis resumes, and then Veto exits cleanly."""
    (tmp_path / "ec.pem").write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    redis = Redis()
    veto = start_veto(veto_bin, tmp_path, redis, command_timeout=5)
    try:
        revoked = keyring.token("ES256")
        assert request(veto.port, "POST", "/v1/revoke", revoked)[0] == 200
        tokens = [("valid", keyring.token("ES256")) if n % 2 else ("revoked", revoked) for n in range(16)]
        results = {}

        def one(n, kind, token):
            sent = time.monotonic()
            try:
                status, headers, _ = request(veto.port, "GET", "/v1/check", token, timeout=15)
                results[n] = (kind, status, headers.get("x-veto-error", ""), time.monotonic() - sent)
            except OSError as error:
                results[n] = (kind, 0, type(error).__name__, time.monotonic() - sent)

        os.kill(redis.process.pid, signal.SIGSTOP)
        try:
            clients = [threading.Thread(target=one, args=(n, kind, token)) for n, (kind, token) in enumerate(tokens)]
            for client in clients:
                client.start()
            time.sleep(0.5)          # the requests are parsed and waiting on Redis
            assert not results, results
            term_at = time.monotonic()
            veto.process.send_signal(signal.SIGTERM)
            time.sleep(1.0)          # Veto is draining; it must not answer 503 or drop anything
            assert veto.process.poll() is None, "Veto exited with requests still waiting on Redis"
        finally:
            os.kill(redis.process.pid, signal.SIGCONT)
        for client in clients:
            client.join(timeout=15)
        exit_code = veto.process.wait(timeout=15)
        exited_after = time.monotonic() - term_at
        assert len(results) == len(tokens)
        for kind, status, code, _ in results.values():
            assert status != 0, f"a request waiting on Redis was dropped ({code})"
            assert (kind, status) in (("valid", 200), ("revoked", 401)), (kind, status, code)
        assert exit_code == 0, veto.logs()[-2000:]
        record("sigterm_waiting_on_redis", requests=len(tokens), exit_code=exit_code, exited_after_s=round(exited_after, 3),
               slowest_s=round(max(r[3] for r in results.values()), 3))
    finally:
        veto.stop()
        redis.stop()


def test_sigterm_under_load_drops_no_request(stack):
    """Keep-alive clients hammering /v1/check when SIGTERM arrives: every request the service read is
    answered; afterwards new connections are refused. A request written to a connection the server
    had already closed as idle is not in flight; it is counted apart and must be refused cleanly."""
    veto = stack["veto"]
    with Load(veto.port, stack["tokens"], threads=6, limit_seconds=20, timeout=5) as load:
        load.wait_for(lambda a: sum(x.status == 200 for x in a) >= 100, 10, "steady load")
        term_at = time.monotonic()
        veto.process.send_signal(signal.SIGTERM)
        exit_code = veto.process.wait(timeout=15)
        exited_after = time.monotonic() - term_at
        time.sleep(0.3)
    answers = load.snapshot()
    # In flight at the signal: the whole request was written before it (sent + written < term_at).
    before = [a for a in answers if 0 < a.written < term_at]
    assert_fail_closed([a for a in answers if a.status != 0])
    dropped = [a for a in before if a.status == 0]
    assert not dropped, f"{len(dropped)} requests written before SIGTERM got no answer: {[(round(term_at - a.written, 4), a.error) for a in dropped[:5]]}"
    after = [a for a in answers if not 0 < a.written < term_at]
    refused = [a for a in after if a.status == 0]
    assert all(a.error in ("ConnectionRefusedError", "RemoteDisconnected", "ConnectionResetError", "BrokenPipeError")
               for a in refused), refused[:5]
    assert exit_code == 0
    record("sigterm_under_load", requests=len(answers), answered_before_signal=len(before),
           answered_after_signal=len([a for a in after if a.status]), refused_after_signal=len(refused),
           exit_code=exit_code, exited_after_s=round(exited_after, 3))


def test_idle_timeout_never_cuts_a_busy_or_waiting_data_plane_connection(veto_bin, keyring, tmp_path):
    """The idle timeout closes idle connections only: a keep-alive connection busy with checks, or
    with a check still waiting on a slow Redis, stays open and gets every answer."""
    (tmp_path / "ec.pem").write_bytes((keyring.dir / keyring.files["ES256"]).read_bytes())
    redis = Redis(args=["--enable-debug-command", "yes"])
    veto = start_veto(veto_bin, tmp_path, redis, command_timeout=5, extra="limits:\n  idle_timeout: 2\n")
    try:
        import http.client
        connection = http.client.HTTPConnection("127.0.0.1", veto.port, timeout=10)
        token = keyring.token("ES256")
        started = time.monotonic()
        busy = 0
        while time.monotonic() - started < 4.5:     # more than twice the idle timeout, never idle
            connection.request("GET", "/v1/check", headers={"Authorization": f"Bearer {token}"})
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            busy += 1
            time.sleep(0.2)
        # A check that waits 3 s on Redis (longer than the idle timeout) on the same connection.
        sleeper = threading.Thread(target=redis.cli, args=("DEBUG", "SLEEP", "3"))
        sleeper.start()
        time.sleep(0.1)
        waited = time.monotonic()
        connection.request("GET", "/v1/check", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        waited = time.monotonic() - waited
        sleeper.join()
        assert response.status == 200 and waited >= 2.5, (response.status, waited)
        connection.close()
        record("idle_timeout_busy_connection", checks_on_one_connection=busy + 1, waited_on_redis_s=round(waited, 3))
    finally:
        veto.stop()
        redis.stop()
