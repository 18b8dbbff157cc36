"""The CDK cursor of an incremental stream, made cheaper per record, exact in UTC and bounded by the sync.

Why not the manifest: `DatetimeBasedCursor` has no setting for the parser of record cursors, for how a
slice is hashed, or for the bound of the state (`checkpoint.py`). All are the CDK's internals, changed here
for streams built by the CDK release this project pins (`contract.py` checks them first).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from airbyte_cdk.sources.declarative.datetime.datetime_parser import DatetimeParser
from airbyte_cdk.sources.types import StreamSlice

from source_8x8_cdr.components.filtering import ExactlyOnceSliceFilter
from source_8x8_cdr.components.timeutil import cursor_moment
from source_8x8_cdr.fastpath.checkpoint import bound_state_to_sync


class UtcDatetimeParser(DatetimeParser):
    """Parses cursor values to UTC, and writes UTC as `Z`.

    It is the cursor's hot path (every record is parsed): epoch milliseconds and ISO 8601 are read by
    `cursor_moment` (`fromisoformat`, ~0.4 µs) before the CDK's `strptime` (~15 µs) is tried. The CDK keeps
    the offset a record's timestamp came with (`2024-07-31T12:43:09.000-03:00`), and the manifest's state
    format writes it (`%z`), so state is exact without this parser; with it, state is always written in UTC,
    the form the docs show (`2024-07-31T15:43:09.000000Z`).
    """

    def parse(self, date: Any, format: str) -> datetime:
        moment = cursor_moment(date)
        if moment is not None:
            return moment
        try:
            return super().parse(date, format).astimezone(timezone.utc)
        except OverflowError:  # past the year 9999: unreadable, as the cursor expects (it then keeps the record)
            raise ValueError(f"{date!r} is beyond the dates a cursor can hold") from None

    def format(self, dt: datetime, format: str) -> str:
        if format.endswith("%z") and dt.utcoffset() == timedelta(0):
            return dt.strftime(format[:-2]) + "Z"
        return super().format(dt, format)


class HashOnceStreamSlice(StreamSlice):
    """A slice that computes its hash once.

    The concurrent cursor looks up the slice of every record in a dict (twice per record), and
    `StreamSlice.__hash__` serializes the slice to JSON each time: about a tenth of the CPU of a read.
    Slices are immutable, so the hash can be kept.
    """

    def __init__(self, stream_slice: StreamSlice) -> None:
        super().__init__(
            partition=stream_slice.partition,
            cursor_slice=stream_slice.cursor_slice,
            extra_fields=stream_slice.extra_fields,
        )
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def tune_cursor(stream: Any, slice_filter: Any, reads_up_to_now: bool) -> None:
    """State written in UTC, never past the sync (`checkpoint.py`), and slices hashed once, for a stream whose
    cursor has the converter it expects. In a sync that reads up to its own start, the stream's last slice then
    keeps the records stamped after the sync (`ExactlyOnceSliceFilter.owns_records_after`)."""
    cursor = stream.cursor
    converter = cursor._connector_state_converter
    converter._parser = UtcDatetimeParser()
    sync_end = bound_state_to_sync(cursor)
    if isinstance(slice_filter, ExactlyOnceSliceFilter) and reads_up_to_now:
        slice_filter.owns_records_after(converter.output_format(sync_end))
    make_slices = cursor.stream_slices
    cursor.stream_slices = lambda: (HashOnceStreamSlice(each) for each in make_slices())
