"""`veto blocklist watch`: tails the blocklist feed (`veto:feed`) of a real redis-server while a real
`veto serve` revokes, cuts off and removes; every change comes out as one line, in the columns of
`ls` or as JSON, with terminal control characters escaped, until SIGINT."""
import json
import os
import queue
import signal
import subprocess
import threading
import time
from urllib.parse import quote

import pytest

from conftest import AUD, ISS
from replica_kit import ADMIN_TOKEN, admin, cut_off, logout, unrevoke
from services import Redis, VetoServer


class Watch:
    """`veto blocklist watch` as a child process; its stdout lines arrive on a queue."""

    def __init__(self, binary, redis_url, *flags):
        self.process = subprocess.Popen([binary, "blocklist", "watch", "--redis", redis_url, *flags], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, env=dict(os.environ, NO_COLOR="1"))
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        # It says on stderr where it starts once it has asked Redis: anything written later is shown.
        started = self.process.stderr.readline()
        # Writes append to the feed only once it exists: the first watcher (or replica) makes it.
        self.made_feed = started.startswith("Made the feed veto:feed")
        if self.made_feed:
            started = self.process.stderr.readline()
        assert started.startswith("Watching veto:feed after "), started

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def line(self, timeout=5):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"watch printed nothing within {timeout} s") from None

    def interrupt(self):
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("watch did not stop within 5 s of SIGINT") from None

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def service(veto_bin, keyring):
    redis = Redis()
    server = None
    try:
        server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.flag("RS256"), "--redis", redis.url,
                                       "--threads", "1"], cwd=keyring.dir, env={"VETO_ADMIN_TOKEN": ADMIN_TOKEN})
        yield {"redis": redis, "server": server}
    finally:
        if server:
            server.stop()
        redis.stop()


def test_watch_json_prints_each_change_as_it_is_made(service, veto_bin, keyring):
    redis, server = service["redis"], service["server"]
    watch = Watch(veto_bin, redis.url, "--json")
    try:
        jti = f"watched-{time.time_ns()}"
        token = keyring.token("RS256", jti=jti, sub="user_watch")
        logout(server, token)
        revoked = json.loads(watch.line())
        assert revoked["op"] == "revoke" and revoked["iss"] == ISS and revoked["jti"] == jti, revoked
        assert revoked["sub"] == "user_watch" and revoked["reason"] == "logout" and revoked["feed_id"], revoked
        cut_off(server, "user_watch")
        cutoff = json.loads(watch.line())
        assert cutoff["op"] == "revoke_subject" and cutoff["iss"] == ISS and cutoff["sub"] == "user_watch", cutoff
        unrevoke(server, jti)
        removed = json.loads(watch.line())
        assert removed == {"feed_id": removed["feed_id"], "at": removed["at"], "op": "remove", "iss": ISS, "jti": jti}, removed
        # An entry Veto did not write is shown as such, and the next change still comes through.
        assert redis.cli("XADD", "veto:feed", "*", "op", "rename", "key", "veto:j:1:x:y") != ""
        foreign = json.loads(watch.line())
        assert foreign["op"] == "unreadable" and "unknown op" in foreign["problem"], foreign
        ids = [revoked["feed_id"], cutoff["feed_id"], removed["feed_id"], foreign["feed_id"]]
        assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-")))), f"changes out of order: {ids}"
        assert watch.interrupt() == 0
        assert token not in watch.process.stderr.read(), "watch must never print a token"
    finally:
        watch.stop()


