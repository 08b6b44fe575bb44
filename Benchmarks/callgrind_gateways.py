#!/usr/bin/env python3
"""Instructions per check under valgrind's callgrind, HTTP `/v1/check` against gRPC ext_authz
`Authorization/Check`, on one Veto (one event loop, Redis store, warm verification cache, one token):
the measure for the gRPC front door's cost on a noisy machine (Benchmarks/gateways.py measures time).

  .build/venv/bin/python Benchmarks/callgrind_gateways.py --veto .build/release/veto --requests 20000

Three phases, each collected and dumped on its own: idle (the baseline: timers only, per second),
HTTP (h2load --h1, 64 connections, one request each at a time, as wrk in Scripts/bench) and gRPC
(h2load, 4 connections x 16 streams, as Benchmarks/gateways.py). Each phase's instructions, less
the idle rate times its duration, are divided by the checks h2load saw succeed. Prints the ratio and
each phase's top functions; the callgrind files are kept (paths printed) for callgrind_annotate.
Uses callgrind.py's two valgrind 3.19 workarounds (a binary without DWARF 5, the sigsuspend shim).
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import yaml  # noqa: E402
from gateways import check_request, envoy_binary, envoy_config, grpc_frame  # noqa: E402

CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check"


def h2load(arguments, timeout=900):
    result = subprocess.run(["h2load", *arguments], capture_output=True, text=True, timeout=timeout)
    counts = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded", result.stdout)
    if result.returncode != 0 or not counts:
        raise RuntimeError(f"h2load failed ({result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-1000:]}")
    return int(counts.group(4))


def total_instructions(dump):
    with open(dump) as f:
        for line in f:
            if line.startswith("totals:"):
                return int(line.split()[1])
    raise RuntimeError(f"no totals in {dump}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--veto", required=True)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--idle-seconds", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--only", choices=("http", "grpc"), default=None)
    parser.add_argument("--envoy", action="store_true",
                        help="also two phases through a real Envoy (the README recipes): ext_authz over HTTP, then over gRPC")
    parser.add_argument("--hello", default=str(harness.ROOT / ".build/release/veto-bench-hello"), help="the upstream for --envoy")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="veto-callgrind-gw-"))
    binary = workdir / "veto"
    subprocess.run(["objcopy", "--strip-debug", args.veto, str(binary)], check=True)
    shim = workdir / "sigsuspend_copy.so"
    compiler = "clang" if subprocess.run(["which", "clang"], capture_output=True).returncode == 0 else "cc"
    subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(shim),
                    str(Path(__file__).resolve().parent / "valgrind" / "sigsuspend_copy.c")], check=True)
    keys = harness.Keys(workdir)
    tokens = workdir / "tokens.txt"
    harness.make_tokens(keys, "HS256", 2, tokens)
    token = tokens.read_text().splitlines()[1].split(" ", 1)[1]
    body = workdir / "check.bin"
    body.write_bytes(grpc_frame(check_request(token)))
    pinning = harness.Pinning()
    redis = harness.Redis(pinning, workdir)
    port, grpc_port = harness.free_port(), harness.free_port()
    out = workdir / "callgrind.out"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
               str(binary), "serve", "--listen", f"127.0.0.1:{port}", "--grpc-listen", f"127.0.0.1:{grpc_port}",
               "--threads", "1", "--issuer", harness.ISS, "--audience", harness.AUD,
               *sum((["--key", flag] for flag in keys.flags), []), "--verify-cache-size", "65536",
               "--log-level", "warning", "--redis", redis.url]
    veto = harness.Process(command, workdir / "veto.log", env=dict(os.environ, LD_PRELOAD=str(shim)))
    helpers = []
    http_load = ["--h1", "-c64", "-m1", "-H", f"authorization: Bearer {token}", f"http://127.0.0.1:{port}/v1/check"]
    grpc_load = ["-c4", "-m16", "-d", str(body), "-H", "content-type: application/grpc", "-H", "te: trailers",
                 f"http://127.0.0.1:{grpc_port}{CHECK_PATH}"]

    def control(*flags):
        subprocess.run(["callgrind_control", *flags, str(veto.pid)], capture_output=True, check=True)

    def phase(name, run):
        before = set(out.parent.glob(out.name + "*"))
        control("--zero")
        control("--instr=on")
        started = time.monotonic()
        count = run()
        seconds = time.monotonic() - started
        control("--instr=off")
        control("--dump=" + name)
        for _ in range(100):
            new = set(out.parent.glob(out.name + "*")) - before
            if new:
                break
            time.sleep(0.1)
        time.sleep(1)
        dump = max(new, key=lambda p: p.stat().st_mtime)
        return dump, count, seconds

    try:
        harness.wait_for(lambda: veto.alive() and harness.http_request(port, "GET", "/readyz", timeout=30)[0] == 200, 300,
                         "veto under valgrind")
        harness.wait_for(lambda: h2load(["-n1", "-c1", *grpc_load[2:]]) == 1, 120, "the gRPC port")
        # Warm-up: caches, lazy initialisation, connection setup paths of both doors.
        h2load(["-n2000", *http_load])
        h2load(["-n2000", *grpc_load])
        idle, _, idle_seconds = phase("idle", lambda: time.sleep(args.idle_seconds) or 0)
        idle_rate = total_instructions(idle) / idle_seconds
        phases = [("http", http_load), ("grpc", grpc_load)]
        if args.envoy:
            phases += envoy_phases(args, workdir, helpers, port, grpc_port, token)
        results = {}
        for name, load in phases:
            if args.only and args.only != name:
                continue
            dump, count, seconds = phase(name, lambda: h2load([f"-n{args.requests}", *load]))
            total = total_instructions(dump)
            per = (total - idle_rate * seconds) / count
            results[name] = (dump, count, seconds, total, per)
    finally:
        for helper in reversed(helpers):
            helper.stop()
        veto.stop()
        redis.stop()
    print(f"idle: {idle_rate:,.0f} instructions per second ({idle})")
    for name, (dump, count, seconds, total, per) in results.items():
        print(f"{name}: {count} checks in {seconds:.1f} s, {total:,} instructions, {per:,.0f} per check (idle subtracted); {dump}")
    for left, right in (("grpc", "http"), ("envoy-grpc", "envoy-http")):
        if left in results and right in results:
            print(f"{left} / {right} instructions per check: {results[left][4] / results[right][4]:.2f}")
    for name, (dump, count, *_rest) in results.items():
        for inclusive in (True, False):
            text = subprocess.run(["callgrind_annotate", f"--inclusive={'yes' if inclusive else 'no'}", str(dump)],
                                  capture_output=True, text=True).stdout
            print(f"\n-- {name}: {'inclusive' if inclusive else 'exclusive'} instructions per check --")
            rows = [line for line in text.splitlines() if re.match(r"\s*[\d,]+ \(\s*[\d.]+%\)", line)]
            for line in rows[1:args.top + 1]:
                value = int(line.split()[0].replace(",", ""))
                function = re.sub(r"\s+\[[^\]]*\]$", "", line.split(")", 1)[1].strip())
                print(f"{value / count:10,.0f}  {function[:170]}")


def envoy_phases(args, workdir, helpers, port, grpc_port, token):
    """An upstream and two Envoys (not under valgrind) in front of the Veto under test, warmed up:
    the load of each phase goes to Envoy, which asks Veto over HTTP or over gRPC."""
    upstream_port = harness.free_port()
    helpers.append(harness.Process([args.hello, str(upstream_port)], workdir / "upstream.log"))
    harness.wait_for(lambda: harness.http_request(upstream_port, "GET", "/")[0] == 200, 30, "the upstream")
    phases = []
    for mode in ("http", "grpc"):
        ports = {"envoy": harness.free_port(), "api": upstream_port, "veto": port, "grpc": grpc_port}
        config = envoy_config(mode, ports)
        # Veto under valgrind answers slower than Envoy's 0.5 s recipe timeout allows.
        authz = next(f["typed_config"] for f in config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
                     ["typed_config"]["http_filters"] if f["name"] == "envoy.filters.http.ext_authz")
        service = authz.get("grpc_service") or authz["http_service"]["server_uri"]
        service["timeout"] = "10s"
        path = workdir / f"envoy-{mode}.yaml"
        path.write_text(yaml.safe_dump(config))
        helpers.append(harness.Process([envoy_binary(), "-c", str(path), "--concurrency", "1", "--log-level", "warn",
                                        "--disable-hot-restart"], workdir / f"envoy-{mode}.log"))
        harness.wait_for(lambda: harness.http_request(ports["envoy"], "GET", "/", timeout=30)[0] == 401, 120, f"envoy ({mode})")
        load = ["--h1", "-c64", "-m1", "-H", f"authorization: Bearer {token}", f"http://127.0.0.1:{ports['envoy']}/orders/7"]
        h2load(["-n2000", *load])
        phases.append((f"envoy-{mode}", load))
    return phases


if __name__ == "__main__":
    main()
