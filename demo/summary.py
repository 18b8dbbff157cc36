"""What the cache holds after a run, and the tables that report it.

A `Snapshot` is read from the DuckDB cache after each run: per stream, the rows, the primary keys,
the cursor range, the most common values of one field and the state PyAirbyte saved. Comparing the
snapshots before and after run 2 tells which records were new (their primary key was not cached
before) and which were read again. `take_daily` sums calls (per UTC day) and CDRs (per UTC day of their timestamp) from the typed columns
(epoch milliseconds, instants, integers and numbers as such: no text is cast).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional, Protocol, Sequence

from demo import tables
from demo.streams import BY_NAME, StreamInfo

TOP_VALUES = 4


class Cache(Protocol):
    """The two things the summary needs from PyAirbyte's cache."""

    def run_sql_query(self, sql_query: str) -> list[dict[str, Any]]: ...

    def get_state_provider(self, source_name: str) -> Any: ...


@dataclass
class StreamSnapshot:
    info: StreamInfo
    rows: int
    keys: set[str]
    first_ms: Optional[int] = None
    last_ms: Optional[int] = None
    top: list[tuple[str, int]] = field(default_factory=list)
    state: Optional[dict[str, Any]] = None

    @property
    def duplicates(self) -> int:
        return self.rows - len(self.keys)

    @property
    def state_text(self) -> str:
        """The saved cursor, as a UTC time; `full refresh` for streams without one."""
        if not self.info.incremental:
            return "full refresh, no cursor"
        if not self.state:
            return "none"
        value = self.state.get(self.info.cursor or "")
        if isinstance(value, str) and len(self.state) == 1:
            return _iso_as_utc(value)
        return json.dumps(self.state, sort_keys=True)


Snapshot = dict[str, StreamSnapshot]


# -- reading the cache ---------------------------------------------------------------------------------------


def take_snapshot(cache: Cache, source_name: str, stream_names: Sequence[str]) -> Snapshot:
    states = cache.get_state_provider(source_name)
    return {name: _stream_snapshot(cache, states, BY_NAME[name]) for name in stream_names if name in BY_NAME}


def _stream_snapshot(cache: Cache, states: Any, info: StreamInfo) -> StreamSnapshot:
    table = f'"{info.name}"'
    keys = [str(row["k"]) for row in cache.run_sql_query(f'SELECT "{info.key_column}" AS k FROM {table}')]
    snapshot = StreamSnapshot(info, rows=len(keys), keys=set(keys))
    if info.cursor_ms_sql:
        cursor = info.cursor_ms_sql
        bounds = cache.run_sql_query(f"SELECT min({cursor}) AS lo, max({cursor}) AS hi FROM {table}")
        snapshot.first_ms, snapshot.last_ms = bounds[0]["lo"], bounds[0]["hi"]
    if info.top_field:
        column = f'"{info.top_field.lower()}"'
        rows = cache.run_sql_query(
            f"SELECT coalesce({column}, '(empty)') AS value, count(*) AS n FROM {table} "
            f"GROUP BY 1 ORDER BY n DESC, value LIMIT {TOP_VALUES}"
        )
        snapshot.top = [(row["value"], int(row["n"])) for row in rows]
    message = states.get_stream_state(info.name, not_found=None)
    if message is not None and info.incremental:
        snapshot.state = message.stream.stream_state.model_dump()
    return snapshot


# -- per day, from the typed columns ------------------------------------------------------------------------

# Per stream: the UTC day of each row, and the average shown beside the day's count.
DAILY = {
    "call_records": ('CAST(epoch_ms("starttimeutc") AS DATE)', 'avg("talktimems") FILTER (WHERE "talktimems" > 0)'),
    "contact_center_cdrs": ('CAST("timestamp" AS DATE)', 'avg("cpc")'),
}
Daily = dict[str, dict[str, tuple[int, Optional[float]]]]  # day -> stream -> (rows, average)


