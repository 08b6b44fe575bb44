"""`Scripts/bench --scale` (Benchmarks/bench.py --scale): 1,000,000 revoked entries in the embedded
store, in Redis, and in a bounded instance's replica of that Redis: memory, journal replay and
replica load time, and check speed against the same store empty."""
import datetime
import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

from harness import (CONNECTIONS, ISS, Keys, Pinning, Redis, Veto, clean_up, load_average, log, machine_facts,
                     make_tokens, replica_state, run_wrk, summarise, wait_for)
from report import write_report

SCALE_RSS_LIMIT_MIB = 256.0
SCALE_REPLAY_LIMIT_S = 5.0
REPLICA_RSS_LIMIT_MIB = 160.0
REPLICA_LOAD_LIMIT_S = 5.0


def scale_jti(index):
    """A UUID-shaped jti, distinct per index; the same function as scaleJTI in Benchmarks/StoreFill."""
    digits = f"{(index * 0x9E3779B97F4A7C15) % 2**64:016x}{index:016x}"
    return f"{digits[0:8]}-{digits[8:12]}-4{digits[13:16]}-8{digits[17:20]}-{digits[20:32]}"


def redis_protocol(*parts):
    out = [f"*{len(parts)}\r\n".encode()]
    for part in parts:
        data = part if isinstance(part, bytes) else str(part).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def fill_redis(redis, count, prefix="veto:"):
    """`count` token entries in Veto's key layout (KEYS.md), each with its TTL, through redis-cli --pipe."""
    now = time.time()
    issuer = ISS.encode()
    chunks = []
    for index in range(count):
        jti = scale_jti(index)
        value = json.dumps({"iss": ISS, "jti": jti, "sub": f"user-{index:07d}", "exp": int(now) + 86_400,
                            "revoked_at": round(now, 3), "reason": "logout", "actor": "self",
                            "expires_at": int(now) + 86_460}, separators=(",", ":"))
        key = b"%sj:%d:%s:%s" % (prefix.encode(), len(issuer), issuer, jti.encode())
        chunks.append(redis_protocol(b"SET", key, value.encode(), b"EX", b"86460"))
    payload = b"".join(chunks)
    result = subprocess.run(["redis-cli", "-p", str(redis.port), "--pipe"], input=payload, capture_output=True, timeout=600)
    if result.returncode != 0 or b"errors: 0" not in result.stdout:
        raise RuntimeError(f"redis-cli --pipe failed: {result.stdout[-500:]!r} {result.stderr[-500:]!r}")


