"""The report of a Scripts/bench speed run: each Veto row judged against targets measured in the
same run, the Markdown table, and the files in Benchmarks/results."""
import json

import abuse
import cores
import cutoffs
import gateways
import propagation
from harness import CONNECTIONS, ROOT, log

BUDGET_US = 10.0          # what Veto may add per check on top of the HTTP ceiling and the signature
BOUNDED_BUDGET_US = 2.0   # the same with --consistency bounded: no Redis round trip on the check path
BOUNDED_COMMANDS_LIMIT = 0.001  # Redis commands per check a bounded instance may cause (its feed reads)
WARM_P99_LIMIT_US = 2000.0
TAIL_RATIO_LIMIT = 2.5
RSS_LIMIT_MIB = 64.0


def verify_rate(speed, alg):
    return {"HS256": None, "RS256": speed["rsa2048_verify_per_second"], "ES256": speed["ecdsap256_verify_per_second"]}[alg]


def judge(row, ceiling_rps, speed):
    """Targets for one Veto row, all as ratios to numbers measured in the same run."""
    rate = None if row["mode"] == "warm" else verify_rate(speed, row["algorithm"])
    bounded = row.get("consistency") == "bounded"
    floor_us = 1e6 / ceiling_rps + (1e6 / rate if rate else 0.0)
    target_rps = 1e6 / (floor_us + (BOUNDED_BUDGET_US if bounded else BUDGET_US))
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
    if row["mode"] == "warm" and not bounded:
        checks["warm_p99"] = row["p99_us"] <= WARM_P99_LIMIT_US
    if bounded:
        checks["no_redis_per_check"] = row.get("redis_commands_per_check", 1) <= BOUNDED_COMMANDS_LIMIT
    row["targets"] = checks
    row["all_targets_met"] = all(checks.values())
    return row

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
    lines.append("| row | req/s | × ceiling | target req/s | Veto adds (µs) | p50 (µs) | p99 (µs) | p99/p50 | Redis cmds / check | 401s / revoked sent | wrong | socket errors | peak RSS (MiB) | targets |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    c = report["ceiling"]
    lines.append(f"| HTTP ceiling (raw SwiftNIO hello) | {c['requests_per_second']:,.0f} | 1.00 | | | {c['p50_us']} | {c['p99_us']} | "
                 f"{c['p99_us'] / max(c['p50_us'], 1):.2f} | | | | {c['socket_errors']} | {c.get('peak_rss_mib') or 0:.1f} | |")
    for row in report["rows"] + report.get("default_rows", []) + ([report["cutoff_row"]] if report.get("cutoff_row") else []):
        missed = [name for name, ok in row["targets"].items() if not ok]
        label = row.get("label") or f"{row['algorithm']} {row['mode']} {row.get('consistency', 'strict')}"
        commands = row.get("redis_commands_per_check")
        lines.append(
            f"| {label} | {row['requests_per_second']:,.0f} | "
            f"{row['requests_per_second'] / c['requests_per_second']:.2f} | {row['target_requests_per_second']:,.0f} | "
            f"{row['veto_added_us']:.1f} | {row['p50_us']} | {row['p99_us']} | {row['p99_us'] / max(row['p50_us'], 1):.2f} | "
            f"{'' if commands is None else format(commands, '.3f')} | "
            f"{row['answered_401']} / {row['sent_revoked']} | {row['wrong_allow'] + row['wrong_deny'] + row['answered_other']} | "
            f"{row['socket_errors']} | {row['peak_rss_mib']:.1f} | {'met' if not missed else 'missed: ' + ', '.join(missed)} |")
    lines.append("")
    lines.append("Target req/s = 1 / (1/ceiling + 1/verify_rate + 10 µs) for strict rows and + 2 µs for bounded rows, verify_rate from openssl speed (none for HS256 and warm rows). "
                 "'Redis cmds / check' = Redis's total_commands_processed over the row / requests answered (bounded target ≤ 0.001: the replica's own feed reads). "
                 "'Veto adds' = 1/req/s − 1/ceiling − 1/verify_rate. 'wrong' = allowed revoked tokens + refused valid tokens + other statuses. "
                 "Revoked tokens sent may exceed 401s by the requests in flight when wrk stops (at most one per connection).")
    if report.get("default_rows"):
        lines += cores.markdown(report["default_rows"], report["default_ratio"])
    if report.get("abuse_rows"):
        lines += abuse.markdown(report["abuse_rows"])
    if report.get("propagation"):
        lines += propagation.markdown(report["propagation"])
    if report.get("cutoff_row"):
        lines += cutoffs.markdown(report["cutoff_row"])
    if report.get("gateways"):
        warm = next(row for row in report["rows"] if row["algorithm"] == "HS256" and row["mode"] == "warm" and row.get("consistency") == "strict")
        lines += gateways.markdown(report["gateways"], warm["requests_per_second"])
    return "\n".join(lines) + "\n"


def write_report(report, name, text):
    out = ROOT / "Benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(text)
    log(f"wrote Benchmarks/results/{name}.json and Benchmarks/results/{name}.md")
