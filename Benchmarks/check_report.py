#!/usr/bin/env python3
"""Checks that a Scripts/bench report is well formed and that the run was correct (not fast):
every row present, every revoked token answered 401, nothing else refused, no socket errors; the
default-settings rows present, with the event loops the server chose and their ratio judged; the cut-off
row present (an OIDC token, seven GETs per check); the
abuse rows present, nothing of theirs allowed, their ratio to the HS256 warm row judged; and the gateway
rows present (gRPC Check direct and its HTTP same-token row, Envoy alone and with HTTP and gRPC
ext_authz), every check counted by Veto, no revoked token allowed, no wrong answer, their ratios judged.
Usage: check_report.py Benchmarks/results/smoke.json   (exit 1 with the reasons when it is not)"""
import json
import sys
from pathlib import Path

ROWS = {(alg, mode, consistency) for alg in ("HS256", "RS256", "ES256") for mode in ("cold", "warm") for consistency in ("strict", "bounded")}
DEFAULT_ROWS = {"default", "threads1"}
ABUSE_ROWS = {"flood", "body"}
GRPC_ROWS = {"http_same_token", "grpc", "grpc_revoked"}
ENVOY_ROWS = {"none", "http", "grpc"}
ABUSE_FIELDS = {"row": str, "requests_per_second": float, "requests": int, "refused_as_expected": int, "answered_200": int,
                "wrong_allow": int, "wrong_deny": int, "answered_other": int, "socket_errors": int, "warm_per_request_us": float,
                "ratio_limit": float, "targets": dict, "all_targets_met": bool}
ROW_FIELDS = {"requests_per_second": float, "p50_us": int, "p99_us": int, "requests": int, "answered_200": int,
              "answered_401": int, "answered_other": int, "sent_revoked": int, "revoked_401": int, "wrong_allow": int,
              "wrong_deny": int, "socket_errors": int, "peak_rss_mib": float, "target_requests_per_second": float,
              "veto_added_us": float, "targets": dict, "all_targets_met": bool}


def problems(report, markdown):
    found = []
    for key in ("profile", "started", "machine", "openssl", "ceiling", "rows", "default_rows", "default_ratio", "load_before", "load_after",
                "all_targets_met"):
        if key not in report:
            found.append(f"missing {key}")
    if found:
        return found
    for key in ("rsa2048_verify_per_second", "ecdsap256_verify_per_second"):
        if not report["openssl"].get(key, 0) > 0:
            found.append(f"openssl.{key} is not a positive rate")
    if not report["ceiling"].get("requests", 0) > 0 or report["ceiling"].get("socket_errors", 1) != 0:
        found.append("the ceiling row served nothing or had socket errors")
    seen = set()
    for row in report["rows"]:
        name = f"{row.get('algorithm')} {row.get('mode')} {row.get('consistency')}"
        seen.add((row.get("algorithm"), row.get("mode"), row.get("consistency")))
        found += row_problems(name, row, report, markdown)
        commands = row.get("redis_commands_per_check")
        if not isinstance(commands, (int, float)):
            found.append(f"{name}: redis_commands_per_check is {commands!r}")
        elif row.get("consistency") == "bounded" and commands > 0.01:
            found.append(f"{name}: {commands} Redis commands per check from a replica")
    if seen != ROWS:
        found.append(f"rows {sorted(seen)} are not HS256/RS256/ES256 x cold/warm x strict/bounded")
    found += default_problems(report, markdown)
    found += cutoff_problems(report, markdown)
    found += abuse_problems(report, markdown)
    found += propagation_problems(report, markdown)
    found += gateway_problems(report, markdown)
    return found


def cutoff_problems(report, markdown):
    """The cut-off row (Benchmarks/cutoffs.py): a Veto row like the others, checked in one round trip of seven GETs."""
    row = report.get("cutoff_row")
    if not isinstance(row, dict):
        return ["missing the cut-off row"]
    found = row_problems(row.get("label", "cut-off row"), row, report, markdown)
    commands = row.get("redis_commands_per_check")
    if not isinstance(commands, (int, float)) or not 6.5 <= commands <= 7.5:
        found.append(f"cut-off row: {commands!r} Redis commands per check, not the 7 GETs of an OIDC token")
    return found


