"""Shared Signals push delivery (RFC 8935) into a real `veto serve` (issue 16, contract §4): every event
kind of the contract's table and its effect through `/v1/check`, every refusal with its codes and no
effect, the push authorisation, a store outage, and stream creation with verification."""
import json
import time

import pytest

from replica_kit import running
from services import Redis, free_port, wait_for
from signals_kit import (ACCOUNT_DISABLED, ACCOUNT_PURGED, CREDENTIAL_CHANGE, CREDENTIAL_COMPROMISE, OMIT, PUSH_METHOD,
                         SESSION_REVOKED, SESSIONS_REVOKED, TOKEN_CLAIMS_CHANGE, VERIFICATION, OpenIDProvider, check, cutoff,
                         cutoffs_written, eventually, signal_events, start_veto, unique)
from ssf_kit import Transmitter, complex_subject, email, iss_sub, opaque, push, push_until_accepted

PUSH_AUTH = "Bearer push-secret-of-tx-0123456789"
PUSH_AUTH_2 = "Bearer push-secret-of-tx2-9876543210"
OTHER_ISSUER = "https://other-tenant.test"   # configured, but in no receiver's token_issuers
RECEIVERS = """
issuers:
  - issuer: {op}
    audiences: [api]
    jwks_url: {op_jwks}
  - issuer: {other}
    audiences: [api]
    jwks_url: {op_jwks}
ssf:
  receivers:
    - issuer: {tx}
      audience: {tx_aud}
      jwks_url: {tx_jwks}
      delivery: push
      push_authorization_file: push.auth
      token_issuers: [{op}]
    - issuer: {tx2}
      audience: {tx_aud}
      jwks_url: {tx2_jwks}
      push_authorization_file: push2.auth
      token_issuers: [{op}]
"""


def receivers(op, tx, tx2, workdir):
    """The configuration of both receivers, with their push Authorization files written in `workdir`."""
    (workdir / "push.auth").write_text(PUSH_AUTH + "\n")
    (workdir / "push2.auth").write_text(PUSH_AUTH_2 + "\n")
    return RECEIVERS.format(other=OTHER_ISSUER, op=op.issuer, op_jwks=op.jwks_url, tx=tx.issuer, tx_aud=tx.audience,
                            tx_jwks=tx.base + "/jwks", tx2=tx2.issuer, tx2_jwks=tx2.base + "/jwks")


@pytest.fixture(scope="module")
def sims():
    with running() as keep:
        yield keep(OpenIDProvider()), keep(Transmitter()), keep(Transmitter("https://tx2.test"))


@pytest.fixture(scope="module", params=["redis", "embedded"])
def veto(request, veto_bin, sims, tmp_path_factory):
    op, tx, tx2 = sims
    workdir = tmp_path_factory.mktemp("ssf-push")
    with running() as keep:
        redis = keep(Redis()) if request.param == "redis" else None
        yield keep(start_veto(veto_bin, workdir, receivers(op, tx, tx2, workdir), request.param, redis))


class User:
    """A user of the provider with a session: `token` (issued at `issued_at`), a token of another
    session of the same user, a token of another user, and `later(t)`, the same session's token at t."""

    def __init__(self, op, issued_at):
        self.op, self.sub, self.sid, self.email = op, unique("user"), unique("sid"), unique("mail") + "@example.com"
        self.token = self.later(issued_at)
        self.other_session = op.access_token(self.sub, sid=unique("sid"), email=self.email, iat=issued_at)
        self.other_user = op.access_token(unique("user"), sid=unique("sid"), email=unique("mail") + "@example.com",
                                          iat=issued_at)

    def later(self, iat):
        return self.op.access_token(self.sub, sid=self.sid, email=self.email, iat=iat)


def accepted(response):
    status, _, body = response
    assert status == 202, (status, body)
    assert body == b"", body


def refused(response, err, code, status=400):
    got, headers, body = response
    assert got == status, (got, body)
    assert headers.get("x-veto-error") == code, (headers.get("x-veto-error"), body)
    document = json.loads(body)
    assert document["err"] == err, document
    assert isinstance(document["description"], str) and document["description"], document


