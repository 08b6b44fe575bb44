"""The cut-off row of Scripts/bench (issue 16, "the check still costs one round trip in strict mode;
measure it"): HS256 warm, strict, with OpenID Connect access tokens that carry every claim a cut-off can
match (`sub`, `sid`, `azp` and a different `client_id`, `email`), so each check sends seven pipelined
GETs (jti, sub, sid, two clients, email, issuer) in one round trip instead of the plain rows' four (jti,
sub, client_id, issuer). Live cut-offs of every kind are in Redis while it runs (an issuer cut-off
and a client cut-off before the tokens' iat, which match but do not refuse, and a session cut-off of
another session), so the values are read and compared, not just found absent.

Judged like the HS256 warm strict row, against the same ceiling; its ratio to that row is reported. It
runs last, so its cut-offs do not change the other rows.
"""
import secrets
import subprocess
import time

import jwt

import harness

LABEL = "HS256 warm strict, OIDC token (7 GETs per check)"


def make_tokens(keys, count, path):
    """HS256 tokens with sid, azp, client_id and email; every hundredth is revoked (by jti). Returns the revoked ones."""
    now = int(time.time())
    revoked = []
    with open(path, "w") as out:
        for index in range(count):
            is_revoked = index % 100 == 0
            claims = {"iss": harness.ISS, "sub": f"user-{index:05d}", "aud": harness.AUD, "iat": now, "nbf": now, "exp": now + 4 * 3600,
                      "jti": f"{'r' if is_revoked else 'a'}-oidc-{index:05d}-{secrets.token_hex(6)}", "sid": f"session-{index:05d}",
                      "azp": "bench-spa", "client_id": "bench-gateway", "email": f"user-{index:05d}@bench.example",
                      "scope": "orders:read orders:write"}
            token = jwt.encode(claims, keys.private["HS256"], algorithm="HS256")
            out.write(f"{'r' if is_revoked else 'a'} {token}\n")
            if is_revoked:
                revoked.append(token)
    return revoked


def cut_off(veto_binary, redis_url, by, value, before):
    command = [veto_binary, "blocklist", "cutoff", "--redis", redis_url, "--iss", harness.ISS, "--by", by, "--before", str(before),
               "--reason", "bench"] + (["--value", value] if value is not None else [])
    subprocess.run(command, check=True, capture_output=True, timeout=60)


def run(args, profile, pinning, workdir, keys, redis, processes, ceiling_rps, speed, judge, plain_warm):
    """The row, judged; `plain_warm` is the HS256 warm strict row of the same run."""
    tokens = workdir / "tokens-oidc.txt"
    revoked = make_tokens(keys, profile.tokens, tokens)
    earlier = int(time.time()) - 3600
    cut_off(args.veto, redis.url, "issuer", None, earlier)
    cut_off(args.veto, redis.url, "client", "bench-gateway", earlier)
    cut_off(args.veto, redis.url, "sid", "another-session", int(time.time()) + 60)
    veto = harness.Veto(args.veto, pinning, workdir, "cutoffs", keys, ["--redis", redis.url], profile.cache_size)
    processes.append(veto)
    veto.revoke(revoked)
    if profile.warmup:
        harness.run_wrk(pinning, veto.port, "/v1/check", tokens, profile.warmup, workdir)
    before = redis.commands_processed()
    data = harness.run_wrk(pinning, veto.port, "/v1/check", tokens, profile.duration, workdir)
    commands = redis.commands_processed() - before
    row = harness.summarise(data, {"algorithm": "HS256", "mode": "warm", "consistency": "strict", "label": LABEL,
                                   "verify_cache_size": profile.cache_size,
                                   "redis_commands_per_check": round(commands / max(data["requests"], 1), 3),
                                   "peak_rss_mib": veto.process.peak_rss_mib(), "load": harness.load_average()[0]})
    row = judge(row, ceiling_rps, speed)
    row["ratio_to_plain_warm"] = round(row["requests_per_second"] / max(plain_warm["requests_per_second"], 1), 3)
    harness.log(f"{LABEL}: {row['requests_per_second']:,.0f} req/s ({row['ratio_to_plain_warm']:.2f}x the plain warm row), "
                f"p50 {row['p50_us']} µs, p99 {row['p99_us']} µs, Redis commands per check {row['redis_commands_per_check']}, "
                f"401s {row['answered_401']} / revoked sent {row['sent_revoked']}")
    veto.stop()
    return row


def markdown(row):
    return ["", f"Cut-offs: '{LABEL}' sends {row['redis_commands_per_check']:.2f} Redis commands per check (the plain rows: one GET each "
                f"for jti, sub, client_id and the issuer rule) and runs at {row['ratio_to_plain_warm']:.2f}x the HS256 warm strict row."]
