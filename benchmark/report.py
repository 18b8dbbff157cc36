"""The benchmark's output: run metadata, ratios against the targets, and the aligned table on stdout."""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parent.parent
VARIANT_TITLES = {"raw": "raw requests+orjson", "cdk_default": "CDK default (stock)", "connector": "connector read"}
# The targets of the performance issue: reported against, never asserted.
TARGETS = {
    "call_records_vs_raw": ("connector / raw, call_records", ">=", 1.0),
    "contact_center_cdrs_vs_raw": ("connector / raw, contact_center_cdrs", ">=", 1.0),
    "call_records_vs_cdk_default": ("connector / CDK default, call_records", ">=", 4.0),
    "call_records_cpu_vs_raw": ("CPU per record, raw / connector, call_records", ">=", 1.0),
    "contact_center_cdrs_cpu_vs_raw": ("CPU per record, raw / connector, contact_center_cdrs", ">=", 1.0),
    "call_records_cpu_vs_cdk_default": ("CPU per record, CDK default / connector, call_records", ">=", 4.0),
    "rss_ratio": ("peak RSS big / small", "<=", 1.1),
    "rss_big_mb": ("peak RSS of the big read, MB", "<", 150),
    "latency_speedup": ("latency: sequential / default concurrency", ">=", 4.0),
}


def progress(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def wait_until_quiet(limit_seconds: float) -> float:
    """Waits (up to `limit_seconds`) until the machine is idle, 5 s at a time; returns how busy it was in the
    last window measured (1 s when not waiting), in % of one CPU."""
    from benchmark.runner import machine_busy_seconds

    deadline = time.monotonic() + limit_seconds
    window = 5 if limit_seconds > 0 else 1
    while True:
        before = machine_busy_seconds()
        time.sleep(window)
        busy = 100 * (machine_busy_seconds() - before) / window
        if busy < 15 or time.monotonic() >= deadline:
            return round(busy)
        progress(f"the machine is busy ({busy:.0f}% of a CPU used by other processes); waiting")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", "--no-optional-locks", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=20).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _machine() -> dict[str, Any]:
    info: dict[str, Any] = {"platform": platform.platform(), "cpus": os.cpu_count(),
                            "cpus_usable": len(os.sched_getaffinity(0)), "python": platform.python_version()}
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu_model"] = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines()
                                  if line.startswith("model name")), None)
        meminfo = Path("/proc/meminfo").read_text().split()
        info["memory_gb"] = round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 ** 2, 1)
    except (OSError, ValueError):
        pass
    return info


def header(args: argparse.Namespace, pinned: bool, connector_alone: bool) -> dict[str, Any]:
    def version(name: str) -> Optional[str]:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return None

    return {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "git": {"commit": _git("rev-parse", "HEAD") or None,
                "dirty": bool(_git("status", "--porcelain", "--untracked-files=no"))},
        "versions": {"airbyte-cdk": version("airbyte-cdk"), "orjson": version("orjson"), "requests": version("requests")},
        "machine": _machine(),
        "settings": {"quick": args.quick, "records": args.records, "memory_sizes": None if args.skip_memory else args.memory_sizes,
                     "latency_ms": None if args.skip_latency else args.latency_ms, "repeat": args.repeat,
                     "pinned_server_cpu0_client_cpu1": pinned, "nice": args.nice,
                     "connector_installed_alone": connector_alone},
    }


def header_for_profile() -> dict[str, Any]:
    return {"timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "git": {"commit": _git("rev-parse", "HEAD") or None,
                    "dirty": bool(_git("status", "--porcelain", "--untracked-files=no"))},
            "machine": _machine()}


