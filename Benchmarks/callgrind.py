#!/usr/bin/env python3
"""Instructions per /v1/check under valgrind's callgrind: stable on a noisy machine, so it is the
measure for before/after comparisons of the check path (Scripts/bench measures time).

  .build/venv/bin/python Benchmarks/callgrind.py --veto .build/release/veto --alg HS256 --mode warm

Runs veto under callgrind (one event loop, Redis store), warms it up, then collects only while wrk
sends requests over 4 connections for `--seconds`, and prints instructions per request and the
functions with the highest inclusive and exclusive cost. The callgrind file is kept (path printed)
for callgrind_annotate.

Two workarounds for valgrind 3.19 (Debian 12): it cannot read the DWARF 5 that Swift 6.3 emits, so
it runs a copy of the binary without debug info (function names come from the symbol table); and
it crashes in dispatch_main()'s sigsuspend, so valgrind/sigsuspend_copy.c is preloaded.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--veto", required=True)
    parser.add_argument("--alg", default="HS256", choices=harness.ALGORITHMS)
    parser.add_argument("--mode", default="warm", choices=("cold", "warm"))
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--out", default=None, help="callgrind output file")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="veto-callgrind-"))
    binary = workdir / "veto"
    subprocess.run(["objcopy", "--strip-debug", args.veto, str(binary)], check=True)
    shim = workdir / "sigsuspend_copy.so"
    compiler = "clang" if subprocess.run(["which", "clang"], capture_output=True).returncode == 0 else "cc"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(shim), str(Path(__file__).resolve().parent / "valgrind" / "sigsuspend_copy.c")],
                   check=True)
    out = Path(args.out or workdir / "callgrind.out")
    pinning = harness.Pinning()
    keys = harness.Keys(workdir)
    tokens = workdir / "tokens.txt"
    revoked = harness.make_tokens(keys, args.alg, args.tokens, tokens)
    redis = harness.Redis(pinning, workdir)
    port = harness.free_port()
    cache = "0" if args.mode == "cold" else "65536"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
               str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--threads", "1", "--issuer", harness.ISS,
               "--audience", harness.AUD, *sum((["--key", flag] for flag in keys.flags), []),
               "--verify-cache-size", cache, "--log-level", "warning", "--redis", redis.url]
    veto = harness.Process(command, workdir / "veto.log", env=dict(os.environ, LD_PRELOAD=str(shim)))

    def ready():
        if not veto.alive():
            raise RuntimeError(f"veto under valgrind exited:\n{veto.output()[-3000:]}")
        return harness.http_request(port, "GET", "/readyz", timeout=30)[0] == 200

    try:
        harness.wait_for(ready, 300, "veto under valgrind")
        for token in revoked:
            harness.http_request(port, "POST", "/v1/revoke", token, timeout=30)
        # Warm-up: every token once or more (fills the cache in warm mode), JIT-free but lazy inits happen here.
        warm = subprocess.run(["wrk", "-t1", f"-c{args.connections}", "-d5s", "-s", str(harness.LUA), f"http://127.0.0.1:{port}/v1/check"],
                              capture_output=True, text=True, env={"VETO_BENCH_TOKENS": str(tokens), "PATH": "/usr/bin:/bin"})
        subprocess.run(["callgrind_control", "--instr=on", str(veto.pid)], capture_output=True, check=True)
        result = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "-s", str(harness.LUA),
                                 f"http://127.0.0.1:{port}/v1/check"],
                                capture_output=True, text=True, env={"VETO_BENCH_TOKENS": str(tokens), "PATH": "/usr/bin:/bin"})
        subprocess.run(["callgrind_control", "--instr=off", str(veto.pid)], capture_output=True, check=True)
        subprocess.run(["callgrind_control", "--dump", str(veto.pid)], capture_output=True, check=True)
        time.sleep(1)
    finally:
        veto.stop()
        redis.stop()
    data = None
    for line in result.stdout.splitlines():
        if line.startswith("VETO-BENCH-JSON "):
            data = json.loads(line[len("VETO-BENCH-JSON "):])
    if not data:
        sys.exit(f"wrk failed: {result.stdout}\n{result.stderr}\nwarm-up: {warm.stdout[-500:]}")
    dumps = sorted(out.parent.glob(out.name + "*"), key=lambda p: p.stat().st_size)
    dump = dumps[-1]
    annotate = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(dump)], capture_output=True, text=True).stdout
    exclusive = subprocess.run(["callgrind_annotate", str(dump)], capture_output=True, text=True).stdout
    total = None
    for line in annotate.splitlines():
        match = re.match(r"\s*([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS", line)
        if match:
            total = int(match.group(1).replace(",", ""))
    requests = data["requests"]
    print(f"{args.alg} {args.mode}: {requests} requests, {total:,} instructions, {total / requests:,.0f} per request "
          f"(200s {data['answered_200']}, 401s {data['answered_401']}, wrong {data['wrong_allow'] + data['wrong_deny']})")
    print(f"callgrind file: {dump}")

    def table(text, title):
        print(f"\n-- {title} --")
        rows = [l for l in text.splitlines() if re.match(r"\s*[\d,]+ \(\s*[\d.]+%\)", l)]
        for line in rows[1:args.top + 1]:
            count = int(line.split()[0].replace(",", ""))
            name = line.split(")", 1)[1].strip()
            name = re.sub(r"\s+\[[^\]]*\]$", "", name)
            print(f"{count / requests:10,.0f}  {name[:170]}")

    table(annotate, "inclusive instructions per request")
    table(exclusive, "exclusive instructions per request")


if __name__ == "__main__":
    main()