def run_scale(args, profile):
    pinning = Pinning()
    workdir = Path(tempfile.mkdtemp(prefix="veto-bench-scale-"))
    entries = args.entries
    report = {"profile": "scale", "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine_facts(pinning), "load_before": load_average(), "entries": entries,
              "tokens": profile.tokens, "duration_seconds": profile.duration, "rows": []}
    processes = []
    try:
        keys = Keys(workdir)
        tokens = workdir / "tokens-HS256.txt"
        revoked = make_tokens(keys, "HS256", profile.tokens, tokens)
        redis = Redis(pinning, workdir)
        processes.append(redis)

        def measure(label, store_args, store, fill_note, start_note=None):
            veto = Veto(args.veto, pinning, workdir, label, keys, store_args, profile.cache_size, log_level="notice")
            processes.append(veto)
            replica_load = None
            if "bounded" in store_args:
                # Ready at once (checks ask Redis while the replica loads); what counts is when it is current.
                wait_for(lambda: replica_state(veto.port) == "current", 120, "the replica to be current")
                current_after = time.monotonic() - veto.started
                loads = re.findall(r"seconds=([\d.]+)[^\n]*replica loaded", veto.process.output())
                replica_load = {"current_after_s": round(current_after, 3), "load_seconds": float(loads[0]) if loads else None}
            rss_ready = veto.process.rss_mib()
            veto.revoke(revoked)
            if profile.warmup:
                run_wrk(pinning, veto.port, "/v1/check", tokens, profile.warmup, workdir)
            data = run_wrk(pinning, veto.port, "/v1/check", tokens, profile.duration, workdir)
            row = summarise(data, {"store": store, "revoked_entries": fill_note, "ready_after_s": round(veto.ready_after, 3),
                                   "rss_ready_mib": rss_ready, "peak_rss_mib": veto.process.peak_rss_mib()})
            replay = [line for line in veto.process.output().splitlines() if "journal replayed" in line]
            row["replay_log"] = replay[-1:] if replay else []
            match = re.search(r"journal replayed: \d+ records in ([\d.]+) s", replay[-1]) if replay else None
            row["replay_seconds"] = float(match.group(1)) if match else None
            row["replica"] = replica_load
            veto.stop()
            report["rows"].append(row)
            log(f"{label}: {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, p99 {row['p99_us']} µs, "
                f"ready after {row['ready_after_s']} s, RSS {rss_ready} MiB, peak {row['peak_rss_mib']} MiB")
            return row

        # Embedded store: empty, then 1,000,000 entries written by veto-bench-fill through the store's own API.
        empty_dir = workdir / "embedded-empty"
        measure("embedded-empty", ["--data-dir", str(empty_dir)], "embedded", 0)
        full_dir = workdir / "embedded-full"
        started = time.monotonic()
        fill = subprocess.run([args.fill, str(full_dir), ISS, str(entries)], capture_output=True, text=True, timeout=1800)
        if fill.returncode != 0:
            raise RuntimeError(f"veto-bench-fill failed:\n{fill.stdout[-2000:]}\n{fill.stderr[-2000:]}")
        report["embedded_fill_seconds"] = round(time.monotonic() - started, 1)
        report["embedded_fill_output"] = fill.stdout.strip().splitlines()[-3:]
        journal = full_dir / "blocklist.journal"
        report["journal_bytes"] = journal.stat().st_size
        row = measure("embedded-1M", ["--data-dir", str(full_dir)], "embedded", entries)
        row["journal_bytes"] = report["journal_bytes"]

        # Redis: empty, then 1,000,000 entries in Veto's key layout.
        measure("redis-empty", ["--redis", redis.url], "redis", 0)
        redis.cli("flushall")
        started = time.monotonic()
        fill_redis(redis, entries)
        report["redis_fill_seconds"] = round(time.monotonic() - started, 1)
        report["redis_keys"] = int(redis.cli("dbsize") or 0)
        report["redis_used_memory_mib"] = redis.used_memory_mib()
        measure("redis-1M", ["--redis", redis.url], "redis", entries)
        measure("replica-1M", ["--redis", redis.url, "--consistency", "bounded"], "redis, bounded (replica)", entries)
    finally:
        clean_up(processes, workdir, args.keep)
    report["load_after"] = load_average()
    rows = {(r["store"], r["revoked_entries"]): r for r in report["rows"]}
    embedded_full = rows[("embedded", entries)]
    replay_s = embedded_full.get("replay_seconds") or embedded_full["ready_after_s"]
    replica_full = rows[("redis, bounded (replica)", entries)]
    replica_load_s = (replica_full["replica"] or {}).get("load_seconds")
    targets = {
        "embedded_rss": embedded_full["peak_rss_mib"] <= SCALE_RSS_LIMIT_MIB,
        "embedded_replay": replay_s <= SCALE_REPLAY_LIMIT_S,
        "replica_rss": replica_full["peak_rss_mib"] <= REPLICA_RSS_LIMIT_MIB,
        "replica_load": replica_load_s is not None and replica_load_s <= REPLICA_LOAD_LIMIT_S,
    }
    report["targets"] = targets
    lines = [f"Scripts/bench --scale, {report['started']} (commit {report['machine'].get('commit', '?')}); {report['machine']['pinning']}; "
             f"load average {report['load_before'][0]:.2f} before, {report['load_after'][0]:.2f} after. HS256 checks, verification cache on, "
             f"wrk 1 thread {CONNECTIONS} connections {profile.duration} s.",
             "",
             "| store | revoked entries | journal replay (s) | start until ready (s) | RSS when ready (MiB) | peak RSS (MiB) | req/s | p50 (µs) | p99 (µs) | 401s / revoked sent | wrong |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["rows"]:
        replay = f"{r['replay_seconds']:.2f}" if r.get("replay_seconds") is not None else "–"
        lines.append(f"| {r['store']} | {r['revoked_entries']:,} | {replay} | {r['ready_after_s']:.2f} | {r['rss_ready_mib']:.1f} | {r['peak_rss_mib']:.1f} | "
                     f"{r['requests_per_second']:,.0f} | {r['p50_us']} | {r['p99_us']} | {r['answered_401']} / {r['sent_revoked']} | "
                     f"{r['wrong_allow'] + r['wrong_deny'] + r['answered_other'] + r['socket_errors']} |")
    lines.append("")
    lines.append(f"Embedded journal with {entries:,} entries (UUID-shaped jtis): {report['journal_bytes'] / 2**20:.1f} MiB, written in "
                 f"{report['embedded_fill_seconds']} s; replay {replay_s:.2f} s (target ≤ {SCALE_REPLAY_LIMIT_S} s: "
                 f"{'met' if targets['embedded_replay'] else 'missed'}); "
                 f"peak RSS {embedded_full['peak_rss_mib']:.1f} MiB (target ≤ {SCALE_RSS_LIMIT_MIB:.0f} MiB: {'met' if targets['embedded_rss'] else 'missed'}). "
                 f"Redis with {report['redis_keys']:,} keys uses {report['redis_used_memory_mib']:.0f} MiB. "
                 f"Replica of {entries:,} entries (--consistency bounded): loaded in {replica_load_s if replica_load_s is not None else float('nan'):.2f} s "
                 f"(target ≤ {REPLICA_LOAD_LIMIT_S:g} s: {'met' if targets['replica_load'] else 'missed'}), current {replica_full['replica']['current_after_s']:.2f} s after start; "
                 f"peak RSS {replica_full['peak_rss_mib']:.1f} MiB (target ≤ {REPLICA_RSS_LIMIT_MIB:.0f} MiB: {'met' if targets['replica_rss'] else 'missed'}).")
    text = "\n".join(lines) + "\n"
    write_report(report, "scale-" + report["started"].replace(":", "").replace("-", ""), text)
    print(text)
    return report