def add_ratios_and_targets(results: dict[str, Any]) -> None:
    rate = {(row["variant"], row["stream"]): row["records_per_second"] for row in results.get("throughput", [])}
    cpu = {(row["variant"], row["stream"]): row["client_cpu_us_per_record"] for row in results.get("throughput", [])}
    values: dict[str, Optional[float]] = {}
    for stream, base in (("call_records", "raw"), ("contact_center_cdrs", "raw"), ("call_records", "cdk_default")):
        if cpu.get((base, stream)) and cpu.get(("connector", stream)):
            name = "raw" if base == "raw" else "cdk_default"
            values[f"{stream}_cpu_vs_{name}"] = round(cpu[(base, stream)] / cpu[("connector", stream)], 3)
    for stream in ("call_records", "contact_center_cdrs"):
        if rate.get(("raw", stream)) and ("connector", stream) in rate:
            values[f"{stream}_vs_raw"] = round(rate[("connector", stream)] / rate[("raw", stream)], 3)
    if rate.get(("cdk_default", "call_records")) and ("connector", "call_records") in rate:
        values["call_records_vs_cdk_default"] = round(rate[("connector", "call_records")] / rate[("cdk_default", "call_records")], 2)
    memory = results.get("memory")
    if memory and len(memory) >= 2 and memory[0]["max_rss_mb"]:
        values["rss_ratio"] = round(memory[-1]["max_rss_mb"] / memory[0]["max_rss_mb"], 3)
        values["rss_big_mb"] = memory[-1]["max_rss_mb"]
    if results.get("latency"):
        values["latency_speedup"] = results["latency"]["speedup"]
    results["ratios"] = values
    targets = {}
    for key, (title, op, bound) in TARGETS.items():
        value = values.get(key)
        met = None if value is None else {">=": value >= bound, "<=": value <= bound, "<": value < bound}[op]
        targets[key] = {"title": title, "value": value, "target": f"{op} {bound}", "met": met}
    targets.update(rate_limit_targets(results))
    if results.get("latency"):
        runs = results["latency"]["runs"]
        targets["latency_state"] = {"title": "latency: every record once, state never backwards, final = max cursor",
                                    "value": all(run["ok"] for run in runs), "target": "true",
                                    "met": all(run["ok"] for run in runs)}
    results["targets"] = targets


def all_ok(results: dict[str, Any]) -> bool:
    """Whether every run finished cleanly with the expected records (targets are not part of this)."""
    rows = list(results.get("throughput", [])) + list(results.get("memory", []))
    rows += list((results.get("latency") or {}).get("runs", [])) + list((results.get("rate_limit") or {}).get("runs", []))
    return all(row.get("ok", True) for row in rows)


# ---------------------------------------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------------------------------------


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_table(results: dict[str, Any]) -> None:
    meta = results["machine"]
    print()
    print(f"source-8x8-cdr benchmark  {results['timestamp']}  commit {(results['git']['commit'] or '?')[:10]}"
          f"{' (dirty)' if results['git']['dirty'] else ''}  airbyte-cdk {results['versions']['airbyte-cdk']}")
    print(f"{meta.get('cpu_model')}, {meta.get('cpus')} CPUs, {meta.get('memory_gb')} GB, Python {meta.get('python')}; "
          f"emulator warm-up {results['emulator']['warm_seconds']} s; whole run {results['total_seconds']} s")
    print("The connector as deployed: installed alone, with its own requirements only (.venv-connector)"
          if results["settings"].get("connector_installed_alone") else
          "The connector from the project's .venv, with the demo's and tests' packages (`python3 dev.py bench` measures it alone)")
    print(f"Other processes used {meta.get('busy_before_start_percent')}% of a CPU just before the run; measured processes "
          f"at nice {results['settings'].get('nice')}, pinned: {results['settings'].get('pinned_server_cpu0_client_cpu1')} "
          f"('other CPU %': CPU other processes got during each run, in % of one core)")
    settings = results["settings"]
    raw_rate = {row["stream"]: row["records_per_second"] for row in results["throughput"] if row["variant"] == "raw"}
    stock_rate = {row["stream"]: row["records_per_second"] for row in results["throughput"] if row["variant"] == "cdk_default"}
    sizes = ", ".join(f"{row['stream']} {row['bytes_per_record']} B" for row in results["throughput"]
                      if row["variant"] == "raw" and row.get("bytes_per_record"))
    print(f"\nThroughput: {settings['throughput_days']} day slices x {settings['records_per_day']:,} records per stream ({sizes} "
          f"per record as served); rec/s from the first record to the end (start s: until the first record); "
          f"CPU us/rec: the reader process after its first record")
    rows = []
    for row in results["throughput"]:
        rows.append([VARIANT_TITLES[row["variant"]], row["stream"], row["records"], row["expected_records"],
                     row["startup_seconds"], row["read_seconds"], row["records_per_second"],
                     row["client_cpu_us_per_record"], row["emulator_cpu_percent"], row["other_cpu_percent"], row["requests"],
                     _ratio(row["records_per_second"], raw_rate.get(row["stream"])),
                     _ratio(row["records_per_second"], stock_rate.get(row["stream"])), row["ok"]])
    print(table(["variant", "stream", "records", "expected", "start s", "read s", "rec/s", "CPU us/rec",
                  "emu CPU %", "other CPU %", "requests", "x raw", "x CDK", "ok"], rows))
    if results.get("memory"):
        print("\nMemory: connector read of call_records, peak RSS of the connector process (VmHWM)")
        print(table(["records", "slices", "wall s", "rec/s", "peak RSS MB", "other CPU %", "ok"],
                     [[m["records"], f"{m['slices']} x {m['slice_hours']} h", m["wall_seconds"], m["records_per_second"],
                       m["max_rss_mb"], m["other_cpu_percent"], m["ok"]]
                      for m in results["memory"]]))
    latency = results.get("latency")
    if latency:
        print(f"\nLatency: {latency['slices']} slices x {latency['records_per_slice']} records, "
              f"{latency['latency_ms']:.0f} ms per request; speedup {latency['speedup']}x "
              f"({latency['speedup_after_startup']}x without start-up)")
        print(table(["concurrency", "wall s", "w/o start-up s", "requests", "records", "dups", "states", "backwards",
                      "final state = max cursor", "other CPU %", "ok"],
                     [[r["concurrency"], r["wall_seconds"], r["read_seconds"], r["requests"], r["records"],
                       r["duplicates"], r["states"], r["states_backwards"], r["final_state_is_max_cursor"], r["other_cpu_percent"], r["ok"]]
                      for r in latency["runs"]]))
    print_rate_limits(results)
    print("\nTargets (reported, not asserted)")
    print(table(["target", "value", "goal", "met"],
                 [[t["title"], t["value"], t["target"], t["met"]] for t in results["targets"].values()]))
    problems = [f"{row.get('variant', 'memory')} {row.get('stream', '')}: {row['errors']}"
                for row in results["throughput"] + results.get("memory", []) if row.get("errors")]
    for problem in problems:
        print(f"! {problem}")


