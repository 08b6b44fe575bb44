"""The local revocation replica (issue 14): `veto serve --consistency bounded` loads the Redis
blocklist at start, follows the `veto:feed` stream, and answers checks from memory while it is at
most --max-staleness behind. Real redis-server and `veto serve` processes on loopback.

What must hold: a write on one instance is enforced by every other within max_staleness (and by the
writer at once); bounded and strict answer alike; an allowed check costs Redis nothing; /readyz and
/metrics say how current the replica is. Faults are in test_replica_faults.py."""
import time

import pytest

from conftest import AUD, ISS
from load import record
from replica_kit import (ADMIN_TOKEN, MAX_STALENESS, SLACK, check, cut_off, fresh_tokens, logout, metric, metrics, poll, readyz,
                         redis_calls, replica, resyncs, revoke_jti, running, serve, unrevoke,
                         wait_current)
from services import Redis, VetoServer

BOUND = MAX_STALENESS + SLACK


@pytest.fixture(scope="module")
def fleet(veto_bin, keyring):
    """Three bounded instances, one event loop each, on one redis-server."""
    with running() as keep:
        redis = keep(Redis())
        yield {"redis": redis, "instances": [keep(serve(veto_bin, keyring, redis.url)) for _ in range(3)]}


def enforced_elsewhere(instances, writer, token, expected, what):
    """Polls every instance but `writer` until it answers `expected` for `token`; the slowest delay."""
    delays = []
    for index, instance in enumerate(instances):
        if index != writer:
            delays.append(poll(lambda: check(instance, token) == expected, BOUND + 5, f"{what}: instance {index} answers {expected}"))
    return max(delays)


@pytest.mark.parametrize("writer", [0, 1, 2])
def test_a_logout_on_one_instance_is_enforced_by_the_others_within_max_staleness(fleet, keyring, writer):
    instances = fleet["instances"]
    token = keyring.token("RS256")
    for instance in instances:
        assert check(instance, token) == (200, "")
    written = time.monotonic()
    logout(instances[writer], token)
    assert check(instances[writer], token) == (401, "token_revoked"), "the revoking instance must deny at once"
    delay = enforced_elsewhere(instances, writer, token, (401, "token_revoked"), "logout")
    elapsed = time.monotonic() - written
    print(f"\nlogout on {writer}: enforced by the others after {delay * 1000:.1f} ms")
    record("replica_propagation_logout", writer=writer, slowest_s=round(delay, 4))
    assert elapsed <= BOUND, f"the others enforced the logout only after {elapsed:.3f} s (bound {BOUND} s)"


def test_a_subject_cut_off_reaches_every_instance_within_max_staleness(fleet, keyring):
    instances = fleet["instances"]
    issued = int(time.time()) - 5
    older = keyring.token("RS256", sub="replica_subject", iat=issued)
    other = keyring.token("RS256", sub="someone_else", iat=issued)
    for instance in instances:
        assert check(instance, older) == (200, "")
    written = time.monotonic()
    cut_off(instances[1], "replica_subject")
    assert check(instances[1], older) == (401, "subject_revoked"), "the instance that cut off must deny at once"
    delay = enforced_elsewhere(instances, 1, older, (401, "subject_revoked"), "subject cut-off")
    elapsed = time.monotonic() - written
    print(f"\nsubject cut-off: enforced by the others after {delay * 1000:.1f} ms")
    record("replica_propagation_cutoff", slowest_s=round(delay, 4))
    assert elapsed <= BOUND, f"the cut-off reached the others only after {elapsed:.3f} s (bound {BOUND} s)"
    newer = keyring.token("RS256", sub="replica_subject", iat=int(time.time()) + 2)
    for instance in instances:
        assert check(instance, other) == (200, "")
        assert check(instance, newer) == (200, ""), "a token issued after the cut-off is accepted"


def test_a_removal_reaches_every_instance_within_max_staleness(fleet, keyring):
    instances = fleet["instances"]
    token = keyring.token("RS256", jti="replica-removed-1")
    revoke_jti(instances[2], "replica-removed-1")
    enforced_elsewhere(instances, 2, token, (401, "token_revoked"), "admin revocation")
    written = time.monotonic()
    unrevoke(instances[2], "replica-removed-1")
    assert check(instances[2], token) == (200, ""), "the instance that removed the entry must allow at once"
    delay = enforced_elsewhere(instances, 2, token, (200, ""), "removal")
    elapsed = time.monotonic() - written
    print(f"\nremoval: seen by the others after {delay * 1000:.1f} ms")
    record("replica_propagation_removal", slowest_s=round(delay, 4))
    assert elapsed <= BOUND, f"the removal reached the others only after {elapsed:.3f} s (bound {BOUND} s)"


