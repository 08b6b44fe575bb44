"""Store faults under a bounded-staleness replica (issue 14), with real processes: Redis paused with
SIGSTOP, killed with -9 and restarted from its append-only file, the feed trimmed or rewound behind
a replica's back, and a Sentinel failover.

What must hold in every case: no revoked token is ever allowed; the replica answers only while it
is at most max_staleness behind (then Redis, then 503: fail closed); and once Redis is back the
replica resyncs and enforces every acknowledged revocation, old and new."""
import json
import time

import pytest

from conftest import ISS
from load import Load, record
from replica_kit import (FEED, MAX_STALENESS, SLACK, check, fresh_tokens, logout, metric, metrics, poll, replica, resyncs, running,
                         serve, stopped)
from services import Redis, request
from topologies import SentinelSet, redis_cli

BOUND = MAX_STALENESS + SLACK
COMMAND_TIMEOUT = 0.5      # Veto's default redis command timeout: a strict lookup on a paused Redis fails after it


def never_allowed_a_revoked_token(answers):
    assert answers, "the load generator sent nothing"
    allowed = [a for a in answers if a.kind == "revoked" and a.status == 200]
    assert not allowed, f"{len(allowed)} checks allowed a revoked token, the first sent at {allowed[0].sent:.3f}"
    for answer in answers:
        assert answer.status in (200, 401, 503), answer
        if answer.kind == "revoked" and answer.status == 401:
            assert answer.error == "token_revoked", answer
        if answer.status == 503:
            assert answer.error == "store_unavailable", answer
        if answer.kind == "valid":
            assert answer.status in (200, 503), answer


def tokens_for_load(keyring, server, count=8):
    valid = [("valid", token) for token in fresh_tokens(keyring, count)]
    revoked = [("revoked", token) for token in fresh_tokens(keyring, count)]
    for _, token in revoked:
        logout(server, token)
    return [pair for both in zip(valid, revoked) for pair in both]


def test_redis_paused_answers_from_the_replica_then_fails_closed(veto_bin, keyring):
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url))
        writer = keep(serve(veto_bin, keyring, redis.url, consistency="strict"))
        tokens = tokens_for_load(keyring, bounded)
        poll(lambda: replica(bounded)["state"] == "current", 5, "a current replica before the pause")
        with Load(bounded.port, tokens, threads=2, limit_seconds=40, timeout=5) as load:
            load.wait_for(lambda a: len(a) >= 40, 10, "steady answers before the pause")
            with stopped(redis.process.pid) as paused_at:
                first_503 = load.wait_for(lambda a: any(x.status == 503 and x.sent > paused_at for x in a), BOUND + 2,
                                          "a 503 once the replica is too stale")
                time.sleep(2.0)
            back_at = time.monotonic()
            current_after = poll(lambda: replica(bounded)["state"] == "current", 1.0, "the replica current within 1 s of SIGCONT")
            late = keyring.token("RS256")
            logout(writer, late)
            enforced_after = poll(lambda: check(bounded, late) == (401, "token_revoked"), BOUND, "a revocation made after SIGCONT")
            time.sleep(0.3)
        answers = load.snapshot()
        never_allowed_a_revoked_token(answers)
        unavailable = [a for a in answers if a.status == 503 and a.sent > paused_at]
        replica_window = min(a.sent for a in unavailable) - paused_at
        # Answers from memory for about max_staleness (less what had passed since the last feed read)...
        early = [a for a in answers if paused_at <= a.sent < paused_at + MAX_STALENESS / 2]
        assert early and all(a.status in (200, 401) for a in early), [a for a in early if a.status not in (200, 401)][:3]
        assert replica_window >= MAX_STALENESS / 2, f"the replica stopped answering {replica_window:.3f} s into the pause"
        # ...and from max_staleness + 0.5 s on, never from memory: a valid token gets 503 until Redis is back.
        beyond = [a for a in answers if a.kind == "valid" and paused_at + BOUND <= a.sent < back_at - COMMAND_TIMEOUT - 0.2]
        assert beyond, "no check was sent after the bound while Redis was paused"
        assert all(a.status == 503 for a in beyond), [a for a in beyond if a.status != 503][:3]
        # The same latency bound as the strict fault tests (test_faults_redis.py): no answer waits longer.
        during = [a for a in answers if paused_at <= a.sent < back_at]
        slowest = {kind: max((a.latency for a in during if a.kind == kind), default=0) for kind in ("valid", "revoked")}
        assert max(slowest.values()) <= 2 * COMMAND_TIMEOUT + 1.0, f"slowest answers while Redis was paused: {slowest}"
        summary = {"requests": len(answers), "replica_answered_for_s": round(replica_window, 3),
                   "slowest_valid_s": round(slowest["valid"], 3), "slowest_revoked_s": round(slowest["revoked"], 3),
                   "first_503_seen_after_s": round(first_503 - paused_at, 3), "current_after_sigcont_s": round(current_after, 3),
                   "new_revocation_enforced_after_s": round(enforced_after, 3)}
        print(f"\nredis paused: {summary}")
        record("replica_redis_sigstop", **summary)


