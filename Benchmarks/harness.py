"""The machinery of Scripts/bench (Benchmarks/bench.py) and Benchmarks/callgrind.py: pinning, the
processes under test (Veto, redis-server), keys and tokens, wrk and `openssl speed`, and the facts
about the machine a report records."""
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "Benchmarks" / "wrk" / "check.lua"
ISS = "https://auth.bench.example"
AUD = "https://api.bench.example"
ALGORITHMS = ("HS256", "RS256", "ES256")
CONNECTIONS = 64


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
    """Server on the first allowed core, wrk, h2load and redis-server on the second."""

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
        return f"server on core {self.server_core}; wrk, h2load and redis-server on core {self.client_core}"


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

    def commands_processed(self):
        """Commands Redis has run since it started (INFO stats), to count those per check."""
        for line in self.cli("info", "stats").splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":")[1])
        raise RuntimeError("INFO stats has no total_commands_processed")

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
    def __init__(self, binary, pinning, workdir, name, keys, store_args, cache_size, log_level="warning", threads=1):
        """`cache_size`, `log_level` or `threads` None: Veto's default."""
        self.port = free_port()
        command = [binary, "serve", "--listen", f"127.0.0.1:{self.port}", *(["--threads", str(threads)] if threads is not None else []),
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


def replica_state(port):
    """A bounded instance's replica state from /readyz ("loading", "current", "stale"), or None."""
    status, body = http_request(port, "GET", "/readyz")
    try:
        return json.loads(body).get("replica", {}).get("state")
    except ValueError:
        return None


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