# id -> (event, how the SET names the user, extra event members, the cut-off kind, the refusal code)
# Subjects go in the event's `subject` (CAEP style) or in the top-level `sub_id` (SSF 1.0).
ISS = "https://op.test"
KINDS = {
    "session-revoked/complex": (SESSION_REVOKED, lambda u: {"subject": complex_subject(
        iss_sub(ISS, u.sub), u.sid, tenant=opaque("tenant-1"))}, {}, "sid", "session_revoked"),
    "session-revoked/complex-opaque-user": (SESSION_REVOKED, lambda u: {"sub_id": complex_subject(opaque(u.sub), u.sid)}, {},
                                            "sid", "session_revoked"),
    "session-revoked/iss_sub": (SESSION_REVOKED, lambda u: {"subject": iss_sub(ISS, u.sub)}, {}, "sub", "subject_revoked"),
    "session-revoked/email": (SESSION_REVOKED, lambda u: {"sub_id": email(u.email)}, {}, "email", "email_revoked"),
    "session-revoked/complex-no-session": (SESSION_REVOKED, lambda u: {"sub_id": complex_subject(iss_sub(ISS, u.sub))}, {},
                                           "sub", "subject_revoked"),
    "credential-change/iss_sub": (CREDENTIAL_CHANGE, lambda u: {"subject": iss_sub(ISS, u.sub)},
                                  {"credential_type": "password", "change_type": "update"}, "sub", "subject_revoked"),
    "credential-change/opaque": (CREDENTIAL_CHANGE, lambda u: {"sub_id": opaque(u.sub)},
                                 {"credential_type": "fido2-roaming", "change_type": "revoke"}, "sub", "subject_revoked"),
    "account-disabled/iss_sub": (ACCOUNT_DISABLED, lambda u: {"sub_id": iss_sub(ISS, u.sub)}, {"reason": "hijacking"},
                                 "sub", "subject_revoked"),
    "account-purged/opaque": (ACCOUNT_PURGED, lambda u: {"subject": opaque(u.sub)}, {}, "sub", "subject_revoked"),
    "sessions-revoked/iss_sub": (SESSIONS_REVOKED, lambda u: {"sub_id": iss_sub(ISS, u.sub)}, {}, "sub", "subject_revoked"),
    "credential-compromise/iss_sub": (CREDENTIAL_COMPROMISE, lambda u: {"subject": iss_sub(ISS, u.sub)},
                                      {"credential_type": "password"}, "sub", "subject_revoked"),
    "credential-compromise/email": (CREDENTIAL_COMPROMISE, lambda u: {"sub_id": email(u.email)},
                                    {"credential_type": "password"}, "email", "email_revoked"),
    # the token's email is in lower case: the address matches whatever its case
    "account-disabled/email-in-capitals": (ACCOUNT_DISABLED, lambda u: {"sub_id": email(u.email.upper())}, {}, "email",
                                           "email_revoked"),
}


def value_of(user, kind):
    return {"sub": user.sub, "sid": user.sid, "email": user.email}[kind]


@pytest.mark.parametrize("case", list(KINDS))
def test_each_event_kind_cuts_off_from_its_event_timestamp(veto, sims, case):
    op, tx, _ = sims
    event, names, members, kind, code = KINDS[case]
    at = int(time.time()) - 30   # event_timestamp; the SET's iat is now, so `later` proves which one counts
    user = User(op, at - 20)
    assert check(veto.port, user.token) == (200, "")
    applied = signal_events(veto.port, source="ssf", outcome="applied")
    written = cutoffs_written(veto.port, kind, f"ssf:{tx.issuer}")
    named = names(user)
    set_token = tx.set_token(event, named.get("subject"), sub_id=named.get("sub_id"), payload=members, event_timestamp=at)
    accepted(push(veto.port, set_token, PUSH_AUTH))
    assert check(veto.port, user.token) == (401, code)
    assert check(veto.port, user.other_user) == (200, "")
    assert check(veto.port, user.other_session) == ((200, "") if kind == "sid" else (401, code))
    assert check(veto.port, user.later(at + 1)) == (200, ""), "a token issued after event_timestamp is allowed"
    status, rule = cutoff(veto.port, op.issuer, kind, value_of(user, kind))
    assert status == 200 and rule["created_by"] == f"ssf:{tx.issuer}" and rule["cutoff_unix"] == at, (status, rule)
    assert signal_events(veto.port, source="ssf", outcome="applied") == applied + 1
    assert cutoffs_written(veto.port, kind, f"ssf:{tx.issuer}") == written + 1


