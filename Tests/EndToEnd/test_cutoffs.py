"""Cut-offs by subject, session, key, client, issuer and email (issue 16, contract §1): the admin API
(`/v1/admin/cutoffs`, and `/v1/admin/subjects` as an alias) and the CLI (`veto blocklist cutoff`,
`veto blocklist ls --cutoffs`), on Redis and on the embedded store, with every effect asserted
through `/v1/check` using tokens of a simulated OpenID provider."""
import json
import subprocess
import time

import pytest

from replica_kit import running
from services import Redis, request
from signals_kit import ADMIN_TOKEN, OMIT, OpenIDProvider, admin, check, cutoff, cutoffs_written, start_veto, unique

CONFIG = """
issuers:
  - issuer: {op}
    audiences: [api]
    jwks_url: {op_jwks}
  - issuer: {op2}
    audiences: [api]
    jwks_url: {op2_jwks}
"""


@pytest.fixture(scope="module")
def providers():
    """Two issuers: the second is the one whole-issuer cut-offs are made on."""
    with running() as keep:
        yield keep(OpenIDProvider()), keep(OpenIDProvider("https://second-op.test"))


def config(op, op2):
    return CONFIG.format(op=op.issuer, op_jwks=op.jwks_url, op2=op2.issuer, op2_jwks=op2.jwks_url)


@pytest.fixture(scope="module", params=["redis", "embedded"])
def stack(request, veto_bin, providers, tmp_path_factory):
    op, op2 = providers
    with running() as keep:
        redis = keep(Redis()) if request.param == "redis" else None
        server = keep(start_veto(veto_bin, tmp_path_factory.mktemp("cutoffs"), config(op, op2), request.param, redis))
        yield {"veto": server, "store": request.param}


def cli(veto_bin, cwd, *args):
    return subprocess.run([veto_bin, *map(str, args)], capture_output=True, text=True, timeout=60, cwd=cwd)


def listed_rules(veto_bin, cwd, *store):
    """{(by, value): created_by} of every rule `veto blocklist ls --cutoffs --json` prints."""
    listed = cli(veto_bin, cwd, "blocklist", "ls", "--cutoffs", "--json", *store)
    assert listed.returncode == 0, listed.stderr
    found, pending = {}, [json.loads(listed.stdout)]
    while pending:
        item = pending.pop()
        if isinstance(item, dict) and "by" in item and "value" in item:
            found[(item["by"], item["value"])] = item.get("created_by")
        elif isinstance(item, (dict, list)):
            pending.extend(item.values() if isinstance(item, dict) else item)
    return found


# kind -> (by, reason code, a function of (op, op2) giving (iss, value, victim(iat), other(iat)))
def _sub(op, op2):
    value = unique("user")
    return op.issuer, value, lambda iat: op.access_token(value, iat=iat), lambda iat: op.access_token(unique("user"), iat=iat)


def _sid(op, op2):
    user, value = unique("user"), unique("sid")
    return (op.issuer, value, lambda iat: op.access_token(user, sid=value, iat=iat),
            lambda iat: op.access_token(user, sid=unique("sid"), iat=iat))


def _kid(op, op2):
    user = unique("user")
    return (op.issuer, op.keys[1].kid, lambda iat: op.access_token(user, key=op.keys[1], iat=iat),
            lambda iat: op.access_token(user, key=op.keys[0], iat=iat))


def _client(claim):
    def make(op, op2):
        user, value = unique("user"), unique("client")
        return (op.issuer, value, lambda iat: op.access_token(user, iat=iat, **{claim: value}),
                lambda iat: op.access_token(user, iat=iat, **{claim: unique("client")}))
    return make


def _issuer(op, op2):
    user = unique("user")
    return op2.issuer, "", lambda iat: op2.access_token(user, iat=iat), lambda iat: op.access_token(user, iat=iat)


