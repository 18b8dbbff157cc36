"""The demo end to end: `python -m demo` against a small emulated account, into a temporary DuckDB.

The demo runs once per session, shared by the pytest-xdist workers, as `python3 dev.py demo` runs it:
a subprocess with PYTHONPATH at the repository root. The tests then compare what it printed and what it
stored with the emulator's ground truth, computed here from the same plan (days, volume and seed).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from statistics import mean
from typing import Iterator
from urllib.parse import quote, quote_plus

import duckdb
import pytest

from demo import emulated
from demo.streams import STREAMS
from demo.summary import minutes_seconds
from emulator import Emulator
from integration_tests.test_reads_emulator import cursor_moment

ROOT = Path(__file__).resolve().parents[1]
DAYS = 2
CALLS_PER_DAY = 120
INCREMENTAL = [info for info in STREAMS if info.incremental]
REFERENCE = [info for info in STREAMS if not info.incremental]


@dataclass
class DemoRun:
    returncode: int
    stdout: str
    stderr: str
    db: Path
    logs: Path
    plan: emulated.Plan


@dataclass
class GroundTruth:
    at_first_run: dict[str, set[str]]
    at_second_run: dict[str, set[str]]
    rows_at_second_run: dict[str, list[dict]]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _demo(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "demo", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "CI": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _run_demo(out: Path) -> None:
    """Runs the demo into `out` and records what it printed, and the day it ran for, in `out/run.json`."""
    out.mkdir(parents=True, exist_ok=True)
    plan = emulated.plan(DAYS, CALLS_PER_DAY)
    done = _demo("--db", str(out / "cache.duckdb"), "--days", str(DAYS), "--calls-per-day", str(CALLS_PER_DAY))
    crossed_midnight = emulated.plan(DAYS, CALLS_PER_DAY) != plan
    result = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
              "today": plan.end.isoformat(), "crossed_midnight": crossed_midnight}
    (out / "run.json").write_text(json.dumps(result))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """The demo, run once per test session even when pytest-xdist splits this module over workers."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common parent
    out = shared / "demo-run"
    with _exclusive(shared / "demo-run.lock"):
        if not (out / "run.json").exists():
            _run_demo(out)
    result = json.loads((out / "run.json").read_text())
    if result["crossed_midnight"]:
        pytest.skip("the demo ran across UTC midnight, so its days differ from the plan computed here")
    plan = emulated.plan(DAYS, CALLS_PER_DAY, today=datetime.fromisoformat(result["today"]))
    return DemoRun(result["returncode"], result["stdout"], result["stderr"], out / "cache.duckdb", out / "logs", plan)


@pytest.fixture(scope="session")
def ground_truth(demo_run: DemoRun) -> GroundTruth:
    plan = demo_run.plan
    with Emulator(emulated.emulator_config(plan)) as emu:
        first = {info.name: emulated.served_keys(emu, plan, info.name, info.primary_key) for info in STREAMS}
        emu.set_now(plan.second_run_at)
        rows = {info.name: emulated.served_rows(emu, plan, info.name) for info in STREAMS}
    second = {info.name: {str(row[info.primary_key]) for row in rows[info.name]} for info in STREAMS}
    return GroundTruth(first, second, rows)


def _run_2_row(stdout: str, stream: str) -> dict[str, int]:
    """The numbers of `stream` in the table under "What run 2 took"."""
    table = stdout.split("What run 2 took:", 1)[1]
    match = re.search(rf"^\s+{stream}\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)", table, re.MULTILINE)
    assert match, f"no row for {stream} in:\n{table}"
    read, new, reread, cached = (int(group.replace(",", "")) for group in match.groups())
    return {"read": read, "new": new, "re-read": reread, "in cache": cached}


def _table(stdout: str, title: str) -> list[list[str]]:
    """The cells of the last table printed under `title` (cells are at least two spaces apart)."""
    lines = stdout.rsplit(f"{title}:", 1)[1].splitlines()[3:]  # after the title, the header and its rule
    rows = []
    for line in lines:
        if not line.startswith("  ") or not line.strip():
            break
        rows.append(re.split(r"\s{2,}", line.strip()))
    return rows


