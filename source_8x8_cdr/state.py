"""Checks the state a sync is started with, so that bad state never silently becomes a full re-read.

The CDK reads a cursor it cannot parse as a crash (a traceback), and a state of an unknown shape as no
state at all (a silent re-read from `start_date`). Here the state of each incremental stream must be
empty, `{cursor: date}` (UTC ISO 8601, as this connector writes it, or epoch milliseconds), or the CDK's
own concurrent form (`state_type` + `slices`); anything else is a config error naming the stream. A
state in the future is kept, as the protocol asks, and logged: nothing is read until that time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Mapping, Optional

from source_8x8_cdr.components.timeutil import cursor_moment
from source_8x8_cdr.config import ConfigError
from source_8x8_cdr.components.summaries import DAILY_SUMMARY_STREAMS, DAY_FIELD

CURSOR_FIELDS = {"call_records": "startTimeUTC", "call_legs": "startTimeUTC", "contact_center_cdrs": "timestamp"}
CURSOR_FIELDS.update(dict.fromkeys(DAILY_SUMMARY_STREAMS, DAY_FIELD))

logger = logging.getLogger("airbyte")


def _as_dict(blob: Any) -> Optional[Mapping[str, Any]]:
    if blob is None or isinstance(blob, Mapping):
        return blob
    return getattr(blob, "__dict__", None)


def _problem(stream: str, state: Mapping[str, Any], now: datetime) -> Optional[str]:
    cursor = CURSOR_FIELDS[stream]
    example = f'{{"{cursor}": "2026-01-01T00:00:00.000000Z"}}'
    if "slices" in state and "state_type" in state:
        slices = state.get("slices")
        if not isinstance(slices, list) or not all(
            isinstance(each, Mapping) and cursor_moment(each.get("start")) and cursor_moment(each.get("end")) for each in slices
        ):
            return f"its `slices` are not a list of start/end dates; expected {example}"
        return None
    if cursor not in state:
        return f"it has no `{cursor}`; expected {example}"
    moment = cursor_moment(state[cursor])
    if moment is None:
        return f"`{cursor}` is {state[cursor]!r}, not a date; expected {example}"
    if moment > now + timedelta(days=1):
        logger.warning(
            f"The saved state of {stream} ({state[cursor]}) is in the future: nothing is read until then. "
            "Reset the stream if this is not intended."
        )
    return None


def check_state(messages: Optional[Iterable[Any]], now: Optional[datetime] = None) -> None:
    """Raises `ConfigError` for the first incremental stream whose saved state cannot be used."""
    current = now or datetime.now(timezone.utc)
    for message in messages or []:
        stream_message = getattr(message, "stream", None)
        if stream_message is None:
            continue
        name = stream_message.stream_descriptor.name
        state = _as_dict(stream_message.stream_state)
        if name not in CURSOR_FIELDS or not state:
            continue
        problem = _problem(name, state, current)
        if problem:
            raise ConfigError(f"The saved state of {name} cannot be used: {problem}. Reset the stream or fix the state.")
