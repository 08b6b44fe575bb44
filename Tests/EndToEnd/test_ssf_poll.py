"""Shared Signals poll delivery (RFC 8936) by a real `veto serve` from a simulated transmitter
(issue 16, contract §4): effects through `/v1/check`, the ack / setErrs / moreAvailable bookkeeping
the transmitter records, a store outage and a transmitter restart, and stream read/create with
verification at start-up."""
import time

import pytest

from replica_kit import running
from services import Redis, wait_for
from signals_kit import (ACCOUNT_DISABLED, CREDENTIAL_CHANGE, POLL_METHOD, SESSION_REVOKED, TOKEN_CLAIMS_CHANGE, VERIFICATION,
                         OpenIDProvider, check, eventually, start_veto, unique)
from ssf_kit import Transmitter, complex_subject, email, iss_sub, opaque

POLL_INTERVAL = 2
RECEIVER = """
issuers:
  - issuer: {op}
    audiences: [api]
    jwks_url: {op_jwks}
ssf:
  receivers:
    - issuer: {tx}
      audience: {tx_aud}
      jwks_url: {tx_jwks}
      delivery: poll
      poll_url: {poll_url}
      poll_interval: {interval}
      read_token_file: read.token
      token_issuers: [{op}]
"""


@pytest.fixture(scope="module")
def op():
    with running() as keep:
        yield keep(OpenIDProvider())


def start(veto_bin, workdir, op, tx, store, redis=None):
    (workdir / "read.token").write_text(tx.read_token + "\n")
    config = RECEIVER.format(op=op.issuer, op_jwks=op.jwks_url, tx=tx.issuer, tx_aud=tx.audience, tx_jwks=tx.base + "/jwks",
                             poll_url=tx.poll_url, interval=POLL_INTERVAL)
    return start_veto(veto_bin, workdir, config, store, redis)


@pytest.fixture(scope="module", params=["redis", "embedded"])
def stack(request, veto_bin, op, tmp_path_factory):
    """A transmitter that answers at most 2 SETs a poll, and Veto polling it every 2 s."""
    with running() as keep:
        tx = keep(Transmitter(page_size=2))
        redis = keep(Redis()) if request.param == "redis" else None
        server = keep(start(veto_bin, tmp_path_factory.mktemp("ssf-poll"), op, tx, request.param, redis))
        yield tx, server


class User:
    def __init__(self, op, issued_at):
        self.sub, self.sid, self.email = unique("user"), unique("sid"), unique("mail") + "@example.com"
        self.token = op.access_token(self.sub, sid=self.sid, email=self.email, iat=issued_at)
        self.other_session = op.access_token(self.sub, sid=unique("sid"), iat=issued_at)


def acked(tx, *jtis, timeout=20):
    eventually(lambda: all(jti in tx.acked for jti in jtis), timeout,
               lambda: f"Veto to acknowledge {sorted(set(jtis) - set(tx.acked))} (setErrs: {tx.errors}, polls: {len(tx.polls)})")


