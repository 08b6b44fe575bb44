#!/usr/bin/env python3
"""The driver behind Scripts/bench: measures Veto's /v1/check and what the machine allows, in one run.

Everything runs on this machine with the same pinning: the server under test (Veto, or the raw
SwiftNIO hello server that gives the HTTP ceiling) on one core with one event loop; wrk (1 thread,
64 connections) and redis-server on the other core. `openssl speed` runs on the server's core.

Modes:
  (default)  the full run: HTTP ceiling, openssl speed, HS256/RS256/ES256 x cold/warm x strict/bounded
             consistency (with Redis commands per check from INFO commandstats), HS256 warm at default
             settings without and with --threads 1 (Benchmarks/cores.py), the abuse rows
             (Benchmarks/abuse.py: a flood of invalid tokens, a 64 KiB body of many names), the
             propagation run (Benchmarks/propagation.py: three bounded instances, revoke on one, time
             until the others deny), and the gateway rows (Benchmarks/gateways.py: gRPC Check direct
             with h2load against /v1/check with the same token; wrk at a real Envoy alone, with HTTP
             ext_authz and with gRPC ext_authz to Veto), and last the cut-off row (Benchmarks/cutoffs.py:
             OIDC tokens whose checks read seven keys, with live cut-offs of several kinds).
  --smoke    the same rows, a few hundred tokens and about a second each: checks that the machinery
             works and that the report is well formed (Scripts/test runs it). Its numbers mean nothing.
  --scale    1,000,000 revoked entries in the embedded store, in Redis, and in a bounded instance's
             replica: memory, journal replay and replica load time, and check speed against the
             same store empty.

Results: Benchmarks/results/<name>.json and .md; the Markdown table is also printed.

The code: this file (the modes, the speed run and the command line), harness.py (processes,
tokens, wrk, openssl), report.py (targets, the Markdown table, the result files), scale.py (--scale),
cores.py (the default-settings rows), abuse.py (the abuse rows), gateways.py (the gateway rows) and
cutoffs.py (the cut-off row).
"""
import argparse
import datetime
import tempfile
import time
from pathlib import Path

import abuse
import cores
import cutoffs
import gateways
import propagation
from harness import (ALGORITHMS, CONNECTIONS, Keys, Pinning, Process, Redis, Veto, clean_up, free_port, http_request,
                     load_average, log, machine_facts, make_tokens, openssl_speed, replica_state, run_wrk, summarise, wait_for)
from report import judge, markdown, write_report
from scale import run_scale


class Profile:
    def __init__(self, name, tokens, warmup, duration, openssl_seconds, cache_size):
        self.name, self.tokens, self.warmup, self.duration = name, tokens, warmup, duration
        self.openssl_seconds, self.cache_size = openssl_seconds, cache_size


FULL = Profile("full", tokens=10_000, warmup=3, duration=10, openssl_seconds=3, cache_size=16_384)  # the default size
SMOKE = Profile("smoke", tokens=300, warmup=0, duration=1, openssl_seconds=1, cache_size=1_024)


