"""The emulated account: which days it holds, when each sync runs, and what the emulator serves.

The emulator holds the last `days` whole UTC days before today, inside Work Analytics' two-year
retention. Its clock is frozen: run 1 happens at 21:00 UTC on the last day, run 2 at midnight, three
hours later. Calls that started or ended in between are new to run 2; calls started in the last
`LOOKBACK_MINUTES` before run 1 are read again by run 2 (the lookback), which is how a call that was
still going on at 21:00 (listed only once it ends, but keyed by its start) gets picked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from emulator import Emulator, EmulatorConfig

SEED = 42
HOURS_BETWEEN_RUNS = 3
LOOKBACK_MINUTES = 120  # the emulator's longest calls last two hours
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class Plan:
    """The emulated account's data range and the emulator-clock time of each run."""

    start: datetime  # 00:00 UTC on the first day
    end: datetime  # 00:00 UTC today: data covers [start, end); run 2 happens here
    calls_per_day: int
    seed: int = SEED

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def first_run_at(self) -> datetime:
        return self.end - timedelta(hours=HOURS_BETWEEN_RUNS)

    @property
    def second_run_at(self) -> datetime:
        return self.end


def plan(days: int, calls_per_day: int, today: Optional[datetime] = None) -> Plan:
    """The last `days` whole UTC days before `today` (default: now)."""
    midnight = (today or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return Plan(start=midnight - timedelta(days=days), end=midnight, calls_per_day=calls_per_day)


def emulator_config(plan: Plan) -> EmulatorConfig:
    """Both APIs, `calls_per_day` calls and as many contact-center records a day, clock at run 1."""
    return EmulatorConfig(
        seed=plan.seed,
        start=plan.start,
        end=plan.end,
        now=plan.first_run_at,
        calls_per_day=plan.calls_per_day,
        cc_records_per_day=plan.calls_per_day,
    )


def connector_config(emu: Emulator, plan: Plan, run_at: datetime) -> dict[str, Any]:
    """The connector config a user of the emulated account would write, syncing up to `run_at`."""
    credentials = emu.credentials
    return {
        "start_date": plan.start.strftime(DATE_FORMAT),
        "end_date": run_at.strftime(DATE_FORMAT),
        "lookback_window_minutes": LOOKBACK_MINUTES,
        "work_analytics": {
            "api_key": credentials["wa_api_key"],
            "username": credentials["wa_username"],
            "password": credentials["wa_password"],
            "base_url": emu.work_analytics_base_url,
        },
        "contact_center": {
            "api_key": credentials["cc_api_key"],
            "base_url": emu.contact_center_base_url,
        },
    }


def served_rows(emu: Emulator, plan: Plan, stream: str) -> list[dict[str, Any]]:
    """What the emulator serves for `stream` now, over the plan's data range."""
    return emu.ground_truth(stream, plan.start, min(emu.now, plan.end))


def served_keys(emu: Emulator, plan: Plan, stream: str, primary_key: str) -> set[str]:
    """The primary keys of what the emulator serves for `stream` now, over the plan's data range."""
    return {str(row[primary_key]) for row in served_rows(emu, plan, stream)}