def test_without_event_timestamp_the_cutoff_is_the_sets_iat(veto, sims):
    op, tx, _ = sims
    iat = int(time.time()) - 30
    user = User(op, iat - 20)
    accepted(push(veto.port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub), iat=iat), PUSH_AUTH))
    assert check(veto.port, user.token) == (401, "subject_revoked")
    assert check(veto.port, user.later(iat)) == (401, "subject_revoked")
    assert check(veto.port, user.later(iat + 1)) == (200, "")


@pytest.mark.parametrize("typ", ["application/secevent+jwt", "SecEvent+JWT"])
def test_typ_is_case_insensitive_with_an_optional_application_prefix(veto, sims, typ):
    op, tx, _ = sims
    user = User(op, int(time.time()) - 30)
    accepted(push(veto.port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub), typ=typ), PUSH_AUTH))
    assert check(veto.port, user.token) == (401, "subject_revoked")


@pytest.mark.parametrize("event", [TOKEN_CLAIMS_CHANGE, "https://events.example.com/secevent/unknown-kind"],
                         ids=["token-claims-change", "unknown"])
def test_events_without_effect_are_accepted_and_counted(veto, sims, event):
    op, tx, _ = sims
    user = User(op, int(time.time()) - 30)
    ignored = signal_events(veto.port, source="ssf", outcome="ignored")
    payload = {"claims": {"role": "readonly"}} if event == TOKEN_CLAIMS_CHANGE else {}
    accepted(push(veto.port, tx.set_token(event, iss_sub(op.issuer, user.sub), payload=payload), PUSH_AUTH))
    assert check(veto.port, user.token) == (200, "")
    assert cutoff(veto.port, op.issuer, "sub", user.sub)[0] == 404
    assert signal_events(veto.port, source="ssf", outcome="ignored") == ignored + 1


def test_a_verification_event_is_accepted_without_effect(veto, sims):
    op, tx, _ = sims
    user = User(op, int(time.time()) - 30)
    accepted(push(veto.port, tx.set_token(VERIFICATION, sub_id=opaque(user.sub), payload={"state": "VGhpcyBpcyBhbiBleGFtcGxl"}),
                  PUSH_AUTH))
    assert check(veto.port, user.token) == (200, "")


