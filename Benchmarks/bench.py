#!/usr/bin/env python3
"""The driver behind Scripts/bench: measures Veto's /v1/check and what the machine allows, in one run.

Everything runs on this machine with the same pinning: the server under test (Veto, or the raw
SwiftNIO hello server that gives the HTTP ceiling) on one core with one event loop; wrk (1 thread,
64 connections) and redis-server on the other core. `openssl speed` runs on the server's core.

Modes:
  (default)  the full run: HTTP ceiling, openssl speed, HS256/RS256/ES256 x cold/warm, and the abuse
             rows (Benchmarks/abuse.py: a flood of invalid tokens, a 64 KiB body of many names).
  --smoke    the same rows, a few hundred tokens and about a second each: checks that the machinery
             works and that the report is well formed (Scripts/test runs it). Its numbers mean nothing.
  --scale    1,000,000 revoked entries in the embedded store and in Redis: memory, journal replay
             time, and check speed against the same store empty.

Results: Benchmarks/results/<name>.json and .md; the Markdown table is also printed.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import abuse

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "Benchmarks" / "wrk" / "check.lua"
ISS = "https://auth.bench.example"
AUD = "https://api.bench.example"
ALGORITHMS = ("HS256", "RS256", "ES256")
CONNECTIONS = 64
BUDGET_US = 10.0          # what Veto may add per check on top of the HTTP ceiling and the signature
WARM_P99_LIMIT_US = 2000.0
TAIL_RATIO_LIMIT = 2.5
RSS_LIMIT_MIB = 64.0
SCALE_RSS_LIMIT_MIB = 256.0
SCALE_REPLAY_LIMIT_S = 5.0


class Profile:
    def __init__(self, name, tokens, warmup, duration, openssl_seconds, cache_size):
        self.name, self.tokens, self.warmup, self.duration = name, tokens, warmup, duration
        self.openssl_seconds, self.cache_size = openssl_seconds, cache_size


FULL = Profile("full", tokens=10_000, warmup=3, duration=10, openssl_seconds=3, cache_size=16_384)  # the default size
SMOKE = Profile("smoke", tokens=300, warmup=0, duration=1, openssl_seconds=1, cache_size=1_024)


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


def clean_up(processes, workdir, keep):
    """Stops the processes a run started, newest first, and removes its work directory unless kept."""
    for process in reversed(processes):
        process.stop()
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load_average():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"timed out after {timeout} s waiting for {what}")


def http_request(port, method, path, token=None, timeout=10):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


class Pinning:
    """Server on the first allowed core, wrk and redis-server on the second."""

    def __init__(self):
        cores = sorted(os.sched_getaffinity(0))
        self.enabled = len(cores) >= 2 and shutil.which("taskset") is not None
        self.server_core = cores[0]
        self.client_core = cores[1] if self.enabled else cores[0]

    def server(self, command):
        return ["taskset", "-c", str(self.server_core), *command] if self.enabled else command

    def client(self, command):
        return ["taskset", "-c", str(self.client_core), *command] if self.enabled else command

    def describe(self):
        if not self.enabled:
            return "no pinning (fewer than 2 cores or no taskset)"
        return f"server on core {self.server_core}; wrk and redis-server on core {self.client_core}"


class Process:
    def __init__(self, command, log_path, env=None):
        self.log_path = log_path
        self.process = subprocess.Popen(command, stdout=open(log_path, "w"), stderr=subprocess.STDOUT,
                                        env=env, start_new_session=True)

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process.poll() is None

    def output(self):
        return Path(self.log_path).read_text(errors="replace")

    def peak_rss_mib(self):
        return self._status_mib("VmHWM:")

    def log_bytes(self):
        """What the process has written to its log (stdout and stderr) so far."""
        return Path(self.log_path).stat().st_size

    def rss_mib(self):
        return self._status_mib("VmRSS:")

    def _status_mib(self, field):
        """A kB field of /proc/<pid>/status in MiB; None once the process is gone."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def stop(self):
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Redis:
    def __init__(self, pinning, workdir):
        self.port = free_port()
        self.dir = workdir / "redis"
        self.dir.mkdir(exist_ok=True)
        self.process = Process(pinning.client(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
                                               "--save", "", "--appendonly", "no", "--dir", str(self.dir)]),
                               workdir / "redis.log")
        wait_for(lambda: self.cli("ping") == "PONG", 20, "redis-server")

    def cli(self, *args, input=None):
        return subprocess.run(["redis-cli", "-p", str(self.port), *args], input=input, capture_output=True,
                              text=True, timeout=120).stdout.strip()

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def used_memory_mib(self):
        for line in self.cli("info", "memory").splitlines():
            if line.startswith("used_memory:"):
                return int(line.split(":")[1]) / 2**20
        return None

    def stop(self):
        self.process.stop()