def _as_cached(stream: str, row: dict) -> datetime:
    """A record's cursor as PyAirbyte's DuckDB cache holds it: the instant in UTC, without a zone (`startTimeUTC`
    as epoch milliseconds; the CDR `timestamp` as the connector emits it, in UTC, into a `TIMESTAMP` column:
    docs/8x8-cdr.md, "Loading with PyAirbyte")."""
    return cursor_moment(stream, row).astimezone(timezone.utc).replace(tzinfo=None)


def _expected_days(truth: GroundTruth) -> list[list[str]]:
    """The demo's per-day table, computed from the emulator's rows: calls and talk time (of the calls that
    talked) by UTC day of `startTimeUTC`, CDRs and their cost by the UTC day of `timestamp`."""
    talk: dict[str, list[int]] = defaultdict(list)
    calls: dict[str, int] = defaultdict(int)
    for row in truth.rows_at_second_run["call_records"]:
        day = cursor_moment("call_records", row).date().isoformat()
        calls[day] += 1
        if int(row["talkTimeMS"]) > 0:
            talk[day].append(int(row["talkTimeMS"]))
    costs: dict[str, list[Decimal]] = defaultdict(list)
    for row in truth.rows_at_second_run["contact_center_cdrs"]:
        costs[_as_cached("contact_center_cdrs", row).date().isoformat()].append(Decimal(str(row["cpc"])))
    return [
        [day, f"{calls[day]:,}", minutes_seconds(mean(talk[day])) if talk[day] else "-", f"{len(costs[day]):,}",
         f"{float(mean(costs[day])):.4f}" if costs[day] else "-"]
        for day in sorted(calls.keys() | costs.keys())
    ]