def test_redis_killed_and_restarted_from_its_aof_loses_no_revocation(veto_bin, keyring):
    with running() as keep:
        redis = keep(Redis(args=["--appendonly", "yes", "--appendfsync", "always"]))
        bounded = keep(serve(veto_bin, keyring, redis.url))
        tokens = tokens_for_load(keyring, bounded, count=12)
        revoked = [token for kind, token in tokens if kind == "revoked"]
        before = sum(resyncs(bounded).values())
        with Load(bounded.port, tokens, threads=2, limit_seconds=40, timeout=5) as load:
            load.wait_for(lambda a: len(a) >= 40, 10, "steady answers before the kill")
            last = keyring.token("RS256")
            logout(bounded, last)              # acknowledged just before the crash
            revoked.append(last)
            redis.kill()
            time.sleep(BOUND + 0.5)
            redis.start()                      # same port and directory: the append-only file is replayed
            resynced_after = poll(lambda: sum(resyncs(bounded).values()) > before and replica(bounded)["state"] == "current",
                                  10, "a resync after the restart")
            time.sleep(0.5)
        never_allowed_a_revoked_token(load.snapshot())
        for token in revoked:
            assert check(bounded, token) == (401, "token_revoked")
        assert check(bounded, keyring.token("RS256")) == (200, "")
        assert replica(bounded)["entries"] == len(revoked)
        counts = resyncs(bounded)
        print(f"\nredis kill -9 and restart: resynced {resynced_after:.3f} s after the restart; resyncs {counts}")
        record("replica_redis_kill9", resynced_after_s=round(resynced_after, 3), revoked=len(revoked), **counts)


def test_a_feed_trimmed_past_the_cursor_makes_the_replica_resync(veto_bin, veto, keyring):
    """Writes made while the replica's process is stopped, then the feed trimmed to nothing. A 5 s
    command timeout keeps the replica's pending XREAD from timing out while it is stopped, which would
    make it reconnect (and resync for that reason) instead of finding the feed trimmed past its cursor."""
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url, config="redis:\n  command_timeout: 5\n"))
        writer = keep(serve(veto_bin, keyring, redis.url, consistency="strict"))
        exp = int(time.time()) + 3600
        jtis = [f"trimmed-{n}-{exp}" for n in range(4)]
        tokens = [keyring.token("RS256", jti=jti, exp=exp) for jti in jtis]
        for token in tokens:
            assert check(bounded, token) == (200, "")
        with stopped(bounded.process.pid):
            logout(writer, tokens[0])
            logout(writer, tokens[1])
            for jti in jtis[2:]:
                added = veto("blocklist", "add", "--redis", redis.url, "--iss", ISS, "--jti", jti, "--exp", exp)
                assert added.returncode == 0, added.stderr
            assert redis.cli("XLEN", FEED) == "4", "every write appends to the feed"
            redis.cli("XTRIM", FEED, "MAXLEN", "0")
            assert redis.cli("XLEN", FEED) == "0"
        # Two feed round trips after SIGCONT (XREAD blocks at most 250 ms): the replica has looked at the
        # feed since, and says it is current; then it answers from memory, so ask it and not Redis.
        time.sleep(0.6)
        poll(lambda: replica(bounded)["state"] == "current", BOUND + 3, "the replica current after SIGCONT")
        from_redis = metric(metrics(bounded), "veto_replica_answers_total", source="redis")
        answers = [check(bounded, token) for token in tokens]
        info = dict(zip(*[iter(redis.cli("XINFO", "STREAM", FEED).splitlines())] * 2))
        assert answers == [(401, "token_revoked")] * 4, (
            f"tokens revoked while the replica was stopped, then trimmed from the feed: answers {answers}, replica "
            f"{replica(bounded)}, resyncs {resyncs(bounded)}, XINFO STREAM max-deleted-entry-id={info.get('max-deleted-entry-id')} "
            f"last-generated-id={info.get('last-generated-id')} entries-added={info.get('entries-added')}")
        assert metric(metrics(bounded), "veto_replica_answers_total", source="redis") == from_redis, "answered from memory"
        assert resyncs(bounded)["trimmed"] >= 1, resyncs(bounded)
        print(f"\nfeed trimmed: resyncs {resyncs(bounded)}")