def test_polled_events_take_effect_and_are_acked_once(stack, op):
    tx, server = stack
    at = int(time.time()) - 30
    by_session, by_subject, by_email, untouched = (User(op, at - 20) for _ in range(4))
    since = len(tx.polls)
    jtis = tx.enqueue_all([
        tx.set_token(SESSION_REVOKED, complex_subject(iss_sub(op.issuer, by_session.sub), by_session.sid), event_timestamp=at),
        tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, by_subject.sub), event_timestamp=at),
        tx.set_token(CREDENTIAL_CHANGE, email(by_email.email), event_timestamp=at,
                     payload={"credential_type": "password", "change_type": "update"}),
        tx.set_token(TOKEN_CLAIMS_CHANGE, iss_sub(op.issuer, untouched.sub), payload={"claims": {"role": "ro"}}),
        tx.set_token(VERIFICATION, sub_id=opaque("stream-1"), payload={"state": "c3RhdGU"}),
    ])
    acked(tx, *jtis)
    assert check(server.port, by_session.token) == (401, "session_revoked")
    assert check(server.port, by_session.other_session) == (200, "")
    assert check(server.port, by_subject.token) == (401, "subject_revoked")
    assert check(server.port, by_subject.other_session) == (401, "subject_revoked")
    assert check(server.port, by_email.token) == (401, "email_revoked")
    assert check(server.port, untouched.token) == (200, "")
    for jti in jtis:
        assert tx.acked.count(jti) == 1 and tx.delivered(jti) == 1 and jti not in tx.errors, jti
    assert not tx.stray, f"acknowledged SETs it was never given: {tx.stray}"
    polls = tx.polls[since:]
    for poll in polls:
        assert not poll.get("refused"), poll
        assert poll["authorization"] == f"Bearer {tx.read_token}"
        assert poll["request"].get("returnImmediately") is True, poll["request"]
        assert isinstance(poll["request"].get("maxEvents"), int) and poll["request"]["maxEvents"] >= 1, poll["request"]
    # moreAvailable: true is followed by the next poll at once, not after poll_interval.
    followed = [(a, b) for a, b in zip(polls, polls[1:]) if a["moreAvailable"]]
    assert followed, "the 5 SETs were never answered with moreAvailable: true (page size 2)"
    for before, after in followed:
        assert after["at"] - before["at"] < POLL_INTERVAL / 2, f"polled again {after['at'] - before['at']:.2f} s after moreAvailable"


def test_refused_sets_are_reported_in_setErrs_and_not_acked(stack, op):
    tx, server = stack
    user = User(op, int(time.time()) - 30)
    subject = iss_sub(op.issuer, user.sub)
    replayed = tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, unique("user"))))
    acked(tx, replayed)
    expected = {
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, key=tx.rogue)): "invalid_key",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, aud="https://elsewhere.test")): "invalid_audience",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, iss="https://nobody.test")): "invalid_issuer",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id={"format": "phone_number", "phone_number": "+12065550100"})): "invalid_request",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, events={ACCOUNT_DISABLED: {}, SESSION_REVOKED: {}})): "invalid_request",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, typ="JWT")): "invalid_request",
        tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=subject, jti=replayed)): "invalid_request",
    }
    eventually(lambda: all(jti in tx.errors for jti in expected), 20,
               lambda: f"setErrs for {sorted(set(expected) - set(tx.errors))} (setErrs {tx.errors}, acked {tx.acked})")
    for jti, err in expected.items():
        assert tx.errors[jti]["err"] == err, (jti, tx.errors[jti])
        assert isinstance(tx.errors[jti].get("description"), str) and tx.errors[jti]["description"], tx.errors[jti]
    assert tx.acked.count(replayed) == 1, "the replayed jti was acknowledged again"
    assert not [jti for jti in expected if jti != replayed and jti in tx.acked], "a refused SET was acknowledged"
    assert not tx.stray, f"acknowledged or refused SETs it was never given: {tx.stray}"
    assert check(server.port, user.token) == (200, ""), "a refused SET had an effect"


def test_only_what_was_stored_is_acked_while_the_store_is_down(veto_bin, op, tmp_path):
    """Redis killed with -9: the SET is polled but not stored, so it is neither acked nor in setErrs
    and the transmitter delivers it again; once Redis is back, the redelivery is stored and acked."""
    with running() as keep:
        tx = keep(Transmitter())
        redis = keep(Redis(args=["--appendonly", "yes", "--appendfsync", "always"]))
        server = keep(start(veto_bin, tmp_path, op, tx, "redis", redis))
        at = int(time.time()) - 10
        user = User(op, at - 20)
        redis.kill()
        jti = tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub), event_timestamp=at))
        wait_for(lambda: tx.delivered(jti) >= 1, timeout=20, what="the SET to be polled while Redis is down")
        time.sleep(POLL_INTERVAL + 1)   # a poll or two more, had Veto acknowledged it
        assert jti not in tx.acked and jti not in tx.errors, "a SET that was not stored was acknowledged or refused"
        redis.start()
        acked(tx, jti)
        assert jti not in tx.errors and tx.delivered(jti) >= 2, "stored from a redelivery, not from the first one"
        assert check(server.port, user.token) == (401, "subject_revoked")