def run_speed(args, profile):
    pinning = Pinning()
    workdir = Path(tempfile.mkdtemp(prefix="veto-bench-"))
    report = {"profile": profile.name, "started": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
              "machine": machine_facts(pinning), "load_before": load_average(), "connections": CONNECTIONS,
              "tokens_per_algorithm": profile.tokens, "warmup_seconds": profile.warmup, "duration_seconds": profile.duration,
              "verify_cache_size_warm": profile.cache_size, "rows": []}
    log(f"{pinning.describe()}; load average {report['load_before']}")
    processes = []
    try:
        keys = Keys(workdir)
        token_files, revoked = {}, {}
        for alg in ALGORITHMS:
            started = time.monotonic()
            token_files[alg] = workdir / f"tokens-{alg}.txt"
            revoked[alg] = make_tokens(keys, alg, profile.tokens, token_files[alg])
            log(f"{profile.tokens} {alg} tokens in {time.monotonic() - started:.1f} s")

        log("openssl speed rsa2048 ecdsap256")
        report["openssl"] = openssl_speed(pinning, profile.openssl_seconds)

        log("HTTP ceiling: raw SwiftNIO hello")
        hello_port = free_port()
        hello = Process(pinning.server([args.hello, str(hello_port)]), workdir / "hello.log")
        processes.append(hello)
        wait_for(lambda: http_request(hello_port, "GET", "/")[0] == 200, 30, "the hello server")
        if profile.warmup:
            run_wrk(pinning, hello_port, "/v1/check", token_files["HS256"], profile.warmup, workdir)
        ceiling = run_wrk(pinning, hello_port, "/v1/check", token_files["HS256"], profile.duration, workdir)
        report["ceiling"] = summarise(ceiling, {"peak_rss_mib": hello.peak_rss_mib()})
        hello.stop()
        log(f"ceiling {ceiling['requests_per_second']:,.0f} req/s")

        redis = Redis(pinning, workdir)
        processes.append(redis)
        for consistency in ("strict", "bounded"):
            for mode in ("cold", "warm"):
                cache_size = 0 if mode == "cold" else profile.cache_size
                store_args = ["--redis", redis.url] + (["--consistency", "bounded"] if consistency == "bounded" else [])
                veto = Veto(args.veto, pinning, workdir, f"{mode}-{consistency}", keys, store_args, cache_size)
                processes.append(veto)
                for alg in ALGORITHMS:
                    veto.revoke(revoked[alg])
                if consistency == "bounded":
                    wait_for(lambda: replica_state(veto.port) == "current", 60, "the replica to be current")
                for alg in ALGORITHMS:
                    if profile.warmup:
                        run_wrk(pinning, veto.port, "/v1/check", token_files[alg], profile.warmup, workdir)
                    commands_before = redis.commands_processed()
                    data = run_wrk(pinning, veto.port, "/v1/check", token_files[alg], profile.duration, workdir)
                    commands = redis.commands_processed() - commands_before
                    row = summarise(data, {"algorithm": alg, "mode": mode, "consistency": consistency, "verify_cache_size": cache_size,
                                           "redis_commands_per_check": round(commands / max(data["requests"], 1), 3),
                                           "peak_rss_mib": veto.process.peak_rss_mib(), "load": load_average()[0]})
                    report["rows"].append(judge(row, report["ceiling"]["requests_per_second"], report["openssl"]))
                    log(f"{alg} {mode} {consistency}: {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, p99 {row['p99_us']} µs, "
                        f"401s {row['answered_401']} / revoked sent {row['sent_revoked']}, Redis commands per check {row['redis_commands_per_check']}")
                veto.stop()
                if not veto.process.alive() and veto.process.process.returncode not in (0, None):
                    raise RuntimeError(f"veto serve ({mode}) exited with {veto.process.process.returncode}:\n{veto.process.output()[-2000:]}")
        report["default_rows"], report["default_ratio"] = cores.run(
            args, profile, pinning, workdir, keys, ["--redis", redis.url], processes, token_files, revoked,
            report["ceiling"]["requests_per_second"], report["openssl"], judge)
        warm = next(row for row in report["rows"] if row["algorithm"] == "HS256" and row["mode"] == "warm" and row["consistency"] == "strict")
        report["abuse_rows"] = abuse.run(args, profile, pinning, workdir, keys, ["--redis", redis.url],
                                         processes, warm["requests_per_second"])
        report["propagation"] = propagation.run(args, profile, pinning, workdir, keys, redis, processes)
        report["gateways"] = gateways.run(args, profile, pinning, workdir, keys, ["--redis", redis.url], processes, token_files, revoked)
        report["cutoff_row"] = cutoffs.run(args, profile, pinning, workdir, keys, redis, processes, report["ceiling"]["requests_per_second"],
                                           report["openssl"], judge, warm)
    finally:
        clean_up(processes, workdir, args.keep)
    report["load_after"] = load_average()
    report["all_targets_met"] = (all(row["all_targets_met"] for row in report["rows"] + report["default_rows"] + report["abuse_rows"]
                                     + [report["cutoff_row"]])
                                 and report["default_ratio"]["met"] and report["gateways"]["all_targets_met"])
    text = markdown(report)
    name = "smoke" if profile.name == "smoke" else "bench-" + report["started"].replace(":", "").replace("-", "")
    write_report(report, name, text)
    print(text)
    return report

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--veto", required=True, help="the veto binary")
    parser.add_argument("--hello", help="the veto-bench-hello binary (HTTP ceiling)")
    parser.add_argument("--fill", help="the veto-bench-fill binary (--scale)")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--entries", type=int, default=1_000_000, help="entries for --scale")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, tokens)")
    args = parser.parse_args()
    if args.scale:
        run_scale(args, FULL if not args.smoke else SMOKE)
    else:
        report = run_speed(args, SMOKE if args.smoke else FULL)
        if not args.smoke and not report["all_targets_met"]:
            log("some targets were missed (see the table)")


if __name__ == "__main__":
    main()
