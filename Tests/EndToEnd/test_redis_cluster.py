"""Redis Cluster: three masters made with `redis-cli --cluster create`. Revocations spread over all
three; a slot moved by hand (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) and a `redis-cli --cluster
reshard` during checks cause no wrong answer (MOVED and ASK are followed); a subject cut-off in
another slot than the jti entry still rejects; `veto blocklist ls` walks every master."""
import os
import subprocess
import threading
import time
import urllib.parse

import jwt
import pytest

from conftest import AUD, ISS
from services import VetoServer, json_body, request
from topologies import Cluster, redis_cli

ADMIN = os.urandom(16).hex()


def token_key(jti):
    return f"veto:j:{len(ISS)}:{ISS}:{jti}"


@pytest.fixture(scope="module")
def cluster():
    deployment = Cluster(masters=3)
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def stack(cluster, veto_bin, keyring, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("cluster")
    (workdir / "admin.token").write_text(ADMIN)
    (workdir / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    server = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", cluster.url(seeds=1),
                                   "--admin-token-file", "admin.token"], cwd=workdir)
    revoked, allowed = [], []
    for index in range(60):
        jti = f"cluster-{index}"
        token = keyring.token("RS256", jti=jti)
        status, _, body = request(server.port, "POST", "/v1/revoke", token)
        assert status == 200, body
        revoked.append((jti, token))
    for index in range(20):
        allowed.append(keyring.token("RS256", jti=f"cluster-allowed-{index}"))
    yield {"server": server, "revoked": revoked, "allowed": allowed}
    server.stop()


def test_revocations_spread_over_every_master(cluster, stack):
    # Token entries only: the service also publishes its rules for the CLI (veto:rules).
    counts = {port: len(redis_cli(port, "--scan", "--pattern", "veto:j:*").split()) for port in cluster.ports}
    assert all(count > 0 for count in counts.values()), counts
    assert sum(counts.values()) == len(stack["revoked"])
    for jti, token in stack["revoked"][:10]:
        status, headers, _ = request(stack["server"].port, "GET", "/v1/check", token)
        assert status == 401 and headers["x-veto-error"] == "token_revoked"


def test_subject_cutoff_on_another_master(cluster, stack, keyring):
    """The jti entry and the subject cut-off of one token on two different masters: the check reads
    both (one GET per node, sent in parallel) and the cut-off still rejects."""
    token = keyring.token("RS256", iat=int(time.time()) - 5)
    jti_owner = cluster.owner(cluster.slot(token_key(jwt.decode(token, options={"verify_signature": False})["jti"])))
    subject = next(f"cluster-user-{n}" for n in range(1000)
                   if cluster.owner(cluster.slot(f"veto:s:{len(ISS)}:{ISS}:cluster-user-{n}")) != jti_owner)
    token = keyring.token("RS256", sub=subject, iat=int(time.time()) - 5,
                          jti=jwt.decode(token, options={"verify_signature": False})["jti"])
    assert request(stack["server"].port, "GET", "/v1/check", token)[0] == 200
    status, _, body = request(stack["server"].port, "POST", "/v1/admin/subjects", ADMIN, body={"iss": ISS, "sub": subject})
    assert status == 200, body
    status, headers, _ = request(stack["server"].port, "GET", "/v1/check", token)
    assert status == 401 and headers["x-veto-error"] == "subject_revoked"


class Checker:
    """Checks revoked and allowed tokens in a loop and records every wrong or failed answer."""

    def __init__(self, port, revoked, allowed):
        self.port, self.revoked, self.allowed = port, revoked, allowed
        self.wrong, self.unavailable, self.count = [], [], 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        index = 0
        while not self.stop.is_set():
            token, expected = (self.revoked[index % len(self.revoked)], 401) if index % 3 else (self.allowed[index % len(self.allowed)], 200)
            index += 1
            status = request(self.port, "GET", "/v1/check", token, timeout=5)[0]
            self.count += 1
            if status == 503:
                self.unavailable.append(status)
            elif status != expected:
                self.wrong.append((expected, status))

    def finish(self):
        self.stop.set()
        self.thread.join(timeout=15)


def test_slot_moved_by_hand_follows_ask_then_moved(cluster, stack):
    port = stack["server"].port
    jti, token = stack["revoked"][0]
    key = token_key(jti)
    slot = cluster.slot(key)
    source = cluster.owner(slot)
    target = next(p for p in cluster.ports if p != source)
    source_id, target_id = cluster.node_id(source), cluster.node_id(target)
    assert redis_cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", source_id) == "OK"
    assert redis_cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", target_id) == "OK"
    assert redis_cli(source, "MIGRATE", "127.0.0.1", target, key, 0, 5000) == "OK"
    # The key now lives on the target while the slot is still the source's: the source answers ASK.
    assert redis_cli(target, "CLUSTER", "COUNTKEYSINSLOT", slot) != "0" and redis_cli(source, "EXISTS", key) != "1"
    status, headers, _ = request(port, "GET", "/v1/check", token)
    assert status == 401 and headers["x-veto-error"] == "token_revoked", "a revoked token during ASK"
    # Finish the move: remaining keys of the slot, then the slot itself on every node.
    for other in redis_cli(source, "CLUSTER", "GETKEYSINSLOT", slot, 1000).split():
        assert redis_cli(source, "MIGRATE", "127.0.0.1", target, other, 0, 5000) == "OK"
    for node in [target, source] + [p for p in cluster.ports if p not in (source, target)]:
        assert redis_cli(node, "CLUSTER", "SETSLOT", slot, "NODE", target_id) == "OK"
    assert cluster.owner(slot) == target
    status, headers, _ = request(port, "GET", "/v1/check", token)
    assert status == 401 and headers["x-veto-error"] == "token_revoked", "a revoked token after MOVED"
    # A write to the moved slot goes to its new owner too (revoking again is idempotent).
    assert request(port, "POST", "/v1/revoke", token)[0] == 200


