"""`python -m benchmark`: the connector's read against raw-HTTP baselines, in one run, on this machine.

Every measured reader is its own subprocess (the client core); the emulator serves from another one (the
server core, `--no-pin` to let the OS place them). The run has four parts:

1. throughput of `call_records` and `contact_center_cdrs` over the same days (one slice per day, pageSize
   7000 / per_page 10000): the raw `requests` + `orjson` loop, the stock declarative build of call_records
   (`stock_manifest.yaml`), and the connector's `source-8x8-cdr read`;
2. peak RSS of the connector's read of call_records at two sizes (default 100k and 1M records);
3. a 30-slice read of call_records with 200 ms latency per request, `concurrency: 1` against the default,
   with the state checked: never backwards, and the final state equal to the greatest cursor read;
4. a month of call_records through a rate limit (429 beyond N requests in W seconds), with Retry-After,
   without it, and with `requests_per_minute` under a per-minute limit: exact records, 429s / requests, and
   the time from the first request to the last over the least the limit allows;
5. a table on stdout and the figures as JSON in `benchmark/results/latest.json`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional
from urllib.request import urlopen

import orjson

from benchmark import report
from benchmark.runner import Inspection, ProcessRun, placement, run_process

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
PYTHON = sys.executable
# The connector as it is deployed: installed alone (`.venv-connector`, made by `python3 dev.py bench`), as the
# Docker image and PyAirbyte install it; else the one beside this interpreter (the project's `.venv`, which also
# holds the demo's and the tests' packages, some of which the CDK's dependencies import when present: boto3).
CONNECTOR_ALONE = ROOT / ".venv-connector" / "bin" / "source-8x8-cdr"
CONNECTOR = str(CONNECTOR_ALONE if CONNECTOR_ALONE.exists() else Path(sys.executable).with_name("source-8x8-cdr"))
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STATE_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
CURSORS = {"call_records": ("startTimeUTC", "callId"), "contact_center_cdrs": ("timestamp", "uuid")}
PAGE_SIZES = {"call_records": 7000, "contact_center_cdrs": 10_000}
SERVER_CPUS, CLIENT_CPUS = {0}, {1}


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmark", description=__doc__.split("\n\n")[0])
    p.add_argument("--records", type=int, help="records per stream for the throughput runs (default 200000; --quick 20000)")
    p.add_argument("--quick", action="store_true", help="small sizes, for a smoke test (< 60 s)")
    p.add_argument("--skip-memory", action="store_true", help="skip the peak-RSS runs")
    p.add_argument("--skip-latency", action="store_true", help="skip the 200 ms latency runs")
    p.add_argument("--memory-sizes", help="two record counts for the peak-RSS runs (default 100000,1000000)")
    p.add_argument("--calls-per-day", type=int, help="records per day and stream in the emulator (default 33334)")
    p.add_argument("--latency-ms", type=float, default=200.0)
    p.add_argument("--latency-slices", type=int, help="day slices of the latency runs (default 30; --quick 12)")
    p.add_argument("--latency-calls-per-day", type=int, default=500)
    p.add_argument("--skip-rate-limit", action="store_true", help="skip the rate-limit runs")
    p.add_argument("--rate-limit-only", action="store_true", help="run only the rate-limit runs (a few minutes)")
    p.add_argument("--rate-limit", default="10/6", metavar="N/SECONDS",
                   help="the limit with and without Retry-After (default 10/6: another 8x8 API's 10 per 60 s, ten times faster)")
    p.add_argument("--rate-limit-rpm", type=int,
                   help="requests_per_minute, against a limit of as many per 60 s (default 40, --quick 15: one wait of a minute)")
    p.add_argument("--rate-limit-days", type=int, help="days of call_records (default 30: a month; --quick 10)")
    p.add_argument("--rate-limit-calls-per-day", type=int, default=500, help="with pageSize 7000: one page and the end-of-scroll page a day")
    p.add_argument("--repeat", type=int, help="rounds of the throughput and latency runs, each running every variant once; "
                                              "each variant keeps its fastest run (default 3; --quick 1)")
    p.add_argument("--no-pin", action="store_true", help="do not pin the emulator and the readers to separate CPUs")
    p.add_argument("--nice", type=int, default=-20 if os.geteuid() == 0 else 0,
                   help="niceness of the emulator, the readers and the benchmark (default -20 as root, so that other "
                        "work on a shared machine disturbs the figures less; 0 to leave priorities alone)")
    p.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                   help="first wait up to this long for other processes to leave the CPUs idle")
    p.add_argument("--output", type=Path, help="where to write the JSON (default results/latest.json; --quick: "
                   "results/latest-quick.json, so that a smoke test does not replace the figures of a full run)")
    args = p.parse_args(argv)
    args.records = args.records or (20_000 if args.quick else 200_000)
    sizes = args.memory_sizes or ("10000,50000" if args.quick else "100000,1000000")
    args.memory_sizes = [int(size) for size in sizes.split(",")]
    args.calls_per_day = args.calls_per_day or (5_000 if args.quick else 33_334)
    args.latency_slices = args.latency_slices or (12 if args.quick else 30)
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.rate_limit_days = args.rate_limit_days or (10 if args.quick else 30)
    args.rate_limit_rpm = args.rate_limit_rpm or (15 if args.quick else 40)
    args.output = args.output or RESULTS / ("latest-quick.json" if args.quick else "latest.json")
    return args


# ---------------------------------------------------------------------------------------------------------------------
# The emulator, in its own process
# ---------------------------------------------------------------------------------------------------------------------


class EmulatorProcess:
    """`benchmark.serve` in a subprocess, warmed before it answers; stopped with SIGTERM."""

    def __init__(self, settings: dict[str, Any], cpus: Optional[set[int]], env: dict[str, str], nice: int = 0) -> None:
        preexec = placement(cpus, nice)
        self.process = subprocess.Popen([PYTHON, "-m", "benchmark.serve", json.dumps(settings)], cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, preexec_fn=preexec)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line:
            self.process.wait()
            raise SystemExit(f"the emulator did not start (exit code {self.process.returncode})")
        self.info = orjson.loads(line)
        self.pid = self.process.pid
        self.url = self.info["contact_center_base_url"]

    def requests_served(self) -> int:
        with urlopen(f"{self.url}/_emulator/stats", timeout=30) as response:
            return int(orjson.loads(response.read())["total"])

    def rate_limit_counts(self) -> dict[str, dict[str, float]]:
        with urlopen(f"{self.url}/_emulator/stats", timeout=30) as response:
            return orjson.loads(response.read())["rate_limit"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------------------------------------------------------------
# Inputs of the readers
# ---------------------------------------------------------------------------------------------------------------------


def day_windows(start: datetime, days: int, stream: str) -> list[tuple[str, str]]:
    """The raw loop's request windows: one per UTC day, like the connector's slices."""
    fmt = "%Y-%m-%d %H:%M:%S" if stream == "call_records" else "%Y-%m-%dT%H:%M:%S"
    return [((start + timedelta(days=d)).strftime(fmt), (start + timedelta(days=d + 1)).strftime(fmt)) for d in range(days)]


def connector_config(emulator: EmulatorProcess, start: datetime, days: int, **extra: Any) -> dict[str, Any]:
    """A config with both API blocks pointing at `emulator` (a run reads one stream of the two)."""
    creds = emulator.info["credentials"]
    return {
        "start_date": start.strftime(DATE_FORMAT),
        "end_date": (start + timedelta(days=days)).strftime(DATE_FORMAT),
        "work_analytics": {"api_key": creds["wa_api_key"], "username": creds["wa_username"],
                           "password": creds["wa_password"], "base_url": emulator.info["work_analytics_base_url"],
                           "page_size": PAGE_SIZES["call_records"]},
        "contact_center": {"api_key": creds["cc_api_key"], "base_url": emulator.info["contact_center_base_url"],
                           "per_page": PAGE_SIZES["contact_center_cdrs"]},
        "slice_hours": 24,
        **extra,
    }


def catalog(stream: str) -> dict[str, Any]:
    cursor, key = CURSORS[stream]
    return {"streams": [{
        "stream": {"name": stream, "json_schema": {}, "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
        "cursor_field": [cursor], "primary_key": [[key]],
    }]}


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
        self.pin = not args.no_pin and len(os.sched_getaffinity(0)) >= 2
        if args.nice:
            try:  # the benchmark reads the readers' pipes: it must not be the one left waiting for a CPU
                os.setpriority(os.PRIO_PROCESS, 0, args.nice)
            except OSError:
                args.nice = 0
        self.client_cpus = CLIENT_CPUS if self.pin else None
        self.server_cpus = SERVER_CPUS if self.pin else None
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-8x8-"))
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        self.data_end = today - timedelta(days=1)  # whole days, all calls ended, inside the retention

    def files(self, name: str, config: dict, stream: str) -> list[str]:
        config_path, catalog_path = self.workdir / f"{name}.config.json", self.workdir / f"{name}.catalog.json"
        config_path.write_text(json.dumps(config))
        catalog_path.write_text(json.dumps(catalog(stream)))
        return ["--config", str(config_path), "--catalog", str(catalog_path)]

    def measure(self, emulator: EmulatorProcess, command: list[str], inspect: Optional[Inspection] = None) -> tuple[ProcessRun, int]:
        served = emulator.requests_served()
        run = run_process(command, cwd=str(ROOT), env=self.env, cpus=self.client_cpus, nice=self.args.nice,
                          emulator_pid=emulator.pid, inspect=inspect)
        return run, emulator.requests_served() - served

    # -- throughput -----------------------------------------------------------------------------------------------

    def throughput(self, emulators: dict[str, EmulatorProcess], start: datetime, days: int, per_day: int) -> list[dict]:
        """Each stream's variants run in turn, `repeat` rounds, and each keeps its fastest run: a variant is
        measured next to the others in every round, so that a slow spell of the machine does not fall on one
        of them only."""
        rows = []
        for stream in ("call_records", "contact_center_cdrs"):
            emulator = emulators[stream]
            expected = days * per_day
            job = {"stream": stream, "credentials": emulator.info["credentials"], "windows": day_windows(start, days, stream),
                   "page_size": PAGE_SIZES[stream],
                   "base_url": emulator.info["work_analytics_base_url" if stream == "call_records" else "contact_center_base_url"]}
            variants = [("raw", [PYTHON, "-m", "benchmark.raw", json.dumps(job)])]
            files = self.files(f"throughput-{stream}", connector_config(emulator, start, days), stream)
            if stream == "call_records":
                variants.append(("cdk_default", [PYTHON, "-m", "benchmark.stock", "read", *files]))
            variants.append(("connector", [CONNECTOR, "read", *files]))
            best: dict[str, dict] = {}
            rounds = max(1, self.args.repeat)
            for round_number in range(1, rounds + 1):
                for variant, command in variants:
                    report.progress(f"throughput: {variant} {stream} ({expected:,} records, round {round_number} of {rounds})")
                    run, served = self.measure(emulator, command)
                    row = throughput_row(variant, stream, run, served, expected)
                    if variant not in best or row["records_per_second"] > best[variant]["records_per_second"]:
                        best[variant] = row
            rows.extend(best[variant] for variant, _ in variants)
        return rows

    # -- memory ---------------------------------------------------------------------------------------------------

    def memory(self, emulator: EmulatorProcess, per_day: int) -> list[dict]:
        rows = []
        for size in self.args.memory_sizes:
            days = math.ceil(size / per_day)
            # At least as many slices as the default concurrency (10), so that both sizes hold as many pages
            # in flight at once and the ratio shows what grows with the record count alone.
            slice_hours = 24 if days >= 10 else max(1, days * 24 // 10)
            slices = days * 24 // slice_hours
            start = self.data_end - timedelta(days=days)
            files = self.files(f"memory-{size}", connector_config(emulator, start, days, slice_hours=slice_hours), "call_records")
            report.progress(f"memory: connector call_records ({days * per_day:,} records, {slices} slices of {slice_hours} h)")
            run, served = self.measure(emulator, [CONNECTOR, "read", *files])
            read_seconds = run.read_seconds
            rows.append({
                "records": run.records, "expected_records": days * per_day, "slices": slices, "slice_hours": slice_hours,
                "requests": served, "wall_seconds": round(run.wall_seconds, 2), "startup_seconds": round(run.startup_seconds, 2),
                "records_per_second": round(run.records / read_seconds) if read_seconds > 0 else None,
                "max_rss_mb": round(run.max_rss_mb, 1), "other_cpu_percent": round(run.other_cpu_percent),
                "ok": run.ok and run.records == days * per_day, "errors": run.errors[:3],
            })
        return rows

    # -- latency --------------------------------------------------------------------------------------------------

    def latency(self) -> dict:
        """`concurrency: 1` and the default, in `repeat` interleaved rounds; each keeps its fastest run, and the
        state checks of every run count."""
        args = self.args
        slices, per_day = args.latency_slices, args.latency_calls_per_day
        start = self.data_end - timedelta(days=slices)
        report.progress(f"latency: starting an emulator with {args.latency_ms:.0f} ms per request")
        emulator = EmulatorProcess(
            {"start": start.strftime(DATE_FORMAT), "end": self.data_end.strftime(DATE_FORMAT), "calls_per_day": per_day,
             "cc_records_per_day": 0, "latency_ms": args.latency_ms, "warm": ["call_records"]},
            self.server_cpus, self.env, self.args.nice)
        fastest: dict[str, dict] = {}
        failures: list[str] = []
        rounds = max(1, args.repeat)
        try:
            for round_number in range(1, rounds + 1):
                for label, extra in (("1", {"concurrency": 1}), ("default", {})):
                    files = self.files(f"latency-{label}", connector_config(emulator, start, slices, **extra), "call_records")
                    report.progress(f"latency: connector call_records, concurrency {label}, {slices} slices, round {round_number} of {rounds}")
                    run, served = self.measure(emulator, [CONNECTOR, "read", *files], Inspection(*CURSORS["call_records"]))
                    row = {"concurrency": label, "requests": served, "other_cpu_percent": round(run.other_cpu_percent),
                           "startup_seconds": round(run.startup_seconds, 2), "read_seconds": round(run.read_seconds, 2),
                           **state_checks(run, "call_records", slices * per_day)}
                    if not row["ok"]:
                        failures.append(f"concurrency {label}, round {round_number}: {row['errors'][:1] or 'state checks failed'}")
                    if label not in fastest or row["wall_seconds"] < fastest[label]["wall_seconds"]:
                        fastest[label] = row
        finally:
            emulator.stop()
        runs = [fastest["1"], fastest["default"]]
        for row in runs:  # every round's state checks count, not only the fastest run's
            row["ok"] = row["ok"] and not failures
            row["errors"] = row["errors"] + failures
        speedup = runs[0]["wall_seconds"] / runs[1]["wall_seconds"]
        return {"latency_ms": args.latency_ms, "slices": slices, "records_per_slice": per_day, "runs": runs,
                "speedup": round(speedup, 2),
                "speedup_after_startup": round(runs[0]["read_seconds"] / runs[1]["read_seconds"], 2)}

    # -- rate limit -----------------------------------------------------------------------------------------------

    def rate_limits(self) -> dict:
        """A month of call_records (by default) through an emulator that answers 429 beyond its limit; one
        emulator per variant, so that each starts from an empty window."""
        args = self.args
        limit, window = (float(part) for part in args.rate_limit.split("/"))
        days, per_day = args.rate_limit_days, args.rate_limit_calls_per_day
        start = self.data_end - timedelta(days=days)
        variants = [
            ("Retry-After", {"rate_limit_requests": int(limit), "rate_limit_window_s": window}, {}),
            ("no Retry-After", {"rate_limit_requests": int(limit), "rate_limit_window_s": window, "rate_limit_retry_after": False}, {}),
            ("requests_per_minute", {"rate_limit_requests": args.rate_limit_rpm, "rate_limit_window_s": 60.0},
             {"requests_per_minute": args.rate_limit_rpm}),
        ]
        rows = []
        for label, limits, extra in variants:
            report.progress(f"rate limit: connector call_records, {days} days, {limits['rate_limit_requests']} requests per "
                            f"{limits['rate_limit_window_s']:g} s, {label}")
            emulator = EmulatorProcess(
                {"start": start.strftime(DATE_FORMAT), "end": self.data_end.strftime(DATE_FORMAT), "calls_per_day": per_day,
                 "cc_records_per_day": 0, "warm": ["call_records"], **limits},
                self.server_cpus, self.env, self.args.nice)
            try:
                files = self.files(f"rate-limit-{len(rows)}", connector_config(emulator, start, days, **extra), "call_records")
                run, _ = self.measure(emulator, [CONNECTOR, "read", *files])
                counts = emulator.rate_limit_counts()["work_analytics"]
            finally:
                emulator.stop()
            admitted = counts["requests"] - counts["limited"]
            minimum = (math.ceil(admitted / limits["rate_limit_requests"]) - 1) * limits["rate_limit_window_s"]
            rows.append({
                "variant": label, "limit": f"{limits['rate_limit_requests']} / {limits['rate_limit_window_s']:g} s",
                "records": run.records, "expected_records": days * per_day, "requests": counts["requests"],
                "limited": counts["limited"], "limited_until_resumed": counts["limited_until_resumed"],
                "limited_share": round(counts["limited"] / counts["requests"], 3),
                "span_seconds": counts["span_s"], "minimum_seconds": minimum,
                "span_over_minimum": round(counts["span_s"] / minimum, 3) if minimum else None,
                "wall_seconds": round(run.wall_seconds, 2), "other_cpu_percent": round(run.other_cpu_percent),
                "ok": run.ok and run.records == days * per_day, "errors": run.errors[:3],
            })
        return {"days": days, "records_per_day": per_day, "runs": rows}

    # -- all ------------------------------------------------------------------------------------------------------

    def run(self) -> dict:
        args = self.args
        if args.rate_limit_only:
            results = report.header(args, self.pin, CONNECTOR == str(CONNECTOR_ALONE))
            results["machine"]["busy_before_start_percent"] = report.wait_until_quiet(args.wait_quiet)
            began = time.perf_counter()
            results["rate_limit"] = self.rate_limits()
            results["total_seconds"] = round(time.perf_counter() - began, 1)
            report.add_ratios_and_targets(results)
            return results
        per_day = args.calls_per_day
        throughput_days = math.ceil(args.records / per_day)
        memory_days = 0 if args.skip_memory else max(math.ceil(size / per_day) for size in args.memory_sizes)
        days = max(throughput_days, memory_days)
        start = self.data_end - timedelta(days=days)
        throughput_start = self.data_end - timedelta(days=throughput_days)
        cache_mb = max(2048, int(days * per_day * 1.3 / 1000) + 512)  # rendered rows ~1.1 kB each: never evict
        iso = lambda moment: moment.strftime(DATE_FORMAT)  # noqa: E731
        results: dict[str, Any] = report.header(args, self.pin, CONNECTOR == str(CONNECTOR_ALONE))
        results["machine"]["busy_before_start_percent"] = report.wait_until_quiet(args.wait_quiet)
        results["settings"].update({"records_per_day": per_day, "throughput_days": throughput_days, "data_days": days,
                                    "page_size": PAGE_SIZES})
        began = time.perf_counter()
        # Two emulators, one per API, so that each renders only what is read from it: call_records over the
        # longest range (the memory runs), CDRs over the throughput days. Only one of them serves at a time.
        report.progress(f"emulators: generating {days * per_day:,} call records and {throughput_days * per_day:,} CDRs")
        emulators: dict[str, EmulatorProcess] = {}
        try:
            emulators["call_records"] = EmulatorProcess(
                {"start": iso(start), "end": iso(self.data_end), "calls_per_day": per_day, "cc_records_per_day": 0,
                 "cache_mb": cache_mb, "warm": ["call_records"]}, self.server_cpus, self.env, self.args.nice)
            emulators["contact_center_cdrs"] = EmulatorProcess(
                {"start": iso(throughput_start), "end": iso(self.data_end), "calls_per_day": 0, "cc_records_per_day": per_day,
                 "cache_mb": cache_mb, "warm": ["contact_center_cdrs"]}, self.server_cpus, self.env, self.args.nice)
            results["emulator"] = {"warm_seconds": {stream: emulator.info["warm_seconds"] for stream, emulator in emulators.items()}}
            results["throughput"] = self.throughput(emulators, throughput_start, throughput_days, per_day)
            if not args.skip_memory:
                results["memory"] = self.memory(emulators["call_records"], per_day)
        finally:
            for emulator in emulators.values():
                emulator.stop()
        if not args.skip_latency:
            results["latency"] = self.latency()
        if not args.skip_rate_limit:
            results["rate_limit"] = self.rate_limits()
        results["total_seconds"] = round(time.perf_counter() - began, 1)
        report.add_ratios_and_targets(results)
        return results


def throughput_row(variant: str, stream: str, run: ProcessRun, served: int, expected: int) -> dict:
    stats: dict[str, Any] = {}
    if variant == "raw":  # the raw loop times itself, without the interpreter's start-up
        stats = orjson.loads(run.last_other_line or b"{}") if run.returncode == 0 else {}
        stats = {"seconds": 0.0, "records": 0, "cpu_seconds": 0.0, **stats}
        records, read_seconds, cpu = stats["records"], stats["seconds"], stats["cpu_seconds"]
        startup = run.wall_seconds - read_seconds
    else:  # a CDK process: from its first record to its end (start-up is shown apart)
        records, read_seconds, cpu, startup = run.records, run.read_seconds, run.read_cpu_seconds, run.startup_seconds
    return {
        "variant": variant, "stream": stream, "records": records, "expected_records": expected,
        "wall_seconds": round(run.wall_seconds, 2), "startup_seconds": round(startup, 2), "read_seconds": round(read_seconds, 2),
        "records_per_second": round(records / read_seconds) if read_seconds > 0 else 0,
        "client_cpu_seconds": round(cpu, 2), "startup_cpu_seconds": round(run.startup_cpu_seconds, 2) if variant != "raw" else None,
        "client_cpu_us_per_record": round(cpu / records * 1e6, 1) if records else None,
        "emulator_cpu_percent": round(100 * run.emulator_cpu_seconds / read_seconds) if read_seconds > 0 else None,
        "other_cpu_percent": round(run.other_cpu_percent),
        "requests": served, "max_rss_mb": round(run.max_rss_mb, 1),
        "bytes_per_record": round(stats["bytes"] / records) if variant == "raw" and records and "bytes" in stats else None,
        # The connector must emit every record exactly once; the baselines are shown as they are (see README).
        "ok": run.returncode == 0 and not run.errors and (variant != "connector" or records == expected),
        "errors": run.errors[:3] or ([run.stderr_tail[-500:]] if run.returncode else []),
    }


def _state_moment(value: Any) -> Optional[datetime]:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def state_checks(run: ProcessRun, stream: str, expected: int) -> dict:
    """The latency runs' correctness: every record once, states never backwards, final state = max cursor."""
    cursor_field = CURSORS[stream][0]
    values = []
    for state in run.states:
        if state.get("type") == "STREAM" and state["stream"]["stream_descriptor"]["name"] == stream:
            value = (state["stream"].get("stream_state") or {}).get(cursor_field)
            if value is not None:
                values.append(_state_moment(value))
    inspection = run.inspection
    max_cursor = None
    if inspection and inspection.max_cursor is not None:
        max_cursor = datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(inspection.max_cursor))
    if None in values:  # a state value that is not a UTC timestamp: report it, do not guess
        return {"wall_seconds": round(run.wall_seconds, 2), "records": run.records, "expected_records": expected,
                "duplicates": None, "states": len(values), "states_backwards": None, "final_state": None, "max_cursor": None,
                "final_state_is_max_cursor": False, "ok": False, "errors": ["unreadable state value", *run.errors[:2]]}
    backwards = sum(1 for a, b in zip(values, values[1:]) if b < a)
    return {
        "wall_seconds": round(run.wall_seconds, 2), "records": run.records, "expected_records": expected,
        "duplicates": inspection.duplicates if inspection else None,
        "states": len(values), "states_backwards": backwards,
        "final_state": values[-1].strftime(STATE_FORMAT) if values else None,
        "max_cursor": max_cursor.strftime(STATE_FORMAT) if max_cursor else None,
        "final_state_is_max_cursor": bool(values) and max_cursor is not None and values[-1] == max_cursor,
        "ok": run.ok and run.records == expected and backwards == 0 and bool(values) and values[-1] == max_cursor
        and not (inspection and inspection.duplicates),
        "errors": run.errors[:3],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the emulators, remove the files
    bench = Bench(args)
    try:
        results = bench.run()
    finally:
        shutil.rmtree(bench.workdir, ignore_errors=True)
    (report.print_rate_limits_only if args.rate_limit_only else report.print_table)(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2) + b"\n")
    print(f"\nFigures written to {args.output}")
    return 0 if report.all_ok(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