# id -> (RFC 8935 err, X-Veto-Error, the SET: an account-disabled of the user, spoilt one way)
REFUSALS = {
    "bad-signature": ("invalid_key", "signature_invalid", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, key=tx.rogue, sub_id=s)),
    "unknown-kid": ("invalid_key", "unknown_key_id", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, kid="tx-9", sub_id=s)),
    "alg-HS256": ("invalid_key", "algorithm_not_allowed", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, alg="HS256", sub_id=s)),
    "alg-RS384": ("invalid_key", "algorithm_not_allowed", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, alg="RS384", sub_id=s)),
    "wrong-aud": ("invalid_audience", "audience_mismatch",
                  lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, aud="https://elsewhere.test/ssf", sub_id=s)),
    "unknown-iss": ("invalid_issuer", "issuer_unknown",
                    lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, iss="https://nobody.test", sub_id=s)),
    # tx2 is a configured receiver, but the Authorization value is tx's: the SET must come from tx
    "other-receivers-iss": ("invalid_issuer", "issuer_unknown",
                            lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, iss=tx2.issuer, sub_id=s)),
    "typ-JWT": ("invalid_request", "token_type_mismatch", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, typ="JWT", sub_id=s)),
    "no-typ": ("invalid_request", "token_type_mismatch", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, typ=OMIT, sub_id=s)),
    "no-events": ("invalid_request", "events_missing", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, events=OMIT, sub_id=s)),
    "empty-events": ("invalid_request", "events_missing", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, events={}, sub_id=s)),
    "two-events": ("invalid_request", "events_too_many", lambda tx, tx2, s: tx.set_token(
        ACCOUNT_DISABLED, events={ACCOUNT_DISABLED: {}, CREDENTIAL_COMPROMISE: {"credential_type": "password"}}, sub_id=s)),
    "no-jti": ("invalid_request", "missing_claim", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, jti=OMIT, sub_id=s)),
    "no-iat": ("invalid_request", "missing_claim", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, iat=OMIT, sub_id=s)),
    "iat-in-the-future": (None, "token_not_yet_valid",
                          lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, iat=int(time.time()) + 600, sub_id=s)),
    "exp-passed": (None, "token_expired", lambda tx, tx2, s: tx.set_token(ACCOUNT_DISABLED, exp=int(time.time()) - 600, sub_id=s)),
    "phone-subject": ("invalid_request", "subject_unsupported", lambda tx, tx2, s: tx.set_token(
        ACCOUNT_DISABLED, sub_id={"format": "phone_number", "phone_number": "+12065550100"})),
    # iss_sub only under the receiver's token_issuers: one tenant's transmitter cannot log out another's users
    "iss_sub-of-another-tenant": ("invalid_request", "subject_unsupported", lambda tx, tx2, s: tx.set_token(
        ACCOUNT_DISABLED, sub_id=iss_sub(OTHER_ISSUER, s["sub"]))),
    "iss_sub-of-an-unknown-issuer": ("invalid_request", "subject_unsupported", lambda tx, tx2, s: tx.set_token(
        ACCOUNT_DISABLED, sub_id=iss_sub("https://nobody.test", s["sub"]))),
    "not-a-jws": ("invalid_request", "malformed_token", lambda tx, tx2, s: "this.is-not-a-set"),
}
RFC8935_ERRS = {"invalid_request", "invalid_key", "invalid_issuer", "invalid_audience"}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_sets_have_their_codes_and_no_effect(veto, sims, case):
    op, tx, tx2 = sims
    err, code, make = REFUSALS[case]
    user = User(op, int(time.time()) - 30)
    refusals = signal_events(veto.port, source="ssf", outcome="refused")
    status, headers, body = push(veto.port, make(tx, tx2, iss_sub(op.issuer, user.sub)), PUSH_AUTH)
    refused((status, headers, body), err or json.loads(body).get("err"), code)
    assert json.loads(body)["err"] in RFC8935_ERRS
    assert check(veto.port, user.token) == (200, ""), "a refused SET had an effect"
    assert cutoff(veto.port, op.issuer, "sub", user.sub)[0] == 404
    assert cutoff(veto.port, OTHER_ISSUER, "sub", user.sub)[0] == 404
    assert signal_events(veto.port, source="ssf", outcome="refused") == refusals + 1


def test_a_replayed_jti_is_refused_and_has_no_effect(veto, sims):
    op, tx, _ = sims
    first, second = User(op, int(time.time()) - 30), User(op, int(time.time()) - 30)
    jti = unique("replayed")
    original = tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, first.sub), jti=jti)
    accepted(push(veto.port, original, PUSH_AUTH))
    refused(push(veto.port, original, PUSH_AUTH), "invalid_request", "jti_replayed")
    # The same jti on a SET about someone else is a replay too.
    refused(push(veto.port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, second.sub), jti=jti), PUSH_AUTH),
            "invalid_request", "jti_replayed")
    assert check(veto.port, first.token) == (401, "subject_revoked")
    assert check(veto.port, second.token) == (200, "")


@pytest.mark.parametrize("authorization", [OMIT, "Bearer wrong-secret", PUSH_AUTH.replace("Bearer", "bearer"), PUSH_AUTH_2[:-1]],
                         ids=["missing", "wrong", "other-case", "prefix-of-another"])
def test_a_push_without_the_right_authorization_is_401_and_not_parsed(veto, sims, authorization):
    op, tx, _ = sims
    user = User(op, int(time.time()) - 30)
    refused(push(veto.port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub)), authorization),
            "authentication_failed", "push_unauthorized", status=401)
    # Nothing is parsed before the authorisation check: garbage is a 401 too, not a 400.
    refused(push(veto.port, "garbage", authorization), "authentication_failed", "push_unauthorized", status=401)
    assert check(veto.port, user.token) == (200, "")


def test_the_second_receivers_own_authorization_takes_its_sets(veto, sims):
    op, _, tx2 = sims
    user = User(op, int(time.time()) - 30)
    accepted(push(veto.port, tx2.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub)), PUSH_AUTH_2))
    assert check(veto.port, user.token) == (401, "subject_revoked")
    assert cutoff(veto.port, op.issuer, "sub", user.sub)[1]["created_by"] == f"ssf:{tx2.issuer}"


