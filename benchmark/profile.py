"""Where the connector's read spends its time per record: `python -m benchmark.profile [options]`.

Runs `source-8x8-cdr read` of one stream (default call_records, ~200k records) against a warmed emulator in
another process, under a profiler, output to /dev/null, and sums the samples into the stages of the CDK
pipeline (page parse, extractor, filter, normalization, Record creation, queue, cursor observe, message
serialization, stdout write), innermost stage first.

* `--tool py-spy` (default; `pip install py-spy` into .venv, it is not a project dependency): samples every
  thread while it holds the GIL (`--gil`), which is the time that limits a read on one core; low overhead.
* `--tool cprofile`: every thread under its own `cProfile` timed by that thread's CPU clock (so waits on
  locks and sockets do not count), merged; exact call counts (calls per record), but the profiler's own
  overhead inflates small, frequent calls, and stages are guessed from each function's heaviest caller.

Writes `benchmark/results/profile-<stream>.json` (stages, top self and cumulative entries) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pstats
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

import orjson

from benchmark import report
from benchmark.runner import placement
from benchmark.__main__ import CLIENT_CPUS, CONNECTOR, DATE_FORMAT, PYTHON, ROOT, SERVER_CPUS, EmulatorProcess, catalog, connector_config

RESULTS = Path(__file__).resolve().parent / "results"

# Function names (as profilers print them) that open a stage. A sample is charged to the innermost of them on
# its stack, so a datetime parse inside the cursor's observe counts as "cursor observe".
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("start-up: imports", ("_find_and_load",)),
    ("start-up: manifest, streams, config", ("ConcurrentDeclarativeSource.__init__", "ManifestDeclarativeSource.__init__",
                                             "ConcurrentDeclarativeSource.__init__", "SourceEightByEightCdr.__init__",
                                             "_build_source", "AirbyteEntrypoint.parse_args", "ConcurrentDeclarativeSource.streams",
                                             "SourceEightByEightCdr.streams", "ConcurrentDeclarativeSource.discover")),
    ("HTTP: requests/urllib3, auth, error handler", ("HttpClient._send", "HttpClient.send_request")),
    ("page JSON parse", ("parsed_body", "JsonDecoder.decode", "JsonDecoder.parse_body_json")),
    ("extractor", ("JsonPageExtractor.extract_records", "DpathExtractor.extract_records")),
    ("record filter", ("ExactlyOnceSliceFilter.keep", "ExactlyOnceSliceFilter.filter_records", "RecordFilter.filter_records",
                       "ClientSideIncrementalRecordFilterDecorator.filter_records")),
    ("schema normalization", ("RecordSelector._normalize_by_schema", "TypeTransformer.transform")),
    ("record selector, Record creation", ("RecordSelector.filter_and_transform", "RecordSelector.select_records",
                                          "RecordSelector._select_records", "SimpleRetriever._parse_records",
                                          "Record.__init__")),
    ("page JSON lines (worker)", ("records_to_json",)),
    ("retriever loop, partition read", ("SimpleRetriever._read_pages", "SimpleRetriever.read_records", "DeclarativePartition.read",
                              "PagedPartition.read", "PagedPartition._page_of_records",
                              "DefaultPaginator.next_page_token")),
    ("worker: partition reader, queue.put", ("PartitionReader.process_partition",)),
    ("worker: cursor observe", ("ConcurrentCursor.observe",)),
    ("main: AirbyteMessage creation", ("stream_data_to_airbyte_message",)),
    ("main: record counting (entrypoint)", ("AirbyteEntrypoint.handle_record_counts",)),
    ("main: message serialization", ("_message_to_json", "AirbyteEntrypoint.airbyte_message_to_string",
                                     "airbyte_message_to_string")),
    ("main: stdout write", ("PrintBuffer.write", "PrintBuffer.flush", "write_record_lines", "launch")),
    ("main: on_record, rest", ("ConcurrentReadProcessor.on_record", "_page_messages")),
    ("main: state, partition bookkeeping", ("ConcurrentReadProcessor.on_partition_complete_sentinel",
                                            "ConcurrentReadProcessor.on_partition", "ConcurrentCursor.close_partition",
                                            "ConcurrentReadProcessor.on_partition_generation_completed")),
    ("main: queue.get loop", ("ConcurrentSource._consume_from_queue", "ConcurrentSource._handle_item")),
    ("memory monitor", ("MemoryMonitor.check_memory_usage",)),
]
STAGE_OF = {name: stage for stage, names in STAGES for name in names}
# cProfile names functions without their class: the bare names that still say which stage they open.
_GENERIC = {"__init__", "read", "run", "launch", "send_request", "parse", "decode", "read_records", "streams", "discover",
            "transform", "extract_records", "filter_records", "write", "flush", "parse_args"}
_BARE: dict[str, set] = {}
for _stage, _names in STAGES:
    for _name in _names:
        _BARE.setdefault(_name.split(".")[-1], set()).add(_stage)
BARE_STAGE_OF = {name: stages.pop() for name, stages in _BARE.items() if len(stages) == 1 and name not in _GENERIC}
# ... and for the generic ones, the file decides.
FILE_STAGE_OF = {"print_buffer.py": "main: stdout write (PrintBuffer)", "record_selector.py": "record selector, Record creation",
                 "transform.py": "schema normalization", "http_client.py": "HTTP: requests/urllib3, auth, error handler",
                 "dpath_extractor.py": "extractor", "record_filter.py": "record filter",
                 "model_to_component_factory.py": "start-up: manifest, streams, config",
                 "manifest_component_transformer.py": "start-up: manifest, streams, config",
                 "manifest_reference_resolver.py": "start-up: manifest, streams, config"}
STAGE_ORDER = [stage for stage, _ in STAGES] + ["other"]
# Where a frame's file path is cut: installed packages, and this checkout (derived at run time).
_PATH_MARKERS = ("site-packages/", f"{Path(__file__).resolve().parent.parent}/")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame_name(frame: str) -> tuple[str, str]:
    match = _FRAME.match(frame.strip())
    if not match:
        return frame.strip(), ""
    path = match.group("file")
    for marker in _PATH_MARKERS:
        path = path.split(marker)[-1]
    return match.group("function"), path


def stage_of(functions: list[str]) -> str:
    """The stage of a sample: the innermost function on the stack (root first) that opens one."""
    for function in reversed(functions):
        stage = STAGE_OF.get(function)
        if stage:
            return stage
    return "other"


# ---------------------------------------------------------------------------------------------------------------------
# py-spy
# ---------------------------------------------------------------------------------------------------------------------


def summarize_folded(lines: Iterable[str], rate: int, records: int) -> dict[str, Any]:
    """Stages, self and cumulative time from py-spy's raw (collapsed-stack) output."""
    stages: Counter = Counter()
    own: Counter = Counter()
    cumulative: Counter = Counter()
    by_stage: dict[str, Counter] = {}
    total = 0
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [_frame_name(frame) for frame in stack.split(";") if frame.strip()]
        functions = [function for function, _ in frames]
        labels = [f"{function} ({path})" if path else function for function, path in frames]
        stage = stage_of(functions)
        stages[stage] += n
        own[labels[-1]] += n
        by_stage.setdefault(stage, Counter())[labels[-1]] += n
        for label in set(labels):
            cumulative[label] += n
    return _summary(stages, own, cumulative, total / rate, total, records, unit="samples", by_stage=by_stage)


