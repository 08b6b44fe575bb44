#!/usr/bin/env python3
"""Checks that a Scripts/bench report is well formed and that the run was correct (not fast):
every row present, every revoked token answered 401, nothing else refused, no socket errors.
Usage: check_report.py bench/results/smoke.json   (exit 1 with the reasons when it is not)"""
import json
import sys
from pathlib import Path

ROWS = {(alg, mode) for alg in ("HS256", "RS256", "ES256") for mode in ("cold", "warm")}
ROW_FIELDS = {"requests_per_second": float, "p50_us": int, "p99_us": int, "requests": int, "answered_200": int,
              "answered_401": int, "answered_other": int, "sent_revoked": int, "revoked_401": int, "wrong_allow": int,
              "wrong_deny": int, "socket_errors": int, "peak_rss_mib": float, "target_requests_per_second": float,
              "veto_added_us": float, "targets": dict, "all_targets_met": bool}


def problems(report, markdown):
    found = []
    for key in ("profile", "started", "machine", "openssl", "ceiling", "rows", "load_before", "load_after", "all_targets_met"):
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
        name = f"{row.get('algorithm')} {row.get('mode')}"
        seen.add((row.get("algorithm"), row.get("mode")))
        for field, kind in ROW_FIELDS.items():
            value = row.get(field)
            if not isinstance(value, kind) and not (kind is float and isinstance(value, int)):
                found.append(f"{name}: {field} is {value!r}, not {kind.__name__}")
        if found:
            continue
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
    if seen != ROWS:
        found.append(f"rows {sorted(seen)} are not HS256/RS256/ES256 x cold/warm")
    return found


def main():
    path = Path(sys.argv[1])
    report = json.loads(path.read_text())
    markdown = path.with_suffix(".md").read_text()
    found = problems(report, markdown)
    if found:
        print("bench report check failed:\n  " + "\n  ".join(found), file=sys.stderr)
        sys.exit(1)
    print(f"bench report {path} is well formed: {len(report['rows'])} rows, every revoked token answered 401, no other failure")


if __name__ == "__main__":
    main()