@pytest.mark.parametrize("mode", ["read", "create"])
def test_stream_at_start_up_gives_the_poll_url_and_verifies(veto_bin, op, tmp_path, mode):
    """`stream: read` (read token) or `stream: create` (manage token) through discovery: no poll_url and
    no jwks_url are configured, both come from the transmitter; `verify: true` then asks for a
    verification SET, which Veto polls and acknowledges."""
    with running() as keep:
        tx = keep(Transmitter("https://tx-polled.test"))
        (tmp_path / "read.token").write_text(tx.read_token + "\n")
        (tmp_path / "manage.token").write_text(tx.manage_token + "\n")
        stream = ""
        if mode == "read":
            status, _, created = tx._create(f"Bearer {tx.manage_token}", {"delivery": {"method": POLL_METHOD}})
            assert status == 201
            stream = f"stream_id: {created['stream_id']}"
        server = keep(start_veto(veto_bin, tmp_path, f"""
issuers:
  - issuer: {op.issuer}
    audiences: [api]
    jwks_url: {op.jwks_url}
ssf:
  receivers:
    - issuer: {tx.issuer}
      audience: {tx.audience}
      configuration_url: {tx.configuration_url}
      delivery: poll
      poll_interval: 1
      read_token_file: read.token
      manage_token_file: manage.token
      token_issuers: [{op.issuer}]
      stream: {mode}
      {stream}
      verify: true
""", "embedded"))
        wait_for(lambda: tx.verifications, timeout=20, what="the verification request")
        [stream_id] = tx.streams
        calls = [m for m in tx.management if m["path"] == "/streams"]
        if mode == "read":
            assert [(m["method"], m["authorization"], m["query"]) for m in calls] == [
                ("GET", f"Bearer {tx.read_token}", {"stream_id": stream_id})], calls
        else:
            [create] = calls
            assert (create["method"], create["authorization"]) == ("POST", f"Bearer {tx.manage_token}"), create
            assert create["body"]["delivery"]["method"] == POLL_METHOD, create["body"]
            assert ACCOUNT_DISABLED in create["body"]["events_requested"] and SESSION_REVOKED in create["body"]["events_requested"]
        [verify] = [m for m in tx.management if m["path"] == "/verify"]
        assert verify["body"]["stream_id"] == stream_id and verify["body"].get("state"), verify
        [verification] = tx.verifications
        acked(tx, verification["jti"])
        user = User(op, int(time.time()) - 30)
        acked(tx, tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub))))
        assert check(server.port, user.token) == (401, "subject_revoked")
        assert all(poll["authorization"] == f"Bearer {tx.read_token}" for poll in tx.polls)


def test_poll_survives_the_transmitter_restarting(stack, op):
    """Last in the module: the transmitter goes away right after delivering a SET (whose ack Veto then
    still owes) and comes back on the same port with what was queued meanwhile. Everything stored is
    acknowledged once, the refused SET is in setErrs, and nothing else is."""
    tx, server = stack
    at = int(time.time()) - 10
    first, second = User(op, at - 20), User(op, at - 20)
    a = tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, first.sub), event_timestamp=at))
    wait_for(lambda: tx.delivered(a) >= 1, timeout=10, what="the first SET to be delivered")
    tx.stop()
    b = tx.enqueue(tx.set_token(SESSION_REVOKED, complex_subject(iss_sub(op.issuer, second.sub), second.sid), event_timestamp=at))
    bad = tx.enqueue(tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, second.sub), key=tx.rogue))
    time.sleep(POLL_INTERVAL + 1)   # Veto's polls fail meanwhile
    tx.start()
    acked(tx, a, b, timeout=45)     # the retry backoff is bounded by 30 s
    wait_for(lambda: bad in tx.errors, timeout=10, what="the refused SET in setErrs")
    assert tx.errors[bad]["err"] == "invalid_key"
    assert a not in tx.errors and b not in tx.errors, tx.errors
    assert bad not in tx.acked and not tx.stray, tx.stray
    assert check(server.port, first.token) == (401, "subject_revoked")
    assert check(server.port, second.token) == (401, "session_revoked")
    assert check(server.port, second.other_session) == (200, "")
