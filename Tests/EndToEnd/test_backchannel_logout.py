"""OIDC Back-Channel Logout 1.0 (issue 16, contract §3): a simulated OpenID provider POSTs logout
tokens to `/oidc/backchannel-logout` of a real `veto serve`, on Redis and on the embedded store; every
effect and every refusal is asserted through `/v1/check` with the provider's access tokens."""
import json
import time

import pytest

from replica_kit import running
from services import Redis
from signals_kit import OMIT, OpenIDProvider, check, cutoff, cutoffs_written, signal_events, start_veto, unique

CONFIG = """
issuers:
  - issuer: {op}
    audiences: [api]
    jwks_url: {op_jwks}
    backchannel_logout:
      audiences: [client-a, client-b]
  - issuer: {other}
    audiences: [api]
    jwks_url: {other_jwks}
"""


def config(op, other):
    return CONFIG.format(op=op.issuer, op_jwks=op.jwks_url, other=other.issuer, other_jwks=other.jwks_url)


@pytest.fixture(scope="module")
def providers():
    """The provider with back-channel logout, and a configured issuer without it."""
    with running() as keep:
        yield keep(OpenIDProvider()), keep(OpenIDProvider("https://other-op.test"))


@pytest.fixture(scope="module", params=["redis", "embedded"])
def veto(request, veto_bin, providers, tmp_path_factory):
    op, other = providers
    with running() as keep:
        redis = keep(Redis()) if request.param == "redis" else None
        yield keep(start_veto(veto_bin, tmp_path_factory.mktemp("bcl"), config(op, other), request.param, redis))


class Session:
    """A user with a session at the provider: its token, a token of another session, a token of
    another user, and (`later(t)`) a token of the same session issued at t."""

    def __init__(self, op, issued_at):
        self.op, self.sub, self.sid = op, unique("user"), unique("sid")
        self.token = op.access_token(self.sub, sid=self.sid, iat=issued_at)
        self.other_session = op.access_token(self.sub, sid=unique("sid"), iat=issued_at)
        self.other_user = op.access_token(unique("user"), sid=unique("sid"), iat=issued_at)

    def later(self, iat):
        return self.op.access_token(self.sub, sid=self.sid, iat=iat)


def assert_accepted(response):
    status, headers, body = response
    assert status == 200, (status, body)
    assert headers.get("cache-control") == "no-store"
    assert body == b""


def assert_refused(response, code):
    status, headers, body = response
    assert status == 400, (status, body)
    assert headers.get("cache-control") == "no-store"
    assert headers.get("x-veto-error") == code, (headers.get("x-veto-error"), body)
    document = json.loads(body)
    assert document["error"] == "invalid_request" and document["veto_error"] == code, document
    assert isinstance(document["error_description"], str) and document["error_description"], document


def test_logout_with_sid_ends_that_session_only(veto, providers):
    op, _ = providers
    logout_at = int(time.time()) - 10
    user = Session(op, logout_at - 20)
    assert check(veto.port, user.token) == (200, "")
    applied = signal_events(veto.port, source="backchannel_logout", outcome="applied")
    written = cutoffs_written(veto.port, "sid", "backchannel_logout")
    assert_accepted(op.send_logout(veto.port, op.logout_token(sid=user.sid, iat=logout_at)))
    assert check(veto.port, user.token) == (401, "session_revoked")
    assert check(veto.port, user.other_session) == (200, "")
    assert check(veto.port, user.other_user) == (200, "")
    assert check(veto.port, user.later(logout_at + 1)) == (200, "")
    assert check(veto.port, user.later(logout_at)) == (401, "session_revoked"), "iat equal to the cut-off is refused"
    status, rule = cutoff(veto.port, op.issuer, "sid", user.sid)
    assert status == 200 and rule["created_by"] == "backchannel_logout", (status, rule)
    assert rule["cutoff_unix"] == logout_at, rule
    assert signal_events(veto.port, source="backchannel_logout", outcome="applied") == applied + 1
    assert cutoffs_written(veto.port, "sid", "backchannel_logout") == written + 1


