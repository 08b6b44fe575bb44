"""Helpers for the local revocation replica's tests (issue 14): `veto serve --consistency bounded`
instances, their /readyz and /metrics, and polling with a measured time."""
import json
import os
import re
import signal
import time
from contextlib import contextmanager

from conftest import AUD, ISS
from services import VetoServer, request

ADMIN_TOKEN = "admin-token-for-replica-tests-0123456789"
MAX_STALENESS = 1.0
SLACK = 0.5                # the bound every propagation and switch is held to: max_staleness + SLACK
FEED = "veto:feed"


def serve(veto_bin, keyring, redis_url, consistency="bounded", max_staleness=MAX_STALENESS, extra=(), config=None):
    """One `veto serve` with one event loop, the RS256 key of `keyring`, and the admin API on; `config`
    is YAML for settings that have no flag (the flags override it)."""
    args = []
    if config:
        path = keyring.dir / f"replica-{time.time_ns()}.yaml"
        path.write_text(config)
        args += ["--config", path.name]
    args += ["--issuer", ISS, "--audience", AUD, "--key", keyring.flag("RS256"), "--redis", redis_url, "--threads", "1",
            "--consistency", consistency, *extra]
    if consistency == "bounded":
        args += ["--max-staleness", str(max_staleness)]
    server = VetoServer(veto_bin, args, cwd=keyring.dir, env={"VETO_ADMIN_TOKEN": ADMIN_TOKEN})
    if consistency == "bounded":
        wait_current(server)
    return server


def wait_current(server, timeout=5):
    """Waits until the replica has loaded and proved itself current once (healthy comes a little before)."""
    try:
        return poll(lambda: replica(server)["state"] == "current", timeout, "the replica to become current", interval=0.05)
    except AssertionError:
        server.stop()
        raise


def check(server, token):
    """(status, X-Veto-Error) of one GET /v1/check."""
    status, headers, _ = request(server.port, "GET", "/v1/check", token, timeout=5)
    return status, headers.get("x-veto-error", "")


def logout(server, token):
    status, _, body = request(server.port, "POST", "/v1/revoke", token)
    assert status == 200, (status, body)


def admin(server, method, path, body=None, expect=200):
    status, _, data = request(server.port, method, path, ADMIN_TOKEN, body=body)
    assert status == expect, (method, path, status, data)
    return json.loads(data) if data else None


def cut_off(server, subject, reason="password reset"):
    return admin(server, "POST", "/v1/admin/subjects", {"iss": ISS, "sub": subject, "reason": reason})


def revoke_jti(server, jti, exp=None):
    return admin(server, "POST", "/v1/admin/revocations", {"iss": ISS, "jti": jti, "exp": exp or int(time.time()) + 3600})


def unrevoke(server, jti):
    return admin(server, "DELETE", f"/v1/admin/revocations?iss={ISS}&jti={jti}")


def readyz(server):
    return json.loads(request(server.port, "GET", "/readyz", timeout=5)[2])


def replica(server):
    """The `replica` member of /readyz (bounded mode)."""
    document = readyz(server)
    assert "replica" in document, f"/readyz has no replica member: {document}"
    return document["replica"]


def metrics(server):
    """/metrics as {(name, ((label, value), …)): value}."""
    samples = {}
    text = request(server.port, "GET", "/metrics", timeout=5)[2].decode()
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? (\S+)$", line)
        if match:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def metric(samples, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`; None when there is none."""
    wanted = set(labels.items())
    values = [value for (sample, sample_labels), value in samples.items() if sample == name and wanted <= set(sample_labels)]
    return sum(values) if values else None


def resyncs(server):
    """veto_replica_resyncs_total by reason."""
    samples = metrics(server)
    return {reason: metric(samples, "veto_replica_resyncs_total", reason=reason) or 0
            for reason in ("start", "reconnect", "trimmed", "regressed", "topology", "unreadable")}


def poll(predicate, timeout, what, interval=0.01):
    """Seconds until `predicate()` held, polled every `interval`; fails after `timeout`."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(interval)


def redis_calls(redis, command):
    """How many times `redis` ran `command` (INFO commandstats)."""
    for line in redis.cli("INFO", "commandstats").splitlines():
        if line.startswith(f"cmdstat_{command.lower()}:"):
            return int(line.split("calls=")[1].split(",")[0])
    return 0


@contextmanager
def running():
    """`keep(process)` registers a Redis, VetoServer or deployment; all are stopped at the end, last first."""
    started = []

    def keep(process):
        started.append(process)
        return process
    try:
        yield keep
    finally:
        for process in reversed(started):
            process.stop()


@contextmanager
def stopped(pid):
    """SIGSTOP `pid` for the block, SIGCONT after it whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)


def fresh_tokens(keyring, count, **claims):
    return [keyring.token("RS256", **claims) for _ in range(count)]
