"""Reads the state a sync is started with into the one form this connector writes, or refuses it in a sentence.

The CDK parses a saved cursor with the stream's record formats, so a state it did not write itself ends the
read with a traceback (`2026-10-03T00:00:00Z` without a fraction, an offset, a date, and epoch milliseconds
for contact-center CDRs); it stops before any message on a GLOBAL state with a `shared_state`; it ignores a
LEGACY state and reads a state of an unknown shape as no state at all (both a silent re-read from
`start_date`). Here, before the CDK sees it, each state of an incremental stream must be one of:

* empty;
* `{cursor: value}`, the value being epoch milliseconds or seconds (a number or a string of digits; see
  `timeutil.SECONDS_BELOW`) or ISO 8601 (a date,
  or a date and time with or without a fraction, with `Z` or an offset; UTC when it has none);
* the CDK's concurrent form (`state_type` + `slices` of `start`/`end` values as above);

given in a STREAM message, in the `stream_states` of a GLOBAL message without `shared_state`, or in the `data`
of a LEGACY message (`{stream name: state}`). Every cursor value is rewritten as the UTC text the connector
writes (`2026-10-03T00:00:00.000000Z`) and every message becomes a STREAM message; anything else is a config
error naming the stream. A state in the future is kept, as the protocol asks, and logged: nothing is read
until that time.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Iterator, List, Mapping, Optional, Tuple

from airbyte_cdk.models import AirbyteStateBlob, AirbyteStateMessage, AirbyteStateType, AirbyteStreamState, StreamDescriptor

from source_8x8_cdr.components.summaries import DAILY_SUMMARY_STREAMS
from source_8x8_cdr.components.timeutil import cursor_moment
from source_8x8_cdr.config import ConfigError
from source_8x8_cdr.manifest_facts import CURSOR_FIELDS  # each incremental stream's `incremental_sync.cursor_field`

_SLICE_KEYS = ("start", "end", "most_recent_cursor_value")
# Epoch values below this (2001-09-09 as seconds) are not a date of the APIs' two years: refused, not read as 1970.
_SMALLEST_EPOCH = 1_000_000_000

logger = logging.getLogger("airbyte")


def usable_state(messages: Optional[Iterable[AirbyteStateMessage]], now: Optional[datetime] = None) -> Optional[List[AirbyteStateMessage]]:
    """The state messages in the form the CDK reads (STREAM messages, cursors as the connector writes them).

    Raises `ConfigError` for the first state that cannot be used."""
    if messages is None:
        return None
    current = now or datetime.now(timezone.utc)
    usable = []
    for message in messages:
        for descriptor, state in _stream_states(message):
            if descriptor.name in CURSOR_FIELDS and state:
                state = _normalised(descriptor.name, state, current)
            usable.append(
                AirbyteStateMessage(
                    type=AirbyteStateType.STREAM,
                    stream=AirbyteStreamState(stream_descriptor=descriptor, stream_state=AirbyteStateBlob(state or {})),
                )
            )
    return usable


def _as_dict(blob: Any) -> Any:
    if blob is None or isinstance(blob, Mapping):
        return blob
    return getattr(blob, "__dict__", blob)


def _stream_states(message: AirbyteStateMessage) -> Iterator[Tuple[StreamDescriptor, Any]]:
    """The (stream, state) pairs a state message holds, whatever its type."""
    if message.type == AirbyteStateType.GLOBAL and message.global_ is not None:
        streams = message.global_.stream_states or []
        if _as_dict(message.global_.shared_state):
            names = ", ".join(each.stream_descriptor.name for each in streams) or "the streams"
            raise ConfigError(
                f"The saved state of {names} cannot be used: it is a GLOBAL state with a `shared_state`, which this "
                "connector never writes (it keeps one STREAM state per stream). Reset the streams or fix the state."
            )
        for each in streams:
            yield each.stream_descriptor, _as_dict(each.stream_state)
    elif message.type == AirbyteStateType.LEGACY:
        data = _as_dict(message.data)
        if not isinstance(data, Mapping) or not all(name in CURSOR_FIELDS and isinstance(_as_dict(state), Mapping) for name, state in data.items()):
            raise ConfigError(
                "The saved LEGACY state cannot be used: its `data` must map the names of incremental streams "
                f"({', '.join(CURSOR_FIELDS)}) to their states, got {_shape(data)}. Reset the streams or fix the state."
            )
        logger.info(f"Reading the LEGACY state message as the state of {', '.join(data) or 'no stream'}.")
        for name, state in data.items():
            yield StreamDescriptor(name=name), dict(_as_dict(state))
    elif message.stream is not None:
        yield message.stream.stream_descriptor, _as_dict(message.stream.stream_state)


def _shape(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"an object with {', '.join(repr(key) for key in list(value)[:3]) or 'no keys'}"
    return f"a JSON {type(value).__name__}"


def _normalised(stream: str, state: Any, now: datetime) -> Mapping[str, Any]:
    cursor = CURSOR_FIELDS[stream]
    example = f'{{"{cursor}": "{_state_text(stream, datetime(2026, 1, 1, tzinfo=timezone.utc))}"}}'

    def refuse(problem: str) -> ConfigError:
        return ConfigError(f"The saved state of {stream} cannot be used: {problem}; expected {example}. Reset the stream or fix the state.")

    if not isinstance(state, Mapping):
        raise refuse(f"it is {_shape(state)}")
    if "slices" in state and "state_type" in state:
        slices = state["slices"]
        if not isinstance(slices, list) or not all(isinstance(each, Mapping) and "start" in each and "end" in each for each in slices):
            raise refuse("its `slices` are not a list of start/end dates")
        if not slices:  # nothing was read yet: the same as no state
            return {}
        read_slices = []
        for each in slices:
            read_slice = dict(each)
            for key in _SLICE_KEYS:
                if read_slice.get(key) is not None:
                    text, problem = _utc_text(stream, read_slice[key])
                    if problem:
                        raise refuse(f"a slice's `{key}` is {problem}")
                    read_slice[key] = text
            read_slices.append(read_slice)
        return {**state, "slices": read_slices}
    if cursor not in state:
        raise refuse(f"it has no `{cursor}`")
    text, problem = _utc_text(stream, state[cursor])
    if problem:
        raise refuse(f"`{cursor}` is {problem}")
    if cursor_moment(text) > now + timedelta(days=1):  # type: ignore[operator]  # a text _utc_text wrote
        logger.warning(
            f"The saved state of {stream} ({state[cursor]}) is in the future: nothing is read until then. "
            "Reset the stream if this is not intended."
        )
    return {**state, cursor: text}


def _state_text(stream: str, moment: datetime) -> str:
    """A moment as the stream's state writes it: a daily summary's day (`YYYY-MM-DDT00:00:00`, its manifest
    `datetime_format`), or UTC with microseconds and `Z` (`cursor_base.datetime_format`)."""
    if stream in DAILY_SUMMARY_STREAMS:
        return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S.%f}Z"


def _utc_text(stream: str, value: Any) -> Tuple[str, Optional[str]]:
    """A saved cursor value as the text the connector writes for the stream (`_state_text`), or what is wrong
    with it."""
    try:
        moment = cursor_moment(value)
    except OverflowError:  # epoch milliseconds past year 9999
        moment = None
    if moment is None:
        return "", f"{value!r}, not a date"
    if (isinstance(value, (int, float)) or (isinstance(value, str) and value.strip().isdigit())) and float(value) < _SMALLEST_EPOCH:
        return "", f"{value!r}, which is neither epoch seconds nor milliseconds of this century (a compact date?)"
    return _state_text(stream, moment), None