def test_logout_with_sub_ends_every_session_of_the_user(veto, providers):
    op, _ = providers
    logout_at = int(time.time()) - 10
    user = Session(op, logout_at - 20)
    assert_accepted(op.send_logout(veto.port, op.logout_token(sub=user.sub, iat=logout_at, aud=["client-x", "client-b"])))
    assert check(veto.port, user.token) == (401, "subject_revoked")
    assert check(veto.port, user.other_session) == (401, "subject_revoked")
    assert check(veto.port, user.other_user) == (200, "")
    assert check(veto.port, user.later(logout_at + 1)) == (200, "")
    status, rule = cutoff(veto.port, op.issuer, "sub", user.sub)
    assert status == 200 and rule["created_by"] == "backchannel_logout", (status, rule)


def test_logout_with_sid_and_sub_is_a_session_cutoff(veto, providers):
    """Contract §3: when sid is present the cut-off is by sid, so the user's other sessions go on."""
    op, _ = providers
    logout_at = int(time.time()) - 10
    user = Session(op, logout_at - 20)
    assert_accepted(op.send_logout(veto.port, op.logout_token(sub=user.sub, sid=user.sid, iat=logout_at)))
    assert check(veto.port, user.token) == (401, "session_revoked")
    assert check(veto.port, user.other_session) == (200, "")
    assert cutoff(veto.port, op.issuer, "sub", user.sub)[0] == 404


@pytest.mark.parametrize("typ", [OMIT, "JWT", "logout+jwt"], ids=["no-typ", "JWT", "logout+jwt"])
def test_typ_absent_jwt_or_logout_jwt_is_accepted(veto, providers, typ):
    op, _ = providers
    user = Session(op, int(time.time()) - 30)
    assert_accepted(op.send_logout(veto.port, op.logout_token(sid=user.sid, typ=typ, iat=int(time.time()) - 10)))
    assert check(veto.port, user.token) == (401, "session_revoked")


def _now():
    return int(time.time())


