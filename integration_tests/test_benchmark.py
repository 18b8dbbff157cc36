"""The benchmark (`python -m benchmark`) still runs end to end, at toy sizes: every reader reads the exact count.

Its figures are not asserted (timed tests prove nothing on a shared machine); this keeps the command, its
readers and its checks working as the connector changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_given_toy_sizes_when_the_benchmark_runs_then_every_run_reads_the_exact_records_and_the_figures_are_written(tmp_path: Path) -> None:
    output = tmp_path / "bench.json"
    args = [
        sys.executable, "-m", "benchmark", "--records", "3000", "--calls-per-day", "1000", "--memory-sizes", "1000,3000",
        "--latency-slices", "3", "--latency-calls-per-day", "50", "--latency-ms", "20", "--no-pin", "--nice", "0",
        "--skip-rate-limit",  # a minute at least (a per-minute limit must wait for its minute): `test_rate_limits_emulator.py`
        "--output", str(output),
    ]

    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(output.read_text())
    variants = {(row["variant"], row["stream"]) for row in results["throughput"]}
    assert variants == {("raw", "call_records"), ("cdk_default", "call_records"), ("connector", "call_records"),
                        ("raw", "contact_center_cdrs"), ("connector", "contact_center_cdrs")}
    assert [row["records"] for row in results["memory"]] == [1000, 3000]
    assert {run["concurrency"] for run in results["latency"]["runs"]} == {"1", "default"}
    assert "connector / raw, call_records" in done.stdout and "Figures written to" in done.stdout
