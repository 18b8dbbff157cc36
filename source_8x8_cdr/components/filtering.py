"""Each record once per sync (see `ExactlyOnceSliceFilter`)."""

from __future__ import annotations

import logging
import threading
from dataclasses import InitVar, dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, List, Mapping, Optional, Union
from zoneinfo import ZoneInfo

from airbyte_cdk.sources.declarative.extractors.record_filter import RecordFilter
from airbyte_cdk.sources.declarative.interpolation.interpolated_string import InterpolatedString
from airbyte_cdk.sources.types import Record, StreamSlice, StreamState

from source_8x8_cdr.components.interpolation import interpolate
from source_8x8_cdr.components.timeutil import EPOCH, LAST_MS, SECONDS_BELOW, cursor_epoch_ms, epoch_ms, parse_utc, utc_text

logger = logging.getLogger("airbyte")


@dataclass
class ExactlyOnceSliceFilter(RecordFilter):
    """Emits each record once per sync: only in the slice that owns its cursor, and only once in that slice.

    Why not `is_client_side_incremental` or a `record_filter` condition: the built-in filter compares the
    cursor with the whole sync's bounds, not with the slice, so a record at a slice boundary (which both
    neighbouring request windows may return, as the API does not publish whether `endTime` is inclusive)
    would be emitted twice; and a Jinja condition per record costs more than the rest of the record path.

    A slice owns the records whose cursor lies in [start_time, end_time] (the CDK ends a slice one
    millisecond before the next one starts). Within a slice, primary keys already emitted are dropped, which
    makes a slice restart (`PageCheckingErrorHandler`) safe; records without a key are all kept. The key set lives per worker thread and only
    for the slice that thread is reading, so memory follows one slice, not the sync. A record whose cursor
    cannot be read is kept (never lost) and logged.

    A cursor written without a UTC offset (`2024-07-31T08:43:09.000`) is a wall-clock time in `time_zone` (the
    contact-center account's zone): it is read there, and the record's cursor becomes that instant in UTC
    (`2024-07-31T12:43:09.000Z`, as `TypedValues` writes every instant), so that the CDK's cursor (which reads
    a time without an offset as UTC) and the destination's typed column hold the instant the API meant. The manifest has no zone for
    record cursors. In a sync that reads up to its own start, the fast path makes the last slice own the records
    stamped after it too (`owns_records_after`): kept, while the state stays at the time of the sync.
    """

    parameters: InitVar[Mapping[str, Any]]
    cursor_field: str = ""
    primary_key: str = ""
    time_zone: Union[InterpolatedString, str] = "UTC"

    def __post_init__(self, parameters: Mapping[str, Any]) -> None:
        super().__post_init__(parameters)
        self.cursor_field = str(interpolate(self.cursor_field, self.config, parameters))
        self.primary_key = str(interpolate(self.primary_key, self.config, parameters))
        self.zone = ZoneInfo(str(interpolate(self.time_zone, self.config, parameters) or "UTC"))
        self._open_end = ""
        self._current = threading.local()

    def owns_records_after(self, end_time: str) -> None:
        """The slice that ends at `end_time` (the time of the sync, as the cursor writes slice bounds) also owns
        the records stamped after it: a PBX with a wrong clock, a scheduled callback."""
        self._open_end = end_time

    def filter_records(
        self,
        records: Iterable[Mapping[str, Any]],
        stream_state: StreamState,
        stream_slice: Optional[StreamSlice] = None,
        next_page_token: Optional[Mapping[str, Any]] = None,
    ) -> Iterable[Mapping[str, Any]]:
        yield from self.keep(records, stream_slice)[0]

    def keep(self, records: Iterable[Mapping[str, Any]], stream_slice: Optional[StreamSlice]) -> tuple[list, Optional[Mapping[str, Any]]]:
        """The records of a page that the slice emits, in order, and the kept record with the greatest cursor
        (None when no kept record has a readable cursor)."""
        records = records if type(records) is list else list(records)
        if not stream_slice or "start_time" not in stream_slice:
            return records, None
        datas = [record if type(record) is dict else record.data if isinstance(record, Record) else record for record in records]
        cursor_field, primary_key = self.cursor_field, self.primary_key

        def to_utc(position: int, value: str) -> None:
            datas[position][cursor_field] = value

        positions, latest = self.owned(
            [data.get(cursor_field) for data in datas], [data.get(primary_key) for data in datas], stream_slice, to_utc
        )
        return [records[position] for position in positions], None if latest is None else datas[latest]

    def owned_checked(self, cursors: List[Any], keys: List[Any], stream_slice: StreamSlice) -> tuple[List[int], Optional[int]]:
        """`owned`, for cursors known to be epoch milliseconds (integers) or fixed-width UTC instants
        (`is_utc_instant`), or None, and keys in the form the filter keeps them (`seen_form`). The usual page (no
        cursor or key missing, no key twice or seen before) is decided in a few C calls and one comparison per
        record; any other takes `owned`."""
        start, end, seen, windows = self._slice_state(stream_slice)
        if cursors and None not in cursors and None not in keys:
            try:
                low, high = min(cursors), max(cursors)
            except TypeError:  # integers and texts
                low = high = None
            if type(low) is str and type(high) is str:
                bounds = windows.get("Z") or windows.setdefault("Z", _iso_window(start, end, "Z"))
            elif type(low) is int and type(high) is int and SECONDS_BELOW <= low and high <= LAST_MS:  # milliseconds all
                bounds = (start, end)
            else:
                bounds = None
            if bounds is not None:
                first, last = bounds
                if first <= low and high <= last:  # the whole page lies in the slice
                    kept, kept_keys, latest = list(range(len(cursors))), keys, cursors.index(high)
                else:
                    kept = [position for position, value in enumerate(cursors) if first <= value <= last]
                    kept_keys = [keys[position] for position in kept]
                    latest = max(kept, key=cursors.__getitem__) if kept else None
                if seen.isdisjoint(kept_keys):
                    before = len(seen)
                    seen.update(kept_keys)
                    if len(seen) - before == len(kept_keys):
                        return kept, latest
                    seen.difference_update(kept_keys)  # a key twice in the page (none of them was there before)
        return self.owned(cursors, keys, stream_slice)

    def owned(
        self,
        cursors: List[Any],
        keys: List[Any],
        stream_slice: StreamSlice,
        to_utc: Optional[Callable[[int, str], None]] = None,
    ) -> tuple[List[int], Optional[int]]:
        """Of a page's records, given by their cursors and keys, the positions of those the slice emits, in order,
        and the position of the kept one with the greatest cursor (None when no kept record has a readable
        cursor). A cursor without a UTC offset is read in `time_zone`, and `to_utc` is told the instant's UTC
        text (without `to_utc`, such a cursor is kept as it is: the caller has none).

        ISO cursors in the APIs' fixed-width form (`2024-07-31T12:43:09.000-03:00`, or `...000Z`) are compared as
        text with the slice's bounds written at the same offset and width, which costs a fifth of converting
        each one to an instant; the greatest is found per offset and converted once per page.
        """
        start, end, seen, windows = self._slice_state(stream_slice)
        primary_key, cursor_field = self.primary_key, self.cursor_field
        kept: List[int] = []
        latest: Optional[int] = None
        latest_ms: Optional[int] = None
        greatest: dict[str, tuple[str, int]] = {}  # per offset, the greatest ISO cursor kept, and where
        offset, low, high, top, top_at = "", "", "", "", -1  # of the offset met last
        read_iso, kept_append, seen_add = datetime.fromisoformat, kept.append, seen.add
        for position, (value, key) in enumerate(zip(cursors, keys)):
            iso = type(value) is str and len(value) in _FIXED_WIDTHS and value[10] == "T" and value[19] == "." and value[23] in "Z+-"
            if iso:
                try:
                    read_iso(value)
                except ValueError:
                    iso = False
            if iso:
                if not offset or not value.endswith(offset):
                    if top_at >= 0:
                        greatest[offset] = (top, top_at)
                    offset = value[23:]
                    low, high = windows.get(offset) or windows.setdefault(offset, _iso_window(start, end, offset))
                    top, top_at = greatest.get(offset, ("", -1))
                if not low <= value <= high:
                    continue
                moment_ms = None
            elif type(value) is int and SECONDS_BELOW <= value <= LAST_MS:  # Work Analytics: epoch ms, compared as they are
                moment_ms = value
                if not start <= moment_ms <= end:
                    continue
            else:
                moment_ms = cursor_epoch_ms(value, self.zone)
                if moment_ms is not None and to_utc is not None and type(value) is str and _is_wall_clock(value):
                    to_utc(position, utc_text(moment_ms))
                if moment_ms is None:
                    logger.warning(
                        f"Record {primary_key}={key!r} has an unreadable {cursor_field} "
                        f"({type(value).__name__}); emitting it as is."
                    )
                elif not start <= moment_ms <= end:
                    continue
            if key is not None:
                kept_as = seen_form(key)
                if kept_as in seen:
                    continue
                seen_add(kept_as)
            kept_append(position)
            if iso:
                if value > top:
                    top, top_at = value, position
            elif moment_ms is not None and (latest_ms is None or moment_ms > latest_ms):
                latest, latest_ms = position, moment_ms
        if top_at >= 0:
            greatest[offset] = (top, top_at)
        for value, position in greatest.values():
            moment_ms = cursor_epoch_ms(value)
            if latest_ms is None or moment_ms > latest_ms:  # type: ignore[operator]
                latest, latest_ms = position, moment_ms
        return kept, latest

    def forget_slice(self) -> None:
        """This thread has finished its slice: its keys are no longer needed."""
        self._current.slice = None

    def _slice_state(self, stream_slice: StreamSlice) -> tuple[int, int, set, dict]:
        """For this thread: the slice's bounds in epoch milliseconds, the keys it emitted, and its bounds as
        fixed-width ISO text per UTC offset met so far."""
        bounds = (stream_slice["start_time"], stream_slice["end_time"])
        current = getattr(self._current, "slice", None)
        if current is None or current[0] != bounds:
            end_ms = _OPEN_END if bounds[1] == self._open_end else epoch_ms(parse_utc(bounds[1]))
            current = (bounds, epoch_ms(parse_utc(bounds[0])), end_ms, set(), {})
            self._current.slice = current
        return current[1], current[2], current[3], current[4]


