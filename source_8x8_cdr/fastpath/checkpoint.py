"""How far one sync may move the state: never past the time of the sync, and over read time without records.

The CDK's concurrent cursor checkpoints the greatest cursor it has seen in the slices read without a gap from
the start (`_get_latest_complete_time`). That has two consequences:

* one record stamped in the future (a PBX with a wrong clock, a scheduled callback) moves the state past the
  time of the sync; the next sync starts a lookback window before that state and never reads the calls that
  ended in between;
* a stream without records never moves: each sync walks every slice again from `start_date` (731 daily
  slices at the two-year limit).

So the state a sync writes is the greatest cursor seen, at most the end of the sync (its `end_date`, or when
it started); and at least the end of the slices read without a gap, less the lookback window: calls that
started before that had ended when the sync read them (the lookback is at least the longest call), so no
record can still appear there. It never goes below the state the sync started from (a state in the future
is kept, see `state.py`).

Why not the manifest: `DatetimeBasedCursor` has no bound on the state it writes, nor a checkpoint without
records. This relies on the CDK's `ConcurrentCursor` (`_end_provider`, `_lookback_window`, `start`,
`_connector_state_converter`) and its converter's `_get_latest_complete_time` and `merge_intervals`, which
`contract.py` checks. On the CDK's stock path a record stamped after the sync is left for the sync after its
time (`ExactlyOnceSliceFilter` keeps only the records of a slice), so the state cannot pass the sync there
either; only the checkpoint over read time without records is missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, List, MutableMapping

from airbyte_cdk.sources.streams.concurrent.cursor import ConcurrentCursor
from airbyte_cdk.sources.streams.concurrent.state_converters.datetime_stream_state_converter import (
    CustomFormatConcurrentStreamStateConverter,
)


class SyncBoundedStateConverter(CustomFormatConcurrentStreamStateConverter):
    """The cursor's own state converter, writing the state as the module docstring says."""

    def __init__(self, built: CustomFormatConcurrentStreamStateConverter, sync_end: datetime, lookback: timedelta, floor: datetime) -> None:
        self.__dict__.update(built.__dict__)
        self._sync_end, self._settled, self._floor = sync_end, sync_end - lookback, floor

    def _get_latest_complete_time(self, slices: List[MutableMapping[str, Any]]) -> Any:
        greatest_seen = super()._get_latest_complete_time(slices)
        read_until = self.merge_intervals(slices)[0][self.END_KEY]
        return max(min(greatest_seen, self._sync_end), min(read_until, self._settled), self._floor)


def bound_state_to_sync(cursor: ConcurrentCursor) -> datetime:
    """Fixes the end of the cursor's sync (the manifest's `now_utc()` would be read again at each call) and
    bounds the state it writes. Returns that end."""
    sync_end = cursor._end_provider()
    cursor._end_provider = lambda: sync_end
    cursor._connector_state_converter = SyncBoundedStateConverter(
        cursor._connector_state_converter, sync_end, cursor._lookback_window or timedelta(0), cursor.start
    )
    return sync_end
