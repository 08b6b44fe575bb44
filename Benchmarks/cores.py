"""The default-settings rows of Scripts/bench (issue 14, "fast on any number of cores at default
settings"): `veto serve` without --threads, pinned like every other server of the run (`taskset -c`
the server core), against the same server with --threads 1, measured right after it.

  default   "HS256 warm, default settings (no --threads)": no --threads, --verify-cache-size or
            --log-level, so the server picks its event loops from the CPUs it may use (one here).
  threads1  "HS256 warm, default settings with --threads 1": the same, with the one flag.

Both rows are judged against the HTTP ceiling of the same run like the HS256 warm row; on top, the
default row's time per request (1 / req/s) over the --threads 1 row's must be at most
DEFAULT_RATIO_LIMIT. Before the default followed the affinity mask, `taskset -c 0` gave as many
event loops as online cores, taking turns on the one core.
"""
import re

import harness

DEFAULT_RATIO_LIMIT = 1.05
ROWS = {
    "default": "HS256 warm, default settings (no --threads)",
    "threads1": "HS256 warm, default settings with --threads 1",
}
THREADS_LINE = re.compile(r'reason=(?:"((?:[^"\\]|\\.)*)"|(\S+)) threads=(\d+) .*event-loop threads: ')


def chosen_threads(output):
    """The event-loop count and reason `veto serve` logged at start-up; (None, None) if absent."""
    match = THREADS_LINE.search(output)
    if not match:
        return None, None
    return int(match.group(3)), match.group(1) if match.group(1) is not None else match.group(2)


def run(args, profile, pinning, workdir, keys, store_args, processes, token_files, revoked, ceiling_rps, speed, judge):
    """Both rows, each on its own `veto serve`; returns (rows, ratio summary)."""
    rows = []
    for name, threads in (("default", None), ("threads1", 1)):
        veto = harness.Veto(args.veto, pinning, workdir, f"default-{name}", keys, store_args, cache_size=None, log_level=None,
                            threads=threads)
        processes.append(veto)
        veto.revoke(revoked["HS256"])
        if profile.warmup:
            harness.run_wrk(pinning, veto.port, "/v1/check", token_files["HS256"], profile.warmup, workdir)
        data = harness.run_wrk(pinning, veto.port, "/v1/check", token_files["HS256"], profile.duration, workdir)
        loops, reason = chosen_threads(veto.process.output())
        row = harness.summarise(data, {"algorithm": "HS256", "mode": "warm", "name": name, "label": ROWS[name],
                                       "threads_flag": threads, "threads_chosen": loops, "threads_reason": reason,
                                       "verify_cache_size": None, "peak_rss_mib": veto.process.peak_rss_mib(),
                                       "load": harness.load_average()[0]})
        rows.append(judge(row, ceiling_rps, speed))
        harness.log(f"{ROWS[name]}: {loops} event loop(s), {row['requests_per_second']:,.0f} req/s, p50 {row['p50_us']} µs, "
                    f"p99 {row['p99_us']} µs")
        veto.stop()
    default, single = rows
    ratio = (single["requests_per_second"] / default["requests_per_second"]
             if default["requests_per_second"] and single["requests_per_second"] else None)
    summary = {"ratio": round(ratio, 3) if ratio else None, "limit": DEFAULT_RATIO_LIMIT,
               "met": ratio is not None and ratio <= DEFAULT_RATIO_LIMIT,
               "pinned_to": pinning.server_core if pinning.enabled else None}
    harness.log(f"default / --threads 1 time per request: {summary['ratio']} (target ≤ {DEFAULT_RATIO_LIMIT})")
    return rows, summary


def markdown(rows, summary):
    default = rows[0]
    pinned = f"`taskset -c {summary['pinned_to']}`" if summary["pinned_to"] is not None else "no pinning"
    ratio = f"{summary['ratio']:.3f}" if summary["ratio"] else "–"
    return ["", f"Default settings ({pinned}, no --verify-cache-size or --log-level): without --threads Veto chose "
                f"{default['threads_chosen'] if default['threads_chosen'] is not None else '?'} event loop(s) "
                f"({default['threads_reason'] or 'reason not logged'}). Time per request without --threads over with "
                f"--threads 1: {ratio} (target ≤ {summary['limit']:.2f}: {'met' if summary['met'] else 'missed'})."]