def take_daily(cache: Cache, stream_names: Sequence[str]) -> Daily:
    """Calls per UTC day with their average talk time (`talkTimeMS` of the calls that talked), and CDRs per
    UTC day of their `timestamp` with their average cost (`cpc`): the connector emits instants in UTC, which
    PyAirbyte's `TIMESTAMP` column keeps (docs/8x8-cdr.md, "Loading with PyAirbyte")."""
    days: Daily = {}
    for name, (day, average) in DAILY.items():
        if name in stream_names:
            sql = f'SELECT {day} AS day, count(*) AS n, {average} AS average FROM "{name}" GROUP BY 1'
            for row in cache.run_sql_query(sql):
                days.setdefault(str(row["day"]), {})[name] = (int(row["n"]), row["average"])
    return dict(sorted(days.items()))


def daily_table(days: Daily) -> list[str]:
    rows = []
    for day, streams in days.items():
        calls, talk_ms = streams.get("call_records", (0, None))
        cdrs, cost = streams.get("contact_center_cdrs", (0, None))
        rows.append([day, calls, minutes_seconds(talk_ms), cdrs, None if cost is None else f"{cost:.4f}"])
    return tables.render(["day (UTC)", "calls", "talk time, avg", "CDRs", "cost, avg (USD)"], rows) if rows else []


# -- formatting ----------------------------------------------------------------------------------------------


def utc_text(ms: Optional[int]) -> Optional[str]:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def minutes_seconds(ms: Optional[float]) -> Optional[str]:
    """`m:ss`, rounded to the second."""
    if ms is None:
        return None
    minutes, seconds = divmod(round(ms / 1000), 60)
    return f"{minutes}:{seconds:02d}"


def _iso_as_utc(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)
    except ValueError:
        return value
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _percent(part: int, whole: int) -> Optional[str]:
    return f"{100 * part / whole:.1f}%" if whole else None


# -- the tables ----------------------------------------------------------------------------------------------


def records_table(snapshot: Snapshot) -> list[str]:
    """Records per stream and the range of their cursor: call start in UTC, CDR end as the cache keeps it."""
    rows = [
        [s.info.name, s.rows, s.info.cursor, utc_text(s.first_ms), utc_text(s.last_ms)]
        for s in snapshot.values()
    ]
    total = sum(s.rows for s in snapshot.values())
    lines = tables.render(["stream", "records", "cursor", "first (UTC)", "last (UTC)"], rows)
    return [*lines, f"{len(snapshot)} streams, {total:,} records."]


def top_values_table(snapshot: Snapshot) -> list[str]:
    """The most common directions (Work Analytics) and dispositions (contact center)."""
    rows: list[list[Any]] = []
    for s in snapshot.values():
        for rank, (value, count) in enumerate(s.top):
            label = [s.info.name, s.info.top_field] if rank == 0 else ["", ""]
            rows.append([*label, value, count, _percent(count, s.rows)])
    return tables.render(["stream", "field", "value", "records", "share"], rows) if rows else []


def state_table(snapshot: Snapshot) -> list[str]:
    """The state saved per stream: the next incremental sync starts there, minus the lookback."""
    rows = [[s.info.name, s.info.cursor, s.state_text] for s in snapshot.values()]
    return tables.render(["stream", "cursor", "saved state (UTC)"], rows)


def increment_table(before: Snapshot, after: Snapshot, read_counts: dict[str, int]) -> list[str]:
    """Per stream: records read by the run, how many were new (primary key not cached before),
    how many were read again, and the state before and after."""
    rows = []
    for name, now in after.items():
        old = before.get(name)
        old_keys = old.keys if old else set()
        new = len(now.keys - old_keys)
        read = read_counts.get(name, 0)
        state_change = f"{old.state_text if old else 'none'} -> {now.state_text}" if now.info.incremental else "-"
        rows.append([name, read, new, max(read - new, 0), now.rows, state_change])
    return tables.render(["stream", "read", "new", "re-read", "in cache", "state (UTC): before -> after"], rows)


def new_record_counts(before: Snapshot, after: Snapshot) -> dict[str, int]:
    return {name: len(now.keys - (before[name].keys if name in before else set())) for name, now in after.items()}


def duplicate_warnings(snapshot: Snapshot) -> list[str]:
    return [
        f"{s.info.name}: {s.duplicates:,} rows share a primary key with another row."
        for s in snapshot.values()
        if s.duplicates
    ]