def gateway_problems(report, markdown):
    """The gateway rows (Benchmarks/gateways.py): correctness, not speed; the targets judged from the rows."""
    run = report.get("gateways")
    if not isinstance(run, dict):
        return ["missing the gateway rows"]
    found = []
    rows = run.get("grpc_rows", {})
    if set(rows) != GRPC_ROWS:
        return [f"gRPC rows {sorted(rows)} are not {sorted(GRPC_ROWS)}"]
    for name, row in rows.items():
        if not row.get("requests", 0) > 0 or not row.get("requests_per_second", 0) > 0:
            found.append(f"{name}: no requests")
        if row.get("wrong") != 0:
            found.append(f"{name}: {row.get('wrong')} wrong answers")
        if row.get("socket_errors", 0) or row.get("errored", 0) or row.get("failed", 0):
            found.append(f"{name}: socket errors or failed requests")
        if f"| {row.get('label')} |" not in markdown:
            found.append(f"{name}: missing from the Markdown table")
    grpc_row, revoked = rows["grpc"], rows["grpc_revoked"]
    if not grpc_row.get("veto_allowed", 0) >= grpc_row.get("requests", 1) or grpc_row.get("veto_denied") != 0:
        found.append(f"gRPC direct: Veto counted {grpc_row.get('veto_allowed')} allowed, {grpc_row.get('veto_denied')} denied "
                     f"for {grpc_row.get('requests')} requests of a valid token")
    if revoked.get("veto_allowed") != 0 or not revoked.get("veto_token_revoked", 0) >= revoked.get("requests", 1):
        found.append(f"gRPC direct: Veto counted {revoked.get('veto_allowed')} allowed, {revoked.get('veto_token_revoked')} "
                     f"token_revoked for {revoked.get('requests')} requests of a revoked token")
    summary = run.get("grpc", {})
    if rows["http_same_token"].get("requests_per_second"):
        expected = grpc_row["requests_per_second"] / rows["http_same_token"]["requests_per_second"]
        if summary.get("ratio") is None or abs(summary["ratio"] - expected) > 0.001 or \
                summary.get("targets", {}).get("ratio") != (expected >= summary.get("limit", 0.7)):
            found.append("gRPC direct: the ratio to the HTTP same-token row is not judged from the two rows")
    envoy = {row.get("name"): row for row in run.get("envoy_rows", [])}
    if set(envoy) != ENVOY_ROWS:
        return found + [f"Envoy rows {sorted(envoy)} are not {sorted(ENVOY_ROWS)}"]
    for name, row in envoy.items():
        found += [f"Envoy {name}: {problem}" for problem in envoy_row_problems(name, row, report)]
        if f"| {row.get('label')} |" not in markdown:
            found.append(f"Envoy {name}: missing from the Markdown table")
    targets = run.get("envoy", {}).get("targets", {})
    if targets.get("grpc_at_least_http") != (envoy["grpc"]["requests_per_second"] >= envoy["http"]["requests_per_second"]):
        found.append("Envoy: the gRPC-against-HTTP target is not judged from the two rows")
    return found


def envoy_row_problems(name, row, report):
    found = []
    if not row.get("requests", 0) > 0 or row.get("per_request_us") is None:
        return ["no requests"]
    if row.get("wrong") != 0 or row.get("wrong_allow") or row.get("wrong_deny") or row.get("answered_other"):
        found.append(f"{row.get('wrong')} wrong answers ({row.get('wrong_allow')} revoked tokens allowed)")
    if row.get("socket_errors"):
        found.append(f"{row['socket_errors']} socket errors")
    cpu = row.get("cpu_us_per_request", {})
    parts = {"envoy", "upstream"} | ({"veto"} if name != "none" else set())
    if set(cpu) != parts or not all(isinstance(value, (int, float)) and value >= 0 for value in cpu.values()):
        found.append(f"CPU per request {cpu!r} is not for {sorted(parts)}")
    if name == "none":
        if row.get("answered_401"):
            found.append(f"{row['answered_401']} 401s without ext_authz")
    elif row.get("answered_401") != row.get("revoked_401") or row.get("revoked_401", 0) < 1 \
            or not 0 <= row["sent_revoked"] - row["revoked_401"] <= report.get("connections", 64):
        found.append(f"{row.get('answered_401')} 401s, {row.get('revoked_401')} of them for revoked tokens, "
                     f"{row.get('sent_revoked')} revoked tokens sent")
    return found


def propagation_problems(report, markdown):
    run = report.get("propagation")
    if not isinstance(run, dict):
        return ["missing the propagation run"]
    found = []
    if not run.get("revocations", 0) > 0 or len(run.get("samples_ms", [])) != run["revocations"] * (run.get("instances", 3) - 1):
        found.append(f"propagation: {len(run.get('samples_ms', []))} samples for {run.get('revocations')} revocations")
    if run.get("wrong_allow_after_bound", 1) != 0:
        found.append(f"propagation: {run.get('wrong_allow_after_bound')} instances still allowed a revoked token after max_staleness")
    if "| propagation" not in markdown:
        found.append("propagation: missing from the Markdown")
    return found