def test_a_feed_that_went_backwards_makes_the_replica_resync(veto_bin, keyring):
    """The feed deleted and written again with older ids (a restore from an old backup, say): the
    replica cannot see the new entries from its cursor, so it must notice and load the keys again."""
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url))
        logout(bounded, keyring.token("RS256"))        # the cursor is now past 0
        exp = int(time.time()) + 3600
        jti = f"restored-{exp}"
        token = keyring.token("RS256", jti=jti, exp=exp)
        assert check(bounded, token) == (200, "")
        key = f"veto:j:{len(ISS)}:{ISS}:{jti}"
        value = json.dumps({"iss": ISS, "jti": jti, "sub": None, "exp": exp, "revoked_at": time.time(), "reason": "restored",
                            "actor": None, "expires_at": exp + 60}, separators=(",", ":"))
        redis.cli("DEL", FEED)
        assert redis.cli("SET", key, value, "EX", "3700") == "OK"
        assert redis.cli("XADD", FEED, "1-1", "op", "set", "key", key, "ttl_ms", "3700000", "value", value) == "1-1"
        resynced_after = poll(lambda: resyncs(bounded)["regressed"] >= 1, BOUND + 3, "a resync for the feed gone backwards")
        poll(lambda: replica(bounded)["state"] == "current", 5, "the replica current again")
        assert check(bounded, token) == (401, "token_revoked")
        print(f"\nfeed went backwards: resynced {resynced_after:.3f} s later; resyncs {resyncs(bounded)}")


def test_fail_open_answers_degraded_once_the_replica_is_too_stale(veto_bin, keyring):
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url, extra=("--fail-open",)))
        token = keyring.token("RS256")
        assert check(bounded, token) == (200, "")
        with stopped(redis.process.pid) as paused_at:
            status, headers, _ = request(bounded.port, "GET", "/v1/check", token)
            assert status == 200 and "x-veto-degraded" not in headers, "fresh enough: answered from the replica"
            time.sleep(max(0.0, paused_at + BOUND - time.monotonic()))
            status, headers, _ = request(bounded.port, "GET", "/v1/check", token)
            assert status == 200 and "x-veto-degraded" in headers, (status, headers)


# -- Sentinel ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sentinels():
    deployment = SentinelSet()
    yield deployment
    deployment.stop()


