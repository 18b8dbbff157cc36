"""`python -m demo`: two syncs into DuckDB, and a summary of what each one did.

With no `--config`, an emulated account (see `emulated.py`) serves the last `--days` whole days;
with `--config`, the account that config points at. Either way: run 1 reads everything from
`start_date`, run 2 is incremental, and the summary after each run comes from the DuckDB cache.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Optional, Sequence

from demo import busiest, offline, summary
from demo.output import Console, DemoError
from source_8x8_cdr.secrets import config_secrets

if TYPE_CHECKING:  # `demo.sync` imports PyAirbyte, which may only happen after `offline.prepare()`
    from demo.sync import DemoSync, SyncRun

DEFAULT_DB = Path("demo_output/8x8_cdr.duckdb")
DEFAULT_DAYS = 7
DEFAULT_CALLS_PER_DAY = 2000
DEFAULT_LOOKBACK_MINUTES = 60  # the connector's default
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of a DuckDB database file


def parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 dev.py demo",
        description="Sync 8x8 calls and contact-center CDRs into DuckDB with PyAirbyte, twice (full, then "
        "incremental), and summarise each run. Without --config, a local emulator plays both APIs.",
    )
    parser.add_argument("--config", type=Path, help="a connector config (JSON) for a real account; no emulator then")
    parser.add_argument(
        "--db", type=Path, default=DEFAULT_DB,
        help=f"the DuckDB file, replaced on each run (default: {DEFAULT_DB}); PyAirbyte's logs go to logs/ beside it",
    )
    parser.add_argument(
        "--days", type=int,
        help=f"the emulator holds the last N whole days before today (default: {DEFAULT_DAYS}); "
        "with --config, start_date becomes N days before today",
    )
    parser.add_argument(
        "--calls-per-day", type=int,
        help=f"emulator only: calls, and as many contact-center records, per day (default: {DEFAULT_CALLS_PER_DAY:,})",
    )
    args = parser.parse_args(argv)
    if args.days is not None and not 1 <= args.days <= 730:
        parser.error("--days must be between 1 and 730 (Work Analytics keeps two years)")
    if args.calls_per_day is not None and args.config:
        parser.error("--calls-per-day is for the emulator; with --config the account's own calls are read")
    if args.calls_per_day is not None and not 0 <= args.calls_per_day <= 100_000:
        parser.error("--calls-per-day must be between 0 and 100,000")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    console = Console()
    started = time.monotonic()
    try:
        _replace_database(args.db)
        offline.prepare(args.db.parent / "logs")
        streams = _against_account(console, args) if args.config else _against_emulator(console, args)
    except DemoError as error:
        console.problem(f"\nThe demo failed: {error}")
        if error.details.strip():
            console.problem("\nPyAirbyte's output:\n" + "\n".join(error.details.strip().splitlines()[-30:]))
        if (args.db.parent / "logs").is_dir():
            console.problem(f"Logs: {args.db.parent / 'logs'}")
        return 1
    except KeyboardInterrupt:
        console.problem("\nInterrupted.")
        return 130
    _farewell(console, args.db, streams, time.monotonic() - started)
    return 0


# -- the two sources of data ---------------------------------------------------------------------------------


def _against_emulator(console: Console, args: argparse.Namespace) -> list[str]:
    from emulator import Emulator

    from demo import emulated
    from demo.sync import DemoSync

    calls_per_day = DEFAULT_CALLS_PER_DAY if args.calls_per_day is None else args.calls_per_day
    plan = emulated.plan(args.days or DEFAULT_DAYS, calls_per_day)
    _intro(console, args.db, [
        ("data", f"an emulated account: {_plural(plan.days, 'day')}, {_when(plan.start)} to {_when(plan.end)} UTC"),
        ("volume", f"{calls_per_day:,} calls and {calls_per_day:,} contact-center records a day (seed {plan.seed})"),
    ])
    with Emulator(emulated.emulator_config(plan)) as emu:
        config = emulated.connector_config(emu, plan, plan.first_run_at)
        console.add_secrets(config_secrets(config))
        with DemoSync(config, args.db, console) as sync:
            story = TwoRuns(console, sync, emulated.LOOKBACK_MINUTES)
            first = story.first_run(f"Run 1: the first sync, at {_when(plan.first_run_at)} UTC by the emulator's clock")
            emu.set_now(plan.second_run_at)
            sync.set_config(emulated.connector_config(emu, plan, plan.second_run_at))
            hours = emulated.HOURS_BETWEEN_RUNS
            second = story.second_run(f"Run 2: incremental, {hours} hours later ({_when(plan.second_run_at)} UTC)", first)
            _check_against_emulator(console, emu, plan, second)
    return list(second)


def _against_account(console: Console, args: argparse.Namespace) -> list[str]:
    from demo.sync import DemoSync

    config = _load_config(args.config)
    console.add_secrets(config_secrets(config))
    if args.days:
        midnight = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        config["start_date"] = (midnight - timedelta(days=args.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    _intro(console, args.db, [
        ("config", str(args.config)),
        ("APIs", ", ".join(_api_descriptions(config)) or "none configured"),
        ("range", f"from {config.get('start_date')} to {config.get('end_date') or 'now'}"),
    ])
    with DemoSync(config, args.db, console) as sync:
        console.line()
        console.line("Checking the connection ...")
        sync.check()
        console.line("  OK")
        story = TwoRuns(console, sync, int(config.get("lookback_window_minutes", DEFAULT_LOOKBACK_MINUTES)))
        first = story.first_run("Run 1: the first sync")
        second = story.second_run("Run 2: incremental, straight after run 1", first)
    return list(second)


# -- the story: two runs ------------------------------------------------------------------------------------


class TwoRuns:
    """Runs the syncs and prints what each one did, from snapshots of the cache."""

    def __init__(self, console: Console, sync: "DemoSync", lookback_minutes: int) -> None:
        self.console, self.sync, self.lookback_minutes = console, sync, lookback_minutes

    def _run(self, title: str) -> tuple["SyncRun", summary.Snapshot]:
        self.console.heading(title)
        run = self.sync.run()
        self.console.line(
            f"  Read {run.records:,} records from {len(run.read_counts)} streams in {run.seconds:.1f} s "
            f"(reading {run.reading_seconds:.1f} s, writing to DuckDB {run.writing_seconds:.1f} s)."
        )
        snapshot = summary.take_snapshot(self.sync.cache, self.sync.source.name, self.sync.streams)
        for warning in summary.duplicate_warnings(snapshot):
            self.console.problem(f"warning: {warning}")
        return run, snapshot

    def first_run(self, title: str) -> summary.Snapshot:
        _, snapshot = self._run(title)
        self._section(
            "Records in the cache (cursor: call start for Work Analytics, interaction end for CDRs)",
            summary.records_table(snapshot),
        )
        self._section("Most common values", summary.top_values_table(snapshot))
        self._section(
            "State saved per stream (the next sync starts there, minus the lookback)", summary.state_table(snapshot)
        )
        return snapshot

    def second_run(self, title: str, before: summary.Snapshot) -> summary.Snapshot:
        run, after = self._run(title)
        self._section("What run 2 took", summary.increment_table(before, after, run.read_counts))
        new = sum(summary.new_record_counts(before, after).values())
        self.console.lines([
            f"{new:,} new records: their primary key was not in the cache before this run.",
            f"Re-read: already cached, read again because an incremental sync starts {self.lookback_minutes} minutes",
            "before the saved state (lookback_window_minutes): a call is listed only once it ends, but is keyed",
            "by its start. The cache merged them on the primary key; the reference lists are read whole each run.",
        ])
        self._section("Records in the cache now", summary.records_table(after))
        self._section(
            "Calls and contact-center CDRs per day (talk time averaged over the calls that talked)",
            summary.daily_table(summary.take_daily(self.sync.cache, self.sync.streams)),
        )
        self._section(
            f"Busiest extensions over the synced days ({busiest.TABLE}: 8x8's daily summaries, summed)",
            busiest.busiest_extensions_table(self.sync.cache),
        )
        return after

    def _section(self, title: str, lines: list[str]) -> None:
        if lines:
            self.console.line()
            self.console.line(title + ":")
            self.console.lines(lines)


def _check_against_emulator(console: Console, emu: Any, plan: Any, snapshot: summary.Snapshot) -> None:
    """Compares the cached primary keys with what the emulator serves; a difference fails the demo."""
    from demo import emulated

    problems = []
    for name, cached in snapshot.items():
        served = emulated.served_keys(emu, plan, name, cached.info.primary_key)
        missing, extra = served - cached.keys, cached.keys - served
        if missing or extra:
            problems.append(f"{name}: {len(missing):,} served records missing from the cache, {len(extra):,} extra")
    console.line()
    if problems:
        raise DemoError("the cache differs from what the emulator serves:\n  " + "\n  ".join(problems))
    total = sum(len(s.keys) for s in snapshot.values())
    console.line(
        f"Check: the cache holds exactly the {total:,} records the emulator serves, in all {len(snapshot)} streams."
    )


# -- small helpers ------------------------------------------------------------------------------------------


def _replace_database(path: Path) -> None:
    """Starts from an empty cache: removes `path` if it is a DuckDB file, refuses any other file."""
    if path.exists():
        with path.open("rb") as handle:
            if handle.read(12)[8:12] != DUCKDB_MAGIC:
                raise DemoError(f"{path} exists and is not a DuckDB file; choose another --db.")
        path.unlink()
    Path(f"{path}.wal").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)


def _load_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise DemoError(f"could not read the config {path} as JSON ({type(error).__name__}).") from None
    if not isinstance(config, dict):
        raise DemoError(f"the config {path} must be a JSON object.")
    return config


def _api_descriptions(config: Mapping[str, Any]) -> list[str]:
    described = []
    if config.get("work_analytics"):
        block = config["work_analytics"]
        pbxes = ", ".join(block.get("pbx_ids") or []) or "all PBXes"
        base_url = block.get("base_url") or "https://api.8x8.com/analytics/work"
        described.append(f"Work Analytics ({base_url}, {pbxes})")
    if config.get("contact_center"):
        described.append(f"contact center ({config['contact_center'].get('base_url')})")
    return described


def _intro(console: Console, db: Path, facts: list[tuple[str, str]]) -> None:
    console.line("8x8 CDR demo: source-8x8-cdr -> PyAirbyte -> DuckDB")
    for label, text in [*facts, ("cache", str(db)), ("logs", str(db.parent / "logs"))]:
        console.line(f"  {label:<7} {text}")


def _farewell(console: Console, db: Path, streams: list[str], seconds: float) -> None:
    console.line()
    console.line(f"Done in {seconds:.0f} s. Tables in {db}: {', '.join(streams)}; PyAirbyte's state is in _airbyte_state.")
    if streams:
        query = f"SELECT count(*) FROM {streams[0]}"
        command = f"import duckdb; duckdb.connect('{db}', read_only=True).sql('{query}').show()"
        console.line(f'Look inside: .venv/bin/python -c "{command}"')


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