def row_problems(name, row, report, markdown):
    """A Veto row's fields, correctness (every revoked token 401, nothing else refused) and its table line."""
    found = []
    for field, kind in ROW_FIELDS.items():
        value = row.get(field)
        if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
            found.append(f"{name}: {field} is {value!r}, not {kind.__name__}")
    if found:
        return found
    if row["requests"] <= 0 or row["p50_us"] <= 0 or row["p99_us"] < row["p50_us"]:
        found.append(f"{name}: no requests or impossible latencies")
    if row["wrong_allow"]:
        found.append(f"{name}: {row['wrong_allow']} revoked tokens were allowed")
    if row["wrong_deny"] or row["answered_other"]:
        found.append(f"{name}: {row['wrong_deny']} valid tokens refused, {row['answered_other']} other statuses")
    if row["socket_errors"]:
        found.append(f"{name}: {row['socket_errors']} socket errors")
    if row["answered_401"] != row["revoked_401"] or row["revoked_401"] < 1:
        found.append(f"{name}: {row['answered_401']} 401s, {row['revoked_401']} of them for revoked tokens")
    if not 0 <= row["sent_revoked"] - row["revoked_401"] <= report.get("connections", 64):
        found.append(f"{name}: {row['sent_revoked']} revoked tokens sent but {row['revoked_401']} answered 401")
    if f"| {name} |" not in markdown:
        found.append(f"{name}: missing from the Markdown table")
    return found


def default_problems(report, markdown):
    """The default-settings rows (Benchmarks/cores.py): both present and correct, the thread count the
    server chose logged (one event loop when pinned to one core), and the ratio judged from its numbers."""
    rows = {row.get("name"): row for row in report.get("default_rows", [])}
    if set(rows) != DEFAULT_ROWS:
        return [f"default-settings rows {sorted(rows)} are not {sorted(DEFAULT_ROWS)}"]
    found = []
    for row in rows.values():
        found += row_problems(row.get("label", "?"), row, report, markdown)
    chosen = rows["default"].get("threads_chosen")
    if not isinstance(chosen, int) or chosen < 1:
        found.append(f"default settings: the event-loop count was not logged ({chosen!r})")
    elif report["default_ratio"].get("pinned_to") is not None and chosen != 1:
        found.append(f"default settings: {chosen} event loops on one pinned core")
    if rows["threads1"].get("threads_chosen") != 1:
        found.append(f"--threads 1: {rows['threads1'].get('threads_chosen')!r} event loops")
    summary = report["default_ratio"]
    expected = rows["threads1"]["requests_per_second"] / rows["default"]["requests_per_second"] if not found else None
    if expected is not None and (summary.get("ratio") is None or abs(summary["ratio"] - expected) > 0.001
                                 or summary.get("met") != (summary["ratio"] <= summary["limit"])):
        found.append("default settings: the ratio is not judged from the two rows")
    return found


def abuse_problems(report, markdown):
    found = []
    rows = {row.get("name"): row for row in report.get("abuse_rows", [])}
    if set(rows) != ABUSE_ROWS:
        return [f"abuse rows {sorted(rows)} are not {sorted(ABUSE_ROWS)}"]
    for name, row in rows.items():
        for field, kind in ABUSE_FIELDS.items():
            value = row.get(field)
            if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
                found.append(f"abuse {name}: {field} is {value!r}, not {kind.__name__}")
        if found:
            continue
        if row["wrong_allow"] or row["answered_200"]:
            found.append(f"abuse {name}: {row['answered_200']} requests were allowed")
        if row["wrong_deny"] or row["answered_other"] or row["socket_errors"]:
            found.append(f"abuse {name}: {row['wrong_deny']} other refusals, {row['answered_other']} other statuses, "
                         f"{row['socket_errors']} socket errors")
        ratio_ok = row.get("ratio_to_warm") is not None and row["ratio_to_warm"] <= row["ratio_limit"]
        if row["targets"].get("ratio") != ratio_ok:
            found.append(f"abuse {name}: the ratio target is not judged from ratio_to_warm and ratio_limit")
        if f"| {row['row']} |" not in markdown:
            found.append(f"abuse {name}: missing from the Markdown table")
    # The flood must have been measured; the body row may complete no request in a one-second smoke
    # row while the parser is slow (finding 3), which its ratio target then reports as missed.
    if rows["flood"].get("requests", 0) <= 0 or rows["flood"].get("refused_as_expected", 0) <= 0:
        found.append("abuse flood: no request was answered 401 signature_invalid")
    return found


def main():
    path = Path(sys.argv[1])
    report = json.loads(path.read_text())
    markdown = path.with_suffix(".md").read_text()
    found = problems(report, markdown)
    if found:
        print("bench report check failed:\n  " + "\n  ".join(found), file=sys.stderr)
        sys.exit(1)
    print(f"bench report {path} is well formed: {len(report['rows'])} rows, every revoked token answered 401, no other failure; "
          "gateway rows correct")


if __name__ == "__main__":
    main()