def seen_form(key: Any) -> Any:
    """The form in which a slice keeps a primary key it has emitted: decimal text in its canonical form (digits
    only, no leading zero, at most 18: the call IDs of Work Analytics, `"1707280000000"`) as the integer, which
    takes half the memory (a million call records in day slices kept 203k keys at once, about 100 bytes each);
    any other key as it is. No two keys share a form: a key the schema declares as text reaches the filter as text
    (the conversion writes the declared type first), so no integer key meets these integers."""
    if type(key) is str and 0 < len(key) <= 18 and key.isascii() and key.isdigit() and (key[0] != "0" or len(key) == 1):
        return int(key)
    return key


# `2024-07-31T12:43:09.000Z` and `2024-07-31T12:43:09.000-03:00`: milliseconds, then `Z` or an offset.
_FIXED_WIDTHS = (24, 29)
# The end of a slice that owns every later record; as ISO text, "~" sorts after any date.
_OPEN_END = 1 << 63


def is_utc_instant(value: str) -> bool:
    """Whether `value` is a UTC instant in the fixed width the cursors are compared in (`2024-07-31T12:43:09.000Z`)."""
    if len(value) != 24 or value[10] != "T" or value[19] != "." or value[23] != "Z":
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_wall_clock(value: str) -> bool:
    """An ISO 8601 date and time without a UTC offset (digits are epoch time; a date alone has no time)."""
    try:
        return len(value) > 10 and not value.strip().isdigit() and datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return False


def _iso_window(start_ms: int, end_ms: int, offset: str) -> tuple[str, str]:
    """The slice [start_ms, end_ms] as fixed-width ISO text (`2024-07-31T09:43:09.000-03:00`) at a UTC offset
    (`Z`, `-03:00`): for cursors with that offset, comparing the text compares the instants."""
    zone = timezone.utc if offset == "Z" else datetime.fromisoformat("2000-01-01T00:00:00" + offset).tzinfo

    def iso(ms: int) -> str:
        return (EPOCH + timedelta(milliseconds=ms)).astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + offset

    return iso(start_ms), "~" if end_ms == _OPEN_END else iso(end_ms)