# code (before any "/") -> the logout token, made for `user`'s session, that must be refused with it
REFUSALS = {
    "signature_invalid": lambda op, other, user: op.logout_token(sid=user.sid, key=op.rogue),
    "unknown_key_id": lambda op, other, user: op.logout_token(sid=user.sid, kid="op-9"),
    "algorithm_not_allowed": lambda op, other, user: op.logout_token(sid=user.sid, alg="HS256"),
    "algorithm_not_allowed/none": lambda op, other, user: op.logout_token(sid=user.sid, alg="none"),
    "audience_mismatch": lambda op, other, user: op.logout_token(sid=user.sid, aud="api"),
    "audience_mismatch/unlisted-client": lambda op, other, user: op.logout_token(sid=user.sid, aud=["client-z"]),
    "issuer_unknown": lambda op, other, user: op.logout_token(sid=user.sid, iss="https://nobody.test"),
    # a configured issuer without backchannel_logout is not one logout tokens are taken from
    "issuer_unknown/no-backchannel_logout": lambda op, other, user: other.logout_token(sid=user.sid),
    "token_expired": lambda op, other, user: op.logout_token(sid=user.sid, iat=_now() - 700, exp=_now() - 600),
    "token_not_yet_valid": lambda op, other, user: op.logout_token(sid=user.sid, iat=_now() + 600, exp=_now() + 700),
    "missing_claim/jti": lambda op, other, user: op.logout_token(sid=user.sid, jti=OMIT),
    "missing_claim/iat": lambda op, other, user: op.logout_token(sid=user.sid, iat=OMIT),
    "missing_claim/exp": lambda op, other, user: op.logout_token(sid=user.sid, exp=OMIT),
    "missing_claim/no-sid-no-sub": lambda op, other, user: op.logout_token(),
    "malformed_claim/sid-not-a-string": lambda op, other, user: op.logout_token(sid=7),
    "token_type_mismatch": lambda op, other, user: op.logout_token(sid=user.sid, typ="at+jwt"),
    "token_type_mismatch/secevent": lambda op, other, user: op.logout_token(sid=user.sid, typ="secevent+jwt"),
    "events_missing": lambda op, other, user: op.logout_token(sid=user.sid, events=OMIT),
    "events_missing/empty": lambda op, other, user: op.logout_token(sid=user.sid, events={}),
    "events_missing/other-event": lambda op, other, user: op.logout_token(
        sid=user.sid, events={"https://schemas.openid.net/secevent/risc/event-type/account-disabled": {}}),
    "nonce_present": lambda op, other, user: op.logout_token(sid=user.sid, nonce="n-0S6_WzA2Mj"),
    "malformed_token": lambda op, other, user: "not-a-jwt",
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusals_have_their_code_and_no_effect(veto, providers, case):
    op, other = providers
    user = Session(op, int(time.time()) - 30)
    token = REFUSALS[case](op, other, user)
    refused = signal_events(veto.port, source="backchannel_logout", outcome="refused")
    assert_refused(op.send_logout(veto.port, token), case.split("/")[0])
    assert check(veto.port, user.token) == (200, ""), "a refused logout token had an effect"
    assert cutoff(veto.port, op.issuer, "sid", user.sid)[0] == 404
    assert signal_events(veto.port, source="backchannel_logout", outcome="refused") == refused + 1


def test_a_logout_token_is_never_taken_for_an_access_token(veto, providers):
    op, _ = providers
    user = Session(op, int(time.time()) - 30)
    status, error = check(veto.port, op.logout_token(sub=user.sub, sid=user.sid, aud="api"))
    assert (status, error) == (401, "token_type_mismatch")


def test_a_request_without_logout_token_is_malformed(veto, providers):
    op, _ = providers
    assert_refused(op.send_logout(veto.port, form="token=abc"), "malformed_token")
    assert_refused(op.send_logout(veto.port, form=""), "malformed_token")


def test_a_replayed_jti_is_refused_and_has_no_effect(veto, providers):
    op, _ = providers
    first, second = Session(op, int(time.time()) - 30), Session(op, int(time.time()) - 30)
    token = op.logout_token(sid=first.sid, jti="replayed-" + first.sid)
    assert_accepted(op.send_logout(veto.port, token))
    assert_refused(op.send_logout(veto.port, token), "jti_replayed")
    # Another logout token with the same jti (a replay with other claims) changes nothing either.
    assert_refused(op.send_logout(veto.port, op.logout_token(sid=second.sid, jti="replayed-" + first.sid)), "jti_replayed")
    assert check(veto.port, first.token) == (401, "session_revoked")
    assert check(veto.port, second.token) == (200, "")


def test_store_down_answers_503_and_the_providers_retry_applies(veto_bin, providers, tmp_path):
    """Redis killed with -9 (append-only file, fsync always, so nothing stored is lost): the logout
    is answered 503 without recording its jti, so the same logout token is applied once Redis is back."""
    op, other = providers
    with running() as keep:
        redis = keep(Redis(args=["--appendonly", "yes", "--appendfsync", "always"]))
        server = keep(start_veto(veto_bin, tmp_path, config(op, other), "redis", redis))
        logout_at = int(time.time()) - 10
        user = Session(op, logout_at - 20)
        token = op.logout_token(sid=user.sid, iat=logout_at)
        redis.kill()
        status, headers, body = op.send_logout(server.port, token)
        assert status == 503, (status, body)
        assert headers.get("cache-control") == "no-store"
        document = json.loads(body)
        assert document["error"] == "temporarily_unavailable" and document["veto_error"] == "store_unavailable", document
        redis.start()
        deadline, answers = time.monotonic() + 15, []
        while time.monotonic() < deadline:
            status, _, body = op.send_logout(server.port, token)
            answers.append(status)
            if status != 503:
                break
            time.sleep(0.3)
        assert answers[-1] == 200, f"the retry after Redis came back was answered {answers}: {body!r}"
        assert check(server.port, user.token) == (401, "session_revoked")
        assert check(server.port, user.other_session) == (200, "")