class TestDemo:
    def test_given_an_emulated_account_when_the_demo_runs_then_it_exits_0_and_prints_each_part(self, demo_run: DemoRun) -> None:
        assert demo_run.returncode == 0, demo_run.stdout + demo_run.stderr
        for part in (
            "Run 1: the first sync",
            "Records in the cache",
            "Most common values",
            "State saved per stream",
            "Run 2: incremental",
            "What run 2 took",
            "Check: the cache holds exactly the",
        ):
            assert part in demo_run.stdout

    def test_given_the_manifest_when_the_demo_reads_the_catalog_then_it_uses_the_declared_primary_keys(self, demo_run: DemoRun) -> None:
        assert "declares primary key" not in demo_run.stderr
        assert "warning" not in demo_run.stderr.lower()

    def test_given_two_runs_when_done_then_duckdb_holds_exactly_the_emulators_records(self, demo_run: DemoRun, ground_truth: GroundTruth) -> None:
        with duckdb.connect(str(demo_run.db), read_only=True) as db:
            tables = {row[0] for row in db.sql("SHOW TABLES").fetchall()}
            assert {info.name for info in STREAMS} | {"_airbyte_state"} <= tables
            for info in STREAMS:
                keys = [str(row[0]) for row in db.sql(f'SELECT "{info.key_column}" FROM "{info.name}"').fetchall()]
                assert len(keys) == len(set(keys)), f"{info.name} has duplicate primary keys"
                assert set(keys) == ground_truth.at_second_run[info.name], info.name

    def test_given_three_hours_of_new_calls_when_run_2_reads_then_it_reports_them_as_new(self, demo_run: DemoRun, ground_truth: GroundTruth) -> None:
        for info in INCREMENTAL:
            row = _run_2_row(demo_run.stdout, info.name)
            expected_new = ground_truth.at_second_run[info.name] - ground_truth.at_first_run[info.name]
            assert row["new"] == len(expected_new) > 0, info.name
            assert row["re-read"] > 0, f"{info.name}: the lookback window re-read nothing"
            assert row["read"] == row["new"] + row["re-read"]
            assert row["in cache"] == len(ground_truth.at_second_run[info.name])

    def test_given_reference_lists_when_run_2_reads_them_whole_then_nothing_is_new(self, demo_run: DemoRun, ground_truth: GroundTruth) -> None:
        for info in REFERENCE:
            row = _run_2_row(demo_run.stdout, info.name)
            assert row["new"] == 0 and row["read"] == row["re-read"] == len(ground_truth.at_second_run[info.name])

    def test_given_typed_columns_when_the_demo_sums_up_each_day_then_calls_talk_time_cdrs_and_cost_are_the_emulators(self, demo_run: DemoRun, ground_truth: GroundTruth) -> None:
        days = _table(demo_run.stdout, "Calls and contact-center CDRs per day (talk time averaged over the calls that talked)")
        assert days == _expected_days(ground_truth)

    def test_given_cdr_timestamps_with_offsets_when_the_demo_shows_the_cursor_range_then_it_is_the_cached_values(self, demo_run: DemoRun, ground_truth: GroundTruth) -> None:
        shown = {row[0]: row[3:5] for row in _table(demo_run.stdout, "Records in the cache now")}
        for info in INCREMENTAL:
            moments = [_as_cached(info.name, row) for row in ground_truth.rows_at_second_run[info.name]]
            expected = [min(moments).strftime("%Y-%m-%d %H:%M:%S"), max(moments).strftime("%Y-%m-%d %H:%M:%S")]
            assert shown[info.name] == expected, info.name

    def test_given_incremental_streams_when_done_then_their_state_is_saved_in_the_cache(self, demo_run: DemoRun) -> None:
        with duckdb.connect(str(demo_run.db), read_only=True) as db:
            saved = dict(db.sql("SELECT stream_name, state_json FROM _airbyte_state").fetchall())
        for info in INCREMENTAL:
            assert f'"{info.cursor}"' in saved[info.name], saved.get(info.name)

    def test_given_the_extension_summaries_when_done_then_the_busiest_extension_is_the_emulators_with_its_sums(self, demo_run: DemoRun) -> None:
        plan = demo_run.plan
        with Emulator(emulated.emulator_config(plan)) as emu:
            emu.set_now(plan.second_run_at)
            rows = emu.ground_truth("work_analytics_extension_daily", plan.start, plan.end)
        calls: dict[tuple, list[int]] = {}
        for row in rows:
            sums = calls.setdefault((row["PbxId"], row["Extension"], f"{row['FirstName']} {row['LastName']}"), [0, 0])
            sums[0] += row["Inbound_Total"]
            sums[1] += row["Outbound_Total"]
        (pbx, extension, name), (inbound, outbound) = min(calls.items(), key=lambda item: (-sum(item[1]), item[0]))
        table = demo_run.stdout.split("Busiest extensions over the synced days", 1)[1]
        first_row = table.splitlines()[3].split()
        assert first_row[:2] == [pbx, extension] and " ".join(first_row[2:-6]) == name
        assert [int(value.replace(",", "")) for value in first_row[-6:-3]] == [DAYS, inbound, outbound]

    def test_given_the_emulators_credentials_when_the_demo_ran_then_no_output_or_log_contains_them(self, demo_run: DemoRun) -> None:
        settings = emulated.emulator_config(demo_run.plan)
        secrets = [settings.wa_api_key, settings.wa_password, settings.cc_api_key]
        forms = {form for secret in secrets for form in (secret, quote(secret, safe=""), quote_plus(secret))}
        logs = [path.read_text(errors="replace") for path in demo_run.logs.rglob("*") if path.is_file()]
        assert logs, "PyAirbyte wrote no log files next to the cache"
        for text in (demo_run.stdout, demo_run.stderr, *logs):
            leaked = [form for form in forms if form in text]
            assert not leaked, f"a secret appears in the demo's output or logs: {text[:200]!r}"


class TestDemoArguments:
    """Mistakes caught before PyAirbyte or the emulator start: each takes a fraction of a second."""

    def test_given_a_config_that_is_not_json_when_the_demo_starts_then_it_says_so_and_exits_1(self, tmp_path: Path) -> None:
        config = tmp_path / "config.json"
        config.write_text('{"start_date": ')
        done = _demo("--config", str(config), "--db", str(tmp_path / "cache.duckdb"), timeout=60)
        assert done.returncode == 1
        assert f"could not read the config {config} as JSON" in done.stderr

    def test_given_a_db_path_that_is_not_duckdb_when_the_demo_starts_then_it_leaves_the_file_alone(self, tmp_path: Path) -> None:
        precious = tmp_path / "notes.txt"
        precious.write_text("not a database")
        done = _demo("--db", str(precious), timeout=60)
        assert done.returncode == 1 and "is not a DuckDB file" in done.stderr
        assert precious.read_text() == "not a database"

    def test_given_calls_per_day_with_a_config_when_parsed_then_it_is_refused(self, tmp_path: Path) -> None:
        done = _demo("--config", str(tmp_path / "config.json"), "--calls-per-day", "10", timeout=60)
        assert done.returncode == 2 and "--calls-per-day is for the emulator" in done.stderr