def rate_limit_targets(results: dict[str, Any]) -> dict[str, dict]:
    """The rate-limit targets: with and without Retry-After, at most a tenth of the requests refused and the
    time from the first request to the last within 1.2x the least the limit allows; requests_per_minute: no 429."""
    targets = {}
    for run in (results.get("rate_limit") or {}).get("runs", []):
        if run["variant"] == "requests_per_minute":
            targets["rate_limit_rpm_429s"] = {"title": "rate limit, requests_per_minute: 429s", "value": run["limited"],
                                              "target": "== 0", "met": run["limited"] == 0}
            continue
        key = "rate_limit_" + run["variant"].lower().replace(" ", "_").replace("-", "_")
        targets[f"{key}_429s"] = {"title": f"rate limit, {run['variant']}: 429s / requests", "value": run["limited_share"],
                                  "target": "<= 0.1", "met": run["limited_share"] <= 0.1}
        targets[f"{key}_time"] = {"title": f"rate limit, {run['variant']}: first to last request / minimum",
                                  "value": run["span_over_minimum"], "target": "<= 1.2",
                                  "met": run["span_over_minimum"] is not None and run["span_over_minimum"] <= 1.2}
    return targets


def print_rate_limits(results: dict[str, Any]) -> None:
    limited = results.get("rate_limit")
    if not limited:
        return
    print(f"\nRate limit: connector call_records, {limited['days']} days x {limited['records_per_day']} records (one page "
          f"and the end-of-scroll page a day); the emulator answers 429 beyond its limit; minimum: the time the limit "
          f"allows from the first request to the last")
    print("429s until resumed: from the first 429 to the next request the API admitted (the first burst and, without "
          "Retry-After, the probes refused); the rest came once a pace was found")
    print(table(["variant", "limit", "records", "expected", "requests", "429s", "until resumed", "429 share", "first to last s",
                  "minimum s", "x minimum", "wall s", "other CPU %", "ok"],
                 [[r["variant"], r["limit"], r["records"], r["expected_records"], r["requests"], r["limited"],
                   r["limited_until_resumed"],
                   r["limited_share"], r["span_seconds"], r["minimum_seconds"], r["span_over_minimum"], r["wall_seconds"],
                   r["other_cpu_percent"], r["ok"]] for r in limited["runs"]]))
    for run in limited["runs"]:
        if run["errors"]:
            print(f"! rate limit, {run['variant']}: {run['errors']}")


def print_rate_limits_only(results: dict[str, Any]) -> None:
    """The table of a `--rate-limit-only` run."""
    print(f"\nsource-8x8-cdr benchmark (rate limit only)  {results['timestamp']}  commit {(results['git']['commit'] or '?')[:10]}"
          f"{' (dirty)' if results['git']['dirty'] else ''}; whole run {results['total_seconds']} s")
    print_rate_limits(results)
    print("\nTargets (reported, not asserted)")
    print(table(["target", "value", "goal", "met"],
                 [[t["title"], t["value"], t["target"], t["met"]] for t in results["targets"].values() if t["value"] is not None]))


def _ratio(value: Optional[float], base: Optional[float]) -> Optional[str]:
    return f"{value / base:.2f}" if value and base else None