def test_sentinel_failover_keeps_every_revocation_and_resyncs(sentinels, veto_bin, keyring):
    wait = ("--redis-wait-replicas", "2", "--redis-wait-timeout", "1")
    with running() as keep:
        bounded = keep(serve(veto_bin, keyring, sentinels.url, extra=wait))
        writer = keep(serve(veto_bin, keyring, sentinels.url, consistency="strict"))
        tokens = tokens_for_load(keyring, bounded, count=10)
        revoked = [token for kind, token in tokens if kind == "revoked"]
        old_master = sentinels.reported_master()
        before = sum(resyncs(bounded).values())
        with Load(bounded.port, tokens, threads=2, limit_seconds=60, timeout=5) as load:
            load.wait_for(lambda a: len(a) >= 40, 10, "steady answers before the failover")
            assert redis_cli(next(iter(sentinels.sentinels)), "SENTINEL", "FAILOVER", sentinels.name) == "OK"
            failed_over = time.monotonic()
            poll(lambda: sentinels.reported_master() not in (None, old_master), 30, "a new master", interval=0.1)
            resynced_after = poll(lambda: sum(resyncs(bounded).values()) > before and replica(bounded)["state"] == "current",
                                  30, "the replica to resync on the new master", interval=0.1)

            def revoke_after_failover():
                    return request(writer.port, "POST", "/v1/revoke", late, timeout=5)[0] == 200
            late = keyring.token("RS256")
            poll(revoke_after_failover, 30, "the strict writer to revoke on the new master", interval=0.2)
            enforced_after = poll(lambda: check(bounded, late) == (401, "token_revoked"), BOUND, "a revocation after the failover")
            time.sleep(0.3)
        never_allowed_a_revoked_token(load.snapshot())
        for token in revoked:
            assert check(bounded, token) == (401, "token_revoked")
        counts = resyncs(bounded)
        print(f"\nsentinel failover: resynced {resynced_after:.3f} s after SENTINEL FAILOVER "
              f"({time.monotonic() - failed_over:.1f} s ago); new revocation enforced after {enforced_after:.3f} s; resyncs {counts}")
        record("replica_sentinel_failover", resynced_after_s=round(resynced_after, 3), **counts)


def test_a_feed_entry_veto_did_not_write_makes_the_replica_load_again_not_guess(veto_bin, keyring):
    """A hostile or buggy writer appends entries Veto does not write to the feed: the replica does not
    guess what they changed. It loads the keys again (reason unreadable), once per such entry, keeps
    refusing what Redis holds revoked, and becomes current again."""
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url))
        revoked = keyring.token("RS256")
        logout(bounded, revoked)
        for fields in (["op", "bogus", "key", "x"], ["op", "set", "key", f"veto:j:{len(ISS)}:{ISS}:forged"], ["hello", "world"]):
            redis.cli("XADD", FEED, "*", *fields)
        poll(lambda: resyncs(bounded)["unreadable"] >= 1, BOUND + 3, "a load for the unreadable entries")
        poll(lambda: replica(bounded)["state"] == "current", BOUND + 3, "the replica current again")
        time.sleep(0.5)
        # The three entries come in one read, before the load they cause: one load, not one per cycle.
        assert resyncs(bounded)["unreadable"] <= 3, resyncs(bounded)
        assert check(bounded, revoked) == (401, "token_revoked")
        assert check(bounded, keyring.token("RS256", jti="forged")) == (200, ""), "an unreadable set is not a revocation"
        print(f"\nunreadable feed entries: resyncs {resyncs(bounded)}")


def test_a_forged_feed_deletion_does_not_unrevoke_what_redis_still_revokes(veto_bin, keyring):
    """Someone who can append to the feed but did not delete the key writes `op del` for a revoked
    token: the replica asks Redis whether the key is gone before it believes the deletion."""
    with running() as keep:
        redis = keep(Redis())
        bounded = keep(serve(veto_bin, keyring, redis.url))
        exp = int(time.time()) + 3600
        jti = f"forged-del-{exp}"
        token = keyring.token("RS256", jti=jti, exp=exp)
        logout(bounded, token)
        key = f"veto:j:{len(ISS)}:{ISS}:{jti}"
        assert redis.cli("EXISTS", key) == "1"
        redis.cli("XADD", FEED, "*", "op", "del", "key", key)
        time.sleep(0.5)
        assert replica(bounded)["state"] == "current"
        assert check(bounded, token) == (401, "token_revoked"), "a forged deletion un-revoked the token on the replica"
        # A real deletion (the key gone, then its feed entry) is believed.
        redis.cli("DEL", key)
        redis.cli("XADD", FEED, "*", "op", "del", "key", key)
        poll(lambda: check(bounded, token) == (200, ""), BOUND, "a real deletion reaching the replica")