def test_an_allowed_check_costs_redis_no_command(fleet, keyring):
    """Allowed and denied alike: answered from memory, no Redis command (a refusal from the replica names
    the token but not when or why it was revoked: those details stay in Redis)."""
    redis, instance = fleet["redis"], fleet["instances"][0]
    valid, revoked = keyring.token("RS256"), keyring.token("RS256")
    logout(instance, revoked)
    commands = ("get", "mget", "exists", "evalsha", "eval", "scan", "pttl")
    from_replica = metric(metrics(instance), "veto_replica_answers_total", source="replica") or 0
    before = {name: redis_calls(redis, name) for name in commands}
    for _ in range(25):
        assert check(instance, valid) == (200, "")
    after = {name: redis_calls(redis, name) for name in commands}
    assert after == before, f"allowed checks answered from the replica must not touch Redis: {before} -> {after}"
    for _ in range(25):
        assert check(instance, revoked) == (401, "token_revoked")
    denied = {name: redis_calls(redis, name) for name in commands}
    assert denied == after, f"denied checks answered from the replica must not touch Redis: {after} -> {denied}"
    answered = metric(metrics(instance), "veto_replica_answers_total", source="replica")
    assert answered is not None and answered - from_replica >= 50, (from_replica, answered)
    print("\n25 allowed and 25 denied checks: 0 Redis commands")


# -- strict and bounded alike -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def pair(veto_bin, keyring):
    """One strict and one bounded instance on one redis-server; the bounded one configured by file."""
    with running() as keep:
        redis = keep(Redis())
        (keyring.dir / "replica-bounded.yaml").write_text(f"""
consistency: bounded
max_staleness: {MAX_STALENESS}
redis:
  url: {redis.url}
issuers:
  - issuer: {ISS}
    audiences: [{AUD}]
    keys: [{keyring.flag('RS256')}]
""")
        strict = keep(serve(veto_bin, keyring, redis.url, consistency="strict"))
        bounded = keep(VetoServer(veto_bin, ["--config", "replica-bounded.yaml", "--threads", "1"], cwd=keyring.dir,
                                  env={"VETO_ADMIN_TOKEN": ADMIN_TOKEN}))
        wait_current(bounded)
        yield {"redis": redis, "strict": strict, "bounded": bounded}


def test_the_bounded_instance_configured_by_file_is_a_replica_and_the_strict_one_is_not(pair):
    state = replica(pair["bounded"])
    assert state["state"] == "current" and state["max_staleness_seconds"] == MAX_STALENESS, state
    assert "replica" not in readyz(pair["strict"]), "a strict instance has no replica to report"


@pytest.mark.parametrize("writer", ["strict", "bounded"])
def test_strict_and_bounded_give_the_same_answers(pair, keyring, writer):
    """The same writes, then the same checks on both instances: every answer agrees with the table.
    Writes go through `writer`; the other instance is polled for up to max_staleness + 0.5 s."""
    now = int(time.time())
    label = f"{writer}-{now}"
    tokens = {
        "valid": keyring.token("RS256"),
        "logged out": keyring.token("RS256"),
        "revoked by jti": keyring.token("RS256", jti=f"table-{label}"),
        "removed again": keyring.token("RS256", jti=f"table-removed-{label}"),
        "subject cut off": keyring.token("RS256", sub=f"cut-{label}", iat=now - 5),
        "issued after the cut-off": keyring.token("RS256", sub=f"cut-{label}", iat=now + 10),
        "expired": keyring.token("RS256", iat=now - 7200, exp=now - 3600),
        "wrong audience": keyring.token("RS256", aud="https://elsewhere.example.com"),
        "no jti": keyring.token("RS256", jti=None),
    }
    expected = {
        "valid": (200, ""), "logged out": (401, "token_revoked"), "revoked by jti": (401, "token_revoked"),
        "removed again": (200, ""), "subject cut off": (401, "subject_revoked"), "issued after the cut-off": (200, ""),
        "expired": (401, "token_expired"), "wrong audience": (401, "audience_mismatch"), "no jti": (401, "missing_claim"),
    }
    strict, bounded = pair["strict"], pair["bounded"]
    for name, token in tokens.items():
        before = expected[name] if name in ("expired", "wrong audience", "no jti") else (200, "")
        assert check(strict, token) == check(bounded, token) == before, name
    source = pair[writer]
    logout(source, tokens["logged out"])
    revoke_jti(source, f"table-{label}")
    revoke_jti(source, f"table-removed-{label}")
    unrevoke(source, f"table-removed-{label}")
    cut_off(source, f"cut-{label}")
    # The writer answers from its own writes at once; the other within the bound.
    other = bounded if writer == "strict" else strict
    for name, token in tokens.items():
        assert check(source, token) == expected[name], f"{name} on the writer ({writer})"
    for name, token in tokens.items():
        poll(lambda: check(other, token) == expected[name], BOUND, f"{name} on the other instance")
    answers = {name: (check(strict, token), check(bounded, token)) for name, token in tokens.items()}
    disagreements = {name: both for name, both in answers.items() if both[0] != both[1] or both[0] != expected[name]}
    assert not disagreements, disagreements