def test_resharding_during_checks_gives_no_wrong_answer(cluster, stack):
    checker = Checker(stack["server"].port, [token for _, token in stack["revoked"]], stack["allowed"])
    try:
        source, target = cluster.ports[0], cluster.ports[1]
        time.sleep(0.3)
        reshard = subprocess.run(["redis-cli", "--cluster", "reshard", f"127.0.0.1:{source}", "--cluster-from", cluster.node_id(source),
                                  "--cluster-to", cluster.node_id(target), "--cluster-slots", "2000", "--cluster-yes",
                                  "--cluster-pipeline", "10"], capture_output=True, text=True, timeout=120)
        assert reshard.returncode == 0, reshard.stdout[-2000:] + reshard.stderr
        time.sleep(0.3)
    finally:
        checker.finish()
    assert checker.count > 20, f"only {checker.count} checks ran during the resharding"
    assert checker.wrong == [], f"wrong answers during resharding: {checker.wrong[:10]}"
    assert checker.unavailable == [], f"{len(checker.unavailable)} of {checker.count} checks answered 503 during resharding"
    for jti, token in stack["revoked"]:
        assert request(stack["server"].port, "GET", "/v1/check", token)[0] == 401, jti


def test_blocklist_ls_walks_every_master(cluster, stack, veto):
    url = cluster.url(seeds=2)
    seen, cursor, pages = [], None, 0
    while True:
        args = ["blocklist", "ls", "--redis", url, "--limit", "7", "--json"] + (["--cursor", cursor] if cursor else [])
        result = veto(*args)
        assert result.returncode == 0, result.stderr
        page = json_body(result.stdout)
        seen += [entry["jti"] for entry in page["entries"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
        assert pages < 100
    expected = {jti for jti, _ in stack["revoked"]}
    assert expected <= set(seen), sorted(expected - set(seen))[:10]
    counted = veto("blocklist", "count", "--redis", url)
    assert counted.returncode == 0 and str(len(expected)) in counted.stdout, counted.stdout + counted.stderr


def test_a_bounded_replica_follows_a_cluster(cluster, stack, veto_bin, keyring, tmp_path):
    """A bounded instance on the cluster: it loads the entries of every master, then hears of a
    revocation, a subject cut-off and a removal made through the strict instance. In a cluster the feed
    is one key on one master, written by its own XADD around each script (KEYS.md, "The feed")."""
    (tmp_path / "rsa.pem").write_bytes((keyring.dir / keyring.files["RS256"]).read_bytes())
    bounded = VetoServer(veto_bin, ["--issuer", ISS, "--audience", AUD, "--key", "RS256:rsa.pem", "--redis", cluster.url(seeds=1),
                                    "--consistency", "bounded", "--threads", "1"], cwd=tmp_path)
    try:
        def replica():
            return json_body(request(bounded.port, "GET", "/readyz")[2]).get("replica", {})

        def within(predicate, seconds=2.0):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if predicate():
                    return True
                time.sleep(0.01)
            return False

        assert within(lambda: replica().get("state") == "current", 30), replica()
        assert replica()["entries"] >= len(stack["revoked"]), replica()
        for _, token in stack["revoked"][:10]:
            assert request(bounded.port, "GET", "/v1/check", token)[0] == 401
        token = keyring.token("RS256", jti="cluster-bounded-new", iat=int(time.time()) - 5, sub="cluster-bounded-user")
        assert request(bounded.port, "GET", "/v1/check", token)[0] == 200
        assert request(stack["server"].port, "POST", "/v1/revoke", token)[0] == 200
        assert within(lambda: request(bounded.port, "GET", "/v1/check", token)[0] == 401), "the revocation did not reach the replica"
        query = urllib.parse.urlencode({"iss": ISS, "jti": "cluster-bounded-new"})
        status, _, body = request(stack["server"].port, "DELETE", f"/v1/admin/revocations?{query}", ADMIN)
        assert status == 200, body
        assert within(lambda: request(bounded.port, "GET", "/v1/check", token)[0] == 200), "the removal did not reach the replica"
        fresh = keyring.token("RS256", iat=int(time.time()) - 5, sub="cluster-bounded-user")
        assert request(bounded.port, "GET", "/v1/check", fresh)[0] == 200
        status, _, body = request(stack["server"].port, "POST", "/v1/admin/subjects", ADMIN, body={"iss": ISS, "sub": "cluster-bounded-user"})
        assert status == 200, body
        assert within(lambda: request(bounded.port, "GET", "/v1/check", fresh)[0] == 401), "the cut-off did not reach the replica"
        metrics = request(bounded.port, "GET", "/metrics")[2].decode()
        assert 'veto_replica_answers_total{source="replica"}' in metrics
    finally:
        bounded.stop()