class Keys:
    def __init__(self, directory):
        self.dir = directory
        self.private = {}
        self.flags = []
        secret = secrets.token_hex(32).encode()
        (directory / "hs256.secret").write_bytes(secret)
        self.private["HS256"] = secret
        self.flags.append(f"HS256:{directory / 'hs256.secret'}")
        rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public("RS256", rsa_key, "rsa.pem")
        ec_key = ec.generate_private_key(ec.SECP256R1())
        self._public("ES256", ec_key, "ec.pem")

    def _public(self, alg, key, name):
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        (self.dir / name).write_bytes(pem)
        self.private[alg] = key
        self.flags.append(f"{alg}:{self.dir / name}")


def make_tokens(keys, alg, count, path):
    """`count` distinct tokens; every hundredth (1 %) is marked for revocation. Returns the revoked ones."""
    now = int(time.time())
    revoked = []
    with open(path, "w") as out:
        for index in range(count):
            is_revoked = index % 100 == 0
            jti = f"{'r' if is_revoked else 'a'}-{alg.lower()}-{index:05d}-{secrets.token_hex(6)}"
            claims = {"iss": ISS, "sub": f"user-{index:05d}", "aud": AUD, "iat": now, "nbf": now, "exp": now + 4 * 3600,
                      "jti": jti, "scope": "orders:read orders:write", "client_id": "bench-gateway"}
            token = jwt.encode(claims, keys.private[alg], algorithm=alg)
            out.write(f"{'r' if is_revoked else 'a'} {token}\n")
            if is_revoked:
                revoked.append(token)
    return revoked


class Veto:
    def __init__(self, binary, pinning, workdir, name, keys, store_args, cache_size, log_level="warning"):
        """`cache_size` or `log_level` None: Veto's default."""
        self.port = free_port()
        command = [binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--threads", "1",
                   "--issuer", ISS, "--audience", AUD, *sum((["--key", flag] for flag in keys.flags), []),
                   *(["--verify-cache-size", str(cache_size)] if cache_size is not None else []),
                   *(["--log-level", log_level] if log_level is not None else []), *store_args]
        self.started = time.monotonic()
        self.process = Process(pinning.server(command), workdir / f"veto-{name}.log")
        wait_for(self.ready, 120, f"veto serve ({name})")
        self.ready_after = time.monotonic() - self.started

    def ready(self):
        if not self.process.alive():
            raise RuntimeError(f"veto serve exited:\n{self.process.output()[-3000:]}")
        return http_request(self.port, "GET", "/readyz")[0] == 200

    def revoke(self, tokens):
        for token in tokens:
            status, body = http_request(self.port, "POST", "/v1/revoke", token)
            if status != 200:
                raise RuntimeError(f"POST /v1/revoke answered {status}: {body[:300]!r}")

    def stop(self):
        self.process.stop()


def run_wrk(pinning, port, path, tokens_file, seconds, workdir, connections=CONNECTIONS, env=None, timeout=None):
    """`env` passes VETO_BENCH_EXPECT / VETO_BENCH_BODY to the Lua script (abuse rows); `timeout` is wrk's, in seconds."""
    command = pinning.client(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(LUA),
                              *(["--timeout", f"{timeout}s"] if timeout else []), f"http://127.0.0.1:{port}{path}"])
    env = dict(os.environ, **(env or {}))
    if tokens_file is not None:
        env["VETO_BENCH_TOKENS"] = str(tokens_file)
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=seconds + (timeout or 0) + 120)
    for line in result.stdout.splitlines():
        if line.startswith("VETO-BENCH-JSON "):
            data = json.loads(line[len("VETO-BENCH-JSON "):])
            data["requests_per_second"] = data["requests"] / (data["duration_us"] / 1e6)
            return data
    raise RuntimeError(f"wrk failed (exit {result.returncode}):\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")


def openssl_speed(pinning, seconds):
    command = pinning.server(["openssl", "speed", "-seconds", str(seconds), "-mr", "rsa2048", "ecdsap256"])
    output = subprocess.run(command, capture_output=True, text=True, timeout=300).stdout
    rates = {}
    for line in output.splitlines():
        fields = line.split(":")
        if line.startswith("+F2:") and fields[2] == "2048":
            rates["rsa2048_verify_per_second"] = float(fields[4])
            rates["rsa2048_sign_per_second"] = float(fields[3])
        if line.startswith("+F4:") and fields[2] == "256":
            rates["ecdsap256_verify_per_second"] = float(fields[4])
            rates["ecdsap256_sign_per_second"] = float(fields[3])
    if len(rates) != 4:
        raise RuntimeError(f"cannot read openssl speed output:\n{output[-2000:]}")
    version = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
    rates["version"] = version
    return rates