def test_another_content_type_is_415(veto, sims):
    op, tx, _ = sims
    user = User(op, int(time.time()) - 30)
    status, _, body = push(veto.port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub)), PUSH_AUTH,
                           content_type="application/json")
    assert status == 415, (status, body)
    assert check(veto.port, user.token) == (200, "")


def test_store_down_is_503_and_the_transmitters_retry_applies(veto_bin, sims, tmp_path):
    """Redis killed with -9 (append-only file, fsync always): the push is 503 and its jti not recorded,
    so the transmitter's retry of the same SET is applied once Redis is back."""
    op, tx, tx2 = sims
    with running() as keep:
        redis = keep(Redis(args=["--appendonly", "yes", "--appendfsync", "always"]))
        server = keep(start_veto(veto_bin, tmp_path, receivers(op, tx, tx2, tmp_path), "redis", redis))
        at = int(time.time()) - 10
        user = User(op, at - 20)
        set_token = tx.set_token(CREDENTIAL_COMPROMISE, iss_sub(op.issuer, user.sub), event_timestamp=at,
                                 payload={"credential_type": "password"})
        redis.kill()
        refused(push(server.port, set_token, PUSH_AUTH), "temporarily_unavailable", "store_unavailable", status=503)
        redis.start()
        status, _, body, attempts = push_until_accepted(server.port, set_token, PUSH_AUTH)
        assert status == 202, f"the retries were answered {attempts}: {body!r}"
        assert check(server.port, user.token) == (401, "subject_revoked")
        assert check(server.port, user.later(at + 1)) == (200, "")


def test_stream_create_registers_the_push_endpoint_and_verifies(veto_bin, tmp_path):
    """`stream: create` with discovery (no jwks_url: the JWKS comes from the metadata's jwks_uri) and
    `verify: true`: the stream is created with the manage token, the push URL and the push
    Authorization value; the verification SET the transmitter then pushes is accepted."""
    with running() as keep:
        op, tx = keep(OpenIDProvider()), keep(Transmitter("https://tx-managed.test"))
        port = free_port()
        (tmp_path / "push.auth").write_text(PUSH_AUTH + "\n")
        (tmp_path / "manage.token").write_text(tx.manage_token + "\n")
        endpoint = f"http://127.0.0.1:{port}/ssf/events"
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
      delivery: push
      push_authorization_file: push.auth
      manage_token_file: manage.token
      stream: create
      push_endpoint_url: {endpoint}
      token_issuers: [{op.issuer}]
      verify: true
""", "embedded", port=port))
        wait_for(lambda: tx.verifications, timeout=20, what="the stream to be created and verified")
        [verification] = tx.verifications
        eventually(lambda: any(d["jti"] == verification["jti"] and d["status"] == 202 for d in tx.deliveries), 20,
                   lambda: f"the verification SET to be accepted (deliveries: {tx.deliveries})")
        [create] = [m for m in tx.management if m["method"] == "POST" and m["path"] == "/streams"]
        assert create["authorization"] == f"Bearer {tx.manage_token}"
        delivery = create["body"]["delivery"]
        assert delivery == {"method": PUSH_METHOD, "endpoint_url": endpoint, "authorization_header": PUSH_AUTH}, delivery
        for event in (SESSION_REVOKED, CREDENTIAL_CHANGE, ACCOUNT_DISABLED, ACCOUNT_PURGED, SESSIONS_REVOKED, CREDENTIAL_COMPROMISE):
            assert event in create["body"]["events_requested"], event
        assert create["body"].get("description") == "veto", create["body"]
        [stream_id] = tx.streams
        assert verification["stream_id"] == stream_id and verification["state"], verification
        # Through the stream's own endpoint and Authorization value, and the discovered JWKS.
        user = User(op, int(time.time()) - 30)
        accepted(push(port, tx.set_token(ACCOUNT_DISABLED, sub_id=iss_sub(op.issuer, user.sub)), delivery["authorization_header"]))
        assert check(port, user.token) == (401, "subject_revoked")
        assert verification["state"] in server.logs(), "the verification event is logged with its state"