def _summary(stages: Counter, own: Counter, cumulative: Counter, seconds: float, total: float, records: int, unit: str,
             by_stage: Optional[dict[str, Counter]] = None) -> dict[str, Any]:
    def share(value: float) -> dict[str, Any]:
        part = seconds * value / total if total else 0.0
        return {"percent": round(100 * value / total, 1) if total else 0.0, "seconds": round(part, 3),
                "us_per_record": round(part / records * 1e6, 2) if records else None}

    startup = sum(value for stage, value in stages.items() if stage.startswith("start-up"))
    read = seconds * (total - startup) / total if total else 0.0
    return {
        "profiled_seconds": round(seconds, 2), "records": records, "unit": unit,
        "startup_seconds": round(seconds - read, 2), "read_seconds": round(read, 2),
        "us_per_record_total": round(read / records * 1e6, 2) if records else None,
        "stages": [{"stage": stage, **share(stages[stage]),
                    "top_self": [{"function": name, **share(value)} for name, value in (by_stage or {}).get(stage, Counter()).most_common(4)]}
                   for stage in STAGE_ORDER if stages.get(stage)],
        "top_self": [{"function": name, **share(value)} for name, value in own.most_common(30)],
        "top_cumulative": [{"function": name, **share(value)} for name, value in cumulative.most_common(45)],
    }