def test_watch_text_uses_the_columns_of_ls_and_escapes_control_characters(service, veto_bin, keyring):
    redis, server = service["redis"], service["server"]
    watch = Watch(veto_bin, redis.url)
    try:
        header = watch.line()
        assert header.split() == ["CHANGE", "JTI", "ISS", "SUB", "REASON", "REVOKED", "AT", "EXPIRES"], header
        logout(server, keyring.token("RS256", sub="user_7"))
        row = watch.line()
        assert row.split()[0] == "revoke", row
        for column, value in (("ISS", ISS), ("SUB", "user_7"), ("REASON", "logout")):
            assert row.index(value) == header.index(column), f"{value} is not under {column}:\n{header}\n{row}"
        hostile = "jti\x1b[2J\x07\u202e-end"
        admin(server, "POST", "/v1/admin/revocations", {"iss": ISS, "jti": hostile, "exp": int(time.time()) + 600,
                                                        "reason": "compromised"})
        row = watch.line()
        assert row.split()[0] == "revoke" and ISS in row and "compromised" in row, row
        assert "\x1b" not in row and "\x07" not in row and "\u202e" not in row, repr(row)
        assert "jti\\u{1b}[2J" in row, row
        admin(server, "DELETE", f"/v1/admin/revocations?iss={quote(ISS)}&jti={quote(hostile)}")
        removal = watch.line()
        assert removal.split()[0] == "remove" and "\x1b" not in removal, repr(removal)
        assert watch.interrupt() == 0
    finally:
        watch.stop()


def test_watch_from_start_replays_the_feed_then_follows(service, veto_bin, keyring):
    redis, server = service["redis"], service["server"]
    first = Watch(veto_bin, redis.url)       # the feed exists from the first watcher on
    assert first.interrupt() == 0
    tokens = [keyring.token("RS256") for _ in range(3)]
    for token in tokens:
        logout(server, token)
    watch = Watch(veto_bin, redis.url, "--json", "--from-start")
    try:
        replayed = [json.loads(watch.line()) for _ in tokens]
        assert [entry["op"] for entry in replayed] == ["revoke"] * 3
        assert len({entry["jti"] for entry in replayed}) == 3
        later = keyring.token("RS256")
        logout(server, later)
        assert json.loads(watch.line())["op"] == "revoke"
        assert watch.interrupt() == 0
    finally:
        watch.stop()


def test_watch_needs_redis(veto):
    result = veto("blocklist", "watch", env={"VETO_REDIS_URL": ""})
    assert result.returncode == 2 and "--redis" in result.stderr, (result.returncode, result.stderr)


def test_watch_keeps_following_across_a_redis_restart(veto_bin):
    redis = Redis(args=["--appendonly", "yes", "--appendfsync", "always"])
    watch = None
    try:
        watch = Watch(veto_bin, redis.url, "--json")
        redis.kill()
        time.sleep(1.0)
        redis.start()
        exp = int(time.time()) + 600
        added = subprocess.run([veto_bin, "blocklist", "add", "--redis", redis.url, "--iss", ISS, "--jti", "after-restart",
                                "--exp", str(exp)], capture_output=True, text=True, timeout=30)
        assert added.returncode == 0, added.stderr
        entry = json.loads(watch.line())
        assert entry["op"] == "revoke" and entry["jti"] == "after-restart", entry
        assert watch.interrupt() == 0
        assert "retrying" in watch.process.stderr.read(), "the outage is said on stderr"
    finally:
        if watch:
            watch.stop()
        redis.stop()


def test_no_feed_is_written_until_a_watcher_or_a_replica_makes_it(veto_bin, keyring):
    """A strict deployment with nobody following writes no feed (no extra key, no extra work); the first
    watcher makes it, and from then on every write appends to it."""
    redis = Redis()
    try:
        server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", keyring.flag("RS256"), "--redis", redis.url,
                                       "--threads", "1"], cwd=keyring.dir, env={"VETO_ADMIN_TOKEN": ADMIN_TOKEN})
        try:
            logout(server, keyring.token("RS256"))
            assert redis.cli("EXISTS", "veto:feed") == "0", "a write appended to a feed nobody follows"
            watch = Watch(veto_bin, redis.url, "--json")
            try:
                assert watch.made_feed and redis.cli("TYPE", "veto:feed") == "stream"
                jti = f"after-watch-{time.time_ns()}"
                logout(server, keyring.token("RS256", jti=jti))
                assert json.loads(watch.line())["jti"] == jti
                assert watch.interrupt() == 0
            finally:
                watch.process.kill()
        finally:
            server.stop()
    finally:
        redis.stop()
