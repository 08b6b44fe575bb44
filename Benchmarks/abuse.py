"""The abuse rows of Scripts/bench: what an unauthenticated caller can make Veto spend, each measured
as a ratio of time per request to the HS256 warm row of the same run (issue 12).

  flood  "flood of invalid tokens at default settings": distinct HS256 tokens with bad signatures,
         `veto serve` without --log-level, --verify-cache-size or a refusal log limit, the same wrk
         and connections as the warm rows. Target: within FLOOD_RATIO_LIMIT of the warm row.
  body   "POST /v1/check with a 64 KiB JSON body of many distinct member names" (finding 3):
         BODY_NAMES decomposed names "é0":0,… (e + U+0301), Content-Type: application/json, on
         BODY_CONNECTIONS connections (a few keep the single loop busy without a long backlog when
         wrk stops). Target: no more than BODY_RATIO_LIMIT times a normal check.

Time per request is 1 / (requests per second): wrk keeps the server's only event loop busy, so it
is the server's cost of one request, comparable across rows.
"""
import secrets
import time

import jwt

import harness

FLOOD_RATIO_LIMIT = 1.5
BODY_RATIO_LIMIT = 20.0
BODY_NAMES = 5_500
BODY_CONNECTIONS = 8
BODY_TIMEOUT_S = 30
MAX_BODY_BYTES = 64 * 1024

ROWS = {
    "flood": ("flood of invalid tokens at default settings", FLOOD_RATIO_LIMIT),
    "body": ("POST /v1/check with a 64 KiB JSON body of many distinct member names", BODY_RATIO_LIMIT),
}


def make_bad_tokens(iss, aud, count, path):
    """`count` distinct HS256 tokens signed with a secret Veto does not know (class "b")."""
    now = int(time.time())
    secret = secrets.token_bytes(32)
    with open(path, "w") as out:
        for index in range(count):
            claims = {"iss": iss, "sub": f"user-{index:05d}", "aud": aud, "iat": now, "nbf": now, "exp": now + 4 * 3600,
                      "jti": f"b-{index:05d}-{secrets.token_hex(6)}", "scope": "orders:read orders:write", "client_id": "bench-gateway"}
            out.write(f"b {jwt.encode(claims, secret, algorithm='HS256')}\n")


def make_body(path):
    """{"é0":0,"é1":0,…}: BODY_NAMES distinct names, é decomposed (e + U+0301), just under 64 KiB."""
    body = ("{" + ",".join(f'"e\u0301{index}":0' for index in range(BODY_NAMES)) + "}").encode()
    assert len(body) <= MAX_BODY_BYTES, len(body)
    path.write_bytes(body)
    return len(body)


def judge(row, name, warm_rps):
    title, limit = ROWS[name]
    rps = row["requests_per_second"]
    warm_us = 1e6 / warm_rps
    per_request_us = 1e6 / rps if rps else None
    ratio = per_request_us / warm_us if per_request_us else None
    row.update({"name": name, "row": title, "per_request_us": round(per_request_us, 2) if per_request_us else None,
                "warm_per_request_us": round(warm_us, 2), "ratio_to_warm": round(ratio, 2) if ratio else None, "ratio_limit": limit})
    row["targets"] = {
        "ratio": ratio is not None and ratio <= limit,
        "all_refused": row["wrong_allow"] == 0 and row["wrong_deny"] == 0 and row["answered_other"] == 0 and row["answered_200"] == 0,
        "no_socket_errors": row["socket_errors"] == 0,
    }
    row["all_targets_met"] = all(row["targets"].values())
    return row


def run(args, profile, pinning, workdir, keys, store_args, processes, warm_rps):
    """Both rows against one `veto serve` at default settings; returns them judged."""
    flood_tokens = workdir / "tokens-flood.txt"
    make_bad_tokens(harness.ISS, harness.AUD, profile.tokens, flood_tokens)
    body_file = workdir / "body-64k.json"
    body_bytes = make_body(body_file)
    veto = harness.Veto(args.veto, pinning, workdir, "abuse", keys, store_args, cache_size=None, log_level=None)
    processes.append(veto)
    rows = []

    harness.log("flood of invalid tokens at default settings")
    expect = {"VETO_BENCH_EXPECT": "invalid"}
    if profile.warmup:
        harness.run_wrk(pinning, veto.port, "/v1/check", flood_tokens, profile.warmup, workdir, env=expect)
    log_before = veto.process.log_bytes()
    data = harness.run_wrk(pinning, veto.port, "/v1/check", flood_tokens, profile.duration, workdir, env=expect)
    row = harness.summarise(data, {"peak_rss_mib": veto.process.peak_rss_mib(), "load": harness.load_average()[0],
                                   "log_bytes": veto.process.log_bytes() - log_before, "connections": harness.CONNECTIONS})
    rows.append(judge(row, "flood", warm_rps))
    harness.log(f"flood: {row['requests_per_second']:,.0f} req/s ({row['ratio_to_warm'] or '–'}x warm HS256), "
                f"{row['log_bytes']:,} bytes of log in {profile.duration} s")

    harness.log("POST /v1/check with a 64 KiB body of many distinct member names")
    data = harness.run_wrk(pinning, veto.port, "/v1/check", None, profile.duration, workdir, connections=BODY_CONNECTIONS,
                           env={"VETO_BENCH_EXPECT": "refusal", "VETO_BENCH_BODY": str(body_file)}, timeout=BODY_TIMEOUT_S)
    row = harness.summarise(data, {"peak_rss_mib": veto.process.peak_rss_mib(), "load": harness.load_average()[0],
                                   "body_bytes": body_bytes, "connections": BODY_CONNECTIONS})
    rows.append(judge(row, "body", warm_rps))
    harness.log(f"64 KiB body: {row['requests_per_second']:,.1f} req/s ({row['ratio_to_warm'] or '–'}x warm HS256)")
    veto.stop()
    return rows


def markdown(rows):
    lines = ["", "| abuse row | req/s | µs per request | × HS256 warm | target | answers | wrong | socket errors | log written | targets |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        missed = [name for name, ok in row["targets"].items() if not ok]
        per_request = f"{row['per_request_us']:,.1f}" if row["per_request_us"] else "–"
        ratio = f"{row['ratio_to_warm']:,.2f}" if row["ratio_to_warm"] else "–"
        log_written = f"{row['log_bytes'] / 1024:,.1f} KiB" if "log_bytes" in row else ""
        lines.append(f"| {row['row']} | {row['requests_per_second']:,.1f} | {per_request} | {ratio} | ≤ {row['ratio_limit']:g}× | "
                     f"{row['refused_as_expected']} refused | {row['wrong_allow'] + row['wrong_deny'] + row['answered_other']} | "
                     f"{row['socket_errors']} | {log_written} | {'met' if not missed else 'missed: ' + ', '.join(missed)} |")
    lines.append("")
    lines.append("Abuse rows: one `veto serve` at default settings (log level, refusal log limit, verification cache), same store. "
                 "× HS256 warm = time per request (1 / req/s) over the HS256 warm row's. The flood sends distinct HS256 tokens "
                 f"with bad signatures on {rows[0]['connections']} connections; the body row {BODY_NAMES:,} distinct decomposed "
                 f"member names ({rows[-1].get('body_bytes', 0):,} bytes, no token) on {BODY_CONNECTIONS}. "
                 "'refused' = 401 signature_invalid (flood) or any 4xx (body); a 200 or another status is wrong.")
    return lines