# ---------------------------------------------------------------------------------------------------------------------
# cProfile: every thread, merged
# ---------------------------------------------------------------------------------------------------------------------

CPROFILE_WRAPPER = r'''
import cProfile, sys, threading, time
out = sys.argv.pop(1)
profiles = []
def profiled(run):
    def wrapper(self):
        profile = cProfile.Profile(time.thread_time); profiles.append(profile); profile.enable()
        try:
            run(self)
        finally:
            profile.disable()
    return wrapper
threading.Thread.run = profiled(threading.Thread.run)
main = cProfile.Profile(time.thread_time); profiles.append(main)
sys.argv[0] = "source-8x8-cdr"
main.enable()
try:
    from source_8x8_cdr.run import run
    run()
finally:
    main.disable()
    import pstats
    stats = pstats.Stats(profiles[0])
    for profile in profiles[1:]:
        try:
            stats.add(profile)
        except TypeError:
            pass
    stats.dump_stats(out)
'''


def summarize_pstats(path: Path, records: int) -> dict[str, Any]:
    stats = pstats.Stats(str(path))
    entries = stats.stats  # type: ignore[attr-defined]  # {(file, line, name): (cc, nc, tt, ct, callers)}

    def label(key: tuple) -> str:
        file, _, name = key
        for marker in _PATH_MARKERS:
            file = file.split(marker)[-1]
        return f"{name} ({file})"

    own = Counter({label(key): value[2] for key, value in entries.items()})
    cumulative = Counter({label(key): value[3] for key, value in entries.items()})
    calls = {label(key): value[1] for key, value in entries.items()}
    total = sum(own.values())
    # Stages from the call graph are not exact with cProfile (no stacks); charge each function's own time to
    # the stage of its name or, failing that, of its most expensive caller chain, looked up a few levels.
    by_name = {}
    for key, value in entries.items():
        by_name.setdefault(key, value)

    def stage_for(key: tuple, depth: int = 0) -> str:
        file, name = key[0], key[2]
        if name in BARE_STAGE_OF:
            return BARE_STAGE_OF[name]
        if name.startswith("<module>") or name == "_find_and_load":
            return "start-up: imports"
        for suffix, stage in FILE_STAGE_OF.items():
            if file.endswith(suffix):
                return stage
        if file.endswith(("components/filtering.py", "components/timeutil.py")) and name in ("filter_records", "keep", "cursor_moment", "_slice_state"):
            return "record filter"
        if file.endswith("components/extraction.py") and name == "extract_records":
            return "extractor"
        if depth > 12:
            return "other"
        callers = entries.get(key, (0, 0, 0, 0, {}))[4]
        if not callers:
            return "other"
        heaviest = max(callers.items(), key=lambda item: item[1][3] if len(item[1]) > 3 else 0)[0]
        return stage_for(heaviest, depth + 1)

    stages: Counter = Counter()
    by_stage: dict[str, Counter] = {}
    for key, value in entries.items():
        stage = stage_for(key)
        stages[stage] += value[2]
        by_stage.setdefault(stage, Counter())[label(key)] += value[2]
    summary = _summary(stages, own, cumulative, total, total, records, unit="thread CPU seconds (cProfile, inflated)",
                       by_stage=by_stage)
    for row in summary["top_self"] + summary["top_cumulative"]:
        row["calls_per_record"] = round(calls.get(row["function"], 0) / records, 3) if records else None
    return summary