# -- what the replica reports -------------------------------------------------------------------------

def test_readyz_and_metrics_describe_the_replica(veto_bin, keyring):
    with running() as keep:
        redis = keep(Redis())
        writer = keep(serve(veto_bin, keyring, redis.url, consistency="strict"))
        revoked = fresh_tokens(keyring, 3)
        for token in revoked:
            logout(writer, token)
        cut_off(writer, "metrics-subject")
        bounded = keep(serve(veto_bin, keyring, redis.url))
        state = replica(bounded)
        assert set(state) >= {"state", "staleness_seconds", "max_staleness_seconds", "entries", "resyncs"}, state
        assert state["entries"] == 4, f"3 tokens and 1 cut-off were in Redis before the start: {state}"
        assert state["max_staleness_seconds"] == MAX_STALENESS
        assert isinstance(state["staleness_seconds"], float) and 0 <= state["staleness_seconds"] <= MAX_STALENESS, state
        assert state["resyncs"] >= 1, "the load at start is a resync"
        assert readyz(bounded)["ready"] is True

        samples = metrics(bounded)
        for name in ("veto_replica_staleness_seconds", "veto_replica_entries", "veto_replica_resyncs_total",
                     "veto_replica_propagation_seconds_count", "veto_replica_answers_total"):
            assert metric(samples, name) is not None, f"{name} missing from /metrics"
        assert metric(samples, "veto_replica_entries") == 4
        assert 0 <= metric(samples, "veto_replica_staleness_seconds") <= MAX_STALENESS
        assert resyncs(bounded)["start"] == 1
        assert metric(samples, "veto_replica_propagation_seconds_bucket", le="+Inf") is not None

        # A write elsewhere arrives through the feed: one more entry, one more propagation observed.
        applied = metric(samples, "veto_replica_propagation_seconds_count")
        late = keyring.token("RS256")
        logout(writer, late)
        poll(lambda: check(bounded, late) == (401, "token_revoked"), BOUND, "the write through the feed")
        samples = metrics(bounded)
        assert metric(samples, "veto_replica_entries") == 5
        assert metric(samples, "veto_replica_propagation_seconds_count") >= applied + 1
        propagation = metric(samples, "veto_replica_propagation_seconds_sum") / metric(samples, "veto_replica_propagation_seconds_count")
        assert 0 <= propagation <= BOUND, f"mean propagation {propagation:.3f} s"
        answered = metric(samples, "veto_replica_answers_total", source="replica")
        assert answered >= 1 and metric(samples, "veto_replica_answers_total", source="redis") is not None
        print(f"\nreplica after the feed write: {replica(bounded)}; mean propagation {propagation * 1000:.1f} ms")


def test_entries_leave_the_replica_at_their_ttl(veto_bin, keyring):
    """An admin revocation with an exp 2 s away (leeway 0) lives 2 s: the replica drops it then."""
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url, extra=("--leeway", "0")))
        revoke_jti(bounded, "short-lived", exp=int(time.time()) + 2)
        assert replica(bounded)["entries"] == 1
        gone = poll(lambda: replica(bounded)["entries"] == 0, 5, "the entry to leave at its TTL", interval=0.1)
        assert redis.cli("EXISTS", "veto:j:24:https://auth.example.com:short-lived") == "0"
        print(f"\nentry left the replica {gone:.2f} s after it was written")