def summarise(data, extra):
    errors = data["errors"]
    row = {
        "requests_per_second": round(data["requests_per_second"], 1),
        "p50_us": data["p50_us"], "p90_us": data["p90_us"], "p99_us": data["p99_us"], "max_us": data["max_us"],
        "requests": data["requests"],
        "answered_200": data["answered_200"], "answered_401": data["answered_401"], "answered_other": data["answered_other"],
        "sent_revoked": data["sent_revoked"], "revoked_401": data["revoked_401"],
        "wrong_allow": data["wrong_allow"], "wrong_deny": data["wrong_deny"],
        "refused_as_expected": data.get("refused_as_expected", 0),
        "socket_errors": errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        "socket_error_detail": {k: errors[k] for k in ("connect", "read", "write", "timeout")},
    }
    row.update(extra)
    return row


def verify_rate(speed, alg):
    return {"HS256": None, "RS256": speed["rsa2048_verify_per_second"], "ES256": speed["ecdsap256_verify_per_second"]}[alg]


def judge(row, ceiling_rps, speed):
    """Targets for one Veto row, all as ratios to numbers measured in the same run."""
    rate = None if row["mode"] == "warm" else verify_rate(speed, row["algorithm"])
    floor_us = 1e6 / ceiling_rps + (1e6 / rate if rate else 0.0)
    target_rps = 1e6 / (floor_us + BUDGET_US)
    measured_us = 1e6 / row["requests_per_second"] if row["requests_per_second"] else float("inf")
    row["signature_us"] = round(1e6 / rate, 2) if rate else 0.0
    row["target_requests_per_second"] = round(target_rps, 1)
    row["veto_added_us"] = round(measured_us - floor_us, 2)
    # The in-flight requests wrk abandons at the end of a run were sent but never answered, so the
    # revoked tokens sent may exceed the 401s by at most one per connection.
    unanswered = row["sent_revoked"] - (row["revoked_401"] + row["wrong_allow"])
    checks = {
        "throughput": row["requests_per_second"] >= target_rps,
        "tail": row["p99_us"] <= TAIL_RATIO_LIMIT * row["p50_us"],
        "revoked_all_401": row["wrong_allow"] == 0 and row["answered_401"] == row["revoked_401"]
                           and 0 <= unanswered <= CONNECTIONS and row["revoked_401"] > 0,
        "no_other_failure": row["wrong_deny"] == 0 and row["answered_other"] == 0 and row["socket_errors"] == 0,
        "peak_rss": row["peak_rss_mib"] is not None and row["peak_rss_mib"] <= RSS_LIMIT_MIB,
    }
    if row["mode"] == "warm":
        checks["warm_p99"] = row["p99_us"] <= WARM_P99_LIMIT_US
    row["targets"] = checks
    row["all_targets_met"] = all(checks.values())
    return row