def _email(op, op2):
    user, value = unique("user"), unique("mail") + "@example.com"
    return (op.issuer, value, lambda iat: op.access_token(user, email=value, iat=iat),
            lambda iat: op.access_token(user, email=unique("mail") + "@example.com", iat=iat))


KINDS = {
    "sub": ("sub", "subject_revoked", _sub),
    "sid": ("sid", "session_revoked", _sid),
    "kid": ("kid", "key_revoked", _kid),
    "client-azp": ("client", "client_revoked", _client("azp")),
    "client-client_id": ("client", "client_revoked", _client("client_id")),
    "issuer": ("issuer", "issuer_cutoff", _issuer),
    "email": ("email", "email_revoked", _email),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_refuses_what_it_matches_up_to_before(stack, providers, kind):
    port = stack["veto"].port
    by, code, make = KINDS[kind]
    iss, value, victim, other = make(*providers)
    before = int(time.time()) - 10
    assert check(port, victim(before - 5)) == (200, "")
    written = cutoffs_written(port, by, "admin")
    status, rule = admin(port, "POST", "/v1/admin/cutoffs", {"iss": iss, "by": by, "value": value, "before": before,
                                                             "reason": "incident 42"})
    assert status == 201, (status, rule)
    assert rule["created_by"] == "admin" and rule["cutoff_unix"] == before, rule
    assert (rule["iss"], rule["by"], rule["value"]) == (iss, by, value), rule
    assert cutoffs_written(port, by, "admin") == written + 1
    try:
        assert check(port, victim(before - 5)) == (401, code)
        assert check(port, victim(before)) == (401, code), "iat equal to before is refused"
        assert check(port, victim(OMIT)) == (401, code), "a token without iat is refused by every matching cut-off"
        assert check(port, victim(before + 1)) == (200, ""), "a token issued after before is allowed"
        assert check(port, other(before - 5)) == (200, ""), "a token the cut-off does not match is allowed"
        assert check(port, other(OMIT)) == (200, "")
        status, read = cutoff(port, iss, by, value)
        assert status == 200 and read["created_by"] == "admin" and read["reason"] == "incident 42", (status, read)
    finally:
        status, _ = admin(port, "DELETE", "/v1/admin/cutoffs", iss=iss, by=by, value=value)
    assert status == 204
    assert check(port, victim(before - 5)) == (200, ""), "the deleted cut-off still refuses"
    assert cutoff(port, iss, by, value)[0] == 404
    assert admin(port, "DELETE", "/v1/admin/cutoffs", iss=iss, by=by, value=value)[0] == 404


def test_before_defaults_to_now(stack, providers):
    op, _ = providers
    port, sub = stack["veto"].port, unique("user")
    issued = int(time.time()) - 1
    status, rule = admin(port, "POST", "/v1/admin/cutoffs", {"iss": op.issuer, "by": "sub", "value": sub})
    assert status == 201, rule
    assert check(port, op.access_token(sub, iat=issued)) == (401, "subject_revoked")
    assert check(port, op.access_token(sub, iat=int(time.time()) + 2)) == (200, "")


def test_an_unmatched_cutoff_is_404(stack, providers):
    op, _ = providers
    port = stack["veto"].port
    assert cutoff(port, op.issuer, "sid", unique("never"))[0] == 404
    assert admin(port, "DELETE", "/v1/admin/cutoffs", iss=op.issuer, by="sid", value=unique("never"))[0] == 404


@pytest.mark.parametrize("body", [
    {"by": "sub", "value": "u"},
    {"iss": "https://nobody.test", "by": "sub", "value": "u"},
    {"iss": "https://op.test", "by": "jti", "value": "u"},
    {"iss": "https://op.test", "by": "sub"},
    {"iss": "https://op.test", "by": "sub", "value": "u", "before": "yesterday"},
], ids=["no-iss", "unknown-iss", "unknown-kind", "no-value", "bad-before"])
def test_bad_requests_are_400(stack, body):
    status, document = admin(stack["veto"].port, "POST", "/v1/admin/cutoffs", body)
    assert status == 400, (status, document)


def test_the_admin_token_is_required(stack, providers):
    op, _ = providers
    port = stack["veto"].port
    body = {"iss": op.issuer, "by": "sub", "value": unique("user")}
    for token in (None, "wrong-" + ADMIN_TOKEN):
        assert request(port, "POST", "/v1/admin/cutoffs", token, body=body)[0] == 401
        assert request(port, "GET", f"/v1/admin/cutoffs?iss={op.issuer}&by=sub&value=u", token)[0] == 401
        assert request(port, "DELETE", f"/v1/admin/cutoffs?iss={op.issuer}&by=sub&value=u", token)[0] == 401
    assert cutoff(port, op.issuer, "sub", body["value"])[0] == 404


def test_admin_subjects_is_an_alias_of_a_sub_cutoff(stack, providers):
    op, _ = providers
    port, sub = stack["veto"].port, unique("user")
    token = op.access_token(sub, iat=int(time.time()) - 5)
    status, document = admin(port, "POST", "/v1/admin/subjects", {"iss": op.issuer, "sub": sub, "reason": "password reset"})
    assert status == 200, (status, document)
    assert check(port, token) == (401, "subject_revoked")
    status, document = admin(port, "GET", "/v1/admin/subjects", iss=op.issuer, sub=sub)
    assert status == 200 and document["reason"] == "password reset", document
    status, rule = cutoff(port, op.issuer, "sub", sub)
    assert status == 200 and rule["created_by"] == "admin" and rule["reason"] == "password reset", (status, rule)


def test_cli_cutoff_and_ls_on_redis(providers, veto_bin, tmp_path):
    """The CLI writes to the Redis a running veto serve reads (test_cli_cutoff_and_ls_on_the_embedded_store
    is the data dir's case)."""
    op, op2 = providers
    with running() as keep:
        redis = keep(Redis())
        server = keep(start_veto(veto_bin, tmp_path, config(op, op2), "redis", redis))
        cli_cutoffs_on_redis(veto_bin, tmp_path, op, server.port, redis.url)


def cli_cutoffs_on_redis(veto_bin, tmp_path, op, port, url):
    before = int(time.time()) - 10
    user, sid, client, mail = unique("user"), unique("sid"), unique("client"), unique("mail") + "@example.com"
    made = cli(veto_bin, tmp_path, "blocklist", "cutoff", "--redis", url, "--iss", op.issuer, "--by", "sid", "--value", sid,
               "--before", before)
    assert made.returncode == 0, made.stderr
    made = cli(veto_bin, tmp_path, "blocklist", "cutoff", "--redis", url, "--iss", op.issuer, "--by", "client", "--value", client)
    assert made.returncode == 0, made.stderr
    assert admin(port, "POST", "/v1/admin/cutoffs", {"iss": op.issuer, "by": "email", "value": mail})[0] == 201
    alias = cli(veto_bin, tmp_path, "blocklist", "revoke-subject", user, "--iss", op.issuer, "--redis", url)
    assert alias.returncode == 0, alias.stderr
    assert check(port, op.access_token(unique("u"), sid=sid, iat=before - 5)) == (401, "session_revoked")
    assert check(port, op.access_token(unique("u"), sid=sid, iat=before + 1)) == (200, "")
    assert check(port, op.access_token(unique("u"), azp=client, iat=int(time.time()) - 5)) == (401, "client_revoked")
    assert check(port, op.access_token(user, iat=int(time.time()) - 5)) == (401, "subject_revoked")
    assert cutoff(port, op.issuer, "sid", sid)[1]["created_by"] == "cli"
    assert cutoff(port, op.issuer, "client", client)[1]["created_by"] == "cli"
    expected = {("sid", sid, "cli"), ("client", client, "cli"), ("email", mail, "admin"), ("sub", user, "cli")}
    listed = cli(veto_bin, tmp_path, "blocklist", "ls", "--cutoffs", "--redis", url)
    assert listed.returncode == 0, listed.stderr
    for value in (sid, client, mail, user):
        assert value in listed.stdout, f"{value} missing from `veto blocklist ls --cutoffs`:\n{listed.stdout}"
    rules = listed_rules(veto_bin, tmp_path, "--redis", url)
    assert {(by, value, rules.get((by, value))) for by, value, _ in expected} == expected, rules


def test_cli_refuses_an_unknown_kind(veto_bin, tmp_path):
    refused = cli(veto_bin, tmp_path, "blocklist", "cutoff", "--redis", "redis://127.0.0.1:1/0", "--iss", "https://op.test",
                  "--by", "jti", "--value", "x")
    # 2 is the documented usage error; ArgumentParser's own parse errors exit 64 (EX_USAGE) today
    assert refused.returncode in (2, 64), (refused.returncode, refused.stderr)
    assert "--by" in refused.stderr and "sid" in refused.stderr, refused.stderr


def test_cli_cutoff_and_ls_on_the_embedded_store(veto_bin, providers, tmp_path):
    """A data dir has one writer: rules are written by the CLI while veto serve is stopped, and
    apply once it runs again on the same data dir, next to a rule the admin API made before."""
    op, op2 = providers
    before = int(time.time()) - 10
    sid, key, mail = unique("sid"), op.keys[1].kid, unique("mail") + "@example.com"
    server = start_veto(veto_bin, tmp_path, config(op, op2), "embedded")
    try:
        assert admin(server.port, "POST", "/v1/admin/cutoffs", {"iss": op.issuer, "by": "email", "value": mail,
                                                                "before": before})[0] == 201
    finally:
        server.stop()
    for by, value in (("sid", sid), ("kid", key)):
        made = cli(veto_bin, tmp_path, "blocklist", "cutoff", "--data-dir", "data", "--iss", op.issuer, "--by", by,
                   "--value", value, "--before", before)
        assert made.returncode == 0, made.stderr
    made = cli(veto_bin, tmp_path, "blocklist", "cutoff", "--data-dir", "data", "--iss", op2.issuer, "--by", "issuer",
               "--before", before)
    assert made.returncode == 0, made.stderr
    listed = cli(veto_bin, tmp_path, "blocklist", "ls", "--cutoffs", "--data-dir", "data")
    assert listed.returncode == 0, listed.stderr
    for value in (sid, key, mail, op2.issuer):
        assert value in listed.stdout, f"{value} missing from `veto blocklist ls --cutoffs`:\n{listed.stdout}"
    rules = listed_rules(veto_bin, tmp_path, "--data-dir", "data")
    expected = {("sid", sid, "cli"), ("kid", key, "cli"), ("email", mail, "admin"), ("issuer", "", "cli")}
    assert {(by, value, rules.get((by, value))) for by, value, _ in expected} == expected, rules
    with running() as keep:
        port = keep(start_veto(veto_bin, tmp_path, config(op, op2), "embedded")).port
        user = unique("user")
        assert check(port, op.access_token(unique("u"), sid=sid, iat=before - 5)) == (401, "session_revoked")
        assert check(port, op.access_token(user, key=op.keys[1], iat=before - 5)) == (401, "key_revoked")
        assert check(port, op.access_token(user, email=mail, iat=before - 5)) == (401, "email_revoked")
        assert check(port, op2.access_token(user, iat=before - 5)) == (401, "issuer_cutoff")
        assert check(port, op.access_token(user, iat=before - 5)) == (200, "")
        assert check(port, op2.access_token(user, iat=before + 1)) == (200, "")
        assert cutoff(port, op.issuer, "sid", sid)[1]["created_by"] == "cli"
        assert cutoff(port, op2.issuer, "issuer", "")[1]["created_by"] == "cli"
        assert cutoff(port, op.issuer, "email", mail)[1]["created_by"] == "admin"