# ---------------------------------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmark.profile", description=__doc__.split("\n\n")[0])
    p.add_argument("--stream", choices=("call_records", "contact_center_cdrs"), default="call_records")
    p.add_argument("--records", type=int, default=200_000)
    p.add_argument("--calls-per-day", type=int, default=33_334)
    p.add_argument("--tool", choices=("py-spy", "cprofile"), default="py-spy")
    p.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    p.add_argument("--nice", type=int, default=-20 if os.geteuid() == 0 else 0, help="niceness (see python -m benchmark --help)")
    p.add_argument("--output", type=Path)
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if args.tool == "py-spy" and not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: `.venv/bin/pip install py-spy`, or use --tool cprofile")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    pin = len(os.sched_getaffinity(0)) >= 2
    days = math.ceil(args.records / args.calls_per_day)
    end = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    start = end - timedelta(days=days)
    workdir = Path(tempfile.mkdtemp(prefix="bench-8x8-profile-"))
    report.progress(f"emulator: generating {days * args.calls_per_day:,} records of {args.stream}")
    emulator = EmulatorProcess(
        {"start": start.strftime(DATE_FORMAT), "end": end.strftime(DATE_FORMAT), "calls_per_day": args.calls_per_day,
         "cc_records_per_day": args.calls_per_day, "warm": [args.stream]},
        SERVER_CPUS if pin else None, env, args.nice)
    try:
        (workdir / "config.json").write_text(json.dumps(connector_config(emulator, start, days)))
        (workdir / "catalog.json").write_text(json.dumps(catalog(args.stream)))
        files = ["--config", str(workdir / "config.json"), "--catalog", str(workdir / "catalog.json")]
        records = days * args.calls_per_day
        began = time.perf_counter()
        report.progress(f"profiling: {args.tool} on source-8x8-cdr read of {args.stream}")
        if args.tool == "py-spy":
            folded = workdir / "profile.folded"
            command = [py_spy, "record", "--gil", "--rate", str(args.rate), "--format", "raw", "--output", str(folded),
                       "--nonblocking", "--", CONNECTOR, "read", *files]
        else:
            (workdir / "wrapper.py").write_text(CPROFILE_WRAPPER)
            folded = workdir / "profile.pstats"
            command = [PYTHON, str(workdir / "wrapper.py"), str(folded), "read", *files]
        preexec = placement(CLIENT_CPUS if pin else None, args.nice)
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=preexec)
        wall = time.perf_counter() - began
        if done.returncode != 0 or not folded.exists():
            raise SystemExit(f"the profiled read failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
        if args.tool == "py-spy":
            with folded.open() as lines:
                summary = summarize_folded(lines, args.rate, records)
        else:
            summary = summarize_pstats(folded, records)
    finally:
        emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    summary = {"stream": args.stream, "tool": args.tool, "wall_seconds": round(wall, 2), **report.header_for_profile(), **summary}
    output = args.output or RESULTS / f"profile-{args.stream}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    print_profile(summary)
    print(f"\nProfile written to {output}")
    return 0


def print_profile(summary: dict[str, Any]) -> None:
    print(f"\n{summary['tool']} profile of `source-8x8-cdr read` {summary['stream']}: {summary['records']:,} records, "
          f"wall {summary['wall_seconds']} s (profiler included), {summary['profiled_seconds']} s profiled: "
          f"start-up {summary['startup_seconds']} s, then {summary['us_per_record_total']} us per record")
    calls = "calls_per_record" in (summary["top_self"] or [{}])[0]
    print("\nStages (each sample charged to the innermost stage on its stack); heaviest own-time functions in each")
    print(report.table(["stage", "%", "us/record", "mostly in"],
                       [[s["stage"], s["percent"], s["us_per_record"],
                         ", ".join(f"{t['function'].split(' (')[0]} {t['us_per_record']}" for t in s["top_self"][:3])]
                        for s in summary["stages"]]))
    for title, key in (("Top self time", "top_self"), ("Top cumulative time", "top_cumulative")):
        print(f"\n{title}")
        headers = ["function", "%", "us/record"] + (["calls/record"] if calls else [])
        rows = [[row["function"][:110], row["percent"], row["us_per_record"]] + ([row["calls_per_record"]] if calls else [])
                for row in summary[key][:25]]
        print(report.table(headers, rows))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