def machine_facts(pinning):
    facts = {"cores": os.cpu_count(), "pinning": pinning.describe(), "kernel": platform.release()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                facts["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        facts["commit"] = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                         text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        facts["dirty"] = bool(dirty)
    except OSError:
        pass
    return facts


def markdown(report):
    lines = []
    machine = report["machine"]
    lines.append(f"Scripts/bench {report['profile']} run, {report['started']} (commit {machine.get('commit', '?')}"
                 f"{', uncommitted changes' if machine.get('dirty') else ''}); {machine['cores']} cores, {machine.get('cpu', '')}; "
                 f"{machine['pinning']}; load average {report['load_before'][0]:.2f} before, {report['load_after'][0]:.2f} after.")
    lines.append(f"wrk: 1 thread, {CONNECTIONS} connections, {report['warmup_seconds']} s warm-up + {report['duration_seconds']} s per row; "
                 f"{report['tokens_per_algorithm']} tokens per algorithm, 1 % revoked. {report['openssl']['version']}: "
                 f"RSA-2048 verify {report['openssl']['rsa2048_verify_per_second']:,.0f}/s, "
                 f"ECDSA P-256 verify {report['openssl']['ecdsap256_verify_per_second']:,.0f}/s.")
    lines.append("")
    lines.append("| row | req/s | target req/s | Veto adds (µs) | p50 (µs) | p99 (µs) | p99/p50 | 401s / revoked sent | wrong | socket errors | peak RSS (MiB) | targets |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    c = report["ceiling"]
    lines.append(f"| HTTP ceiling (raw SwiftNIO hello) | {c['requests_per_second']:,.0f} | | | {c['p50_us']} | {c['p99_us']} | "
                 f"{c['p99_us'] / max(c['p50_us'], 1):.2f} | | | {c['socket_errors']} | {c.get('peak_rss_mib') or 0:.1f} | |")
    for row in report["rows"]:
        missed = [name for name, ok in row["targets"].items() if not ok]
        lines.append(
            f"| {row['algorithm']} {row['mode']} | {row['requests_per_second']:,.0f} | {row['target_requests_per_second']:,.0f} | "
            f"{row['veto_added_us']:.1f} | {row['p50_us']} | {row['p99_us']} | {row['p99_us'] / max(row['p50_us'], 1):.2f} | "
            f"{row['answered_401']} / {row['sent_revoked']} | {row['wrong_allow'] + row['wrong_deny'] + row['answered_other']} | "
            f"{row['socket_errors']} | {row['peak_rss_mib']:.1f} | {'met' if not missed else 'missed: ' + ', '.join(missed)} |")
    lines.append("")
    lines.append("Target req/s = 1 / (1/ceiling + 1/verify_rate + 10 µs), verify_rate from openssl speed (none for HS256 and warm rows). "
                 "'Veto adds' = 1/req/s − 1/ceiling − 1/verify_rate. 'wrong' = allowed revoked tokens + refused valid tokens + other statuses. "
                 "Revoked tokens sent may exceed 401s by the requests in flight when wrk stops (at most one per connection).")
    if report.get("abuse_rows"):
        lines += abuse.markdown(report["abuse_rows"])
    return "\n".join(lines) + "\n"


def write_report(report, name, text):
    out = ROOT / "Benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(text)
    log(f"wrote Benchmarks/results/{name}.json and Benchmarks/results/{name}.md")


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
        for mode in ("cold", "warm"):
            cache_size = 0 if mode == "cold" else profile.cache_size
            veto = Veto(args.veto, pinning, workdir, mode, keys, ["--redis", redis.url], cache_size)
            processes.append(veto)
            for alg in ALGORITHMS:
                veto.revoke(revoked[alg])
            for alg in ALGORITHMS:
                if profile.warmup:
                    run_wrk(pinning, veto.port, "/v1/check", token_files[alg], profile.warmup, workdir)
                data = run_wrk(pinning, veto.port, "/v1/check", token_files[alg], profile.duration, workdir)
                row = summarise(data, {"algorithm": alg, "mode": mode, "verify_cache_size": cache_size,
                                       "peak_rss_mib": veto.process.peak_rss_mib(), "load": load_average()[0]})
                report["rows"].append(judge(row, report["ceiling"]["requests_per_second"], report["openssl"]))
                log(f"{alg} {mode}: {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, p99 {row['p99_us']} µs, "
                    f"401s {row['answered_401']} / revoked sent {row['sent_revoked']}")
            veto.stop()
            if not veto.process.alive() and veto.process.process.returncode not in (0, None):
                raise RuntimeError(f"veto serve ({mode}) exited with {veto.process.process.returncode}:\n{veto.process.output()[-2000:]}")
        warm = next(row for row in report["rows"] if row["algorithm"] == "HS256" and row["mode"] == "warm")
        report["abuse_rows"] = abuse.run(sys.modules[__name__], args, profile, pinning, workdir, keys, ["--redis", redis.url],
                                         processes, warm["requests_per_second"])
    finally:
        clean_up(processes, workdir, args.keep)
    report["load_after"] = load_average()
    report["all_targets_met"] = all(row["all_targets_met"] for row in report["rows"] + report["abuse_rows"])
    text = markdown(report)
    name = "smoke" if profile.name == "smoke" else "bench-" + report["started"].replace(":", "").replace("-", "")
    write_report(report, name, text)
    print(text)
    return report


# --- --scale ---------------------------------------------------------------------------------------------

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
    finally:
        clean_up(processes, workdir, args.keep)
    report["load_after"] = load_average()
    rows = {(r["store"], r["revoked_entries"]): r for r in report["rows"]}
    embedded_full = rows[("embedded", entries)]
    replay_s = embedded_full.get("replay_seconds") or embedded_full["ready_after_s"]
    targets = {
        "embedded_rss": embedded_full["peak_rss_mib"] <= SCALE_RSS_LIMIT_MIB,
        "embedded_replay": replay_s <= SCALE_REPLAY_LIMIT_S,
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
                 f"Redis with {report['redis_keys']:,} keys uses {report['redis_used_memory_mib']:.0f} MiB.")
    text = "\n".join(lines) + "\n"
    write_report(report, "scale-" + report["started"].replace(":", "").replace("-", ""), text)
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
